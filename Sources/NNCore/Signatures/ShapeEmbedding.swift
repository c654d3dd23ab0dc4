/// Ops on rows of vectors: `embedding` (look rows up in a table), `cosine_similarity` and
/// `pairwise_distance` (compare two broadcast tensors along one dim).

/// The name ATen's argument checks give an index tensor of the wrong dtype.
private func checkedTypeName(_ dtype: DType) -> String {
    dtype == .bool ? "CPUBoolType" : dtype.legacyTypeName
}

/// A validated call of `embedding(input, weight, padding_idx, max_norm, norm_type,
/// scale_grad_by_freq, sparse)`: y[..., :] = weight[input[...], :].
public struct EmbeddingCall {
    /// The int64 indices, of any shape.
    public let input: Tensor
    /// The 2-d table (num_embeddings, embedding_dim), of any dtype.
    public let weight: Tensor
    /// The row that gets no gradient, as a row number (a negative `padding_idx` counts from the end).
    public let paddingIdx: Int?
    /// With `max_norm`: each row in `renormRows` whose `norm_type`-norm exceeds it is scaled
    /// in place, before the lookup, by max_norm / (norm + 1e-7).
    public let maxNorm: Double?
    public let normType: Double
    public let scaleGradByFreq: Bool
    /// The distinct rows `input` names, ascending (ATen's `embedding_renorm_` visits them so).
    public let renormRows: [Int]

    public var rows: Int { weight.shape[0] }
    public var width: Int { weight.shape[1] }

    /// Checks in PyTorch's order: `F.embedding`'s padding_idx assertion, `embedding_renorm_`'s
    /// checks (with `max_norm`), then `torch.embedding`'s: the weight's rank, the indices' dtype,
    /// each index in range. (PyTorch renormalizes row by row, so an out-of-range index leaves
    /// the rows before it renormalized; here every check runs before any write.)
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        weight = try args.tensor("weight")
        maxNorm = try args.optionalSpelledDouble("max_norm")
        normType = try args.optionalSpelledDouble("norm_type") ?? 2
        scaleGradByFreq = try args.bool("scale_grad_by_freq", default: false)
        let sparse = try args.bool("sparse", default: false)
        switch args["padding_idx"] {
        case nil, .none?: paddingIdx = nil
        case .int(let p)?:
            let n = weight.dim > 0 ? weight.shape[0] : 0
            guard (p <= 0 || p < n) && p >= -n else { throw TorchError("AssertionError", "Padding_idx must be within num_embeddings") }
            paddingIdx = p < 0 ? p + n : p
        case let v?:
            throw TorchError.type("embedding(): argument 'padding_idx' (position 3) must be int, not \(v.pythonTypeName)")
        }
        let isIndex = input.dtype == .int64
        var renormRows: [Int] = []
        if maxNorm != nil {
            guard weight.dim == 2 else {
                throw TorchError.runtime("Expected 2-dimensional tensor, but got \(weight.dim)-dimensional tensor for argument #1 'self' (while checking arguments for embedding_renorm_)")
            }
            guard isIndex else { throw EmbeddingCall.indexTypeError(input.dtype, argument: 2, "embedding_renorm_") }
            for i in Set(input.int64s).sorted() {
                let n = weight.shape[0]
                guard i >= -Int64(n) && i < Int64(n) else {
                    throw TorchError.index("select(): index \(i) out of range for tensor of size \(shapeString(weight.shape)) at dimension 0")
                }
                guard weight.dtype.isFloatingPoint else {
                    throw TorchError.notImplemented("norm(): input dtype should be either floating point or complex. Got \(weight.dtype.scalarTypeName) instead.")
                }
                renormRows.append(i < 0 ? Int(i) + n : Int(i))
            }
        }
        self.renormRows = Set(renormRows).sorted()
        guard weight.dim == 2 else { throw TorchError.runtime("'weight' must be 2-D") }
        guard isIndex else { throw EmbeddingCall.indexTypeError(input.dtype, argument: 1, "embedding") }
        if input.int64s.contains(where: { $0 < 0 || $0 >= Int64(weight.shape[0]) }) {
            throw TorchError.index("index out of range in self")
        }
        if sparse { throw Unsupported("embedding with sparse=True (a sparse gradient)") }
    }

    private static func indexTypeError(_ dtype: DType, argument: Int, _ op: String) -> TorchError {
        .runtime("Expected tensor for argument #\(argument) 'indices' to have one of the following scalar types: Long, Int; but got \(checkedTypeName(dtype)) instead (while checking arguments for \(op))")
    }
}

/// A validated call of `cosine_similarity(x1, x2, dim=1, eps=1e-8)`, ATen's formula:
///
///     y = Σ_dim (x1 / max(‖x1‖, eps)) · (x2 / max(‖x2‖, eps))
///
/// over the broadcast shape, the norms taken along `dim` and clamped under `no_grad` (so the
/// gradient flows through the unclamped norm).
public struct CosineSimilarityCall {
    public let x1: Tensor
    public let x2: Tensor
    /// The broadcast shape of x1 and x2; `dim` indexes it.
    public let shape: [Int]
    public let dim: Int
    public let eps: Double
    /// `torch.result_type(x1, x2)`, floating point; integer inputs are cast to it first.
    public let dtype: DType

    public var outputShape: [Int] { shape.isEmpty ? [] : shape.enumerated().filter { $0.offset != dim }.map(\.element) }

    public init(_ args: Arguments) throws {
        x1 = try args.tensor("x1")
        x2 = try args.tensor("x2")
        let requested = try args.int("dim", default: 1)
        eps = try args.double("eps", default: 1e-8)
        dtype = Pointwise.resultType([PointwiseOperand(x1), PointwiseOperand(x2)])
        guard dtype.isFloatingPoint else {
            throw TorchError.runtime("expected common dtype to be floating point, yet common dtype is \(dtype.scalarTypeName)")
        }
        shape = try broadcastShapes(x1.shape, x2.shape)
        dim = try wrapDim(requested, rank: shape.count)
    }
}

/// A validated call of `pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False)`:
///
///     y = ‖x1 − x2 + eps‖_p
///
/// along the last dim of the broadcast shape (`at::norm`, recorded as `NormBackward1`).
public struct PairwiseDistanceCall {
    public let x1: Tensor
    public let x2: Tensor
    public let p: Double
    public let eps: Double
    public let keepdim: Bool
    /// The broadcast shape of x1 and x2.
    public let shape: [Int]
    /// The dtype of x1 − x2 + eps: the inputs' common dtype, or float32 for integers.
    public let dtype: DType

    public var outputShape: [Int] {
        shape.isEmpty ? [] : shape.dropLast() + (keepdim ? [1] : [])
    }

    public init(_ args: Arguments) throws {
        x1 = try args.tensor("x1")
        x2 = try args.tensor("x2")
        p = try args.optionalSpelledDouble("p") ?? 2
        eps = try args.double("eps", default: 1e-6)
        keepdim = try args.bool("keepdim", default: false)
        let common = Pointwise.resultType([PointwiseOperand(x1), PointwiseOperand(x2)])
        if common == .bool {
            throw TorchError.notImplemented("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.")
        }
        shape = try broadcastShapes(x1.shape, x2.shape)
        dtype = Pointwise.floatingResultType(common)
    }
}
