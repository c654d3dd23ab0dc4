"""One program per torch.nn class: `Fixtures/modules/zoo.json`.

Each builds the module (weights from SplitMix64 as `state`), runs forward on its inputs,
checks the output, then backward of the output's sum and the gradients of the first input and
of every parameter. Dropout modules run in eval() (identity); their training behaviour is
checked by the dropout family's property checks.
"""

import torch

from ..cases import FixtureFile, mod, ref
from ..tensors import RandInt, Uniform, given

X3 = Uniform((2, 3, 4), -2, 2)
X4 = Uniform((2, 3, 5, 5), -2, 2)
X5 = Uniform((1, 2, 4, 4, 4), -2, 2)


def activations():
    yield from (("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("ELU", {"alpha": 0.5}),
                ("SELU", {}), ("CELU", {"alpha": 1.5}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Mish", {}),
                ("Softplus", {"beta": 2.0, "threshold": 5.0}), ("Softsign", {}),
                ("Hardtanh", {"min_val": -0.5, "max_val": 0.7}), ("Hardswish", {}), ("Hardsigmoid", {}),
                ("Threshold", {"threshold": 0.1, "value": -1.0}), ("GLU", {"dim": -1}), ("LogSigmoid", {}),
                ("Tanhshrink", {}), ("Softshrink", {"lambd": 0.3}), ("Hardshrink", {"lambd": 0.3}), ("Sigmoid", {}),
                ("Tanh", {}), ("Softmax", {"dim": 1}), ("LogSoftmax", {"dim": -1}), ("Softmin", {"dim": 0}),
                ("PReLU", {"num_parameters": 3}), ("Identity", {}))


def cases():
    """(class, constructor args, forward inputs, options)."""
    for cls, args in activations():
        yield cls, args, {"input": X3}, {}
    yield "Softmax2d", {}, {"input": X4}, {}
    for d, x in ((1, Uniform((2, 3, 8))), (2, X4), (3, X5)):
        c = x.shape[1]
        yield f"MaxPool{d}d", {"kernel_size": 2, "stride": 2}, {"input": x}, {}
        yield f"AvgPool{d}d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}, {"input": x}, {}
        yield f"AdaptiveAvgPool{d}d", {"output_size": 3}, {"input": x}, {}
        yield f"AdaptiveMaxPool{d}d", {"output_size": 2}, {"input": x}, {}
        yield f"Conv{d}d", {"in_channels": c, "out_channels": 4, "kernel_size": 3, "padding": "same"}, {"input": x}, {}
        yield f"ConvTranspose{d}d", {"in_channels": c, "out_channels": 2, "kernel_size": 2, "stride": 2}, {"input": x}, {}
        yield f"BatchNorm{d}d", {"num_features": c}, {"input": x}, {}
        yield f"InstanceNorm{d}d", {"num_features": c, "affine": True, "track_running_stats": True}, {"input": x}, {}
        for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
            args = {"padding": 1, **({"value": 2.5} if kind == "Constant" else {})}
            yield f"{kind}Pad{d}d", args, {"input": x}, {}
        yield "Dropout", {"p": 0.3}, {"input": x}, {"eval": True, "name": f"Dropout_on_{d + 2}d"}
        yield f"Dropout{d}d", {"p": 0.3}, {"input": x}, {"eval": True}
    yield "AvgPool2d", {"kernel_size": 2, "divisor_override": 3}, {"input": X4}, {"name": "AvgPool2d_divisor_override"}
    yield "LPPool1d", {"norm_type": 2.0, "kernel_size": 2}, {"input": Uniform((2, 3, 8), 0.1, 2)}, {}
    yield "LPPool2d", {"norm_type": 3.0, "kernel_size": 2}, {"input": Uniform((2, 3, 4, 4), 0.1, 2)}, {}
    # Distinct positions inside each 2-wide window of the unpooled output (max_pool's indices).
    yield "MaxUnpool1d", {"kernel_size": 2}, \
        {"input": Uniform((1, 2, 3)), "indices": given([[[1, 2, 5], [0, 3, 4]]], "int64")}, {}
    yield "MaxUnpool2d", {"kernel_size": 2}, \
        {"input": Uniform((1, 1, 2, 2)), "indices": given([[[[1, 6], [8, 15]]]], "int64")}, {}
    yield "MaxUnpool3d", {"kernel_size": 2}, \
        {"input": Uniform((1, 1, 1, 1, 2)), "indices": given([[[[[5, 10]]]]], "int64")}, {}
    yield "LPPool3d", {"norm_type": 2.0, "kernel_size": 2}, {"input": Uniform((1, 2, 4, 4, 4), 0.1, 2)}, {}
    yield "RReLU", {"lower": 0.1, "upper": 0.3}, {"input": X3}, {"eval": True}
    yield "AlphaDropout", {"p": 0.2}, {"input": X3}, {"eval": True}
    yield "FeatureAlphaDropout", {"p": 0.2}, {"input": X4}, {"eval": True}
    yield "LayerNorm", {"normalized_shape": [3, 4]}, {"input": X3}, {}
    yield "GroupNorm", {"num_groups": 2, "num_channels": 4}, {"input": Uniform((2, 4, 3))}, {}
    yield "LocalResponseNorm", {"size": 3}, {"input": X4}, {}
    yield "Linear", {"in_features": 4, "out_features": 2}, {"input": X3}, {}
    yield "Bilinear", {"in1_features": 3, "in2_features": 4, "out_features": 2}, \
        {"input1": Uniform((5, 3)), "input2": Uniform((5, 4))}, {}
    yield "Embedding", {"num_embeddings": 7, "embedding_dim": 3}, {"input": RandInt((2, 5), 0, 7)}, {}
    yield "Upsample", {"scale_factor": 2.0, "mode": "bilinear"}, {"input": X4}, {}
    yield "UpsamplingNearest2d", {"scale_factor": 2.0}, {"input": X4}, {}
    yield "UpsamplingBilinear2d", {"size": [7, 8]}, {"input": X4}, {}
    yield "Flatten", {}, {"input": X4}, {}
    yield "Unflatten", {"dim": 2, "unflattened_size": [2, 2]}, {"input": X3}, {}
    yield "PixelShuffle", {"upscale_factor": 2}, {"input": Uniform((1, 8, 2, 3))}, {}
    yield "PixelUnshuffle", {"downscale_factor": 2}, {"input": Uniform((1, 2, 4, 6))}, {}
    yield "Unfold", {"kernel_size": 2, "stride": 1}, {"input": X4}, {}
    yield "Fold", {"output_size": [4, 5], "kernel_size": 2}, {"input": Uniform((2, 12, 12))}, {}
    yield "CosineSimilarity", {"dim": 1}, {"x1": Uniform((4, 5)), "x2": Uniform((4, 5))}, {}
    yield "PairwiseDistance", {"p": 2.0}, {"x1": Uniform((4, 5)), "x2": Uniform((4, 5))}, {}
    yield from losses()


def losses():
    logits, labels = Uniform((4, 5), -2, 2), RandInt((4,), 0, 5)
    probs, binary = Uniform((4, 5), 0.05, 0.95), RandInt((4, 5), 0, 2, dtype="float32")
    signs = RandInt((4,), 0, 2, dtype="float32")
    pair = {"input1": Uniform((4,)), "input2": Uniform((4,))}
    yield "MSELoss", {}, {"input": logits, "target": Uniform((4, 5))}, {}
    yield "L1Loss", {"reduction": "sum"}, {"input": logits, "target": Uniform((4, 5))}, {}
    yield "SmoothL1Loss", {"beta": 0.5}, {"input": logits, "target": Uniform((4, 5))}, {}
    yield "HuberLoss", {"delta": 0.5}, {"input": logits, "target": Uniform((4, 5))}, {}
    yield "KLDivLoss", {"reduction": "batchmean"}, {"input": Uniform((4, 5), -3, 0), "target": probs}, {}
    yield "NLLLoss", {}, {"input": Uniform((4, 5), -3, 0), "target": labels}, {}
    yield "CrossEntropyLoss", {"label_smoothing": 0.2}, {"input": logits, "target": labels}, {}
    yield "BCELoss", {}, {"input": probs, "target": binary}, {}
    yield "BCEWithLogitsLoss", {"pos_weight": Uniform((5,), 0.5, 2)}, {"input": logits, "target": binary}, {}
    yield "PoissonNLLLoss", {}, {"log_input": logits, "target": Uniform((4, 5), 0, 3)}, {}
    yield "GaussianNLLLoss", {}, {"input": logits, "target": Uniform((4, 5)), "var": Uniform((4, 5), 0.5, 2)}, {}
    yield "CosineEmbeddingLoss", {"margin": 0.2}, \
        {"input1": logits, "input2": Uniform((4, 5)), "target": RandInt((4,), 0, 2)}, {"target_sign": True}
    yield "MarginRankingLoss", {"margin": 0.1}, {**pair, "target": signs}, {"target_sign": True}
    yield "HingeEmbeddingLoss", {"margin": 0.5}, {"input": logits, "target": binary}, {"target_sign": True}
    yield "TripletMarginLoss", {"margin": 0.5}, \
        {"anchor": logits, "positive": Uniform((4, 5)), "negative": Uniform((4, 5))}, {}
    yield "MultiLabelSoftMarginLoss", {}, {"input": logits, "target": binary}, {}
    yield "SoftMarginLoss", {}, {"input": logits, "target": binary}, {"target_sign": True}
    yield "MultiMarginLoss", {"margin": 0.5}, {"input": logits, "target": labels}, {}
    yield "MultiLabelMarginLoss", {}, {"input": logits, "target": RandInt((4, 5), -1, 5)}, {}


def program(f, cls, args, inputs, options):
    name = options.get("name", cls)
    with f.program(name, ["modules", "zoo", cls]) as p:
        first = True
        for key, spec in inputs.items():
            differentiable = first and spec.dtype in ("float32", "float64")
            p.tensor(key, spec, requires_grad=differentiable)
            if options.get("target_sign") and key == "target":  # labels in {−1, 1}
                p.call("mul", "t2", input=ref("target"), other=2.0)
                p.call("sub", "signed", input=ref("t2"), other=1.0)
            first = False
        p.module("m", mod(cls, **args))
        if options.get("eval"):
            p.train("m", False)
        call = {k: ref("signed" if options.get("target_sign") and k == "target" else k) for k in inputs}
        p.forward("m", "y", **call)
        p.check_value("y")
        if cls in ("Identity", "Flatten", "Unflatten", "PixelShuffle", "PixelUnshuffle") or options.get("eval"):
            return
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        first_input = next(iter(inputs))
        if inputs[first_input].dtype in ("float32", "float64"):
            p.check_grad(first_input)
        for pname, _ in p.env["m"].named_parameters():
            p.check_grad(f"m.{pname}")


def build():
    f = FixtureFile("modules/zoo")
    for cls, args, inputs, options in cases():
        # torch refuses max_unpool under deterministic algorithms (a GPU race on repeated
        # indices); these indices are distinct and torch runs on one CPU thread.
        torch.use_deterministic_algorithms(not cls.startswith("MaxUnpool"))
        program(f, cls, args, inputs, options)
    torch.use_deterministic_algorithms(True)
    return [f]
