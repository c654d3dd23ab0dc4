import NNCore
import RealModule

/// Regression and likelihood losses: `mse_loss`, `l1_loss`, `smooth_l1_loss`, `huber_loss`
/// (pointwise in d = x − t over the broadcast shape), `poisson_nll_loss`, `gaussian_nll_loss`.
extension Reference {
    // MARK: mse, l1, smooth_l1, huber

    /// Without a weight: `l1_loss` is composite (|d|, `AbsBackward0`, then `mean`/`sum`); the
    /// others are ATen's fused ops. With a weight, `F.*_loss` computes f(d) · w (`MulBackward0`),
    /// then `sum`, `mean` (huber) or Σ f(d) w / Σ w (`DivBackward0`, mse and l1).
    static func pairwiseLoss(_ call: PairwiseLossCall) throws -> Tensor {
        call.dtype == .float32 ? try pairwise(Float.self, call) : try pairwise(Double.self, call)
    }

    private static func pairwise<T: FloatScalar>(_: T.Type, _ call: PairwiseLossCall) throws -> Tensor {
        let shape = call.shape, input = call.input, target = call.target
        let x = elements(input, T.self), t = elements(target, T.self)
        let ix = broadcastIndices(from: input.shape, to: shape), it = broadcastIndices(from: target.shape, to: shape)
        let d = ix.indices.map { x[ix[$0]] - t[it[$0]] }
        let loss = d.map { pointwise(call, $0) }
        if let weight = call.weight { return try weightedPairwise(call, d, loss, weight) }
        if call.loss == .l1 {
            return try compositeLoss(loss, shape: shape, call.reduction, "AbsBackward0", inputs: [input, target], saving: []) { g in
                let dd = zip(g, d).map { $0 * sign($1) }
                return [gradient(dd, shape, for: input), gradient(dd.map { -$0 }, shape, for: target)]
            }
        }
        let name = call.loss == .mse ? "MseLossBackward0" : call.loss == .huber ? "HuberLossBackward0" : "SmoothL1LossBackward0"
        let norm = call.reduction.norm(loss.count)
        return fusedLoss(reduceElements(loss, call.reduction), shape: call.reduction.shape(of: shape), count: loss.count, name,
                         inputs: [input, target], saving: [input, target]) { g in
            // ATen's backward kernel of (x, t), and of (t, x) for the target.
            [gradient(d.indices.map { slope(call, d[$0], g[$0], norm: norm) }, shape, for: input),
             gradient(d.indices.map { slope(call, -d[$0], g[$0], norm: norm) }, shape, for: target)]
        }
    }

    /// f(d): d², |d|, smooth L1 (½ d²/β below β, |d| − ½β above), Huber (½ d² below δ, δ(|d| − ½δ) above).
    private static func pointwise<T: FloatScalar>(_ call: PairwiseLossCall, _ d: T) -> T {
        let z = abs(d), p = T(call.parameter), half: T = 0.5
        switch call.loss {
        case .mse: return d * d
        case .l1: return z
        case .smoothL1: return z < p ? half * z * z / p : z - half * p
        case .huber: return z < p ? half * z * z : p * (z - half * p)
        }
    }

    /// ATen's backward kernels (scalar form) for d = x − t, output gradient g and `norm`
    /// (1/n for `mean`, else 1): mse 2·norm · d · g; smooth L1 ±norm·g beyond ±β, else
    /// norm · d · g / β; Huber ±norm·g·δ beyond ±δ, else norm · d · g.
    private static func slope<T: FloatScalar>(_ call: PairwiseLossCall, _ d: T, _ g: T, norm: Double) -> T {
        let n = T(norm), p = T(call.parameter)
        switch call.loss {
        case .mse: return T(2 * norm) * d * g
        case .l1: return g * sign(d)
        case .smoothL1: return d <= -p ? -n * g : d >= p ? n * g : n * d * g / p
        case .huber: return d <= -p ? -n * g * p : d >= p ? n * g * p : n * d * g
        }
    }

    /// sgn(d): −1, 0 or 1 (NaN stays NaN), as `AbsBackward0` multiplies by.
    static func sign<T: FloatScalar>(_ d: T) -> T { d > 0 ? 1 : d < 0 ? -1 : d }

    /// ℓ = f(d) · w as `MulBackward0`, its backward through f as PyTorch's pieces compute it
    /// (mse: `PowBackward0` g·w · (2d); l1: g·w · sgn d; huber: its kernel with norm 1).
    private static func weightedPairwise<T: FloatScalar>(_ call: PairwiseLossCall, _ d: [T], _ loss: [T],
                                                         _ weight: Tensor) throws -> Tensor {
        let shape = call.shape, w = elements(weight, T.self), iw = broadcastIndices(from: weight.shape, to: shape)
        let weighted = loss.indices.map { loss[$0] * w[iw[$0]] }
        let product = recordLoss(Tensor(shape: shape, weighted), "MulBackward0", T.self, inputs: [call.input, call.target, weight],
                                 saving: [weight]) { g in
            let df = g.indices.map { g[$0] * w[iw[$0]] }
            let dd = df.indices.map { k in call.loss == .mse ? df[k] * (2 * d[k]) : slope(call, d[k], df[k], norm: 1) }
            let dt = call.loss == .huber ? df.indices.map { slope(call, -d[$0], df[$0], norm: 1) } : dd.map { -$0 }
            return [gradient(dd, shape, for: call.input), gradient(dt, shape, for: call.target),
                    gradient(g.indices.map { g[$0] * loss[$0] }, shape, for: weight)]
        }
        guard call.reduction == .mean && call.loss != .huber else { return try reduceLoss(product, call.reduction) }
        let total = try reduceLoss(product, .sum), weights = try reduceLoss(weight, .sum)
        return try binary(.div, Arguments(op: "div", ["input": .tensor(total), "other": .tensor(weights)]), inplace: false).tensor!
    }

    // MARK: poisson_nll_loss

    /// ℓ = eˣ − t·x (`log_input`) or x − t·log(x + eps) (`SubBackward0`); `full` adds
    /// t·log t − t + ½·log(2π·t), masked to 0 where t ≤ 1 (`AddBackward0`). Composite.
    static func poissonNLLLoss(_ call: PoissonNLLCall) throws -> Tensor {
        call.dtype == .float32 ? try poisson(Float.self, call) : try poisson(Double.self, call)
    }

    private static func poisson<T: FloatScalar>(_: T.Type, _ call: PoissonNLLCall) throws -> Tensor {
        let shape = call.shape, ix = broadcastIndices(from: call.input.shape, to: shape)
        let it = broadcastIndices(from: call.target.shape, to: shape)
        let xs = elements(call.input, T.self), ts = elements(call.target, T.self)
        let eps = T(call.eps), twoPi = T(2 * Double.pi), half: T = 0.5
        let loss = ix.indices.map { k -> T in
            let (x, t) = (xs[ix[k]], ts[it[k]])
            let main = call.logInput ? T.exp(x) - t * x : x - t * T.log(x + eps)
            return call.full ? main + (t <= 1 ? 0 : t * T.log(t) - t + half * T.log(twoPi * t)) : main
        }
        return try compositeLoss(loss, shape: shape, call.reduction, call.node) { g in
            var dx = [T](), dt = [T]()
            for k in g.indices {
                let (x, t, gk) = (xs[ix[k]], ts[it[k]], g[k])
                dx.append(call.logInput ? gk * T.exp(x) + -gk * t : gk + -gk * t / (x + eps))
                let main = call.logInput ? -gk * x : -gk * T.log(x + eps)
                let stirling = gk * T.log(t) + gk * t / t + -gk + gk * half / (twoPi * t) * twoPi
                dt.append(call.full ? main + (t <= 1 ? 0 : stirling) : main)
            }
            return [gradient(dx, shape, for: call.input), gradient(dt, shape, for: call.target)]
        }
    }

    // MARK: gaussian_nll_loss

    /// ℓ = ½ · (log v + (x − t)² / v) (`MulBackward0`), + ½·log 2π with `full` (`AddBackward0`),
    /// v = max(var, eps). The clamp runs under `no_grad` on a clone, so var's gradient passes
    /// where it was clamped too. Composite.
    static func gaussianNLLLoss(_ call: GaussianNLLCall) throws -> Tensor {
        call.dtype == .float32 ? try gaussian(Float.self, call) : try gaussian(Double.self, call)
    }

    private static func gaussian<T: FloatScalar>(_: T.Type, _ call: GaussianNLLCall) throws -> Tensor {
        let shape = call.shape
        let ix = broadcastIndices(from: call.input.shape, to: shape), it = broadcastIndices(from: call.target.shape, to: shape)
        let iv = broadcastIndices(from: call.varianceShape, to: shape)
        let xs = elements(call.input, T.self), ts = elements(call.target, T.self), eps = T(call.eps)
        let vs = elements(call.variance, T.self).map { $0 < eps ? eps : $0 }
        let half: T = 0.5, constant = T(0.5 * Double.log(2 * Double.pi))
        let d = ix.indices.map { xs[ix[$0]] - ts[it[$0]] }
        let loss = d.indices.map { k -> T in
            let v = vs[iv[k]], value = half * (T.log(v) + d[k] * d[k] / v)
            return call.full ? value + constant : value
        }
        let variance = call.variance
        return try compositeLoss(loss, shape: shape, call.reduction, call.node) { g in
            var dd = [T](), dv = [T]()
            for k in g.indices {
                let v = vs[iv[k]], q = d[k] * d[k], ga = g[k] * half
                dd.append(ga / v * (2 * d[k]))
                dv.append(ga / v + -ga * (q / v / v))
            }
            let dvar = variance.requiresGrad
                ? Tensor(shape: variance.shape, data: T.wrap(sumToShape(dv, from: shape, to: call.varianceShape)).converted(to: variance.dtype))
                : nil
            return [gradient(dd, shape, for: call.input), gradient(dd.map { -$0 }, shape, for: call.target), dvar]
        }
    }
}
