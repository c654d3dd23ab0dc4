"""sampling: `Fixtures/sampling/{affine_grid,grid_sample_2d,grid_sample_3d,errors,programs}.json`.

`affine_grid` on 2-D and 3-D sizes, both `align_corners` and its `None` default (a warning), unit
sizes (the align_corners=True warning), float64 and a larger grid, with theta's gradient.
`grid_sample` on 4-D and 5-D inputs for every mode x padding_mode x align_corners, each with a
random grid in [-1.2, 1.2], a grid from `affine_grid` (a random affine map near the identity,
scaled up so that it reaches outside the input), and a grid far outside (multiple reflections);
identity grids (the input comes back), exact half-pixel ties for `nearest` (rounded half to
even), a one-pixel input, float64, NaN and infinite coordinates (forward only: ATen's backward
reads out of bounds there), inputs that do not require grad, empty batch / channels / output,
and realistic sizes; gradients for input and grid (and theta) throughout. Errors: invalid mode
and padding_mode, non-bool align_corners, batch, last-dimension and rank mismatches, empty
spatial dimensions, 0-d tensors, integer inputs and dtype mismatches, and affine_grid's
theta-shape, size-rank, size-value and batch errors. Programs chain affine_grid into grid_sample
and check `grad_fn`, theta's gradient and the version check of the saved input.
"""

import numpy as np
import torch
import torch.nn.functional as F

from ..cases import FixtureFile, ref
from ..rng import uniform
from ..tensors import Given, Uniform, given

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")
ALIGNS = (False, True)

# Per spatial rank: input shape, grid's spatial (output) shape, a realistic input and output.
INPUT = {2: (2, 3, 5, 6), 3: (2, 2, 3, 4, 5)}
OUT = {2: (4, 3), 3: (2, 3, 2)}
LARGE = {2: ((1, 3, 24, 24), (20, 20)), 3: ((1, 2, 8, 8, 8), (6, 6, 6))}


def flag(align):
    return str(align).lower()


def grid_spec(d, out=None, batch=None, lo=-1.2, hi=1.2, dtype="float32"):
    batch = INPUT[d][0] if batch is None else batch
    return Uniform((batch,) + tuple(out or OUT[d]) + (d,), lo, hi, dtype)


def theta_near_identity(d, batch, seed, scale=1.0, dtype="float32"):
    """A random affine map per batch entry: (identity + U(-0.3, 0.3)) times `scale`."""
    eye = np.eye(d, d + 1)
    noise = uniform((batch, d, d + 1), -0.3, 0.3, seed, np.float64)
    return torch.from_numpy(((eye + noise) * scale).astype(dtype))


def affine_grid_spec(d, align, seed, scale=1.3, dtype="float32", out=None, batch=None):
    """A `Given` grid made by torch's affine_grid, so grid_sample sees what a transformer feeds it."""
    batch = INPUT[d][0] if batch is None else batch
    theta = theta_near_identity(d, batch, seed, scale, dtype)
    size = [batch, 1] + list(out or OUT[d])
    return Given(F.affine_grid(theta, size, align_corners=align).numpy())


def identity_grid_spec(d, shape, align, dtype="float32"):
    theta = torch.eye(d, d + 1, dtype=getattr(torch, dtype)).expand(shape[0], d, d + 1)
    return Given(F.affine_grid(theta, list(shape), align_corners=align).numpy())


def sample_args(d, grid, mode=None, padding=None, align=None, dtype="float32", shape=None):
    args = {"input": Uniform(tuple(shape or INPUT[d]), dtype=dtype), "grid": grid}
    for key, value in (("mode", mode), ("padding_mode", padding), ("align_corners", align)):
        if value is not None:
            args[key] = value
    return args


def special_grid(d, dtype="float32"):
    """Coordinates NaN, ±inf and in range, each special value in every coordinate slot."""
    specials = [float("nan"), float("inf"), float("-inf")]
    points = []
    for value in specials:
        for slot in range(d):
            point = [0.3] * d
            point[slot] = value
            points.append(point)
    points.append([float("nan")] * d)
    points.append([0.25] * d)
    out = (1, 1, len(points)) if d == 3 else (1, len(points))
    return given([points], dtype, shape=(1,) + out + (d,))


def ties_grid(d):
    """Normalized coordinates on multiples of 1/4: on a 4-pixel axis (u = 2g + 1.5 with
    align_corners=False) every pixel centre and every exact half-pixel tie."""
    steps = np.arange(-1.0, 1.0 + 1e-9, 0.25)
    grid = np.stack(np.meshgrid(*([steps] * d), indexing="ij"), -1)[..., ::-1]
    return Given(np.ascontiguousarray(grid[None]).astype(np.float32))


def grid_sample_file(d):
    f = FixtureFile(f"sampling/grid_sample_{d}d")
    base = ["grid_sample", f"{d}d"]
    add = lambda name, args, tags, **kw: f.add(name, "grid_sample", args, base + tags, **kw)
    seed = 100 * d
    for mode in MODES:
        for padding in PADDINGS:
            for align in ALIGNS:
                combo = f"{mode}_{padding}_align_{flag(align)}"
                tags = [mode, padding, "align_corners"]
                seed += 1
                add(combo, sample_args(d, grid_spec(d), mode, padding, align), tags + ["random_grid"])
                add(f"{combo}_affine_grid", sample_args(d, affine_grid_spec(d, align, seed), mode, padding, align),
                    tags + ["affine_grid"])
                add(f"{combo}_far_outside",
                    sample_args(d, grid_spec(d, lo=-2.5, hi=2.5), mode, padding, align), tags + ["outside"])
            add(f"{mode}_{padding}_float64",
                sample_args(d, grid_spec(d, dtype="float64"), mode, padding, True, "float64"),
                [mode, padding, "float64"])
            add(f"{mode}_{padding}_special_coordinates",
                sample_args(d, special_grid(d), mode, padding, False, shape=(1, 2) + INPUT[d][2:]),
                [mode, padding, "nan", "inf"], backward=False)
        for align in ALIGNS:
            shape = INPUT[d]
            add(f"{mode}_identity_align_{flag(align)}",
                sample_args(d, identity_grid_spec(d, shape, align), mode, "zeros", align), [mode, "identity"])
        add(f"{mode}_one_pixel_reflection_align_true",
            sample_args(d, grid_spec(d, batch=1), mode, "reflection", True, shape=(1, 2) + (1,) * d),
            [mode, "reflection", "one_pixel"])
        add(f"{mode}_one_pixel_border_align_false",
            sample_args(d, grid_spec(d, batch=1), mode, "border", False, shape=(1, 2) + (1,) * d),
            [mode, "border", "one_pixel"])
        large_shape, large_out = LARGE[d]
        add(f"{mode}_large_affine_grid",
            sample_args(d, affine_grid_spec(d, False, seed + 7, 1.1, out=large_out, batch=1), mode, "border", False,
                        shape=large_shape),
            [mode, "border", "affine_grid", "large"])
    for padding in PADDINGS:
        add(f"nearest_half_pixel_ties_{padding}",
            sample_args(d, ties_grid(d), "nearest", padding, False, shape=(1, 2) + (4,) * d),
            ["nearest", padding, "ties"])
    add("defaults", sample_args(d, grid_spec(d)), ["default", "warning"], warns=True)
    add("explicit_none_align_corners", sample_args(d, grid_spec(d), "bilinear", "zeros", None) | {"align_corners": None},
        ["default", "warning"], warns=True)
    add("input_only_requires_grad",
        sample_args(d, Uniform(grid_spec(d).shape, -1.2, 1.2, requires_grad=False), "bilinear", "border", False),
        ["bilinear", "requires_grad"])
    add("grid_only_requires_grad",
        {**sample_args(d, grid_spec(d), "bicubic", "zeros", True),
         "input": Uniform(INPUT[d], requires_grad=False)}, ["bicubic", "requires_grad"])
    empty = {"empty_batch": ((0,) + INPUT[d][1:], grid_spec(d, batch=0)),
             "empty_channels": ((2, 0) + INPUT[d][2:], grid_spec(d)),
             "empty_output": (INPUT[d], grid_spec(d, out=(0,) + OUT[d][1:]))}
    for name, (shape, grid) in empty.items():
        add(name, sample_args(d, grid, "bilinear", "zeros", False, shape=shape), ["bilinear", "empty"])
    return f


def affine_grid_file():
    f = FixtureFile("sampling/affine_grid")
    sizes = {2: [2, 3, 4, 5], 3: [2, 3, 3, 4, 5]}
    for d, size in sizes.items():
        theta = lambda batch=size[0], dtype="float32": Uniform((batch, d, d + 1), dtype=dtype)
        tags = ["affine_grid", f"{d}d"]
        for align in ALIGNS:
            f.add(f"{d}d_align_{flag(align)}", "affine_grid",
                  {"theta": theta(), "size": size, "align_corners": align}, tags + ["align_corners"])
        f.add(f"{d}d_default_align_corners", "affine_grid", {"theta": theta(), "size": size},
              tags + ["default", "warning"], warns=True)
        unit = size[:2] + [1] * (d - 1) + [5]
        f.add(f"{d}d_unit_size_align_true", "affine_grid",
              {"theta": theta(), "size": unit, "align_corners": True}, tags + ["unit_size", "warning"], warns=True)
        f.add(f"{d}d_unit_size_align_false", "affine_grid",
              {"theta": theta(), "size": unit, "align_corners": False}, tags + ["unit_size"])
        f.add(f"{d}d_all_unit_align_true", "affine_grid",
              {"theta": theta(), "size": size[:2] + [1] * d, "align_corners": True},
              tags + ["unit_size", "warning"], warns=True)
        f.add(f"{d}d_float64", "affine_grid",
              {"theta": theta(dtype="float64"), "size": size, "align_corners": False}, tags + ["float64"])
        f.add(f"{d}d_batch_of_one", "affine_grid",
              {"theta": theta(1), "size": [1, 1] + size[2:], "align_corners": True}, tags)
        large = [1, 3] + [16] * d if d == 2 else [1, 2] + [8] * d
        f.add(f"{d}d_large", "affine_grid", {"theta": theta(1), "size": large, "align_corners": False},
              tags + ["large"])
        f.add(f"{d}d_empty_channels_unit_size_align_true", "affine_grid",
              {"theta": theta(), "size": [size[0], 0] + [1] * (d - 1) + [4], "align_corners": True},
              tags + ["unit_size", "warning"], warns=True)
    return f


def error_cases():
    """(name, op, args, tags, warns)."""
    x = lambda *shape, dtype="float32": Uniform(shape, dtype=dtype)
    g = lambda *shape, dtype="float32": Uniform(shape, -1.2, 1.2, dtype)
    ints = lambda *shape: given(np.zeros(shape, dtype=np.int64), "int64")
    sample = lambda inp, grid, **kw: {"input": inp, "grid": grid, "align_corners": False, **kw}
    cases = [
        ("invalid_mode", "grid_sample", sample(x(1, 1, 3, 3), g(1, 2, 2, 2), mode="cubic"), ["mode"]),
        ("invalid_mode_before_padding", "grid_sample",
         sample(x(1, 1, 3, 3), g(1, 2, 2, 2), mode="linear", padding_mode="circular"), ["mode"]),
        ("mode_none", "grid_sample", sample(x(1, 1, 3, 3), g(1, 2, 2, 2), mode=None), ["mode"]),
        ("invalid_padding_mode", "grid_sample",
         sample(x(1, 1, 3, 3), g(1, 2, 2, 2), padding_mode="circular"), ["padding_mode"]),
        ("align_corners_int", "grid_sample", sample(x(1, 1, 3, 3), g(1, 2, 2, 2), align_corners=1),
         ["align_corners", "type_error"]),
        ("batch_mismatch", "grid_sample", sample(x(2, 1, 3, 3), g(1, 2, 2, 2)), ["shape"]),
        ("grid_last_dim_3_for_4d", "grid_sample", sample(x(1, 1, 3, 3), g(1, 2, 2, 3)), ["shape"]),
        ("grid_last_dim_2_for_5d", "grid_sample", sample(x(1, 1, 3, 3, 3), g(1, 2, 2, 2, 2)), ["shape"]),
        ("grid_5d_for_4d_input", "grid_sample", sample(x(1, 1, 3, 3), g(1, 2, 2, 2, 2)), ["rank"]),
        ("grid_4d_for_5d_input", "grid_sample", sample(x(1, 1, 3, 3, 3), g(1, 2, 2, 3)), ["rank"]),
        ("input_3d", "grid_sample", sample(x(1, 1, 3), g(1, 2, 1)), ["rank"]),
        ("input_6d", "grid_sample", sample(x(1, 1, 2, 2, 2, 2), g(1, 2, 2, 2, 2, 4)), ["rank"]),
        ("input_0d", "grid_sample", sample(given(1.0), g(1, 2, 2, 2)), ["rank"]),
        ("grid_0d", "grid_sample", sample(x(1, 1, 3, 3), given(0.5)), ["rank"]),
        ("empty_spatial_2d", "grid_sample", sample(x(1, 1, 0, 3), g(1, 2, 2, 2)), ["empty"]),
        ("empty_spatial_3d", "grid_sample", sample(x(1, 1, 2, 3, 0), g(1, 2, 2, 2, 3)), ["empty"]),
        ("int_input_2d", "grid_sample", sample(ints(1, 1, 3, 3), g(1, 2, 2, 2)), ["dtype"]),
        ("int_input_3d", "grid_sample", sample(ints(1, 1, 2, 3, 3), g(1, 2, 2, 2, 3)), ["dtype"]),
        ("int_grid", "grid_sample", sample(x(1, 1, 3, 3), ints(1, 2, 2, 2)), ["dtype"]),
        ("float64_grid_float32_input_2d", "grid_sample",
         sample(x(1, 1, 3, 3), g(1, 2, 2, 2, dtype="float64")), ["dtype"]),
        ("float32_grid_float64_input_3d", "grid_sample",
         sample(x(1, 1, 2, 3, 3, dtype="float64"), g(1, 2, 2, 2, 3)), ["dtype"]),
        ("shape_error_after_default_warning", "grid_sample",
         {"input": x(2, 1, 3, 3), "grid": g(1, 2, 2, 2)}, ["shape", "warning"], True),
        ("theta_2x3_for_5d_size", "affine_grid",
         {"theta": x(2, 2, 3), "size": [2, 1, 3, 4, 5], "align_corners": False}, ["shape"]),
        ("theta_3x4_for_4d_size", "affine_grid",
         {"theta": x(2, 3, 4), "size": [2, 1, 4, 5], "align_corners": False}, ["shape"]),
        ("theta_2d", "affine_grid", {"theta": x(2, 3), "size": [2, 1, 4, 5], "align_corners": False}, ["shape"]),
        ("size_rank_3", "affine_grid", {"theta": x(2, 2, 3), "size": [2, 1, 4], "align_corners": False}, ["size"]),
        ("size_rank_6", "affine_grid",
         {"theta": x(2, 2, 3), "size": [2, 1, 4, 5, 6, 7], "align_corners": False}, ["size"]),
        ("size_zero", "affine_grid", {"theta": x(2, 2, 3), "size": [2, 1, 0, 5], "align_corners": False}, ["size"]),
        ("size_negative", "affine_grid",
         {"theta": x(2, 3, 4), "size": [2, 1, 3, -1, 5], "align_corners": True}, ["size"]),
        ("size_zero_channels", "affine_grid",
         {"theta": x(2, 2, 3), "size": [2, 0, 4, 5], "align_corners": False}, ["size"]),
        ("size_zero_with_unit_align_true", "affine_grid",
         {"theta": x(2, 2, 3), "size": [2, 1, 1, 0], "align_corners": True}, ["size"]),
        ("size_float_entry", "affine_grid",
         {"theta": x(2, 2, 3), "size": [2, 1, 4.0, 5], "align_corners": False}, ["size", "type_error"]),
        ("size_int", "affine_grid", {"theta": x(2, 2, 3), "size": 4, "align_corners": False}, ["size", "type_error"]),
        ("batch_mismatch_2d", "affine_grid",
         {"theta": x(2, 2, 3), "size": [3, 1, 4, 5], "align_corners": False}, ["batch"]),
        ("batch_mismatch_3d", "affine_grid",
         {"theta": x(2, 3, 4), "size": [1, 1, 2, 4, 5], "align_corners": False}, ["batch"]),
        ("int_theta", "affine_grid", {"theta": ints(2, 2, 3), "size": [2, 1, 4, 5], "align_corners": False},
         ["dtype"]),
        ("align_corners_int", "affine_grid",
         {"theta": x(2, 2, 3), "size": [2, 1, 4, 5], "align_corners": 0}, ["align_corners", "type_error"]),
        ("theta_shape_error_after_default_warning", "affine_grid",
         {"theta": x(2, 3, 4), "size": [2, 1, 4, 5]}, ["shape", "warning"], True),
    ]
    return [c if len(c) == 5 else c + (False,) for c in cases]


def errors_file():
    f = FixtureFile("sampling/errors")
    for name, op, args, tags, warns in error_cases():
        f.add(f"{op}_{name}", op, args, [op, "error"] + tags, error=True, warns=warns)
    return f


def programs_file():
    f = FixtureFile("sampling/programs")
    for d, mode in ((2, "bilinear"), (2, "bicubic"), (3, "bilinear"), (3, "nearest")):
        shape = INPUT[d]
        with f.program(f"affine_grid_into_grid_sample_{d}d_{mode}",
                       ["affine_grid", "grid_sample", "grad_fn", "autograd", mode]) as p:
            p.tensor("theta", Uniform((shape[0], d, d + 1), -1.0, 1.0), requires_grad=True)
            p.tensor("x", Uniform(shape), requires_grad=True)
            p.call("affine_grid", "grid", theta=ref("theta"), size=list(shape[:2]) + [3] * d, align_corners=False)
            p.call("grid_sample", "y", input=ref("x"), grid=ref("grid"), mode=mode, padding_mode="reflection",
                   align_corners=False)
            p.check_attrs("grid")
            p.check_attrs("y")
            p.call("sum", "s", input=ref("y"))
            p.backward("s")
            p.check_grad("theta")
            p.check_grad("x")
    for d in (2, 3):
        with f.program(f"saved_input_modified_then_backward_{d}d",
                       ["grid_sample", "autograd", "inplace", "version_counter", "error"]) as p:
            p.tensor("x", Uniform(INPUT[d]), requires_grad=True)
            p.tensor("grid", grid_spec(d))
            p.call("mul", "a", input=ref("x"), other=2.0)
            p.call("grid_sample", "y", input=ref("a"), grid=ref("grid"), align_corners=True)
            p.call("add_", input=ref("a"), other=1.0)
            p.call("sum", "s", input=ref("y"))
            p.backward("s", error=True)
    return f


def build():
    return [affine_grid_file(), grid_sample_file(2), grid_sample_file(3), errors_file(), programs_file()]
