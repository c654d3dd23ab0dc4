import NNCore

/// Random call generators, one per op of `Signatures.all`, grouped by family in
/// `AgreementGenerators+<Family>.swift`. Each draws shapes (sizes 1–33, including the SIMD-tail
/// and thread-split sizes 15, 17, 33, and now and then a tensor past 1<<15 elements) and
/// arguments inside the op's valid domain (output sizes ≥ 1, padding ≤ kernel/2, groups
/// dividing channels, probabilities in (0, 1), ...), with the simplest choice (size 1, PyTorch's
/// default) first so that shrinking moves toward it.
public enum AgreementGenerators {
    // Generators are pure functions of their Draw; the tables are never mutated after initialization.
    nonisolated(unsafe) public static let all: [String: CaseGenerator] = {
        var d: [String: CaseGenerator] = [:]
        for family in [pointwise, shape, windows, pooling, resampling, normalization, losses] {
            d.merge(family) { a, _ in a }
        }
        return d
    }()

    /// Ops of `Signatures.all` that have no generator (expected: none).
    public static var missing: [String] { Signatures.all.keys.filter { all[$0] == nil }.sorted() }
}

extension Draw {
    /// A shape of rank in `ranks`; when `large()` says so, its first dimension grows until the
    /// tensor crosses the thread split.
    public mutating func shape(_ ranks: ClosedRange<Int> = 0...4) -> [Int] {
        let r = int(ranks)
        var s = dims(r)
        if large(), r > 0 { s[0] = max(s[0], (1 << 15) / max(1, s.dropFirst().reduce(1, *)) + 1) }
        return s
    }

    /// `shape` with some dimensions set to 1 and some leading ones dropped: broadcasts to it.
    public mutating func broadcastable(to shape: [Int]) -> [Int] {
        let drop = int(0...shape.count)
        return shape.dropFirst(drop).map { bool() ? 1 : $0 }
    }

    /// A spatial window: kernel k, stride s, padding p ≤ k/2 (when `padding`), dilation d; and
    /// an input size that makes an output of size `out` (≥ 1).
    /// `coverKernel`: the input alone spans the dilated kernel (3-d average pooling insists).
    public mutating func window(padding: Bool = true, dilation: Bool = true, stride: Bool = true, coverKernel: Bool = false)
        -> (k: Int, s: Int, p: Int, d: Int, input: Int, out: Int) {
        let k = pick([1, 2, 3, 5])
        let s = stride ? pick([1, 2, 3]) : 1
        let d = dilation ? pick([1, 2]) : 1
        let p = padding ? int(0...(k / 2)) : 0
        let out = dim(upTo: 17)
        let extent = d * (k - 1) + 1
        let input = max(coverKernel ? extent : 1, (out - 1) * s + extent - 2 * p + int(0...(s - 1)))
        let realOut = (input + 2 * p - extent) / s + 1
        return (k, s, p, d, input, max(realOut, 1))
    }

    /// ±1 values as a float tensor (targets of margin losses).
    public func signs(_ name: String, _ shape: [Int], _ dtype: DType) -> GenValue {
        var g = rng(for: name)
        return data(shape, dtype, (0..<shape.reduce(1, *)).map { _ in g.next() & 1 == 0 ? -1 : 1 })
    }
}

extension AgreementCase {
    /// A case of `op` with `input`, drawing `inplace` when the op takes it (an in-place call's
    /// input then does not require grad: PyTorch refuses in-place ops on such leaves).
    static func unary(_ op: String, _ d: inout Draw, _ lo: Double = -4, _ hi: Double = 4, ranks: ClosedRange<Int> = 0...4) -> AgreementCase {
        var c = AgreementCase(op)
        let dtype = d.dtype()
        let shape = d.shape(ranks)
        let takesInplace = Signatures.all[op]?.parameters.contains("inplace") ?? false
        let inplace = op.hasSuffix("_") || (takesInplace && d.bool())
        c["input"] = d.tensor("input", shape, dtype, lo, hi, grad: !inplace)
        if takesInplace && inplace { c["inplace"] = .bool(true) }
        return c
    }
}
