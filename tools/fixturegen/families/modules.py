"""torch.nn modules as programs: `Fixtures/modules/*.json`.

Each program builds modules in torch (weights filled from SplitMix64 and written as `state`),
runs them, and records what torch observed: outputs, gradients of parameters by dotted name,
parameter names, state_dict entries, and errors.
"""

from ..cases import FixtureFile, mod, ref
from ..tensors import RandInt, Uniform

IMAGE = Uniform((2, 3, 6, 6))


def module_equals_functional(f):
    """A module and the functional op given the same weights compute the same thing."""
    with f.program("conv2d_module_equals_functional", ["modules", "Conv2d", "conv2d", "functional"]) as p:
        p.tensor("x", IMAGE, requires_grad=True)
        p.module("conv", mod("Conv2d", in_channels=3, out_channels=4, kernel_size=3, padding=1, stride=2))
        p.forward("conv", "y", input=ref("x"))
        p.check_value("y")
        p.check_attrs("y")
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        for name in ("x", "conv.weight", "conv.bias"):
            p.check_grad(name)
    with f.program("linear_module_forward_backward", ["modules", "Linear", "linear"]) as p:
        p.tensor("x", Uniform((4, 5)), requires_grad=True)
        p.module("fc", mod("Linear", in_features=5, out_features=3))
        p.forward("fc", "y", input=ref("x"))
        p.check_value("y")
        p.call("mean", "s", input=ref("y"))
        p.backward("s")
        for name in ("x", "fc.weight", "fc.bias"):
            p.check_grad(name)
    with f.program("linear_without_bias", ["modules", "Linear", "bias"]) as p:
        p.tensor("x", Uniform((4, 5)))
        p.module("fc", mod("Linear", in_features=5, out_features=2, bias=False))
        p.check_parameter_names("fc")
        p.forward("fc", "y", input=ref("x"))
        p.check_value("y")
    for d, shape in ((1, (2, 3, 9)), (3, (1, 3, 4, 5, 4))):
        with f.program(f"conv{d}d_module_groups_dilation", ["modules", f"Conv{d}d"]) as p:
            p.tensor("x", Uniform(shape), requires_grad=True)
            p.module("conv", mod(f"Conv{d}d", in_channels=3, out_channels=6, kernel_size=2, groups=3, dilation=2, bias=False))
            p.forward("conv", "y", input=ref("x"))
            p.check_value("y")
            p.call("sum", "s", input=ref("y"))
            p.backward("s")
            p.check_grad("conv.weight")


def containers(f):
    """Parameter names follow positions, given names, and nesting; ModuleList registers."""
    layers = (("0", mod("Conv2d", in_channels=3, out_channels=4, kernel_size=3)), ("1", mod("ReLU")),
              ("2", mod("Conv2d", in_channels=4, out_channels=2, kernel_size=1)))
    with f.program("sequential_positional_names", ["modules", "Sequential", "parameter_names"]) as p:
        p.tensor("x", IMAGE, requires_grad=True)
        p.module("net", mod("Sequential", *layers))
        p.check_parameter_names("net")
        p.forward("net", "y", input=ref("x"))
        p.check_value("y")
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("net.0.weight")
        p.check_grad("net.2.bias")
    with f.program("sequential_named_and_nested", ["modules", "Sequential", "parameter_names", "nested"]) as p:
        p.tensor("x", Uniform((3, 5)))
        p.module("net", mod("Sequential",
                            ("features", mod("Sequential", ("fc", mod("Linear", in_features=5, out_features=4)),
                                             ("act", mod("Tanh")))),
                            ("head", mod("Linear", in_features=4, out_features=2))))
        p.check_parameter_names("net")
        p.forward("net", "y", input=ref("x"))
        p.check_value("y")
        p.check_value("net.features.fc.weight")
    with f.program("module_list_registers_parameters", ["modules", "ModuleList", "parameter_names"]) as p:
        p.module("layers", mod("ModuleList", ("0", mod("Linear", in_features=2, out_features=2)),
                               ("1", mod("Linear", in_features=2, out_features=3, bias=False))))
        p.check_parameter_names("layers")
    with f.program("parameter_list_and_dict", ["modules", "ParameterList", "ParameterDict", "parameter_names"]) as p:
        p.module("plist", mod("ParameterList", values=[Uniform((2, 3)), Uniform((3,))]))
        p.check_parameter_names("plist")
        p.check_value("plist.1")
        p.module("pdict", mod("ParameterDict", keys=["scale", "shift"], values=[Uniform((3,)), Uniform((3,))]))
        p.check_parameter_names("pdict")
        p.check_value("pdict.shift")
    with f.program("module_dict_registers_parameters", ["modules", "ModuleDict", "parameter_names"]) as p:
        p.module("heads", mod("ModuleDict", ("cls", mod("Linear", in_features=2, out_features=3)),
                              ("box", mod("Linear", in_features=2, out_features=4))))
        p.check_parameter_names("heads")


def inplace_relu(f):
    """ReLU(inplace=True) mutates its input: refused on a leaf that requires grad, fine on a
    non-leaf (the gradient flows), and allowed on a leaf under no_grad."""
    with f.program("relu_inplace_module_on_leaf_is_an_error", ["modules", "ReLU", "inplace", "error"]) as p:
        p.tensor("x", Uniform((2, 3), -1, 1), requires_grad=True)
        p.module("act", mod("ReLU", inplace=True))
        p.forward("act", input=ref("x"), error=True)
    with f.program("relu_inplace_module_on_non_leaf", ["modules", "ReLU", "inplace"]) as p:
        p.tensor("x", Uniform((2, 3), -1, 1), requires_grad=True)
        p.module("act", mod("ReLU", inplace=True))
        p.call("mul", "h", input=ref("x"), other=3.0)
        p.forward("act", "y", input=ref("h"))
        p.check_value("h")
        p.check_attrs("h")
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("x")
    with f.program("relu_inplace_module_on_leaf_under_no_grad", ["modules", "ReLU", "inplace", "no_grad"]) as p:
        p.tensor("x", Uniform((2, 3), -1, 1), requires_grad=True)
        p.module("act", mod("ReLU", inplace=True))
        with p.no_grad():
            p.forward("act", input=ref("x"))
        p.check_value("x")
        p.check_attrs("x")


def state_dict_errors(f):
    """Strict loading reports missing and unexpected keys and size mismatches (via the
    module steps' `state`); construction errors come from the module's __init__."""
    with f.program("conv2d_in_channels_not_divisible_by_groups", ["modules", "Conv2d", "error"]) as p:
        p.module("conv", mod("Conv2d", in_channels=3, out_channels=4, kernel_size=3, groups=2), error=True)
    with f.program("conv2d_same_padding_with_stride", ["modules", "Conv2d", "error"]) as p:
        p.module("conv", mod("Conv2d", in_channels=2, out_channels=2, kernel_size=3, padding="same", stride=2), error=True)


def batch_norm_train_then_eval(f):
    """A training step updates running_mean/var (momentum 0.1, and cumulative with momentum=None)
    and num_batches_tracked; eval() then normalizes with the running statistics."""
    for label, extra in (("momentum_default", {}), ("momentum_none", {"momentum": None})):
        with f.program(f"batchnorm2d_train_step_then_eval_{label}", ["modules", "BatchNorm2d", "train", "eval"]) as p:
            p.tensor("x", Uniform((4, 3, 5, 5), -2, 3), requires_grad=True)
            p.module("bn", mod("BatchNorm2d", num_features=3, **extra))
            p.forward("bn", "y", input=ref("x"))
            p.check_value("y")
            p.check_state("bn", ["running_mean", "running_var", "num_batches_tracked"])
            p.call("sum", "s", input=ref("y"))
            p.backward("s")
            p.check_grad("bn.weight")
            p.check_grad("x")
            p.forward("bn", input=ref("x"))
            p.check_state("bn", ["running_mean", "running_var", "num_batches_tracked"])
            p.train("bn", False)
            p.forward("bn", "z", input=ref("x"))
            p.check_value("z")
            p.check_state("bn", ["running_mean", "num_batches_tracked"])
    with f.program("sequential_eval_reaches_nested_batchnorm", ["modules", "Sequential", "BatchNorm1d", "eval"]) as p:
        p.tensor("x", Uniform((6, 4)))
        p.module("net", mod("Sequential", ("0", mod("Linear", in_features=4, out_features=3)),
                            ("1", mod("Sequential", ("bn", mod("BatchNorm1d", num_features=3))))))
        p.train("net", False)
        p.forward("net", "y", input=ref("x"))
        p.check_value("y")
        p.check_state("net", ["1.bn.running_mean", "1.bn.num_batches_tracked"])
    with f.program("batchnorm2d_wrong_rank", ["modules", "BatchNorm2d", "error"]) as p:
        p.tensor("x", Uniform((4, 3, 5)))
        p.module("bn", mod("BatchNorm2d", num_features=3))
        p.forward("bn", input=ref("x"), error=True)


def losses_and_pools(f):
    """Loss modules register their weights as buffers; pooling modules call F's pools."""
    with f.program("cross_entropy_loss_module_with_weight", ["modules", "CrossEntropyLoss", "buffers"]) as p:
        p.tensor("logits", Uniform((5, 4)), requires_grad=True)
        p.tensor("target", RandInt((5,), 0, 4))
        p.tensor("w", Uniform((4,), 0.5, 1.5))
        p.module("loss", mod("CrossEntropyLoss", weight=ref("w"), label_smoothing=0.1))
        p.forward("loss", "l", input=ref("logits"), target=ref("target"))
        p.check_value("l")
        p.backward("l")
        p.check_grad("logits")
    with f.program("nll_loss_2d_module", ["modules", "NLLLoss", "NLLLoss2d", "spatial"]) as p:
        p.tensor("x", Uniform((2, 3, 4, 4), -3, 0), requires_grad=True)
        p.tensor("target", RandInt((2, 4, 4), 0, 3))
        p.module("loss", mod("NLLLoss", ignore_index=1))
        p.forward("loss", "l", input=ref("x"), target=ref("target"))
        p.check_value("l")
        p.backward("l")
        p.check_grad("x")
    with f.program("pooling_modules", ["modules", "MaxPool2d", "AdaptiveAvgPool2d", "AvgPool2d"]) as p:
        p.tensor("x", Uniform((2, 3, 7, 7)), requires_grad=True)
        p.module("net", mod("Sequential", ("0", mod("MaxPool2d", kernel_size=3, stride=2, padding=1)),
                            ("1", mod("AvgPool2d", kernel_size=2, ceil_mode=True)),
                            ("2", mod("AdaptiveAvgPool2d", output_size=[1, 1]))))
        p.forward("net", "y", input=ref("x"))
        p.check_value("y")
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("x")


def grad_bookkeeping(f):
    """zero_grad() clears parameter grads; requires_grad_(False) freezes a layer (its weight
    gets no grad) and is refused on a non-leaf tensor."""
    with f.program("zero_grad_and_frozen_layer", ["modules", "zero_grad", "requires_grad_"]) as p:
        p.tensor("x", Uniform((3, 4)))
        p.module("net", mod("Sequential", ("0", mod("Linear", in_features=4, out_features=3)),
                            ("1", mod("Linear", in_features=3, out_features=2))))
        p.forward("net", "y", input=ref("x"))
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("net.0.weight")
        p.zero_grad("net")
        p.check_grad("net.0.weight")
        p.requires_grad_("net.0", False)
        p.forward("net", "y2", input=ref("x"))
        p.call("sum", "s2", input=ref("y2"))
        p.backward("s2")
        p.check_grad("net.0.weight")
        p.check_grad("net.1.weight")
    with f.program("requires_grad_false_on_non_leaf_is_an_error", ["modules", "requires_grad_", "error"]) as p:
        p.tensor("x", Uniform((3,)), requires_grad=True)
        p.call("mul", "y", input=ref("x"), other=2.0)
        p.requires_grad_("y", False, error=True)


def second_wave(f):
    """Modules over transposed convolution, padding, embedding, reshaping and distances."""
    with f.program("conv_transpose2d_module_output_size", ["modules", "ConvTranspose2d", "output_size"]) as p:
        p.tensor("x", Uniform((2, 4, 3, 3)), requires_grad=True)
        p.module("up", mod("ConvTranspose2d", in_channels=4, out_channels=2, kernel_size=3, stride=2, padding=1))
        p.forward("up", "y", input=ref("x"), output_size=[6, 6])
        p.check_value("y")
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("up.weight")
        p.forward("up", input=ref("x"), output_size=[9, 9], error=True)
    for mode in ("reflect", "replicate", "circular"):
        with f.program(f"conv2d_padding_mode_{mode}", ["modules", "Conv2d", "padding_mode", "pad"]) as p:
            p.tensor("x", Uniform((1, 2, 5, 5)), requires_grad=True)
            p.module("conv", mod("Conv2d", in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode=mode))
            p.forward("conv", "y", input=ref("x"))
            p.check_value("y")
            p.call("sum", "s", input=ref("y"))
            p.backward("s")
            p.check_grad("x")
    with f.program("padding_layers", ["modules", "ZeroPad2d", "ReflectionPad1d", "ConstantPad2d"]) as p:
        p.tensor("x", Uniform((1, 2, 4, 4)))
        for name, desc in (("z", mod("ZeroPad2d", padding=[1, 2, 0, 1])), ("c", mod("ConstantPad2d", padding=1, value=3.5))):
            p.module(name, desc)
            p.forward(name, f"y_{name}", input=ref("x"))
            p.check_value(f"y_{name}")
        p.tensor("v", Uniform((2, 3, 5)))
        p.module("r", mod("ReflectionPad1d", padding=2))
        p.forward("r", "y_r", input=ref("v"))
        p.check_value("y_r")
    with f.program("embedding_module_padding_idx", ["modules", "Embedding", "padding_idx"]) as p:
        p.tensor("idx", RandInt((3, 4), 0, 6))
        p.module("emb", mod("Embedding", num_embeddings=6, embedding_dim=3, padding_idx=2))
        p.forward("emb", "y", input=ref("idx"))
        p.check_value("y")
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("emb.weight")
    with f.program("flatten_then_linear", ["modules", "Flatten", "Unflatten", "Linear"]) as p:
        p.tensor("x", Uniform((2, 3, 2, 2)), requires_grad=True)
        p.module("net", mod("Sequential", ("0", mod("Flatten")), ("1", mod("Linear", in_features=12, out_features=6)),
                            ("2", mod("Unflatten", dim=1, unflattened_size=[2, 3]))))
        p.forward("net", "y", input=ref("x"))
        p.check_value("y")
        p.call("sum", "s", input=ref("y"))
        p.backward("s")
        p.check_grad("x")
    with f.program("pixel_shuffle_round_trip", ["modules", "PixelShuffle", "PixelUnshuffle"]) as p:
        p.tensor("x", Uniform((1, 8, 2, 3)))
        p.module("up", mod("PixelShuffle", upscale_factor=2))
        p.module("down", mod("PixelUnshuffle", downscale_factor=2))
        p.forward("up", "y", input=ref("x"))
        p.check_value("y")
        p.forward("down", "z", input=ref("y"))
        p.check_value("z")
    with f.program("distance_modules", ["modules", "CosineSimilarity", "PairwiseDistance"]) as p:
        p.tensor("a", Uniform((4, 5)), requires_grad=True)
        p.tensor("b", Uniform((4, 5)))
        p.module("cos", mod("CosineSimilarity", dim=1))
        p.module("dist", mod("PairwiseDistance", p=1.0, keepdim=True))
        p.forward("cos", "c", x1=ref("a"), x2=ref("b"))
        p.check_value("c")
        p.forward("dist", "d", x1=ref("a"), x2=ref("b"))
        p.check_value("d")


def build():
    f = FixtureFile("modules/modules")
    module_equals_functional(f)
    containers(f)
    inplace_relu(f)
    state_dict_errors(f)
    batch_norm_train_then_eval(f)
    losses_and_pools(f)
    grad_bookkeeping(f)
    second_wave(f)
    return [f]
