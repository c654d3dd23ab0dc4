import NNCore

/// Broadcasting two operands onto an output shape as a loop over contiguous rows.
///
/// Each operand's strides over the output shape are its contiguous strides, 0 along the dims it
/// is broadcast over. Adjacent dims that stay contiguous for both operands are merged, so the
/// innermost (merged) dim is a row of `rowLength` elements along which each operand either
/// advances (stride 1) or repeats one element (stride 0). Typical cases become one long row
/// (equal shapes, a scalar operand) or rows of a plane against one value per channel.
struct BroadcastPlan {
    /// The outer dims (outermost first) and each operand's strides along them.
    let outerShape: [Int]
    let outerStrides: (a: [Int], b: [Int])
    let rowLength: Int
    /// Each operand's stride along a row: 1 or 0.
    let rowStrides: (a: Int, b: Int)

    var rowCount: Int { outerShape.reduce(1, *) }

    init(_ a: [Int], _ b: [Int], to out: [Int]) {
        func strides(_ s: [Int]) -> [Int] {
            let c = contiguousStrides(s), offset = out.count - s.count
            return out.indices.map { d in d < offset || s[d - offset] == 1 ? 0 : c[d - offset] }
        }
        var shape = out, sa = strides(a), sb = strides(b)
        // Drop size-1 dims, then merge each dim into the next inner one where both stay contiguous.
        let kept = shape.indices.filter { shape[$0] != 1 }
        (shape, sa, sb) = (kept.map { shape[$0] }, kept.map { sa[$0] }, kept.map { sb[$0] })
        var d = shape.count - 2
        while d >= 0 {
            let n = shape[d + 1]
            if sa[d] == sa[d + 1] * n && sb[d] == sb[d + 1] * n {
                shape[d] *= n
                (sa[d], sb[d]) = (sa[d + 1], sb[d + 1])
                shape.remove(at: d + 1); sa.remove(at: d + 1); sb.remove(at: d + 1)
            }
            d -= 1
        }
        if shape.isEmpty { (shape, sa, sb) = ([1], [0], [0]) }
        rowLength = shape.removeLast()
        rowStrides = (sa.removeLast(), sb.removeLast())
        outerShape = shape
        outerStrides = (sa, sb)
    }

    /// Calls `body(row, offsetA, offsetB)` for rows `range` (row-major over `outerShape`).
    @inline(__always)
    func forEachRow(_ range: Range<Int>, _ body: (_ row: Int, _ a: Int, _ b: Int) -> Void) {
        let n = outerShape.count
        guard !range.isEmpty else { return }
        if n == 0 {
            for r in range { body(r, 0, 0) }
            return
        }
        var index = [Int](repeating: 0, count: n)
        var rest = range.lowerBound, oa = 0, ob = 0
        for d in stride(from: n - 1, through: 0, by: -1) {
            index[d] = rest % outerShape[d]
            rest /= outerShape[d]
            oa += index[d] * outerStrides.a[d]
            ob += index[d] * outerStrides.b[d]
        }
        for r in range {
            body(r, oa, ob)
            var d = n - 1
            while d >= 0 {
                index[d] += 1
                oa += outerStrides.a[d]
                ob += outerStrides.b[d]
                if index[d] < outerShape[d] { break }
                oa -= outerStrides.a[d] * index[d]
                ob -= outerStrides.b[d] * index[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

/// out[k] = f(a[ia(k)], b[ib(k)]) over the plan's output, rows split across cores; the row
/// loops are specialized for each pair of row strides so that they vectorize.
@inline(__always)
func broadcastCombine<A, R>(_ plan: BroadcastPlan, _ a: UnsafePointer<A>, _ b: UnsafePointer<A>,
                            _ out: UnsafeMutablePointer<R>, cost: Int = 1, _ f: (A, A) -> R) {
    let L = plan.rowLength
    func rows(_ range: Range<Int>, from: Int, to: Int) {
        plan.forEachRow(range) { r, oa, ob in
            let pa = a + oa, pb = b + ob, po = out + r * L
            switch plan.rowStrides {
            case (1, 1): for i in from..<to { po[i] = f(pa[i], pb[i]) }
            case (1, 0): let y = pb[0]; for i in from..<to { po[i] = f(pa[i], y) }
            case (0, 1): let x = pa[0]; for i in from..<to { po[i] = f(x, pb[i]) }
            default: let v = f(pa[0], pb[0]); for i in from..<to { po[i] = v }
            }
        }
    }
    if plan.rowCount >= SIMDParallel.cores {
        SIMDParallel.forEach(plan.rowCount, costPerItem: L * cost) { rows($0, from: 0, to: L) }
    } else {
        // Few long rows: split each row instead.
        SIMDParallel.forEachAligned(L, alignment: 256, costPerItem: plan.rowCount * cost) { part in
            rows(0..<plan.rowCount, from: part.lowerBound, to: part.upperBound)
        }
    }
}

/// The gradient `g` of a broadcast output summed back to an operand of `shape` (the adjoint
/// of broadcasting), in `T`; rows along which the operand repeats are summed in ATen's order
/// (`interleavedRowSum`, as the reference; it matters where the terms cancel: the gradient of
/// `cosine_similarity` against an input broadcast along `dim`), float rows of 512 or more in 16
/// lanes (ATen's cascade starts there, and so does the speed that matters).
func sumToShapeFast<T: FloatScalar>(_ g: [T], from out: [Int], to shape: [Int]) -> [T] {
    if out == shape { return g }
    let plan = BroadcastPlan(shape, out, to: out), L = plan.rowLength
    return makeZeroedArray(shape.reduce(1, *)) { (acc: UnsafeMutablePointer<T>) in
        g.withPointer { gp in
            plan.forEachRow(0..<plan.rowCount) { r, oa, _ in
                let src = gp + r * L, dst = acc + oa
                if plan.rowStrides.a == 1 {
                    for i in 0..<L { dst[i] += src[i] }
                } else if T.self == Float.self && L >= 512 {
                    dst[0] += T(Float(vsumRow(UnsafeRawPointer(src).assumingMemoryBound(to: Float.self), L)))
                } else {
                    dst[0] += interleavedRowSum(L) { src[$0] }
                }
            }
        }
    }
}
