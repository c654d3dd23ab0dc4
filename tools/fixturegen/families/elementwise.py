"""Elementwise and reduction ops: `Fixtures/elementwise/{unary,binary,reduction}.json`."""

import torch

from ..cases import FixtureFile
from ..tensors import RandInt, Uniform, given

# Values where unary ops and their gradients are interesting: NaN, infinities, signed zeros,
# tiny values, and magnitudes where exp overflows (float32: x > 88.72) or sigmoid saturates.
SPECIAL_VALUES = ["nan", "inf", "-inf", 0.0, -0.0, 1e-8, -1e-8, 0.5, -0.5,
                  20.0, -20.0, 88.0, 89.0, -89.0, 100.0, -104.0]
# ... followed by ordinary values, so that the saturated ones (zero gradient) stay under the
# harness's zero-trust limit of 30% zeros (docs/tolerance.md, "Zero-trust").
SPECIAL_VALUES += [0.25 * k - 1.9 for k in range(16)]

UNARY_OPS = ("relu", "sigmoid", "tanh", "exp", "neg")
UNARY_SHAPES = [("scalar_0d", ()), ("vector", (7,)), ("matrix", (3, 4)),
                ("rank4", (2, 3, 4, 5)), ("empty", (0, 3)), ("large", (2, 8, 12, 12))]


def unary_file():
    f = FixtureFile("elementwise/unary")
    for op in UNARY_OPS:
        tags = ["elementwise", "unary", op]
        for label, shape in UNARY_SHAPES:
            f.add(f"{op}_{label}", op, {"input": Uniform(shape, -3, 3)}, tags + [label])
        f.add(f"{op}_float64", op, {"input": Uniform((3, 4), -3, 3, "float64")}, tags + ["float64"])
        f.add(f"{op}_special_values", op, {"input": given(SPECIAL_VALUES)},
              tags + ["special_values", "nan", "inf"])
        f.add(f"{op}_float64_special_values", op, {"input": given(SPECIAL_VALUES, "float64")},
              tags + ["special_values", "float64"])
    f.add("relu_inplace_false", "relu", {"input": Uniform((3, 4), -3, 3), "inplace": False},
          ["elementwise", "unary", "relu", "inplace_arg"])
    f.add("relu_exact_zeros", "relu", {"input": given([[0.0, -0.0, 1.0], [-1.0, 0.0, 2.0]])},
          ["elementwise", "unary", "relu", "zero"])
    return f


BINARY_OPS = ("add", "sub", "mul", "div")


def binary_cases():
    """(label, args, tags) shared by every binary op; `other` is a tensor or Python scalar."""
    u = Uniform
    return [
        ("same_shape", {"input": u((3, 4)), "other": u((3, 4))}, []),
        ("broadcast_row", {"input": u((3, 4)), "other": u((4,))}, ["broadcast"]),
        ("broadcast_col_row", {"input": u((3, 1)), "other": u((1, 4))}, ["broadcast"]),
        ("broadcast_rank3", {"input": u((2, 3, 4)), "other": u((3, 1))}, ["broadcast"]),
        ("broadcast_input", {"input": u((4,)), "other": u((2, 3, 4))}, ["broadcast"]),
        ("other_0d", {"input": u((3, 4)), "other": u(())}, ["broadcast", "scalar_0d"]),
        ("both_0d", {"input": u(()), "other": u(())}, ["scalar_0d"]),
        ("scalar_float", {"input": u((3, 4)), "other": 2.5}, ["python_scalar"]),
        ("scalar_negative", {"input": u((2, 3)), "other": -0.75}, ["python_scalar"]),
        ("scalar_int", {"input": u((3, 4)), "other": 3}, ["python_scalar"]),
        ("empty", {"input": u((0, 3)), "other": u((3,))}, ["empty", "broadcast"]),
        ("float64", {"input": u((3, 4), dtype="float64"), "other": u((3, 4), dtype="float64")},
         ["float64"]),
        ("promote_float32_float64", {"input": u((3, 4)), "other": u((4,), dtype="float64")},
         ["type_promotion", "float64", "broadcast"]),
        ("int64_tensors", {"input": RandInt((3, 4), -5, 6), "other": RandInt((3, 4), 1, 5)},
         ["int64"]),
        ("int64_float_scalar", {"input": RandInt((3, 4), -5, 6), "other": 2.5},
         ["int64", "type_promotion", "python_scalar"]),
        ("large_channel_broadcast", {"input": u((2, 8, 12, 12)), "other": u((8, 1, 1))},
         ["broadcast", "large"]),
    ]


def binary_extra_cases(op):
    """(label, args, tags) specific to one op: alpha for add/sub, rounding modes for div."""
    u = Uniform
    if op in ("add", "sub"):
        return [
            ("alpha2", {"input": u((3, 4)), "other": u((3, 4)), "alpha": 2}, ["alpha"]),
            ("alpha_neg_fraction_broadcast", {"input": u((3, 4)), "other": u((4,)), "alpha": -0.5},
             ["alpha", "broadcast"]),
            ("alpha_scalar_other", {"input": u((3, 4)), "other": 1.5, "alpha": 3},
             ["alpha", "python_scalar"]),
            ("alpha_int64", {"input": RandInt((3, 4), -5, 6), "other": RandInt((3, 4), -5, 6),
                             "alpha": -2}, ["alpha", "int64"]),
        ]
    if op == "mul":
        return [("special_values", {"input": given(SPECIAL_VALUES),
                                    "other": given([0.0] * 8 + [2.0] * (len(SPECIAL_VALUES) - 8))}, ["special_values"])]
    if op == "div":
        zeros = given([[1.0, -1.0, 0.0, 2.0], [0.0, -0.0, 3.0, "nan"]])
        return [
            ("by_zero", {"input": given([[0.0, 1.5, 0.0, -2.0], [-1.0, 1.0, 0.5, 1.0]]),
                         "other": zeros}, ["special_values", "division_by_zero"]),
            ("rounding_trunc", {"input": u((3, 4), -5, 5), "other": u((3, 4), 0.5, 2),
                                "rounding_mode": "trunc"}, ["rounding_mode"]),
            ("rounding_floor", {"input": u((3, 4), -5, 5), "other": u((4,), -2, 2),
                                "rounding_mode": "floor"}, ["rounding_mode", "broadcast"]),
            ("rounding_none", {"input": u((3, 4)), "other": u((3, 4), 0.5, 2),
                               "rounding_mode": None}, ["rounding_mode"]),
            ("int64_true_division", {"input": RandInt((3, 4), -9, 10),
                                     "other": RandInt((3, 4), 1, 4)}, ["int64", "type_promotion"]),
            ("int64_rounding_floor", {"input": RandInt((3, 4), -9, 10),
                                      "other": RandInt((3, 4), 1, 4), "rounding_mode": "floor"},
             ["int64", "rounding_mode"]),
        ]
    return []


def binary_error_cases(op):
    u = Uniform
    cases = [("broadcast_mismatch", {"input": u((2, 3)), "other": u((4,))}, ["broadcast"]),
             ("broadcast_mismatch_rank3", {"input": u((2, 3, 4)), "other": u((3, 3, 1))},
              ["broadcast"])]
    if op in ("add", "sub"):
        cases.append(("alpha_float_int64", {"input": RandInt((2, 3), 0, 5),
                                            "other": RandInt((2, 3), 0, 5), "alpha": 0.5},
                      ["alpha", "int64"]))
    if op == "sub":
        cases.append(("bool_tensors", {"input": given([True, False], "bool"),
                                       "other": given([True, True], "bool")}, ["bool"]))
    if op == "div":
        cases.append(("invalid_rounding_mode", {"input": u((2, 3)), "other": u((2, 3)),
                                                "rounding_mode": "round"}, ["rounding_mode"]))
    return cases


def binary_file():
    f = FixtureFile("elementwise/binary")
    for op in BINARY_OPS:
        tags = ["elementwise", "binary", op]
        for label, args, extra in binary_cases() + binary_extra_cases(op):
            f.add(f"{op}_{label}", op, args, tags + extra)
        for label, args, extra in binary_error_cases(op):
            f.add(f"{op}_error_{label}", op, args, tags + ["error"] + extra, error=True)
    return f


def reduction_cases():
    """(label, args, tags) shared by sum and mean."""
    x3 = Uniform((3, 4, 5))
    return [
        ("full_matrix", {"input": Uniform((3, 4))}, ["full_reduction"]),
        ("full_rank4", {"input": Uniform((2, 3, 4, 5))}, ["full_reduction"]),
        ("full_vector", {"input": Uniform((7,))}, ["full_reduction"]),
        ("full_0d", {"input": Uniform(())}, ["full_reduction", "scalar_0d"]),
        ("dim0", {"input": x3, "dim": 0}, ["dim"]),
        ("dim1", {"input": x3, "dim": 1}, ["dim"]),
        ("dim2", {"input": x3, "dim": 2}, ["dim"]),
        ("dim_neg1", {"input": x3, "dim": -1}, ["dim", "negative_dim"]),
        ("dim_neg3", {"input": x3, "dim": -3}, ["dim", "negative_dim"]),
        ("dim_list", {"input": x3, "dim": [0, 2]}, ["dim_list"]),
        ("dim_list_negative", {"input": x3, "dim": [-1, 0]}, ["dim_list", "negative_dim"]),
        ("dim_list_all", {"input": x3, "dim": [0, 1, 2]}, ["dim_list"]),
        ("dim_list_single", {"input": x3, "dim": [1]}, ["dim_list"]),
        ("dim_empty_list", {"input": Uniform((3, 4)), "dim": []}, ["dim_list", "full_reduction"]),
        ("keepdim", {"input": x3, "dim": 1, "keepdim": True}, ["dim", "keepdim"]),
        ("keepdim_list", {"input": x3, "dim": [0, 2], "keepdim": True}, ["dim_list", "keepdim"]),
        ("keepdim_negative", {"input": x3, "dim": -1, "keepdim": True},
         ["dim", "negative_dim", "keepdim"]),
        ("keepdim_false", {"input": x3, "dim": 1, "keepdim": False}, ["dim", "keepdim"]),
        ("dim0_on_0d", {"input": Uniform(()), "dim": 0}, ["dim", "scalar_0d"]),
        ("dim_neg1_on_0d_keepdim", {"input": Uniform(()), "dim": -1, "keepdim": True},
         ["dim", "scalar_0d", "keepdim"]),
        ("dtype_float64", {"input": Uniform((3, 4)), "dtype": torch.float64}, ["dtype"]),
        ("dim_dtype_float64", {"input": x3, "dim": 1, "dtype": torch.float64}, ["dim", "dtype"]),
        ("float64", {"input": Uniform((3, 4, 5), dtype="float64"), "dim": [0, 2]},
         ["float64", "dim_list"]),
        ("float64_full", {"input": Uniform((3, 4), dtype="float64")}, ["float64"]),
        ("empty_dim0", {"input": Uniform((0, 3)), "dim": 0}, ["empty"]),
        ("empty_full", {"input": Uniform((0, 3))}, ["empty", "full_reduction"]),
        ("large_spatial_keepdim", {"input": Uniform((2, 8, 16, 16)), "dim": [2, 3],
                                   "keepdim": True}, ["large", "dim_list", "keepdim"]),
        ("large_full", {"input": Uniform((2, 3, 32, 32))}, ["large", "full_reduction"]),
    ]


def reduction_extra_cases(op):
    if op == "sum":
        return [
            ("int64_full", {"input": RandInt((3, 4), -10, 10)}, ["int64"]),
            ("int64_dim_keepdim", {"input": RandInt((3, 4, 5), -10, 10), "dim": 1,
                                   "keepdim": True}, ["int64", "dim", "keepdim"]),
            ("int64_dtype_float32", {"input": RandInt((3, 4), -10, 10), "dtype": torch.float32},
             ["int64", "dtype"]),
            ("special_values", {"input": given([[1.0, "inf", 2.0], [1.0, "nan", -1.0],
                                                ["inf", "-inf", 0.0]]), "dim": 1},
             ["special_values", "dim"]),
        ]
    return [
        ("int64_dtype_float32", {"input": RandInt((3, 4), -10, 10), "dtype": torch.float32},
         ["int64", "dtype"]),
        ("int64_dim_dtype_float64", {"input": RandInt((3, 4), -10, 10), "dim": 0,
                                     "dtype": torch.float64}, ["int64", "dtype", "dim"]),
    ]


def reduction_error_cases(op):
    x = Uniform((2, 3))
    cases = [
        ("dim_out_of_range", {"input": x, "dim": 2}, ["dim"]),
        ("dim_out_of_range_negative", {"input": x, "dim": -3}, ["dim", "negative_dim"]),
        ("dim_list_out_of_range", {"input": x, "dim": [0, 5]}, ["dim_list"]),
        ("dim_repeated", {"input": x, "dim": [1, -1]}, ["dim_list"]),
        ("dim1_on_0d", {"input": Uniform(()), "dim": 1}, ["scalar_0d"]),
    ]
    if op == "mean":
        cases.append(("int64_without_dtype", {"input": RandInt((2, 3), 0, 5)}, ["int64"]))
        cases.append(("int64_dim_without_dtype", {"input": RandInt((2, 3), 0, 5), "dim": 1},
                      ["int64", "dim"]))
    return cases


def reduction_file():
    f = FixtureFile("elementwise/reduction")
    for op in ("sum", "mean"):
        tags = ["reduction", op]
        for label, args, extra in reduction_cases() + reduction_extra_cases(op):
            f.add(f"{op}_{label}", op, args, tags + extra)
        for label, args, extra in reduction_error_cases(op):
            f.add(f"{op}_error_{label}", op, args, tags + ["error"] + extra, error=True)
    return f


def inplace_file():
    """The in-place tensor methods as single calls on tensors that do not require grad (their
    autograd rules are in autograd/inplace.json): the result is the updated input."""
    f = FixtureFile("elementwise/inplace")
    for op in UNARY_OPS:
        f.add(f"{op}_", f"{op}_", {"input": Uniform((3, 4), -3, 3)}, ["elementwise", "inplace", f"{op}_"], backward=False)
    for op in BINARY_OPS:
        tags = ["elementwise", "inplace", f"{op}_"]
        f.add(f"{op}_tensor_broadcast", f"{op}_", {"input": Uniform((3, 4), 0.5, 3), "other": Uniform((4,), 0.5, 3)},
              tags + ["broadcast"], backward=False)
        f.add(f"{op}_scalar_float64", f"{op}_", {"input": Uniform((3,), -3, 3, "float64"), "other": 1.5},
              tags + ["float64", "scalar"], backward=False)
        f.add(f"{op}_int64_with_float_error", f"{op}_", {"input": RandInt((3,), 1, 9), "other": 0.5},
              tags + ["int64", "error"], error=op in ("add", "sub", "mul", "div"))
        f.add(f"{op}_broadcast_changes_shape_error", f"{op}_", {"input": Uniform((4,)), "other": Uniform((3, 4))},
              tags + ["broadcast", "error"], error=True)
    for op in ("add", "sub"):
        f.add(f"{op}_alpha", f"{op}_", {"input": Uniform((2, 3)), "other": Uniform((2, 3)), "alpha": 2.5},
              ["elementwise", "inplace", f"{op}_", "alpha"], backward=False)
    for mode in ("trunc", "floor"):
        f.add(f"div_rounding_{mode}", "div_", {"input": Uniform((2, 3), -9, 9), "other": 2.5, "rounding_mode": mode},
              ["elementwise", "inplace", "div_", "rounding_mode"], backward=False)
        f.add(f"div_int64_rounding_{mode}", "div_", {"input": RandInt((5,), -9, 9), "other": RandInt((5,), 1, 4),
                                                     "rounding_mode": mode}, ["elementwise", "inplace", "div_", "int64"])
    return f


def build():
    return [unary_file(), binary_file(), reduction_file(), inplace_file()]
