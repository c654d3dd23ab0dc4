import NNCore
import RealModule

/// The float64 elementwise activations and their backwards: plain loops over each function's
/// own closure (the switch is outside the loop, so each loop inlines one formula), split across
/// the cores. The formulas and their order of operations are those of the float32 kernels in
/// `SIMDActivation.swift` / `SIMDActivationGradient.swift`, with libm's `expm1`, `log1p`,
/// `erf`, `tanh` in double.
extension Optimized {
    static func activationForward(_ f: Activation, _ a: [Double]) -> [Double] {
        a.withPointer { src in
            makeArray(a.count) { dst in
                let n = a.count
                switch f {
                case .hardtanh(let lo, let hi): dmap(n, src, dst) { clamp($0, lo, hi) }
                case .leakyRelu(let s): dmap(n, src, dst) { x in x > 0 ? x : x * s }
                case .elu, .celu:
                    let c = f.eluCoefficients(Double.self, backward: false)
                    dmap(n, src, dst, cost: 20) { x in x < 0 ? Double.expMinusOne(x * c.input) * c.negative : x * c.positive }
                case .gelu(tanh: false):
                    let k = GeluConstants.sqrtHalf
                    dmap(n, src, dst, cost: 30) { x in x * 0.5 * (1 + Double.erf(x * k)) }
                case .gelu(tanh: true):
                    let (b, k) = (GeluConstants.beta, GeluConstants.kappa)
                    dmap(n, src, dst, cost: 30) { x in 0.5 * x * (1 + Double.tanh(b * (x + k * (x * x * x)))) }
                case .silu: dmap(n, src, dst, cost: 20) { x in x / (1 + Double.exp(-x)) }
                case .mish: dmap(n, src, dst, cost: 60) { x in x * Double.tanh(Double.log(onePlus: Double.exp(x))) }
                case .softplus(let beta, let threshold):
                    dmap(n, src, dst, cost: 40) { x in x * beta > threshold ? x : Double.log(onePlus: Double.exp(x * beta)) / beta }
                case .softsign: dmap(n, src, dst) { x in x / (abs(x) + 1) }
                case .hardswish: dmap(n, src, dst) { x in x * clamp(x + 3, 0, 6) / 6 }
                case .hardsigmoid: dmap(n, src, dst) { x in clamp(x + 3, 0, 6) / 6 }
                case .threshold(let t, let v): dmap(n, src, dst) { x in x <= t ? v : x }
                case .logSigmoid: dmap(n, src, dst, cost: 40) { x in min(x, 0) - Double.log(onePlus: Double.exp(-abs(x))) }
                case .tanhshrink: dmap(n, src, dst, cost: 20) { x in x - Double.tanh(x) }
                case .softshrink(let l): dmap(n, src, dst) { x in x > l ? x - l : x < -l ? x + l : x.isNaN ? x : 0 }
                case .hardshrink(let l): dmap(n, src, dst) { x in x >= -l && x <= l ? 0 : x }
                }
            }
        }
    }

    static func activationGradient(_ f: Activation, _ gs: [Double], input xs: [Double]) -> [Double] {
        gs.withPointer { gp in
            xs.withPointer { xp in
                makeArray(gs.count) { dst in
                    let n = gs.count
                    switch f {
                    case .hardtanh(let lo, let hi): dmap2(n, gp, xp, dst) { g, x in x > lo && x < hi ? g : 0 }
                    case .leakyRelu(let s): dmap2(n, gp, xp, dst) { g, x in x > 0 ? g : g * s }
                    case .elu, .celu:
                        let c = f.eluCoefficients(Double.self, backward: true)
                        dmap2(n, gp, xp, dst, cost: 20) { g, x in x > 0 ? g * c.positive : g * c.input * c.negative * Double.exp(x * c.input) }
                    case .gelu(tanh: false):
                        let (k, scale) = (GeluConstants.sqrtHalf, GeluConstants.pdfScale)
                        dmap2(n, gp, xp, dst, cost: 50) { g, x in
                            let cdf = 0.5 * (1 + Double.erf(x * k))
                            let pdf = scale * Double.exp(x * x * -0.5)
                            return g * (cdf + x * pdf)
                        }
                    case .gelu(tanh: true):
                        let (b, k) = (GeluConstants.beta, GeluConstants.kappa)
                        dmap2(n, gp, xp, dst, cost: 30) { g, x in
                            let xSquared = x * x
                            let t = Double.tanh(b * (x + k * (xSquared * x)))
                            let innerDerivative = b * (1 + 3 * k * xSquared)
                            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * innerDerivative)
                        }
                    case .silu:
                        dmap2(n, gp, xp, dst, cost: 20) { g, x in
                            let s = 1 / (1 + Double.exp(-x))
                            return g * s * (1 + x * (1 - s))
                        }
                    case .mish:
                        dmap2(n, gp, xp, dst, cost: 80) { g, x in
                            let s = 1 / (1 + Double.exp(-x)), t = Double.tanh(Double.log(onePlus: Double.exp(x)))
                            return g * (t + x * s * (1 - t * t))
                        }
                    case .softplus(let beta, let threshold):
                        dmap2(n, gp, xp, dst, cost: 20) { g, x in
                            let z = Double.exp(x * beta)
                            return x * beta > threshold ? g : g * z / (z + 1)
                        }
                    case .softsign:
                        dmap2(n, gp, xp, dst) { g, x in
                            let d = abs(x) + 1
                            let sign: Double = x > 0 ? 1 : x < 0 ? -1 : 0
                            return g / d + -g * ((x / d) / d) * sign
                        }
                    case .hardswish: dmap2(n, gp, xp, dst) { g, x in x <= -3 ? 0 : x >= 3 ? g : g * (x / 3 + 0.5) }
                    case .hardsigmoid:
                        let sixth = Double(Float(1) / 6)  // ATen's float constant 1.0f/6
                        dmap2(n, gp, xp, dst) { g, x in x > -3 && x < 3 ? g * sixth : 0 }
                    case .threshold(let t, _): dmap2(n, gp, xp, dst) { g, x in x <= t ? 0 : g }
                    case .logSigmoid:
                        dmap2(n, gp, xp, dst, cost: 20) { g, x in
                            let b = Double.exp(-abs(x))
                            return x < 0 ? (1 - b / (1 + b)) * g : b / (1 + b) * g
                        }
                    case .tanhshrink:
                        dmap2(n, gp, xp, dst, cost: 20) { g, x in
                            let t = Double.tanh(x)
                            return g + -g * (1 - t * t)
                        }
                    case .softshrink(let l), .hardshrink(let l): dmap2(n, gp, xp, dst) { g, x in x < -l || x > l ? g : 0 }
                    }
                }
            }
        }
    }

    static func activationGradient(_ f: Activation, _ gs: [Double], result ys: [Double]) -> [Double] {
        gs.withPointer { gp in
            ys.withPointer { yp in
                makeArray(gs.count) { dst in
                    switch f {
                    case .leakyRelu(let s): dmap2(gs.count, gp, yp, dst) { g, y in y > 0 ? g : g * s }
                    case .elu, .celu:
                        let c = f.eluCoefficients(Double.self, backward: true)
                        dmap2(gs.count, gp, yp, dst) { g, y in y > 0 ? g * c.positive : g * c.input * (y + c.negative) }
                    default: preconditionFailure("only leaky_relu_ and elu_ save their result")
                    }
                }
            }
        }
    }
}

/// dst[i] = f(src[i]) for i < n, split across cores.
@inline(__always)
private func dmap(_ n: Int, _ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, cost: Int = 1, _ f: (Double) -> Double) {
    SIMDParallel.forEach(n, costPerItem: cost) { r in for i in r { dst[i] = f(src[i]) } }
}

/// dst[i] = f(a[i], b[i]) for i < n, split across cores.
@inline(__always)
private func dmap2(_ n: Int, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>,
           cost: Int = 1, _ f: (Double, Double) -> Double) {
    SIMDParallel.forEach(n, costPerItem: cost) { r in for i in r { dst[i] = f(a[i], b[i]) } }
}

/// `std::min(std::max(x, lo), hi)`: NaN passes through, and hi wins when lo > hi.
@inline(__always) private func clamp(_ x: Double, _ lo: Double, _ hi: Double) -> Double {
    let m = x < lo ? lo : x
    return hi < m ? hi : m
}
