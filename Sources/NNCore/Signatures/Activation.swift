/// Activation functions of `torch.nn.functional`: the elementwise ones y = f(x) (with their
/// `inplace=True` forms and the in-place names F exposes), `prelu` (a learnt slope per channel)
/// and `glu` (one half of a dim gating the other).
///
/// Arguments are read as the Python that receives them reads them. Most of F's activations
/// are Python wrappers that pass their arguments positionally to a C++ function, so a wrong
/// type is reported with its position (`elu(): argument 'alpha' (position 2) must be Number,
/// not str`), and with `inplace=True` by the in-place function (`elu_()`); builtins (`gelu`,
/// `softplus`, the `_` names, ...) get keywords, so their messages give no position.

extension Signatures {
    static let activation: [OpSignature] = [
        OpSignature("relu6", ["input", "inplace"]),
        OpSignature("leaky_relu", ["input", "negative_slope", "inplace"]),
        OpSignature("leaky_relu_", ["input", "negative_slope"]),
        OpSignature("elu", ["input", "alpha", "inplace"]),
        OpSignature("elu_", ["input", "alpha"]),
        OpSignature("selu", ["input", "inplace"]),
        OpSignature("selu_", ["input"]),
        OpSignature("celu", ["input", "alpha", "inplace"]),
        OpSignature("celu_", ["input", "alpha"]),
        OpSignature("gelu", ["input", "approximate"]),
        OpSignature("silu", ["input", "inplace"]),
        OpSignature("mish", ["input", "inplace"]),
        OpSignature("softplus", ["input", "beta", "threshold"]),
        OpSignature("softsign", ["input"]),
        OpSignature("hardtanh", ["input", "min_val", "max_val", "inplace"]),
        OpSignature("hardtanh_", ["input", "min_val", "max_val"]),
        OpSignature("hardswish", ["input", "inplace"]),
        OpSignature("hardsigmoid", ["input", "inplace"]),
        OpSignature("threshold", ["input", "threshold", "value", "inplace"]),
        OpSignature("threshold_", ["input", "threshold", "value"]),
        OpSignature("logsigmoid", ["input"]),
        OpSignature("tanhshrink", ["input"]),
        OpSignature("softshrink", ["input", "lambd"]),
        OpSignature("hardshrink", ["input", "lambd"]),
        OpSignature("rrelu", ["input", "lower", "upper", "training", "inplace"]),
        OpSignature("rrelu_", ["input", "lower", "upper", "training"]),
        OpSignature("prelu", ["input", "weight"]),
        OpSignature("glu", ["input", "dim"]),
    ]
}

/// An elementwise activation y = f(x) with its parameters, as ATen computes it (the formulas are
/// in the backends). `relu6` is `hardtanh(0, 6)`, `selu` is `elu` with fixed α and λ, `rrelu`
/// outside training is `leaky_relu` with slope (lower + upper) / 2.
public enum Activation: Sendable, Equatable {
    /// clamp(x, min, max)
    case hardtanh(min: Double, max: Double)
    /// x > 0 ? x : slope·x
    case leakyRelu(slope: Double)
    /// x < 0 ? α·λ·(e^(x·s) − 1) : λ·x (s is `input_scale`)
    case elu(alpha: Double, scale: Double, inputScale: Double)
    /// elu with λ = 1, s = 1/α; α = 0 is an error.
    case celu(alpha: Double)
    /// x·Φ(x), or with `tanh` ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
    case gelu(tanh: Bool)
    /// x·σ(x)
    case silu
    /// x·tanh(softplus(x))
    case mish
    /// βx > threshold ? x : log(1 + e^(βx)) / β
    case softplus(beta: Double, threshold: Double)
    /// x / (|x| + 1)
    case softsign
    /// x·clamp(x + 3, 0, 6) / 6
    case hardswish
    /// clamp(x + 3, 0, 6) / 6
    case hardsigmoid
    /// x ≤ threshold ? value : x
    case threshold(threshold: Double, value: Double)
    /// log σ(x) = min(x, 0) − log(1 + e^(−|x|))
    case logSigmoid
    /// x − tanh(x)
    case tanhshrink
    /// x > λ ? x − λ : x < −λ ? x + λ : 0
    case softshrink(lambd: Double)
    /// |x| ≤ λ ? 0 : x
    case hardshrink(lambd: Double)

    static let seluAlpha = 1.6732632423543772848170429916717
    static let seluScale = 1.0507009873554804934193349852946

    /// The backward of an in-place leaky_relu (or rrelu) works from the result, which a negative
    /// slope makes ambiguous; PyTorch refuses it when the backward runs.
    public static let negativeSlopeInplaceError = TorchError.runtime(
        "In-place leakyReLu backward calculation is triggered with a negative slope which is not supported. "
        + "This is caused by calling in-place forward function with a negative slope, please call out-of-place "
        + "version instead. File an issue at https://github.com/pytorch/pytorch if you do require supporting "
        + "in-place leakRelu backward calculation with negative slope")

    /// The same for an in-place elu or celu with α < 0.
    public static let negativeAlphaInplaceError = TorchError.runtime(
        "In-place elu backward calculation is triggered with a negative slope which is not supported. "
        + "This is caused by calling in-place forward function with a negative slope, please call out-of-place "
        + "version instead.")
}

/// A validated call of an elementwise activation, out of place or in place.
public struct ActivationCall {
    public let function: Activation
    public let input: Tensor
    public let inplace: Bool
    /// The dtype f is computed in and returned in: the input's, or float32 for an integer input
    /// to `softsign`/`tanhshrink` (which F writes as tensor arithmetic).
    public let dtype: DType
    /// PyTorch's `grad_fn` name (`softsign` and `tanhshrink` end in a division and a subtraction).
    public let backwardName: String
    /// Whether the in-place backward reads the result rather than a copy of the input PyTorch
    /// keeps (`leaky_relu_`, `elu_`, `selu_`, `celu_`, `rrelu_`): writing the result again in
    /// place then breaks the backward.
    public let savesResult: Bool

    /// `op` is a name of `Signatures.activation` other than `prelu` and `glu`. Checks in
    /// PyTorch's order: argument types, F's own checks, a leaf written in place, the kernel's.
    public init(_ op: String, _ args: Arguments) throws {
        let base = op.hasSuffix("_") ? String(op.dropLast()) : op
        let spec = ActivationCall.specs[base]!
        inplace = try op != base || truthValue(args["inplace"] ?? .none)
        let wrapper = op == base && spec.isPythonWrapper
        let p = PythonArguments(args, function: op == "logsigmoid" ? "log_sigmoid" : inplace ? base + "_" : base,
                                wrapper: wrapper, pythonName: base == "threshold" ? "_threshold" : base)
        try p.requireAll(base == "threshold" ? ["input", "threshold", "value"] : ["input"])
        if let method = ["softsign": "abs", "tanhshrink": "tanh"][base], args["input"]?.tensor == nil {
            throw attributeError(args["input"]!, method)  // F evaluates `input.abs()` / `input.tanh()`
        }
        input = try p.tensor("input", position: 1)
        switch base {
        case "relu6": function = .hardtanh(min: 0, max: 6)
        case "leaky_relu": function = .leakyRelu(slope: try p.number("negative_slope", position: 2, default: 0.01))
        case "elu": function = .elu(alpha: try p.number("alpha", position: 2, default: 1), scale: 1, inputScale: 1)
        case "selu": function = .elu(alpha: Activation.seluAlpha, scale: Activation.seluScale, inputScale: 1)
        case "celu": function = .celu(alpha: try p.number("alpha", position: 2, default: 1))
        case "gelu":
            let approximate = try p.string("approximate", default: "none")
            guard approximate == "none" || approximate == "tanh" else {
                throw TorchError.runtime("approximate argument must be either none or tanh.")
            }
            function = .gelu(tanh: approximate == "tanh")
        case "silu": function = .silu
        case "mish": function = .mish
        case "softplus":
            function = .softplus(beta: try p.number("beta", position: 2, default: 1),
                                 threshold: try p.number("threshold", position: 3, default: 20))
        case "softsign": function = .softsign
        case "hardtanh":
            let (lo, hi) = (try p.number("min_val", position: 2, default: -1), try p.number("max_val", position: 3, default: 1))
            if wrapper && lo > hi { throw TorchError.value("min_val cannot be greater than max_val") }  // F.hardtanh's own check
            function = .hardtanh(min: lo, max: hi)
        case "hardswish": function = .hardswish
        case "hardsigmoid": function = .hardsigmoid
        case "threshold":
            function = .threshold(threshold: try p.number("threshold", position: 2, default: nil),
                                  value: try p.number("value", position: 3, default: nil))
        case "logsigmoid": function = .logSigmoid
        case "tanhshrink": function = .tanhshrink
        case "softshrink": function = .softshrink(lambd: try p.number("lambd", position: 2, default: 0.5))
        case "hardshrink": function = .hardshrink(lambd: try p.number("lambd", position: 2, default: 0.5))
        default:  // rrelu
            let lower = try p.number("lower", position: 2, default: 1.0 / 8)
            let upper = try p.number("upper", position: 3, default: 1.0 / 3)
            let training = try p.bool("training", position: 4, default: false)
            if lower > upper { throw TorchError.runtime("Lower bound should be less than or equal to the upper bound") }
            if training { throw Unsupported("rrelu with training=True draws its slopes from torch's random generator") }
            function = .leakyRelu(slope: (lower + upper) / 2)
        }
        if inplace { try input.checkInplace() }
        if case .celu(0) = function { throw TorchError.runtime("ZeroDivisionError: alpha cannot be 0 for CELU") }
        dtype = try spec.dtypes.check(input.dtype)
        if case .softshrink(let lambd) = function {
            let limit = dtype == .float32 ? Double(Float.greatestFiniteMagnitude) : Double.greatestFiniteMagnitude
            guard lambd >= 0 && lambd <= limit else {
                throw TorchError.runtime("lambda must be in range [0, \(cDouble(limit))] for input dtype \(dtype.scalarTypeName), but found \(cDouble(lambd))")
            }
        }
        backwardName = inplace ? spec.inplaceBackward ?? spec.backward : spec.backward
        savesResult = inplace && spec.inplaceSavesResult
    }

    /// A parameter as an int64 kernel reads it (`Scalar.to<int64_t>()`): truncated toward
    /// zero, or PyTorch's overflow error.
    public static func int64(_ v: Double) throws -> Int64 {
        guard let i = Int64(exactly: v.rounded(.towardZero)) else {
            throw TorchError.runtime("value cannot be converted to type int64_t without overflow")
        }
        return i
    }

    /// What differs between the elementwise ops besides their maths.
    private struct Spec: Sendable {
        let backward: String
        /// The in-place form's node when it differs from `backward`.
        var inplaceBackward: String? = nil
        /// Whether that node keeps the result; otherwise PyTorch keeps a copy of the input.
        var inplaceSavesResult = false
        let dtypes: DTypeRule
        /// F's function is Python that calls C++ positionally (not a builtin taking keywords).
        var isPythonWrapper = true
    }

    private static let hardtanhDTypes = DTypeRule.integersToo(boolError: .notImplemented("Bool inputs not supported for hardtanh"))
    private static let specs: [String: Spec] = [
        "relu6": Spec(backward: "HardtanhBackward0", dtypes: hardtanhDTypes),
        "hardtanh": Spec(backward: "HardtanhBackward0", dtypes: hardtanhDTypes),
        "leaky_relu": Spec(backward: "LeakyReluBackward0", inplaceBackward: "LeakyReluBackward1", inplaceSavesResult: true, dtypes: .floating(kernel: "leaky_relu_cpu")),
        "rrelu": Spec(backward: "RreluWithNoiseBackward0", inplaceBackward: "RreluWithNoiseBackward1", inplaceSavesResult: true, dtypes: .floating(kernel: "leaky_relu_cpu")),
        "elu": Spec(backward: "EluBackward0", inplaceBackward: "EluBackward1", inplaceSavesResult: true, dtypes: .floating(kernel: "elu_cpu")),
        "selu": Spec(backward: "EluBackward0", inplaceBackward: "EluBackward1", inplaceSavesResult: true, dtypes: .floating(kernel: "elu_cpu")),
        "celu": Spec(backward: "CeluBackward0", inplaceBackward: "CeluBackward1", inplaceSavesResult: true, dtypes: .floating(kernel: "elu_cpu")),
        "gelu": Spec(backward: "GeluBackward0", dtypes: .floating(kernel: "GeluKernelImpl"), isPythonWrapper: false),
        "silu": Spec(backward: "SiluBackward0", dtypes: .floating(kernel: "silu_cpu")),
        "mish": Spec(backward: "MishBackward0", dtypes: .floating(kernel: "mish_cpu")),
        "softplus": Spec(backward: "SoftplusBackward0", dtypes: .floating(kernel: "softplus_cpu"), isPythonWrapper: false),
        "softsign": Spec(backward: "DivBackward0", dtypes: .promotesIntegers(boolError: .notImplemented("\"abs_cpu\" not implemented for 'Bool'"))),
        "hardswish": Spec(backward: "HardswishBackward0", dtypes: .floating(kernel: "hardswish_cpu")),
        "hardsigmoid": Spec(backward: "HardsigmoidBackward0", dtypes: .floating(kernel: "hardsigmoid_cpu")),
        "threshold": Spec(backward: "ThresholdBackward0", inplaceBackward: "ThresholdBackward1",
                          dtypes: .integersToo(boolError: .notImplemented("\"threshold_cpu\" not implemented for 'Bool'"))),
        "logsigmoid": Spec(backward: "LogSigmoidBackward0", dtypes: .floating(kernel: "log_sigmoid_cpu"), isPythonWrapper: false),
        "tanhshrink": Spec(backward: "SubBackward0", dtypes: .promotesIntegers(boolError: .notImplemented(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."))),
        "softshrink": Spec(backward: "SoftshrinkBackward0", dtypes: .floating(kernel: "softshrink_check"), isPythonWrapper: false),
        "hardshrink": Spec(backward: "HardshrinkBackward0", dtypes: .floating(kernel: "hardshrink_cpu"), isPythonWrapper: false),
    ]
}
