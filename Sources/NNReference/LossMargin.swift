import NNCore
import RealModule

/// Margin losses on ±1 labels: `soft_margin_loss` (ATen's fused op), and the composites
/// `multilabel_soft_margin_loss`, `hinge_embedding_loss`, `margin_ranking_loss`.
extension Reference {
    // MARK: soft_margin_loss

    /// ℓ = log1p(exp(−x · y)), in the input's dtype. Backward (`SoftMarginLossBackward0`):
    /// dx = (y · z · (−norm)) / (1 + z) · g with z = exp(−y · x), norm = 1/n for `mean`.
    static func softMarginLoss(_ call: SoftMarginCall) -> Tensor {
        call.input.dtype == .float32 ? softMargin(Float.self, call) : softMargin(Double.self, call)
    }

    private static func softMargin<T: FloatScalar>(_: T.Type, _ call: SoftMarginCall) -> Tensor {
        let shape = call.input.shape, x = elements(call.input, T.self)
        let y = elements(call.target, T.self), iy = broadcastIndices(from: call.target.shape, to: shape)
        let loss = x.indices.map { T.log(onePlus: T.exp(-x[$0] * y[iy[$0]])) }
        let negativeNorm = T(-call.reduction.norm(x.count))
        return fusedLoss(reduceElements(loss, call.reduction), shape: call.reduction.shape(of: shape), count: x.count,
                         call.node) { g in
            let dx = x.indices.map { k -> T in
                let yk = y[iy[k]], z = T.exp(-yk * x[k])
                return yk * z * negativeNorm / (z + 1) * g[k]
            }
            return [gradient(dx, shape, for: call.input)]
        }
    }

    // MARK: multilabel_soft_margin_loss

    /// ℓ = −(y · log σ(x) + (1 − y) · log σ(−x)) · w, summed over the class dim and divided by
    /// C (`DivBackward0`), then `mean` / `sum` over the samples. Gradients reach x, y and w.
    static func multilabelSoftMarginLoss(_ call: MultilabelSoftMarginCall) throws -> Tensor {
        call.dtype == .float32 ? try multilabelSoftMargin(Float.self, call) : try multilabelSoftMargin(Double.self, call)
    }

    private static func multilabelSoftMargin<T: FloatScalar>(_: T.Type, _ call: MultilabelSoftMarginCall) throws -> Tensor {
        let shape = call.shape, dim = call.classDim, classes = T(call.input.shape[dim])
        let (x, y) = (elements(call.input, T.self), elements(call.target, T.self))
        let ix = broadcastIndices(from: call.input.shape, to: shape), iy = broadcastIndices(from: call.target.shape, to: shape)
        let w = call.weight.map { (elements($0, T.self), broadcastIndices(from: $0.shape, to: shape)) }
        let unweighted = ix.indices.map { k -> T in
            let (xk, yk) = (x[ix[k]], y[iy[k]])
            return -(yk * logSigmoid(xk) + (1 - yk) * logSigmoid(-xk))
        }
        let loss = unweighted.indices.map { k in w.map { unweighted[k] * $0.0[$0.1[k]] } ?? unweighted[k] }
        // Element k lies in row (k / (C · inner)) · inner + k % inner of the class-dim sum.
        let inner = shape[(dim + 1)...].reduce(1, *), size = shape[dim]
        let row = { (k: Int) in k / (size * inner) * inner + k % inner }
        var rows = [T](repeating: 0, count: shape.reduce(1, *) / max(size, 1))
        for k in loss.indices { rows[row(k)] += loss[k] }
        var rowShape = shape
        rowShape.remove(at: dim)
        return try compositeLoss(rows.map { $0 / classes }, shape: rowShape, call.reduction, call.node) { g in
            var dx = [T](), dy = [T](), dw = [T]()
            for k in loss.indices {
                let (xk, yk, gr) = (x[ix[k]], y[iy[k]], g[row(k)] / classes)
                let gn = -(w.map { gr * $0.0[$0.1[k]] } ?? gr)
                dw.append(gr * unweighted[k])
                dy.append(gn * logSigmoid(xk) + -(gn * logSigmoid(-xk)))
                dx.append(logSigmoidSlope(xk, gn * yk) + -logSigmoidSlope(-xk, gn * (1 - yk)))
            }
            return [gradient(dx, shape, for: call.input), gradient(dy, shape, for: call.target),
                    gradient(dw, shape, for: call.weight)]
        }
    }

    /// ATen's `log_sigmoid_backward`: (1 − s) · g for x < 0, s · g otherwise, s = z / (1 + z), z = e^−|x|.
    private static func logSigmoidSlope<T: FloatScalar>(_ x: T, _ g: T) -> T {
        let z = T.exp(-abs(x)), s = z / (1 + z)
        return (x < 0 ? 1 - s : s) * g
    }

    // MARK: hinge_embedding_loss

    /// ℓ = [y ≠ 1] · max(margin − x, 0) + [y ≠ −1] · x (`AddBackward0`), then `mean` / `sum`.
    /// Backward: dx = [y ≠ −1] · g − [y ≠ 1 and margin − x ≥ 0] · g.
    static func hingeEmbeddingLoss(_ call: HingeEmbeddingCall) throws -> Tensor {
        call.dtype == .float32 ? try hinge(Float.self, call) : try hinge(Double.self, call)
    }

    private static func hinge<T: FloatScalar>(_: T.Type, _ call: HingeEmbeddingCall) throws -> Tensor {
        let shape = call.shape, x = elements(call.input, T.self), y = call.target.doubles, margin = T(call.margin)
        let ix = broadcastIndices(from: call.input.shape, to: shape), iy = broadcastIndices(from: call.target.shape, to: shape)
        let loss = ix.indices.map { k -> T in
            let (xk, yk) = (x[ix[k]], y[iy[k]]), clamped = margin - xk < 0 ? 0 : margin - xk
            return (yk != 1 ? clamped : 0) + (yk != -1 ? xk : 0)
        }
        return try compositeLoss(loss, shape: shape, call.reduction, call.node) { g in
            let dx = g.indices.map { k -> T in
                let (xk, yk) = (x[ix[k]], y[iy[k]])
                return (yk != -1 ? g[k] : 0) - (yk != 1 && margin - xk >= 0 ? g[k] : 0)
            }
            return [gradient(dx, shape, for: call.input)]
        }
    }

    // MARK: margin_ranking_loss

    /// ℓ = max(−y · (x1 − x2) + margin, 0) (`ClampMinBackward0`), then `mean` / `sum`.
    /// Backward with g' = g where the clamp passed: dx1 = g' · (−y), dx2 = −dx1, dy = −(g' · (x1 − x2)).
    static func marginRankingLoss(_ call: MarginRankingCall) throws -> Tensor {
        call.dtype == .float32 ? try marginRanking(Float.self, call) : try marginRanking(Double.self, call)
    }

    private static func marginRanking<T: FloatScalar>(_: T.Type, _ call: MarginRankingCall) throws -> Tensor {
        let shape = call.shape, margin = T(call.margin)
        let (a, b, y) = (elements(call.input1, T.self), elements(call.input2, T.self), elements(call.target, T.self))
        let (ia, ib, iy) = (broadcastIndices(from: call.input1.shape, to: shape), broadcastIndices(from: call.input2.shape, to: shape),
                            broadcastIndices(from: call.target.shape, to: shape))
        let diff = ia.indices.map { a[ia[$0]] - b[ib[$0]] }
        let unclamped = diff.indices.map { -y[iy[$0]] * diff[$0] + margin }
        return try compositeLoss(unclamped.map { $0 < 0 ? 0 : $0 }, shape: shape, call.reduction, call.node) { g in
            let passed = g.indices.map { unclamped[$0] >= 0 ? g[$0] : 0 }
            let dDiff = passed.indices.map { passed[$0] * -y[iy[$0]] }
            return [gradient(dDiff, shape, for: call.input1), gradient(dDiff.map { -$0 }, shape, for: call.input2),
                    gradient(passed.indices.map { -(passed[$0] * diff[$0]) }, shape, for: call.target)]
        }
    }
}
