"""Normalization: `Fixtures/normalization/<op>.json` for batch_norm, instance_norm, layer_norm,
group_norm, local_response_norm and normalize; `normalization/programs.json` (programs:
running-statistics updates, their `_version`, `grad_fn` names, in-place errors); and
`normalization/errors.json`.

Running statistics never require grad (torch refuses it); every other floating input of a
succeeding single call does, so each case also records the gradients of input, weight and bias.
"""

import numpy as np
import torch

from ..cases import FixtureFile, ref
from ..tensors import RandInt, Uniform, given

X_RANGE = (-2.0, 2.0)
BN_SHAPES = {2: (8, 3), 3: (4, 3, 5), 4: (2, 3, 4, 3), 5: (2, 3, 2, 3, 2)}


def x(shape, dtype="float32", lo=X_RANGE[0], hi=X_RANGE[1]):
    return Uniform(tuple(shape), lo, hi, dtype)


def weight(n, dtype="float32"):
    return Uniform((n,) if isinstance(n, int) else tuple(n), 0.5, 1.5, dtype)


def bias(n, dtype="float32"):
    return Uniform((n,) if isinstance(n, int) else tuple(n), -0.5, 0.5, dtype)


def running(c, dtype="float32", requires_grad=False):
    """(running_mean, running_var) specs: plausible statistics, never requiring grad."""
    return (Uniform((c,), -0.5, 0.5, dtype, requires_grad=requires_grad),
            Uniform((c,), 0.5, 2.0, dtype, requires_grad=False))


def affine_args(c, affine, dtype="float32"):
    """weight/bias arguments for `affine` in ("affine", "weight_only", "bias_only", "no_affine")."""
    args = {}
    if affine in ("affine", "weight_only"):
        args["weight"] = weight(c, dtype)
    if affine in ("affine", "bias_only"):
        args["bias"] = bias(c, dtype)
    return args


def constant_channel(shape, channel):
    """Uniform values with every element of `channel` equal (zero variance)."""
    values = np.linspace(-1.7, 1.9, int(np.prod(shape))).reshape(shape).astype(np.float32)
    values[:, channel] = np.float32(0.625)
    return given(values.tolist(), shape=shape)


def singleton_groups_input(shape):
    """An input normalized in groups of one element: x − μ = 0, so its gradient is exactly 0,
    where ATen's float formula leaves rounding noise of about ulp·r, r = 1/√eps ≈ 316, beyond the
    default tolerance. It does not require grad; weight and bias gradients are still checked."""
    return Uniform(tuple(shape), *X_RANGE, requires_grad=False)


# --- batch_norm -------------------------------------------------------------------------------

def batch_norm_file():
    f = FixtureFile("normalization/batch_norm")
    base = ["normalization", "batch_norm"]
    for rank, shape in BN_SHAPES.items():
        c = shape[1]
        for training in (True, False):
            for affine in ("affine", "no_affine"):
                mode = "train" if training else "eval"
                rm, rv = running(c)
                f.add(f"rank{rank}_{mode}_{affine}", "batch_norm",
                      {"input": x(shape), "running_mean": rm, "running_var": rv, **affine_args(c, affine),
                       "training": training}, base + [f"rank{rank}", mode, affine])
    for training in (True, False):
        mode = "train" if training else "eval"
        for affine in ("weight_only", "bias_only"):
            rm, rv = running(3)
            f.add(f"{mode}_{affine}", "batch_norm",
                  {"input": x((4, 3, 5)), "running_mean": rm, "running_var": rv, **affine_args(3, affine),
                   "training": training}, base + [mode, affine])
        rm, rv = running(3, "float64")
        for rank in (3, 4):
            f.add(f"float64_rank{rank}_{mode}", "batch_norm",
                  {"input": x(BN_SHAPES[rank], "float64"), "running_mean": rm, "running_var": rv,
                   **affine_args(3, "affine", "float64"), "training": training}, base + ["float64", mode])
    for rank in (2, 4):
        f.add(f"train_without_running_stats_rank{rank}", "batch_norm",
              {"input": x(BN_SHAPES[rank]), "running_mean": None, "running_var": None,
               **affine_args(3, "affine"), "training": True}, base + ["train", "no_running_stats"])
    rm, rv = running(3)
    for label, extra, tags in [
        ("train_eps_1e-3", {"training": True, "eps": 1e-3}, ["train", "eps"]),
        ("train_eps_0.5", {"training": True, "eps": 0.5}, ["train", "eps"]),
        ("eval_eps_0.5", {"training": False, "eps": 0.5}, ["eval", "eps"]),
        ("eval_eps_0", {"training": False, "eps": 0.0}, ["eval", "eps"]),
        ("train_momentum_0", {"training": True, "momentum": 0.0}, ["train", "momentum"]),
        ("train_momentum_1", {"training": True, "momentum": 1.0}, ["train", "momentum"]),
        ("eval_momentum_ignored", {"training": False, "momentum": 0.7}, ["eval", "momentum"]),
        ("default_training_is_eval", {}, ["eval", "defaults"]),
    ]:
        f.add(label, "batch_norm", {"input": x((4, 3, 5)), "running_mean": rm, "running_var": rv,
                                    **affine_args(3, "affine"), **extra}, base + tags)
    f.add("train_batch_of_two_2d", "batch_norm",
          {"input": x((2, 4)), "running_mean": None, "running_var": None, **affine_args(4, "affine"),
           "training": True}, base + ["train", "rank2", "small"])
    f.add("train_constant_channel", "batch_norm",
          {"input": constant_channel((3, 3, 4), 1), "running_mean": None, "running_var": None,
           **affine_args(3, "affine"), "training": True}, base + ["train", "zero_variance"])
    f.add("train_offset_input", "batch_norm",
          {"input": x((4, 3, 6), lo=5.0, hi=6.0), "running_mean": None, "running_var": None,
           **affine_args(3, "affine"), "training": True}, base + ["train", "offset", "stability"])
    f.add("train_empty_batch", "batch_norm",
          {"input": x((0, 3, 2)), "running_mean": rm, "running_var": rv, **affine_args(3, "affine"),
           "training": True}, base + ["train", "empty"])
    rm16, rv16 = running(16)
    for training in (True, False):
        mode = "train" if training else "eval"
        f.add(f"large_{mode}", "batch_norm",
              {"input": x((8, 16, 8, 8)), "running_mean": rm16, "running_var": rv16,
               **affine_args(16, "affine"), "training": training}, base + [mode, "large"])
    return f


# --- instance_norm ----------------------------------------------------------------------------

IN_SHAPES = {3: (2, 3, 5), 4: (2, 3, 3, 4), 5: (2, 2, 2, 3, 2)}


def instance_norm_file():
    f = FixtureFile("normalization/instance_norm")
    base = ["normalization", "instance_norm"]
    for rank, shape in IN_SHAPES.items():
        c = shape[1]
        f.add(f"rank{rank}_defaults", "instance_norm", {"input": x(shape)}, base + [f"rank{rank}", "defaults"])
        f.add(f"rank{rank}_affine", "instance_norm", {"input": x(shape), **affine_args(c, "affine")},
              base + [f"rank{rank}", "affine"])
        rm, rv = running(c)
        f.add(f"rank{rank}_running_stats", "instance_norm",
              {"input": x(shape), "running_mean": rm, "running_var": rv, **affine_args(c, "affine")},
              base + [f"rank{rank}", "running_stats"])
        f.add(f"rank{rank}_eval_running_stats", "instance_norm",
              {"input": x(shape), "running_mean": rm, "running_var": rv, **affine_args(c, "affine"),
               "use_input_stats": False}, base + [f"rank{rank}", "eval"])
    rm, rv = running(3)
    for label, extra, tags in [
        ("weight_only", affine_args(3, "weight_only"), ["weight_only"]),
        ("bias_only", affine_args(3, "bias_only"), ["bias_only"]),
        ("eps_0.1", {"eps": 0.1}, ["eps"]),
        ("eps_0", {"eps": 0.0}, ["eps"]),
        ("momentum_0.5", {"running_mean": rm, "running_var": rv, "momentum": 0.5}, ["momentum"]),
        ("use_input_stats_true", {"use_input_stats": True}, ["defaults"]),
    ]:
        f.add(label, "instance_norm", {"input": x((2, 3, 5)), **extra}, base + tags)
    f.add("eval_2d_input", "instance_norm",
          {"input": x((2, 3)), "running_mean": rm, "running_var": rv, "use_input_stats": False},
          base + ["eval", "rank2"])
    f.add("batch_of_one", "instance_norm", {"input": x((1, 3, 4)), **affine_args(3, "affine")}, base + ["small"])
    rm64, rv64 = running(3, "float64")
    f.add("float64", "instance_norm",
          {"input": x((2, 3, 4), "float64"), "running_mean": rm64, "running_var": rv64,
           **affine_args(3, "affine", "float64")}, base + ["float64"])
    f.add("offset_input", "instance_norm", {"input": x((2, 3, 8), lo=5.0, hi=6.0)}, base + ["offset", "stability"])
    f.add("large", "instance_norm", {"input": x((4, 8, 8, 8)), **affine_args(8, "affine")}, base + ["large"])
    return f


# --- layer_norm -------------------------------------------------------------------------------

def layer_norm_file():
    f = FixtureFile("normalization/layer_norm")
    base = ["normalization", "layer_norm"]
    shapes = [((6,), 1), ((4, 5), 1), ((2, 3, 4), 1), ((2, 3, 4), 2), ((2, 3, 4), 3),
              ((2, 3, 4, 5), 1), ((2, 3, 4, 5), 2), ((2, 3, 4, 5), 3)]
    for shape, ndims in shapes:
        normalized = list(shape[-ndims:])
        label = f"rank{len(shape)}_normalized{ndims}d"
        for affine in ("affine", "no_affine"):
            f.add(f"{label}_{affine}", "layer_norm",
                  {"input": x(shape), "normalized_shape": normalized, **affine_args(tuple(normalized), affine)},
                  base + [f"rank{len(shape)}", f"normalized_{ndims}d", affine])
    f.add("normalize_whole_tensor", "layer_norm",
          {"input": x((2, 3, 4)), "normalized_shape": [2, 3, 4], **affine_args((2, 3, 4), "affine")},
          base + ["normalized_3d", "affine"])
    for affine in ("weight_only", "bias_only"):
        f.add(affine, "layer_norm", {"input": x((3, 7)), "normalized_shape": [7], **affine_args(7, affine)},
              base + [affine])
    for eps in (1e-3, 0.1, 0.0):
        f.add(f"eps_{eps}", "layer_norm",
              {"input": x((3, 7)), "normalized_shape": [7], **affine_args(7, "affine"), "eps": eps}, base + ["eps"])
    f.add("float64", "layer_norm",
          {"input": x((3, 4, 5), "float64"), "normalized_shape": [4, 5], **affine_args((4, 5), "affine", "float64")},
          base + ["float64"])
    f.add("float64_no_affine", "layer_norm",
          {"input": x((4, 6), "float64"), "normalized_shape": [6]}, base + ["float64", "no_affine"])
    f.add("normalized_size_1", "layer_norm",
          {"input": singleton_groups_input((4, 1)), "normalized_shape": [1], **affine_args(1, "affine")},
          base + ["size_1", "zero_variance"])
    f.add("offset_input", "layer_norm",
          {"input": x((4, 16), lo=5.0, hi=6.0), "normalized_shape": [16], **affine_args(16, "affine")},
          base + ["offset", "stability"])
    f.add("empty_batch", "layer_norm",
          {"input": x((0, 5)), "normalized_shape": [5], **affine_args(5, "affine")}, base + ["empty"])
    f.add("large", "layer_norm",
          {"input": x((16, 8, 64)), "normalized_shape": [64], **affine_args(64, "affine")}, base + ["large"])
    f.add("large_2d_normalized", "layer_norm",
          {"input": x((4, 16, 32)), "normalized_shape": [16, 32], **affine_args((16, 32), "affine")},
          base + ["large", "normalized_2d"])
    return f


# --- group_norm -------------------------------------------------------------------------------

def group_norm_file():
    f = FixtureFile("normalization/group_norm")
    base = ["normalization", "group_norm"]
    for shape, groups in [((2, 6, 5), (1, 2, 3, 6)), ((2, 4, 3, 3), (1, 2, 4)), ((2, 4, 2, 2, 3), (2,)),
                          ((3, 4), (2,))]:
        c = shape[1]
        for g in groups:
            kind = "one_group" if g == 1 else "per_channel" if g == c else "groups"
            for affine in ("affine", "no_affine"):
                f.add(f"rank{len(shape)}_groups{g}_{affine}", "group_norm",
                      {"input": x(shape), "num_groups": g, **affine_args(c, affine)},
                      base + [f"rank{len(shape)}", kind, affine])
    for affine in ("affine", "no_affine"):
        # group_norm's weight gradient Σ(dy·x − dy·μ)·r is rounding noise here too.
        parameters = {"weight": Uniform((4,), 0.5, 1.5, requires_grad=False), "bias": bias(4)} if affine == "affine" else {}
        f.add(f"one_element_per_group_{affine}", "group_norm",
              {"input": singleton_groups_input((3, 4)), "num_groups": 4, **parameters},
              base + ["per_channel", "zero_variance"])
    for affine in ("weight_only", "bias_only"):
        f.add(affine, "group_norm", {"input": x((2, 6, 4)), "num_groups": 3, **affine_args(6, affine)},
              base + [affine])
    for eps in (1e-3, 0.5):
        f.add(f"eps_{eps}", "group_norm",
              {"input": x((2, 6, 4)), "num_groups": 2, **affine_args(6, "affine"), "eps": eps}, base + ["eps"])
    f.add("batch_of_one", "group_norm", {"input": x((1, 4, 3)), "num_groups": 2, **affine_args(4, "affine")},
          base + ["small"])
    f.add("float64", "group_norm",
          {"input": x((2, 6, 3, 2), "float64"), "num_groups": 3, **affine_args(6, "affine", "float64")},
          base + ["float64"])
    f.add("offset_input", "group_norm", {"input": x((2, 4, 8), lo=5.0, hi=6.0), "num_groups": 2},
          base + ["offset", "stability"])
    f.add("empty_batch", "group_norm", {"input": x((0, 4, 3)), "num_groups": 2, **affine_args(4, "affine")},
          base + ["empty"])
    f.add("large", "group_norm",
          {"input": x((4, 32, 8, 8)), "num_groups": 8, **affine_args(32, "affine")}, base + ["large"])
    return f


# --- local_response_norm, normalize -----------------------------------------------------------

def local_response_norm_file():
    f = FixtureFile("normalization/local_response_norm")
    base = ["normalization", "local_response_norm"]
    for size in (1, 2, 3, 5, 10):
        f.add(f"rank3_size{size}", "local_response_norm",
              {"input": x((2, 6, 5)), "size": size, "alpha": 0.5}, base + ["rank3", "size"])
    for size in (2, 3):
        f.add(f"rank4_size{size}", "local_response_norm",
              {"input": x((2, 5, 3, 3)), "size": size, "alpha": 0.5}, base + ["rank4", "size"])
    f.add("rank5_size3", "local_response_norm", {"input": x((2, 4, 2, 2, 3)), "size": 3, "alpha": 0.5},
          base + ["rank5", "size"])
    f.add("defaults", "local_response_norm", {"input": x((2, 6, 5)), "size": 3}, base + ["defaults"])
    for label, extra in [("alpha1_beta0.5_k2", {"alpha": 1.0, "beta": 0.5, "k": 2.0}),
                         ("beta1_k0.5", {"alpha": 0.3, "beta": 1.0, "k": 0.5}),
                         ("beta2", {"alpha": 0.2, "beta": 2.0, "k": 1.0})]:
        f.add(label, "local_response_norm", {"input": x((2, 6, 5)), "size": 3, **extra}, base + ["alpha_beta_k"])
    f.add("one_channel", "local_response_norm", {"input": x((2, 1, 4)), "size": 3, "alpha": 1.0},
          base + ["size_1"])
    f.add("float64", "local_response_norm", {"input": x((2, 5, 4), "float64"), "size": 3, "alpha": 0.5},
          base + ["float64"])
    f.add("large", "local_response_norm", {"input": x((2, 16, 8, 8)), "size": 5, "alpha": 1.0},
          base + ["large"])
    return f


def normalize_file():
    f = FixtureFile("normalization/normalize")
    base = ["normalization", "normalize"]
    f.add("defaults", "normalize", {"input": x((4, 3, 5))}, base + ["defaults"])
    for dim in (0, 2, -1, -3):
        f.add(f"dim{dim}" if dim >= 0 else f"dim_neg{-dim}", "normalize", {"input": x((4, 3, 5)), "dim": dim},
              base + ["dim"] + (["negative_dim"] if dim < 0 else []))
    f.add("dim_list", "normalize", {"input": x((4, 3, 5)), "dim": [1, 2]}, base + ["dim_list"])
    f.add("dim_list_negative", "normalize", {"input": x((2, 3, 4)), "dim": [-1, 0]}, base + ["dim_list"])
    f.add("dim_empty_list_is_all", "normalize", {"input": x((3, 4)), "dim": []}, base + ["dim_list"])
    for p in (1.0, 3.0, 0.5, 1.5, float("inf"), float("-inf"), 0.0):
        name = {float("inf"): "inf", float("-inf"): "neg_inf"}.get(p, str(p))
        f.add(f"p_{name}", "normalize", {"input": x((4, 6)), "p": p}, base + ["p"])
        if np.isinf(p):
            # JSON has no infinity: the scalar is spelled as tensors spell it, "inf" / "-inf".
            f.cases[-1]["args"]["p"] = "inf" if p > 0 else "-inf"
    f.add("p_int", "normalize", {"input": x((4, 6)), "p": 1}, base + ["p"])
    f.add("norm_below_eps", "normalize", {"input": x((5, 3), lo=-0.3, hi=0.3), "eps": 0.4}, base + ["eps"])
    f.add("eps_with_p1", "normalize", {"input": x((5, 3), lo=-0.3, hi=0.3), "p": 1.0, "eps": 0.5}, base + ["eps", "p"])
    f.add("rank1_dim0", "normalize", {"input": x((7,)), "dim": 0}, base + ["rank1"])
    f.add("scalar_0d", "normalize", {"input": x(()), "dim": 0}, base + ["scalar_0d"])
    f.add("zero_row", "normalize", {"input": given([[0.0, 0.0, 0.0], [0.5, -1.0, 2.0]])}, base + ["zeros", "eps"])
    f.add("float64", "normalize", {"input": x((3, 5), "float64"), "p": 3.0}, base + ["float64"])
    f.add("large", "normalize", {"input": x((32, 64)), "dim": 1}, base + ["large"])
    return f


# --- errors -----------------------------------------------------------------------------------

def errors_file():
    f = FixtureFile("normalization/errors")
    rm, rv = running(3)
    x3 = x((4, 3, 5))
    cases = {
        "batch_norm": [
            ("one_value_per_channel_2d", {"input": x((1, 3)), "running_mean": rm, "running_var": rv, "training": True}),
            ("one_value_per_channel_3d", {"input": x((1, 3, 1)), "running_mean": None, "running_var": None,
                                          "training": True}),
            ("train_eps_zero", {"input": x3, "running_mean": rm, "running_var": rv, "training": True, "eps": 0.0}),
            ("eval_eps_negative", {"input": x3, "running_mean": rm, "running_var": rv, "eps": -1.0}),
            ("momentum_none", {"input": x3, "running_mean": rm, "running_var": rv, "training": True, "momentum": None}),
            ("training_int", {"input": x3, "running_mean": rm, "running_var": rv, "training": 1}),
            ("running_mean_wrong_size", {"input": x3, "running_mean": Uniform((4,), requires_grad=False),
                                         "running_var": rv, "training": True}),
            ("running_var_wrong_size", {"input": x3, "running_mean": rm,
                                        "running_var": Uniform((2,), 0.5, 2, requires_grad=False)}),
            ("weight_wrong_size", {"input": x3, "running_mean": rm, "running_var": rv, "weight": Uniform((4,))}),
            ("bias_wrong_size", {"input": x3, "running_mean": rm, "running_var": rv, "bias": Uniform((2,))}),
            ("eval_without_running_mean", {"input": x3, "running_mean": None, "running_var": rv}),
            ("eval_without_running_var", {"input": x3, "running_mean": rm, "running_var": None}),
            ("train_running_var_only", {"input": x3, "running_mean": None, "running_var": rv, "training": True}),
            ("int64_input", {"input": RandInt((4, 3, 5), -3, 3), "running_mean": rm, "running_var": rv}),
            ("float64_input_float32_stats", {"input": x((4, 3, 5), "float64"), "running_mean": rm,
                                             "running_var": rv, "training": True}),
            ("float64_weight", {"input": x3, "running_mean": rm, "running_var": rv,
                                "weight": Uniform((3,), dtype="float64")}),
            ("float64_bias_after_float32_weight", {"input": x3, "running_mean": rm, "running_var": rv,
                                                   "weight": Uniform((3,)), "bias": Uniform((3,), dtype="float64")}),
            ("running_mean_requires_grad", {"input": x3, "running_mean": running(3, requires_grad=True)[0],
                                            "running_var": rv, "training": True}),
            ("rank1_input", {"input": x((5,)), "running_mean": None, "running_var": None, "training": True}),
        ],
        "instance_norm": [
            ("one_spatial_element", {"input": x((2, 3, 1))}),
            ("rank2_input", {"input": x((2, 3))}),
            ("eval_without_running_stats", {"input": x3, "use_input_stats": False}),
            ("running_mean_only", {"input": x3, "running_mean": rm}),
            ("running_mean_wrong_size", {"input": x3, "running_mean": Uniform((4,), requires_grad=False),
                                         "running_var": Uniform((4,), 0.5, 2, requires_grad=False)}),
            ("weight_wrong_size", {"input": x3, "weight": Uniform((2,))}),
            ("weight_2d", {"input": x3, "weight": Uniform((1, 3))}),
            ("momentum_none", {"input": x3, "running_mean": rm, "running_var": rv, "momentum": None}),
            ("int64_input", {"input": RandInt((4, 3, 5), -3, 3)}),
            ("float64_weight", {"input": x3, "weight": Uniform((3,), dtype="float64")}),
        ],
        "layer_norm": [
            ("normalized_shape_int", {"input": x((3, 5)), "normalized_shape": 5}),
            ("normalized_shape_float_element", {"input": x((3, 5)), "normalized_shape": [5.0]}),
            ("normalized_shape_empty", {"input": x((3, 5)), "normalized_shape": []}),
            ("normalized_shape_mismatch", {"input": x((2, 3, 4)), "normalized_shape": [3]}),
            ("normalized_shape_mismatch_2d", {"input": x((2, 3, 4)), "normalized_shape": [2, 4]}),
            ("normalized_shape_longer_than_input", {"input": x((3, 4)), "normalized_shape": [2, 3, 4]}),
            ("weight_wrong_shape", {"input": x((2, 3, 4)), "normalized_shape": [3, 4], "weight": Uniform((12,))}),
            ("bias_wrong_shape", {"input": x((2, 3, 4)), "normalized_shape": [4], "bias": Uniform((3,))}),
            ("int64_input", {"input": RandInt((3, 5), -3, 3), "normalized_shape": [5]}),
            ("int64_input_with_weight", {"input": RandInt((3, 5), -3, 3), "normalized_shape": [5],
                                         "weight": Uniform((5,))}),
            ("float64_weight", {"input": x((3, 5)), "normalized_shape": [5], "weight": Uniform((5,), dtype="float64")}),
            ("float64_input_float32_weight", {"input": x((3, 5), "float64"), "normalized_shape": [5],
                                              "weight": Uniform((5,))}),
            ("eps_none", {"input": x((3, 5)), "normalized_shape": [5], "eps": None}),
        ],
        "group_norm": [
            ("rank1_input", {"input": x((4,)), "num_groups": 2}),
            ("zero_groups", {"input": x((2, 4, 3)), "num_groups": 0}),
            ("negative_groups", {"input": x((2, 4, 3)), "num_groups": -2}),
            ("groups_not_dividing_channels", {"input": x((2, 6, 3)), "num_groups": 4}),
            ("more_groups_than_channels", {"input": x((2, 3, 3)), "num_groups": 6}),
            ("one_value_per_group", {"input": x((1, 4)), "num_groups": 4}),
            ("one_value_per_group_4d", {"input": x((1, 2, 1, 1)), "num_groups": 2}),
            ("weight_wrong_size", {"input": x((2, 4, 3)), "num_groups": 2, "weight": Uniform((3,))}),
            ("weight_2d", {"input": x((2, 4, 3)), "num_groups": 2, "weight": Uniform((1, 4))}),
            ("bias_wrong_size", {"input": x((2, 4, 3)), "num_groups": 2, "bias": Uniform((8,))}),
            ("int64_input", {"input": RandInt((2, 4, 3), -3, 3), "num_groups": 2}),
            ("float64_weight", {"input": x((2, 4, 3)), "num_groups": 2, "weight": Uniform((4,), dtype="float64")}),
            ("num_groups_float", {"input": x((2, 4, 3)), "num_groups": 2.0}),
        ],
        "local_response_norm": [
            ("rank2_input", {"input": x((3, 4)), "size": 2}),
            ("size_zero_rank3", {"input": x((2, 3, 4)), "size": 0}),
            ("size_zero_rank4", {"input": x((2, 3, 2, 2)), "size": 0}),
        ],
        "normalize": [
            ("dim_out_of_range", {"input": x((3, 4)), "dim": 2}),
            ("rank1_default_dim", {"input": x((5,))}),
            ("repeated_dim", {"input": x((3, 4)), "dim": [1, -1]}),
            ("int64_input", {"input": RandInt((3, 4), -3, 3)}),
        ],
    }
    for op, op_cases in cases.items():
        for label, args in op_cases:
            f.add(f"{op}_{label}", op, args, ["normalization", op, "error"], error=True)
    return f


# --- programs ---------------------------------------------------------------------------------

def check_version(p, name):
    """`{"check": name, "attrs": {"_version": v}}` with the version torch reports."""
    return p._emit({"check": name, "attrs": {"_version": p.env[name]._version}})


def load_stats(p, c, dtype="float32"):
    rm, rv = running(c, dtype)
    p.tensor("running_mean", rm)
    p.tensor("running_var", rv)


def batch_norm_programs(f):
    for rank, shape in BN_SHAPES.items():
        for momentum in (0.1, 0.0, 0.5, 1.0) if rank == 3 else (0.1,):
            name = f"batch_norm_rank{rank}_train_updates_running_stats"
            if momentum != 0.1:
                name += f"_momentum_{momentum}"
            with f.program(name, ["normalization", "batch_norm", "running_stats", "train", f"rank{rank}"]) as p:
                p.tensor("x", x(shape), requires_grad=True)
                p.tensor("w", weight(3), requires_grad=True)
                p.tensor("b", bias(3), requires_grad=True)
                load_stats(p, 3)
                p.call("batch_norm", "y", input=ref("x"), running_mean=ref("running_mean"),
                       running_var=ref("running_var"), weight=ref("w"), bias=ref("b"), training=True,
                       momentum=momentum)
                p.check_value("running_mean")
                p.check_value("running_var")
                check_version(p, "running_mean")
                check_version(p, "running_var")
                p.check_attrs("y")
                p.call("mean", "s", input=ref("y"))
                p.backward("s")
                p.check_grad("x")
                p.check_grad("w")
                p.check_grad("b")
    with f.program("batch_norm_two_train_steps_then_eval",
                   ["normalization", "batch_norm", "running_stats", "train", "eval"]) as p:
        load_stats(p, 3)
        for step in (1, 2):
            p.tensor(f"x{step}", x((4, 3, 5)))
            p.call("batch_norm", f"y{step}", input=ref(f"x{step}"), running_mean=ref("running_mean"),
                   running_var=ref("running_var"), training=True, momentum=0.3)
            p.check_value("running_mean")
            p.check_value("running_var")
        p.tensor("x3", x((2, 3, 5)))
        p.call("batch_norm", "y3", input=ref("x3"), running_mean=ref("running_mean"),
               running_var=ref("running_var"))
        p.check_value("y3")
        check_version(p, "running_var")
    with f.program("batch_norm_train_under_no_grad", ["normalization", "batch_norm", "running_stats", "no_grad"]) as p:
        p.tensor("x", x((4, 3, 5)), requires_grad=True)
        load_stats(p, 3)
        with p.no_grad():
            p.call("batch_norm", "y", input=ref("x"), running_mean=ref("running_mean"),
                   running_var=ref("running_var"), training=True)
        p.check_attrs("y")
        p.check_value("y")
        p.check_value("running_mean")
        p.check_value("running_var")
    with f.program("batch_norm_eval_leaves_running_stats", ["normalization", "batch_norm", "running_stats", "eval"]) as p:
        p.tensor("x", x((4, 3, 5)), requires_grad=True)
        load_stats(p, 3)
        p.call("batch_norm", "y", input=ref("x"), running_mean=ref("running_mean"), running_var=ref("running_var"))
        p.check_attrs("y")
        p.check_value("running_mean")
        check_version(p, "running_mean")
        check_version(p, "running_var")
    with f.program("batch_norm_float64_train_updates_running_stats",
                   ["normalization", "batch_norm", "running_stats", "float64"]) as p:
        p.tensor("x", x((3, 2, 4), "float64"), requires_grad=True)
        load_stats(p, 2, "float64")
        p.call("batch_norm", "y", input=ref("x"), running_mean=ref("running_mean"),
               running_var=ref("running_var"), training=True, momentum=0.25)
        p.check_value("running_mean")
        p.check_value("running_var")
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("x")
    with f.program("batch_norm_eval_running_var_modified_then_backward",
                   ["normalization", "batch_norm", "version_counter", "error"]) as p:
        p.tensor("x", x((4, 3, 5)), requires_grad=True)
        load_stats(p, 3)
        p.call("batch_norm", "y", input=ref("x"), running_mean=ref("running_mean"), running_var=ref("running_var"))
        p.call("add_", input=ref("running_var"), other=1.0)
        check_version(p, "running_var")
        p.call("sum", "s", input=ref("y"))
        p.backward("s", error=True)
    with f.program("batch_norm_train_input_modified_then_backward",
                   ["normalization", "batch_norm", "version_counter", "error"]) as p:
        p.tensor("x", x((4, 3, 5)), requires_grad=True)
        p.call("mul", "h", input=ref("x"), other=2.0)
        p.call("batch_norm", "y", input=ref("h"), running_mean=None, running_var=None, training=True)
        p.call("mul_", input=ref("h"), other=0.5)
        p.call("sum", "s", input=ref("y"))
        p.backward("s", error=True)
    with f.program("batch_norm_backward_twice", ["normalization", "batch_norm", "backward", "error"]) as p:
        p.tensor("x", x((4, 3, 5)), requires_grad=True)
        p.call("batch_norm", "y", input=ref("x"), running_mean=None, running_var=None, training=True)
        p.call("sum", "s", input=ref("y"))
        p.backward("s", gradient=None)
        p.backward("s", error=True)


def other_programs(f):
    for use_input_stats in (True, False):
        mode = "train" if use_input_stats else "eval"
        with f.program(f"instance_norm_{mode}_running_stats",
                       ["normalization", "instance_norm", "running_stats", mode]) as p:
            p.tensor("x", x((3, 2, 5)), requires_grad=True)
            p.tensor("w", weight(2), requires_grad=True)
            load_stats(p, 2)
            p.call("instance_norm", "y", input=ref("x"), running_mean=ref("running_mean"),
                   running_var=ref("running_var"), weight=ref("w"), use_input_stats=use_input_stats, momentum=0.4)
            p.check_value("running_mean")
            p.check_value("running_var")
            check_version(p, "running_mean")
            check_version(p, "running_var")
            p.check_attrs("y")
            p.call("sum", "s", input=ref("y"))
            p.backward("s")
            p.check_grad("x")
            p.check_grad("w")
    for op, args in (("layer_norm", {"normalized_shape": [5]}), ("group_norm", {"num_groups": 3})):
        with f.program(f"{op}_grad_fn_and_weight_modified_then_backward",
                       ["normalization", op, "attrs", "version_counter", "error"]) as p:
            p.tensor("x", x((2, 3, 5)), requires_grad=True)
            p.tensor("w", weight(5 if op == "layer_norm" else 3), requires_grad=True)
            p.call(op, "y", input=ref("x"), weight=ref("w"), **args)
            p.check_attrs("y")
            with p.no_grad():
                p.call("mul_", input=ref("w"), other=2.0)
            p.call("sum", "s", input=ref("y"))
            p.backward("s", error=True)
    for op, args in (("local_response_norm", {"size": 3}), ("normalize", {})):
        with f.program(f"{op}_grad_fn", ["normalization", op, "attrs"]) as p:
            p.tensor("x", x((2, 3, 4)), requires_grad=True)
            p.call(op, "y", input=ref("x"), **args)
            p.check_attrs("y")


def programs_file():
    f = FixtureFile("normalization/programs")
    batch_norm_programs(f)
    other_programs(f)
    return f


def build():
    return [batch_norm_file(), instance_norm_file(), layer_norm_file(), group_norm_file(),
            local_response_norm_file(), normalize_file(), errors_file(), programs_file()]
