import NNCore
import RealModule

/// `local_response_norm` and `normalize`, computed and recorded as the reference does (one
/// `DivBackward0` node for F's composition; see its `NormalizationRescaling.swift` for the
/// maths), local response norm split across samples.
extension Optimized {
    static let simdRescalingOps: [String: OpFunction] = [
        "local_response_norm": { args in
            let call = try LocalResponseNormCall(args)
            if call.input.numel == 0 { return .tensor(call.input) }  // F returns the input itself
            return .tensor(call.input.dtype == .float32 ? localResponseNorm(Float.self, call) : localResponseNorm(Double.self, call))
        },
        "normalize": { args in
            let call = try NormalizeCall(args)
            return .tensor(call.input.dtype == .float32 ? normalize(Float.self, call) : normalize(Double.self, call))
        },
    ]

    /// s_c = Σ_{c'∈W(c)} x_{c'}² / size, base_c = s_c·α + k, d_c = base_c^β, y_c = x_c / d_c.
    private static func localResponseNorm<T: FloatScalar>(_: T.Type, _ call: LocalResponseNormCall) -> Tensor {
        let x = call.input, xs = x.values(T.self), n = xs.count
        let channels = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *), outer = x.shape[0]
        let before = call.size / 2, after = (call.size - 1) / 2
        let size = T(call.size), alpha = T(call.alpha), beta = T(call.beta), k = T(call.k)
        var base = [T](repeating: 0, count: n), d = base
        let y: [T] = xs.withPointer { xp in
            base.withUnsafeMutableBufferPointer { bb in
                d.withUnsafeMutableBufferPointer { db in
                    let (bp, dp) = (bb.baseAddress!, db.baseAddress!)
                    return makeArray(n) { yp in
                        SIMDParallel.forEach(outer, costPerItem: channels * inner * (call.size + 20)) { r in
                            for o in r {
                                for c in 0..<channels {
                                    for i in 0..<inner {
                                        var sum: T = 0
                                        for w in max(c - before, 0)...min(c + after, channels - 1) {
                                            let v = xp[(o * channels + w) * inner + i]
                                            sum += v * v
                                        }
                                        let j = (o * channels + c) * inner + i
                                        bp[j] = sum / size * alpha + k
                                        dp[j] = T.pow(bp[j], beta)
                                        yp[j] = xp[j] / dp[j]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let saved = SavedTensor(x)
        return Tensor(shape: x.shape, y).recording("DivBackward0", inputs: [x], saving: [saved]) { g in
            _ = try saved.unpack()
            let gs = floatElements(g, T.self)
            let dx: [T] = makeArray(n) { out in
                SIMDParallel.forEach(outer, costPerItem: channels * inner * (call.size + 4)) { r in
                    for o in r {
                        for c in 0..<channels {
                            for i in 0..<inner {
                                // The windows containing c are those of c' in [c − after, c + before].
                                var total: T = 0
                                for w in max(c - after, 0)...min(c + before, channels - 1) {
                                    let j = (o * channels + w) * inner + i
                                    total += gs[j] * y[j] / base[j]
                                }
                                let j = (o * channels + c) * inner + i
                                out[j] = gs[j] / d[j] - 2 * alpha * beta / size * xs[j] * total
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: x.shape, dx)]
        }
    }

    /// y = x / max(‖x‖_p, eps) over `dims`, norms and sums in Double (the reference's maths).
    private static func normalize<T: FloatScalar>(_: T.Type, _ call: NormalizeCall) -> Tensor {
        let x = call.input, xs = x.values(T.self), p = call.p
        let kept = x.shape.indices.map { call.dims.contains($0) ? 1 : x.shape[$0] }
        let slice = broadcastIndices(from: kept, to: x.shape), count = kept.reduce(1, *)
        var accumulated = [Double](repeating: p == -.infinity ? .infinity : 0, count: count)
        for (k, v) in xs.enumerated() {
            let a = Double(abs(v)), s = slice[k]
            switch p {
            case 0: accumulated[s] += a == 0 ? 0 : 1
            case .infinity: accumulated[s] = max(accumulated[s], a)
            case -.infinity: accumulated[s] = min(accumulated[s], a)
            case 2: accumulated[s] += a * a
            case 1: accumulated[s] += a
            default: accumulated[s] += Double.pow(a, p)
            }
        }
        let norm = accumulated.map { T(p == 0 || p.isInfinite ? $0 : p == 2 ? $0.squareRoot() : Double.pow($0, 1 / p)) }
        let denominator = norm.map { max($0, T(call.eps)) }
        let y = xs.indices.map { xs[$0] / denominator[slice[$0]] }
        let saved = SavedTensor(x)
        return Tensor(shape: x.shape, y).recording("DivBackward0", inputs: [x], saving: [saved]) { g in
            _ = try saved.unpack()
            let gs = floatElements(g, T.self)
            var t = [Double](repeating: 0, count: count), ties = [Double](repeating: 0, count: count)
            for (k, v) in xs.enumerated() {
                let s = slice[k], d = Double(denominator[s])
                t[s] += Double(gs[k]) * Double(v) / (d * d)
                if abs(v) == norm[s] { ties[s] += 1 }
            }
            let dx = xs.indices.map { k -> T in
                let s = slice[k], v = Double(xs[k]), n = Double(norm[s])
                var partial = 0.0  // ∂‖x‖/∂x_k
                if norm[s] >= T(call.eps) && v != 0 && n != 0 && p != 0 {
                    let sign: Double = v > 0 ? 1 : -1
                    partial = p.isInfinite ? (abs(v) == n ? sign / ties[s] : 0) : sign * Double.pow(abs(v) / n, p - 1)
                }
                return T(Double(gs[k]) / Double(denominator[s]) - t[s] * partial)
            }
            return [Tensor(shape: x.shape, dx)]
        }
    }
}
