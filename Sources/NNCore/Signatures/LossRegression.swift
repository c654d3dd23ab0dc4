/// Regression and likelihood losses, pointwise over the broadcast shape of input x and target t:
///   mse_loss        ℓ = (x − t)²
///   l1_loss         ℓ = |x − t|
///   smooth_l1_loss  ℓ = ½ (x − t)² / β if |x − t| < β, else |x − t| − ½ β   (β = 0: l1_loss)
///   huber_loss      ℓ = ½ (x − t)² if |x − t| < δ, else δ (|x − t| − ½ δ)
///   binary_cross_entropy              ℓ = −w (t log x + (1 − t) log(1 − x)), each log ≥ −100
///   binary_cross_entropy_with_logits  ℓ = −w (p t log σ(x) + (1 − t) log(1 − σ(x))), p = pos_weight
///   poisson_nll_loss   ℓ = eˣ − t x (log_input), else x − t log(x + eps); `full` adds Stirling's
///                      t log t − t + ½ log(2π t) where t > 1
///   gaussian_nll_loss  ℓ = ½ (log v + (x − t)² / v), v = max(var, eps); `full` adds ½ log 2π
/// `mse_loss`, `l1_loss` and `huber_loss` take an elementwise `weight` (a weighted mean for the
/// first two: Σ wℓ / Σ w).

/// The four distance losses of one input and target.
public enum PairwiseLoss: String, Sendable {
    case mse = "mse_loss", l1 = "l1_loss", smoothL1 = "smooth_l1_loss", huber = "huber_loss"
}

/// A validated call of `mse_loss`, `l1_loss`, `smooth_l1_loss` or `huber_loss`.
public struct PairwiseLossCall {
    /// The loss computed: `smooth_l1_loss` with β = 0 is `l1_loss`, as in `F.smooth_l1_loss`.
    public let loss: PairwiseLoss
    public let input: Tensor
    public let target: Tensor
    public let weight: Tensor?
    public let reduction: LossReduction
    /// β of `smooth_l1_loss`, δ of `huber_loss` (else 0).
    public let parameter: Double
    /// The broadcast shape of input and target (`torch.broadcast_tensors`).
    public let shape: [Int]
    /// The dtype computed in: `torch.result_type`, but the input's for `huber_loss` (whose
    /// ATen result is `empty_like(input)`).
    public let dtype: DType

    /// Checks in `torch.nn.functional`'s order: the size warning, the legacy arguments,
    /// broadcasting, then with a weight its size and the reduction string (`huber_loss` checks
    /// δ in between), without one `get_enum(reduction)` and ATen's check of β or δ.
    public init(_ loss: PairwiseLoss, _ args: Arguments) throws {
        input = try args.tensor("input")
        target = try args.tensor("target")
        LossCheck.warnIfSizesDiffer(input: input, target: target)
        let legacy = loss == .huber ? nil : try LossReduction.legacyChoice(args)
        shape = try broadcastShapes(input.shape, target.shape)
        weight = loss == .smoothL1 ? nil : try args.optionalTensor("weight")
        parameter = try loss == .smoothL1 ? args.double("beta", default: 1) : loss == .huber ? args.double("delta", default: 1) : 0
        if let w = weight {
            guard w.shape == input.shape else { throw TorchError.value("Weights and input must have the same size.") }
            try PairwiseLossCall.checkParameter(loss, parameter)
            reduction = try legacy ?? LossReduction.named(args["reduction"]) {
                TorchError.value("Invalid reduction mode: \($0). Expected one of 'none', 'mean', 'sum'.")
            }
        } else {
            reduction = try legacy ?? LossReduction(args["reduction"] ?? .string("mean"))
            try PairwiseLossCall.checkParameter(loss, parameter)
        }
        self.loss = loss == .smoothL1 && parameter == 0 ? .l1 : loss
        dtype = try loss == .huber ? LossCheck.floatingType([input], op: loss.rawValue)
            : LossCheck.floatingType([input, target, weight], op: loss.rawValue)
    }

    private static func checkParameter(_ loss: PairwiseLoss, _ value: Double) throws {
        if loss == .smoothL1 && value < 0 {
            throw TorchError.runtime("smooth_l1_loss does not support negative values for beta.")
        }
        if loss == .huber && !(value > 0) {
            throw TorchError.runtime("huber_loss does not support non-positive values for delta.")
        }
    }
}

/// A validated call of `binary_cross_entropy` (input probabilities x ∈ [0, 1]).
public struct BCECall {
    public let input: Tensor
    public let target: Tensor
    /// The weight, broadcast to the target's shape by `F.binary_cross_entropy`.
    public let weight: Tensor?
    public let reduction: LossReduction

    /// Checks in PyTorch's order: reduction, equal sizes, the weight's broadcast (Python's, then
    /// ATen's in-place multiply), autograd's refusal of a weight requiring grad, dtypes, and the
    /// kernel's range checks element by element.
    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        input = try args.tensor("input")
        target = try args.tensor("target")
        guard target.shape == input.shape else {
            throw TorchError.value("Using a target size (\(LossCheck.torchSize(target.shape))) that is different to the input size "
                                   + "(\(LossCheck.torchSize(input.shape))) is deprecated. Please ensure they have the same size.")
        }
        weight = try args.optionalTensor("weight")
        if let w = weight {
            try LossCheck.broadcastsInto(input.shape, LossCheck.pythonBroadcastShapes([target.shape, w.shape]))
        }
        try LossCheck.notDifferentiable(weight, "weight", of: "binary_cross_entropy")
        for t in [target] + (weight.map { [$0] } ?? []) where t.dtype != input.dtype {
            throw TorchError.runtime("Found dtype \(t.dtype.scalarTypeName) but expected \(input.dtype.scalarTypeName)")
        }
        _ = try LossCheck.floatingType([input], op: "binary_cross_entropy")
        for (x, t) in zip(input.doubles, target.doubles) {
            guard x >= 0 && x <= 1 else { throw TorchError.runtime("all elements of input should be between 0 and 1") }
            guard t >= 0 && t <= 1 else { throw TorchError.runtime("all elements of target should be between 0 and 1") }
        }
    }
}

/// A validated call of `binary_cross_entropy_with_logits`.
public struct BCEWithLogitsCall {
    public let input: Tensor
    public let target: Tensor
    public let weight: Tensor?
    public let posWeight: Tensor?
    public let reduction: LossReduction
    public let dtype: DType

    /// Checks in PyTorch's order: reduction, equal sizes, autograd's refusal of weights
    /// requiring grad, then the broadcasts of `pos_weight` (with the target, into the input)
    /// and `weight` (into the input).
    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        input = try args.tensor("input")
        target = try args.tensor("target")
        guard target.shape == input.shape else {
            throw TorchError.value("Target size (\(LossCheck.torchSize(target.shape))) must be the same as input size (\(LossCheck.torchSize(input.shape)))")
        }
        weight = try args.optionalTensor("weight")
        posWeight = try args.optionalTensor("pos_weight")
        try LossCheck.notDifferentiable(weight, "weight", of: "binary_cross_entropy_with_logits")
        try LossCheck.notDifferentiable(posWeight, "pos_weight", of: "binary_cross_entropy_with_logits")
        if let p = posWeight { try LossCheck.broadcastsInto(input.shape, broadcastShapes(p.shape, target.shape)) }
        if let w = weight { try LossCheck.broadcastsInto(input.shape, w.shape) }
        dtype = try LossCheck.floatingType([input, target, weight, posWeight], op: "binary_cross_entropy_with_logits")
    }
}

/// A validated call of `poisson_nll_loss`.
public struct PoissonNLLCall {
    public let input: Tensor
    public let target: Tensor
    public let logInput: Bool
    public let full: Bool
    public let eps: Double
    public let reduction: LossReduction
    public let shape: [Int]
    public let dtype: DType

    /// `F.poisson_nll_loss` checks the reduction string itself, then ATen broadcasts t · x.
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        target = try args.tensor("target")
        logInput = try args.bool("log_input", default: true)
        full = try args.bool("full", default: false)
        eps = try args.double("eps", default: 1e-8)
        reduction = try LossReduction.checked(args) { TorchError.value("\($0) is not a valid value for reduction") }
        shape = try broadcastShapes(target.shape, input.shape)
        dtype = try LossCheck.floatingType([input, target], op: "poisson_nll_loss")
    }
}

/// A validated call of `gaussian_nll_loss`: `var` is a tensor or a Python float.
public struct GaussianNLLCall {
    public let input: Tensor
    public let target: Tensor
    /// The variance tensor (a float becomes a constant of the input's shape) and the shape it
    /// broadcasts as: one dim short of the input's gets a trailing 1.
    public let variance: Tensor, varianceShape: [Int]
    public let full: Bool
    public let eps: Double
    public let reduction: LossReduction
    public let shape: [Int]
    public let dtype: DType

    /// `F.gaussian_nll_loss`'s checks in order: negative variance, the variance's size, the
    /// reduction string; then the broadcasts of its arithmetic.
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        target = try args.tensor("target")
        full = try args.bool("full", default: false)
        eps = try args.double("eps", default: 1e-6)
        let negative = TorchError.value("var has negative entry/entries")
        if case .double(let v)? = args["var"] {
            guard !(v < 0) else { throw negative }
            variance = Tensor(shape: input.shape, data: TensorData.float64(Array(repeating: v, count: input.numel)).converted(to: input.dtype))
        } else {
            variance = try args.tensor("var")
            if variance.doubles.contains(where: { $0 < 0 }) { throw negative }
        }
        let x = input.shape, v = variance.shape
        if v == x || v.count == x.count && zip(x, v).filter({ $0 != $1 }).map(\.1).reduce(0, +) == 1 {
            varianceShape = v
        } else if Array(x.dropLast()) == v {
            varianceShape = v + [1]
        } else {
            throw TorchError.value("var is of incorrect size")
        }
        reduction = try LossReduction.named(args["reduction"]) { TorchError.value("\($0) is not valid") }
        shape = try broadcastShapes(broadcastShapes(input.shape, target.shape), varianceShape)
        dtype = try LossCheck.floatingType([input, target, variance], op: "gaussian_nll_loss")
    }
}

// MARK: Autograd nodes (shared by the backends)

extension BCECall {
    public var node: LossNode {
        .fused("BinaryCrossEntropyBackward0", inputs: [input, target], saving: [input, target, weight])
    }
}

extension BCEWithLogitsCall {
    public var node: LossNode {
        .fused("BinaryCrossEntropyWithLogitsBackward0", inputs: [input, target], saving: [input, target, weight, posWeight])
    }
}

extension PoissonNLLCall {
    /// ATen's last op: the Stirling term's add with `full`, else the subtraction.
    public var node: LossNode {
        .composite(full ? "AddBackward0" : "SubBackward0", inputs: [input, target], saving: [input, target])
    }
}

extension GaussianNLLCall {
    /// ATen's last op: the constant's add with `full`, else the product with ½.
    public var node: LossNode {
        .composite(full ? "AddBackward0" : "MulBackward0", inputs: [input, target, variance], saving: [input, target, variance])
    }
}
