"""Regression and likelihood losses: `Fixtures/loss/{mse_loss,l1_loss,smooth_l1_loss,huber_loss,
binary_cross_entropy,binary_cross_entropy_with_logits,poisson_nll_loss,gaussian_nll_loss}.json`.

Input and target both require grad (PyTorch differentiates every one of these losses in its
target); elementwise weights require grad where PyTorch allows it (`mse_loss`, `l1_loss`,
`huber_loss`, `gaussian_nll_loss`'s var) and not where it refuses (the BCE weights: error cases).
"""

from ..tensors import Uniform, given
from .loss import LossCases

SIZE_WARNING = "size_warning"


def values(shape, dtype="float32", lo=-2.0, hi=2.0, requires_grad=None):
    return Uniform(shape, lo, hi, dtype, requires_grad)


def fixed_weight(shape, dtype="float32"):
    return Uniform(shape, 0.2, 2.0, dtype, requires_grad=False)


def distance_loss(op, parameter=None, settings=(), weighted=True):
    """mse / l1 / smooth_l1 / huber: every reduction (per `settings` of β or δ), broadcasting with
    its warning, weights, dtypes, legacy arguments, and the shared errors."""
    c = LossCases(op)
    c.reductions("basic", input=values((3, 5)), target=values((3, 5)))
    for setting in settings:
        label = str(setting).replace(".", "_")
        c.reductions(f"{parameter}_{label}", [parameter], input=values((4, 5)), target=values((4, 5)),
                     **{parameter: setting})
    c.reductions("broadcast_target", ["broadcast", SIZE_WARNING], warns=True, input=values((3, 5)),
                 target=values((5,)))
    c.case("broadcast_input_sum", ["broadcast", "sum"], warns=True, input=values((4, 1)), target=values((2, 4, 3)),
           reduction="sum")
    if weighted:
        c.reductions("weight", ["weight"], input=values((3, 5)), target=values((3, 5)),
                     weight=Uniform((3, 5), 0.1, 1.0))
        c.case("weight_broadcast_target_mean", ["weight", "broadcast", "mean"], warns=True, input=values((3, 5)),
               target=values((5,)), weight=Uniform((3, 5), 0.1, 1.0))
        c.error("error_weight_size", ["weight"], input=values((3, 5)), target=values((3, 5)),
                weight=fixed_weight((5,)))
        c.error("error_weight_invalid_reduction", ["weight", "reduction"], input=values((3, 5)),
                target=values((3, 5)), weight=fixed_weight((3, 5)), reduction="avg")
    c.reductions("float64", ["float64"], input=values((3, 4), "float64"), target=values((3, 4), "float64"))
    c.case("scalar_0d_mean", ["scalar_0d", "mean"], input=values(()), target=values(()))
    c.case("large_mean", ["large", "mean"], input=values((16, 50)), target=values((16, 50)))
    if op != "huber_loss":
        c.legacy(lambda: {"input": values((3, 4)), "target": values((3, 4))})
    c.invalid_reduction(lambda: {"input": values((3, 4)), "target": values((3, 4))})
    c.error("error_broadcast", ["broadcast"], warns=True, input=values((3, 4)), target=values((3,)))
    return c


def mse_loss():
    c = distance_loss("mse_loss")
    c.case("mixed_dtype_mean", ["dtype", "mean"], input=values((3, 4)), target=values((3, 4), "float64"))
    c.case("weight_legacy_sum", ["weight", "legacy_args", "sum"], warns=True, input=values((3, 4)),
           target=values((3, 4)), weight=Uniform((3, 4), 0.1, 1.0), size_average=False)
    return c.file


def l1_loss():
    c = distance_loss("l1_loss")
    c.case("mixed_dtype_none", ["dtype", "none"], input=values((3, 4), "float64"), target=values((3, 4)),
           reduction="none")
    return c.file


def smooth_l1_loss():
    c = distance_loss("smooth_l1_loss", "beta", (0.5, 2.0, 0.0), weighted=False)
    c.error("error_negative_beta", input=values((3, 4)), target=values((3, 4)), beta=-1.0)
    return c.file


def huber_loss():
    c = distance_loss("huber_loss", "delta", (0.5, 2.0))
    c.reductions("weight_delta_0_5", ["weight", "delta"], input=values((3, 5)), target=values((3, 5)),
                 weight=Uniform((3, 5), 0.1, 1.0), delta=0.5)
    c.error("error_delta_zero", input=values((3, 4)), target=values((3, 4)), delta=0.0)
    c.error("error_negative_delta_weight", ["weight"], input=values((3, 4)), target=values((3, 4)),
            weight=fixed_weight((3, 4)), delta=-1.0)
    return c.file


def binary_cross_entropy():
    c = LossCases("binary_cross_entropy")
    probs = lambda shape, dtype="float32", requires_grad=None: Uniform(shape, 0.02, 0.98, dtype, requires_grad)  # noqa: E731
    c.reductions("basic", input=probs((4, 5)), target=probs((4, 5)))
    c.reductions("weight_broadcast", ["weight"], input=probs((4, 5)), target=probs((4, 5)), weight=fixed_weight((5,)))
    c.case("weight_full", ["weight", "mean"], input=probs((3, 4)), target=probs((3, 4)), weight=fixed_weight((3, 4)))
    # log clamped at −100 where the input is exactly 0 or 1 (and the target gradient is ±inf).
    c.reductions("exact_0_and_1", ["clamp"], input=given([0.0, 1.0, 0.5, 1.0, 0.0, 0.25]),
                 target=given([0.0, 1.0, 1.0, 0.0, 1.0, 0.5]))
    c.reductions("float64", ["float64"], input=probs((3, 4), "float64"), target=probs((3, 4), "float64"))
    c.case("scalar_0d_sum", ["scalar_0d", "sum"], input=probs(()), target=probs(()), reduction="sum")
    c.legacy(lambda: {"input": probs((3, 4)), "target": probs((3, 4))})

    fixed = lambda shape=(3, 4): probs(shape, requires_grad=False)  # noqa: E731
    c.invalid_reduction(lambda: {"input": fixed(), "target": fixed()})
    c.error("error_input_above_1", input=given([0.5, 1.5]), target=given([0.5, 0.5]))
    c.error("error_input_nan", input=given(["nan", 0.5]), target=given([0.5, 0.5]))
    c.error("error_target_above_1", input=given([0.5, 0.5]), target=given([0.5, 1.5]))
    c.error("error_size_mismatch", input=fixed((3,)), target=fixed((3, 1)))
    c.error("error_weight_not_broadcastable", ["weight"], input=fixed(), target=fixed(), weight=fixed_weight((3,)))
    c.error("error_weight_broadcasts_past_input", ["weight"], input=fixed(), target=fixed(),
            weight=fixed_weight((2, 3, 4)))
    c.error("error_weight_requires_grad", ["weight"], input=fixed(), target=fixed(),
            weight=Uniform((4,), 0.2, 2.0, requires_grad=True))
    c.error("error_target_dtype", ["dtype"], input=fixed(), target=probs((3, 4), "float64", False))
    return c.file


def binary_cross_entropy_with_logits():
    c = LossCases("binary_cross_entropy_with_logits")
    logits = lambda shape, dtype="float32", requires_grad=None: values(shape, dtype, -4.0, 4.0, requires_grad)  # noqa: E731
    probs = lambda shape, dtype="float32": Uniform(shape, 0.0, 1.0, dtype)  # noqa: E731
    c.reductions("basic", input=logits((4, 5)), target=probs((4, 5)))
    c.reductions("weight", ["weight"], input=logits((4, 5)), target=probs((4, 5)), weight=fixed_weight((5,)))
    c.reductions("pos_weight", ["pos_weight"], input=logits((4, 5)), target=probs((4, 5)),
                 pos_weight=fixed_weight((5,)))
    c.reductions("weight_pos_weight", ["weight", "pos_weight"], input=logits((3, 4)), target=probs((3, 4)),
                 weight=fixed_weight((3, 4)), pos_weight=fixed_weight((4,)))
    # Saturating logits next to ordinary ones, so that the gradient is not mostly exact zeros.
    extreme = given([[100.0, -100.0, 1e4, -1e4, 0.5, -1.5], [30.0, -30.0, 0.0, 88.0, 2.0, -0.25]])
    extreme_target = given([[1.0, 0.0, 0.5, 1.0, 0.3, 0.7], [0.0, 1.0, 0.5, 0.25, 0.9, 0.1]])
    c.reductions("extreme_logits", ["extreme"], input=extreme, target=extreme_target)
    c.case("extreme_logits_pos_weight", ["extreme", "pos_weight", "none"], input=extreme,
           target=extreme_target, pos_weight=fixed_weight((6,)),
           reduction="none")
    c.reductions("float64_pos_weight", ["float64", "pos_weight"], input=logits((3, 4), "float64"),
                 target=probs((3, 4), "float64"), pos_weight=fixed_weight((4,), "float64"))
    c.legacy(lambda: {"input": logits((3, 4)), "target": probs((3, 4))})

    fixed = lambda shape=(3, 4): logits(shape, requires_grad=False)  # noqa: E731
    c.invalid_reduction(lambda: {"input": fixed(), "target": fixed()})
    c.error("error_size_mismatch", input=fixed((3,)), target=fixed((3, 1)))
    c.error("error_pos_weight_not_broadcastable", ["pos_weight"], input=fixed(), target=fixed(),
            pos_weight=fixed_weight((3,)))
    c.error("error_weight_not_broadcastable", ["weight"], input=fixed(), target=fixed(), weight=fixed_weight((3,)))
    c.error("error_weight_broadcasts_past_input", ["weight"], input=fixed(), target=fixed(),
            weight=fixed_weight((2, 3, 4)))
    c.error("error_weight_requires_grad", ["weight"], input=fixed(), target=fixed(),
            weight=Uniform((4,), 0.2, 2.0, requires_grad=True))
    c.error("error_pos_weight_requires_grad", ["pos_weight"], input=fixed(), target=fixed(),
            pos_weight=Uniform((4,), 0.2, 2.0, requires_grad=True))
    return c.file


def poisson_nll_loss():
    c = LossCases("poisson_nll_loss")
    counts = lambda shape, dtype="float32": Uniform(shape, 0.0, 5.0, dtype)  # noqa: E731
    rates = lambda shape, dtype="float32": Uniform(shape, 0.1, 3.0, dtype)  # noqa: E731
    c.reductions("log_input", input=values((4, 5)), target=counts((4, 5)))
    c.reductions("rate_input", ["log_input_false"], input=rates((4, 5)), target=counts((4, 5)), log_input=False)
    c.reductions("full", ["full"], input=values((4, 5)), target=counts((4, 5)), full=True)
    c.reductions("rate_input_full", ["log_input_false", "full"], input=rates((4, 5)), target=counts((4, 5)),
                 log_input=False, full=True)
    c.case("rate_input_eps", ["log_input_false", "eps", "mean"], input=given([0.0, 1e-3, 0.5, 2.0]),
           target=given([1.0, 2.0, 0.0, 3.0]), log_input=False, eps=0.01)
    c.case("broadcast_target", ["broadcast", "mean"], input=values((3, 4)), target=counts((4,)))
    c.reductions("float64_full", ["float64", "full"], input=values((3, 4), "float64"),
                 target=counts((3, 4), "float64"), full=True)
    c.legacy(lambda: {"input": values((3, 4)), "target": counts((3, 4))}, get_enum=False)
    c.invalid_reduction(lambda: {"input": values((3, 4)), "target": counts((3, 4))})
    c.error("error_elementwise_mean", ["reduction"], input=values((3, 4)), target=counts((3, 4)),
            reduction="elementwise_mean")
    return c.file


def gaussian_nll_loss():
    c = LossCases("gaussian_nll_loss")
    var = lambda shape, dtype="float32", requires_grad=None: Uniform(shape, 0.1, 2.0, dtype, requires_grad)  # noqa: E731
    c.reductions("heteroscedastic", input=values((4, 3)), target=values((4, 3)), var=var((4, 3)))
    c.reductions("homoscedastic_one_dim_short", ["var_broadcast"], input=values((4, 3)), target=values((4, 3)),
                 var=var((4,)))
    c.reductions("var_column", ["var_broadcast"], input=values((4, 3)), target=values((4, 3)), var=var((4, 1)))
    c.case("var_row_sum", ["var_broadcast", "sum"], input=values((4, 3)), target=values((4, 3)), var=var((1, 3)),
           reduction="sum")
    c.reductions("var_float", ["var_float"], input=values((4, 3)), target=values((4, 3)), var=0.5)
    c.reductions("full", ["full"], input=values((4, 3)), target=values((4, 3)), var=var((4, 3)), full=True)
    c.reductions("clamped_by_eps", ["eps"], input=values((4, 3)), target=values((4, 3)),
                 var=Uniform((4, 3), 0.0, 0.3), eps=0.1)
    c.case("unbatched_var_0d", ["var_broadcast", "mean"], input=values((5,)), target=values((5,)), var=var(()))
    c.case("broadcast_target", ["broadcast", "mean"], input=values((4, 3)), target=values((3,)), var=var((4, 3)))
    c.reductions("float64", ["float64"], input=values((3, 4), "float64"), target=values((3, 4), "float64"),
                 var=var((3, 4), "float64"))
    fixed = lambda shape=(3, 4): values(shape, requires_grad=False)  # noqa: E731
    c.invalid_reduction(lambda: {"input": fixed(), "target": fixed(), "var": var((3, 4), requires_grad=False)})
    c.error("error_negative_var_float", input=fixed(), target=fixed(), var=-1.0)
    c.error("error_negative_var_tensor", input=fixed(), target=fixed(), var=given([1.0, -1.0, 1.0, 1.0]))
    c.error("error_var_size", input=fixed(), target=fixed(), var=var((2, 4), requires_grad=False))
    c.error("error_var_two_mismatched_dims", input=fixed(), target=fixed(), var=var((1, 1), requires_grad=False))
    c.error("error_var_last_dim_only", input=fixed(), target=fixed(), var=var((4,), requires_grad=False))
    return c.file


def build():
    return [mse_loss(), l1_loss(), smooth_l1_loss(), huber_loss(), binary_cross_entropy(),
            binary_cross_entropy_with_logits(), poisson_nll_loss(), gaussian_nll_loss()]
