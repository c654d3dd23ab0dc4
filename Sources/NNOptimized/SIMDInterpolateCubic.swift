import NNCore

/// `bicubic` (four taps per axis, Keys' kernel with A = −0.75) and antialiased `bilinear` /
/// `bicubic` (PIL's widened filters), with the reference's index maths and roundings (ATen's
/// fused multiply-adds as `addingProduct`), planes split across cores.
extension Optimized {
    /// Taps of one output index along one axis.
    struct CubicTaps<T> {
        var index: [Int]
        var weight: [T]
    }

    static func cubicForward<T: FloatScalar>(_ call: InterpolateCall, _ x: [T], planes: Int) -> [T] {
        let rows = cubicTaps(call, axis: 0, fused: true, as: T.self), columns = cubicTaps(call, axis: 1, fused: true, as: T.self)
        let width = call.inputSize[1], inCount = call.inputSize.reduce(1, *), outCount = rows.count * columns.count
        return x.withPointer { xp in
            makeArray(planes * outCount) { yp in
                SIMDParallel.forEach(planes, costPerItem: outCount * 20) { r in
                    for p in r {
                        let src = xp + p * inCount
                        var k = p * outCount
                        for row in rows {
                            for column in columns {
                                // Innermost axis first: each row's 4-tap sum, then the 4 rows'.
                                let parts = row.index.map { i in contractedDot(column.index.map { src[i * width + $0] }, column.weight) }
                                yp[k] = contractedDot(parts, row.weight)
                                k += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// ∂L/∂x[y_j, x_i] += (g · w_y[j]) · w_x[i]; a copy when the size does not change.
    static func cubicBackward<T: FloatScalar>(_ call: InterpolateCall, _ g: [T], planes: Int) -> [T] {
        if call.inputSize == call.outputSize { return g }
        let rows = cubicTaps(call, axis: 0, fused: false, as: T.self), columns = cubicTaps(call, axis: 1, fused: false, as: T.self)
        let width = call.inputSize[1], inCount = call.inputSize.reduce(1, *), outCount = rows.count * columns.count
        return g.withPointer { gp in
            makePlanewiseZeroedArray(planes: planes, planeSize: inCount, costPerPlane: outCount * 20) { r, gx in
                do {
                    for p in r {
                        let dst = gx + p * inCount
                        var k = p * outCount
                        for row in rows {
                            for column in columns {
                                let gy = gp[k]
                                for i in 0..<4 { for j in 0..<4 { dst[row.index[j] * width + column.index[i]] += gy * row.weight[j] * column.weight[i] } }
                                k += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// `fma(v0, w0, v1·w1)`, then `fma(v_k, w_k, ·)`: GCC's contraction of ATen's sums.
    private static func contractedDot<T: FloatScalar>(_ v: [T], _ w: [T]) -> T {
        var sum = (v[1] * w[1]).addingProduct(v[0], w[0])
        for k in 2..<v.count { sum = sum.addingProduct(v[k], w[k]) }
        return sum
    }

    private static func pixelScale<T: FloatScalar>(_ call: InterpolateCall, axis d: Int) -> T {
        let (s, out) = (call.inputSize[d], call.outputSize[d])
        if call.alignCorners { return out > 1 ? T(s - 1) / T(out - 1) : 0 }
        if let scale = call.scales[d], scale > 0 { return T(1.0 / scale) }
        return T(s) / T(out)
    }

    private static func cubicTaps<T: FloatScalar>(_ call: InterpolateCall, axis d: Int, fused: Bool, as _: T.Type) -> [CubicTaps<T>] {
        let s = call.inputSize[d], scale: T = pixelScale(call, axis: d)
        return (0..<call.outputSize[d]).map { o in
            let r = call.alignCorners ? scale * T(o) : fused ? T(-0.5).addingProduct(scale, T(o) + 0.5) : scale * (T(o) + 0.5) - 0.5
            let i = min(Int(Float(r).rounded(.down)), s - 1)
            let t = min(max(r - T(i), 0), 1)
            return CubicTaps(index: (0..<4).map { min(max(i - 1 + $0, 0), s - 1) }, weight: cubicCoefficients(t, fused: fused))
        }
    }

    /// Keys' kernel (A = −0.75) at distances 1 + t, t, 1 − t, 2 − t.
    private static func cubicCoefficients<T: FloatScalar>(_ t: T, fused: Bool) -> [T] {
        let a: T = -0.75
        func near(_ x: T) -> T { fused ? (-(a + 3)).addingProduct(a + 2, x) * x * x + 1 : ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: T) -> T {
            fused ? (8 * a).addingProduct((-5 * a).addingProduct(a, x), x) * x - 4 * a : ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        }
        return [far(t + 1), near(t), near(1 - t), far((1 - t) + 1)]
    }

    // MARK: antialias

    /// Width first, then height, skipping an axis whose size does not change (the reference's
    /// `antialiasForward`, with PyTorch 2.15's reuse of the first row's taps for a width of 1).
    static func antialiasForward<T: FloatScalar>(_ call: InterpolateCall, _ x: [T], planes: Int) -> [T] {
        let (height, width) = (call.inputSize[0], call.inputSize[1]), (outHeight, outWidth) = (call.outputSize[0], call.outputSize[1])
        var image = x, columns = width
        if outWidth != width {
            let taps = antialiasTaps(call, axis: 1, as: T.self), rows = image
            image = (0 ..< planes * height).flatMap { row in taps.map { tap in loopDot(tap.index.map { rows[row * width + $0] }, tap.weight) } }
            columns = outWidth
        }
        guard outHeight != height else { return image }
        let taps = antialiasTaps(call, axis: 0, as: T.self)
        var y: [T] = []
        y.reserveCapacity(planes * outHeight * columns)
        for p in 0..<planes {
            for tap in taps {
                let tap = columns == 1 ? taps[0] : tap
                for c in 0..<columns { y.append(loopDot(tap.index.map { image[(p * height + $0) * columns + c] }, tap.weight)) }
            }
        }
        return y
    }

    static func antialiasBackward<T: FloatScalar>(_ call: InterpolateCall, _ g: [T], planes: Int) -> [T] {
        let rows = antialiasTaps(call, axis: 0, as: T.self), columns = antialiasTaps(call, axis: 1, as: T.self)
        let width = call.inputSize[1], inCount = call.inputSize.reduce(1, *), outCount = rows.count * columns.count
        var gx = [T](repeating: 0, count: planes * inCount)
        for p in 0..<planes {
            for (oy, row) in rows.enumerated() {
                for (ox, column) in columns.enumerated() {
                    let gy = g[p * outCount + oy * columns.count + ox]
                    for (i, wy) in zip(row.index, row.weight) {
                        for (j, wx) in zip(column.index, column.weight) {
                            let offset = p * inCount + i * width + j
                            gx[offset] = gx[offset].addingProduct(wx * wy, gy)
                        }
                    }
                }
            }
        }
        return gx
    }

    /// ATen's `_compute_indices_min_size_weights_aa` (see the reference's `antialiasTaps`).
    private static func antialiasTaps<T: FloatScalar>(_ call: InterpolateCall, axis d: Int, as _: T.Type) -> [CubicTaps<T>] {
        let (s, out) = (call.inputSize[d], call.outputSize[d]), cubic = call.mode == .bicubic
        let halfWidth = cubic ? 2.0 : 1.0, scale: T = pixelScale(call, axis: d)
        let support = scale >= 1 ? T(halfWidth * Double(scale)) : T(halfWidth)
        let invScale = scale >= 1 ? T(1 / Double(scale)) : 1
        let maxCount = Int(Double(support).rounded(.up)) * 2 + 1
        return (0..<out).map { o in
            let centre = T(Double(scale) * (Double(o) + 0.5))
            let first = max(Int(Double(centre - support) + 0.5), 0)
            let count = min(max(min(Int(Double(centre + support) + 0.5), s) - first, 0), maxCount)
            var weights = (0..<count).map { j in antialiasFilter(T((Double(T(first + j) - centre) + 0.5) * Double(invScale)), cubic: cubic) }
            let total = weights.reduce(0, +)
            if total != 0 { weights = weights.map { $0 / total } }
            return CubicTaps(index: Array(first ..< first + count), weight: weights)
        }
    }

    private static func antialiasFilter<T: FloatScalar>(_ x: T, cubic: Bool) -> T {
        let x = abs(x)
        guard cubic else { return x < 1 ? 1 - x : 0 }
        let a: T = -0.5
        if x < 1 { return T(1).addingProduct((-(a + 3)).addingProduct(a + 2, x) * x, x) }
        if x < 2 { return (-4 * a).addingProduct((8 * a).addingProduct((-5 * a).addingProduct(a, x), x), x) }
        return 0
    }

    /// GCC's vectorized in-order loop `out = v_0·w_0; out += v_j·w_j` (see the reference's `loopDot`).
    private static func loopDot<T: FloatScalar>(_ v: [T], _ w: [T]) -> T {
        guard !v.isEmpty else { return 0 }
        let lanes = 32 / MemoryLayout<T>.size
        var sum = v[0] * w[0], j = 1
        func addProducts(_ count: Int) {
            for k in j ..< j + count { sum += v[k] * w[k] }
            j += count
        }
        while v.count - j >= lanes { addProducts(lanes) }
        if v.count - j >= lanes / 2 { addProducts(lanes / 2) }
        while j < v.count {
            sum = sum.addingProduct(v[j], w[j])
            j += 1
        }
        return sum
    }
}
