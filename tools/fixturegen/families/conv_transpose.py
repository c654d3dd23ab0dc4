"""conv_transpose1d / 2d / 3d: `Fixtures/conv_transpose/conv_transpose{1,2,3}d.json`,
`conv_transpose/errors.json` and `conv_transpose/programs.json`.

Cases follow the shape of PyTorch's OpInfo `sample_inputs_conv_transpose{1,2,3}d` (its own
cases are included): hand-picked parameter uses (per-dim lists, output padding below the stride
and below the dilation only, gaps when the stride exceeds the kernel, groups and depthwise with
channel multipliers, unbatched input, float64, a bias of another dtype where PyTorch casts it,
an empty batch) plus the stride x padding x output_padding x dilation x groups grid, one
realistic layer per rank, PyTorch's errors for each backend it picks (oneDNN for most float32
calls, the slow kernels otherwise), and programs for `grad_fn` and the saved input's version.
"""

import itertools

from ..cases import FixtureFile, ref
from ..tensors import Uniform

BATCH = {1: 2, 2: 2, 3: 1}
SPATIAL = {1: (7,), 2: (5, 4), 3: (3, 4, 3)}


def per_dim(d, *values):
    """A per-dimension list argument for a rank-`d` op: the first `d` of `values`."""
    return list(values[:d])


def args_of(d, *, batch=None, cin=4, cout=4, kernel=3, spatial=None, groups=1, bias=True,
            dtype="float32", unbatched=False, weight_cin=None, input_dtype=None, bias_size=None,
            bias_dtype=None, weight_shape=None, replace=None, **params):
    """Arguments of a conv_transpose{d}d call: weight `(cin, cout/groups, *kernel)`. `params` are
    stride / padding / output_padding / dilation (written only when given); `weight_cin`,
    `input_dtype`, `bias_size`, `bias_dtype`, `weight_shape` and `replace` (arguments written
    as given) break the call on purpose."""
    batch = BATCH[d] if batch is None else batch
    spatial = tuple(SPATIAL[d] if spatial is None else spatial)
    kernel = tuple(kernel) if isinstance(kernel, (tuple, list)) else (kernel,) * d
    input_shape = ((cin,) if unbatched else (batch, cin)) + spatial
    weight = weight_shape or (weight_cin or cin, cout // max(groups, 1)) + kernel
    args = {"input": Uniform(input_shape, dtype=input_dtype or dtype),
            "weight": Uniform(tuple(weight), dtype=dtype)}
    if bias is None:
        args["bias"] = None
    elif bias:
        args["bias"] = Uniform((bias_size or cout,) if not isinstance(bias_size, tuple) else bias_size,
                               dtype=bias_dtype or dtype)
    args.update(params)
    if groups != 1:
        args["groups"] = groups
    args.update(replace or {})
    return args


def tags_of(args, extra=()):
    tags = ["conv_transpose"]
    for key in ("stride", "padding", "output_padding", "dilation", "groups"):
        if key in args:
            tags.append(key)
    if args.get("bias") is None:
        tags.append("no_bias")
    if any(isinstance(args.get(k), list) for k in ("stride", "padding", "output_padding", "dilation")):
        tags.append("per_dim_list")
    if args["input"].dtype == "float64":
        tags.append("float64")
    return tags + list(extra)


def curated(d):
    """(name, args_of kwargs, extra tags) for a rank-`d` transposed convolution."""
    cin = 4
    nonsquare = per_dim(d, 3, 2, 1) if d > 1 else [2]
    return [
        ("defaults", {}, []),
        ("no_bias", dict(bias=False), []),
        ("bias_null", dict(bias=None), []),
        ("batch1", dict(batch=1), []),
        ("cin1_cout3", dict(cin=1, cout=3), []),
        ("cin3_cout1", dict(cin=3, cout=1), []),
        ("kernel1", dict(kernel=1), ["pointwise"]),
        ("nonsquare_kernel", dict(kernel=nonsquare), ["nonsquare_kernel"]),
        ("even_kernel", dict(kernel=2), ["even_kernel"]),
        ("input_size1", dict(spatial=(1,) * d), []),
        ("stride2", dict(stride=2), []),
        ("stride_list", dict(stride=per_dim(d, 2, 1, 3)), []),
        ("stride_equals_kernel", dict(kernel=2, stride=2), ["non_overlapping"]),
        ("stride_gt_kernel", dict(kernel=2, stride=3), ["gaps"]),
        ("pad1", dict(padding=1), []),
        ("pad_list", dict(padding=per_dim(d, 1, 0, 2)), []),
        ("pad_one_element_list", dict(padding=[1]), []),
        ("pad_crops_to_one", dict(spatial=(3,) * d, padding=2), ["output_size_1"]),
        ("output_padding1_stride2", dict(stride=2, output_padding=1), []),
        ("output_padding2_stride3", dict(stride=3, output_padding=2), []),
        ("output_padding_list", dict(stride=per_dim(d, 2, 3, 2), output_padding=per_dim(d, 1, 2, 0)), []),
        ("output_padding_below_dilation_only", dict(dilation=2, output_padding=1), ["output_padding_ge_stride"]),
        ("output_padding_below_dilation_only_g2", dict(dilation=3, output_padding=2, groups=2),
         ["output_padding_ge_stride"]),
        ("dil2", dict(dilation=2), []),
        ("dil_list", dict(dilation=per_dim(d, 2, 1, 3)), []),
        ("g2", dict(groups=2), []),
        ("g2_cout6", dict(groups=2, cout=6), []),
        ("g4_cout8", dict(groups=4, cout=8), []),
        ("depthwise", dict(groups=cin, cout=cin), ["depthwise"]),
        ("depthwise_mult2", dict(groups=cin, cout=2 * cin), ["depthwise", "channel_multiplier"]),
        ("depthwise_mult3_stride2_pad1_op1_nobias",
         dict(groups=cin, cout=3 * cin, stride=2, padding=1, output_padding=1, bias=False),
         ["depthwise", "channel_multiplier"]),
        ("all_params", dict(stride=per_dim(d, 2, 3, 2), padding=per_dim(d, 1, 2, 0),
                            output_padding=per_dim(d, 1, 0, 1), dilation=per_dim(d, 2, 1, 2), groups=2), []),
        ("unbatched", dict(unbatched=True), ["unbatched"]),
        ("unbatched_stride2_pad1_op1_g2", dict(unbatched=True, stride=2, padding=1, output_padding=1, groups=2),
         ["unbatched"]),
        ("unbatched_no_bias", dict(unbatched=True, bias=False), ["unbatched"]),
        ("empty_batch", dict(batch=0), ["empty"]),
        ("empty_batch_stride2_op1", dict(batch=0, stride=2, output_padding=1), ["empty"]),
        ("float64", dict(dtype="float64"), []),
        ("float64_stride2_pad1_op1_dil2_g2",
         dict(dtype="float64", stride=2, padding=1, output_padding=1, dilation=2, groups=2), []),
        ("float64_depthwise_mult2", dict(dtype="float64", groups=cin, cout=2 * cin),
         ["depthwise", "channel_multiplier"]),
        ("float64_unbatched", dict(dtype="float64", unbatched=True), ["unbatched"]),
    ] + ([
        # The slow 2-d kernel copies the bias into the output, casting it (the 3-d one refuses).
        ("float64_input_float32_bias", dict(dtype="float64", bias_dtype="float32"), ["dtype", "bias"]),
        ("float32_input_float64_bias_slow_kernel", dict(batch=1, bias_dtype="float64"), ["dtype", "bias"]),
    ] if d < 3 else [])


def opinfo(d):
    """PyTorch's own OpInfo samples for conv_transpose{d}d: (name, args)."""
    def make(input_shape, weight_shape, bias, **params):
        args = {"input": Uniform(input_shape), "weight": Uniform(weight_shape)}
        if bias:
            args["bias"] = Uniform(bias)
        args.update(params)
        return args
    if d == 1:
        return [
            ("opinfo_0", make((1, 3, 4), (3, 3, 3), (3,), stride=[2], padding=2, output_padding=[1], groups=1)),
            ("opinfo_1", make((2, 2, 4), (2, 2, 4), (4,), stride=[3], padding=[1], output_padding=[2], groups=2,
                              dilation=[4])),
            ("opinfo_2", make((1, 1, 4), (1, 1, 4), (1,), stride=2, padding=[1], output_padding=[1], groups=1,
                              dilation=[2])),
            ("opinfo_3", make((1, 1, 4), (1, 2, 3), None, stride=2, padding=[1], output_padding=[1], groups=1)),
            ("opinfo_4", make((1, 4, 5), (4, 8, 3), None)),
            ("opinfo_unbatched", make((4, 5), (4, 8, 3), None)),
        ]
    if d == 2:
        return [
            ("opinfo_0", make((1, 3, 4, 4), (3, 3, 3, 3), (3,), stride=[2, 2], padding=2, output_padding=[1, 1],
                              groups=1)),
            ("opinfo_1", make((2, 2, 4, 4), (2, 2, 4, 5), (4,), stride=[3, 2], padding=[1, 2],
                              output_padding=[2, 3], groups=2, dilation=[4, 4])),
            ("opinfo_2", make((1, 1, 4, 5), (1, 1, 4, 3), (1,), stride=2, padding=1, output_padding=1, groups=1,
                              dilation=[2, 3])),
            ("opinfo_3", make((1, 1, 4, 3), (1, 2, 3, 4), None, stride=2, padding=1, output_padding=1, groups=1)),
            ("opinfo_4", make((1, 4, 5, 5), (4, 8, 3, 3), None)),
            ("opinfo_unbatched", make((4, 5, 5), (4, 8, 3, 3), None)),
        ]
    return [
        ("opinfo_0", make((1, 3, 4, 4, 4), (3, 3, 3, 3, 3), (3,), stride=[2, 2, 2], padding=2,
                          output_padding=[1, 1, 1], groups=1)),
        ("opinfo_1", make((2, 2, 4, 4, 4), (2, 2, 4, 4, 4), (4,), stride=[3, 2, 1], padding=[1, 2, 3],
                          output_padding=[2, 3, 1], groups=2, dilation=[4, 4, 4])),
        ("opinfo_2", make((1, 1, 4, 4, 4), (1, 1, 4, 4, 4), (1,), stride=2, padding=1, output_padding=1,
                          groups=1, dilation=[2, 3, 2])),
        ("opinfo_3", make((1, 1, 4, 4, 4), (1, 2, 3, 3, 3), None, stride=2, padding=1, output_padding=1, groups=1)),
        ("opinfo_4", make((1, 4, 5, 5, 5), (4, 8, 3, 3, 3), None)),
        ("opinfo_unbatched", make((4, 5, 5, 5), (4, 8, 3, 3, 3), None)),
    ]


# A realistic upsampling layer per rank: inputs via `init`, outputs via `b64`.
LARGE = {
    1: dict(batch=2, cin=16, cout=8, kernel=4, spatial=(32,), stride=2, padding=1),
    2: dict(batch=1, cin=16, cout=8, kernel=3, spatial=(12, 12), stride=2, padding=1, output_padding=1),
    3: dict(batch=1, cin=4, cout=4, kernel=3, spatial=(4, 6, 6), stride=[1, 2, 2], padding=1,
            output_padding=[0, 1, 1]),
}


def grid(d):
    """stride x padding x output_padding x dilation x groups (output padding only where it is
    below the stride or the dilation); bias on about half, every value both ways."""
    for stride, (pad_index, padding), output_padding, dilation, groups in itertools.product(
            (1, 2), enumerate((0, 1, "list")), (0, 1), (1, 2), (1, 2)):
        if output_padding >= stride and output_padding >= dilation:
            continue
        pad_value = per_dim(d, 2, 1, 0) if padding == "list" else padding
        bias = (stride + pad_index + output_padding + dilation + groups) % 2 == 0
        name = (f"stride{stride}_pad{padding}_op{output_padding}_dil{dilation}_g{groups}"
                + ("" if bias else "_nobias"))
        yield name, dict(stride=stride, padding=pad_value, output_padding=output_padding, dilation=dilation,
                         groups=groups, bias=bias), ["grid"]


def forward_file(d):
    f = FixtureFile(f"conv_transpose/conv_transpose{d}d")
    call = f"conv_transpose{d}d"
    for name, kwargs, extra in itertools.chain(curated(d), grid(d)):
        args = args_of(d, **kwargs)
        f.add(name, call, args, tags_of(args, extra))
    for name, args in opinfo(d):
        f.add(name, call, args, tags_of(args, ["opinfo"]))
    args = args_of(d, **LARGE[d])
    f.add("large_realistic", call, args, tags_of(args, ["large"]))
    return f


def error_specs(d):
    """(name, args_of kwargs, tags) that torch must reject. A float32 call with a batch of two
    goes to oneDNN; float64 calls and a float32 batch of one to PyTorch's slow kernels."""
    one = (1,) * d
    specs = [
        ("channel_mismatch", dict(cin=5, weight_cin=4), ["channels"]),
        ("groups_channel_mismatch", dict(cin=6, weight_cin=4, groups=2), ["channels", "groups"]),
        ("input_rank_too_low", dict(unbatched=True, spatial=(5,) * (d - 1)), ["rank"]),
        ("input_rank_too_high", dict(spatial=(3,) * (d + 1)), ["rank"]),
        ("weight_rank_too_low", dict(weight_shape=(4, 4)), ["rank"]),
        ("output_padding_equals_stride", dict(output_padding=1), ["output_padding"]),
        ("output_padding_equals_stride_float64", dict(output_padding=1, dtype="float64"), ["output_padding"]),
        ("output_padding_above_stride_and_dilation", dict(stride=2, dilation=2, output_padding=2),
         ["output_padding"]),
        ("output_padding_list_one_dim_too_large",
         dict(stride=per_dim(d, 2, 2, 2), output_padding=per_dim(d, 1, 2, 1) if d > 1 else [2]),
         ["output_padding"]),
        ("negative_output_padding", dict(output_padding=-1), ["output_padding"]),
        ("output_padding_list_wrong_length", dict(output_padding=[0] * (d + 1)), ["output_padding"]),
        ("output_size_negative_slow_kernel", dict(batch=1, spatial=one, padding=3), ["output_size"]),
        ("output_size_negative_float64", dict(spatial=one, padding=3, dtype="float64"), ["output_size"]),
        ("output_size_zero_float64", dict(spatial=one, kernel=2, padding=1, dtype="float64"), ["output_size"]),
        ("output_size_negative_onednn", dict(batch=2, spatial=one, padding=3), ["output_size"]),
        ("output_size_negative_empty_batch", dict(batch=0, spatial=one, padding=3), ["output_size", "empty"]),
        ("weight_not_divisible_by_groups", dict(cin=5, groups=2, weight_shape=(5, 2) + (3,) * d), ["groups"]),
        ("groups_zero", dict(groups=0, weight_shape=(4, 4) + (3,) * d), ["groups"]),
        ("groups_above_weight_channels", dict(groups=8, weight_shape=(4, 1) + (3,) * d), ["groups"]),
        ("bias_wrong_size", dict(bias_size=3), ["bias"]),
        ("bias_wrong_size_groups", dict(groups=2, bias_size=2), ["bias", "groups"]),
        ("bias_2d", dict(bias_size=(4, 1)), ["bias"]),
        ("negative_padding", dict(padding=-1), ["padding"]),
        ("stride_zero", dict(stride=0), ["stride"]),
        ("stride_negative", dict(stride=-1), ["stride"]),
        ("stride_list_wrong_length", dict(stride=[1] * (d + 1)), ["stride"]),
        ("dilation_zero_onednn", dict(batch=2, dilation=0), ["dilation"]),
        ("dilation_zero_float64", dict(dilation=0, dtype="float64"), ["dilation"]),
        ("dilation_negative", dict(dilation=-1), ["dilation"]),
        ("kernel_size_zero_float64", dict(kernel=per_dim(d, 0, 3, 3) if d > 1 else 0, dtype="float64"),
         ["kernel_size"]),
        ("weight_zero_output_channels_float64", dict(cout=0, bias=False, dtype="float64"), ["channels"]),
        ("weight_zero_output_channels_g2_float64", dict(cout=0, groups=2, bias=False, dtype="float64"),
         ["channels", "groups"]),
        ("empty_spatial_input", dict(spatial=(0,) + SPATIAL[d][1:]), ["empty"]),
        ("empty_batch_empty_weight", dict(batch=0, kernel=per_dim(d, 0, 3, 3) if d > 1 else 0), ["empty"]),
        ("bool_input", dict(dtype="bool", bias=False, batch=1, spatial=(2,) * d, kernel=1), ["dtype"]),
        ("dtype_mismatch_input_float32_weight_float64_onednn",
         dict(batch=2, dtype="float64", input_dtype="float32", bias=False), ["dtype"]),
        ("dtype_mismatch_input_float32_weight_float64_slow_kernel",
         dict(batch=1, dtype="float64", input_dtype="float32", bias=False), ["dtype"]),
        ("dtype_mismatch_input_float64_weight_float32", dict(input_dtype="float64", bias=False), ["dtype"]),
        ("dtype_mismatch_bias_float64_onednn", dict(batch=2, bias_dtype="float64"), ["dtype", "bias"]),
        ("padding_string", dict(padding="same"), ["padding", "type"]),
        ("stride_float", dict(stride=1.5), ["stride", "type"]),
        ("groups_float", dict(replace={"groups": 2.0}), ["groups", "type"]),
        ("bias_int", dict(replace={"bias": 1}), ["bias", "type"]),
    ]
    if d == 3:
        specs.append(("dtype_mismatch_bias_float32_float64_input", dict(dtype="float64", bias_dtype="float32"),
                      ["dtype", "bias"]))
    return specs


def errors_file():
    f = FixtureFile("conv_transpose/errors")
    for d in (1, 2, 3):
        call = f"conv_transpose{d}d"
        for name, kwargs, extra in error_specs(d):
            args = args_of(d, **kwargs)
            f.add(f"{call}_{name}", call, args, ["conv_transpose", "error"] + extra, error=True)
        args = args_of(d)
        del args["weight"]
        f.add(f"{call}_missing_weight", call, args, ["conv_transpose", "error", "type"], error=True)
    return f


def programs_file():
    f = FixtureFile("conv_transpose/programs")
    for d in (1, 2, 3):
        call = f"conv_transpose{d}d"
        for name, kwargs in (("batched", {}), ("unbatched", dict(unbatched=True)), ("empty_batch", dict(batch=0))):
            args = args_of(d, **kwargs)
            with f.program(f"{call}_grad_fn_{name}", ["conv_transpose", "grad_fn", "autograd"]) as p:
                p.tensor("x", args["input"], requires_grad=True)
                p.tensor("w", args["weight"], requires_grad=True)
                p.call(call, "y", input=ref("x"), weight=ref("w"), stride=2)
                p.check_attrs("y")
                p.call("sum", "s", input=ref("y"))
                p.backward("s")
                p.check_grad("x")
                p.check_grad("w")
    # The node saves the input (for an unbatched input, its unsqueezed view) and the weight.
    for name, kwargs, written in (("input", {}, "a"), ("unbatched_input", dict(unbatched=True), "a"),
                                  ("weight", {}, "v")):
        args = args_of(2, **kwargs)
        with f.program(f"saved_{name}_modified_then_backward",
                       ["conv_transpose", "autograd", "inplace", "version_counter", "error"]) as p:
            p.tensor("x", args["input"], requires_grad=True)
            p.tensor("w", args["weight"], requires_grad=True)
            p.call("mul", "a", input=ref("x"), other=2.0)
            p.call("mul", "v", input=ref("w"), other=2.0)
            p.call("conv_transpose2d", "y", input=ref("a"), weight=ref("v"), padding=1)
            p.call("add_", input=ref(written), other=1.0)
            p.call("sum", "s", input=ref("y"))
            p.backward("s", error=True)
    with f.program("bias_modified_then_backward", ["conv_transpose", "autograd", "inplace", "version_counter"]) as p:
        args = args_of(2)
        p.tensor("x", args["input"], requires_grad=True)
        p.tensor("w", args["weight"], requires_grad=True)
        p.tensor("b", args["bias"], requires_grad=True)
        p.call("mul", "c", input=ref("b"), other=2.0)
        p.call("conv_transpose2d", "y", input=ref("x"), weight=ref("w"), bias=ref("c"))
        p.call("add_", input=ref("c"), other=1.0)
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("b")
    return f


def build():
    return [forward_file(1), forward_file(2), forward_file(3), errors_file(), programs_file()]
