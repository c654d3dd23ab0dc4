/// Reductions: `sum(x)_j = Σ_{i ↦ j} x_i` and `mean(x)_j = sum(x)_j / n`, over the dims in
/// `dim` (all dims when `dim` is None or empty), keeping them as size 1 with `keepdim`.

extension Signatures {
    static let reduction: [OpSignature] = [
        OpSignature("sum", ["input", "dim", "keepdim", "dtype"]),
        OpSignature("mean", ["input", "dim", "keepdim", "dtype"]),
    ]
}

/// A `torch.dtype` argument, spelled `"float32"` or `"torch.float32"` (PyTorch's aliases
/// `float`, `double`, `long` too); None or absent is nil.
public enum DTypeArgument {
    public static func parse(_ args: Arguments, _ name: String) throws -> DType? {
        guard let v = args[name] else { return nil }
        switch v {
        case .none: return nil
        case .string(let s):
            let bare = s.hasPrefix("torch.") ? String(s.dropFirst(6)) : s
            let aliases: [String: DType] = ["float": .float32, "double": .float64, "long": .int64]
            if let d = DType(rawValue: bare) ?? aliases[bare] { return d }
            fallthrough
        default:
            throw TorchError.type("\(args.op)(): argument '\(name)' must be torch.dtype, not \(v.pythonTypeName)")
        }
    }
}

/// A validated call of `sum` or `mean`.
public struct ReductionCall {
    public enum Kind: String, Sendable { case sum, mean }

    public let kind: Kind
    public let input: Tensor
    /// The reduced dims, wrapped and ascending (empty for a 0-dim input).
    public let dims: [Int]
    public let keepdim: Bool
    /// The dtype the input is cast to and the result has: `dtype=`, else the input's
    /// (int64 for an integer or bool `sum`).
    public let dtype: DType
    /// `SumBackward0`/`MeanBackward0` when called without `dim`, `...Backward1` with one
    /// (even `dim=None`), as PyTorch's two overloads record.
    public let backwardName: String

    /// The result's shape: reduced dims removed, or kept as 1 with `keepdim`.
    public var outputShape: [Int] {
        input.shape.indices.compactMap { d in dims.contains(d) ? (keepdim ? 1 : nil) : input.shape[d] }
    }

    /// The number of elements averaged into each output element.
    public var count: Int { dims.reduce(1) { $0 * input.shape[$1] } }

    /// Checks in PyTorch's order: `mean`'s dtype, then each dim in turn (range, repeats).
    public init(_ kind: Kind, _ args: Arguments) throws {
        self.kind = kind
        input = try args.tensor("input")
        keepdim = try args.bool("keepdim", default: false)
        let requested = try DTypeArgument.parse(args, "dtype")
        switch kind {
        case .sum:
            dtype = requested ?? (input.dtype.isFloatingPoint ? input.dtype : .int64)
        case .mean:
            if let d = requested, !d.isFloatingPoint {
                throw TorchError.notImplemented("mean(): could not infer output dtype. Optional dtype must be either a floating point or complex dtype. Got: \(d.scalarTypeName)")
            }
            if requested == nil && !input.dtype.isFloatingPoint {
                throw TorchError.notImplemented("mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: \(input.dtype.scalarTypeName)")
            }
            dtype = requested ?? input.dtype
        }
        let name = kind == .sum ? "SumBackward" : "MeanBackward"
        backwardName = name + (args["dim"] == nil ? "0" : "1")

        let listed = try args.intList("dim") ?? []
        var seen: [Int] = []
        for d in listed {
            let w = try wrapDim(d, rank: input.dim)
            if seen.contains(w) { throw TorchError.runtime("dim \(w) appears multiple times in the list of dims") }
            seen.append(w)
        }
        let rank = input.dim
        dims = listed.isEmpty ? Array(0..<rank) : seen.sorted().filter { $0 < rank }
    }
}
