import NNCore

/// A constructor parameter of a module: required, defaulting to None (left out of the
/// functional call unless given), or with a default value.
enum Default {
    case required, none
    case value(Value)
}

/// A module with no parameters of its own: it stores its constructor arguments and forwards
/// them, with the forward inputs, to one functional op, as `nn.ReLU` calls `F.relu` and
/// `nn.CrossEntropyLoss` calls `F.cross_entropy`. Loss weights are registered as buffers, as
/// PyTorch's `_WeightedLoss` does, so they appear in `state_dict()`.
struct FunctionalModuleSpec {
    let op: String
    let parameters: [(String, Default)]
    var inputs = ["input"]
    var buffers: [String] = []
    /// Dropout modules pass `training=self.training`.
    var passesTraining = false
    /// Arguments the module always passes (`UpsamplingBilinear2d`: `mode='bilinear'`).
    var fixed: [String: Value] = [:]
    /// Constructor names the functional op spells differently (`unflattened_size` → `sizes`).
    var renamed: [String: String] = [:]
    /// Forward inputs the functional op spells differently: `PoissonNLLLoss.forward(log_input,
    /// target)` passes `log_input` as `input` (its constructor's `log_input` is a flag).
    var renamedInputs: [String: String] = [:]
}

final class FunctionalModule: Module {
    let spec: FunctionalModuleSpec
    let arguments: [String: Value]

    init(_ typeName: String, _ spec: FunctionalModuleSpec, _ args: Arguments) throws {
        self.spec = spec
        var given: [String: Value] = [:]
        for (name, d) in spec.parameters {
            switch (args[name], d) {
            case (let v?, _): given[name] = v
            case (nil, .value(let v)): given[name] = v
            case (nil, .none): break
            case (nil, .required): throw TorchError.type("\(typeName).__init__() missing 1 required positional argument: '\(name)'")
            }
        }
        var passed = spec.fixed
        for (name, v) in given { passed[spec.renamed[name] ?? name] = v }
        arguments = passed
        super.init(typeName)
        for b in spec.buffers { registerBuffer(b, given[b]?.tensor) }
    }

    override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        var call = arguments
        for b in spec.buffers { call[b] = buffer(b).map(Value.tensor) ?? call[b] }
        if spec.passesTraining { call["training"] = .bool(training) }
        if spec.inputs == ["input"] {
            call["input"] = try singleInput(inputs, of: self)
        } else {
            for name in spec.inputs { if let v = inputs[name] { call[spec.renamedInputs[name] ?? name] = v } }
        }
        return try backend.call(spec.op, call)
    }
}

extension FunctionalModuleSpec {
    private static func activation(_ op: String, _ params: [(String, Default)] = [], inplace: Bool = false) -> FunctionalModuleSpec {
        FunctionalModuleSpec(op: op, parameters: params + (inplace ? [("inplace", .value(.bool(false)))] : []))
    }

    private static func loss(_ op: String, _ params: [(String, Default)] = [], inputs: [String] = ["input", "target"],
                             buffers: [String] = []) -> FunctionalModuleSpec {
        let legacy: [(String, Default)] = [("size_average", .none), ("reduce", .none), ("reduction", .value(.string("mean")))]
        return FunctionalModuleSpec(op: op, parameters: params + legacy, inputs: inputs, buffers: buffers)
    }

    private static func pool(_ op: String, _ params: [(String, Default)]) -> FunctionalModuleSpec {
        FunctionalModuleSpec(op: op, parameters: params)
    }

    private static func dropout(_ op: String) -> FunctionalModuleSpec {
        FunctionalModuleSpec(op: op, parameters: [("p", .value(.double(0.5))), ("inplace", .value(.bool(false)))], passesTraining: true)
    }

    nonisolated(unsafe) static let one = Value.double(1), zero = Value.int(0)

    /// Every parameter-free `torch.nn` module, by class name, with PyTorch's module defaults.
    // Holds only scalar `Value`s, never tensors, so sharing it is safe.
    nonisolated(unsafe) static let all: [String: FunctionalModuleSpec] = {
        let maxPool: [(String, Default)] = [("kernel_size", .required), ("stride", .none), ("padding", .value(zero)),
                                            ("dilation", .value(.int(1))), ("return_indices", .value(.bool(false))),
                                            ("ceil_mode", .value(.bool(false)))]
        let avgPool: [(String, Default)] = [("kernel_size", .required), ("stride", .none), ("padding", .value(zero)),
                                            ("ceil_mode", .value(.bool(false))), ("count_include_pad", .value(.bool(true)))]
        let lpPool: [(String, Default)] = [("norm_type", .required), ("kernel_size", .required), ("stride", .none),
                                           ("ceil_mode", .value(.bool(false)))]
        let dim: [(String, Default)] = [("dim", .none)]
        var table: [String: FunctionalModuleSpec] = [
            "ReLU": activation("relu", inplace: true),
            "ReLU6": activation("relu6", inplace: true),
            "LeakyReLU": activation("leaky_relu", [("negative_slope", .value(.double(0.01)))], inplace: true),
            "ELU": activation("elu", [("alpha", .value(one))], inplace: true),
            "SELU": activation("selu", inplace: true),
            "CELU": activation("celu", [("alpha", .value(one))], inplace: true),
            "GELU": activation("gelu", [("approximate", .value(.string("none")))]),
            "SiLU": activation("silu", inplace: true),
            "Mish": activation("mish", inplace: true),
            "Softplus": activation("softplus", [("beta", .value(one)), ("threshold", .value(.double(20)))]),
            "Softsign": activation("softsign"),
            "Hardtanh": activation("hardtanh", [("min_val", .value(.double(-1))), ("max_val", .value(one))], inplace: true),
            "Hardswish": activation("hardswish", inplace: true),
            "Hardsigmoid": activation("hardsigmoid", inplace: true),
            "Threshold": activation("threshold", [("threshold", .required), ("value", .required)], inplace: true),
            "GLU": activation("glu", [("dim", .value(.int(-1)))]),
            "LogSigmoid": activation("logsigmoid"),
            "Tanhshrink": activation("tanhshrink"),
            "Softshrink": activation("softshrink", [("lambd", .value(.double(0.5)))]),
            "Hardshrink": activation("hardshrink", [("lambd", .value(.double(0.5)))]),
            "Sigmoid": activation("sigmoid"),
            "Tanh": activation("tanh"),
            "Softmax": activation("softmax", dim),
            "LogSoftmax": activation("log_softmax", dim),
            "Softmin": activation("softmin", dim),
            "AvgPool1d": pool("avg_pool1d", avgPool),
            "AvgPool2d": pool("avg_pool2d", avgPool + [("divisor_override", .none)]),
            "AvgPool3d": pool("avg_pool3d", avgPool + [("divisor_override", .none)]),
            "LPPool1d": pool("lp_pool1d", lpPool),
            "LPPool2d": pool("lp_pool2d", lpPool),
            "Upsample": FunctionalModuleSpec(op: "interpolate", parameters: [
                ("size", .none), ("scale_factor", .none), ("mode", .value(.string("nearest"))),
                ("align_corners", .none), ("recompute_scale_factor", .none)]),
            "LocalResponseNorm": FunctionalModuleSpec(op: "local_response_norm", parameters: [
                ("size", .required), ("alpha", .value(.double(1e-4))), ("beta", .value(.double(0.75))), ("k", .value(one))]),
            "Dropout": dropout("dropout"), "Dropout1d": dropout("dropout1d"), "Dropout2d": dropout("dropout2d"),
            "Dropout3d": dropout("dropout3d"), "AlphaDropout": dropout("alpha_dropout"),
            "MSELoss": loss("mse_loss"),
            "L1Loss": loss("l1_loss"),
            "SmoothL1Loss": loss("smooth_l1_loss", [("beta", .value(one))]),
            "HuberLoss": FunctionalModuleSpec(op: "huber_loss", parameters: [("reduction", .value(.string("mean"))), ("delta", .value(one))],
                                              inputs: ["input", "target"]),
            "KLDivLoss": loss("kl_div", [("log_target", .value(.bool(false)))]),
            "NLLLoss": loss("nll_loss", [("weight", .none), ("ignore_index", .value(.int(-100)))], buffers: ["weight"]),
            "CrossEntropyLoss": loss("cross_entropy", [("weight", .none), ("ignore_index", .value(.int(-100))),
                                                       ("label_smoothing", .value(.double(0)))], buffers: ["weight"]),
            "BCELoss": loss("binary_cross_entropy", [("weight", .none)], buffers: ["weight"]),
            "BCEWithLogitsLoss": loss("binary_cross_entropy_with_logits", [("weight", .none), ("pos_weight", .none)],
                                      buffers: ["weight", "pos_weight"]),
            "PoissonNLLLoss": {
                var spec = loss("poisson_nll_loss", [("log_input", .value(.bool(true))), ("full", .value(.bool(false))),
                                                     ("eps", .value(.double(1e-8)))], inputs: ["log_input", "target"])
                spec.renamedInputs = ["log_input": "input"]
                return spec
            }(),
            "GaussianNLLLoss": FunctionalModuleSpec(op: "gaussian_nll_loss", parameters: [
                ("full", .value(.bool(false))), ("eps", .value(.double(1e-6))), ("reduction", .value(.string("mean")))],
                                                    inputs: ["input", "target", "var"]),
            "CosineEmbeddingLoss": loss("cosine_embedding_loss", [("margin", .value(.double(0)))], inputs: ["input1", "input2", "target"]),
            "MarginRankingLoss": loss("margin_ranking_loss", [("margin", .value(.double(0)))], inputs: ["input1", "input2", "target"]),
            "HingeEmbeddingLoss": loss("hinge_embedding_loss", [("margin", .value(one))]),
            "TripletMarginLoss": loss("triplet_margin_loss", [("margin", .value(one)), ("p", .value(.double(2))),
                                                              ("eps", .value(.double(1e-6))), ("swap", .value(.bool(false)))],
                                      inputs: ["anchor", "positive", "negative"]),
            "MultiLabelSoftMarginLoss": loss("multilabel_soft_margin_loss", [("weight", .none)], buffers: ["weight"]),
            "SoftMarginLoss": loss("soft_margin_loss"),
            "MultiMarginLoss": loss("multi_margin_loss", [("p", .value(.int(1))), ("margin", .value(one)), ("weight", .none)],
                                    buffers: ["weight"]),
        ]
        let window: [(String, Default)] = [("kernel_size", .required), ("dilation", .value(.int(1))),
                                           ("padding", .value(zero)), ("stride", .value(.int(1)))]
        let upsample: [(String, Default)] = [("size", .none), ("scale_factor", .none)]
        table.merge([
            "PixelShuffle": FunctionalModuleSpec(op: "pixel_shuffle", parameters: [("upscale_factor", .required)]),
            "PixelUnshuffle": FunctionalModuleSpec(op: "pixel_unshuffle", parameters: [("downscale_factor", .required)]),
            "Flatten": FunctionalModuleSpec(op: "flatten", parameters: [("start_dim", .value(.int(1))), ("end_dim", .value(.int(-1)))]),
            "Unflatten": FunctionalModuleSpec(op: "unflatten", parameters: [("dim", .required), ("unflattened_size", .required)],
                                              renamed: ["unflattened_size": "sizes"]),
            "CosineSimilarity": FunctionalModuleSpec(op: "cosine_similarity", parameters: [("dim", .value(.int(1))), ("eps", .value(.double(1e-8)))],
                                                     inputs: ["x1", "x2"]),
            "PairwiseDistance": FunctionalModuleSpec(op: "pairwise_distance", parameters: [
                ("p", .value(.double(2))), ("eps", .value(.double(1e-6))), ("keepdim", .value(.bool(false)))], inputs: ["x1", "x2"]),
            "Fold": FunctionalModuleSpec(op: "fold", parameters: [("output_size", .required)] + window),
            "Unfold": FunctionalModuleSpec(op: "unfold", parameters: window),
            "UpsamplingNearest2d": FunctionalModuleSpec(op: "interpolate", parameters: upsample, fixed: ["mode": .string("nearest")]),
            "UpsamplingBilinear2d": FunctionalModuleSpec(op: "interpolate", parameters: upsample,
                                                         fixed: ["mode": .string("bilinear"), "align_corners": .bool(true)]),
            "Softmax2d": FunctionalModuleSpec(op: "softmax", parameters: [], fixed: ["dim": .int(-3)]),
            "FeatureAlphaDropout": dropout("feature_alpha_dropout"),
            "LPPool3d": pool("lp_pool3d", lpPool),
            "MultiLabelMarginLoss": loss("multilabel_margin_loss"),
            "RReLU": FunctionalModuleSpec(op: "rrelu", parameters: [("lower", .value(.double(0.125))), ("upper", .value(.double(1.0 / 3))),
                                                                     ("inplace", .value(.bool(false)))], passesTraining: true),
        ]) { a, _ in a }
        for d in 1...3 {
            table["MaxPool\(d)d"] = pool("max_pool\(d)d", maxPool)
            table["AdaptiveAvgPool\(d)d"] = pool("adaptive_avg_pool\(d)d", [("output_size", .required)])
            table["MaxUnpool\(d)d"] = FunctionalModuleSpec(op: "max_unpool\(d)d", parameters: [
                ("kernel_size", .required), ("stride", .none), ("padding", .value(zero))], inputs: ["input", "indices", "output_size"])
            table["AdaptiveMaxPool\(d)d"] = pool("adaptive_max_pool\(d)d", [("output_size", .required), ("return_indices", .value(.bool(false)))])
        }
        return table
    }()
}
