"""conv1d / conv2d / conv3d: `Fixtures/conv/conv{1,2,3}d.json` and `conv/errors.json`.

Cases follow the shape of PyTorch's OpInfo `sample_inputs_conv{1,2,3}d`: a hand-picked list of
parameter uses (per-dim lists, "same"/"valid", even kernels, depthwise with channel multiplier,
unbatched input, float64) plus the stride x padding x dilation x groups grid.
"""

import itertools

from ..cases import FixtureFile
from ..tensors import Uniform

# Batch and spatial size of the usual input per conv rank (non-square on purpose).
BATCH = {1: 2, 2: 2, 3: 1}
SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 6, 5)}


def per_dim(d, *values):
    """A per-dimension list argument for a rank-`d` conv: the first `d` of `values`."""
    return list(values[:d])


def conv_args(d, *, batch=None, cin=4, cout=4, kernel=3, spatial=None, groups=1, bias=True,
              dtype="float32", unbatched=False, weight_cin=None, input_dtype=None,
              bias_size=None, bias_dtype=None, **params):
    """Arguments of a conv{d}d call. `kernel` is an int or a per-dim tuple; `params` are the
    call's stride / padding / dilation (written only when given). `weight_cin`, `input_dtype`,
    `bias_size` and `bias_dtype` break the call on purpose for error cases."""
    batch = BATCH[d] if batch is None else batch
    spatial = tuple(SPATIAL[d] if spatial is None else spatial)
    kernel = tuple(kernel) if isinstance(kernel, (tuple, list)) else (kernel,) * d
    input_shape = ((cin,) if unbatched else (batch, cin)) + spatial
    weight_shape = (cout, weight_cin or cin // max(groups, 1)) + kernel
    args = {"input": Uniform(input_shape, dtype=input_dtype or dtype),
            "weight": Uniform(weight_shape, dtype=dtype)}
    if bias is None:
        args["bias"] = None
    elif bias:
        args["bias"] = Uniform((bias_size or cout,), dtype=bias_dtype or dtype)
    args.update(params)
    if groups != 1:
        args["groups"] = groups
    return args


def tags_of(args, extra=()):
    """Tags naming the features a conv case exercises."""
    tags = ["conv"]
    for key in ("stride", "padding", "dilation", "groups"):
        if key in args:
            tags.append(key)
    padding = args.get("padding")
    if isinstance(padding, str):
        tags.append(f"padding_{padding}")
    if "bias" not in args or args["bias"] is None:
        tags.append("no_bias")
    for key in ("stride", "padding", "dilation"):
        if isinstance(args.get(key), list):
            tags.append("per_dim_list")
    if args["input"].dtype == "float64":
        tags.append("float64")
    return tags + list(extra)


def curated(d):
    """(name, conv_args kwargs, extra tags) for a rank-`d` conv."""
    cin = 4
    spatial = SPATIAL[d]
    nonsquare = per_dim(d, 3, 2, 1) if d > 1 else [2]
    return [
        ("defaults", {}, []),
        ("no_bias", dict(bias=False), []),
        ("bias_null", dict(bias=None), []),
        ("batch1", dict(batch=1), []),
        ("cin1_cout3", dict(cin=1, cout=3), []),
        ("kernel1", dict(kernel=1), ["pointwise"]),
        ("kernel_equals_input", dict(kernel=spatial), ["output_size_1"]),
        ("nonsquare_kernel", dict(kernel=nonsquare), ["nonsquare_kernel"]),
        ("even_kernel", dict(kernel=2), ["even_kernel"]),
        ("stride2", dict(stride=2), []),
        ("stride_list", dict(stride=per_dim(d, 2, 1, 3)), []),
        ("stride_gt_kernel", dict(kernel=2, stride=3), []),
        ("pad1", dict(padding=1), []),
        ("pad_list", dict(padding=per_dim(d, 1, 0, 2)), []),
        ("pad_larger_than_kernel", dict(padding=3), []),
        ("pad_same", dict(padding="same"), []),
        ("pad_same_even_kernel", dict(kernel=4, padding="same"), ["even_kernel"]),
        ("pad_same_even_kernel2", dict(kernel=2, padding="same", bias=False), ["even_kernel"]),
        ("pad_same_nonsquare_kernel", dict(kernel=per_dim(d, 4, 3, 2), padding="same"),
         ["even_kernel", "nonsquare_kernel"]),
        ("pad_same_dil3", dict(padding="same", dilation=3), []),
        ("pad_same_even_kernel_dil2", dict(kernel=4, padding="same", dilation=2), ["even_kernel"]),
        ("pad_same_g2", dict(padding="same", groups=2), []),
        ("pad_valid", dict(padding="valid"), []),
        ("pad_valid_stride2", dict(padding="valid", stride=2), []),
        ("dil2", dict(dilation=2), []),
        ("dil_list", dict(dilation=per_dim(d, 2, 1, 2)), []),
        ("g2", dict(groups=2), []),
        ("g4_cout8", dict(groups=4, cout=8), []),
        ("depthwise", dict(groups=cin, cout=cin), ["depthwise"]),
        ("depthwise_mult2", dict(groups=cin, cout=2 * cin), ["depthwise", "channel_multiplier"]),
        ("depthwise_mult3_stride2_pad1_nobias",
         dict(groups=cin, cout=3 * cin, stride=2, padding=1, bias=False),
         ["depthwise", "channel_multiplier"]),
        ("unbatched", dict(unbatched=True), ["unbatched"]),
        ("unbatched_stride2_pad1_g2", dict(unbatched=True, stride=2, padding=1, groups=2),
         ["unbatched"]),
        ("unbatched_pad_same", dict(unbatched=True, padding="same", kernel=2), ["unbatched"]),
        ("float64", dict(dtype="float64"), []),
        ("float64_stride2_pad1_dil2_g2",
         dict(dtype="float64", stride=2, padding=1, dilation=2, groups=2), []),
        ("float64_pad_same_even_kernel", dict(dtype="float64", kernel=4, padding="same"),
         ["even_kernel"]),
        ("float64_depthwise_mult2", dict(dtype="float64", groups=cin, cout=2 * cin),
         ["depthwise", "channel_multiplier"]),
    ]


# A realistic layer per rank: inputs via `init`, outputs via `b64`.
LARGE = {
    1: dict(batch=2, cin=16, cout=32, kernel=5, spatial=(128,), padding=2),
    2: dict(batch=1, cin=8, cout=16, kernel=3, spatial=(28, 28), padding=1),
    3: dict(batch=1, cin=4, cout=8, kernel=3, spatial=(8, 12, 12), padding=1, stride=[1, 2, 2]),
}


def grid(d):
    """stride x padding x dilation x groups; bias on half the cases, chosen so that every value
    of every parameter appears both with and without bias."""
    for stride, (pad_index, padding), dilation, groups in itertools.product(
            (1, 2), enumerate(("0", "1", "same_or_list")), (1, 2), (1, 2)):
        if padding == "same_or_list":
            # "same" only exists for stride 1; strided cases use a per-dim list instead.
            pad_value, pad_name = ("same", "same") if stride == 1 else (per_dim(d, 2, 1, 0), "list")
        else:
            pad_value, pad_name = int(padding), padding
        bias = (stride + pad_index + dilation + groups + 1) % 2 == 0
        name = f"stride{stride}_pad{pad_name}_dil{dilation}_g{groups}" + ("" if bias else "_nobias")
        yield name, dict(stride=stride, padding=pad_value, dilation=dilation, groups=groups,
                         bias=bias), ["grid"]


def forward_file(d):
    f = FixtureFile(f"conv/conv{d}d")
    call = f"conv{d}d"
    for name, kwargs, extra in itertools.chain(curated(d), grid(d)):
        args = conv_args(d, **kwargs)
        f.add(name, call, args, tags_of(args, extra))
    args = conv_args(d, **LARGE[d])
    f.add("large_realistic", call, args, tags_of(args, ["large"]))
    return f


def error_specs(d):
    """(name, conv_args kwargs, tags) that torch must reject."""
    small = (2,) * d
    return [
        ("groups_channel_mismatch", dict(cin=5, weight_cin=3, cout=6, groups=2), ["groups"]),
        ("channel_mismatch", dict(cin=3, weight_cin=4), ["channels"]),
        ("input_rank_too_low", dict(unbatched=True, spatial=(9,) * (d - 1)), ["rank"]),
        ("input_rank_too_high", dict(spatial=(3,) * (d + 1)), ["rank"]),
        ("kernel_larger_than_input", dict(spatial=small), ["kernel_size"]),
        ("kernel_larger_than_padded_input", dict(spatial=small, kernel=5, padding=1),
         ["kernel_size", "padding"]),
        ("pad_same_with_stride2", dict(padding="same", stride=2), ["padding_same", "stride"]),
        ("invalid_padding_string", dict(padding="full"), ["padding"]),
        ("weight_not_divisible_by_groups", dict(cout=5, groups=2), ["groups"]),
        ("groups_zero", dict(groups=0, weight_cin=4), ["groups"]),
        ("bias_wrong_size", dict(bias_size=3), ["bias"]),
        ("negative_padding", dict(padding=-1), ["padding"]),
        ("stride_zero", dict(stride=0), ["stride"]),
        ("stride_negative", dict(stride=-1), ["stride"]),
        ("stride_list_wrong_length", dict(stride=[1] * (d + 1)), ["stride"]),
        ("dilation_zero", dict(dilation=0), ["dilation"]),
        ("dtype_mismatch_input_float32_weight_float64",
         dict(dtype="float64", input_dtype="float32", bias=False), ["dtype"]),
        ("dtype_mismatch_input_float64_weight_float32",
         dict(input_dtype="float64", bias=False), ["dtype"]),
        ("dtype_mismatch_bias_float64", dict(bias_dtype="float64"), ["dtype", "bias"]),
    ]


def errors_file():
    f = FixtureFile("conv/errors")
    for d in (1, 2, 3):
        for name, kwargs, extra in error_specs(d):
            f.add(f"conv{d}d_{name}", f"conv{d}d", conv_args(d, **kwargs),
                  ["conv", "error"] + extra, error=True)
    return f


def build():
    return [forward_file(1), forward_file(2), forward_file(3), errors_file()]
