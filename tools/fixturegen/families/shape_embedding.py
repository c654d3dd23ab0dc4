"""embedding, cosine_similarity, pairwise_distance: `Fixtures/shape/<op>.json`, each with its
errors, and `shape/embedding_programs.json` (max_norm renormalizing the weight in place).

Like OpInfo's samples: embedding with 0-d to 2-d indices, repeated indices (gradients add up),
`padding_idx` (0, positive, negative), `scale_grad_by_freq` (with padding), `max_norm` with
norm types 1, 2, 3 and inf, int64 / float64 tables, empty indices; cosine_similarity along
every dim, broadcast operands, zero vectors and a large `eps` (the clamp), mixed dtypes;
pairwise_distance for p = 1, 2, 3, 0.5, 1.5, ±inf, −1 and 0, keepdim, broadcasting, 0-d and
1-d inputs, `eps=0` with equal inputs; PyTorch's errors.
"""

from ..cases import FixtureFile, ref
from .shape import add
from ..tensors import RandInt, Uniform, given


def x(shape, dtype="float32", lo=-1.0, hi=1.0):
    return Uniform(tuple(shape), lo, hi, dtype)


def idx(values):
    return given(values, "int64")


def embedding_file():
    f = FixtureFile("shape/embedding")
    w = x((6, 3))
    cases = [
        ("indices_1d", dict(input=idx([0, 2, 5, 1]), weight=w), []),
        ("indices_2d", dict(input=idx([[0, 2], [4, 3], [1, 1]]), weight=w), []),
        ("indices_0d", dict(input=idx(3), weight=w), ["scalar_0d"]),
        ("repeated", dict(input=idx([1, 4, 1, 1, 4]), weight=w), ["repeated"]),
        ("padding_idx", dict(input=idx([[0, 2], [2, 5]]), weight=w, padding_idx=2), ["padding_idx"]),
        ("padding_idx_0", dict(input=idx([0, 1, 0]), weight=w, padding_idx=0), ["padding_idx"]),
        ("padding_idx_negative", dict(input=idx([5, 1, 5, 4]), weight=w, padding_idx=-1), ["padding_idx"]),
        ("padding_idx_most_negative", dict(input=idx([0, 1]), weight=w, padding_idx=-6), ["padding_idx"]),
        ("padding_idx_unused", dict(input=idx([0, 1]), weight=w, padding_idx=4), ["padding_idx"]),
        ("scale_grad_by_freq", dict(input=idx([[1, 1, 3], [0, 1, 2]]), weight=w, scale_grad_by_freq=True),
         ["scale_grad_by_freq"]),
        ("scale_grad_by_freq_padding", dict(input=idx([1, 1, 3, 3, 3, 0]), weight=w, padding_idx=3,
                                            scale_grad_by_freq=True), ["scale_grad_by_freq", "padding_idx"]),
        ("max_norm", dict(input=idx([0, 2, 2, 5]), weight=x((6, 3), lo=-2, hi=2), max_norm=1.0), ["max_norm"]),
        ("max_norm_large", dict(input=idx([0, 2, 5]), weight=w, max_norm=10.0), ["max_norm"]),
        ("max_norm_norm1", dict(input=idx([1, 3]), weight=x((6, 3), lo=-2, hi=2), max_norm=1.5, norm_type=1.0),
         ["max_norm", "norm_type"]),
        ("max_norm_norm3", dict(input=idx([[1, 3], [4, 1]]), weight=x((6, 3), lo=-2, hi=2), max_norm=0.5,
                                norm_type=3.0), ["max_norm", "norm_type"]),
        ("max_norm_inf", dict(input=idx([0, 5]), weight=x((6, 3), lo=-2, hi=2), max_norm=0.8,
                              norm_type=float("inf")), ["max_norm", "norm_type"]),
        ("max_norm_padding", dict(input=idx([1, 2, 1]), weight=x((6, 3), lo=-2, hi=2), max_norm=1.0, padding_idx=1),
         ["max_norm", "padding_idx"]),
        ("max_norm_empty_indices", dict(input=RandInt((0,), 0, 1), weight=w, max_norm=1.0), ["max_norm", "empty"]),
        ("sparse_false", dict(input=idx([1, 2]), weight=w, sparse=False), []),
        ("float64", dict(input=idx([[0, 5], [3, 3]]), weight=x((6, 4), "float64"), padding_idx=0), ["float64"]),
        ("float64_max_norm", dict(input=idx([2, 4]), weight=x((6, 4), "float64", -2, 2), max_norm=1.0),
         ["float64", "max_norm"]),
        ("int64_weight", dict(input=idx([2, 0]), weight=RandInt((3, 2), -9, 9)), ["int64"]),
        ("empty_indices", dict(input=RandInt((2, 0), 0, 1), weight=w), ["empty"]),
        ("large", dict(input=RandInt((8, 12), 0, 50), weight=x((50, 16))), ["large", "repeated"]),
    ]
    for name, args, tags in cases:
        add(f, name, "embedding", args, ["embedding"] + tags)
    errors = [
        ("padding_idx_too_large", dict(input=idx([0]), weight=w, padding_idx=6)),
        ("padding_idx_too_negative", dict(input=idx([0]), weight=w, padding_idx=-7)),
        ("padding_idx_float", dict(input=idx([0]), weight=w, padding_idx=1.0)),
        ("index_too_large", dict(input=idx([0, 6]), weight=w)),
        ("index_negative", dict(input=idx([-1]), weight=w)),
        ("float_indices", dict(input=x((2,)), weight=w)),
        ("float64_indices", dict(input=x((2,), "float64"), weight=w)),
        ("bool_indices", dict(input=RandInt((2,), 0, 2, dtype="bool"), weight=w)),
        ("weight_1d", dict(input=idx([0]), weight=x((6,)))),
        ("weight_3d", dict(input=idx([0]), weight=x((6, 2, 2)))),
        ("max_norm_weight_1d", dict(input=idx([0]), weight=x((6,)), max_norm=1.0)),
        ("max_norm_float_indices", dict(input=x((2,)), weight=w, max_norm=1.0)),
        ("max_norm_index_too_large", dict(input=idx([1, 7]), weight=w, max_norm=1.0)),
        ("max_norm_index_too_negative", dict(input=idx([7, -9]), weight=w, max_norm=1.0)),
        ("max_norm_index_negative", dict(input=idx([-1]), weight=w, max_norm=1.0)),
        ("max_norm_int64_weight", dict(input=idx([1]), weight=RandInt((3, 2), 0, 5), max_norm=1.0)),
    ]
    for name, args in errors:
        add(f, name, "embedding", args, ["embedding", "error"], error=True)
    return f


def embedding_programs():
    """max_norm renormalizes the named rows of the weight in place (one version bump)."""
    f = FixtureFile("shape/embedding_programs")
    for name, max_norm, norm_type in [("max_norm", 1.0, 2.0), ("max_norm_norm1", 1.0, 1.0), ("max_norm_unchanged", 50.0, 2.0)]:
        with f.program(name, ["embedding", "max_norm", "inplace", "version_counter"]) as p:
            p.tensor("w", x((5, 3), lo=-2, hi=2), requires_grad=True)
            p.call("embedding", "y", input=idx([[0, 3], [3, 4]]), weight=ref("w"), max_norm=max_norm,
                   norm_type=norm_type)
            p.check_value("w")
            p._emit({"check": "w", "attrs": {"_version": p.env["w"]._version}})
            p.check_attrs("y")
            p.call("sum", "s", input=ref("y"))
            p.backward("s")
            p.check_grad("w")
    return f


def cosine_file():
    f = FixtureFile("shape/cosine_similarity")
    cases = [
        ("default_dim", dict(x1=x((4, 5)), x2=x((4, 5))), []),
        ("dim0", dict(x1=x((4, 5)), x2=x((4, 5)), dim=0), ["dim"]),
        ("dim_neg1", dict(x1=x((2, 3, 4)), x2=x((2, 3, 4)), dim=-1), ["dim", "negative_dim"]),
        ("rank3_dim1", dict(x1=x((2, 3, 4)), x2=x((2, 3, 4))), ["dim"]),
        ("rank3_dim0", dict(x1=x((2, 3, 4)), x2=x((2, 3, 4)), dim=0), ["dim"]),
        ("rank1_dim0", dict(x1=x((6,)), x2=x((6,)), dim=0), []),
        ("rank0", dict(x1=x(()), x2=x(()), dim=0), ["scalar_0d"]),
        ("broadcast_row", dict(x1=x((3, 5)), x2=x((5,)), dim=-1), ["broadcast"]),
        ("broadcast_both", dict(x1=x((2, 1, 4)), x2=x((3, 4)), dim=-1), ["broadcast"]),
        ("broadcast_along_dim", dict(x1=x((3, 1)), x2=x((3, 4)), dim=1), ["broadcast"]),
        ("zero_vector", dict(x1=given([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]), x2=x((2, 3))), ["zero_norm"]),
        ("large_eps", dict(x1=x((3, 4), lo=-0.1, hi=0.1), x2=x((3, 4)), eps=0.5), ["eps", "clamp"]),
        # A parallel pair (cosine 1, zero gradient) next to a general one, so that the
        # gradients are not zero everywhere.
        ("parallel", dict(x1=given([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]]), x2=given([[2.0, 4.0, 6.0], [0.5, 2.0, 1.0]])), []),
        ("float64", dict(x1=x((3, 5), "float64"), x2=x((3, 5), "float64")), ["float64"]),
        ("float32_float64", dict(x1=x((3, 5)), x2=x((3, 5), "float64")), ["mixed_dtype"]),
        ("int64_float32", dict(x1=RandInt((3, 4), -4, 4), x2=x((3, 4))), ["int64", "mixed_dtype"]),
        ("empty", dict(x1=x((0, 3)), x2=x((0, 3))), ["empty"]),
        ("large", dict(x1=x((64, 16)), x2=x((64, 16))), ["large"]),
    ]
    for name, args, tags in cases:
        add(f, name, "cosine_similarity", args, ["cosine_similarity"] + tags)
    errors = [
        ("int64_inputs", dict(x1=RandInt((2, 3), 0, 3), x2=RandInt((2, 3), 0, 3))),
        ("shapes_do_not_broadcast", dict(x1=x((2, 3)), x2=x((4, 3)))),
        ("dim_out_of_range", dict(x1=x((2, 3)), x2=x((2, 3)), dim=2)),
        ("rank1_default_dim", dict(x1=x((3,)), x2=x((3,)))),
        ("dim_float", dict(x1=x((2, 3)), x2=x((2, 3)), dim=1.0)),
    ]
    for name, args in errors:
        add(f, name, "cosine_similarity", args, ["cosine_similarity", "error"], error=True)
    return f


def pairwise_file():
    f = FixtureFile("shape/pairwise_distance")
    cases = [
        ("default", dict(x1=x((4, 5)), x2=x((4, 5))), []),
        ("keepdim", dict(x1=x((4, 5)), x2=x((4, 5)), keepdim=True), ["keepdim"]),
        ("rank3", dict(x1=x((2, 3, 4)), x2=x((2, 3, 4))), []),
        ("rank1", dict(x1=x((5,)), x2=x((5,))), []),
        ("rank1_keepdim", dict(x1=x((5,)), x2=x((5,)), keepdim=True), ["keepdim"]),
        ("rank0", dict(x1=x(()), x2=x(())), ["scalar_0d"]),
        ("rank0_keepdim", dict(x1=x(()), x2=x(()), keepdim=True), ["scalar_0d", "keepdim"]),
        ("broadcast_row", dict(x1=x((3, 4)), x2=x((4,))), ["broadcast"]),
        ("broadcast_rank1_first", dict(x1=x((4,)), x2=x((2, 4))), ["broadcast"]),
        ("broadcast_last_dim", dict(x1=x((3, 1)), x2=x((3, 4))), ["broadcast"]),
        ("eps0_equal_inputs", dict(x1=given([[1.0, 2.0], [3.0, 4.0]]), x2=given([[1.0, 2.0], [0.0, 4.0]]), eps=0.0),
         ["eps", "zero_norm"]),
        ("eps_large", dict(x1=x((3, 4)), x2=x((3, 4)), eps=0.5), ["eps"]),
        ("float64", dict(x1=x((3, 5), "float64"), x2=x((3, 5), "float64"), p=3.0), ["float64", "p"]),
        ("float32_float64", dict(x1=x((3, 5)), x2=x((3, 5), "float64")), ["mixed_dtype"]),
        ("int64_inputs", dict(x1=RandInt((2, 3), -5, 5), x2=RandInt((2, 3), -5, 5)), ["int64"]),
        ("empty_batch", dict(x1=x((0, 3)), x2=x((0, 3))), ["empty"]),
        ("empty_last_dim", dict(x1=x((2, 0)), x2=x((2, 0))), ["empty"]),
        ("large", dict(x1=x((64, 16)), x2=x((64, 16))), ["large"]),
    ]
    for p in (1.0, 3.0, 0.5, 1.5, float("inf"), float("-inf"), -1.0):
        name = {float("inf"): "inf", float("-inf"): "neg_inf"}.get(p, str(p).replace(".", "_").replace("-", "neg"))
        cases.append((f"p{name}", dict(x1=x((4, 5)), x2=x((4, 5)), p=p), ["p"]))
    cases.append(("p_inf_ties", dict(x1=given([[3.0, -3.0, 2.0], [1.0, 1.0, 1.0]]), x2=given([[0.0] * 3] * 2),
                                     p=float("inf"), eps=0.0), ["p", "ties"]))
    for name, args, tags in cases:
        add(f, name, "pairwise_distance", args, ["pairwise_distance"] + tags)
    add(f, "p0", "pairwise_distance", dict(x1=x((4, 5)), x2=x((4, 5)), p=0.0), ["pairwise_distance", "p"],
          backward=False)
    errors = [
        ("shapes_do_not_broadcast", dict(x1=x((2, 3)), x2=x((2, 4)))),
        ("bool_inputs", dict(x1=RandInt((2, 3), 0, 2, dtype="bool"), x2=RandInt((2, 3), 0, 2, dtype="bool"))),
        ("p_string", dict(x1=x((2, 3)), x2=x((2, 3)), p="fro")),
    ]
    for name, args in errors:
        add(f, name, "pairwise_distance", args, ["pairwise_distance", "error"], error=True)
    return f


def build():
    return [embedding_file(), embedding_programs(), cosine_file(), pairwise_file()]
