"""max / min / argmax / argmin: `Fixtures/shape/<op>.json`, each with its errors.

Like OpInfo's reduction-with-indices samples: every dim (positive and negative) of a 3-d input
with and without keepdim, 0-d and 1-d inputs, the full reduction (max/min without `dim`,
argmax/argmin with `dim=None`, also `keepdim`), ties (first index wins; max(input)'s gradient
is shared among them), NaN (the first NaN wins), ±inf, int64 / bool / float64 inputs, a zero
size in a dim that is not reduced, larger inputs; PyTorch's errors.
"""

from ..cases import FixtureFile
from ..tensors import RandInt, Uniform, given

NAN, INF = float("nan"), float("inf")


def x(shape, dtype="float32"):
    return Uniform(tuple(shape), -1.0, 1.0, dtype)


def ties(shape, dtype="float32"):
    """Small integers as floats: every run has ties."""
    return RandInt(tuple(shape), 0, 3, dtype=dtype, requires_grad=None)


def with_nans():
    return given([[1.0, NAN, 3.0, NAN], [2.0, 5.0, 5.0, 1.0], [NAN, 0.0, -1.0, 4.0]])


def with_infs():
    # Tied infinities, none of them first in a row or column, so that no index output is all 0.
    return given([[1.5, -INF, 3.0, -INF], [INF, 1.0, INF, -2.0], [0.0, 3.0, 2.0, INF]])


def dim_name(d):
    return f"dim{d}" if d >= 0 else f"dim_neg{-d}"


def cases(op):
    """(name, args, tags) for one op; `max`/`min` take `dim` only with an int."""
    values = op in ("max", "min")
    out = []
    for d in range(-3, 3):
        for keepdim in (False, True):
            out.append((f"{dim_name(d)}{'_keepdim' if keepdim else ''}",
                        dict(input=x((2, 3, 4)), dim=d, keepdim=keepdim), ["dim"] + (["negative_dim"] if d < 0 else [])))
    out += [
        ("full", dict(input=x((3, 4))), ["full_reduction"]),
        ("full_rank3", dict(input=x((2, 3, 4))), ["full_reduction"]),
        ("full_rank0", dict(input=x(())), ["full_reduction", "scalar_0d"]),
        # Ties away from index 0 (the first maximum is at 1, the first minimum at 2), none 0.
        ("full_ties", dict(input=given([[2.0, 3.0, 1.0, 3.0], [1.0, 3.0, 2.0, 2.0], [3.0, 1.0, 1.0, 2.0]])),
         ["full_reduction", "ties"]),
        ("full_nan", dict(input=with_nans()), ["full_reduction", "nan"]),
        ("full_inf", dict(input=with_infs()), ["full_reduction", "inf"]),
        # Three tied maxima and two tied minima, none first: all-equal input would make every
        # answer index 0, which a kernel that returns zeros passes (zero-trust).
        ("full_many_ties", dict(input=given([[1.5, 2.0, 1.0], [2.0, 1.0, 2.0]])), ["full_reduction", "ties"]),
        ("rank0_dim0", dict(input=x(()), dim=0), ["scalar_0d"]),
        ("rank0_dim_neg1_keepdim", dict(input=x(()), dim=-1, keepdim=True), ["scalar_0d", "keepdim"]),
        ("rank1", dict(input=x((7,)), dim=0), []),
        ("ties_dim1", dict(input=ties((4, 5)), dim=1), ["ties"]),
        ("ties_dim0", dict(input=ties((4, 5)), dim=0), ["ties"]),
        ("nan_dim1", dict(input=with_nans(), dim=1), ["nan"]),
        ("nan_dim0", dict(input=with_nans(), dim=0, keepdim=True), ["nan"]),
        ("inf_dim1", dict(input=with_infs(), dim=1), ["inf"]),
        ("inf_dim0", dict(input=with_infs(), dim=0), ["inf"]),
        ("size1_dim", dict(input=x((3, 1, 2)), dim=1), []),
        ("empty_other_dim", dict(input=x((0, 3)), dim=1), ["empty"]),
        ("float64", dict(input=x((6, 4), "float64"), dim=1), ["float64"]),
        ("float64_full", dict(input=x((3, 4), "float64")), ["float64", "full_reduction"]),
        ("int64_dim", dict(input=RandInt((3, 4), -3, 3), dim=1), ["int64", "ties"]),
        ("int64_full", dict(input=RandInt((3, 4), -9, 9)), ["int64", "full_reduction"]),
        ("int64_extremes", dict(input=given([[0, 2**63 - 1, -2**63]], "int64"), dim=1), ["int64"]),
        ("large", dict(input=x((4, 64, 33)), dim=1), ["large"]),
        ("large_full", dict(input=x((8, 100))), ["large", "full_reduction"]),
    ]
    if values:
        # Rows all true, all false and two mixed ones: no value or index output is one value.
        rows = given([[True, True, True, True], [False, False, False, False], [True, False, True, True],
                      [False, True, False, False]], "bool")
        # One reduced bool of `min` over anything with a false is false (index-free zero): all true for min.
        full = given([[True, True], [True, True]], "bool") if op == "min" else RandInt((3, 4), 0, 2, dtype="bool")
        out += [("bool_dim", dict(input=rows, dim=1), ["bool"]),
                ("bool_full", dict(input=full), ["bool", "full_reduction"])]
    else:
        out += [("dim_none", dict(input=x((3, 4)), dim=None), ["full_reduction"]),
                ("dim_none_keepdim", dict(input=x((2, 3, 4)), dim=None, keepdim=True), ["full_reduction", "keepdim"]),
                ("rank0_keepdim", dict(input=x(()), keepdim=True), ["full_reduction", "scalar_0d"])]
    return out


def error_cases(op):
    errors = [
        ("full_empty", dict(input=x((0, 3)))),
        ("empty_reduced_dim", dict(input=x((0, 3)), dim=0)),
        ("empty_reduced_negative_dim", dict(input=x((0, 3)), dim=-2)),
        ("dim_out_of_range", dict(input=x((2, 3)), dim=2)),
        ("dim_out_of_range_negative", dict(input=x((2, 3)), dim=-3)),
        ("dim1_on_0d", dict(input=x(()), dim=1)),
    ]
    if op in ("max", "min"):
        # The binding's "invalid combination of arguments" TypeError (no overload matches).
        errors += [("dim_none", dict(input=x((2, 3)), dim=None)),
                   ("dim_float", dict(input=x((2, 3)), dim=1.0)),
                   ("keepdim_without_dim", dict(input=x((2, 3)), keepdim=True))]
    if op in ("argmax", "argmin"):
        errors += [("bool_input", dict(input=RandInt((3,), 0, 2, dtype="bool"), dim=0)),
                   ("bool_input_full", dict(input=RandInt((3,), 0, 2, dtype="bool"))),
                   ("dim_list", dict(input=x((2, 3)), dim=[1])),
                   ("dim_float", dict(input=x((2, 3)), dim=1.0))]
    return errors


def op_file(op):
    f = FixtureFile(f"shape/{op}")
    grads = op in ("max", "min")
    for name, args, tags in cases(op):
        tags = [op] + tags + (["keepdim"] if args.get("keepdim") else [])
        f.add(name, op, args, tags, backward=grads)
    for name, args in error_cases(op):
        f.add(name, op, args, [op, "error"], error=True)
    return f


def build():
    return [op_file(op) for op in ("max", "min", "argmax", "argmin")]
