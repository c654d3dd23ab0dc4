/// PyTorch broadcasting: shapes align from the right; a dimension of size 1 (or a missing one)
/// stretches to the other's size.

/// The broadcast shape of `a` and `b`, or PyTorch's error.
public func broadcastShapes(_ a: [Int], _ b: [Int]) throws -> [Int] {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let x = i < n - a.count ? 1 : a[i - (n - a.count)]
        let y = i < n - b.count ? 1 : b[i - (n - b.count)]
        guard x == y || x == 1 || y == 1 else {
            throw TorchError.runtime("The size of tensor a (\(x)) must match the size of tensor b (\(y)) at non-singleton dimension \(i)")
        }
        out[i] = x == 1 ? y : x
    }
    return out
}

/// For each element of a tensor of shape `out`, the flat index of the element of a tensor of
/// shape `from` that broadcasting maps onto it.
public func broadcastIndices(from: [Int], to out: [Int]) -> [Int] {
    let n = out.count, offset = n - from.count
    let fromStrides = contiguousStrides(from)
    var strides = [Int](repeating: 0, count: n)
    for i in 0..<from.count where from[i] != 1 { strides[i + offset] = fromStrides[i] }
    let total = out.reduce(1, *)
    var result = [Int](repeating: 0, count: total)
    var index = [Int](repeating: 0, count: n)
    var flat = 0
    for k in 0..<total {
        result[k] = flat
        var d = n - 1
        while d >= 0 {
            index[d] += 1
            flat += strides[d]
            if index[d] < out[d] { break }
            flat -= strides[d] * index[d]
            index[d] = 0
            d -= 1
        }
    }
    return result
}

/// Sums a gradient of the broadcast shape back to an input's `shape` (the adjoint of broadcasting),
/// in ATen's order: when the input is broadcast along the innermost dims, each run of `out` along
/// them (L elements) is summed first (`interleavedRowSum`), then the runs are added to the result in
/// row-major order; otherwise the elements are added in row-major order. The order matters where
/// the terms cancel (the gradient of `cosine_similarity` against an input broadcast along `dim`).
public func sumToShape<T: FloatScalar>(_ g: [T], from out: [Int], to shape: [Int]) -> [T] {
    if out == shape { return g }
    var r = [T](repeating: 0, count: shape.reduce(1, *))
    let aligned = [Int](repeating: 1, count: out.count - shape.count) + shape
    var inner = out.count
    while inner > 0 && aligned[inner - 1] == 1 { inner -= 1 }
    let L = out[inner...].reduce(1, *)
    for (row, i) in broadcastIndices(from: aligned[..<inner].map { $0 }, to: Array(out[..<inner])).enumerated() {
        r[i] += L == 1 ? g[row] : interleavedRowSum(L) { g[row * L + $0] }
    }
    return r
}

/// Σ v(i) for i < n in the order of ATen's `row_sum` for a row that is not vectorized: four
/// interleaved partial sums (v₀ + v₄ + …, v₁ + v₅ + …, …), the tail added to the first, then the
/// other three added to it in order (for n < 4, simply v₀ + v₁ + …).
@inlinable
public func interleavedRowSum<T: FloatScalar>(_ n: Int, _ v: (Int) -> T) -> T {
    var p0: T = 0, p1: T = 0, p2: T = 0, p3: T = 0, i = 0
    while i + 4 <= n {
        p0 += v(i); p1 += v(i + 1); p2 += v(i + 2); p3 += v(i + 3)
        i += 4
    }
    while i < n { p0 += v(i); i += 1 }
    return ((p0 + p1) + p2) + p3
}
