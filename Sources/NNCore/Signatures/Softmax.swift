/// Softmax family along one dim:
///   softmax(x)_i = exp(x_i) / Σ_j exp(x_j)
///   log_softmax(x)_i = x_i − log Σ_j exp(x_j)
///   softmin(x) = softmax(−x)

extension Signatures {
    static let softmax: [OpSignature] = [
        OpSignature("softmax", ["input", "dim", "_stacklevel", "dtype"]),
        OpSignature("log_softmax", ["input", "dim", "_stacklevel", "dtype"]),
        OpSignature("softmin", ["input", "dim", "_stacklevel", "dtype"]),
    ]
}

public enum SoftmaxFunction: String, Sendable {
    case softmax, logSoftmax = "log_softmax", softmin

    /// `softmin` is recorded as the softmax of `neg(input)`.
    public var backwardName: String { self == .logSoftmax ? "LogSoftmaxBackward0" : "SoftmaxBackward0" }
}

/// A validated call of `softmax`, `log_softmax` or `softmin`.
public struct SoftmaxCall {
    public let function: SoftmaxFunction
    public let input: Tensor
    /// The dim the slices run along, wrapped (0 for a 0-dim input).
    public let dim: Int
    /// `dtype=`: the input (after negation for `softmin`) is cast to it first.
    public let dtype: DType?

    /// Checks in `torch.nn.functional`'s order: the implicit-dim warning, `softmin`'s
    /// negation of a bool, the dim's range, then the kernel's dtype.
    public init(_ function: SoftmaxFunction, _ args: Arguments) throws {
        self.function = function
        input = try args.tensor("input")
        _ = try args.int("_stacklevel", default: 3)
        dtype = try DTypeArgument.parse(args, "dtype")
        let requested = try args.optionalInt("dim") ?? SoftmaxCall.implicitDim(function, rank: input.dim)
        if function == .softmin && input.dtype == .bool { throw Pointwise.boolNegationError }
        dim = try wrapDim(requested, rank: input.dim)

        let computed = dtype ?? input.dtype
        if !computed.isFloatingPoint {
            let kernel = function == .logSoftmax ? "log_softmax" : "softmax"
            let lastDim = dim == max(input.dim, 1) - 1
            throw TorchError.notImplemented(
                "\"\(kernel)\(lastDim ? "_lastdim" : "")_kernel_impl\" not implemented for '\(computed.scalarTypeName)'")
        }
    }

    /// `_get_softmax_dim`: 0 for 0-, 1- and 3-dim inputs, else 1, with PyTorch's warning.
    static func implicitDim(_ function: SoftmaxFunction, rank: Int) -> Int {
        Warnings.warn("Implicit dimension choice for \(function.rawValue) has been deprecated. "
                      + "Change the call to include dim=X as an argument.", category: "UserWarning")
        return rank == 0 || rank == 1 || rank == 3 ? 0 : 1
    }

    /// The slices along `dim` of a row-major `shape`: element j of slice (o, i) is at
    /// `(o · size + j) · inner + i`.
    public var slices: (outer: Int, size: Int, inner: Int) {
        let s = input.shape
        if s.isEmpty { return (1, 1, 1) }
        return (s[..<dim].reduce(1, *), s[dim], s[(dim + 1)...].reduce(1, *))
    }
}
