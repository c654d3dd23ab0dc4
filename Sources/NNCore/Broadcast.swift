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

/// Σ v(i) for i < n in the order of ATen's CPU sum of a contiguous row (`SumKernel.cpp`, as
/// built for AVX2, whose vectors hold 8 float or 4 double lanes). Shorter than a vector:
/// `row_sum`, four interleaved partials of the values. Otherwise `vectorized_inner_sum`: lane l
/// accumulates v(l), v(l + 8), … through `row_sum` over the vectors, then the tail past the last
/// whole vector is summed from 0 and the lanes are added to it in order.
@inlinable
public func interleavedRowSum<T: FloatScalar>(_ n: Int, _ v: (Int) -> T) -> T {
    let lanes = T.self == Float.self ? 8 : 4, vectors = n / lanes
    guard vectors > 0 else { return atenRowSum(n, width: 1) { i, _ in v(i) }[0] }
    let partials = atenRowSum(vectors, width: lanes) { v($0 * lanes + $1) }
    var total: T = 0
    for i in vectors * lanes ..< n { total += v(i) }
    for l in 0..<lanes { total += partials[l] }
    return total
}

/// ATen's `row_sum` of `size` items that are `width` lanes each (x(i, lane)): four interleaved
/// partials of items (`multi_row_sum`), the tail items added to the first, then the other
/// three added to it in order.
@inlinable
func atenRowSum<T: FloatScalar>(_ size: Int, width: Int, _ x: (Int, Int) -> T) -> [T] {
    let ilp = 4, rows = size / ilp
    var p = cascadeSums(rows, width: ilp * width) { i, c in x(i * ilp + c / width, c % width) }
    for i in rows * ilp ..< size { for l in 0..<width { p[l] += x(i, l) } }
    for k in 1..<ilp { for l in 0..<width { p[l] += p[k * width + l] } }
    return Array(p[0..<width])
}

/// ATen's `multi_row_sum`: Σ_{i < size} x(i, c) for each column c, in a cascade of 4 levels
/// (every 2^power items the level-0 sums move up a level, and so on), which bounds the error
/// growth of long sums.
@inlinable
func cascadeSums<T: FloatScalar>(_ size: Int, width: Int, _ x: (Int, Int) -> T) -> [T] {
    let levels = 4
    let ceilLog2 = size <= 2 ? 1 : Int.bitWidth - (size - 1).leadingZeroBitCount
    let power = max(4, ceilLog2 / levels), step = 1 << power, mask = step - 1
    var acc = [[T]](repeating: [T](repeating: 0, count: width), count: levels)
    var i = 0
    while i + step <= size {
        for _ in 0..<step {
            for c in 0..<width { acc[0][c] += x(i, c) }
            i += 1
        }
        for j in 1..<levels {
            for c in 0..<width { acc[j][c] += acc[j - 1][c]; acc[j - 1][c] = 0 }
            if i & (mask << (j * power)) != 0 { break }
        }
    }
    while i < size {
        for c in 0..<width { acc[0][c] += x(i, c) }
        i += 1
    }
    for j in 1..<levels { for c in 0..<width { acc[0][c] += acc[j][c] } }
    return acc[0]
}
