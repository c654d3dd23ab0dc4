"""interpolate: `Fixtures/interpolate/<mode>.json` (one per mode) and `interpolate/errors.json`.

Each mode runs on every input rank it accepts, with `size` (int, per-dim list, up and down,
identity, 1) and `scale_factor` (scalar, per-dim list, integer and non-integer ratios such as 1.7
and 0.6, downscaling), `recompute_scale_factor` True/False, and for the linear modes
`align_corners` True/False. `antialias` is not covered.
"""

from ..cases import FixtureFile
from ..tensors import Uniform

MODE_RANKS = {
    "nearest": (3, 4, 5),
    "nearest-exact": (3, 4, 5),
    "linear": (3,),
    "bilinear": (4,),
    "bicubic": (4,),
    "trilinear": (5,),
    "area": (3, 4, 5),
}
ALIGNABLE = ("linear", "bilinear", "bicubic", "trilinear")
SHAPES = {3: (2, 3, 5), 4: (1, 2, 4, 5), 5: (1, 2, 3, 4, 3)}

# A realistic input per mode: `init` input, `b64` output and gradient.
LARGE = {
    "nearest": ((1, 3, 32, 32), dict(scale_factor=2.0)),
    "nearest-exact": ((1, 3, 32, 32), dict(size=[45, 20])),
    "linear": ((4, 16, 64), dict(size=100)),
    "bilinear": ((1, 3, 32, 32), dict(size=[64, 48], align_corners=False)),
    "bicubic": ((1, 3, 24, 24), dict(scale_factor=1.5, align_corners=True)),
    "trilinear": ((1, 2, 8, 8, 8), dict(scale_factor=2.0)),
    "area": ((1, 3, 32, 32), dict(size=[10, 13])),
}


def per_dim(nd, *values):
    return list(values[:nd])


def sizing_variants(rank):
    """(label, size/scale/recompute kwargs, tags) for a rank-`rank` input."""
    nd = rank - 2
    spatial = list(SHAPES[rank][2:])
    return [
        ("size_int_up", dict(size=7), ["size", "upsample"]),
        ("size_int_down", dict(size=2), ["size", "downsample"]),
        ("size_1", dict(size=1), ["size", "output_size_1"]),
        ("size_list_mixed", dict(size=per_dim(nd, 8, 3, 5)), ["size", "per_dim_list"]),
        ("size_identity", dict(size=spatial), ["size", "per_dim_list", "identity"]),
        ("scale_2", dict(scale_factor=2.0), ["scale_factor", "upsample"]),
        ("scale_int_3", dict(scale_factor=3), ["scale_factor", "upsample"]),
        ("scale_1_7", dict(scale_factor=1.7), ["scale_factor", "non_integer_scale"]),
        ("scale_0_6", dict(scale_factor=0.6), ["scale_factor", "non_integer_scale", "downsample"]),
        ("scale_0_5", dict(scale_factor=0.5), ["scale_factor", "downsample"]),
        ("scale_list", dict(scale_factor=per_dim(nd, 2.0, 0.5, 1.5)),
         ["scale_factor", "per_dim_list"]),
        ("scale_list_non_integer", dict(scale_factor=per_dim(nd, 1.7, 0.6, 2.3)),
         ["scale_factor", "per_dim_list", "non_integer_scale"]),
        ("scale_1_7_recompute", dict(scale_factor=1.7, recompute_scale_factor=True),
         ["scale_factor", "recompute_scale_factor", "non_integer_scale"]),
        ("scale_0_6_recompute", dict(scale_factor=0.6, recompute_scale_factor=True),
         ["scale_factor", "recompute_scale_factor", "non_integer_scale", "downsample"]),
        ("scale_list_recompute", dict(scale_factor=per_dim(nd, 1.7, 0.6, 2.3),
                                      recompute_scale_factor=True),
         ["scale_factor", "recompute_scale_factor", "per_dim_list"]),
        ("scale_1_7_recompute_false", dict(scale_factor=1.7, recompute_scale_factor=False),
         ["scale_factor", "recompute_scale_factor", "non_integer_scale"]),
    ]


# Variants repeated with align_corners=True (and a few with an explicit False) for linear modes.
ALIGN_TRUE = ("size_int_up", "size_int_down", "size_1", "size_list_mixed", "scale_2",
              "scale_1_7", "scale_0_6", "scale_list_non_integer", "scale_1_7_recompute")
ALIGN_FALSE = ("size_int_up", "scale_1_7", "scale_0_6_recompute")


def interp_args(shape, mode, dtype="float32", **params):
    args = {"input": Uniform(shape, dtype=dtype)}
    for key in ("size", "scale_factor"):
        if key in params:
            args[key] = params.pop(key)
    if mode is not None:
        args["mode"] = mode
    args.update(params)
    return args


def mode_file(mode):
    f = FixtureFile(f"interpolate/{mode}")
    base = ["interpolate", mode]
    for rank in MODE_RANKS[mode]:
        shape = SHAPES[rank]
        variants = sizing_variants(rank)
        for label, params, tags in variants:
            f.add(f"{rank}d_{label}", "interpolate", interp_args(shape, mode, **params),
                  base + [f"rank{rank}"] + tags)
        if mode in ALIGNABLE:
            for align in (True, False):
                for label, params, tags in variants:
                    if label in (ALIGN_TRUE if align else ALIGN_FALSE):
                        f.add(f"{rank}d_{label}_align_corners_{str(align).lower()}",
                              "interpolate",
                              interp_args(shape, mode, align_corners=align, **params),
                              base + [f"rank{rank}", "align_corners"] + tags)
    rank = MODE_RANKS[mode][0]
    f.add(f"{rank}d_float64_scale_1_7", "interpolate",
          interp_args(SHAPES[rank], mode, "float64", scale_factor=1.7),
          base + [f"rank{rank}", "float64", "scale_factor", "non_integer_scale"])
    if mode in ALIGNABLE:
        f.add(f"{rank}d_float64_size_list_align_corners_true", "interpolate",
              interp_args(SHAPES[rank], mode, "float64", size=per_dim(rank - 2, 8, 3, 5),
                          align_corners=True),
              base + [f"rank{rank}", "float64", "size", "align_corners"])
    if mode == "nearest":
        f.add("4d_default_mode", "interpolate", interp_args(SHAPES[4], None, scale_factor=2.0),
              base + ["rank4", "default", "scale_factor"])
    shape, params = LARGE[mode]
    f.add("large_realistic", "interpolate", interp_args(shape, mode, **params),
          base + [f"rank{len(shape)}", "large"])
    return f


def error_cases():
    """(name, args, tags)."""
    wrong_rank = [(mode, rank) for mode, ranks in MODE_RANKS.items() for rank in (3, 4, 5)
                  if rank not in ranks]
    cases = [(f"{mode}_on_{rank}d", interp_args(SHAPES[rank], mode, scale_factor=2.0),
              ["rank", mode]) for mode, rank in wrong_rank]
    cases += [
        ("nearest_on_2d", interp_args((2, 5), "nearest", scale_factor=2.0), ["rank"]),
        ("area_on_6d", interp_args((1, 1, 2, 2, 2, 2), "area", size=3), ["rank"]),
        ("bilinear_on_2d", interp_args((2, 5), "bilinear", size=3), ["rank"]),
        ("align_corners_true_with_nearest",
         interp_args(SHAPES[4], "nearest", scale_factor=2.0, align_corners=True),
         ["align_corners"]),
        ("align_corners_false_with_nearest",
         interp_args(SHAPES[4], "nearest", scale_factor=2.0, align_corners=False),
         ["align_corners"]),
        ("align_corners_true_with_nearest_exact",
         interp_args(SHAPES[3], "nearest-exact", size=7, align_corners=True), ["align_corners"]),
        ("align_corners_true_with_area",
         interp_args(SHAPES[5], "area", size=2, align_corners=True), ["align_corners"]),
        ("both_size_and_scale_factor",
         interp_args(SHAPES[4], "bilinear", size=6, scale_factor=2.0), ["size", "scale_factor"]),
        ("neither_size_nor_scale_factor", interp_args(SHAPES[4], "nearest"),
         ["size", "scale_factor"]),
        ("size_list_too_long", interp_args(SHAPES[3], "linear", size=[4, 6]), ["size"]),
        ("size_list_too_short", interp_args(SHAPES[5], "trilinear", size=[4, 6]), ["size"]),
        ("scale_list_too_long", interp_args(SHAPES[4], "bicubic", scale_factor=[2.0, 2.0, 2.0]),
         ["scale_factor"]),
        ("scale_list_too_short", interp_args(SHAPES[4], "nearest", scale_factor=[2.0]),
         ["scale_factor"]),
        ("recompute_scale_factor_with_size",
         interp_args(SHAPES[4], "bilinear", size=6, recompute_scale_factor=True),
         ["recompute_scale_factor"]),
        ("invalid_mode", interp_args(SHAPES[4], "cubic", size=6), ["mode"]),
        ("size_zero", interp_args(SHAPES[4], "bilinear", size=0), ["size"]),
        ("scale_too_small_for_output", interp_args(SHAPES[4], "nearest", scale_factor=0.1),
         ["scale_factor"]),
    ]
    return cases


def errors_file():
    f = FixtureFile("interpolate/errors")
    for name, args, tags in error_cases():
        f.add(name, "interpolate", args, ["interpolate", "error"] + tags, error=True)
    return f


def build():
    return [mode_file(mode) for mode in MODE_RANKS] + [errors_file()]
