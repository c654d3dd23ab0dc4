import NNCore
import RealModule

/// `prelu` (a learnt slope per channel) and `glu` (one half of a dim gating the other), on the
/// shared `PreluCall` / `GluCall`, recorded as the reference records them (`PreluKernelBackward0`
/// keeping x and w, `GluBackward0` keeping x).
extension Optimized {
    static let simdGatedActivationOps: [String: OpFunction] = [
        "prelu": { try .tensor(simdPrelu(PreluCall($0))) },
        "glu": { try .tensor(simdGlu(GluCall($0))) },
    ]

    // MARK: prelu

    /// The runs of x that share one slope: with C > 1 channels (dim 1), the `inner` elements of
    /// each (n, c) plane, slope c; with one slope, blocks of 1024 (a fixed split, so the weight's
    /// gradient is summed in the same order whatever the number of threads).
    struct PreluPlanes {
        let count: Int, size: Int, channels: Int, total: Int

        init(_ call: PreluCall) {
            let shape = call.input.shape
            total = call.input.numel
            channels = call.weight.numel
            size = channels == 1 ? 1024 : shape[2...].reduce(1, *)
            count = size == 0 ? 0 : (total + size - 1) / size
        }

        /// Calls `body(plane, channel, range)` for every plane, split across the cores.
        @inline(__always) func forEach(cost: Int, _ body: (Int, Int, Range<Int>) -> Void) {
            SIMDParallel.forEach(count, costPerItem: size * cost) { r in
                for p in r { body(p, p % channels, p * size ..< min((p + 1) * size, total)) }
            }
        }
    }

    /// y = x > 0 ? x : w·x. Backward (ATen's `_prelu_kernel_backward`): dx = x > 0 ? g : w·g,
    /// dw = Σ (x > 0 ? 0 : x·g) over everything but the channel (partial sums per plane in double,
    /// added in plane order).
    static func simdPrelu(_ call: PreluCall) throws -> Tensor {
        let x = call.input, w = call.weight
        let planes = PreluPlanes(call)
        let data: TensorData
        switch (x.data, w.data) {
        case (.float32(let xs), .float32(let ws)): data = .float32(preluForward(planes, xs, ws))
        case (.float64(let xs), .float64(let ws)): data = .float64(preluForward(planes, xs, ws))
        default: preconditionFailure("rejected by PreluCall")
        }
        let savedX = SavedTensor(x), savedW = SavedTensor(w)
        return Tensor(shape: x.shape, data: data).recording("PreluKernelBackward0", inputs: [x, w], saving: [savedX, savedW]) { g in
            let (x, w) = (try savedX.unpack(), try savedW.unpack())
            switch (x.data, w.data, g.data) {
            case (.float32(let xs), .float32(let ws), .float32(let gs)):
                let (dx, dw) = preluBackward(planes, xs, ws, gs)
                return [Tensor(shape: x.shape, dx), Tensor(shape: w.shape, dw)]
            case (.float64(let xs), .float64(let ws), .float64(let gs)):
                let (dx, dw) = preluBackward(planes, xs, ws, gs)
                return [Tensor(shape: x.shape, dx), Tensor(shape: w.shape, dw)]
            default: preconditionFailure("gradients are in the input's dtype")
            }
        }
    }

    private static func preluForward(_ planes: PreluPlanes, _ xs: [Float], _ ws: [Float]) -> [Float] {
        xs.withPointer { xp in
            makeArray(xs.count) { yp in
                planes.forEach(cost: 1) { _, c, r in
                    let w = ws[c]
                    var i = r.lowerBound
                    while i + 16 <= r.upperBound {
                        let x = vload(xp + i)
                        vstore((w * x).replacing(with: x, where: x .> 0), yp + i)
                        i += 16
                    }
                    while i < r.upperBound { let x = xp[i]; yp[i] = x > 0 ? x : w * x; i += 1 }
                }
            }
        }
    }

    private static func preluForward(_ planes: PreluPlanes, _ xs: [Double], _ ws: [Double]) -> [Double] {
        xs.withPointer { xp in
            makeArray(xs.count) { yp in
                planes.forEach(cost: 1) { _, c, r in
                    let w = ws[c]
                    for i in r { let x = xp[i]; yp[i] = x > 0 ? x : w * x }
                }
            }
        }
    }

    private static func preluBackward(_ planes: PreluPlanes, _ xs: [Float], _ ws: [Float], _ gs: [Float]) -> ([Float], [Float]) {
        var partial = [Double](repeating: 0, count: planes.count)
        let dx: [Float] = xs.withPointer { xp in
            gs.withPointer { gp in
                partial.withUnsafeMutableBufferPointer { sums in
                    makeArray(xs.count) { dp in
                        planes.forEach(cost: 2) { p, c, r in
                            let w = ws[c]
                            var acc = VF(), i = r.lowerBound
                            while i + 16 <= r.upperBound {
                                let x = vload(xp + i), g = vload(gp + i), positive = x .> 0
                                vstore((w * g).replacing(with: g, where: positive), dp + i)
                                acc += (x * g).replacing(with: 0, where: positive)
                                i += 16
                            }
                            var tail: Float = 0
                            while i < r.upperBound {
                                let x = xp[i], g = gp[i]
                                dp[i] = x > 0 ? g : w * g
                                tail += x > 0 ? 0 : x * g
                                i += 1
                            }
                            sums[p] = Double(vsum(acc)) + Double(tail)
                        }
                    }
                }
            }
        }
        return (dx, channelSums(planes, partial).map { Float($0) })
    }

    private static func preluBackward(_ planes: PreluPlanes, _ xs: [Double], _ ws: [Double], _ gs: [Double]) -> ([Double], [Double]) {
        var partial = [Double](repeating: 0, count: planes.count)
        let dx: [Double] = xs.withPointer { xp in
            gs.withPointer { gp in
                partial.withUnsafeMutableBufferPointer { sums in
                    makeArray(xs.count) { dp in
                        planes.forEach(cost: 2) { p, c, r in
                            let w = ws[c]
                            var s = 0.0
                            for i in r {
                                let x = xp[i], g = gp[i]
                                dp[i] = x > 0 ? g : w * g
                                s += x > 0 ? 0 : x * g
                            }
                            sums[p] = s
                        }
                    }
                }
            }
        }
        return (dx, channelSums(planes, partial))
    }

    /// Σ over the planes of each channel, in plane order.
    private static func channelSums(_ planes: PreluPlanes, _ partial: [Double]) -> [Double] {
        var dw = [Double](repeating: 0, count: planes.channels)
        for (p, s) in partial.enumerated() { dw[p % planes.channels] += s }
        return dw
    }

    // MARK: glu

    /// With a, b the first and second halves of `dim`: y = a·σ(b). For each index o of the dims
    /// before `dim`, a, b and y are contiguous runs of `half · inner` elements, so glu is an
    /// elementwise op over those runs. Backward (ATen's `glu_backward`): da = σ(b)·g,
    /// db = (1 − σ(b))·σ(b)·a·g.
    static func simdGlu(_ call: GluCall) throws -> Tensor {
        let x = call.input
        let (outer, size, inner) = call.slices
        let run = size / 2 * inner
        var outShape = x.shape
        outShape[call.dim] = size / 2
        /// Calls `body(aOffset, yOffset, range)` over each run, split across the cores: `range` is
        /// a part of `0..<run`; b is at `aOffset + run`.
        func forEachRun(cost: Int, _ body: (Int, Int, Range<Int>) -> Void) {
            if outer == 1 || run >= 1 << 14 {
                for o in 0..<outer {
                    SIMDParallel.forEachAligned(run, alignment: 1024, costPerItem: cost) { r in body(o * 2 * run, o * run, r) }
                }
            } else {
                SIMDParallel.forEach(outer, costPerItem: run * cost) { os in
                    for o in os { body(o * 2 * run, o * run, 0..<run) }
                }
            }
        }
        let data: TensorData
        switch x.data {
        case .float32(let xs):
            data = .float32(xs.withPointer { xp in
                makeArray(outShape.reduce(1, *)) { yp in
                    forEachRun(cost: 16) { a, y, r in
                        vmapRun(r) { i, m in
                            let s = vsigmoid(vloadN(xp + a + run + i, m))
                            vstoreN(vloadN(xp + a + i, m) * s, yp + y + i, m)
                        }
                    }
                }
            })
        case .float64(let xs):
            data = .float64(xs.withPointer { xp in
                makeArray(outShape.reduce(1, *)) { yp in
                    forEachRun(cost: 20) { a, y, r in
                        for i in r { yp[y + i] = xp[a + i] * (1 / (1 + Double.exp(-xp[a + run + i]))) }
                    }
                }
            })
        default: preconditionFailure("rejected by GluCall")
        }
        let saved = SavedTensor(x)
        return Tensor(shape: outShape, data: data).recording("GluBackward0", inputs: [x], saving: [saved]) { g in
            let x = try saved.unpack()
            switch (x.data, g.data) {
            case (.float32(let xs), .float32(let gs)):
                return [Tensor(shape: x.shape, xs.withPointer { xp in
                    gs.withPointer { gp in
                        makeArray(xs.count) { (dp: UnsafeMutablePointer<Float>) in
                            forEachRun(cost: 20) { a, y, r in
                                vmapRun(r) { i, m in
                                    let av = vloadN(xp + a + i, m), gv = vloadN(gp + y + i, m)
                                    let s = vsigmoid(vloadN(xp + a + run + i, m))
                                    vstoreN(s * gv, dp + a + i, m)
                                    vstoreN((1 - s) * s * av * gv, dp + a + run + i, m)
                                }
                            }
                        }
                    }
                })]
            case (.float64(let xs), .float64(let gs)):
                return [Tensor(shape: x.shape, xs.withPointer { xp in
                    gs.withPointer { gp in
                        makeArray(xs.count) { (dp: UnsafeMutablePointer<Double>) in
                            forEachRun(cost: 20) { a, y, r in
                                for i in r {
                                    let s = 1 / (1 + Double.exp(-xp[a + run + i]))
                                    dp[a + i] = s * gp[y + i]
                                    dp[a + run + i] = (1 - s) * s * xp[a + i] * gp[y + i]
                                }
                            }
                        }
                    }
                })]
            default: preconditionFailure("gradients are in the input's dtype")
            }
        }
    }
}

/// Calls `body(i, lanes)` for the vectors covering `r`: 16 lanes, the last one `r`'s remainder.
@inline(__always) private func vmapRun(_ r: Range<Int>, _ body: (Int, Int) -> Void) {
    var i = r.lowerBound
    while i < r.upperBound {
        body(i, min(16, r.upperBound - i))
        i += 16
    }
}

/// `lanes` elements at `p` (a whole vector when 16), zeros above.
@inline(__always) private func vloadN(_ p: UnsafePointer<Float>, _ lanes: Int) -> VF {
    lanes == 16 ? vload(p) : vloadPartial(p, lanes)
}

@inline(__always) private func vstoreN(_ v: VF, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
    if lanes == 16 { vstore(v, p) } else { vstorePartial(v, p, lanes) }
}
