import NNCore
import RealModule

/// Binary cross-entropy, on probabilities and on logits: ATen's fused ops, one node each.
extension Reference {
    // MARK: binary_cross_entropy

    /// ℓ = ((t − 1) · max(log1p(−x), −100) − t · max(log x, −100)) · w, ATen's clamped logs.
    /// Backward (`BinaryCrossEntropyBackward0`), then · w, / n for `mean`:
    /// dx = g · (x − t) / max((1 − x) · x, 1e-12), dt = −logit(x) · g.
    static func binaryCrossEntropy(_ call: BCECall) -> Tensor {
        call.input.dtype == .float32 ? bce(Float.self, call) : bce(Double.self, call)
    }

    private static func bce<T: FloatScalar>(_: T.Type, _ call: BCECall) -> Tensor {
        let shape = call.input.shape, xs = elements(call.input, T.self), ts = elements(call.target, T.self)
        let w = weights(call.weight, shape, T.self)
        let loss = xs.indices.map { k -> T in
            let (x, t) = (xs[k], ts[k])
            return ((t - 1) * max(T.log(onePlus: -x), -100) - t * max(T.log(x), -100)) * w[k]
        }
        let n = T(xs.count), epsilon = T(Float(1e-12)), mean = call.reduction == .mean
        return fusedLoss(reduceElements(loss, call.reduction), shape: call.reduction.shape(of: shape), count: xs.count,
                         call.node) { g in
            var dx = [T](), dt = [T]()
            for k in xs.indices {
                let (x, t) = (xs[k], ts[k])
                let gx = g[k] * (x - t) / max((1 - x) * x, epsilon) * w[k], gt = -T.log(x / (1 - x)) * g[k] * w[k]
                dx.append(mean ? gx / n : gx)
                dt.append(mean ? gt / n : gt)
            }
            return [gradient(dx, shape, for: call.input), gradient(dt, shape, for: call.target)]
        }
    }

    /// A weight broadcast to `shape` (ones when absent), as the in-place `loss.mul_(weight)` reads it.
    private static func weights<T: FloatScalar>(_ weight: Tensor?, _ shape: [Int], _: T.Type) -> [T] {
        guard let weight else { return [T](repeating: 1, count: shape.reduce(1, *)) }
        let w = elements(weight, T.self)
        return broadcastIndices(from: weight.shape, to: shape).map { w[$0] }
    }

    // MARK: binary_cross_entropy_with_logits

    /// ℓ = ((1 − t) · x − log σ(x) · l) · w with l = (p − 1) · t + 1 for `pos_weight` p (else 1),
    /// log σ(x) = min(x, 0) − log1p(e^−|x|) (no overflow for any x).
    /// Backward (`BinaryCrossEntropyWithLogitsBackward0`), then · g · w, / n for `mean`:
    /// dx = ((p t + 1) − t) · σ(x) − p t (σ(x) − t without p);
    /// dt = log σ(−x) − log σ(x) · p (−x without p).
    static func binaryCrossEntropyWithLogits(_ call: BCEWithLogitsCall) -> Tensor {
        call.dtype == .float32 ? bceWithLogits(Float.self, call) : bceWithLogits(Double.self, call)
    }

    private static func bceWithLogits<T: FloatScalar>(_: T.Type, _ call: BCEWithLogitsCall) -> Tensor {
        let shape = call.input.shape, xs = elements(call.input, T.self), ts = elements(call.target, T.self)
        let w = weights(call.weight, shape, T.self), p = call.posWeight.map { weights($0, shape, T.self) }
        let loss = xs.indices.map { k -> T in
            let (x, t) = (xs[k], ts[k])
            var weightedLog = logSigmoid(x)
            if let p { weightedLog *= (p[k] - 1) * t + 1 }
            return ((1 - t) * x - weightedLog) * w[k]
        }
        let n = T(xs.count), mean = call.reduction == .mean
        return fusedLoss(reduceElements(loss, call.reduction), shape: call.reduction.shape(of: shape), count: xs.count,
                         call.node) { g in
            var dx = [T](), dt = [T]()
            for k in xs.indices {
                let (x, t) = (xs[k], ts[k]), sigma: T = 1 / (1 + T.exp(-x))
                var (slope, targetSlope) = (sigma - t, -x)
                if let p {
                    let pt = p[k] * t
                    (slope, targetSlope) = ((pt + 1 - t) * sigma - pt, logSigmoid(-x) - logSigmoid(x) * p[k])
                }
                let (gx, gt) = (slope * g[k] * w[k], targetSlope * g[k] * w[k])
                dx.append(mean ? gx / n : gx)
                dt.append(mean ? gt / n : gt)
            }
            return [gradient(dx, shape, for: call.input), gradient(dt, shape, for: call.target)]
        }
    }

    /// log σ(x) = min(x, 0) − log1p(e^−|x|), ATen's `log_sigmoid`.
    static func logSigmoid<T: FloatScalar>(_ x: T) -> T {
        min(x, 0) - T.log(onePlus: T.exp(-abs(x)))
    }
}
