import NNCore

/// Activations: every elementwise one of `NNCore/Signatures/Activation.swift` (and its in-place
/// form) on the shared `ActivationCall`, recorded by its shared `record`, so errors, `grad_fn`
/// names, saved tensors and in-place semantics are the reference's. `prelu` and `glu` are in
/// `SIMDActivationGated.swift`.
///
/// The maths is ATen's, in the tensor's precision with the parameters rounded to it first
/// (`Scalar.to<scalar_t>()`). float32 runs 16-lane vectors (`SIMDMath.swift`: `vexp`,
/// `vexpm1`, `vlog1p`, `vtanh`, `verf`); float64 plain loops (`SIMDActivationDouble.swift`);
/// int64 (`hardtanh`, `relu6`, `threshold`) plain loops; all split across the cores. At NaN the
/// kernels take the side ATen's vectorised loop takes, as the reference does.
extension Optimized {
    static let simdActivationOps: [String: OpFunction] = {
        let elementwise = ["relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_",
                           "gelu", "silu", "mish", "softplus", "softsign", "hardtanh", "hardtanh_", "hardswish",
                           "hardsigmoid", "threshold", "threshold_", "logsigmoid", "tanhshrink", "softshrink",
                           "hardshrink", "rrelu", "rrelu_"]
        var ops: [String: OpFunction] = simdGatedActivationOps
        for op in elementwise { ops[op] = { try simdActivation(op, $0) } }
        return ops
    }()

    /// y = f(x); the node keeps what `ActivationCall.record` says (x, a copy of it, or y).
    static func simdActivation(_ op: String, _ args: Arguments) throws -> Value {
        let call = try ActivationCall(op, args)
        let f = call.function
        let data: TensorData
        switch call.input.data.converted(to: call.dtype) {
        case .float32(let a): data = .float32(activationForward(f, a))
        case .float64(let a): data = .float64(activationForward(f, a))
        case .int64(let a): data = .int64(try activationForward(f, a))
        case .bool: preconditionFailure("rejected by ActivationCall")
        }
        return .tensor(call.record(data) { g, saved, savedIsResult in
            switch (g.data, saved.data) {
            case (.float32(let gs), .float32(let s)):
                return Tensor(shape: g.shape, savedIsResult ? activationGradient(f, gs, result: s) : activationGradient(f, gs, input: s))
            case (.float64(let gs), .float64(let s)):
                return Tensor(shape: g.shape, savedIsResult ? activationGradient(f, gs, result: s) : activationGradient(f, gs, input: s))
            default: preconditionFailure("gradients are floating point, in the input's dtype")
            }
        })
    }

    // MARK: float32 forward

    /// f(x) for float32, 16 lanes at a time.
    static func activationForward(_ f: Activation, _ a: [Float]) -> [Float] {
        let n = a.count
        return a.withPointer { src in
            makeArray(n) { dst in
                switch f {
                case .hardtanh(let lo, let hi):
                    let (l, h) = (Float(lo), Float(hi))
                    vmap(n, src, dst) { vclamp($0, l, h) }
                case .leakyRelu(let slope):
                    let s = Float(slope)
                    vmap(n, src, dst) { x in (x * s).replacing(with: x, where: x .> 0) }
                case .elu, .celu:
                    let c = f.eluCoefficients(Float.self, backward: false)
                    vmap(n, src, dst, cost: 20) { x in
                        (vexpm1(x * c.input) * c.negative).replacing(with: x * c.positive, where: .!(x .< 0))
                    }
                case .gelu(tanh: false):
                    let k = Float(GeluConstants.sqrtHalf)
                    vmap(n, src, dst, cost: 24) { x in x * 0.5 * (1 + verf(x * k)) }
                case .gelu(tanh: true):
                    let (b, k) = (Float(GeluConstants.beta), Float(GeluConstants.kappa))
                    vmap(n, src, dst, cost: 24) { x in 0.5 * x * (1 + vtanh(b * (x + k * (x * x * x)))) }
                case .silu: vmap(n, src, dst, cost: 16) { x in x / (1 + vexp(-x)) }
                case .mish: vmap(n, src, dst, cost: 40) { x in x * vtanh(vlog1p(vexp(x))) }
                case .softplus(let beta, let threshold):
                    let (b, t) = (Float(beta), Float(threshold))
                    vmap(n, src, dst, cost: 30) { x in
                        let bx = x * b
                        return (vlog1p(vexp(bx)) / b).replacing(with: x, where: bx .> t)
                    }
                case .softsign: vmap(n, src, dst) { x in x / (vabs(x) + 1) }
                case .hardswish: vmap(n, src, dst) { x in x * vclamp(x + 3, 0, 6) / 6 }
                case .hardsigmoid: vmap(n, src, dst) { x in vclamp(x + 3, 0, 6) / 6 }
                case .threshold(let threshold, let value):
                    let (t, v) = (Float(threshold), Float(value))
                    vmap(n, src, dst) { x in x.replacing(with: v, where: x .<= t) }
                case .logSigmoid:
                    // min(x, 0) keeps NaN
                    vmap(n, src, dst, cost: 30) { x in x.replacing(with: 0, where: x .> 0) - vlog1p(vexp(-vabs(x))) }
                case .tanhshrink: vmap(n, src, dst, cost: 20) { x in x - vtanh(x) }
                case .softshrink(let lambd):
                    let l = Float(lambd)
                    vmap(n, src, dst) { x in
                        VF().replacing(with: x - l, where: x .> l).replacing(with: x + l, where: x .< -l)
                            .replacing(with: x, where: x .!= x)
                    }
                case .hardshrink(let lambd):
                    let l = Float(lambd)
                    vmap(n, src, dst) { x in x.replacing(with: 0, where: (x .>= -l) .& (x .<= l)) }
                }
            }
        }
    }

    // MARK: int64

    /// f(x) on int64 (`hardtanh`, `threshold`), the parameters truncated to integers.
    static func activationForward(_ f: Activation, _ a: [Int64]) throws -> [Int64] {
        let op: (Int64) -> Int64
        switch f {
        case .hardtanh(let lo, let hi):
            let (l, h) = (try ActivationCall.int64(lo), try ActivationCall.int64(hi))
            op = { x in let m = x < l ? l : x; return h < m ? h : m }
        case .threshold(let threshold, let value):
            let (t, v) = (try ActivationCall.int64(threshold), try ActivationCall.int64(value))
            op = { x in x <= t ? v : x }
        default: preconditionFailure("rejected by ActivationCall")
        }
        return a.withPointer { src in
            makeArray(a.count) { dst in
                SIMDParallel.forEach(a.count, costPerItem: 1) { r in for i in r { dst[i] = op(src[i]) } }
            }
        }
    }
}

/// `std::min(std::max(x, lo), hi)` lane-wise: NaN passes through, and hi wins when lo > hi.
@inline(__always) private func vclamp(_ x: VF, _ lo: Float, _ hi: Float) -> VF {
    let m = x.replacing(with: lo, where: x .< lo)
    return m.replacing(with: hi, where: m .> hi)
}

/// √½, and the constants of gelu: √(2/π) for the tanh form, 1/√(2π) for the normal density,
/// each computed in double as ATen's `M_SQRT2 * M_2_SQRTPI * 0.5` and `M_2_SQRTPI * M_SQRT1_2 * 0.5`.
enum GeluConstants {
    static let sqrtHalf = 0.70710678118654752440
    static let beta = 1.41421356237309504880 * 1.12837916709551257390 * 0.5
    static let pdfScale = 1.12837916709551257390 * 0.70710678118654752440 * 0.5
    static let kappa = 0.044715
}

extension Activation {
    /// ATen's elu coefficients in T: (α·λ, λ, s). celu is elu(α, 1, 1/α), but its backward
    /// takes s = 1 / Float(α) (derivatives.yaml: `1.0/alpha.toFloat()`).
    func eluCoefficients<T: FloatScalar>(_: T.Type, backward: Bool) -> (negative: T, positive: T, input: T) {
        switch self {
        case .elu(let alpha, let scale, let inputScale): return (T(alpha) * T(scale), T(scale), T(inputScale))
        case .celu(let alpha): return (T(alpha), 1, T(backward ? 1 / Double(Float(alpha)) : 1 / alpha))
        default: preconditionFailure("not an elu")
        }
    }
}
