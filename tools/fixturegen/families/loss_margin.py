"""Margin and embedding losses: `Fixtures/loss/{cosine_embedding_loss,margin_ranking_loss,
hinge_embedding_loss,triplet_margin_loss,soft_margin_loss,multilabel_soft_margin_loss}.json`.

±1 labels are written out (with a few other values where PyTorch gives them a meaning). They
require grad only where PyTorch differentiates them: `margin_ranking_loss`'s target and
`multilabel_soft_margin_loss`'s target (and weight) do; the others never reach the graph.
"""

from ..tensors import Uniform, given
from .loss import LossCases


def values(shape, dtype="float32", lo=-1.0, hi=1.0, requires_grad=None):
    return Uniform(shape, lo, hi, dtype, requires_grad)


def labels(values_, dtype="float32"):
    """±1 labels that never require grad."""
    return given(values_, dtype, requires_grad=False)


def cosine_embedding_loss():
    c = LossCases("cosine_embedding_loss")
    y = labels([1, -1, 1, -1, -1])
    c.reductions("basic", input1=values((5, 4)), input2=values((5, 4)), target=y)
    c.reductions("margin_0_3", ["margin"], input1=values((5, 4)), input2=values((5, 4)), target=y, margin=0.3)
    c.case("margin_negative_sum", ["margin", "sum"], input1=values((5, 4)), input2=values((5, 4)), target=y,
           margin=-0.5, reduction="sum")
    c.case("other_labels_none", ["labels", "none"], input1=values((4, 3)), input2=values((4, 3)),
           target=labels([1, 0, 2, -1]), reduction="none")
    c.case("int_labels_mean", ["labels", "mean"], input1=values((4, 3)), input2=values((4, 3)),
           target=labels([1, -1, -1, 1], "int64"))
    c.reductions("unbatched_positive", ["unbatched"], input1=values((6,)), input2=values((6,)), target=labels(1.0))
    c.case("unbatched_negative_none", ["unbatched", "none"], input1=values((6,)), input2=values((6,)),
           target=labels(-1.0), reduction="none")
    c.case("broadcast_input2_mean", ["broadcast", "mean"], input1=values((5, 4)), input2=values((1, 4)), target=y)
    c.case("zero_row_mean", ["zero", "mean"], input1=given([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]),
           input2=values((3, 3)), target=labels([1, -1, 1]))
    c.reductions("float64", ["float64"], input1=values((5, 4), "float64"), input2=values((5, 4), "float64"), target=y)
    c.legacy(lambda: {"input1": values((5, 4)), "input2": values((5, 4)), "target": y})

    fixed = lambda shape=(3, 4): values(shape, requires_grad=False)  # noqa: E731
    c.invalid_reduction(lambda: {"input1": fixed(), "input2": fixed(), "target": labels([1, -1, 1])})
    c.error("error_2d_target", input1=fixed(), input2=fixed(), target=labels([[1], [-1], [1]]))
    c.error("error_1d_target_1d_input", input1=fixed((4,)), input2=fixed(), target=labels([1, -1, 1]))
    c.error("error_0d_target_2d_input", input1=fixed(), input2=fixed(), target=labels(1.0))
    c.error("error_target_size", ["broadcast"], input1=fixed(), input2=fixed(), target=labels([1, -1]))
    return c.file


def margin_ranking_loss():
    c = LossCases("margin_ranking_loss")
    y = given([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
    c.reductions("basic", input1=values((6,)), input2=values((6,)), target=y)
    c.reductions("margin_0_5", ["margin"], input1=values((6,)), input2=values((6,)), target=y, margin=0.5)
    c.case("matrix_sum", ["sum"], input1=values((3, 4)), input2=values((3, 4)), target=Uniform((3, 4), -1, 1),
           reduction="sum", margin=0.1)
    c.case("broadcast_mean", ["broadcast", "mean"], input1=values((3, 1)), input2=values((1, 4)),
           target=Uniform((3, 4), -1, 1))
    c.case("int_target_mean", ["labels", "mean"], input1=values((4,)), input2=values((4,)),
           target=labels([1, -1, -1, 1], "int64"))
    c.reductions("float64", ["float64"], input1=values((6,), "float64"), input2=values((6,), "float64"),
                 target=given([1.0, -1.0, 1.0, 1.0, -1.0, -1.0], "float64"))
    c.legacy(lambda: {"input1": values((6,)), "input2": values((6,)), "target": y})

    fixed = lambda shape=(3,): values(shape, requires_grad=False)  # noqa: E731
    c.invalid_reduction(lambda: {"input1": fixed(), "input2": fixed(), "target": fixed()})
    c.error("error_rank", input1=fixed(), input2=fixed((3, 1)), target=fixed())
    c.error("error_size", ["broadcast"], input1=fixed(), input2=fixed((2,)), target=fixed())
    return c.file


def hinge_embedding_loss():
    c = LossCases("hinge_embedding_loss")
    x = lambda shape=(3, 4), dtype="float32": values(shape, dtype, -2.0, 2.0)  # noqa: E731
    y = labels([[1, -1, -1, 1], [-1, -1, 1, 1], [1, 1, -1, -1]])
    c.reductions("basic", input=x(), target=y)
    c.reductions("margin_0_5", ["margin"], input=x(), target=y, margin=0.5)
    c.case("broadcast_target_mean", ["broadcast", "mean"], input=x(), target=labels([1, -1, -1, 1]))
    c.case("other_labels_none", ["labels", "none"], input=x((5,)), target=labels([1, -1, 0, 2, -1]), reduction="none")
    c.case("int_labels_sum", ["labels", "sum"], input=x((4,)), target=labels([1, -1, -1, 1], "int64"), reduction="sum")
    c.reductions("float64", ["float64"], input=x((3, 4), "float64"), target=labels(
        [[1, -1, -1, 1], [-1, -1, 1, 1], [1, 1, -1, -1]], "float64"))
    c.legacy(lambda: {"input": x(), "target": y})
    c.invalid_reduction(lambda: {"input": values((3, 4), requires_grad=False), "target": y})
    return c.file


def triplet_margin_loss():
    c = LossCases("triplet_margin_loss")
    emb = lambda shape=(5, 4), dtype="float32": values(shape, dtype)  # noqa: E731
    c.reductions("basic", anchor=emb(), positive=emb(), negative=emb())
    c.reductions("margin_0_5_p1", ["margin", "p1"], anchor=emb(), positive=emb(), negative=emb(), margin=0.5, p=1)
    c.reductions("p3", ["p3"], anchor=emb(), positive=emb(), negative=emb(), p=3)
    c.case("p1_5_mean", ["p", "mean"], anchor=emb(), positive=emb(), negative=emb(), p=1.5)
    c.reductions("swap", ["swap"], anchor=emb((6, 3)), positive=emb((6, 3)), negative=emb((6, 3)), swap=True,
                 margin=2.0)
    c.case("eps_sum", ["eps", "sum"], anchor=emb(), positive=emb(), negative=emb(), eps=0.1, reduction="sum")
    c.case("broadcast_positive_mean", ["broadcast", "mean"], anchor=emb(), positive=emb((1, 4)), negative=emb())
    c.case("unbatched_none", ["unbatched", "none"], anchor=emb((4,)), positive=emb((4,)), negative=emb((4,)),
           reduction="none")
    c.reductions("float64_swap", ["float64", "swap"], anchor=emb((4, 3), "float64"), positive=emb((4, 3), "float64"),
                 negative=emb((4, 3), "float64"), swap=True, margin=1.5)
    c.legacy(lambda: {"anchor": emb(), "positive": emb(), "negative": emb()})

    fixed = lambda shape=(3, 4): values(shape, requires_grad=False)  # noqa: E731
    c.invalid_reduction(lambda: {"anchor": fixed(), "positive": fixed(), "negative": fixed()})
    c.error("error_margin_zero", anchor=fixed(), positive=fixed(), negative=fixed(), margin=0.0)
    c.error("error_margin_negative_int", anchor=fixed(), positive=fixed(), negative=fixed(), margin=-1)
    c.error("error_rank", anchor=fixed(), positive=fixed((4,)), negative=fixed())
    return c.file


def soft_margin_loss():
    c = LossCases("soft_margin_loss")
    x = lambda shape=(3, 4), dtype="float32": values(shape, dtype, -3.0, 3.0)  # noqa: E731
    y = labels([[1, -1, -1, 1], [-1, -1, 1, 1], [1, 1, -1, -1]])
    c.reductions("basic", input=x(), target=y)
    c.case("broadcast_target_mean", ["broadcast", "mean"], input=x(), target=labels([1, -1, -1, 1]))
    c.case("extreme_sum", ["extreme", "sum"], input=given([100.0, -100.0, 30.0, -30.0]), target=labels([1, 1, -1, 1]),
           reduction="sum")
    c.reductions("float64", ["float64"], input=x((3, 4), "float64"), target=labels(
        [[1, -1, -1, 1], [-1, -1, 1, 1], [1, 1, -1, -1]], "float64"))
    c.legacy(lambda: {"input": x(), "target": y})

    fixed = lambda shape=(3, 4): values(shape, requires_grad=False)  # noqa: E731
    c.invalid_reduction(lambda: {"input": fixed(), "target": y})
    c.error("error_target_requires_grad", input=fixed(), target=given([1.0, -1.0, 1.0, 1.0], requires_grad=True))
    c.error("error_target_broadcasts_past_input", ["broadcast"], input=fixed((4,)), target=y)
    c.error("error_target_size", ["broadcast"], input=fixed(), target=labels([1, -1, 1]))
    return c.file


def multilabel_soft_margin_loss():
    c = LossCases("multilabel_soft_margin_loss")
    x = lambda shape=(4, 5), dtype="float32": values(shape, dtype, -3.0, 3.0)  # noqa: E731
    y = lambda shape=(4, 5), dtype="float32": Uniform(shape, 0.0, 1.0, dtype)  # noqa: E731
    c.reductions("basic", input=x(), target=y())
    c.reductions("weight", ["weight"], input=x(), target=y(), weight=Uniform((5,), 0.2, 2.0))
    c.case("binary_labels_mean", ["labels", "mean"], input=x((3, 4)),
           target=given([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0]]))
    c.case("unbatched_mean", ["unbatched", "mean"], input=x((5,)), target=y((5,)))
    c.case("rank3_none", ["rank3", "none"], input=x((2, 3, 4)), target=y((2, 3, 4)), reduction="none")
    c.reductions("float64_weight", ["float64", "weight"], input=x((3, 4), "float64"), target=y((3, 4), "float64"),
                 weight=Uniform((4,), 0.2, 2.0, "float64"))
    c.legacy(lambda: {"input": x(), "target": y()}, get_enum=False)

    fixed = lambda shape=(3, 4): values(shape, requires_grad=False)  # noqa: E731
    c.invalid_reduction(lambda: {"input": fixed(), "target": fixed()})
    c.error("error_elementwise_mean", ["reduction"], input=fixed(), target=fixed(), reduction="elementwise_mean")
    c.error("error_target_size", ["broadcast"], input=fixed(), target=fixed((3, 3)))
    c.error("error_0d_input", input=fixed(()), target=fixed(()))
    return c.file


def build():
    return [cosine_embedding_loss(), margin_ranking_loss(), hinge_embedding_loss(), triplet_margin_loss(),
            soft_margin_loss(), multilabel_soft_margin_loss()]
