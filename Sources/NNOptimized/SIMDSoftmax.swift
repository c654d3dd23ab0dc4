import CKernels
import NNCore
import RealModule

/// `softmax`, `log_softmax`, `softmin` along any dim, numerically stable (with m the slice's
/// maximum: e^(x − m) / Σ e^(x − m), and (x − m) − log Σ e^(x − m)), recorded as the
/// reference records them: `softmin` negates first (`NegBackward0`), `dtype=` casts first
/// (`ToCopyBackward0`), then `SoftmaxBackward0` / `LogSoftmaxBackward0` saving the output.
///
/// A slice along `dim` is `size` elements `inner` apart. With `inner = 1` each float32 slice is a
/// contiguous row, done by the C row kernels (`CKernels`: the same 16-lane algorithm as
/// `vexpNonPositive`, compiled for AVX-512, AVX2 + FMA and baseline x86-64 and chosen at run
/// time, 2–3× faster than the baseline Swift build); otherwise `inner` slices run side by side,
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
                        ck_softmax_row_f32(xp.float + base, yp.float + base, s.size, log ? 1 : 0)
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
                            ck_softmax_row_backward_f32(gp.float + base, yp.float + base, dx.float + base, s.size, log ? 1 : 0)
                        } else {
                            softmaxColumnsBackward(gp + base, yp + base, dx + base, s, columns, log: log)
                        }
                    }
                }
            }
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
