"""Shape ops: `Fixtures/shape/<op>.json` for flatten, unflatten, pixel_shuffle,
pixel_unshuffle and one_hot, each with its errors. The other shape ops live in `shape_pad`,
`shape_embedding` and `shape_reduce`; run all four together (`--only shape shape_pad ...`).

Like OpInfo's samples: every start/end pair of a 4-d input (positive and negative), 0-d and
1-d inputs (flatten returns a 1-d input itself), int64 / bool / float64 / empty inputs; sizes
with −1 and ones for unflatten; factors 1 to 3 on 3-d to 5-d inputs for pixel (un)shuffle;
inferred and explicit class counts for one_hot; PyTorch's errors.
"""

import math

from ..cases import FixtureFile
from ..tensors import RandInt, Uniform


def add(f, name, op, args, tags, **options):
    """`f.add`, then a non-finite float argument spelled as tensors spell it ("nan", "inf",
    "-inf"): JSON has no such numbers."""
    f.add(name, op, args, tags, **options)
    for key, value in f.cases[-1]["args"].items():
        if isinstance(value, float) and not math.isfinite(value):
            f.cases[-1]["args"][key] = "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"


def x(shape, dtype="float32"):
    return Uniform(tuple(shape), -1.0, 1.0, dtype)


def dim_name(d):
    return f"{d}" if d >= 0 else f"neg{-d}"


def flatten_file():
    f = FixtureFile("shape/flatten")
    for start in range(-4, 4):
        for end in range(-4, 4):
            if (start % 4) <= (end % 4):
                f.add(f"start{dim_name(start)}_end{dim_name(end)}", "flatten",
                      dict(input=x((2, 3, 4, 2)), start_dim=start, end_dim=end),
                      ["flatten"] + (["negative_dim"] if min(start, end) < 0 else []))
    cases = [
        ("defaults", dict(input=x((2, 3, 4))), []),
        ("start_only", dict(input=x((2, 3, 4)), start_dim=1), []),
        ("rank0", dict(input=x(())), ["scalar_0d"]),
        ("rank0_dims", dict(input=x(()), start_dim=-1, end_dim=0), ["scalar_0d"]),
        ("rank1_is_input", dict(input=x((5,))), ["identity"]),
        ("int64", dict(input=RandInt((2, 3, 2), -5, 5), start_dim=1), ["int64"]),
        ("bool", dict(input=RandInt((2, 3), 0, 2, dtype="bool")), ["bool"]),
        ("float64", dict(input=x((2, 3, 4), "float64"), end_dim=1), ["float64"]),
        ("empty", dict(input=x((2, 0, 3)), start_dim=1), ["empty"]),
    ]
    for name, args, tags in cases:
        f.add(name, "flatten", args, ["flatten"] + tags)
    for name, args in [("start_after_end", dict(input=x((2, 3, 4)), start_dim=2, end_dim=1)),
                       ("start_after_negative_end", dict(input=x((2, 3, 4)), start_dim=2, end_dim=-2)),
                       ("start_out_of_range", dict(input=x((2, 3, 4)), start_dim=3)),
                       ("end_out_of_range", dict(input=x((2, 3, 4)), end_dim=-4)),
                       ("dim1_on_0d", dict(input=x(()), start_dim=1)),
                       ("float_start", dict(input=x((2, 3)), start_dim=1.0))]:
        f.add(name, "flatten", args, ["flatten", "error"], error=True)
    return f


def unflatten_file():
    f = FixtureFile("shape/unflatten")
    s = (2, 12, 3)
    cases = [
        ("dim1_3x4", dict(input=x(s), dim=1, sizes=[3, 4]), []),
        ("dim1_2x3x2", dict(input=x(s), dim=1, sizes=[2, 3, 2]), []),
        ("dim1_inferred_first", dict(input=x(s), dim=1, sizes=[-1, 4]), ["inferred"]),
        ("dim1_inferred_last", dict(input=x(s), dim=1, sizes=[2, 2, -1]), ["inferred"]),
        ("dim0", dict(input=x(s), dim=0, sizes=[2, 1]), []),
        ("dim_neg1", dict(input=x(s), dim=-1, sizes=[1, 3, 1]), ["negative_dim"]),
        ("dim_neg3", dict(input=x(s), dim=-3, sizes=[1, -1]), ["negative_dim", "inferred"]),
        ("single_size", dict(input=x(s), dim=1, sizes=[12]), []),
        ("rank1", dict(input=x((6,)), dim=0, sizes=[2, 3]), []),
        ("int64", dict(input=RandInt((6, 2), -5, 5), dim=0, sizes=[3, 2]), ["int64"]),
        ("float64", dict(input=x((4, 3), "float64"), dim=0, sizes=[2, -1]), ["float64"]),
        ("empty_dim", dict(input=x((0, 3)), dim=0, sizes=[0, 5]), ["empty"]),
        ("empty_other_dim", dict(input=x((0, 6)), dim=1, sizes=[-1, 2]), ["empty", "inferred"]),
    ]
    for name, args, tags in cases:
        f.add(name, "unflatten", args, ["unflatten"] + tags)
    for name, args in [("sizes_empty", dict(input=x(s), dim=1, sizes=[])),
                       ("wrong_product", dict(input=x(s), dim=1, sizes=[5, 2])),
                       ("inferred_not_divisible", dict(input=x(s), dim=1, sizes=[-1, 5])),
                       ("dim_out_of_range", dict(input=x(s), dim=3, sizes=[3])),
                       ("sizes_int", dict(input=x(s), dim=1, sizes=12))]:
        f.add(name, "unflatten", args, ["unflatten", "error"], error=True)
    return f


def pixel_file(op):
    """pixel_shuffle (C·r² → C) or pixel_unshuffle (the inverse)."""
    f = FixtureFile(f"shape/{op}")
    factor = "upscale_factor" if op == "pixel_shuffle" else "downscale_factor"
    shuffle = op == "pixel_shuffle"

    def shape(r, batch=(2,), c=2, h=2, w=3):
        return batch + ((c * r * r, h, w) if shuffle else (c, h * r, w * r))

    cases = [
        ("factor1", shape(1), 1, []),
        ("factor2", shape(2), 2, []),
        ("factor3", shape(3, c=1), 3, []),
        ("unbatched", shape(2, batch=()), 2, ["unbatched"]),
        ("rank5", shape(2, batch=(2, 2), c=1), 2, []),
        ("one_channel_out", shape(2, c=1, h=1, w=1), 2, []),
        ("empty_batch", shape(2, batch=(0,)), 2, ["empty"]),
        ("large", shape(2, batch=(2,), c=8, h=8, w=8), 2, ["large"]),
    ]
    for name, s, r, tags in cases:
        # torch's backward of an empty batch fails ("returned an invalid gradient"): forward only.
        f.add(name, op, {"input": x(s), factor: r}, [op] + tags, backward="empty" not in tags)
    f.add("float64", op, {"input": x(shape(2), "float64"), factor: 2}, [op, "float64"])
    f.add("int64", op, {"input": RandInt(shape(2), -9, 9), factor: 2}, [op, "int64"])
    errors = [("rank2", x((4, 4)), 2), ("factor0", x(shape(2)), 0), ("factor_negative", x(shape(2)), -1),
              ("factor_float", x(shape(2)), 2.0)]
    if shuffle:
        errors.append(("channels_not_divisible", x((1, 6, 2, 2)), 2))
    else:
        errors += [("height_not_divisible", x((1, 2, 5, 6)), 2), ("width_not_divisible", x((1, 2, 4, 5)), 2)]
    for name, spec, r in errors:
        f.add(name, op, {"input": spec, factor: r}, [op, "error"], error=True)
    return f


def one_hot_file():
    f = FixtureFile("shape/one_hot")
    cases = [
        ("inferred", dict(input=RandInt((6,), 0, 4)), []),
        ("num_classes", dict(input=RandInt((6,), 0, 4), num_classes=6), []),
        ("num_classes_minus1", dict(input=RandInt((2, 3), 0, 5), num_classes=-1), []),
        ("rank2", dict(input=RandInt((2, 3), 0, 3), num_classes=3), []),
        ("rank3", dict(input=RandInt((2, 2, 3), 0, 4)), []),
        ("rank0", dict(input=RandInt((), 0, 4), num_classes=4), ["scalar_0d"]),
        ("one_class", dict(input=RandInt((3,), 0, 1)), []),
        ("empty_with_num_classes", dict(input=RandInt((0,), 0, 1), num_classes=3), ["empty"]),
        ("large", dict(input=RandInt((8, 16), 0, 10), num_classes=10), ["large"]),
    ]
    for name, args, tags in cases:
        f.add(name, "one_hot", args, ["one_hot", "int64"] + tags)
    for name, args in [("negative_class", dict(input=RandInt((4,), -2, 0), num_classes=3)),
                       ("class_too_large", dict(input=RandInt((4,), 3, 5), num_classes=3)),
                       ("num_classes_zero", dict(input=RandInt((4,), 0, 2), num_classes=0)),
                       ("empty_inferred", dict(input=RandInt((0,), 0, 1))),
                       ("empty_num_classes_zero", dict(input=RandInt((0,), 0, 1), num_classes=0)),
                       ("float_input", dict(input=x((3,)), num_classes=3)),
                       ("bool_input", dict(input=RandInt((3,), 0, 2, dtype="bool"), num_classes=3)),
                       ("float_num_classes", dict(input=RandInt((3,), 0, 2), num_classes=3.0))]:
        f.add(name, "one_hot", args, ["one_hot", "error"], error=True)
    return f


def build():
    return [flatten_file(), unflatten_file(), pixel_file("pixel_shuffle"), pixel_file("pixel_unshuffle"),
            one_hot_file()]
