/// Classification losses over C classes, with PyTorch's checks and messages:
///   nll_loss:      ℓ_i = −w[t_i] · x[i, t_i]   (0 where t_i = ignore_index)
///   cross_entropy: nll_loss of log_softmax over the class dim, or with class probabilities
///                  ℓ_i = −Σ_c w_c t[i, c] log_softmax(x)[i, c]; `label_smoothing` ε mixes in ε/C
///   multi_margin_loss:      ℓ_i = Σ_{c ≠ y_i} w[y_i] · max(0, margin − x[i, y_i] + x[i, c])^p / C
///   multilabel_margin_loss: ℓ_i = Σ_{j ∈ y_i} Σ_{c ∉ y_i} max(0, 1 − x[i, j] + x[i, c]) / C
/// Sample i runs over the batch and, for K-dim inputs N × C × d1 … dK, over the positions.

/// A validated call of `nll_loss` (ATen's `nll_loss_nd`), also what `cross_entropy` reduces with.
public struct NLLCall {
    public let input: Tensor
    public let target: Tensor
    public let weight: Tensor?
    public let ignoreIndex: Int
    public let reduction: LossReduction
    /// The input as batch × classes × positions: (1, C, 1) for a 1-D input, (N, C, 1) for 2-D,
    /// (N, C, d1·…·dK) for N × C × d1 … dK.
    public let layout: (batch: Int, classes: Int, positions: Int)
    /// Each sample's class (samples in row-major order of the target), nil where ignored.
    public let classes: [Int?]
    /// The `none` result's shape: the target's, and [] for a 1-D input.
    public let unreducedShape: [Int]
    /// ATen's kernel: `nll_loss` for 1-D and 2-D inputs, `nll_loss2d` for the others.
    public var spatial: Bool { input.dim > 2 }
    public var backwardName: String { spatial ? "NllLoss2DBackward0" : "NllLossBackward0" }
    /// `none` on a 3-D or ≥ 5-D input: `nll_loss2d`'s result is a view of it (`ViewBackward0`).
    public var viewsOutput: Bool { reduction == .none && input.dim != 4 && spatial }

    /// `F.nll_loss`: the legacy arguments, then `nll_loss_nd`'s checks.
    public init(_ args: Arguments) throws {
        let reduction = try LossReduction.parsed(args)
        try self.init(input: args.tensor("input"), target: args.tensor("target"), weight: args.optionalTensor("weight"),
                      ignoreIndex: args.int("ignore_index", default: -100), reduction: reduction)
    }

    /// `nll_loss_nd`'s checks in PyTorch's order: rank, batch sizes, the kernel's target and
    /// weight shapes, dtypes, autograd's refusal of a weight requiring grad, target range.
    public init(input: Tensor, target: Tensor, weight: Tensor?, ignoreIndex: Int, reduction: LossReduction) throws {
        (self.input, self.target, self.weight, self.ignoreIndex, self.reduction) = (input, target, weight, ignoreIndex, reduction)
        let x = input.shape, t = target.shape
        guard input.dim >= 1 else { throw TorchError.value("Expected 1 or more dimensions (got \(input.dim))") }
        if input.dim == 1 && target.dim == 1 && t[0] != 1 {
            throw TorchError.value("For 1D input, 1D target must have size 1, but got target size: \(t[0])")
        }
        if input.dim != 1 && x[0] != (t.first ?? 0) {
            throw TorchError.value("Expected input batch_size (\(x[0])) to match target batch_size (\(t.first ?? 0)).")
        }
        let classes = input.dim == 1 ? x[0] : x[1]
        let weightMismatch = TorchError.runtime("weight tensor should be defined either for all or no classes")
        switch input.dim {
        case 1, 2:
            guard target.dim <= 1 else {
                throw TorchError.runtime("0D or 1D target tensor expected, multi-target not supported")
            }
            if input.dim == 2 && target.dim == 0 {  // an empty batch against a 0-dim target
                throw TorchError.index("Dimension specified as 0 but tensor has no dimensions")
            }
            if let w = weight, w.dim != 1 || w.numel != classes {
                throw TorchError.runtime("weight tensor should be defined either for all \(classes) classes or no classes"
                                         + " but got weight tensor of shape: \(shapeString(w.shape))")
            }
        case 4:
            guard target.dim == 3 else {
                throw TorchError.runtime("only batches of spatial targets supported (3D tensors) but got targets of dimension: \(target.dim)")
            }
            if let w = weight, w.numel != classes { throw weightMismatch }
            guard t == [x[0], x[2], x[3]] else {
                throw TorchError.runtime("size mismatch (got input: \(shapeString(x)) , target: \(shapeString(t))")
            }
        default:
            guard Array(t.dropFirst()) == Array(x.dropFirst(2)) else {
                throw TorchError.runtime("Expected target size \(shapeString([x[0]] + x.dropFirst(2))), got \(shapeString(t))")
            }
            if let w = weight, w.numel != classes { throw weightMismatch }
        }
        guard target.dtype == .int64 else {
            throw TorchError.runtime("expected target dtype to be Long or Byte, but got \(target.dtype.scalarTypeName)")
        }
        if let w = weight, w.dtype != input.dtype {
            throw TorchError.runtime("expected scalar type \(input.dtype.scalarTypeName) but found \(w.dtype.scalarTypeName)")
        }
        let kernel = input.dim > 2 ? "nll_loss2d_forward" : "nll_loss_forward"
        guard input.dtype.isFloatingPoint else {
            throw TorchError.notImplemented("\"\(input.dim > 2 ? "nll_loss2d_forward_out_frame" : "nll_loss_out_frame")\" not implemented for '\(input.dtype.scalarTypeName)'")
        }
        try LossCheck.notDifferentiable(weight, "weight", of: kernel)

        layout = input.dim == 1 ? (1, classes, 1) : (x[0], classes, x.dropFirst(2).reduce(1, *))
        self.classes = try target.int64s.map { t in
            if t == Int64(ignoreIndex) { return nil }
            guard t >= 0 && t < Int64(classes) else { throw TorchError.index("Target \(t) is out of bounds.") }
            return Int(t)
        }
        unreducedShape = input.dim == 1 ? [] : [x[0]] + x.dropFirst(2)
    }
}

/// A validated call of `cross_entropy`. A target of the input's shape holds class
/// probabilities; any other target holds class indices and goes through `NLLCall`.
public struct CrossEntropyCall {
    public let input: Tensor
    public let target: Tensor
    public let weight: Tensor?
    public let ignoreIndex: Int
    public let reduction: LossReduction
    /// ε: 0 (or negative, which PyTorch ignores) means no smoothing.
    public let labelSmoothing: Double
    public let probabilities: Bool
    /// 1, or 0 for an unbatched (1-D) input.
    public let classDim: Int

    /// Checks in PyTorch's order: the legacy arguments, then for probabilities the target's
    /// dtype, `ignore_index`, the weight's size, ε ≤ 1; for indices ε ≤ 1 (the rest is `NLLCall`'s).
    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        input = try args.tensor("input")
        target = try args.tensor("target")
        weight = try args.optionalTensor("weight")
        ignoreIndex = try args.int("ignore_index", default: -100)
        labelSmoothing = try args.double("label_smoothing", default: 0)
        probabilities = input.shape == target.shape
        classDim = input.dim == 1 ? 0 : 1
        if probabilities {
            guard target.dtype.isFloatingPoint else {
                throw TorchError.runtime("Expected floating point type for target with class probabilities, got \(target.dtype.scalarTypeName)")
            }
            guard ignoreIndex < 0 else { throw TorchError.runtime("ignore_index is not supported for floating point target") }
            guard input.dim > 0 else { throw TorchError.index("Dimension specified as 1 but tensor has no dimensions") }
            let classes = input.shape[classDim]
            if let w = weight, w.dim != 1 || w.numel != classes {
                throw TorchError.runtime("cross_entropy: weight tensor should be defined either for all \(classes) classes or no classes"
                                         + " but got weight tensor of shape: \(shapeString(w.shape))")
            }
        }
        if labelSmoothing > 0 && labelSmoothing > 1 {
            throw TorchError.runtime("label_smoothing must be between 0.0 and 1.0. Got: \(LossCheck.cDouble(labelSmoothing))")
        }
    }

    /// The indices case as `nll_loss_nd` receives it, on the log-probabilities.
    public func nll(on logProbabilities: Tensor) throws -> NLLCall {
        try NLLCall(input: logProbabilities, target: target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
    }
}

/// A validated call of `multi_margin_loss` (input C or N × C, target of N class indices).
public struct MultiMarginCall {
    public let input: Tensor
    public let target: Tensor
    public let weight: Tensor?
    public let p: Int
    public let margin: Double
    public let reduction: LossReduction
    /// (N, C): a 0-dim input is one sample of one class, a 1-D input one sample.
    public let frames: Int, classes: Int
    /// `none` gives one loss per sample when the target has a dim, else a 0-dim loss.
    public var outputShape: [Int] { reduction == .none && target.dim > 0 ? [frames] : [] }

    /// Checks in PyTorch's order: reduction, `p` and the weight's rank (Python), autograd's
    /// refusal of a weight requiring grad, then ATen's shapes and target range.
    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        input = try args.tensor("input")
        target = try args.tensor("target")
        weight = try args.optionalTensor("weight")
        let p = try args.double("p", default: 1)
        margin = try args.double("margin", default: 1)
        guard p == 1 || p == 2 else { throw TorchError.value("only p == 1 and p == 2 supported") }
        self.p = Int(p)
        if let w = weight, w.dim != 1 { throw TorchError.value("weight must be one-dimensional") }
        try LossCheck.notDifferentiable(weight, "weight", of: "multi_margin_loss")

        let x = input.shape
        guard (input.dim == 2 && x[1] != 0) || (input.dim == 1 && x[0] != 0) || input.dim == 0 else {
            throw TorchError.runtime("Expected non-empty vector or matrix with optional 0-dim batch size, but got: \(shapeString(x))")
        }
        (frames, classes) = input.dim <= 1 ? (1, input.dim == 0 ? 1 : x[0]) : (x[0], x[1])
        guard target.dim <= 1 && target.numel == frames else {
            throw TorchError.runtime("multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples (batch size). "
                                     + "Expected target size [\(frames)], but got \(shapeString(target.shape)). Input has shape \(shapeString(x)).")
        }
        if let w = weight, w.numel != classes {
            throw TorchError.runtime("inconsistent weight size, expected \(classes) but got \(shapeString(w.shape))")
        }
        if let w = weight, w.dtype != input.dtype {
            throw TorchError.runtime("expected scalar type \(input.dtype.scalarTypeName) but found \(w.dtype.scalarTypeName)")
        }
        guard input.dtype.isFloatingPoint else { throw Unsupported("multi_margin_loss of \(input.dtype.rawValue) input") }
        if target.int64s.contains(where: { $0 < 0 || $0 >= Int64(classes) }) {
            throw TorchError.runtime("target out of range")
        }
    }
}

/// A validated call of `multilabel_margin_loss`: per sample, the target lists class indices
/// up to the first −1.
public struct MultilabelMarginCall {
    public let input: Tensor
    public let target: Tensor
    public let reduction: LossReduction
    public let frames: Int, classes: Int
    /// `none` gives one loss per sample for a 2-D input, else a 0-dim loss.
    public var outputShape: [Int] { reduction == .none && target.dim > 1 ? [frames] : [] }

    /// Checks in ATen's order: input shape, target shape, target range.
    public init(_ args: Arguments) throws {
        reduction = try LossReduction.parsed(args)
        input = try args.tensor("input")
        target = try args.tensor("target")
        let x = input.shape
        guard (input.dim == 2 && x[1] != 0) || (input.dim == 1 && x[0] != 0) || input.dim == 0 else {
            throw TorchError.runtime("Expected non-empty vector or matrix with optional 0-dim batch size, but got: \(shapeString(x))")
        }
        (frames, classes) = input.dim <= 1 ? (1, input.dim == 0 ? 1 : x[0]) : (x[0], x[1])
        let fits = input.dim <= 1 ? target.dim <= 1 && target.numel == classes : target.shape == [frames, classes]
        guard fits else {
            throw TorchError.runtime("inconsistent target size: \(shapeString(target.shape)) for input of size: \(shapeString(x))")
        }
        guard input.dtype.isFloatingPoint, target.dtype == .int64 else {
            throw Unsupported("multilabel_margin_loss of \(input.dtype.rawValue) input, \(target.dtype.rawValue) target")
        }
        if target.int64s.contains(where: { $0 < -1 || $0 >= Int64(classes) }) {
            throw TorchError.runtime("argument #2 'target' is out of range")
        }
    }
}

// MARK: Autograd nodes (shared by the backends)

extension MultiMarginCall {
    public var node: LossNode { .fused("MultiMarginLossBackward0", inputs: [input], saving: [input, target, weight]) }
}

extension MultilabelMarginCall {
    public var node: LossNode { .fused("MultilabelMarginLossBackward0", inputs: [input], saving: [input, target]) }
}
