"""softmax / log_softmax / softmin: `Fixtures/softmax/<op>.json` and `softmax/errors.json`."""

import torch

from ..cases import FixtureFile
from ..tensors import RandInt, Uniform, given

OPS = ("softmax", "log_softmax", "softmin")
RANK_SHAPES = {0: (), 1: (6,), 2: (3, 5), 3: (2, 3, 4), 4: (2, 3, 4, 5)}


def dim_name(dim):
    return f"dim{dim}" if dim >= 0 else f"dim_neg{-dim}"


def every_dim():
    """(label, args, tags): every dim, positive and negative, of ranks 0 to 4."""
    for rank, shape in RANK_SHAPES.items():
        for dim in range(-max(rank, 1), max(rank, 1)):
            tags = ["dim"] + (["negative_dim"] if dim < 0 else [])
            tags += ["scalar_0d"] if rank == 0 else []
            yield f"rank{rank}_{dim_name(dim)}", {"input": Uniform(shape, -3, 3), "dim": dim}, tags


def implicit_dim():
    """No `dim`: torch picks 0 for ranks 0, 1, 3 and 1 otherwise, and warns."""
    for rank, shape in RANK_SHAPES.items():
        yield f"implicit_dim_rank{rank}", {"input": Uniform(shape, -3, 3)}, ["implicit_dim"]


def spread_logits(shape, dim, dtype="float32", sign=1.0):
    """Logits around +1e4 (0.5 apart, exact in float32) with one −1e4 per group along `dim`;
    `sign` −1 mirrors them (softmin, which is softmax of −x)."""
    rows, cols = shape
    def value(r, c):
        along, across = (c, r) if dim == 1 else (r, c)
        return -1e4 if along == across % (shape[dim]) else 1e4 - 0.5 * ((3 * r + 2 * c) % 7)
    return given([[sign * value(r, c) for c in range(cols)] for r in range(rows)], dtype)


def special_cases(op):
    """(label, args, tags, warns) for numerics and argument variants."""
    masked = given([[0.5, "-inf", 1.0, "-inf"], ["-inf", "-inf", "-inf", "-inf"],
                    [2.0, 1.0, "inf", 0.0]])
    sign = -1.0 if op == "softmin" else 1.0
    return [
        # ±1e4 logits: in each softmax group one at −1e4 (probability exactly 0) and the rest
        # near +1e4, a few apart, so that probabilities and gradients stay informative.
        ("stability_logits_1e4", {"input": spread_logits((4, 5), 1, sign=sign), "dim": 1}, ["stability", "large_logits"]),
        ("stability_logits_1e4_dim0", {"input": spread_logits((6, 3), 0, sign=sign), "dim": 0},
         ["stability", "large_logits"]),
        ("stability_close_large_logits", {"input": Uniform((3, 8), 9990, 10000), "dim": -1},
         ["stability", "large_logits"]),
        ("stability_float64_logits_1e4", {"input": spread_logits((3, 5), 1, "float64", sign),
                                          "dim": 1}, ["stability", "large_logits", "float64"]),
        ("masked_inf", {"input": masked, "dim": 1}, ["special_values", "inf"]),
        ("float64", {"input": Uniform((3, 5), -3, 3, "float64"), "dim": 1}, ["float64"]),
        ("float64_rank3_dim0", {"input": Uniform((2, 3, 4), -3, 3, "float64"), "dim": 0},
         ["float64", "dim"]),
        ("dtype_float64", {"input": Uniform((3, 5), -3, 3), "dim": 1, "dtype": torch.float64},
         ["dtype"]),
        ("dtype_float32_from_float64", {"input": Uniform((3, 5), -3, 3, "float64"), "dim": 0,
                                        "dtype": torch.float32}, ["dtype", "float64"]),
        ("int64_with_dtype_float32", {"input": RandInt((3, 5), -4, 4), "dim": 1,
                                      "dtype": torch.float32}, ["dtype", "int64"]),
        ("size1_dim", {"input": Uniform((4, 1), -3, 3), "dim": 1}, ["size_1"]),
        ("empty", {"input": Uniform((0, 4), -3, 3), "dim": 1}, ["empty"]),
        ("large", {"input": Uniform((2, 8, 16, 16), -5, 5), "dim": 1}, ["large"]),
        ("large_lastdim", {"input": Uniform((32, 100), -5, 5), "dim": -1}, ["large"]),
    ]


def op_file(op):
    f = FixtureFile(f"softmax/{op}")
    base = ["softmax_family", op]
    for label, args, tags in every_dim():
        f.add(label, op, args, base + tags)
    for label, args, tags in implicit_dim():
        f.add(label, op, args, base + tags + ["warning"], warns=True)
    for label, args, tags in special_cases(op):
        f.add(label, op, args, base + tags)
    return f


def error_cases():
    return [
        ("dim_out_of_range", {"input": Uniform((2, 3)), "dim": 2}),
        ("dim_out_of_range_negative", {"input": Uniform((2, 3)), "dim": -3}),
        ("dim_out_of_range_rank4", {"input": Uniform((2, 3, 2, 2)), "dim": 4}),
        ("dim1_on_0d", {"input": Uniform(()), "dim": 1}),
        ("dim_neg2_on_0d", {"input": Uniform(()), "dim": -2}),
        ("int64_without_dtype", {"input": RandInt((2, 3), 0, 5), "dim": 1}),
    ]


def errors_file():
    f = FixtureFile("softmax/errors")
    for op in OPS:
        for label, args in error_cases():
            f.add(f"{op}_{label}", op, args, ["softmax_family", op, "error"], error=True)
    return f


def build():
    return [op_file(op) for op in OPS] + [errors_file()]
