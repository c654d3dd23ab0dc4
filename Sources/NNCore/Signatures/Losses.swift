/// Losses. This wave: `kl_div`, the pointwise Kullback–Leibler term
///   ℓ = t · (log t − x)       (0 where t = 0, as `xlogy`)
///   ℓ = exp(t) · (t − x)      with `log_target` (t given as log-probabilities)
/// reduced by `none`, `sum`, `mean` (over every element) or `batchmean` (sum / input.size(0)).

extension Signatures {
    static let losses: [OpSignature] = [
        OpSignature("kl_div", ["input", "target", "size_average", "reduce", "reduction", "log_target"]),
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
        let sizeAverage = try args.optionalBool("size_average"), reduce = try args.optionalBool("reduce")
        if sizeAverage != nil || reduce != nil {
            return (legacy(sizeAverage: sizeAverage, reduce: reduce), true)
        }
        let value = args["reduction"] ?? .string("mean")
        if case .string(let s) = value, special.contains(s) { return (nil, false) }
        return (try LossReduction(value), false)
    }
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
