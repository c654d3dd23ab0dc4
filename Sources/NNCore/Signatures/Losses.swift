import Foundation

/// Losses (`torch.nn.functional.*_loss`, `cross_entropy`, `kl_div`): a pointwise or per-sample
/// loss ℓ, then a reduction: `none` (ℓ itself), `sum` (Σ ℓ) or `mean` (Σ ℓ / n, or a weighted
/// mean where PyTorch says so). This file holds the signatures, the reduction argument shared by
/// every loss, the checks several losses share, and `kl_div`:
///   ℓ = t · (log t − x)       (0 where t = 0, as `xlogy`)
///   ℓ = exp(t) · (t − x)      with `log_target` (t given as log-probabilities)
/// reduced by `none`, `sum`, `mean` (over every element) or `batchmean` (sum / input.size(0)).
/// The other losses' calls are in `LossClassification.swift`, `LossRegression.swift` and
/// `LossMargin.swift`.

extension Signatures {
    public static let losses: [OpSignature] = [
        OpSignature("kl_div", ["input", "target", "size_average", "reduce", "reduction", "log_target"]),
        OpSignature("nll_loss", ["input", "target", "weight", "size_average", "ignore_index", "reduce", "reduction"]),
        OpSignature("cross_entropy", ["input", "target", "weight", "size_average", "ignore_index", "reduce",
                                      "reduction", "label_smoothing"]),
        OpSignature("mse_loss", ["input", "target", "size_average", "reduce", "reduction", "weight"]),
        OpSignature("l1_loss", ["input", "target", "size_average", "reduce", "reduction", "weight"]),
        OpSignature("smooth_l1_loss", ["input", "target", "size_average", "reduce", "reduction", "beta"]),
        OpSignature("huber_loss", ["input", "target", "reduction", "delta", "weight"]),
        OpSignature("binary_cross_entropy", ["input", "target", "weight", "size_average", "reduce", "reduction"]),
        OpSignature("binary_cross_entropy_with_logits", ["input", "target", "weight", "size_average", "reduce",
                                                         "reduction", "pos_weight"]),
        OpSignature("poisson_nll_loss", ["input", "target", "log_input", "full", "size_average", "eps", "reduce",
                                         "reduction"]),
        OpSignature("gaussian_nll_loss", ["input", "target", "var", "full", "eps", "reduction"]),
        OpSignature("cosine_embedding_loss", ["input1", "input2", "target", "margin", "size_average", "reduce",
                                              "reduction"]),
        OpSignature("margin_ranking_loss", ["input1", "input2", "target", "margin", "size_average", "reduce",
                                            "reduction"]),
        OpSignature("hinge_embedding_loss", ["input", "target", "margin", "size_average", "reduce", "reduction"]),
        OpSignature("triplet_margin_loss", ["anchor", "positive", "negative", "margin", "p", "eps", "swap",
                                            "size_average", "reduce", "reduction"]),
        OpSignature("multilabel_soft_margin_loss", ["input", "target", "weight", "size_average", "reduce",
                                                    "reduction"]),
        OpSignature("soft_margin_loss", ["input", "target", "size_average", "reduce", "reduction"]),
        OpSignature("multi_margin_loss", ["input", "target", "p", "margin", "weight", "size_average", "reduce",
                                          "reduction"]),
        OpSignature("multilabel_margin_loss", ["input", "target", "size_average", "reduce", "reduction"]),
    ]
}

/// The reduction a loss kernel applies (`torch.nn._reduction`'s enum).
public enum LossReduction: String, Sendable {
    case none, mean, sum

    /// `_Reduction.get_enum(reduction)`: the name, `elementwise_mean` with its deprecation
    /// warning, or PyTorch's ValueError for anything else (a non-string too).
    public init(_ value: Value) throws {
        let name: String
        if case .string(let s) = value { name = s } else { name = value.pythonDescription }
        switch name {
        case "none": self = .none
        case "mean": self = .mean
        case "sum": self = .sum
        case "elementwise_mean":
            Warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                          category: "UserWarning")
            self = .mean
        default:
            throw TorchError.value("\(name) is not a valid value for reduction")
        }
    }

    /// `_Reduction.legacy_get_string(size_average, reduce)`: None counts as True; both true →
    /// mean, only `reduce` → sum, else none; always with the deprecation warning.
    public static func legacy(sizeAverage: Bool?, reduce: Bool?) -> LossReduction {
        let average = sizeAverage ?? true, reduces = reduce ?? true
        let r: LossReduction = average && reduces ? .mean : (reduces ? .sum : .none)
        Warnings.warn("size_average and reduce args will be deprecated, please use reduction='\(r.rawValue)' instead.",
                      category: "UserWarning")
        return r
    }

    /// The reduction of a loss call: the legacy `size_average`/`reduce` pair when either is
    /// given (then `reduction` is ignored), else `reduction` (default `mean`).
    /// `special` names accepted besides the enum's (e.g. `batchmean`) are returned as nil.
    public static func parse(_ args: Arguments, special: Set<String> = []) throws -> (LossReduction?, legacy: Bool) {
        if let legacy = try legacyChoice(args) { return (legacy, true) }
        let value = args["reduction"] ?? .string("mean")
        if case .string(let s) = value, special.contains(s) { return (nil, false) }
        return (try LossReduction(value), false)
    }

    /// `parse` for the losses that have no special reduction names.
    public static func parsed(_ args: Arguments) throws -> LossReduction {
        try parse(args).0!
    }

    /// The legacy pair's choice (with its warning) when `size_average` or `reduce` is given.
    public static func legacyChoice(_ args: Arguments) throws -> LossReduction? {
        let sizeAverage = try args.optionalBool("size_average"), reduce = try args.optionalBool("reduce")
        guard sizeAverage != nil || reduce != nil else { return nil }
        return legacy(sizeAverage: sizeAverage, reduce: reduce)
    }

    /// For the losses whose Python code compares the `reduction` string itself (so
    /// `elementwise_mean` is not accepted): `none`, `mean` (the default) or `sum`, else
    /// `invalid(name)`, PyTorch's ValueError, whose text differs between those losses.
    public static func named(_ value: Value?, invalid: (String) -> TorchError) throws -> LossReduction {
        let name: String
        switch value ?? .string("mean") {
        case .string(let s): name = s
        case let other: name = other.pythonDescription
        }
        guard let r = LossReduction(rawValue: name) else { throw invalid(name) }
        return r
    }

    /// `named` after the legacy pair (which, when given, decides).
    public static func checked(_ args: Arguments, invalid: (String) -> TorchError) throws -> LossReduction {
        try legacyChoice(args) ?? named(args["reduction"], invalid: invalid)
    }

    /// The shape of the reduced loss: the loss's own for `none`, else 0-dim.
    public func shape(of lossShape: [Int]) -> [Int] { self == .none ? lossShape : [] }

    /// ATen's `norm` factor of a fused loss backward over `n` elements: 1/n for `mean`, else 1.
    public func norm(_ n: Int) -> Double { self == .mean ? 1 / Double(n) : 1 }
}

/// The autograd node a loss records, the same on every backend: PyTorch's `grad_fn` name for
/// the loss ℓ, the tensors its pullback returns gradients for (in order), and the tensors it
/// saves (writing one in place afterwards makes the backward fail, as in PyTorch). A fused
/// loss (ATen's own op: `binary_cross_entropy`, `multi_margin_loss`, ...) reduces inside the
/// node; a composite one (`poisson_nll_loss`, `margin_ranking_loss`, ...) is followed by
/// `sum()` (`SumBackward0`) or `mean()` (`MeanBackward0`).
public struct LossNode {
    public let name: String
    public let inputs: [Tensor?]
    public let saving: [Tensor?]
    public let fused: Bool

    public static func fused(_ name: String, inputs: [Tensor?], saving: [Tensor?]) -> LossNode {
        LossNode(name: name, inputs: inputs, saving: saving, fused: true)
    }

    public static func composite(_ name: String, inputs: [Tensor?], saving: [Tensor?]) -> LossNode {
        LossNode(name: name, inputs: inputs, saving: saving, fused: false)
    }

    /// The reduced output's `grad_fn`: the node's own, or the reduction's after a composite.
    public func outputName(_ reduction: LossReduction) -> String {
        guard !fused else { return name }
        switch reduction {
        case .none: return name
        case .sum: return "SumBackward0"
        case .mean: return "MeanBackward0"
        }
    }

    /// The saved tensors (their version counters as of now).
    public var saved: [SavedTensor] { saving.compactMap { $0.map(SavedTensor.init) } }
}

/// Checks several losses share, with PyTorch's messages.
public enum LossCheck {
    /// `torch.Size([3, 4])`, as Python prints a size.
    public static func torchSize(_ s: [Int]) -> String { "torch.Size(\(shapeString(s)))" }

    /// The UserWarning of `mse_loss`, `l1_loss`, `smooth_l1_loss` and `huber_loss` when target
    /// and input sizes differ (they are then broadcast).
    public static func warnIfSizesDiffer(input: Tensor, target: Tensor) {
        guard input.shape != target.shape else { return }
        Warnings.warn("Using a target size (\(torchSize(target.shape))) that is different to the input size "
                      + "(\(torchSize(input.shape))). This will likely lead to incorrect results due to broadcasting. "
                      + "Please ensure they have the same size.", category: "UserWarning")
    }

    /// Autograd's refusal of an input the op has no derivative for (checked only when recording).
    public static func notDifferentiable(_ tensor: Tensor?, _ argument: String, of function: String) throws {
        guard GradMode.isEnabled, tensor?.requiresGrad == true else { return }
        throw TorchError.runtime("The function '\(function)' is not differentiable with respect to argument "
                                 + "'\(argument)'. This input cannot have requires_grad True.")
    }

    /// The check of an in-place op whose operand broadcasts past the tensor it writes.
    public static func broadcastsInto(_ shape: [Int], _ other: [Int]) throws {
        let result = try broadcastShapes(shape, other)
        guard result == shape else {
            throw TorchError.runtime("output with shape \(shapeString(shape)) doesn't match the broadcast shape \(shapeString(result))")
        }
    }

    /// Python's `torch.broadcast_shapes(*shapes)`, with its own RuntimeError (which quotes the
    /// common shape as built so far, a list).
    public static func pythonBroadcastShapes(_ shapes: [[Int]]) throws -> [Int] {
        var common = [Int](repeating: 1, count: shapes.map(\.count).max() ?? 0)
        for (argument, shape) in shapes.enumerated() {
            for idx in stride(from: -1, through: -shape.count, by: -1) {
                let size = shape[shape.count + idx], c = common.count + idx
                if size == common[c] || size == 1 { continue }
                if common[c] == 1 { common[c] = size; continue }
                throw TorchError.runtime("Attempting to broadcast a dimension of length \(size) at \(idx)! Mismatching argument "
                                         + "at index \(argument) had \(torchSize(shape)); but expected shape should be "
                                         + "broadcastable to \(shapeString(common))")
            }
        }
        return common
    }

    /// The computation dtype of a loss over floating-point `tensors` (`torch.result_type`);
    /// integer losses are not implemented by the reference (nor, mostly, by PyTorch).
    public static func floatingType(_ tensors: [Tensor?], op: String) throws -> DType {
        let dtype = Pointwise.resultType(tensors.compactMap { $0.map(PointwiseOperand.init) })
        guard dtype.isFloatingPoint else { throw Unsupported("\(op) of \(dtype.rawValue) tensors") }
        return dtype
    }

    /// A C++ double in a message, as `std::ostream` prints it (`%g`).
    public static func cDouble(_ d: Double) -> String { String(format: "%g", d) }
}

/// A validated call of `kl_div`.
public struct KLDivCall {
    public let input: Tensor
    public let target: Tensor
    public let logTarget: Bool
    /// What `torch.kl_div` applies to the pointwise loss (`batchmean` applies `sum`).
    public let reduction: LossReduction
    /// The divisor of `batchmean`, input.size(0); nil when not `batchmean` or for a 0-dim
    /// input. (`functional.kl_div` looks at `reduction == 'batchmean'` even after a legacy
    /// `size_average`/`reduce` chose the reduction.)
    public let batchDivisor: Int?
    /// The broadcast shape of input and target.
    public let shape: [Int]
    /// The common dtype (`torch.result_type`).
    public let dtype: DType

    /// Checks in PyTorch's order: reduction (with its warnings), integer inputs, broadcasting.
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        target = try args.tensor("target")
        logTarget = try args.bool("log_target", default: false)
        let (parsed, legacy) = try LossReduction.parse(args, special: ["batchmean"])
        let value = args["reduction"] ?? .string("mean")
        let name: String? = { if case .string(let s) = value { return s } else { return nil } }()
        if !legacy && name == "mean" {
            Warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          + "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          + "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          category: "UserWarning")
        }
        reduction = parsed ?? .sum
        batchDivisor = name == "batchmean" && input.dim != 0 ? input.shape[0] : nil

        if !input.dtype.isFloatingPoint || !target.dtype.isFloatingPoint {
            throw TorchError.runtime("kl_div: Integral inputs not supported.")
        }
        shape = try broadcastShapes(input.shape, target.shape)
        dtype = Pointwise.resultType([PointwiseOperand(input), PointwiseOperand(target)])
    }
}
