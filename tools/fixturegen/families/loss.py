"""kl_div: `Fixtures/loss/kl_div.json`, and `LossCases`, which the other loss modules
(`loss_classification`, `loss_regression`, `loss_margin`) build their files with.

`input` is log-probabilities; `target` is probabilities (or log-probabilities with
`log_target=True`). Both require grad, so every case checks d/d input and d/d target.
"""

import numpy as np

from .. import rng
from ..cases import FixtureFile
from ..tensors import Given, Uniform

REDUCTIONS = ("none", "mean", "sum", "batchmean")
# The reductions of every other loss.
LOSS_REDUCTIONS = ("none", "mean", "sum")


class LossCases:
    """The cases of one loss op, written to `Fixtures/loss/<op>.json`. Floating inputs require
    grad unless their spec says otherwise; `warns` / errors are declared and checked by torch."""

    def __init__(self, op):
        self.op = op
        self.file = FixtureFile(f"loss/{op}")

    def case(self, name, tags=(), warns=False, **args):
        tags = ["loss", self.op, *tags] + (["warning"] if warns else [])
        self.file.add(name, self.op, args, tags, warns=warns)

    def error(self, name, tags=(), warns=False, **args):
        self.file.add(name, self.op, args, ["loss", self.op, "error", *tags], error=True, warns=warns)

    def reductions(self, prefix, tags=(), warns=False, **args):
        """One case per reduction, named `<prefix>_<reduction>`."""
        for r in LOSS_REDUCTIONS:
            self.case(f"{prefix}_{r}", [r, *tags], warns, reduction=r, **args)

    def legacy(self, make_args, get_enum=True):
        """`size_average=False` (sum), `reduce=False` (none), both given (the legacy pair wins
        over `reduction`), and where the op uses `_Reduction.get_enum`, `'elementwise_mean'`;
        each warns. `make_args()` gives fresh tensor arguments."""
        self.case("legacy_size_average_false", ["legacy_args", "sum"], True, size_average=False, **make_args())
        self.case("legacy_reduce_false", ["legacy_args", "none"], True, reduce=False, **make_args())
        self.case("legacy_overrides_reduction", ["legacy_args", "mean"], True, size_average=True, reduce=True,
                  reduction="sum", **make_args())
        if get_enum:
            self.case("legacy_reduction_elementwise_mean", ["legacy_args", "mean"], True,
                      reduction="elementwise_mean", **make_args())

    def invalid_reduction(self, make_args, name="error_invalid_reduction"):
        self.error(name, ["reduction"], reduction="avg", **make_args())


def log_probs(shape, dtype="float32"):
    return Uniform(shape, -4.0, 0.0, dtype)


def probs(shape, dtype="float32"):
    return Uniform(shape, 0.0, 1.0, dtype)


def probs_with_zeros(shape, seed, dtype="float32", every=3):
    """Probabilities where every `every`-th element is an exact 0 (written as data/b64)."""
    values = rng.uniform(shape, 0.0, 1.0, seed, np.dtype(dtype)).ravel()
    values[::every] = 0.0
    return Given(values.reshape(shape))


def kl_args(input, target, **params):
    return {"input": input, "target": target, **params}


def warns_for(params):
    """torch warns for reduction='mean' (given or default) and for any legacy argument
    (size_average, reduce, reduction='elementwise_mean')."""
    legacy = "size_average" in params or "reduce" in params
    return legacy or params.get("reduction", "mean") in ("mean", "elementwise_mean")


def cases():
    """(name, args, tags)."""
    shape = (3, 5)
    out = []
    for log_target in (False, True):
        target = log_probs(shape) if log_target else probs(shape)
        suffix = "_log_target" if log_target else ""
        for reduction in REDUCTIONS:
            out.append((f"{reduction}{suffix}", kl_args(log_probs(shape), target,
                                                        reduction=reduction,
                                                        log_target=log_target),
                        [reduction] + (["log_target"] if log_target else [])))
    for reduction in REDUCTIONS:
        out.append((f"zero_targets_{reduction}",
                    kl_args(log_probs((4, 6)), probs_with_zeros((4, 6), seed=11 + len(out)),
                            reduction=reduction), [reduction, "zero_target"]))
        out.append((f"float64_{reduction}",
                    kl_args(log_probs((3, 5), "float64"), probs((3, 5), "float64"),
                            reduction=reduction), [reduction, "float64"]))
    out += [
        ("float64_log_target_batchmean",
         kl_args(log_probs((3, 5), "float64"), log_probs((3, 5), "float64"),
                 reduction="batchmean", log_target=True), ["batchmean", "log_target", "float64"]),
        ("float64_zero_targets_sum",
         kl_args(log_probs((4, 6), "float64"), probs_with_zeros((4, 6), 41, "float64"),
                 reduction="sum"), ["sum", "zero_target", "float64"]),
        ("default_reduction", kl_args(log_probs(shape), probs(shape)), ["mean", "default"]),
        ("vector_batchmean", kl_args(log_probs((7,)), probs((7,)), reduction="batchmean"),
         ["batchmean", "rank1"]),
        ("rank3_batchmean", kl_args(log_probs((2, 3, 4)), probs((2, 3, 4)),
                                    reduction="batchmean"), ["batchmean", "rank3"]),
        ("rank4_none_log_target", kl_args(log_probs((2, 3, 2, 2)), log_probs((2, 3, 2, 2)),
                                          reduction="none", log_target=True),
         ["none", "rank4", "log_target"]),
        ("scalar_0d_sum", kl_args(log_probs(()), probs(()), reduction="sum"), ["sum", "scalar_0d"]),
        ("large_batchmean", kl_args(log_probs((16, 100)), probs_with_zeros((16, 100), 53),
                                    reduction="batchmean"), ["batchmean", "large", "zero_target"]),
        # Legacy arguments map onto `reduction` and warn.
        ("legacy_size_average_false", kl_args(log_probs(shape), probs(shape), size_average=False),
         ["legacy_args", "sum"]),
        ("legacy_reduce_false", kl_args(log_probs(shape), probs(shape), reduce=False),
         ["legacy_args", "none"]),
        ("legacy_size_average_true_reduce_true",
         kl_args(log_probs(shape), probs(shape), size_average=True, reduce=True),
         ["legacy_args", "mean"]),
        ("legacy_overrides_reduction",
         kl_args(log_probs(shape), probs(shape), size_average=False, reduction="none"),
         ["legacy_args", "sum"]),
        ("legacy_reduction_elementwise_mean",
         kl_args(log_probs(shape), probs(shape), reduction="elementwise_mean"),
         ["legacy_args", "mean"]),
    ]
    return out


def error_cases():
    return [
        ("error_invalid_reduction", kl_args(log_probs((3, 5)), probs((3, 5)), reduction="avg")),
        ("error_invalid_reduction_empty", kl_args(log_probs((3, 5)), probs((3, 5)), reduction="")),
    ]


def build():
    f = FixtureFile("loss/kl_div")
    for name, args, tags in cases():
        params = {k: v for k, v in args.items() if k not in ("input", "target")}
        warns = warns_for(params)
        f.add(name, "kl_div", args, ["loss", "kl_div"] + tags + (["warning"] if warns else []),
              warns=warns)
    for name, args in error_cases():
        f.add(name, "kl_div", args, ["loss", "kl_div", "error", "reduction"], error=True)
    return [f]
