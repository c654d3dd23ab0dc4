import NNCore
import RealModule

/// `lp_pool{1,2,3}d` and `max_unpool{1,2,3}d` on the shared calls (`LPPoolCall`,
/// `MaxUnpoolCall`), computed and recorded as the reference does (see its `Pooling.swift` and
/// `PoolingAdaptive.swift`), on this backend's window loops (`PoolGeometry`), planes split
/// across cores.
extension Optimized {
    static let simdPoolingExtraOps: [String: OpFunction] = (1...3).reduce(into: [:]) { ops, n in
        ops["lp_pool\(n)d"] = { args in
            let call = try LPPoolCall(args, spatialDims: n)
            try simdCheckFloat(call.pool.input, "pooling")
            return .tensor(call.pool.input.dtype == .float32 ? lpPool(call, as: Float.self) : lpPool(call, as: Double.self))
        }
        ops["max_unpool\(n)d"] = { args in
            let call = try MaxUnpoolCall(args, spatialDims: n)
            try simdCheckFloat(call.input, "max_unpool")
            let x = call.unsqueezed ? try simdUnsqueezed(call.input, at: call.input.dim) : call.input
            let y = x.dtype == .float32 ? maxUnpool(call, x, as: Float.self) : maxUnpool(call, x, as: Double.self)
            return .tensor(call.unsqueezed ? try simdSqueezed(y, at: y.dim - 1) : y)
        }
    }

    /// p = ±∞: ±max_pool(±|x|); else out = avg_pool(x^p), m = sign(out)·relu(|out|)·K, y = m^(1/p).
    private static func lpPool<T: FloatScalar>(_ call: LPPoolCall, as _: T.Type) -> Tensor {
        let pool = call.pool, p = call.normType, inputShape = pool.input.shape
        let geo = PoolGeometry(pool), x = pool.input.values(T.self), saved = SavedTensor(pool.input)
        let total = geo.planes * geo.outCount
        if p.isInfinite {
            let s: T = p > 0 ? 1 : -1
            let v = x.map { s * abs($0) }
            var at = [Int64](repeating: 0, count: total)
            let m: [T] = v.withPointer { vp in
                at.withUnsafeMutableBufferPointer { ab in
                    let ap = ab.baseAddress!
                    return makeArray(total) { mp in
                        SIMDParallel.forEach(geo.planes, costPerItem: geo.outCount * geo.windowVolume) { r in
                            for q in r { geo.maxPlane(vp + q * geo.inCount, mp + q * geo.outCount, ap + q * geo.outCount) }
                        }
                    }
                }
            }
            let name = p < 0 ? "NegBackward0" : pool.unsqueezed ? "SqueezeBackward1" : pool.gradFnName
            return Tensor(shape: pool.outputShape, m.map { s * $0 }).recording(name, inputs: [pool.input], saving: [saved]) { g in
                let x: [T] = try saved.unpack().values(), gy = floatElements(g, T.self)
                var gx = [T](repeating: 0, count: x.count)
                for k in gy.indices {
                    let i = k / geo.outCount * geo.inCount + Int(at[k])
                    gx[i] += gy[k] * sign(x[i])
                }
                return [Tensor(shape: inputShape, gx)]
            }
        }
        let divide = geo.divisors(.sliding(pool), T.self), k = T(call.kernelVolume)
        let powered = x.map { atenPow($0, p) }
        let out: [T] = powered.withPointer { xp in
            makeArray(total) { yp in
                SIMDParallel.forEach(geo.planes, costPerItem: geo.outCount * geo.windowVolume) { r in
                    for q in r { geo.averagePlane(xp + q * geo.inCount, yp + q * geo.outCount, divide) }
                }
            }
        }
        let m = out.map { sign($0) * max(abs($0), 0) * k }
        return Tensor(shape: pool.outputShape, m.map { atenPow($0, 1 / p) }).recording("PowBackward0", inputs: [pool.input], saving: [saved]) { g in
            let x: [T] = try saved.unpack().values(), gy = floatElements(g, T.self)
            // PowBackward0, MulBackward0 (·K), MulBackward0 (· sign), ReluBackward0, AbsBackward0.
            let gOut = gy.indices.map { o -> T in
                let gm = gy[o] * (T(1 / p) * atenPow(m[o], 1 / p - 1))
                let gRelu = abs(out[o]) <= 0 ? 0 : gm * k * sign(out[o])
                return gRelu * sign(out[o])
            }
            let gPower: [T] = gOut.withPointer { gp in
                makePlanewiseZeroedArray(planes: geo.planes, planeSize: geo.inCount, costPerPlane: geo.outCount * geo.windowVolume) { r, gxp in
                    do {
                        for q in r { geo.averagePlaneBackward(gp + q * geo.outCount, gxp + q * geo.inCount, divide) }
                    }
                }
            }
            return [Tensor(shape: inputShape, zip(gPower, x).map { $0 * (T(p) * atenPow($1, p - 1)) })]
        }
    }

    /// `torch.sign`: −1, 0 or 1 (0 for NaN).
    @inline(__always) private static func sign<T: FloatScalar>(_ v: T) -> T { v > 0 ? 1 : v < 0 ? -1 : 0 }

    /// `tensor.pow(e)` as ATen computes one element (see the reference's `atenPow`).
    private static func atenPow<T: FloatScalar>(_ x: T, _ e: Double) -> T {
        switch e {
        case 2: return x * x
        case 3: return x * x * x
        case 0.5: return x.squareRoot()
        case -0.5: return 1 / x.squareRoot()
        case -1: return 1 / x
        case -2: return 1 / (x * x)
        default:
            if let n = Int(exactly: e) { return T.pow(x, n) }
            return T.pow(x, T(e))
        }
    }

    /// y[p, indices[p, i]] = x[p, i] in input order (the last write wins), zeros elsewhere;
    /// backward gathers ∂L/∂x[p, i] = ∂L/∂y[p, indices[p, i]] (`MaxUnpool{n}DBackward0`).
    private static func maxUnpool<T: FloatScalar>(_ call: MaxUnpoolCall, _ x: Tensor, as _: T.Type) -> Tensor {
        let values = x.values(T.self), at = call.indices.int64s
        let (inCount, outCount) = (call.inputCount, call.outputSize.reduce(1, *))
        let y: [T] = values.withPointer { vp in
            at.withPointer { ap in
                makePlanewiseZeroedArray(planes: call.planes, planeSize: outCount, costPerPlane: inCount) { r, yp in
                    do {
                        for q in r {
                            for i in q * inCount ..< (q + 1) * inCount { yp[q * outCount + Int(ap[i])] = vp[i] }
                        }
                    }
                }
            }
        }
        let saved = SavedTensor(call.indices), shape = x.shape
        return Tensor(shape: call.poolOutputShape, y)
            .recording("MaxUnpool\(call.outputSize.count)DBackward0", inputs: [x], saving: [saved]) { g in
                let at = try saved.unpack().int64s, gy = floatElements(g, T.self)
                return [Tensor(shape: shape, at.indices.map { i in gy[i / inCount * outCount + Int(at[i])] })]
            }
    }
}
