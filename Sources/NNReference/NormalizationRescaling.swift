import NNCore
import RealModule

/// The two normalizations that divide the input by a norm of its neighbourhood instead of
/// standardizing it. `torch.nn.functional` composes both from smaller ops whose last step is
/// `input / denominator`, so their `grad_fn` is `DivBackward0`; here each is one kernel with the
/// same result and the gradient of the whole composition.
extension Reference {
    /// local_response_norm over the channels (dim 1) of [N, C, inner]. With the window
    /// W(c) = [c − ⌊size/2⌋, c + ⌊(size − 1)/2⌋] (channels outside [0, C) count as zeros, and the
    /// sum is always divided by `size`, as F's zero padding and average pooling do):
    ///
    ///     s_c = Σ_{c'∈W(c)} x_{c'}² / size,   d_c = (k + α·s_c)^β,   y_c = x_c / d_c
    ///     dx_c = g_c/d_c − (2αβ/size)·x_c · Σ_{c' : c∈W(c')} g_{c'}·y_{c'} / (k + α·s_{c'})
    ///
    /// The forward rounds as F's chain of float ops does (square, window sum, /size, ·α, +k, ^β).
    static func localResponseNorm(_ call: LocalResponseNormCall) -> Tensor {
        if call.input.numel == 0 { return call.input }  // F returns the input itself
        return call.input.dtype == .float32 ? localResponseNorm(Float.self, call) : localResponseNorm(Double.self, call)
    }

    private static func localResponseNorm<T: FloatScalar>(_: T.Type, _ call: LocalResponseNormCall) -> Tensor {
        let x = call.input, xs = x.values(T.self)
        let channels = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *), outer = x.shape[0]
        let before = call.size / 2, after = (call.size - 1) / 2
        let size = T(call.size), alpha = T(call.alpha), beta = T(call.beta), k = T(call.k)
        func index(_ o: Int, _ c: Int, _ i: Int) -> Int { (o * channels + c) * inner + i }
        var base = xs, d = xs, y = xs  // base_c = k + α·s_c, d_c = base_c^β
        for o in 0..<outer {
            for i in 0..<inner {
                for c in 0..<channels {
                    var sum: T = 0
                    for w in max(c - before, 0)...min(c + after, channels - 1) {  // holds c: never empty
                        sum += xs[index(o, w, i)] * xs[index(o, w, i)]
                    }
                    let j = index(o, c, i)
                    base[j] = sum / size * alpha + k
                    d[j] = T.pow(base[j], beta)
                    y[j] = xs[j] / d[j]
                }
            }
        }
        let saved = SavedTensor(x)
        return Tensor(shape: x.shape, y).recording("DivBackward0", inputs: [x], saving: [saved]) { g in
            _ = try saved.unpack()
            let gs = g.values(T.self)
            var dx = gs
            for o in 0..<outer {
                for i in 0..<inner {
                    for c in 0..<channels {
                        // The windows containing c are those of c' in [c − after, c + before].
                        var total: T = 0
                        for w in max(c - after, 0)...min(c + before, channels - 1) {
                            let j = index(o, w, i)
                            total += gs[j] * y[j] / base[j]
                        }
                        let j = index(o, c, i)
                        dx[j] = gs[j] / d[j] - 2 * alpha * beta / size * xs[j] * total
                    }
                }
            }
            return [Tensor(shape: x.shape, dx)]
        }
    }

    /// normalize: y = x / d with d = max(‖x‖_p, eps), the norm over `dims`:
    /// ‖x‖_p = (Σ|x|^p)^(1/p), max |x| for p = ∞, min |x| for p = −∞, the count of nonzeros for
    /// p = 0. With t = Σ_j g_j·x_j / d² over the same slice,
    ///
    ///     dx_i = g_i/d − [‖x‖ ≥ eps]·t·∂‖x‖/∂x_i
    ///     ∂‖x‖/∂x_i = sgn(x_i)·(|x_i|/‖x‖)^(p−1)  (0 where x_i = 0 or ‖x‖ = 0; 0 for p = 0),
    ///                 sgn(x_i)·[|x_i| = ‖x‖]/(number of such j) for p = ±∞.
    ///
    /// Norms and sums are accumulated in Double.
    static func normalize(_ call: NormalizeCall) -> Tensor {
        call.input.dtype == .float32 ? normalize(Float.self, call) : normalize(Double.self, call)
    }

    private static func normalize<T: FloatScalar>(_: T.Type, _ call: NormalizeCall) -> Tensor {
        let x = call.input, xs = x.values(T.self), p = call.p
        // slice[k]: which norm element k belongs to (the broadcast map from the kept shape).
        let kept = x.shape.indices.map { call.dims.contains($0) ? 1 : x.shape[$0] }
        let slice = broadcastIndices(from: kept, to: x.shape)
        let count = kept.reduce(1, *)
        var accumulated = [Double](repeating: p == -.infinity ? .infinity : 0, count: count)
        for (k, v) in xs.enumerated() {
            let a = Double(abs(v)), s = slice[k]
            switch p {
            case 0: accumulated[s] += a == 0 ? 0 : 1
            case .infinity: accumulated[s] = max(accumulated[s], a)
            case -.infinity: accumulated[s] = min(accumulated[s], a)
            default: accumulated[s] += Double.pow(a, p)
            }
        }
        let norm = accumulated.map { T(p == 0 || p.isInfinite ? $0 : Double.pow($0, 1 / p)) }
        let denominator = norm.map { max($0, T(call.eps)) }
        let y = xs.indices.map { xs[$0] / denominator[slice[$0]] }

        let saved = SavedTensor(x)
        return Tensor(shape: x.shape, y).recording("DivBackward0", inputs: [x], saving: [saved]) { g in
            _ = try saved.unpack()
            let gs = g.values(T.self)
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
