import NNCore

/// The float32 backwards of the elementwise activations, 16 lanes at a time: dx = f'(x)·g from
/// the saved input, or (in-place `leaky_relu_`, `elu_`, ...) from the saved result.
///
/// The formulas are the ones PyTorch's backward kernels evaluate, in the same order; at the
/// joins they take ATen's side: hardtanh, threshold and the shrinks have derivative 0 at their
/// corners, leaky_relu and elu the negative side's at 0, hardswish and hardsigmoid their outer
/// pieces' at ±3. `softsign` and `tanhshrink` are F's tensor arithmetic differentiated by autograd
/// (`DivBackward0` to both operands then `AbsBackward0`; `SubBackward0` then `TanhBackward0`).
extension Optimized {
    static func activationGradient(_ f: Activation, _ gs: [Float], input xs: [Float]) -> [Float] {
        let n = gs.count
        return gs.withPointer { gp in
            xs.withPointer { xp in
                makeArray(n) { dst in
                    switch f {
                    case .hardtanh(let lo, let hi):
                        let (l, h) = (Float(lo), Float(hi))
                        vmap2(n, gp, xp, dst) { g, x in VF().replacing(with: g, where: (x .> l) .& (x .< h)) }
                    case .leakyRelu(let slope):
                        let s = Float(slope)
                        vmap2(n, gp, xp, dst) { g, x in (g * s).replacing(with: g, where: x .> 0) }
                    case .elu, .celu:
                        let c = f.eluCoefficients(Float.self, backward: true)
                        vmap2(n, gp, xp, dst, cost: 16) { g, x in
                            (g * c.input * c.negative * vexp(x * c.input)).replacing(with: g * c.positive, where: x .> 0)
                        }
                    case .gelu(tanh: false):
                        let (k, scale) = (Float(GeluConstants.sqrtHalf), Float(GeluConstants.pdfScale))
                        vmap2(n, gp, xp, dst, cost: 40) { g, x in
                            let cdf = 0.5 * (1 + verf(x * k))
                            let pdf = scale * vexp(x * x * -0.5)
                            return g * (cdf + x * pdf)
                        }
                    case .gelu(tanh: true):
                        let (b, k) = (Float(GeluConstants.beta), Float(GeluConstants.kappa))
                        vmap2(n, gp, xp, dst, cost: 24) { g, x in
                            let xSquared = x * x
                            let t = vtanh(b * (x + k * (xSquared * x)))
                            let innerDerivative = b * (1 + 3 * k * xSquared)
                            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * innerDerivative)
                        }
                    case .silu:
                        vmap2(n, gp, xp, dst, cost: 16) { g, x in
                            let s = 1 / (1 + vexp(-x))
                            return g * s * (1 + x * (1 - s))
                        }
                    case .mish:
                        vmap2(n, gp, xp, dst, cost: 60) { g, x in
                            let s = 1 / (1 + vexp(-x)), t = vtanh(vlog1p(vexp(x)))
                            return g * (t + x * s * (1 - t * t))
                        }
                    case .softplus(let beta, let threshold):
                        let (b, th) = (Float(beta), Float(threshold))
                        vmap2(n, gp, xp, dst, cost: 16) { g, x in
                            let bx = x * b, z = vexp(bx)
                            return (g * z / (z + 1)).replacing(with: g, where: bx .> th)
                        }
                    case .softsign:
                        vmap2(n, gp, xp, dst) { g, x in
                            let d = vabs(x) + 1
                            let sign = VF().replacing(with: 1, where: x .> 0).replacing(with: -1, where: x .< 0)
                            return g / d + -g * ((x / d) / d) * sign
                        }
                    case .hardswish:
                        vmap2(n, gp, xp, dst) { g, x in
                            (g * (x / 3 + 0.5)).replacing(with: g, where: x .>= 3).replacing(with: 0, where: x .<= -3)
                        }
                    case .hardsigmoid:
                        let sixth = Float(1) / 6  // ATen's float constant 1.0f/6
                        vmap2(n, gp, xp, dst) { g, x in VF().replacing(with: g * sixth, where: (x .> -3) .& (x .< 3)) }
                    case .threshold(let threshold, _):
                        let t = Float(threshold)
                        vmap2(n, gp, xp, dst) { g, x in g.replacing(with: 0, where: x .<= t) }
                    case .logSigmoid:
                        vmap2(n, gp, xp, dst, cost: 16) { g, x in
                            let b = vexp(-vabs(x))  // the buffer the forward keeps
                            let q = b / (1 + b)
                            return (q * g).replacing(with: (1 - q) * g, where: x .< 0)
                        }
                    case .tanhshrink:
                        vmap2(n, gp, xp, dst, cost: 20) { g, x in
                            let t = vtanh(x)
                            return g + -g * (1 - t * t)
                        }
                    case .softshrink(let lambd), .hardshrink(let lambd):
                        let l = Float(lambd)
                        vmap2(n, gp, xp, dst) { g, x in VF().replacing(with: g, where: (x .< -l) .| (x .> l)) }
                    }
                }
            }
        }
    }

    /// dx from the result y of an in-place `leaky_relu_` / `rrelu_` (y > 0 exactly when x > 0) or
    /// `elu_` / `selu_` / `celu_` (below 0, f' = s·(y + α·λ)).
    static func activationGradient(_ f: Activation, _ gs: [Float], result ys: [Float]) -> [Float] {
        let n = gs.count
        return gs.withPointer { gp in
            ys.withPointer { yp in
                makeArray(n) { dst in
                    switch f {
                    case .leakyRelu(let slope):
                        let s = Float(slope)
                        vmap2(n, gp, yp, dst) { g, y in (g * s).replacing(with: g, where: y .> 0) }
                    case .elu, .celu:
                        let c = f.eluCoefficients(Float.self, backward: true)
                        vmap2(n, gp, yp, dst) { g, y in (g * c.input * (y + c.negative)).replacing(with: g * c.positive, where: y .> 0) }
                    default: preconditionFailure("only leaky_relu_ and elu_ save their result")
                    }
                }
            }
        }
    }
}
