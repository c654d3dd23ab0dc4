import NNCore

/// Margin losses: the composites `hinge_embedding_loss` and `margin_ranking_loss` (one node
/// named as PyTorch's last op before the reduction), and ATen's fused per-sample
/// `multi_margin_loss` and `multilabel_margin_loss`. The embedding losses
/// (`cosine_embedding_loss`, `triplet_margin_loss`) are in `SIMDLossEmbedding.swift` and join
/// this table. Shared steps: `SIMDLossPointwise.swift`.
extension Optimized {
    static let simdLossMarginOps: [String: OpFunction] = ([
        "hinge_embedding_loss": { try .tensor(simdHingeEmbeddingLoss(HingeEmbeddingCall($0))) },
        "margin_ranking_loss": { try .tensor(simdMarginRankingLoss(MarginRankingCall($0))) },
        "multi_margin_loss": { try .tensor(simdMultiMarginLoss(MultiMarginCall($0))) },
        "multilabel_margin_loss": { try .tensor(simdMultilabelMarginLoss(MultilabelMarginCall($0))) },
    ] as [String: OpFunction]).merging(simdLossEmbeddingOps) { a, _ in a }

    // MARK: hinge_embedding_loss

    /// ℓ = [y ≠ 1] · max(margin − x, 0) + [y ≠ −1] · x (`AddBackward0`), y compared as the
    /// reference compares it (codes ±1 / 0, `labelCodes`). Backward:
    /// dx = [y ≠ −1] · u − [y ≠ 1 and margin − x ≥ 0] · u.
    static func simdHingeEmbeddingLoss(_ call: HingeEmbeddingCall) -> Tensor {
        call.dtype == .float32 ? hinge(Float.self, call) : hinge(Double.self, call)
    }

    private static func hinge<T: FloatScalar>(_: T.Type, _ call: HingeEmbeddingCall) -> Tensor {
        let shape = call.shape, n = shape.reduce(1, *), margin = T(call.margin)
        let x = expanded(call.input, to: shape, T.self), y = labelCodes(call.target, to: shape, T.self)
        let (marginV, one, zero) = (VF(repeating: Float(call.margin)), VF(repeating: 1), VF())
        let losses: [T] = x.withPointer { xp in y.withPointer { yp in
            lossMap(n, cost: 1, vector: { i, m in
                let (xv, yv) = (lanes(xp.float, i, m), lanes(yp.float, i, m)), gap = marginV - xv
                let clamped = gap.replacing(with: 0, where: gap .< zero)
                return clamped.replacing(with: 0, where: yv .== one) + xv.replacing(with: 0, where: yv .== -one)
            }, scalar: { k in
                let (xk, yk) = (xp[k], yp[k]), clamped = margin - xk < 0 ? 0 : margin - xk
                return (yk != 1 ? clamped : 0) + (yk != -1 ? xk : 0)
            })
        } }
        return recordLossNode(call.node, losses, shape: shape, reduction: call.reduction) { u in
            x.withPointer { xp in y.withPointer { yp in
                [lossGradient(call.input, shape) {
                    gradientMap(u, n, cost: 1, vector: { g, i, m in
                        let (xv, yv) = (lanes(xp.float, i, m), lanes(yp.float, i, m))
                        let hinged = g.replacing(with: 0, where: (yv .== one) .| .!(marginV - xv .>= zero))
                        return g.replacing(with: 0, where: yv .== -one) - hinged
                    }, scalar: { g, k in
                        let (xk, yk) = (xp[k], yp[k])
                        return (yk != -1 ? g : 0) - (yk != 1 && margin - xk >= 0 ? g : 0)
                    })
                }]
            } }
        }
    }

    // MARK: margin_ranking_loss

    /// ℓ = max(−y · (x1 − x2) + margin, 0) (`ClampMinBackward0`). Backward with u' = u where the
    /// clamp passed (its argument ≥ 0): dx1 = u' · (−y), dx2 = −dx1, dy = −(u' · (x1 − x2)).
    static func simdMarginRankingLoss(_ call: MarginRankingCall) -> Tensor {
        call.dtype == .float32 ? marginRanking(Float.self, call) : marginRanking(Double.self, call)
    }

    private static func marginRanking<T: FloatScalar>(_: T.Type, _ call: MarginRankingCall) -> Tensor {
        let shape = call.shape, n = shape.reduce(1, *), margin = T(call.margin), marginV = VF(repeating: Float(call.margin))
        let a = expanded(call.input1, to: shape, T.self), b = expanded(call.input2, to: shape, T.self)
        let y = expanded(call.target, to: shape, T.self)
        let losses: [T] = a.withPointer { ap in b.withPointer { bp in y.withPointer { yp in
            lossMap(n, cost: 1, vector: { i, m in
                let z = -lanes(yp.float, i, m) * (lanes(ap.float, i, m) - lanes(bp.float, i, m)) + marginV
                return z.replacing(with: 0, where: z .< VF())
            }, scalar: { k in
                let z = -yp[k] * (ap[k] - bp[k]) + margin
                return z < 0 ? 0 : z
            })
        } } }
        return recordLossNode(call.node, losses, shape: shape, reduction: call.reduction) { u in
            a.withPointer { ap in b.withPointer { bp in y.withPointer { yp in
                // u' · (−y), 0 where the clamp cut, or −(u' · (x1 − x2)) for the target.
                func passed(_ forTarget: Bool) -> [T] {
                    gradientMap(u, n, cost: 1, vector: { g, i, m in
                        let (av, bv, yv) = (lanes(ap.float, i, m), lanes(bp.float, i, m), lanes(yp.float, i, m))
                        let diff = av - bv, gated = g.replacing(with: 0, where: .!(-yv * diff + marginV .>= VF()))
                        return forTarget ? -(gated * diff) : gated * -yv
                    }, scalar: { g, k in
                        let diff = ap[k] - bp[k], gated = -yp[k] * diff + margin >= 0 ? g : 0
                        return forTarget ? -(gated * diff) : gated * -yp[k]
                    })
                }
                let dDiff = call.input1.requiresGrad || call.input2.requiresGrad ? passed(false) : []
                return [lossGradient(call.input1, shape) { dDiff }, lossGradient(call.input2, shape) { negated(dDiff) },
                        lossGradient(call.target, shape) { passed(true) }]
            } } }
        }
    }

    // MARK: multi_margin_loss

    /// Per sample i with target class y: ℓ_i = Σ_{d ≠ y} [z > 0] · h(z) · w_y / C with
    /// z = margin − x[i, y] + x[i, d], h(z) = z (p = 1) or z² (p = 2); samples run in parallel.
    /// Backward: each positive term gives class d h'(z) · w_y / C and class y its negation,
    /// times the sample's gradient u_i (h' = 1 or 2z).
    static func simdMultiMarginLoss(_ call: MultiMarginCall) -> Tensor {
        call.input.dtype == .float32 ? multiMargin(Float.self, call) : multiMargin(Double.self, call)
    }

    private static func multiMargin<T: FloatScalar>(_: T.Type, _ call: MultiMarginCall) -> Tensor {
        let x = floatElements(call.input, T.self), y = call.target.int64s.map { Int($0) }
        let w = call.weight.map { floatElements($0, T.self) }
        let (n, c, margin, squared) = (call.frames, call.classes, T(call.margin), call.p == 2)
        let losses: [T] = x.withPointer { xp in
            makeArray(n) { out in
                SIMDParallel.forEach(n, costPerItem: 2 * c) { r in
                    for i in r {
                        let row = xp + i * c, yi = y[i], base = margin - row[yi]
                        var sum: T = 0
                        for d in 0..<c where d != yi {
                            let z = base + row[d]
                            if z > 0 { sum += squared ? z * z : z }
                        }
                        out[i] = (w.map { sum * $0[yi] } ?? sum) / T(c)
                    }
                }
            }
        }
        return recordLossNode(call.node, losses, shape: call.outputShape, reduction: call.reduction) { u in
            [lossGradient(call.input, call.input.shape) { () -> [T] in
                x.withPointer { xp in
                    makeArray(n * c) { out in
                        SIMDParallel.forEach(n, costPerItem: 2 * c) { r in
                            for i in r {
                                let row = xp + i * c, dx = out + i * c, yi = y[i], base = margin - row[yi]
                                let step = u[i] * (w?[yi] ?? 1) / T(c)
                                var targetGrad: T = 0
                                for d in 0..<c {
                                    let z = base + row[d]
                                    let h = d == yi || !(z > 0) ? 0 : squared ? 2 * z * step : step
                                    targetGrad -= h
                                    dx[d] = h
                                }
                                dx[yi] = targetGrad
                            }
                        }
                    }
                }
            }]
        }
    }

    // MARK: multilabel_margin_loss

    /// Per sample i, with y_i the classes listed before the first −1:
    /// ℓ_i = Σ_{j ∈ y_i} Σ_{d ∉ y_i} max(0, 1 − x[i, j] + x[i, d]) / C (terms added in Double, as
    /// the reference). Backward: each positive term gives class d +u_i/C and class j −u_i/C.
    static func simdMultilabelMarginLoss(_ call: MultilabelMarginCall) -> Tensor {
        call.input.dtype == .float32 ? multilabelMargin(Float.self, call) : multilabelMargin(Double.self, call)
    }

    private static func multilabelMargin<T: FloatScalar>(_: T.Type, _ call: MultilabelMarginCall) -> Tensor {
        let x = floatElements(call.input, T.self), target = call.target.int64s.map { Int($0) }
        let (n, c) = (call.frames, call.classes)
        let labels = (0..<n).map { i in Array(target[(i * c)..<(i * c + c)].prefix { $0 >= 0 }) }
        let isLabel = labels.map { l in (0..<c).map { l.contains($0) } }
        let losses: [T] = x.withPointer { xp in
            makeArray(n) { out in
                SIMDParallel.forEach(n, costPerItem: c * max(labels.first?.count ?? 1, 1)) { r in
                    for i in r {
                        let row = xp + i * c, label = isLabel[i]
                        var sum = 0.0
                        for j in labels[i] {
                            let base = 1 - row[j]
                            for d in 0..<c where !label[d] {
                                let z = base + row[d]
                                if z > 0 { sum += Double(z) }
                            }
                        }
                        out[i] = T(sum) / T(c)
                    }
                }
            }
        }
        return recordLossNode(call.node, losses, shape: call.outputShape, reduction: call.reduction) { u in
            [lossGradient(call.input, call.input.shape) { () -> [T] in
                x.withPointer { xp in
                    makeZeroedArray(n * c) { out in
                        SIMDParallel.forEach(n, costPerItem: c * max(labels.first?.count ?? 1, 1)) { r in
                            for i in r {
                                let row = xp + i * c, dx = out + i * c, label = isLabel[i], step = u[i] / T(c)
                                for j in labels[i] {
                                    let base = 1 - row[j]
                                    for d in 0..<c where !label[d] && base + row[d] > 0 {
                                        dx[j] -= step
                                        dx[d] += step
                                    }
                                }
                            }
                        }
                    }
                }
            }]
        }
    }
}
