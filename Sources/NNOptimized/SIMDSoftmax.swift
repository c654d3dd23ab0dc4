import NNCore
import RealModule

/// `softmax`, `log_softmax`, `softmin` along any dim, numerically stable (with m the slice's
/// maximum: e^(x − m) / Σ e^(x − m), and (x − m) − log Σ e^(x − m)), recorded as the
/// reference records them: `softmin` negates first (`NegBackward0`), `dtype=` casts first
/// (`ToCopyBackward0`), then `SoftmaxBackward0` / `LogSoftmaxBackward0` saving the output.
///
/// A slice along `dim` is `size` elements `inner` apart. With `inner = 1` each slice is a
/// contiguous row, reduced with 16-lane vectors; otherwise `inner` slices run side by side,
/// so every step is a contiguous row operation across them. Rows and column blocks are split
/// across the cores. Every exponential is of a non-positive number (x − m, or a log-probability
/// y ≤ 0), hence `vexpNonPositive`.
extension Optimized {
    static let simdSoftmaxOps: [String: OpFunction] = [
        "softmax": { try .tensor(simdSoftmax(SoftmaxCall(.softmax, $0))) },
        "log_softmax": { try .tensor(simdSoftmax(SoftmaxCall(.logSoftmax, $0))) },
        "softmin": { try .tensor(simdSoftmax(SoftmaxCall(.softmin, $0))) },
    ]

    static func simdSoftmax(_ call: SoftmaxCall) throws -> Tensor {
        var x = call.input
        if call.function == .softmin { x = try simdNegate(x) }
        if let d = call.dtype, d != x.dtype { x = simdCast(x, to: d) }
        let log = call.function == .logSoftmax, s = call.slices
        let data: TensorData
        switch x.data {
        case .float32(let a): data = .float32(softmaxForward(a, s, log: log))
        case .float64(let a): data = .float64(softmaxForward(a, s, log: log))
        default: preconditionFailure("rejected by SoftmaxCall")
        }
        let y = Tensor(shape: x.shape, data: data)
        let name = call.function.backwardName
        let saved = SavedTensor(output: y, of: name)
        return y.recording(name, inputs: [x], saving: [saved]) { g in
            let y = try saved.unpack()
            switch (g.data, y.data) {
            case (.float32(let gs), .float32(let ys)): return [Tensor(shape: g.shape, softmaxBackward(gs, ys, s, log: log))]
            case (.float64(let gs), .float64(let ys)): return [Tensor(shape: g.shape, softmaxBackward(gs, ys, s, log: log))]
            default: preconditionFailure("the gradient has the output's dtype")
            }
        }
    }

    /// `x.to(dtype)`, recorded as `ToCopyBackward0` (the gradient is cast back).
    static func simdCast(_ x: Tensor, to dtype: DType) -> Tensor {
        let y = Tensor(shape: x.shape, data: x.data.converted(to: dtype))
        return y.recording("ToCopyBackward0", inputs: [x]) { g in
            [Tensor(shape: g.shape, data: g.data.converted(to: x.dtype))]
        }
    }

    typealias Slices = (outer: Int, size: Int, inner: Int)

    /// Column blocks of at most this many slices side by side (their running max and sum fit in cache).
    private static let columnBlock = 512

    /// Runs `body(o, columns)` for every outer index and block of inner columns, across cores.
    @inline(__always)
    private static func forEachBlock(_ s: Slices, _ body: (_ o: Int, _ columns: Range<Int>) -> Void) {
        let blocks = (s.inner + columnBlock - 1) / columnBlock
        SIMDParallel.forEach(s.outer * blocks, costPerItem: s.size * min(s.inner, columnBlock) * 8) { r in
            for item in r {
                let o = item / blocks, b = item % blocks
                body(o, b * columnBlock ..< min((b + 1) * columnBlock, s.inner))
            }
        }
    }

    static func softmaxForward<T: FloatScalar>(_ x: [T], _ s: Slices, log: Bool) -> [T] {
        x.withPointer { xp in
            makeArray(x.count) { yp in
                forEachBlock(s) { o, columns in
                    let base = o * s.size * s.inner
                    if T.self == Float.self && s.inner == 1 {
                        softmaxRow(xp.float + base, yp.float + base, s.size, log: log)
                    } else {
                        softmaxColumns(xp + base, yp + base, s, columns, log: log)
                    }
                }
            }
        }
    }

    static func softmaxBackward<T: FloatScalar>(_ g: [T], _ y: [T], _ s: Slices, log: Bool) -> [T] {
        g.withPointer { gp in
            y.withPointer { yp in
                makeArray(g.count) { dx in
                    forEachBlock(s) { o, columns in
                        let base = o * s.size * s.inner
                        if T.self == Float.self && s.inner == 1 {
                            softmaxRowBackward(gp.float + base, yp.float + base, dx.float + base, s.size, log: log)
                        } else {
                            softmaxColumnsBackward(gp + base, yp + base, dx + base, s, columns, log: log)
                        }
                    }
                }
            }
        }
    }

    // MARK: float32 rows

    private static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, log: Bool) {
        var mv = VF(repeating: -.infinity), i = 0
        while i + 16 <= n { mv = vmax(mv, vload(x + i)); i += 16 }
        var m = vmaxLane(mv)
        for k in i..<n where x[k] > m { m = x[k] }
        let mm = VF(repeating: m)
        // e^(x − m), stored for softmax, summed for both; the padded tail lanes add e^(−∞) = 0.
        var acc = VF()
        i = 0
        while i + 16 <= n {
            let e = vexpNonPositive(vload(x + i) - mm)
            if !log { vstore(e, y + i) }
            acc += e
            i += 16
        }
        if i < n {
            let e = vexpNonPositive(vloadPartial(x + i, n - i, padding: -.infinity) - mm)
            if !log { vstorePartial(e, y + i, n - i) }
            acc += e
        }
        let sum = vsum(acc)
        i = 0
        if log {
            let l = VF(repeating: Float.log(sum))
            while i + 16 <= n { vstore((vload(x + i) - mm) - l, y + i); i += 16 }
            for k in i..<n { y[k] = (x[k] - m) - l[0] }
        } else {
            let sv = VF(repeating: sum)
            while i + 16 <= n { vstore(vload(y + i) / sv, y + i); i += 16 }
            for k in i..<n { y[k] /= sum }
        }
    }

    /// softmax: dx = y (g − Σ g y); log_softmax: dx = g − e^y Σ g.
    private static func softmaxRowBackward(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                           _ n: Int, log: Bool) {
        var acc = VF(), i = 0
        while i + 16 <= n { acc += log ? vload(g + i) : vload(g + i) * vload(y + i); i += 16 }
        if i < n { acc += log ? vloadPartial(g + i, n - i) : vloadPartial(g + i, n - i) * vloadPartial(y + i, n - i) }
        let total = VF(repeating: vsum(acc))
        i = 0
        while i + 16 <= n {
            let gv = vload(g + i), yv = vload(y + i)
            vstore(log ? gv - vexpNonPositive(yv) * total : yv * (gv - total), dx + i)
            i += 16
        }
        if i < n {
            let gv = vloadPartial(g + i, n - i), yv = vloadPartial(y + i, n - i)
            vstorePartial(log ? gv - vexpNonPositive(yv) * total : yv * (gv - total), dx + i, n - i)
        }
    }

    // MARK: slices side by side (any inner size, and float64)

    private static func softmaxColumns<T: FloatScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ s: Slices,
                                                       _ columns: Range<Int>, log: Bool) {
        let w = columns.count, c0 = columns.lowerBound
        withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * w) { buffer in
            let m = buffer.baseAddress!, sum = m + w
            for i in 0..<w { m[i] = -.infinity; sum[i] = 0 }
            for j in 0..<s.size {
                let row = x + j * s.inner + c0
                for i in 0..<w where row[i] > m[i] { m[i] = row[i] }
            }
            for j in 0..<s.size {
                let row = x + j * s.inner + c0, out = y + j * s.inner + c0
                if T.self == Float.self {
                    vmapRow(w, row.float, m.float, out.float) { vexpNonPositive($0 - $1) }
                    for i in 0..<w { sum[i] += out[i] }
                } else {
                    for i in 0..<w {
                        let e = T.exp(row[i] - m[i])
                        out[i] = e
                        sum[i] += e
                    }
                }
            }
            if log { for i in 0..<w { sum[i] = T.log(sum[i]) } }
            for j in 0..<s.size {
                let row = x + j * s.inner + c0, out = y + j * s.inner + c0
                if log {
                    for i in 0..<w { out[i] = (row[i] - m[i]) - sum[i] }
                } else {
                    for i in 0..<w { out[i] /= sum[i] }
                }
            }
        }
    }

    private static func softmaxColumnsBackward<T: FloatScalar>(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
                                                               _ s: Slices, _ columns: Range<Int>, log: Bool) {
        let w = columns.count, c0 = columns.lowerBound
        withUnsafeTemporaryAllocation(of: T.self, capacity: w) { buffer in
            let total = buffer.baseAddress!
            for i in 0..<w { total[i] = 0 }
            for j in 0..<s.size {
                let gr = g + j * s.inner + c0, yr = y + j * s.inner + c0
                if log { for i in 0..<w { total[i] += gr[i] } } else { for i in 0..<w { total[i] += gr[i] * yr[i] } }
            }
            for j in 0..<s.size {
                let gr = g + j * s.inner + c0, yr = y + j * s.inner + c0, out = dx + j * s.inner + c0
                if !log {
                    for i in 0..<w { out[i] = yr[i] * (gr[i] - total[i]) }
                } else if T.self == Float.self {
                    vmapRow(w, yr.float, total.float, out.float) { yv, t in vexpNonPositive(yv) * t }
                    for i in 0..<w { out[i] = gr[i] - out[i] }
                } else {
                    for i in 0..<w { out[i] = gr[i] - T.exp(yr[i]) * total[i] }
                }
            }
        }
    }
}

/// out[i] = f(a[i], b[i]) for i < n on the calling thread.
@inline(__always)
func vmapRow(_ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ f: (VF, VF) -> VF) {
    var i = 0
    while i + 16 <= n { vstore(f(vload(a + i), vload(b + i)), out + i); i += 16 }
    if i < n { vstorePartial(f(vloadPartial(a + i, n - i), vloadPartial(b + i, n - i)), out + i, n - i) }
}

extension UnsafePointer {
    /// The same address as float32 elements (for the Float fast paths of generic kernels).
    @inline(__always) var float: UnsafePointer<Float> { UnsafeRawPointer(self).assumingMemoryBound(to: Float.self) }
}

extension UnsafeMutablePointer {
    @inline(__always) var float: UnsafeMutablePointer<Float> { UnsafeMutableRawPointer(self).assumingMemoryBound(to: Float.self) }
}
