import NNCore

/// The dropout family (`dropout`, `dropout1d/2d/3d`, `alpha_dropout`, `feature_alpha_dropout`),
/// recorded by the shared `DropoutCall.record` (so grad_fn names, saved n, in-place rebasing and
/// errors are the reference's). With q = 1 − p, unit u (an element, or a whole channel) is kept when
///
///     (SplitMix64.mix(s + (u + 1)·γ) >> 11) < ⌈q·2⁵³⌉        (⇔ u-th uniform < q)
///
/// where s is the state `DropoutGenerator.current.reserve(units)` hands out: SplitMix64 is
/// counter-based, so every unit's draw is computed directly, in parallel blocks, and the masks are
/// exactly those the reference draws one after another from the same generator. Then per element
///
///     n = kept ? T(1/T(q)) : 0,  y = x · n              (dropout)
///     n = kept ? T(a) : 0,       y = x · n + (kept ? T(b) : T(b) − T(a·α))   (alpha forms)
///
/// the product rounded before the shift is added, as the reference computes it; the backward is
/// g · n. float32 runs 16-lane vectors, float64 plain loops; blocks of units split across cores.
extension Optimized {
    static let simdDropoutOps: [String: OpFunction] = Dictionary(uniqueKeysWithValues: DropoutFunction.allCases.map { f in
        (f.rawValue, { args in .tensor(try simdDropout(DropoutCall(f, args))) } as OpFunction)
    })

    static func simdDropout(_ call: DropoutCall) throws -> Tensor {
        try call.record(compute: { x in try dropoutData(call, x) }, multiply: dropoutGradient)
    }

    private static func dropoutData(_ call: DropoutCall, _ x: Tensor) throws -> DropoutData {
        switch x.dtype {
        case .float32: return dropoutData(call, x.values(Float.self))
        case .float64: return dropoutData(call, x.values(Double.self))
        default:
            // `DropoutCall` lets only p = 1 through for integers and bools: x · 0 = 0.
            guard call.action == .zero else { throw Unsupported("dropout of \(x.dtype.rawValue) tensors") }
            return DropoutData(noise: .zeros(x.dtype, count: x.numel), output: .zeros(x.dtype, count: x.numel), shifted: false)
        }
    }

    /// n and y for one float tensor (see the file comment).
    private static func dropoutData<T: FloatScalar>(_ call: DropoutCall, _ x: [T]) -> DropoutData {
        let units = call.units, perUnit = x.count / units
        let masked = call.action == .mask, alpha = call.function.isAlpha && masked
        // Kept iff the draw's top 53 bits m satisfy m·2⁻⁵³ < q, i.e. m < ⌈q·2⁵³⌉ (exact in Double).
        let threshold = masked ? UInt64(((1 - call.p) * 0x1p53).rounded(.up)) : 0
        let start = masked ? DropoutGenerator.current.reserve(units) : 0, gamma = SplitMix64.gamma
        let constants = AlphaDropoutConstants(p: masked ? call.p : 0)
        let keptFactor: T = alpha ? T(constants.a) : 1 / T(1 - call.p)
        let keptShift = T(constants.b), droppedShift = -T(constants.a * AlphaDropoutConstants.alpha) + keptShift
        var noise = [T](), output = [T]()
        x.withPointer { xp in
            noise = makeArray(x.count) { np in
                output = makeArray(x.count) { yp in
                    SIMDParallel.forEachAligned(units, alignment: max(1, 4096 / perUnit), costPerItem: perUnit * 2 + 4) { r in
                        // The mask, written as n over the block's elements.
                        for u in r {
                            let m = SplitMix64.mix(start &+ UInt64(truncatingIfNeeded: u &+ 1) &* gamma) >> 11
                            let factor: T = m < threshold ? keptFactor : 0
                            if perUnit == 1 { np[u] = factor } else { (np + u &* perUnit).initialize(repeating: factor, count: perUnit) }
                        }
                        let (lo, count) = (r.lowerBound * perUnit, r.count * perUnit)
                        applyNoise(xp + lo, np + lo, yp + lo, count, shift: alpha ? (keptShift, droppedShift) : nil)
                    }
                }
            }
        }
        return DropoutData(noise: T.wrap(noise), output: T.wrap(output), shifted: alpha)
    }

    /// y = x · n, or with `shift`: y = x · n + (n ≠ 0 ? kept : dropped) (a kept n is never 0).
    @inline(__always)
    private static func applyNoise<T: FloatScalar>(_ x: UnsafePointer<T>, _ n: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                   _ count: Int, shift: (kept: T, dropped: T)?) {
        if T.self == Float.self {
            let (xf, nf, yf) = (UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), UnsafeRawPointer(n).assumingMemoryBound(to: Float.self),
                                UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
            let (kept, dropped) = shift.map { (VF(repeating: Float($0.kept)), VF(repeating: Float($0.dropped))) } ?? (VF(), VF())
            let shifted = shift != nil
            var i = 0
            func step(_ xv: VF, _ nv: VF) -> VF {
                shifted ? xv * nv + kept.replacing(with: dropped, where: nv .== 0) : xv * nv
            }
            while i + 16 <= count {
                vstore(step(vload(xf + i), vload(nf + i)), yf + i)
                i += 16
            }
            if i < count { vstorePartial(step(vloadPartial(xf + i, count - i), vloadPartial(nf + i, count - i)), yf + i, count - i) }
        } else if let (kept, dropped) = shift {
            for i in 0..<count { y[i] = x[i] * n[i] + (n[i] == 0 ? dropped : kept) }
        } else {
            for i in 0..<count { y[i] = x[i] * n[i] }
        }
    }

    /// The backward's g · n.
    private static func dropoutGradient(_ g: TensorData, _ n: TensorData) -> TensorData {
        switch (g, n) {
        case (.float32(let a), .float32(let b)):
            return .float32(a.withPointer { ap in b.withPointer { bp in makeArray(a.count) { vmap2(a.count, ap, bp, $0) { $0 * $1 } } } })
        case (.float64(let a), .float64(let b)):
            return .float64(a.withPointer { ap in b.withPointer { bp in
                makeArray(a.count) { dst in
                    SIMDParallel.forEach(a.count, costPerItem: 1) { r in for i in r { dst[i] = ap[i] * bp[i] } }
                }
            } })
        default:
            return .zeros(g.dtype, count: g.count)
        }
    }
}
