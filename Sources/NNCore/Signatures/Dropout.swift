/// Dropout family. With q = 1 − p and a mask m drawn per unit (an element, or a whole channel
/// for the feature forms), m ~ Bernoulli(q) independently:
///   dropout(x)_i = x_i · m_i / q
///   alpha_dropout(x)_i = a · (m_i x_i + (1 − m_i) α′) + b,  α′ = −α = −1.7580993408473766,
///     a = ((α²p + 1) q)^(−1/2),  b = a α p   (Klambauer et al. 2017, §"New dropout technique"),
/// so a dropped unit becomes −a α q and a kept one a x + a α p. E[m/q] = 1 keeps the mean of
/// dropout's output; alpha dropout keeps the mean and variance of a standardized input.
/// Not training, p = 0, or an empty input: the input itself (a view of it for unbatched
/// dropout1d/3d inputs, which get a batch dimension first). p = 1: input · 0,
/// whatever the kind (ATen multiplies by a zero scalar before building any noise).

extension Signatures {
    static let dropout: [OpSignature] = DropoutFunction.allCases.map {
        OpSignature($0.rawValue, ["input", "p", "training", "inplace"])
    }
}

public enum DropoutFunction: String, Sendable, CaseIterable {
    case dropout, alphaDropout = "alpha_dropout", featureAlphaDropout = "feature_alpha_dropout"
    case dropout1d, dropout2d, dropout3d

    /// Whether the mask is drawn per (batch, channel) pair rather than per element.
    public var dropsChannels: Bool { ![.dropout, .alphaDropout].contains(self) }
    public var isAlpha: Bool { self == .alphaDropout || self == .featureAlphaDropout }
    /// `torch.nn.functional`'s default for `training`: off for the alpha forms.
    var trainingByDefault: Bool { !isAlpha }
}

/// What the call does to its input.
public enum DropoutAction: Sendable {
    /// Returns the input itself (not training, p = 0, or no elements).
    case identity
    /// p = 1: input · 0, recorded as `MulBackward0`.
    case zero
    /// Draws a mask and applies it (`MulBackward0`, then `AddBackward0` for the alpha forms).
    case mask
}

/// A validated dropout call, with `torch.nn.functional`'s and ATen's checks in their order:
/// the range of p, the rank rules of `dropout1d/2d/3d` (an error for 1d, deprecation warnings for
/// 2d and 3d), then, only when a mask is drawn, feature dropout's rank and the dtype.
public struct DropoutCall {
    public let function: DropoutFunction
    public let input: Tensor
    public let p: Double
    public let inplace: Bool
    /// `dropout1d` of a 2-D input and `dropout3d` of anything but 5-D: PyTorch adds a leading
    /// batch dimension (`unsqueeze(0)`, in place as `unsqueeze_(0)`) and removes it after.
    public let addsBatchDim: Bool
    public let action: DropoutAction
    /// The mask's units, row-major: `units` consecutive blocks of `input.numel / units` elements,
    /// each kept or dropped whole (every element is a unit, except for the feature forms).
    public let units: Int

    public init(_ function: DropoutFunction, _ args: Arguments) throws {
        self.function = function
        input = try args.tensor("input")
        p = try args.double("p", default: 0.5)
        let training = try args.bool("training", default: function.trainingByDefault)
        inplace = try args.bool("inplace", default: false)
        guard p >= 0 && p <= 1 else {
            throw TorchError.value("dropout probability has to be between 0 and 1, but got \(args["p"]?.pythonDescription ?? "")")
        }
        addsBatchDim = try DropoutCall.checkRank(function, rank: input.dim)
        if inplace && addsBatchDim { try input.checkInplace() }  // unsqueeze_ writes even when nothing is dropped
        let shape = addsBatchDim ? [1] + input.shape : input.shape
        units = function.dropsChannels && shape.count >= 2 ? shape[0] * shape[1] : input.numel

        guard training && p > 0 && input.numel > 0 else { action = .identity; return }
        if p == 1 {
            action = .zero
        } else {
            if function.dropsChannels && shape.count < 2 {
                throw TorchError.runtime("Feature dropout requires at least 2 dimensions in the input")
            }
            guard input.dtype.isFloatingPoint else {
                throw TorchError.runtime("result type Float can't be cast to the desired output type \(input.dtype.scalarTypeName)")
            }
            action = .mask
        }
        if inplace && !addsBatchDim { try input.checkInplace() }
    }

    /// `dropout1d` accepts 2-D and 3-D inputs; `dropout2d` and `dropout3d` warn outside 3-D/4-D
    /// and 4-D/5-D, and `dropout2d` warns that a 3-D input is read as (N, C, L). Returns whether
    /// PyTorch adds a batch dimension.
    static func checkRank(_ function: DropoutFunction, rank: Int) throws -> Bool {
        switch function {
        case .dropout1d:
            guard rank == 2 || rank == 3 else {
                throw TorchError.runtime(
                    "dropout1d: Expected 2D or 3D input, but received a \(rank)D input. Note that dropout1d exists to provide "
                    + "channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch "
                    + "dimension (i.e. 2D or 3D inputs).")
            }
            return rank == 2
        case .dropout2d:
            if rank != 3 && rank != 4 { deprecatedRank("dropout2d", rank: rank, spatial: 2, ranks: "3D or 4D") }
            if rank == 3 {
                Warnings.warn(
                    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is desired - "
                    + "input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change in a future "
                    + "release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
                    + "channel-wise dropout behavior, please switch to using dropout1d instead.")
            }
            return false
        case .dropout3d:
            if rank != 4 && rank != 5 { deprecatedRank("dropout3d", rank: rank, spatial: 3, ranks: "4D or 5D") }
            return rank != 5
        case .dropout, .alphaDropout, .featureAlphaDropout:
            return false
        }
    }

    private static func deprecatedRank(_ op: String, rank: Int, spatial: Int, ranks: String) {
        Warnings.warn(
            "\(op): Received a \(rank)-D input to \(op), which is deprecated and will result in an error in a future release. "
            + "To retain the behavior and silence this warning, please use dropout instead. Note that \(op) exists to provide "
            + "channel-wise dropout on inputs with \(spatial) spatial dimensions, a channel dimension, and an optional batch "
            + "dimension (i.e. \(ranks) inputs).")
    }
}

/// The constants of alpha dropout for drop probability p (ATen's `_dropout_impl`):
/// kept x ↦ a·x + b, dropped ↦ b − a·α, with a = ((α²p + 1)(1 − p))^(−1/2) and b = a·α·p.
public struct AlphaDropoutConstants: Sendable {
    /// α = −α′ = λ·α of SELU (Klambauer et al. 2017).
    public static let alpha = 1.7580993408473766
    public let a: Double
    public let b: Double
    /// The value of a dropped element: b − a·α = −a·α·(1 − p).
    public var dropped: Double { b - a * Self.alpha }

    public init(p: Double) {
        a = 1 / ((Self.alpha * Self.alpha * p + 1) * (1 - p)).squareRoot()
        b = a * Self.alpha * p
    }
}
