import NNCore

/// Binary losses, ATen's fused ops, one node each: `binary_cross_entropy`,
/// `binary_cross_entropy_with_logits`, `soft_margin_loss`. The likelihood losses
/// (`poisson_nll_loss`, `gaussian_nll_loss`) and `multilabel_soft_margin_loss` are in
/// `SIMDLossLikelihood.swift` and join this table. Shared steps: `SIMDLossPointwise.swift`.
extension Optimized {
    static let simdLossBinaryOps: [String: OpFunction] = ([
        "binary_cross_entropy": { try .tensor(simdBinaryCrossEntropy(BCECall($0))) },
        "binary_cross_entropy_with_logits": { try .tensor(simdBinaryCrossEntropyWithLogits(BCEWithLogitsCall($0))) },
        "soft_margin_loss": { try .tensor(simdSoftMarginLoss(SoftMarginCall($0))) },
    ] as [String: OpFunction]).merging(simdLossLikelihoodOps) { a, _ in a }

    // MARK: binary_cross_entropy

    /// ℓ = ((t − 1) · max(log1p(−x), −100) − t · max(log x, −100)) · w, ATen's clamped logs.
    /// Backward (u the element's upstream gradient): dx = u · (x − t) / max((1 − x) · x, 1e-12) · w,
    /// dt = −log(x / (1 − x)) · u · w.
    static func simdBinaryCrossEntropy(_ call: BCECall) -> Tensor {
        call.input.dtype == .float32 ? bce(Float.self, call) : bce(Double.self, call)
    }

    private static func bce<T: FloatScalar>(_: T.Type, _ call: BCECall) -> Tensor {
        let shape = call.input.shape, n = shape.reduce(1, *), weighted = call.weight != nil
        let x = floatElements(call.input, T.self), t = floatElements(call.target, T.self)
        let w = call.weight.map { expanded($0, to: shape, T.self) } ?? []
        let floor = VF(repeating: -100), tiny = VF(repeating: 1e-12), epsilon = T(Float(1e-12))
        let losses: [T] = x.withPointer { xp in t.withPointer { tp in w.withPointer { wp in
            lossMap(n, cost: 12, vector: { i, m in
                let (xv, tv) = (lanes(xp.float, i, m), lanes(tp.float, i, m))
                let l = (tv - 1) * vmax(vlog1p(-xv), floor) - tv * vmax(vlog(xv), floor)
                return weighted ? l * lanes(wp.float, i, m) : l
            }, scalar: { k in
                let (xk, tk) = (xp[k], tp[k])
                let l = (tk - 1) * max(T.log(onePlus: -xk), -100) - tk * max(T.log(xk), -100)
                return weighted ? l * wp[k] : l
            })
        } } }
        return recordLossNode(call.node, losses, shape: call.reduction.shape(of: shape), reduction: call.reduction) { u in
            x.withPointer { xp in t.withPointer { tp in w.withPointer { wp in
                [lossGradient(call.input, shape) {
                    gradientMap(u, n, cost: 2, vector: { g, i, m in
                        let (xv, tv) = (lanes(xp.float, i, m), lanes(tp.float, i, m))
                        let d = g * (xv - tv) / vmax((1 - xv) * xv, tiny)
                        return weighted ? d * lanes(wp.float, i, m) : d
                    }, scalar: { g, k in
                        let d = g * (xp[k] - tp[k]) / max((1 - xp[k]) * xp[k], epsilon)
                        return weighted ? d * wp[k] : d
                    })
                },
                 lossGradient(call.target, shape) {
                    gradientMap(u, n, cost: 6, vector: { g, i, m in
                        let xv = lanes(xp.float, i, m), d = -vlog(xv / (1 - xv)) * g
                        return weighted ? d * lanes(wp.float, i, m) : d
                    }, scalar: { g, k in
                        let d = -T.log(xp[k] / (1 - xp[k])) * g
                        return weighted ? d * wp[k] : d
                    })
                }]
            } } }
        }
    }

    // MARK: binary_cross_entropy_with_logits

    /// ℓ = ((1 − t) · x − log σ(x) · l) · w with l = (p − 1) · t + 1 for `pos_weight` p (else 1).
    /// Backward, · u · w: dx = σ(x) − t, or ((p t + 1) − t) · σ(x) − p t with p;
    /// dt = −x, or log σ(−x) − log σ(x) · p with p.
    static func simdBinaryCrossEntropyWithLogits(_ call: BCEWithLogitsCall) -> Tensor {
        call.dtype == .float32 ? bceWithLogits(Float.self, call) : bceWithLogits(Double.self, call)
    }

    private static func bceWithLogits<T: FloatScalar>(_: T.Type, _ call: BCEWithLogitsCall) -> Tensor {
        let shape = call.input.shape, n = shape.reduce(1, *)
        let (weighted, positive) = (call.weight != nil, call.posWeight != nil)
        let x = floatElements(call.input, T.self), t = floatElements(call.target, T.self)
        let w = call.weight.map { expanded($0, to: shape, T.self) } ?? []
        let p = call.posWeight.map { expanded($0, to: shape, T.self) } ?? []
        let losses: [T] = x.withPointer { xp in t.withPointer { tp in w.withPointer { wp in p.withPointer { pp in
            lossMap(n, cost: 12, vector: { i, m in
                let (xv, tv) = (lanes(xp.float, i, m), lanes(tp.float, i, m))
                var weightedLog = vlogSigmoid(xv)
                if positive { weightedLog *= (lanes(pp.float, i, m) - 1) * tv + 1 }
                let l = (1 - tv) * xv - weightedLog
                return weighted ? l * lanes(wp.float, i, m) : l
            }, scalar: { k in
                let (xk, tk) = (xp[k], tp[k])
                var weightedLog = logSigmoid(xk)
                if positive { weightedLog *= (pp[k] - 1) * tk + 1 }
                let l = (1 - tk) * xk - weightedLog
                return weighted ? l * wp[k] : l
            })
        } } } }
        return recordLossNode(call.node, losses, shape: call.reduction.shape(of: shape), reduction: call.reduction) { u in
            x.withPointer { xp in t.withPointer { tp in w.withPointer { wp in p.withPointer { pp in
                [lossGradient(call.input, shape) {
                    gradientMap(u, n, cost: 6, vector: { g, i, m in
                        let (xv, tv) = (lanes(xp.float, i, m), lanes(tp.float, i, m)), sigma = vsigmoid(xv)
                        var slope = sigma - tv
                        if positive {
                            let pt = lanes(pp.float, i, m) * tv
                            slope = (pt + 1 - tv) * sigma - pt
                        }
                        return weighted ? slope * g * lanes(wp.float, i, m) : slope * g
                    }, scalar: { g, k in
                        let (xk, tk) = (xp[k], tp[k]), sigma: T = 1 / (1 + T.exp(-xk))
                        var slope = sigma - tk
                        if positive {
                            let pt = pp[k] * tk
                            slope = (pt + 1 - tk) * sigma - pt
                        }
                        return weighted ? slope * g * wp[k] : slope * g
                    })
                },
                 lossGradient(call.target, shape) {
                    gradientMap(u, n, cost: 12, vector: { g, i, m in
                        let xv = lanes(xp.float, i, m)
                        guard positive else { return weighted ? -xv * g * lanes(wp.float, i, m) : -xv * g }
                        let (logSigmoid, logSigmoidNegative) = vlogSigmoids(xv)
                        let slope = logSigmoidNegative - logSigmoid * lanes(pp.float, i, m)
                        return weighted ? slope * g * lanes(wp.float, i, m) : slope * g
                    }, scalar: { g, k in
                        let xk = xp[k], slope = positive ? logSigmoid(-xk) - logSigmoid(xk) * pp[k] : -xk
                        return weighted ? slope * g * wp[k] : slope * g
                    })
                }]
            } } } }
        }
    }

    // MARK: soft_margin_loss

    /// ℓ = log1p(e^(−x·y)), y broadcast into the input's shape, in the input's dtype.
    /// Backward: dx = y · z · (−1) / (z + 1) · u with z = e^(−y·x).
    static func simdSoftMarginLoss(_ call: SoftMarginCall) -> Tensor {
        call.input.dtype == .float32 ? softMargin(Float.self, call) : softMargin(Double.self, call)
    }

    private static func softMargin<T: FloatScalar>(_: T.Type, _ call: SoftMarginCall) -> Tensor {
        let shape = call.input.shape, n = shape.reduce(1, *)
        let x = floatElements(call.input, T.self), y = expanded(call.target, to: shape, T.self)
        let losses: [T] = x.withPointer { xp in y.withPointer { yp in
            lossMap(n, cost: 10, vector: { i, m in vlog1p(vexp(-lanes(xp.float, i, m) * lanes(yp.float, i, m))) },
                    scalar: { k in T.log(onePlus: T.exp(-xp[k] * yp[k])) })
        } }
        return recordLossNode(call.node, losses, shape: call.reduction.shape(of: shape), reduction: call.reduction) { u in
            x.withPointer { xp in y.withPointer { yp in
                [lossGradient(call.input, shape) {
                    gradientMap(u, n, cost: 6, vector: { g, i, m in
                        let yv = lanes(yp.float, i, m), z = vexp(-yv * lanes(xp.float, i, m))
                        return -(yv * z) / (z + 1) * g
                    }, scalar: { g, k in
                        let z = T.exp(-yp[k] * xp[k])
                        return -(yp[k] * z) / (z + 1) * g
                    })
                }]
            } }
        }
    }
}
