"""pooling: `Fixtures/pooling/<op>.json`, one file per `torch.nn.functional` pooling op.

Cases follow the shape of PyTorch's OpInfo sample inputs for pooling: hand-picked uses of each
argument (int / per-dim list / one-element list, `stride=None` and `[]`, ceil_mode windows that
are partial or dropped, padding with `count_include_pad`, `divisor_override`, non-divisible and
larger adaptive sizes, `None` entries, `return_indices`, unbatched input, float64, ties, NaN and
-inf in max pooling) plus a kernel x stride x padding x dilation / count_include_pad x ceil_mode
grid, one realistic size, PyTorch's errors, and programs checking `grad_fn` names and the
version counter of the saved input.
"""

import itertools

import numpy as np
import torch
import torch.nn.functional as F

from ..cases import FixtureFile, ref
from ..rng import uniform
from ..tensors import Given, RandInt, Uniform, given

# The usual input per spatial rank (non-square on purpose) and a realistic one.
SHAPE = {1: (2, 3, 9), 2: (2, 3, 7, 6), 3: (1, 2, 5, 6, 5)}
LARGE = {1: (2, 8, 64), 2: (1, 4, 24, 24), 3: (1, 2, 8, 12, 12)}



def zero_window(d):
    """Positive values on (1, 2, 4, ...) with the first 2×…×2 window of channel 0 zero."""
    a = (np.arange(2 * 4 ** d).reshape((1, 2) + (4,) * d) % 7 + 1) * 0.25
    a[(0, 0) + (slice(0, 2),) * d] = 0.0
    return a.tolist()

def per_dim(d, *values):
    return list(values[:d])


def x(d, shape=None, dtype="float32", lo=-1.0, hi=1.0):
    return Uniform(tuple(shape or SHAPE[d]), lo, hi, dtype)


def small(d, size, batch=(1, 2)):
    """An input of `size` per spatial dimension."""
    return x(d, batch + (size,) * d)


def ties(d, dtype="float32"):
    """Small integers as floats: every window has ties."""
    return RandInt(SHAPE[d], 0, 3, dtype=dtype, requires_grad=None)


def placed(d, values):
    """A `(1, 2, 4, ..., 4)` input counting 0, 1, ... with `values` {flat index: value} placed."""
    array = np.arange(2 * 4 ** d, dtype=np.float32)
    for index, value in values.items():
        array[index] = float(value)
    return Given(array.reshape((1, 2) + (4,) * d))


def tags_of(op, args, extra=()):
    tags = [op.split("_with_indices")[0]]
    for key in ("stride", "padding", "dilation", "ceil_mode", "count_include_pad", "divisor_override",
                "return_indices"):
        if key in args:
            tags.append(key)
    if any(isinstance(v, list) for k, v in args.items() if k != "input"):
        tags.append("per_dim_list")
    spec = args["input"]
    if spec.dtype == "float64":
        tags.append("float64")
    return tags + list(extra)


def add_all(f, op, cases, error=False):
    """`cases`: (name, args, extra tags). A case tagged `no_backward` records the forward only."""
    for name, args, extra in cases:
        f.add(name, op, args, tags_of(op, args, extra) + (["error"] if error else []), error=error,
              backward="no_backward" not in extra)


def grad_fn_programs(f, op, variants):
    """Programs recording the output's `grad_fn` (and `requires_grad`) for each variant."""
    for name, args in variants:
        with f.program(f"grad_fn_{name}", [op, "grad_fn", "autograd"]) as p:
            p.tensor("x", args.pop("input"), requires_grad=True)
            p.call(op, "y", input=ref("x"), **args)
            p.check_attrs("y")


def saved_input_modified(f, op, d, **args):
    """The pooling op saved its input; writing to it in place breaks backward."""
    with f.program("saved_input_modified_then_backward", [op, "autograd", "inplace", "version_counter",
                                                          "error"]) as p:
        p.tensor("x", small(d, 4), requires_grad=True)
        p.call("mul", "a", input=ref("x"), other=2.0)
        p.call(op, "y", input=ref("a"), **args)
        p.call("add_", input=ref("a"), other=1.0)
        p.call("sum", "s", input=ref("y"))
        p.backward("s", error=True)


# --- max_pool and avg_pool --------------------------------------------------------------------

def sliding_cases(d):
    """Cases max and average pooling share: kernel, stride, padding and ceil_mode uses."""
    unbatched = SHAPE[d][1:]
    return [
        ("defaults", dict(input=x(d), kernel_size=2), []),
        ("kernel3", dict(input=x(d), kernel_size=3), []),
        ("kernel_list", dict(input=x(d), kernel_size=per_dim(d, 3, 2, 2)), []),
        ("kernel_one_element_list", dict(input=x(d), kernel_size=[2]), []),
        ("stride_none", dict(input=x(d), kernel_size=2, stride=None), []),
        ("stride_empty_list", dict(input=x(d), kernel_size=3, stride=[]), []),
        ("stride1_overlapping", dict(input=x(d), kernel_size=3, stride=1), ["overlap"]),
        ("stride_list", dict(input=x(d), kernel_size=3, stride=per_dim(d, 1, 2, 1)), []),
        ("stride_gt_kernel", dict(input=x(d), kernel_size=2, stride=3), []),
        ("pad1", dict(input=x(d), kernel_size=3, padding=1), []),
        ("pad_list", dict(input=x(d), kernel_size=3, stride=2, padding=per_dim(d, 1, 0, 1)), []),
        ("pad_half_even_kernel", dict(input=x(d), kernel_size=4, stride=2, padding=2), []),
        ("ceil_mode_partial_last_window", dict(input=x(d), kernel_size=2, ceil_mode=True), []),
        ("ceil_mode_pad_window_past_padding", dict(input=small(d, 7), kernel_size=3, stride=2, padding=1,
                                                   ceil_mode=True), ["ceil_padding"]),
        ("ceil_mode_last_window_dropped", dict(input=small(d, 4), kernel_size=2, stride=3, padding=1,
                                               ceil_mode=True), ["ceil_dropped"]),
        ("ceil_mode_false_same_windows", dict(input=small(d, 4), kernel_size=2, stride=3, padding=1), []),
        ("kernel_equals_input", dict(input=x(d), kernel_size=list(SHAPE[d][2:])), ["output_size_1"]),
        ("unbatched", dict(input=x(d, unbatched), kernel_size=2), ["unbatched"]),
        ("unbatched_pad_ceil", dict(input=x(d, unbatched), kernel_size=3, stride=2, padding=1, ceil_mode=True),
         ["unbatched"]),
        ("batch_zero", dict(input=x(d, (0,) + unbatched), kernel_size=2), ["empty"]),
        ("float64", dict(input=x(d, dtype="float64"), kernel_size=2), []),
        ("large", dict(input=x(d, LARGE[d]), kernel_size=3, stride=2, padding=1), ["large"]),
    ]


def max_pool_cases(d):
    nan2 = {1: {1: "nan", 2: "nan", 6: "nan"}, 2: {5: "nan", 6: "nan", 10: "nan"},
            3: {21: "nan", 22: "nan", 42: "nan"}}[d]
    return sliding_cases(d) + [
        ("dilation2", dict(input=x(d), kernel_size=2, dilation=2), []),
        ("dilation_list", dict(input=x(d), kernel_size=2, stride=1, dilation=per_dim(d, 2, 1, 3)), []),
        ("dilation2_pad1", dict(input=x(d), kernel_size=3, stride=2, padding=1, dilation=2), []),
        ("ceil_mode_dilation2", dict(input=x(d), kernel_size=3, stride=2, dilation=2, ceil_mode=True), []),
        ("return_indices", dict(input=x(d), kernel_size=3, stride=2, padding=1, return_indices=True), []),
        ("return_indices_false", dict(input=x(d), kernel_size=2, return_indices=False), []),
        ("unbatched_return_indices_pad", dict(input=x(d, SHAPE[d][1:]), kernel_size=3, stride=2, padding=1,
                                              return_indices=True), ["unbatched"]),
        ("float64_return_indices_dilation", dict(input=x(d, dtype="float64"), kernel_size=2, stride=1,
                                                 dilation=2, return_indices=True), []),
        ("ties_first_max", dict(input=ties(d), kernel_size=3, stride=1, padding=1, return_indices=True),
         ["ties"]),
        # Every window tied (channel 0 all 1, channel 1 all 2): the first index wins, and the
        # two channels keep the output from being one value.
        ("ties_all_equal", dict(input=given((np.ones((1, 2) + (4,) * d) * np.arange(1, 3).reshape((1, 2) + (1,) * d)).tolist()), kernel_size=2, stride=1,
                                return_indices=True), ["ties"]),
        ("nan_propagates", dict(input=placed(d, {1: "nan"}), kernel_size=2, stride=1, return_indices=True),
         ["nan"]),
        # In 1-d every unpadded window holds a NaN at the same place (a one-value output):
        # padding adds windows that do not.
        ("nan_last_one_wins", dict(input=placed(d, nan2), kernel_size=3, stride=1, padding=1 if d == 1 else 0,
                                   return_indices=True),
         ["nan"]),
        ("neg_inf_windows", dict(input=placed(d, {i: "-inf" for i in range(4 ** d)}),
                                 kernel_size=2, return_indices=True), ["inf"]),
    ]


def avg_pool_cases(d):
    cases = sliding_cases(d) + [
        ("pad1_exclude_pad", dict(input=x(d), kernel_size=3, padding=1, count_include_pad=False), []),
        ("ceil_mode_partial_exclude_pad", dict(input=x(d), kernel_size=2, ceil_mode=True,
                                               count_include_pad=False), []),
        ("ceil_mode_pad_window_past_padding_exclude_pad",
         dict(input=small(d, 7), kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
         ["ceil_padding"]),
        ("float64_pad_exclude_pad_ceil", dict(input=x(d, dtype="float64"), kernel_size=3, stride=2, padding=1,
                                              ceil_mode=True, count_include_pad=False), []),
    ]
    if d > 1:
        cases += [
            ("divisor_override1", dict(input=x(d), kernel_size=2, divisor_override=1), []),
            ("divisor_override3_pad_exclude_pad", dict(input=x(d), kernel_size=3, padding=1,
                                                       count_include_pad=False, divisor_override=3), []),
            ("divisor_override_negative", dict(input=x(d), kernel_size=2, divisor_override=-2), []),
            ("divisor_override_none", dict(input=x(d), kernel_size=2, divisor_override=None), []),
            ("divisor_override_ceil_mode", dict(input=x(d), kernel_size=2, ceil_mode=True, divisor_override=5), []),
            ("float64_divisor_override", dict(input=x(d, dtype="float64"), kernel_size=3, stride=1,
                                              divisor_override=7), []),
        ]
    return cases


def max_pool_grid(d):
    """kernel x stride x padding x dilation x ceil_mode; return_indices on every other case."""
    for n, (k, s, p, dil, ceil) in enumerate(itertools.product((2, 3), (1, 2), (0, 1), (1, 2), (False, True))):
        args = dict(input=x(d), kernel_size=k, stride=s, padding=p, dilation=dil, ceil_mode=ceil)
        if n % 2:
            args["return_indices"] = True
        yield f"k{k}_s{s}_p{p}_d{dil}" + ("_ceil" if ceil else "") + ("_indices" if n % 2 else ""), args, ["grid"]


def avg_pool_grid(d):
    """kernel x stride x padding x ceil_mode x count_include_pad."""
    for k, s, p, ceil, cip in itertools.product((2, 3), (1, 2), (0, 1), (False, True), (True, False)):
        args = dict(input=x(d), kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip)
        yield f"k{k}_s{s}_p{p}" + ("_ceil" if ceil else "") + ("" if cip else "_exclude_pad"), args, ["grid"]


def sliding_errors(d):
    """Errors max and average pooling share."""
    s = SHAPE[d]
    return [
        ("rank_too_low", dict(input=x(d, s[2:]), kernel_size=2), ["rank"]),
        ("rank_too_high", dict(input=x(d, (1,) + s), kernel_size=2), ["rank"]),
        ("kernel_list_too_long", dict(input=x(d), kernel_size=[2] * (d + 1)), ["kernel_size"]),
        ("stride_list_too_long", dict(input=x(d), kernel_size=2, stride=[1] * (d + 1)), ["stride"]),
        ("padding_list_too_long", dict(input=x(d), kernel_size=3, padding=[1] * (d + 1)), ["padding"]),
        ("kernel_zero", dict(input=x(d), kernel_size=0), ["kernel_size"]),
        ("kernel_zero_stride1", dict(input=x(d), kernel_size=0, stride=1), ["kernel_size"]),
        ("kernel_negative_stride1", dict(input=x(d), kernel_size=-2, stride=1), ["kernel_size"]),
        ("stride_zero", dict(input=x(d), kernel_size=2, stride=0), ["stride"]),
        ("stride_negative", dict(input=x(d), kernel_size=2, stride=-1), ["stride"]),
        ("padding_negative", dict(input=x(d), kernel_size=2, padding=-1), ["padding"]),
        ("padding_over_half_kernel", dict(input=x(d), kernel_size=3, padding=2), ["padding"]),
        ("output_too_small", dict(input=small(d, 2), kernel_size=3), ["output_size"]),
        ("empty_channels", dict(input=x(d, (2, 0) + s[2:]), kernel_size=2), ["empty"]),
        ("kernel_float", dict(input=x(d), kernel_size=2.0), ["type"]),
        ("kernel_list_float_first", dict(input=x(d), kernel_size=[2.0, 2]), ["type"]),
        ("kernel_list_float_second", dict(input=x(d), kernel_size=[2, 2.0]), ["type"]),
        ("ceil_mode_int", dict(input=x(d), kernel_size=2, ceil_mode=1), ["type"]),
        ("bool_input", dict(input=given(np.ones(s, dtype=bool).tolist(), dtype="bool"), kernel_size=2),
         ["dtype"]),
    ]


def max_pool_errors(d):
    errors = sliding_errors(d) + [
        ("dilation_list_too_long", dict(input=x(d), kernel_size=2, dilation=[1] * (d + 1)), ["dilation"]),
        ("padding_over_half_kernel_dilated", dict(input=x(d), kernel_size=3, padding=2, dilation=2), ["padding"]),
        ("dilation_zero", dict(input=x(d), kernel_size=2, dilation=0), ["dilation"]),
        ("output_too_small_dilated", dict(input=small(d, 4), kernel_size=3, dilation=2), ["output_size"]),
    ]
    # max_pool1d checks its arguments itself; with return_indices ATen's 2-d checks apply.
    if d == 1:
        errors += [(f"return_indices_{name}", {**args, "return_indices": True}, tags)
                   for name, args, tags in errors if name != "bool_input"]
    return errors


def avg_pool_errors(d):
    errors = sliding_errors(d) + [
        ("count_include_pad_int", dict(input=x(d), kernel_size=2, count_include_pad=1), ["type"]),
    ]
    if d > 1:
        errors += [
            ("divisor_override_zero", dict(input=x(d), kernel_size=2, divisor_override=0), ["divisor_override"]),
            ("divisor_override_float", dict(input=x(d), kernel_size=2, divisor_override=2.0), ["type"]),
        ]
    if d == 3:
        errors.append(("input_smaller_than_kernel_despite_padding", dict(input=small(d, 2), kernel_size=3,
                                                                         padding=1), ["output_size"]))
    return errors


def sliding_file(d, kind):
    op = f"{kind}_pool{d}d"
    f = FixtureFile(f"pooling/{op}")
    if kind == "max":
        add_all(f, op, itertools.chain(max_pool_cases(d), max_pool_grid(d)))
        for name, args in [("defaults", dict(input=x(d), kernel_size=2)),
                           ("return_indices_false", dict(input=x(d), kernel_size=3, stride=2, padding=1,
                                                         return_indices=False))]:
            f.add(f"with_indices_{name}", f"{op}_with_indices", args, tags_of(op, args, ["with_indices"]))
        add_all(f, op, max_pool_errors(d), error=True)
        f.add("with_indices_kernel_float", f"{op}_with_indices", dict(input=x(d), kernel_size=2.0),
              [op, "with_indices", "error", "type"], error=True)
    else:
        add_all(f, op, itertools.chain(avg_pool_cases(d), avg_pool_grid(d)))
        add_all(f, op, avg_pool_errors(d), error=True)
    grad_fn_programs(f, op, [("batched", dict(input=x(d), kernel_size=2)),
                             ("unbatched", dict(input=x(d, SHAPE[d][1:]), kernel_size=2))])
    saved_input_modified(f, op, d, kernel_size=2)
    return f


# --- lp_pool -----------------------------------------------------------------------------------

def lp_pool_file(d):
    op = f"lp_pool{d}d"
    f = FixtureFile(f"pooling/{op}")
    positive = x(d, lo=0.1, hi=1.0)
    cases = [
        ("p2", dict(input=x(d), norm_type=2, kernel_size=2), []),
        ("p2_float", dict(input=x(d), norm_type=2.0, kernel_size=3, stride=1), []),
        ("p1_negative_windows", dict(input=x(d), norm_type=1, kernel_size=2), ["negative"]),
        ("p3_positive", dict(input=positive, norm_type=3, kernel_size=2), []),
        ("p1_5_positive", dict(input=positive, norm_type=1.5, kernel_size=3, stride=2), []),
        ("p3_negative_windows_nan", dict(input=x(d), norm_type=3, kernel_size=2), ["nan"]),
        ("p2_stride1", dict(input=x(d), norm_type=2, kernel_size=2, stride=1), []),
        ("p2_stride_list", dict(input=x(d), norm_type=2, kernel_size=2, stride=per_dim(d, 1, 2, 1)), []),
        ("p2_ceil_mode_partial_window", dict(input=x(d), norm_type=2, kernel_size=2, ceil_mode=True), []),
        ("p2_ceil_mode_stride_partial_window", dict(input=x(d), norm_type=2, kernel_size=3, stride=2,
                                                    ceil_mode=True), []),
        # One all-zero window (0^(1/p): PyTorch's gradient there is 0) among non-zero ones.
        ("zero_window", dict(input=given(zero_window(d)), norm_type=2, kernel_size=2),
         ["zero"]),
        ("unbatched", dict(input=x(d, SHAPE[d][1:]), norm_type=2, kernel_size=2), ["unbatched"]),
        ("float64", dict(input=x(d, dtype="float64"), norm_type=2, kernel_size=2), []),
        ("float64_p3_stride1", dict(input=x(d, lo=0.1, dtype="float64"), norm_type=3, kernel_size=3, stride=1), []),
        ("large", dict(input=x(d, LARGE[d]), norm_type=2, kernel_size=3, stride=2), ["large"]),
    ]
    if d > 1:
        cases.append(("kernel_list", dict(input=x(d), norm_type=2, kernel_size=per_dim(d, 3, 2, 2)), []))
    add_all(f, op, cases)
    s = SHAPE[d]
    errors = [
        ("norm_type_zero", dict(input=x(d), norm_type=0, kernel_size=2), ["norm_type"]),
        ("norm_type_zero_float", dict(input=x(d), norm_type=0.0, kernel_size=2), ["norm_type"]),
        ("rank_too_high", dict(input=x(d, (1,) + s), norm_type=2, kernel_size=2), ["rank"]),
        ("stride_zero", dict(input=x(d), norm_type=2, kernel_size=2, stride=0), ["stride"]),
        ("output_too_small", dict(input=small(d, 2), norm_type=2, kernel_size=3), ["output_size"]),
        ("ceil_mode_int", dict(input=x(d), norm_type=2, kernel_size=2, ceil_mode=1), ["type"]),
        ("ceil_mode_int_with_stride", dict(input=x(d), norm_type=2, kernel_size=2, stride=1, ceil_mode=1),
         ["type"]),
    ]
    if d == 1:
        errors.append(("kernel_list", dict(input=x(d), norm_type=2, kernel_size=[2]), ["type"]))
    else:
        errors += [("kernel_list_too_short", dict(input=x(d), norm_type=2, kernel_size=[2] * (d - 1)), ["kernel_size"]),
                   ("kernel_list_too_long", dict(input=x(d), norm_type=2, kernel_size=[2] * (d + 1)), ["kernel_size"])]
    add_all(f, op, errors, error=True)
    grad_fn_programs(f, op, [("p2", dict(input=x(d), norm_type=2, kernel_size=2))])
    return f


# --- adaptive pooling ---------------------------------------------------------------------------

def adaptive_cases(d, kind):
    """Output sizes for the usual input SHAPE[d] (spatial 9 / 7x6 / 5x6x5)."""
    cases = [
        ("divisible", dict(input=x(d, (2, 3) + (6,) * d), output_size=3), []),
        ("non_divisible", dict(input=x(d), output_size=4), ["non_divisible"]),
        ("non_divisible_list", dict(input=x(d), output_size=per_dim(d, 4, 5, 3)), ["non_divisible"]),
        ("one_element_list", dict(input=x(d), output_size=[3] if d == 1 else per_dim(d, 3, 3, 3)), []),
        ("larger_than_input", dict(input=x(d), output_size=per_dim(d, 11, 10, 8)), ["upsample"]),
        ("output_1", dict(input=x(d), output_size=1), ["global"]),
        ("identity", dict(input=x(d), output_size=list(SHAPE[d][2:])), []),
        # torch's backward refuses an empty grad_output.
        ("output_0", dict(input=x(d), output_size=0), ["empty", "no_backward"]),
        ("unbatched", dict(input=x(d, SHAPE[d][1:]), output_size=per_dim(d, 4, 4, 2)), ["unbatched"]),
        ("unbatched_output_1", dict(input=x(d, SHAPE[d][1:]), output_size=1), ["unbatched", "global"]),
        ("batch_zero", dict(input=x(d, (0,) + SHAPE[d][1:]), output_size=2), ["empty"]),
        ("float64", dict(input=x(d, dtype="float64"), output_size=per_dim(d, 4, 5, 3)), []),
        ("float64_output_1", dict(input=x(d, dtype="float64"), output_size=1), ["global"]),
        ("large", dict(input=x(d, LARGE[d]), output_size=per_dim(d, 10, 7, 5)), ["large"]),
    ]
    if d > 1:
        cases += [
            ("none_entry", dict(input=x(d), output_size=[None] + per_dim(d - 1, 4, 3)), ["none"]),
            ("all_none", dict(input=x(d), output_size=[None] * d), ["none"]),
        ]
    if d == 2 and kind == "avg":
        cases.append(("output_1_on_2d_input", dict(input=x(d, (5, 4)), output_size=1), ["global"]))
    if kind == "max":
        cases += [
            ("return_indices", dict(input=x(d), output_size=per_dim(d, 4, 5, 3), return_indices=True), []),
            ("unbatched_return_indices", dict(input=x(d, SHAPE[d][1:]), output_size=3, return_indices=True),
             ["unbatched"]),
            ("ties_first_max", dict(input=ties(d), output_size=per_dim(d, 4, 5, 3), return_indices=True),
             ["ties"]),
            ("nan_propagates", dict(input=placed(d, {1: "nan", 2: "nan"}), output_size=3, return_indices=True),
             ["nan"]),
        ]
    return cases


def adaptive_errors(d, kind):
    s = SHAPE[d]
    errors = [
        ("rank_too_low", dict(input=x(d, s[2:]), output_size=2), ["rank"]),
        ("rank_too_high", dict(input=x(d, (1,) + s), output_size=2), ["rank"]),
        ("output_size_negative", dict(input=x(d), output_size=-1), ["output_size"]),
        ("output_size_list_too_long", dict(input=x(d), output_size=[2] * (d + 1)), ["output_size"]),
        ("empty_spatial", dict(input=x(d, s[:2] + (0,) * d), output_size=2), ["empty"]),
        ("int64_input", dict(input=RandInt(s, 0, 5), output_size=2), ["dtype"]),
    ]
    if d == 1:
        errors += [("output_size_none", dict(input=x(d), output_size=None), ["type"]),
                   ("output_size_none_entry", dict(input=x(d), output_size=[None]), ["type"]),
                   ("output_size_empty_list", dict(input=x(d), output_size=[]), ["output_size"])]
    else:
        errors += [("output_size_list_too_short", dict(input=x(d), output_size=[2] * (d - 1)), ["output_size"]),
                   ("output_size_float", dict(input=x(d), output_size=2.0), ["type"]),
                   ("output_size_float_entry", dict(input=x(d), output_size=[2, 2.0] + [2] * (d - 2)), ["type"]),
                   ("output_size_longer_than_input", dict(input=x(d, s[1:]), output_size=[2] * (d + 1)),
                    ["output_size"])]
    if kind == "max":
        errors.append(("empty_channels", dict(input=x(d, (2, 0) + s[2:]), output_size=2), ["empty"]))
    if kind == "avg":
        errors.append(("int64_input_output_1", dict(input=RandInt(s, 0, 5), output_size=1), ["dtype", "global"]))
    return errors


def adaptive_file(d, kind):
    op = f"adaptive_{kind}_pool{d}d"
    f = FixtureFile(f"pooling/{op}")
    add_all(f, op, adaptive_cases(d, kind))
    if kind == "max":
        args = dict(input=x(d), output_size=3)
        f.add("with_indices_defaults", f"{op}_with_indices", args, tags_of(op, args, ["with_indices"]))
    add_all(f, op, adaptive_errors(d, kind), error=True)
    grad_fn_programs(f, op, [("batched", dict(input=x(d), output_size=3)),
                             ("unbatched", dict(input=x(d, SHAPE[d][1:]), output_size=3)),
                             ("output_1", dict(input=x(d), output_size=1))])
    saved_input_modified(f, op, d, output_size=3)
    return f


# --- max_unpool ---------------------------------------------------------------------------------

def pooled(d, shape, seed, dtype="float32", **pool_args):
    """(pooled values, indices) of max_pool{d}d on SplitMix64 values, as Given inputs."""
    values = torch.from_numpy(uniform(shape, -1.0, 1.0, seed, np.dtype(dtype)))
    out, indices = getattr(F, f"max_pool{d}d")(values, return_indices=True, **pool_args)
    return Given(out.numpy()), Given(indices.numpy())


def unpool_args(d, seed, shape=None, dtype="float32", pool=None, **unpool):
    """max_unpool arguments undoing a max_pool (default: kernel 2 on a `(2, 3, 4, ...)` input)."""
    pool = pool or dict(kernel_size=2)
    values, indices = pooled(d, shape or SHAPE[d][:2] + (4,) * d, seed, dtype, **pool)
    return dict(input=values, indices=indices, **{**pool, **unpool})


def max_unpool_file(d):
    op = f"max_unpool{d}d"
    f = FixtureFile(f"pooling/{op}")
    s = SHAPE[d]
    even = s[:2] + (4,) * d
    cases = [
        ("defaults", unpool_args(d, 1), []),
        # An odd size the default output size rounds down (the last dimension even, so the
        # indices stay inside the smaller planes).
        ("odd_input_default_size", unpool_args(d, 2, s[:2] + (5, 6, 6)[:d]), []),
        ("odd_input_output_size", unpool_args(d, 3, s, output_size=list(s[2:])), ["output_size"]),
        ("output_size_full_shape", unpool_args(d, 4, s, output_size=list(s)), ["output_size"]),
        ("stride_padding", unpool_args(d, 5, s[:2] + (7,) * d, pool=dict(kernel_size=3, stride=2, padding=1)), []),
        ("stride_padding_output_size", unpool_args(d, 6, s, pool=dict(kernel_size=3, stride=2, padding=1),
                                                   output_size=list(s[2:])), ["output_size"]),
        ("overlapping_windows_repeated_indices", unpool_args(d, 7, s, pool=dict(kernel_size=3, stride=1)),
         ["repeated_indices"]),
        ("kernel_list", unpool_args(d, 8, s[:2] + (4, 6, 4)[:d], pool=dict(kernel_size=per_dim(d, 2, 3, 2))), []),
        ("unbatched", unpool_args(d, 9, even[1:]), ["unbatched"]),
        ("float64", unpool_args(d, 10, dtype="float64"), []),
        ("hand_placed_indices", dict(input=Uniform((1, 1) + (2,) * d),
                                     indices=Given(np.array([0, 2 ** d - 1] * (2 ** (d - 1)), dtype=np.int64)
                                                   .reshape((1, 1) + (2,) * d)),
                                     kernel_size=2), ["repeated_indices"]),
        ("large", unpool_args(d, 11, LARGE[d], pool=dict(kernel_size=2)), ["large"]),
    ]
    add_all(f, op, cases)

    def bad_indices(delta):
        args = unpool_args(d, 12, even)
        args["indices"] = Given(args["indices"].array + delta)
        return args

    errors = [
        ("index_out_of_range", bad_indices(64), ["indices"]),
        ("index_negative", bad_indices(-64), ["indices"]),
        ("indices_float", {**unpool_args(d, 13, even), "indices": Uniform(even[:2] + (2,) * d)}, ["dtype"]),
        ("indices_shape_mismatch", {**unpool_args(d, 14, even), "indices": RandInt(even[:2] + (1,) * d, 0, 1)},
         ["indices"]),
        ("output_size_too_large", unpool_args(d, 15, even, output_size=[6] * d), ["output_size"]),
        ("output_size_too_small", unpool_args(d, 16, even, output_size=[2] * d), ["output_size"]),
        ("output_size_wrong_length", unpool_args(d, 17, even, output_size=[4] * (d + 1)), ["output_size"]),
        ("output_size_int", unpool_args(d, 18, even, output_size=4), ["type"]),
        ("rank_too_high", dict(input=x(d, (1,) + even), indices=RandInt((1,) + even, 0, 4), kernel_size=2), ["rank"]),
        ("default_size_negative", dict(input=x(d, (1, 1) + (1,) * d), indices=RandInt((1, 1) + (1,) * d, 0, 1),
                                       kernel_size=1, padding=1), ["output_size"]),
    ]
    if d == 3:
        errors.append(("stride_zero", unpool_args(d, 19, even, stride=0), ["stride"]))
    add_all(f, op, errors, error=True)
    grad_fn_programs(f, op, [("batched", unpool_args(d, 20, even)), ("unbatched", unpool_args(d, 21, even[1:]))])
    return f


def build():
    files = []
    for d in (1, 2, 3):
        files += [sliding_file(d, "max"), sliding_file(d, "avg"), lp_pool_file(d), adaptive_file(d, "avg"),
                  adaptive_file(d, "max")]
    # torch refuses max_unpool under use_deterministic_algorithms(True) (repeated indices race on
    # GPUs); on one CPU thread the last write wins, so it is deterministic here.
    torch.use_deterministic_algorithms(False)
    try:
        files += [max_unpool_file(d) for d in (1, 2, 3)]
    finally:
        torch.use_deterministic_algorithms(True)
    return files
