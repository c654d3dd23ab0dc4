import NNCore

/// Composite likelihood losses, each one node named as PyTorch's last op before the reduction:
/// `poisson_nll_loss`, `gaussian_nll_loss`, `multilabel_soft_margin_loss` (joining
/// `simdLossBinaryOps`). Shared steps: `SIMDLossPointwise.swift`.
extension Optimized {
    static let simdLossLikelihoodOps: [String: OpFunction] = [
        "poisson_nll_loss": { try .tensor(simdPoissonNLLLoss(PoissonNLLCall($0))) },
        "gaussian_nll_loss": { try .tensor(simdGaussianNLLLoss(GaussianNLLCall($0))) },
        "multilabel_soft_margin_loss": { try .tensor(simdMultilabelSoftMarginLoss(MultilabelSoftMarginCall($0))) },
    ]

    // MARK: poisson_nll_loss

    /// ℓ = eˣ − t·x (`log_input`) or x − t·log(x + eps); `full` adds t·log t − t + ½·log(2π·t)
    /// where t > 1. Backward (u the element's gradient): dx = u·eˣ − u·t, or u − u·t / (x + eps);
    /// dt = −u·x, or −u·log(x + eps), plus u·log t + u·t/t − u + u·½/(2π·t)·2π where t > 1.
    static func simdPoissonNLLLoss(_ call: PoissonNLLCall) -> Tensor {
        call.dtype == .float32 ? poisson(Float.self, call) : poisson(Double.self, call)
    }

    private static func poisson<T: FloatScalar>(_: T.Type, _ call: PoissonNLLCall) -> Tensor {
        let shape = call.shape, n = shape.reduce(1, *), logInput = call.logInput, full = call.full
        let x = expanded(call.input, to: shape, T.self), t = expanded(call.target, to: shape, T.self)
        let (eps, twoPi, half) = (T(call.eps), T(2 * Double.pi), T(0.5))
        let (epsV, twoPiV, one) = (VF(repeating: Float(call.eps)), VF(repeating: Float(2 * Double.pi)), VF(repeating: 1))
        let logTwoPiV = VF(repeating: Float(Double.log(2 * Double.pi)))
        let losses: [T] = x.withPointer { xp in t.withPointer { tp in
            lossMap(n, cost: full ? 24 : 10, vector: { i, m in
                let (xv, tv) = (lanes(xp.float, i, m), lanes(tp.float, i, m))
                let main = logInput ? vexp(xv) - tv * xv : xv - tv * vlog(xv + epsV)
                guard full else { return main }
                // ½·log(2π·t) as ½·(log t + log 2π): one logarithm (a rounding apart; two vlogs in
                // this body measured 5× slower, 1.0 → 0.19 ms for 65k elements).
                let lt = vlog(tv), stirling = tv * lt - tv + 0.5 * (lt + logTwoPiV)
                return main + stirling.replacing(with: 0, where: tv .<= one)
            }, scalar: { k in
                let (xk, tk) = (xp[k], tp[k])
                let main = logInput ? T.exp(xk) - tk * xk : xk - tk * T.log(xk + eps)
                return full ? main + (tk <= 1 ? 0 : tk * T.log(tk) - tk + half * T.log(twoPi * tk)) : main
            })
        } }
        return recordLossNode(call.node, losses, shape: shape, reduction: call.reduction) { u in
            x.withPointer { xp in t.withPointer { tp in
                [lossGradient(call.input, shape) {
                    gradientMap(u, n, cost: 6, vector: { g, i, m in
                        let (xv, tv) = (lanes(xp.float, i, m), lanes(tp.float, i, m))
                        return logInput ? g * vexp(xv) + -g * tv : g + -g * tv / (xv + epsV)
                    }, scalar: { g, k in
                        let (xk, tk) = (xp[k], tp[k])
                        return logInput ? g * T.exp(xk) + -g * tk : g + -g * tk / (xk + eps)
                    })
                },
                 lossGradient(call.target, shape) {
                    gradientMap(u, n, cost: full ? 12 : 6, vector: { g, i, m in
                        let (xv, tv) = (lanes(xp.float, i, m), lanes(tp.float, i, m))
                        let main = logInput ? -g * xv : -g * vlog(xv + epsV)
                        guard full else { return main }
                        let stirling = g * vlog(tv) + g * tv / tv + -g + g * 0.5 / (twoPiV * tv) * twoPiV
                        return main + stirling.replacing(with: 0, where: tv .<= one)
                    }, scalar: { g, k in
                        let (xk, tk) = (xp[k], tp[k])
                        let main = logInput ? -g * xk : -g * T.log(xk + eps)
                        let stirling = g * T.log(tk) + g * tk / tk + -g + g * half / (twoPi * tk) * twoPi
                        return full ? main + (tk <= 1 ? 0 : stirling) : main
                    })
                }]
            } }
        }
    }

    // MARK: gaussian_nll_loss

    /// ℓ = ½ · (log v + (x − t)² / v), + ½·log 2π with `full`, v = max(var, eps) (clamped under
    /// `no_grad`: var's gradient passes where it was clamped too). Backward with d = x − t:
    /// dx = −dt = u·½ / v · 2d, dvar = u·½ / v − u·½ · (d² / v / v).
    static func simdGaussianNLLLoss(_ call: GaussianNLLCall) -> Tensor {
        call.dtype == .float32 ? gaussian(Float.self, call) : gaussian(Double.self, call)
    }

    private static func gaussian<T: FloatScalar>(_: T.Type, _ call: GaussianNLLCall) -> Tensor {
        let shape = call.shape, n = shape.reduce(1, *), full = call.full
        let x = expanded(call.input, to: shape, T.self), t = expanded(call.target, to: shape, T.self)
        let eps = T(call.eps)
        let epsV = VF(repeating: Float(call.eps))
        let v: [T] = expanded(call.variance, viewedAs: call.varianceShape, to: shape, T.self).withPointer { vp in
            lossMap(n, cost: 1, vector: { i, m in
                let vv = lanes(vp.float, i, m)
                return vv.replacing(with: epsV, where: vv .< epsV)
            }, scalar: { k in vp[k] < eps ? eps : vp[k] })
        }
        let (half, constant) = (T(0.5), T(0.5 * Double.log(2 * Double.pi)))
        let constantV = VF(repeating: Float(0.5 * Double.log(2 * Double.pi)))
        let losses: [T] = x.withPointer { xp in t.withPointer { tp in v.withPointer { vp in
            lossMap(n, cost: 8, vector: { i, m in
                let d = lanes(xp.float, i, m) - lanes(tp.float, i, m), vv = lanes(vp.float, i, m)
                let value = 0.5 * (vlog(vv) + d * d / vv)
                return full ? value + constantV : value
            }, scalar: { k in
                let d = xp[k] - tp[k], value = half * (T.log(vp[k]) + d * d / vp[k])
                return full ? value + constant : value
            })
        } } }
        let variance = call.variance
        return recordLossNode(call.node, losses, shape: shape, reduction: call.reduction) { u in
            x.withPointer { xp in t.withPointer { tp in v.withPointer { vp in
                let needsD = call.input.requiresGrad || call.target.requiresGrad
                let dd: [T] = needsD ? gradientMap(u, n, cost: 2, vector: { g, i, m in
                    let d = lanes(xp.float, i, m) - lanes(tp.float, i, m)
                    return g * 0.5 / lanes(vp.float, i, m) * (d + d)
                }, scalar: { g, k in
                    let d = xp[k] - tp[k]
                    return g * half / vp[k] * (d + d)
                }) : []
                let dvar: Tensor? = variance.requiresGrad ? {
                    let dv: [T] = gradientMap(u, n, cost: 3, vector: { g, i, m in
                        let d = lanes(xp.float, i, m) - lanes(tp.float, i, m), vv = lanes(vp.float, i, m), ga = g * 0.5
                        return ga / vv + -ga * (d * d / vv / vv)
                    }, scalar: { g, k in
                        let d = xp[k] - tp[k], ga = g * half
                        return ga / vp[k] + -ga * (d * d / vp[k] / vp[k])
                    })
                    let summed = sumToShapeFast(dv, from: shape, to: call.varianceShape)
                    return Tensor(shape: variance.shape, data: T.wrap(summed).converted(to: variance.dtype))
                }() : nil
                return [lossGradient(call.input, shape) { dd }, lossGradient(call.target, shape) { negated(dd) }, dvar]
            } } }
        }
    }

    // MARK: multilabel_soft_margin_loss

    /// ℓ = −(y · log σ(x) + (1 − y) · log σ(−x)) · w over the broadcast shape, summed over the
    /// class dim and divided by C (`DivBackward0`). Backward, with u the row's gradient / C and
    /// n = −u·w: dw = u · ℓ/w, dy = n · log σ(x) − n · log σ(−x),
    /// dx = logσ'(x, n·y) − logσ'(−x, n·(1 − y)) where logσ'(x, a) = (1 − s or s for x < 0 or not) · a,
    /// s = z / (1 + z), z = e^−|x| (ATen's `log_sigmoid_backward`).
    static func simdMultilabelSoftMarginLoss(_ call: MultilabelSoftMarginCall) -> Tensor {
        call.dtype == .float32 ? multilabelSoftMargin(Float.self, call) : multilabelSoftMargin(Double.self, call)
    }

    private static func multilabelSoftMargin<T: FloatScalar>(_: T.Type, _ call: MultilabelSoftMarginCall) -> Tensor {
        let shape = call.shape, n = shape.reduce(1, *), dim = call.classDim, classes = T(call.input.shape[dim])
        let x = expanded(call.input, to: shape, T.self), y = expanded(call.target, to: shape, T.self)
        let weighted = call.weight != nil, w = call.weight.map { expanded($0, to: shape, T.self) } ?? []
        let unweighted: [T] = x.withPointer { xp in y.withPointer { yp in
            lossMap(n, cost: 14, vector: { i, m in
                let (xv, yv) = (lanes(xp.float, i, m), lanes(yp.float, i, m))
                let (logSigmoid, logSigmoidNegative) = vlogSigmoids(xv)
                return -(yv * logSigmoid + (1 - yv) * logSigmoidNegative)
            }, scalar: { k in
                let (xk, yk) = (xp[k], yp[k])
                return -(yk * logSigmoid(xk) + (1 - yk) * logSigmoid(-xk))
            })
        } }
        let loss: [T] = !weighted ? unweighted : unweighted.withPointer { lp in w.withPointer { wp in
            lossMap(n, cost: 1, vector: { i, m in lanes(lp.float, i, m) * lanes(wp.float, i, m) }, scalar: { k in lp[k] * wp[k] })
        } }
        // Rows: the class dim (size C', stride `inner`) summed out of (outer, C', inner).
        let size = shape[dim], inner = shape[(dim + 1)...].reduce(1, *), outer = n / max(size * inner, 1)
        let rows: [T] = loss.withPointer { lp in
            makeArray(outer * inner) { out in
                SIMDParallel.forEach(outer, costPerItem: size * inner) { r in
                    for o in r {
                        let row = out + o * inner
                        row.initialize(repeating: 0, count: inner)
                        for c in 0..<size { for j in 0..<inner { row[j] += lp[(o * size + c) * inner + j] } }
                        for j in 0..<inner { row[j] /= classes }
                    }
                }
            }
        }
        var rowShape = shape
        rowShape.remove(at: dim)
        return recordLossNode(call.node, rows, shape: rowShape, reduction: call.reduction) { u in
            // The row's gradient / C spread over its elements.
            let up = u.stride == 0 ? Upstream(values: [u[0] / classes], stride: 0) : Upstream(values: makeArray(n) { out in
                for o in 0..<outer { for c in 0..<size { for j in 0..<inner { out[(o * size + c) * inner + j] = u[o * inner + j] / classes } } }
            }, stride: 1)
            return x.withPointer { xp in y.withPointer { yp in w.withPointer { wp in
                unweighted.withPointer { lp in
                    [lossGradient(call.input, shape) {
                        gradientMap(up, n, cost: 10, vector: { g, i, m in
                            let (xv, yv) = (lanes(xp.float, i, m), lanes(yp.float, i, m))
                            let gn = -(weighted ? g * lanes(wp.float, i, m) : g)
                            let z = vexp(-vabs(xv)), s = z / (1 + z), negative = xv .< VF()
                            // x < 0: (1 − s)·gn·y − s·gn·(1 − y); x ≥ 0: s·gn·y − (1 − s)·gn·(1 − y) (x = 0: s = ½ both ways).
                            let a = s.replacing(with: 1 - s, where: negative), b = (1 - s).replacing(with: s, where: negative)
                            return a * (gn * yv) + -(b * (gn * (1 - yv)))
                        }, scalar: { g, k in
                            let (xk, yk) = (xp[k], yp[k]), gn = -(weighted ? g * wp[k] : g)
                            return logSigmoidSlope(xk, gn * yk) + -logSigmoidSlope(-xk, gn * (1 - yk))
                        })
                    },
                     lossGradient(call.target, shape) {
                        gradientMap(up, n, cost: 14, vector: { g, i, m in
                            let xv = lanes(xp.float, i, m), gn = -(weighted ? g * lanes(wp.float, i, m) : g)
                            let (logSigmoid, logSigmoidNegative) = vlogSigmoids(xv)
                            return gn * logSigmoid + -(gn * logSigmoidNegative)
                        }, scalar: { g, k in
                            let xk = xp[k], gn = -(weighted ? g * wp[k] : g)
                            return gn * logSigmoid(xk) + -(gn * logSigmoid(-xk))
                        })
                    },
                     lossGradient(call.weight, shape) {
                        gradientMap(up, n, cost: 1, vector: { g, i, m in g * lanes(lp.float, i, m) }, scalar: { g, k in g * lp[k] })
                    }]
                }
            } } }
        }
    }

    /// ATen's `log_sigmoid_backward`: (1 − s) · g for x < 0, s · g otherwise, s = z / (1 + z), z = e^−|x|.
    @inline(__always)
    private static func logSigmoidSlope<T: FloatScalar>(_ x: T, _ g: T) -> T {
        let z = T.exp(-abs(x)), s = z / (1 + z)
        return (x < 0 ? 1 - s : s) * g
    }
}
