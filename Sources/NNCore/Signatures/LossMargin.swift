/// Margin and embedding losses (targets y are ±1 labels unless said otherwise):
///   cosine_embedding_loss  ℓ_i = 1 − cos(a_i, b_i) if y_i = 1; max(0, cos(a_i, b_i) − margin) if y_i = −1
///   margin_ranking_loss    ℓ = max(0, −y (x1 − x2) + margin)
///   hinge_embedding_loss   ℓ = x if y = 1; max(0, margin − x) if y = −1 (both for other y)
///   triplet_margin_loss    ℓ_i = max(0, margin + d(a_i, p_i) − d(a_i, n_i)), d(u, v) = ‖u − v + eps‖_p
///                          (`swap`: d(a, n) replaced by min(d(a, n), d(p, n)))
///   soft_margin_loss       ℓ = log(1 + exp(−y x))
///   multilabel_soft_margin_loss  ℓ_i = −Σ_c w_c (y_ic log σ(x_ic) + (1 − y_ic) log σ(−x_ic)) / C
/// Each takes PyTorch's `reduction` and legacy `size_average` / `reduce`.

/// A validated call of `cosine_embedding_loss` (rows of 2-D inputs with a 1-D target, or
/// 1-D inputs with a 0-dim target).
public struct CosineEmbeddingCall {
    public let input1: Tensor, input2: Tensor, target: Tensor
    public let margin: Double
    public let reduction: LossReduction
    /// The broadcast shape of the two inputs, and of the per-row loss (rows and target).
    public let pairShape: [Int], shape: [Int]
    public let dtype: DType

    /// ATen's checks: the target's rank, the inputs' rank, then the broadcasts.
    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        input1 = try args.tensor("input1")
        input2 = try args.tensor("input2")
        target = try args.tensor("target")
        margin = try args.double("margin", default: 0)
        guard target.dim <= 1 else {
            throw TorchError.runtime("0D or 1D target tensor expected, multi-target not supported")
        }
        let rank = target.dim + 1
        guard input1.dim == rank && input2.dim == rank else {
            throw TorchError.runtime("\(target.dim)D target tensor expects \(rank)D input tensors, but found inputs with sizes "
                                     + "\(shapeString(input1.shape)) and \(shapeString(input2.shape)).")
        }
        pairShape = try broadcastShapes(input1.shape, input2.shape)
        shape = try broadcastShapes(target.shape, Array(pairShape.dropLast()))
        dtype = try LossCheck.floatingType([input1, input2], op: "cosine_embedding_loss")
    }
}

/// A validated call of `margin_ranking_loss`.
public struct MarginRankingCall {
    public let input1: Tensor, input2: Tensor, target: Tensor
    public let margin: Double
    public let reduction: LossReduction
    public let shape: [Int]
    public let dtype: DType

    /// `F.margin_ranking_loss`'s rank check, then the broadcasts of −y · (x1 − x2).
    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        input1 = try args.tensor("input1")
        input2 = try args.tensor("input2")
        target = try args.tensor("target")
        margin = try args.double("margin", default: 0)
        guard input1.dim == input2.dim && input1.dim == target.dim else {
            throw TorchError.runtime("margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                                     + "input1: \(LossCheck.torchSize(input1.shape)), input2: \(LossCheck.torchSize(input2.shape)), "
                                     + "target: \(LossCheck.torchSize(target.shape)) ")
        }
        shape = try broadcastShapes(target.shape, broadcastShapes(input1.shape, input2.shape))
        dtype = try LossCheck.floatingType([input1, input2, target], op: "margin_ranking_loss")
    }
}

/// A validated call of `hinge_embedding_loss`.
public struct HingeEmbeddingCall {
    public let input: Tensor, target: Tensor
    public let margin: Double
    public let reduction: LossReduction
    /// The broadcast shape of target and input (`where(target != 1, ...)`).
    public let shape: [Int]
    public let dtype: DType

    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        input = try args.tensor("input")
        target = try args.tensor("target")
        margin = try args.double("margin", default: 1)
        shape = try broadcastShapes(target.shape, input.shape)
        dtype = try LossCheck.floatingType([input], op: "hinge_embedding_loss")
    }
}

/// A validated call of `triplet_margin_loss`.
public struct TripletMarginCall {
    public let anchor: Tensor, positive: Tensor, negative: Tensor
    public let margin: Double
    /// The norm's order (any p ≥ 0, or infinity).
    public let p: Double
    public let eps: Double
    public let swap: Bool
    public let reduction: LossReduction
    public let dtype: DType

    /// `F.triplet_margin_loss`'s margin check, then ATen's rank check.
    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        anchor = try args.tensor("anchor")
        positive = try args.tensor("positive")
        negative = try args.tensor("negative")
        margin = try args.double("margin", default: 1)
        p = try args.double("p", default: 2)
        eps = try args.double("eps", default: 1e-6)
        swap = try args.bool("swap", default: false)
        if margin <= 0 {
            throw TorchError.value("margin must be greater than 0, got \(args["margin"]?.pythonDescription ?? "1.0")")
        }
        let ranks = (anchor.dim, positive.dim, negative.dim)
        guard ranks.0 == ranks.1 && ranks.1 == ranks.2 else {
            throw TorchError.runtime("The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
                                     + "but got: anchor \(ranks.0)D, positive \(ranks.1)D, and negative \(ranks.2)D inputs")
        }
        guard ranks.0 >= 1 else { throw Unsupported("triplet_margin_loss of 0-dim inputs") }
        dtype = try LossCheck.floatingType([anchor, positive, negative], op: "triplet_margin_loss")
    }
}

/// A validated call of `soft_margin_loss`: the target broadcasts into the input's shape.
public struct SoftMarginCall {
    public let input: Tensor, target: Tensor
    public let reduction: LossReduction

    /// Reduction, autograd's refusal of a target requiring grad, ATen's in-place broadcast.
    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        input = try args.tensor("input")
        target = try args.tensor("target")
        try LossCheck.notDifferentiable(target, "target", of: "soft_margin_loss")
        try LossCheck.broadcastsInto(input.shape, target.shape)
        _ = try LossCheck.floatingType([input], op: "soft_margin_loss")
    }
}

/// A validated call of `multilabel_soft_margin_loss`; the class dim is the input's last.
public struct MultilabelSoftMarginCall {
    public let input: Tensor, target: Tensor, weight: Tensor?
    public let reduction: LossReduction
    /// The broadcast shape of the elementwise loss (input, target and weight).
    public let shape: [Int]
    public let classDim: Int
    public let dtype: DType

    /// The broadcasts of its arithmetic, then (as `F.multilabel_soft_margin_loss` computes
    /// before looking) the reduction string.
    public init(_ args: Arguments) throws {
        let legacy = try LossReduction.legacyChoice(args)
        input = try args.tensor("input")
        target = try args.tensor("target")
        weight = try args.optionalTensor("weight")
        guard input.dim >= 1 else { throw TorchError.index("Dimension specified as -1 but tensor has no dimensions") }
        let unweighted = try broadcastShapes(target.shape, input.shape)
        shape = try weight.map { try broadcastShapes(unweighted, $0.shape) } ?? unweighted
        classDim = input.dim - 1
        dtype = try LossCheck.floatingType([input, target, weight], op: "multilabel_soft_margin_loss")
        reduction = try legacy ?? LossReduction.named(args["reduction"]) { TorchError.value("\($0) is not valid") }
    }
}

// MARK: Autograd nodes (shared by the backends)

extension CosineEmbeddingCall {
    public var node: LossNode { .composite("AddBackward0", inputs: [input1, input2], saving: [input1, input2]) }
}

extension MarginRankingCall {
    public var node: LossNode {
        .composite("ClampMinBackward0", inputs: [input1, input2, target], saving: [input1, input2, target])
    }
}

extension HingeEmbeddingCall {
    public var node: LossNode { .composite("AddBackward0", inputs: [input], saving: []) }
}

extension TripletMarginCall {
    public var node: LossNode {
        .composite("ClampMinBackward0", inputs: [anchor, positive, negative], saving: [anchor, positive, negative])
    }
}

extension SoftMarginCall {
    public var node: LossNode { .fused("SoftMarginLossBackward0", inputs: [input], saving: [input, target]) }
}

extension MultilabelSoftMarginCall {
    /// The class-dim sum divided by C, then `mean()` / `sum()` over the samples.
    public var node: LossNode { .composite("DivBackward0", inputs: [input, target, weight], saving: [target, weight]) }
}
