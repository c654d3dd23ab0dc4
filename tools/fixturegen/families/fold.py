"""unfold / fold (im2col / col2im): `Fixtures/fold/unfold.json`, `fold/fold.json`,
`fold/errors.json` and `fold/programs.json`.

Cases follow PyTorch's OpInfo `sample_inputs_nn_unfold` / `nn.Fold` module tests: every
argument as an int and a pair (`_pair` repeats an int and keeps a list, so a one-element list is
an error), overlapping,
touching and gapped windows, padding larger than the kernel, dilation, unbatched input, an empty
batch, float64, bool (fold ORs overlapping blocks), one realistic size; PyTorch's errors in both
functions' orders; and programs for `grad_fn`, fold(unfold(x)) and a second backward.
"""

from ..cases import FixtureFile, ref
from ..tensors import RandInt, Uniform

IMAGE = (2, 3, 5, 4)


def x(shape=IMAGE, dtype="float32"):
    return Uniform(tuple(shape), dtype=dtype)


def tags_of(op, args, extra=()):
    tags = [op]
    for key in ("dilation", "padding", "stride"):
        if key in args:
            tags.append(key)
    if any(isinstance(args.get(k), list) for k in ("output_size", "kernel_size", "dilation", "padding", "stride")):
        tags.append("per_dim_list")
    return tags + list(extra)


def blocks(size, kernel, dilation, padding, stride):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pair(v):
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


def columns(batch, channels, output_size, kernel_size, dilation=1, padding=0, stride=1, dtype="float32"):
    """The `fold` input that matches an image of `output_size`: `(batch, C·kH·kW, L)`."""
    k, d, p, s, o = (pair(v) for v in (kernel_size, dilation, padding, stride, output_size))
    length = blocks(o[0], k[0], d[0], p[0], s[0]) * blocks(o[1], k[1], d[1], p[1], s[1])
    shape = ((batch,) if batch is not None else ()) + (channels * k[0] * k[1], length)
    return Uniform(shape, dtype=dtype)


# (name, keyword arguments besides the tensor, extra tags); shared by unfold and fold.
WINDOWS = [
    ("kernel2", dict(kernel_size=2), ["overlapping"]),
    ("kernel_list", dict(kernel_size=[2, 3]), ["nonsquare_kernel"]),
    ("kernel1", dict(kernel_size=1), []),
    ("kernel_equals_image", dict(kernel_size=[5, 4]), ["one_block"]),
    ("stride_equals_kernel", dict(kernel_size=2, stride=2), ["non_overlapping"]),
    ("stride_gt_kernel", dict(kernel_size=2, stride=3), ["gaps"]),
    ("stride_list", dict(kernel_size=2, stride=[1, 2]), []),
    ("pad1", dict(kernel_size=3, padding=1), []),
    ("pad_list", dict(kernel_size=2, padding=[0, 1]), []),
    ("pad_larger_than_kernel", dict(kernel_size=2, padding=3), []),
    ("dil2", dict(kernel_size=2, dilation=2), []),
    ("dil_list", dict(kernel_size=2, dilation=[2, 1]), []),
    ("all_params", dict(kernel_size=[2, 3], dilation=[2, 1], padding=[1, 0], stride=[2, 1]), []),
    ("all_params_tuple_lists", dict(kernel_size=[3, 2], dilation=[1, 2], padding=[2, 1], stride=[1, 3]), []),
]


def unfold_file():
    f = FixtureFile("fold/unfold")
    for name, kwargs, extra in WINDOWS:
        args = dict(input=x(), **kwargs)
        f.add(name, "unfold", args, tags_of("unfold", args, extra))
    extras = [
        ("unbatched", dict(input=x(IMAGE[1:]), kernel_size=2, padding=1), ["unbatched"]),
        ("batch1", dict(input=x((1,) + IMAGE[1:]), kernel_size=3, stride=2), []),
        ("one_channel", dict(input=x((2, 1, 5, 4)), kernel_size=2), []),
        ("empty_batch", dict(input=x((0,) + IMAGE[1:]), kernel_size=2), ["empty"]),
        ("float64", dict(input=x(dtype="float64"), kernel_size=2, padding=1, stride=[1, 2]), ["float64"]),
        ("float64_unbatched", dict(input=x(IMAGE[1:], "float64"), kernel_size=3, dilation=2, padding=2),
         ["float64", "unbatched"]),
        ("bool", dict(input=x((1, 2, 3, 3), "bool"), kernel_size=2, padding=1), ["bool"]),
        ("large_realistic", dict(input=x((1, 8, 16, 16)), kernel_size=3, padding=1), ["large"]),
    ]
    for name, args, extra in extras:
        f.add(name, "unfold", args, tags_of("unfold", args, extra))
    return f


def fold_file():
    f = FixtureFile("fold/fold")
    image = list(IMAGE[2:])
    for name, kwargs, extra in WINDOWS:
        args = dict(input=columns(2, 3, image, **kwargs), output_size=image, **kwargs)
        f.add(name, "fold", args, tags_of("fold", args, extra))
    extras = [
        ("output_size_int", dict(input=columns(2, 3, 5, 2), output_size=5, kernel_size=2), []),
        ("nonsquare_output", dict(input=columns(2, 2, [3, 7], [2, 3], stride=[1, 2]), output_size=[3, 7],
                                  kernel_size=[2, 3], stride=[1, 2]), []),
        ("unbatched", dict(input=columns(None, 3, image, 2, padding=1), output_size=image, kernel_size=2,
                           padding=1), ["unbatched"]),
        ("batch1", dict(input=columns(1, 3, image, 3, stride=2), output_size=image, kernel_size=3, stride=2), []),
        ("one_channel", dict(input=columns(2, 1, image, 2), output_size=image, kernel_size=2), []),
        ("empty_batch", dict(input=columns(0, 3, image, 2), output_size=image, kernel_size=2), ["empty"]),
        ("float64", dict(input=columns(2, 3, image, 2, padding=1, stride=[1, 2], dtype="float64"),
                         output_size=image, kernel_size=2, padding=1, stride=[1, 2]), ["float64"]),
        ("float64_unbatched", dict(input=columns(None, 3, image, 3, dilation=2, padding=2, dtype="float64"),
                                   output_size=image, kernel_size=3, dilation=2, padding=2), ["float64", "unbatched"]),
        # Random bits (a uniform bool would be all true, and so would its OR): half false.
        ("bool", dict(input=RandInt(columns(1, 2, [3, 3], 2).shape, 0, 2, "bool"), output_size=[3, 3], kernel_size=2), ["bool"]),
        ("large_realistic", dict(input=columns(1, 8, [16, 16], 3, padding=1), output_size=[16, 16], kernel_size=3,
                                 padding=1), ["large"]),
    ]
    for name, args, extra in extras:
        f.add(name, "fold", args, tags_of("fold", args, extra))
    return f


def errors_file():
    f = FixtureFile("fold/errors")
    cols = columns(2, 3, [4, 5], 2)  # (2, 12, 12)
    unfold_errors = [
        ("rank1", dict(input=x((5,)), kernel_size=2)),
        ("rank2", dict(input=x((5, 4)), kernel_size=2)),
        ("rank2_empty_second_dim", dict(input=x((5, 0)), kernel_size=2)),
        ("rank5", dict(input=x((1, 2, 3, 4, 5)), kernel_size=2)),
        ("empty_channels", dict(input=x((2, 0, 5, 4)), kernel_size=2)),
        ("empty_spatial", dict(input=x((2, 3, 0, 4)), kernel_size=2)),
        ("unbatched_empty_channels", dict(input=x((0, 5, 4)), kernel_size=2)),
        ("kernel_size_three_elements", dict(input=x(), kernel_size=[2, 2, 2])),
        ("kernel_size_one_element", dict(input=x(), kernel_size=[2])),
        ("kernel_size_checked_before_dilation", dict(input=x(), kernel_size=[2], dilation=[1, 1, 1])),
        ("kernel_size_zero", dict(input=x(), kernel_size=0)),
        ("dilation_zero", dict(input=x(), kernel_size=2, dilation=0)),
        ("negative_padding", dict(input=x(), kernel_size=2, padding=-1)),
        ("stride_zero", dict(input=x(), kernel_size=2, stride=0)),
        ("padding_checked_before_stride", dict(input=x(), kernel_size=2, padding=-1, stride=0)),
        ("kernel_larger_than_image", dict(input=x(), kernel_size=6)),
        ("dilated_kernel_larger_than_image", dict(input=x(), kernel_size=3, dilation=3)),
        ("int64", dict(input=RandInt(IMAGE, 0, 3), kernel_size=2)),
        ("kernel_size_float", dict(input=x(), kernel_size=2.5)),
        ("kernel_size_none", dict(input=x(), kernel_size=None)),
        ("kernel_size_list_float", dict(input=x(), kernel_size=[2, 2.5])),
        ("input_int", dict(input=1, kernel_size=2)),
        ("missing_kernel_size", dict(input=x())),
    ]
    fold_errors = [
        ("rank1", dict(input=x((12,)), output_size=[4, 5], kernel_size=2)),
        ("rank4", dict(input=x((1, 2, 12, 12)), output_size=[4, 5], kernel_size=2)),
        ("empty_blocks", dict(input=x((2, 12, 0)), output_size=[4, 5], kernel_size=2)),
        ("empty_channels", dict(input=x((2, 0, 12)), output_size=[4, 5], kernel_size=2)),
        ("channels_not_divisible", dict(input=x((2, 10, 12)), output_size=[4, 5], kernel_size=2)),
        ("block_count_mismatch", dict(input=x((2, 12, 11)), output_size=[4, 5], kernel_size=2)),
        ("block_count_mismatch_negative_output", dict(input=x((2, 4, 1)), output_size=[-1, 1], kernel_size=2,
                                                      padding=1)),
        ("block_grid_negative", dict(input=x((1, 9, 1)), output_size=[1, 1], kernel_size=3)),
        ("output_size_not_positive", dict(input=x((1, 1, 4)), output_size=[-2, -2], kernel_size=1, padding=2)),
        ("output_size_three_elements", dict(input=cols, output_size=[4, 5, 6], kernel_size=2)),
        ("output_size_one_element", dict(input=cols, output_size=[4], kernel_size=2)),
        ("output_size_checked_first", dict(input=cols, output_size=[4, 5, 6], kernel_size=[2, 2, 2])),
        ("padding_one_element_wrong", dict(input=cols, output_size=[4, 5], kernel_size=2, padding=[0, 0, 0])),
        ("kernel_size_zero", dict(input=cols, output_size=[4, 5], kernel_size=0)),
        ("stride_zero", dict(input=cols, output_size=[4, 5], kernel_size=2, stride=0)),
        ("stride_checked_before_dilation", dict(input=cols, output_size=[4, 5], kernel_size=2, stride=0,
                                                dilation=0)),
        ("dilation_zero", dict(input=cols, output_size=[4, 5], kernel_size=2, dilation=0)),
        ("negative_padding", dict(input=cols, output_size=[4, 5], kernel_size=2, padding=-1)),
        ("int64", dict(input=RandInt((2, 12, 12), 0, 3), output_size=[4, 5], kernel_size=2)),
        ("output_size_float", dict(input=cols, output_size=4.0, kernel_size=2)),
        ("missing_output_size", dict(input=cols, kernel_size=2)),
        ("missing_output_size_and_kernel_size", dict(input=cols)),
    ]
    for op, specs in (("unfold", unfold_errors), ("fold", fold_errors)):
        for name, args in specs:
            f.add(f"{op}_{name}", op, args, [op, "error"], error=True)
    return f


def programs_file():
    f = FixtureFile("fold/programs")
    for op, args in (("unfold", dict(input=x(), kernel_size=2)), ("unfold", dict(input=x(IMAGE[1:]), kernel_size=2)),
                     ("fold", dict(input=columns(2, 3, [5, 4], 2), output_size=[5, 4], kernel_size=2)),
                     ("fold", dict(input=columns(None, 3, [5, 4], 2), output_size=[5, 4], kernel_size=2))):
        batched = "batched" if len(args["input"].shape) == (4 if op == "unfold" else 3) else "unbatched"
        with f.program(f"{op}_grad_fn_{batched}", [op, "grad_fn", "autograd"]) as p:
            p.tensor("x", args.pop("input"), requires_grad=True)
            p.call(op, "y", input=ref("x"), **args)
            p.check_attrs("y")
    # fold(unfold(x)) multiplies each pixel by the number of blocks covering it: x itself for
    # non-overlapping blocks that cover the image, and backward goes through both nodes.
    for name, kwargs in (("non_overlapping", dict(kernel_size=[1, 2], stride=[1, 2])),
                         ("overlapping", dict(kernel_size=2, padding=1))):
        with f.program(f"fold_of_unfold_{name}", ["fold", "unfold", "autograd"]) as p:
            p.tensor("x", x(), requires_grad=True)
            p.call("unfold", "c", input=ref("x"), **kwargs)
            p.call("fold", "y", input=ref("c"), output_size=[5, 4], **kwargs)
            p.check_value("y")
            p.check_attrs("y")
            p.call("sum", "s", input=ref("y"))
            p.backward("s")
            p.check_grad("x")
    # The nodes save no tensors: a second backward through them is allowed.
    with f.program("unfold_backward_twice", ["unfold", "autograd"]) as p:
        p.tensor("x", x(), requires_grad=True)
        p.call("unfold", "y", input=ref("x"), kernel_size=2)
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.backward("s")
        p.check_grad("x")
    return f


def build():
    return [unfold_file(), fold_file(), errors_file(), programs_file()]
