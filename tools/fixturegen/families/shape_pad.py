"""pad: `Fixtures/shape/pad_<mode>.json` for F.pad's four modes, `shape/pad_errors.json` and
`shape/pad_programs.json` (`grad_fn` per mode and rank).

Like OpInfo's `nn.functional.pad` samples: each mode on every rank it supports, symmetric,
asymmetric, zero and (for constant) rank-exceeding pads; negative pads (cropping) in every
mode; the largest pads a mode allows; `value` for constant padding (int, float, NaN, inf, None),
int64 / bool / float64 inputs, empty batches, a larger input; and PyTorch's errors.
"""

from ..cases import FixtureFile, ref
from .shape import add
from ..tensors import RandInt, Uniform, given

RANKS = {1: [(2, 5), (2, 3, 5)], 2: [(2, 4, 5), (2, 3, 4, 5)], 3: [(1, 3, 4, 5), (1, 2, 3, 4, 5)]}


def x(shape, dtype="float32"):
    return Uniform(tuple(shape), -1.0, 1.0, dtype)


def counting(shape, dtype="float32"):
    """0, 1, 2, ... (every position distinct, so a wrong source index shows)."""
    n = 1
    for s in shape:
        n *= s
    return given(list(range(n)), dtype, shape)


def per_mode(mode):
    """(name, args, tags) shared by reflect, replicate and circular."""
    cases = []
    for n, shapes in RANKS.items():
        for shape in shapes:
            rank = f"{n}d_rank{len(shape)}"
            cases += [
                (f"{rank}_ones", dict(input=x(shape), pad=[1] * (2 * n)), []),
                (f"{rank}_asymmetric", dict(input=x(shape), pad=[2, 1, 0, 2, 1, 0][:2 * n]), ["asymmetric"]),
                (f"{rank}_zeros", dict(input=x(shape), pad=[0] * (2 * n)), ["zero_pad"]),
            ]
    last = {"reflect": 3, "replicate": 7, "circular": 4}[mode]  # reflect < size, circular <= size
    cases += [
        ("1d_largest", dict(input=counting((1, 2, 4)), pad=[last, last]), ["large_pad"]),
        ("2d_largest", dict(input=counting((1, 4, 5)), pad=[last, 1, 1, last]), ["large_pad"]),
        ("1d_crop", dict(input=counting((1, 2, 5)), pad=[-1, -2]), ["negative_pad"]),
        ("1d_crop_and_pad", dict(input=counting((1, 2, 5)), pad=[-2, 2]), ["negative_pad"]),
        ("1d_pad_and_crop", dict(input=counting((1, 2, 5)), pad=[2, -1]), ["negative_pad"]),
        ("2d_mixed_signs", dict(input=counting((1, 1, 4, 5)), pad=[2, -1, -1, 2]), ["negative_pad"]),
        ("3d_mixed_signs", dict(input=counting((1, 1, 3, 4, 5)), pad=[-1, 2, 1, -1, 2, 0]), ["negative_pad"]),
        ("value_zero", dict(input=x((2, 3, 5)), pad=[1, 2], mode=mode, value=0.0), ["value"]),
        ("value_none", dict(input=x((2, 3, 5)), pad=[1, 2], mode=mode, value=None), ["value"]),
        ("float64", dict(input=x((2, 3, 4, 5), "float64"), pad=[1, 2, 2, 1]), ["float64"]),
        ("int64", dict(input=RandInt((2, 3, 5), -9, 9), pad=[2, 1]), ["int64"]),
        ("int64_2d", dict(input=RandInt((1, 2, 3, 4), -9, 9), pad=[1, 2, 2, 1]), ["int64"]),
        ("empty_batch", dict(input=x((0, 2, 4, 5)), pad=[1, 1, 1, 1]), ["empty"]),
        ("large", dict(input=x((2, 4, 16, 16)), pad=[3, 2, 1, 3]), ["large"]),
    ]
    if mode == "circular":
        cases += [("bool", dict(input=RandInt((1, 2, 5), 0, 2, dtype="bool"), pad=[2, 1]), ["bool"]),
                  ("empty_channels", dict(input=x((1, 0, 5)), pad=[1, 1]), ["empty"]),
                  ("crop_to_empty", dict(input=x((1, 2, 3)), pad=[-1, -2]), ["negative_pad", "empty"])]
    return cases


def constant_cases():
    cases = []
    for rank in range(1, 6):
        shape = (2, 3, 4, 3, 2)[:rank]
        for n in range(1, rank + 1):
            pads = [1, 2, 0, 1, 2, 0, 1, 1, 2, 1][:2 * n]
            cases.append((f"rank{rank}_pad{2 * n}", dict(input=x(shape), pad=pads), []))
    cases += [
        ("rank0_empty_pad", dict(input=x(()), pad=[]), ["scalar_0d"]),
        ("empty_pad", dict(input=x((2, 3)), pad=[]), []),
        ("value_int", dict(input=x((2, 3)), pad=[1, 1], value=3), ["value"]),
        ("value_float", dict(input=x((2, 3)), pad=[2, 0, 1, 1], value=-1.5), ["value"]),
        ("value_none", dict(input=x((2, 3)), pad=[1, 1], mode="constant", value=None), ["value"]),
        ("value_nan", dict(input=x((2, 3)), pad=[1, 1], value=float("nan")), ["value", "special_values"]),
        ("value_inf", dict(input=x((2, 3)), pad=[0, 1], value=float("-inf")), ["value", "special_values"]),
        ("pad_longer_than_dim", dict(input=x((2, 3)), pad=[5, 4, 3, 0]), ["large_pad"]),
        ("crop_both_sides", dict(input=counting((3, 6)), pad=[-1, -2, -1, 0]), ["negative_pad"]),
        ("crop_and_pad", dict(input=counting((3, 6)), pad=[-2, 3, 1, -1]), ["negative_pad"]),
        ("crop_to_empty", dict(input=x((2, 3)), pad=[-1, -2]), ["negative_pad", "empty"]),
        ("crop_all_then_pad", dict(input=x((2, 3)), pad=[-3, 2], value=2.0), ["negative_pad", "value"]),
        ("float64", dict(input=x((2, 3, 4), "float64"), pad=[1, 2, 2, 1], value=0.25), ["float64"]),
        ("int64", dict(input=RandInt((2, 3), -9, 9), pad=[1, 2], value=7), ["int64", "value"]),
        ("int64_float_value", dict(input=RandInt((2, 3), -9, 9), pad=[1, 1], value=-2.5), ["int64", "value"]),
        ("bool", dict(input=RandInt((2, 3), 0, 2, dtype="bool"), pad=[1, 1], value=0.5), ["bool", "value"]),
        ("float32_value_inf_fits", dict(input=x((2,)), pad=[1, 0], value=float("inf")), ["value"]),
        ("crop_ignores_overflowing_value", dict(input=x((2, 3)), pad=[-1, 0], value=1e300), ["value"]),
        ("empty_batch", dict(input=x((0, 3)), pad=[1, 1]), ["empty"]),
        ("empty_dim_padded", dict(input=x((0, 3, 3)), pad=[1] * 6, value=2.0), ["empty", "value"]),
        ("large", dict(input=x((2, 3, 16, 16)), pad=[1, 2, 3, 4]), ["large"]),
    ]
    return cases


def error_cases():
    r3, r4, r5 = x((1, 2, 3)), x((1, 2, 3, 4)), x((1, 1, 2, 3, 4))
    cases = [
        ("odd_length", dict(input=r3, pad=[1, 1, 1])),
        ("odd_length_reflect", dict(input=r3, pad=[1], mode="reflect")),
        ("longer_than_rank", dict(input=x((2, 3)), pad=[1] * 6)),
        ("pad_on_0d", dict(input=x(()), pad=[1, 1])),
        ("unknown_mode", dict(input=r3, pad=[1, 1], mode="zeros")),
        ("value_with_reflect", dict(input=r3, pad=[1, 1], mode="reflect", value=2.0)),
        ("value_nan_with_replicate", dict(input=r3, pad=[1, 1], mode="replicate", value=float("nan"))),
        ("constant_crop_too_much", dict(input=r3, pad=[-2, -2])),
        ("constant_crop_left_past_size", dict(input=r3, pad=[-4, 1])),
        ("constant_value_overflows_float32", dict(input=r3, pad=[1, 1], value=3.5e38)),
        ("constant_value_nan_int64", dict(input=RandInt((2, 3), 0, 5), pad=[1, 1], value=float("nan"))),
        ("constant_value_too_large_int64", dict(input=RandInt((2, 3), 0, 5), pad=[1, 1], value=1e19)),
        ("pad_element_float", dict(input=r3, pad=[1.0, 1])),
        ("pad_int", dict(input=r3, pad=1)),
        ("value_string", dict(input=r3, pad=[1, 1], value="a")),
        ("reflect_pad_equals_size", dict(input=r3, pad=[3, 0], mode="reflect")),
        ("reflect_right_pad_too_large", dict(input=r3, pad=[0, 4], mode="reflect")),
        ("reflect2d_width", dict(input=r4, pad=[4, 1, 1, 1], mode="reflect")),
        ("reflect2d_height", dict(input=r4, pad=[1, 1, 3, 1], mode="reflect")),
        ("reflect3d_depth", dict(input=r5, pad=[1, 1, 1, 1, 2, 2], mode="reflect")),
        ("reflect1d_output_too_small", dict(input=x((1, 3, 4)), pad=[-2, -2], mode="reflect")),
        ("reflect2d_output_too_small", dict(input=x((1, 3, 4)), pad=[0, 0, -2, -2], mode="reflect")),
        ("replicate1d_output_too_small", dict(input=x((1, 3, 4)), pad=[-2, -3], mode="replicate")),
        ("replicate2d_output_too_small", dict(input=x((1, 3, 4)), pad=[-2, -2, 0, 0], mode="replicate")),
        ("replicate3d_output_too_small", dict(input=r5, pad=[-2, -2, 0, 0, 0, 0], mode="replicate")),
        ("reflect_empty_channels", dict(input=x((1, 0, 3)), pad=[1, 1], mode="reflect")),
        ("reflect_unbatched_empty", dict(input=x((0, 3)), pad=[1, 1], mode="reflect")),
        ("replicate2d_empty_channels", dict(input=x((1, 0, 4)), pad=[1, 1, 1, 1], mode="replicate")),
        ("replicate3d_unbatched_empty", dict(input=x((0, 2, 3, 4)), pad=[1] * 6, mode="replicate")),
        ("circular_wraps_twice", dict(input=r3, pad=[4, 0], mode="circular")),
        ("circular_empty_width", dict(input=x((1, 2, 0)), pad=[1, 1], mode="circular")),
        ("circular_crop_below_zero", dict(input=r3, pad=[-2, -2], mode="circular")),
        ("circular_pad_longer_than_cropped", dict(input=x((1, 1, 5)), pad=[5, -3], mode="circular")),
        ("reflect_bool", dict(input=RandInt((1, 2, 3), 0, 2, dtype="bool"), pad=[1, 1], mode="reflect")),
        ("replicate2d_bool", dict(input=RandInt((1, 2, 3), 0, 2, dtype="bool"), pad=[1, 1, 1, 1], mode="replicate")),
    ]
    for mode in ("reflect", "replicate", "circular"):
        cases += [(f"{mode}_1d_input", dict(input=x((5,)), pad=[1, 1], mode=mode)),
                  (f"{mode}_pad2_on_4d", dict(input=r4, pad=[1, 1], mode=mode)),
                  (f"{mode}_pad4_on_5d", dict(input=r5, pad=[1] * 4, mode=mode)),
                  (f"{mode}_pad6_on_3d", dict(input=r3, pad=[1] * 6, mode=mode)),
                  (f"{mode}_empty_pad", dict(input=r3, pad=[], mode=mode))]
    return cases


def mode_file(mode):
    f = FixtureFile(f"shape/pad_{mode}")
    cases = constant_cases() if mode == "constant" else per_mode(mode)
    for name, args, tags in cases:
        args = {**args, "mode": mode} if mode != "constant" else args
        add(f, name, "pad", args, ["pad", mode] + tags)
    return f


def errors_file():
    f = FixtureFile("shape/pad_errors")
    for name, args in error_cases():
        add(f, name, "pad", args, ["pad", args.get("mode", "constant"), "error"], error=True)
    return f


def programs_file():
    """`grad_fn` of each mode on each rank it pads."""
    f = FixtureFile("shape/pad_programs")
    variants = [("constant", (2, 3), [1, 1]), ("constant_crop_only", (2, 3), [-1, 0]),
                ("constant_0d", (), [])]
    for mode in ("reflect", "replicate", "circular"):
        variants += [(f"{mode}_{n}d", RANKS[n][1], [1] * (2 * n)) for n in (1, 2, 3)]
    for name, shape, pads in variants:
        mode = name.split("_")[0]
        with f.program(f"grad_fn_{name}", ["pad", mode, "grad_fn", "autograd"]) as p:
            p.tensor("x", x(shape), requires_grad=True)
            p.call("pad", "y", input=ref("x"), pad=pads, mode=mode)
            p.check_attrs("y")
    return f


def build():
    return [mode_file(m) for m in ("constant", "reflect", "replicate", "circular")] + [errors_file(), programs_file()]
