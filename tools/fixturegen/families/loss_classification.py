"""Classification losses: `Fixtures/loss/{nll_loss,cross_entropy,multi_margin_loss,
multilabel_margin_loss}.json`.

Inputs are SplitMix64 logits (or log-probabilities for nll_loss); class-index targets are
`randint` or written out where a case needs ignored or out-of-range entries. Weights and
class-index targets never require grad (PyTorch refuses a weight that does, which is an error
case); probability targets and `cross_entropy`'s probability-case weight do.
"""

from ..tensors import RandInt, Uniform, given
from .loss import LossCases


def logits(shape, dtype="float32", lo=-3.0, hi=3.0):
    return Uniform(shape, lo, hi, dtype)


def classes(shape, n):
    return RandInt(shape, 0, n)


def class_weight(n, dtype="float32", requires_grad=False):
    return Uniform((n,), 0.2, 2.0, dtype, requires_grad=requires_grad)


def targets(values):
    return given(values, "int64")


def nll_loss():
    c = LossCases("nll_loss")
    log_probs = lambda shape, dtype="float32": Uniform(shape, -4.0, 0.0, dtype)  # noqa: E731
    with_ignored = targets([1, 3, -100, 0, 2, -100])
    c.reductions("basic", input=log_probs((5, 4)), target=classes((5,), 4))
    c.reductions("weight", ["weight"], input=log_probs((6, 4)), target=classes((6,), 4), weight=class_weight(4))
    c.reductions("default_ignore_index", ["ignore_index"], input=log_probs((6, 4)), target=with_ignored)
    c.reductions("ignore_index_1", ["ignore_index"], input=log_probs((6, 4)), target=targets([1, 3, 1, 0, 2, 1]),
                 ignore_index=1)
    c.reductions("weight_ignore_index", ["weight", "ignore_index"], input=log_probs((6, 4)),
                 target=targets([1, 3, 1, 0, 2, 1]), weight=class_weight(4), ignore_index=1)
    c.reductions("all_ignored", ["ignore_index", "nan"], input=log_probs((3, 4)), target=targets([-100] * 3))
    c.reductions("weight_all_ignored", ["weight", "ignore_index", "nan"], input=log_probs((3, 4)),
                 target=targets([2, 2, 2]), weight=class_weight(4), ignore_index=2)
    c.case("ignore_index_out_of_range", ["ignore_index", "mean"], input=log_probs((4, 3)),
           target=targets([7, 0, 7, 2]), ignore_index=7)
    c.reductions("unbatched", ["unbatched"], input=log_probs((5,)), target=given(3, "int64"))
    c.case("unbatched_ignored_mean", ["unbatched", "ignore_index", "nan"], input=log_probs((5,)),
           target=given(-100, "int64"))
    # K-dim targets: the seeds' NLLLoss2d (4-D input, 3-D target), then 3-D and 5-D.
    c.reductions("spatial_2d", ["kdim"], input=log_probs((2, 3, 4, 5)), target=classes((2, 4, 5), 3))
    c.reductions("spatial_2d_weight_ignore", ["kdim", "weight", "ignore_index"], input=log_probs((2, 3, 3, 3)),
                 target=targets([[[0, 1, 2], [2, -1, 0], [1, 1, -1]], [[-1, 0, 0], [2, 2, 1], [0, -1, 2]]]),
                 weight=class_weight(3), ignore_index=-1)
    c.reductions("spatial_1d", ["kdim"], input=log_probs((3, 4, 5)), target=classes((3, 5), 4))
    c.reductions("spatial_3d", ["kdim"], input=log_probs((2, 3, 2, 3, 2)), target=classes((2, 2, 3, 2), 3))
    c.case("spatial_1d_weight_sum", ["kdim", "weight", "sum"], input=log_probs((2, 4, 6)),
           target=classes((2, 6), 4), weight=class_weight(4), reduction="sum")
    c.reductions("float64_weight", ["float64", "weight"], input=log_probs((5, 3), "float64"), target=classes((5,), 3),
                 weight=class_weight(3, "float64"))
    for r in ("mean", "sum"):  # past 16 samples ATen's cascade summation starts flushing levels
        c.case(f"large_weight_{r}", ["large", "weight", r], input=log_probs((300, 10)), target=classes((300,), 10),
               weight=class_weight(10), reduction=r)
        c.case(f"large_spatial_{r}", ["large", "kdim", r], input=log_probs((2, 5, 16, 16)),
               target=classes((2, 16, 16), 5), reduction=r)
    c.case("empty_batch_mean", ["empty", "mean", "nan"], input=log_probs((0, 3)), target=targets([]))
    c.case("empty_batch_sum", ["empty", "sum"], input=log_probs((0, 3)), target=targets([]), reduction="sum")
    c.legacy(lambda: {"input": log_probs((4, 3)), "target": classes((4,), 3)})

    c.invalid_reduction(lambda: {"input": log_probs((4, 3)), "target": classes((4,), 3)})
    c.error("error_0d_input", input=Uniform((), -1, 0), target=given(0, "int64"))
    c.error("error_batch_mismatch", input=log_probs((3, 4)), target=targets([1, 2]))
    c.error("error_unbatched_target_size", input=log_probs((4,)), target=targets([1, 2]))
    c.error("error_2d_target", input=log_probs((3, 4)), target=classes((3, 2), 4))
    c.error("error_empty_batch_0d_target", input=log_probs((0, 4)), target=given(0, "int64"))
    c.error("error_target_out_of_bounds", ["index"], input=log_probs((3, 4)), target=targets([1, 4, 0]))
    c.error("error_negative_target", ["index"], input=log_probs((3, 4)), target=targets([1, -1, 0]))
    c.error("error_target_out_of_bounds_none", ["index"], input=log_probs((3, 4)), target=targets([1, 2, 9]),
            reduction="none")
    c.error("error_spatial_target_out_of_bounds", ["index", "kdim"], input=log_probs((1, 3, 2, 2)),
            target=targets([[[0, 1], [3, 0]]]))
    c.error("error_weight_size", ["weight"], input=log_probs((3, 4)), target=classes((3,), 4), weight=class_weight(3))
    c.error("error_weight_dtype", ["weight"], input=log_probs((3, 4)), target=classes((3,), 4),
            weight=class_weight(4, "float64"))
    c.error("error_weight_requires_grad", ["weight"], input=log_probs((3, 4)), target=classes((3,), 4),
            weight=class_weight(4, requires_grad=True))
    c.error("error_spatial_weight_requires_grad", ["weight", "kdim"], input=log_probs((1, 3, 2, 2)),
            target=classes((1, 2, 2), 3), weight=class_weight(3, requires_grad=True))
    c.error("error_float_target", input=log_probs((3, 4)), target=Uniform((3,), 0, 3, requires_grad=False))
    c.error("error_spatial_target_rank", ["kdim"], input=log_probs((2, 3, 4, 5)), target=classes((2, 4), 3))
    c.error("error_spatial_target_size", ["kdim"], input=log_probs((2, 3, 4, 5)), target=classes((2, 4, 4), 3))
    c.error("error_spatial_weight_size", ["kdim", "weight"], input=log_probs((2, 3, 2, 2)),
            target=classes((2, 2, 2), 3), weight=class_weight(2))
    c.error("error_spatial_1d_target_size", ["kdim"], input=log_probs((2, 3, 4)), target=classes((2, 5), 3))
    return c.file


def cross_entropy():
    c = LossCases("cross_entropy")
    probs = lambda shape, dtype="float32": Uniform(shape, 0.0, 1.0, dtype)  # noqa: E731
    ignored = targets([1, 3, -100, 0, 2, -100])
    c.reductions("indices", input=logits((5, 4)), target=classes((5,), 4))
    c.reductions("indices_weight", ["weight"], input=logits((6, 4)), target=classes((6,), 4), weight=class_weight(4))
    c.reductions("indices_ignore_index", ["ignore_index"], input=logits((6, 4)), target=ignored)
    c.reductions("label_smoothing", ["label_smoothing"], input=logits((5, 4)), target=classes((5,), 4),
                 label_smoothing=0.1)
    c.reductions("label_smoothing_weight", ["label_smoothing", "weight"], input=logits((6, 4)),
                 target=classes((6,), 4), weight=class_weight(4), label_smoothing=0.25)
    c.reductions("label_smoothing_ignore_index", ["label_smoothing", "ignore_index"], input=logits((6, 4)),
                 target=ignored, label_smoothing=0.2)
    c.reductions("label_smoothing_weight_ignore_index", ["label_smoothing", "weight", "ignore_index"],
                 input=logits((6, 4)), target=targets([1, 3, 1, 0, 2, 1]), weight=class_weight(4),
                 ignore_index=1, label_smoothing=0.3)
    c.case("label_smoothing_all_ignored_mean", ["label_smoothing", "ignore_index", "nan", "mean"],
           input=logits((3, 4)), target=targets([-100] * 3), label_smoothing=0.1)
    c.case("label_smoothing_one", ["label_smoothing", "mean"], input=logits((4, 3)), target=classes((4,), 3),
           label_smoothing=1.0)
    c.case("label_smoothing_negative_ignored", ["label_smoothing", "mean"], input=logits((4, 3)),
           target=classes((4,), 3), label_smoothing=-0.5)
    c.reductions("probabilities", ["probabilities"], input=logits((5, 4)), target=probs((5, 4)))
    c.reductions("probabilities_weight", ["probabilities", "weight"], input=logits((5, 4)), target=probs((5, 4)),
                 weight=class_weight(4, requires_grad=True))
    c.reductions("probabilities_label_smoothing", ["probabilities", "label_smoothing"], input=logits((5, 4)),
                 target=probs((5, 4)), label_smoothing=0.2)
    c.reductions("probabilities_label_smoothing_weight", ["probabilities", "label_smoothing", "weight"],
                 input=logits((5, 4)), target=probs((5, 4)), weight=class_weight(4), label_smoothing=0.15)
    c.reductions("probabilities_spatial", ["probabilities", "kdim"], input=logits((2, 3, 2, 3)),
                 target=probs((2, 3, 2, 3)), weight=class_weight(3, requires_grad=True))
    c.case("probabilities_unbatched", ["probabilities", "unbatched", "mean"], input=logits((5,)), target=probs((5,)))
    c.reductions("spatial_2d", ["kdim"], input=logits((2, 3, 4, 5)), target=classes((2, 4, 5), 3))
    c.reductions("spatial_label_smoothing_weight_ignore", ["kdim", "label_smoothing", "weight", "ignore_index"],
                 input=logits((2, 3, 2, 3)), target=targets([[[0, 1, 2], [2, -1, 0]], [[-1, 0, 0], [2, 2, 1]]]),
                 weight=class_weight(3), ignore_index=-1, label_smoothing=0.1)
    c.reductions("spatial_1d_label_smoothing", ["kdim", "label_smoothing"], input=logits((3, 4, 5)),
                 target=classes((3, 5), 4), label_smoothing=0.2)
    c.reductions("unbatched", ["unbatched"], input=logits((5,)), target=given(2, "int64"))
    c.case("unbatched_label_smoothing_none", ["unbatched", "label_smoothing", "none"], input=logits((5,)),
           target=given(2, "int64"), label_smoothing=0.1, reduction="none")
    extreme = given([[1e4, -1e4, 0.0], [-3e4, 3e4, 3e4], [50.0, 60.0, -70.0]])
    c.case("extreme_logits", ["extreme", "mean"], input=extreme, target=targets([0, 1, 2]))
    c.case("extreme_logits_probabilities", ["extreme", "probabilities", "sum"], input=extreme,
           target=given([[0.5, 0.25, 0.25], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]), reduction="sum")
    c.case("extreme_logits_label_smoothing", ["extreme", "label_smoothing", "none"], input=extreme,
           target=targets([0, 1, 2]), label_smoothing=0.1, reduction="none")
    c.reductions("float64_label_smoothing_weight", ["float64", "label_smoothing", "weight"],
                 input=logits((5, 3), "float64"), target=classes((5,), 3), weight=class_weight(3, "float64"),
                 label_smoothing=0.2)
    c.case("float64_probabilities", ["float64", "probabilities", "mean"], input=logits((4, 3), "float64"),
           target=probs((4, 3), "float64"))
    c.case("large_mean", ["large", "mean"], input=logits((64, 10)), target=classes((64,), 10))
    c.legacy(lambda: {"input": logits((4, 3)), "target": classes((4,), 3)})

    c.invalid_reduction(lambda: {"input": logits((4, 3)), "target": classes((4,), 3)})
    c.error("error_probabilities_integer_target", ["probabilities"], input=logits((3, 4)), target=classes((3, 4), 2))
    c.error("error_probabilities_ignore_index", ["probabilities"], input=logits((3, 4)),
            target=Uniform((3, 4), 0, 1, requires_grad=False), ignore_index=1)
    c.error("error_probabilities_weight_size", ["probabilities", "weight"], input=logits((3, 4)),
            target=Uniform((3, 4), 0, 1, requires_grad=False), weight=class_weight(3))
    c.error("error_label_smoothing_above_1", ["label_smoothing"], input=logits((3, 4)), target=classes((3,), 4),
            label_smoothing=1.5)
    c.error("error_probabilities_label_smoothing_above_1", ["probabilities", "label_smoothing"], input=logits((3, 4)),
            target=Uniform((3, 4), 0, 1, requires_grad=False), label_smoothing=1.25)
    c.error("error_target_out_of_bounds", ["index"], input=logits((3, 4)), target=targets([1, 4, 0]))
    c.error("error_label_smoothing_target_out_of_bounds", ["index", "label_smoothing"], input=logits((3, 4)),
            target=targets([1, 4, 0]), label_smoothing=0.1, reduction="none")
    c.error("error_batch_mismatch", input=logits((3, 4)), target=targets([1, 2]))
    c.error("error_0d_probabilities", ["probabilities"], input=Uniform((), -1, 1), target=Uniform((), 0, 1))
    c.error("error_float_target_wrong_shape", input=logits((3, 4)), target=Uniform((3,), 0, 1, requires_grad=False))
    c.error("error_weight_requires_grad", ["weight"], input=logits((3, 4)), target=classes((3,), 4),
            weight=class_weight(4, requires_grad=True))
    return c.file


def multi_margin_loss():
    c = LossCases("multi_margin_loss")
    scores = lambda shape, dtype="float32": Uniform(shape, -1.0, 1.0, dtype)  # noqa: E731
    c.reductions("p1", input=scores((5, 4)), target=classes((5,), 4))
    c.reductions("p2", ["p2"], input=scores((5, 4)), target=classes((5,), 4), p=2)
    c.reductions("margin_half_weight", ["margin", "weight"], input=scores((5, 4)), target=classes((5,), 4),
                 margin=0.5, weight=class_weight(4))
    c.reductions("p2_weight", ["p2", "weight"], input=scores((4, 6)), target=classes((4,), 6), p=2,
                 weight=class_weight(6))
    c.reductions("unbatched", ["unbatched"], input=scores((5,)), target=given(3, "int64"))
    c.case("unbatched_target_1d_none", ["unbatched", "none"], input=scores((5,)), target=targets([1]),
           reduction="none")
    c.case("float64_p2", ["float64", "p2", "mean"], input=scores((4, 3), "float64"), target=classes((4,), 3), p=2)
    c.case("large_margin_sum", ["margin", "sum"], input=scores((8, 5)), target=classes((8,), 5), margin=3.0,
           reduction="sum")
    c.legacy(lambda: {"input": scores((4, 3)), "target": classes((4,), 3)})

    c.invalid_reduction(lambda: {"input": scores((4, 3)), "target": classes((4,), 3)})
    c.error("error_p3", input=scores((3, 4)), target=classes((3,), 4), p=3)
    c.error("error_weight_2d", ["weight"], input=scores((3, 4)), target=classes((3,), 4),
            weight=Uniform((1, 4), 0.2, 2.0, requires_grad=False))
    c.error("error_weight_size", ["weight"], input=scores((3, 4)), target=classes((3,), 4), weight=class_weight(3))
    c.error("error_weight_requires_grad", ["weight"], input=scores((3, 4)), target=classes((3,), 4),
            weight=class_weight(4, requires_grad=True))
    c.error("error_target_size", input=scores((3, 4)), target=classes((2,), 4))
    c.error("error_target_out_of_range", input=scores((3, 4)), target=targets([1, 4, 0]))
    c.error("error_3d_input", input=scores((2, 3, 4)), target=classes((2,), 4))
    return c.file


def multilabel_margin_loss():
    c = LossCases("multilabel_margin_loss")
    scores = lambda shape, dtype="float32": Uniform(shape, -1.0, 1.0, dtype)  # noqa: E731
    labels = targets([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0], [0, 1, 2, 3]])
    c.reductions("basic", input=scores((4, 4)), target=labels)
    c.reductions("unbatched", ["unbatched"], input=scores((5,)), target=targets([4, 1, -1, 0, 0]))
    c.case("float64_mean", ["float64", "mean"], input=scores((4, 4), "float64"), target=labels)
    c.case("wide_sum", ["sum"], input=Uniform((3, 7), -2.0, 2.0), target=targets(
        [[6, 5, -1, 0, 0, 0, 0], [0, -1, 1, 2, 3, 4, 5], [2, 4, 1, 3, -1, 6, 6]]), reduction="sum")
    c.legacy(lambda: {"input": scores((4, 4)), "target": labels})

    c.invalid_reduction(lambda: {"input": scores((4, 4)), "target": labels})
    c.error("error_target_size", input=scores((3, 4)), target=targets([[0, -1, 0], [1, -1, 0], [2, -1, 0]]))
    c.error("error_target_above_range", input=scores((2, 3)), target=targets([[0, 3, -1], [1, -1, 0]]))
    c.error("error_target_below_minus_1", input=scores((2, 3)), target=targets([[0, -2, -1], [1, -1, 0]]))
    c.error("error_3d_input", input=scores((2, 3, 4)), target=classes((2, 3, 4), 4))
    return c.file


def build():
    return [nll_loss(), cross_entropy(), multi_margin_loss(), multilabel_margin_loss()]
