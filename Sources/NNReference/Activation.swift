import NNCore
import RealModule

/// Activation kernels. One helper runs every elementwise activation (and its in-place form);
/// the per-function maths is in `Activation.apply` / `gradient` below, written as ATen's CPU
/// loops compute it (same operations in the same order, in the tensor's own precision), so
/// results agree to a few ULP. `prelu` and `glu` follow.
///
/// At NaN, ATen's vectorised loop and its scalar loop (which only runs on the last few elements
/// of a tensor, or on tensors of fewer than 16–32 elements) disagree for some backwards: hardtanh
/// and the shrinks give 0 vectorised and g scalar, elu and hardswish NaN vectorised and a finite
/// value scalar. These kernels follow the vectorised loop, which is what almost every element of
/// a real tensor gets.
extension Reference {
    static let activationOps: [String: OpFunction] = {
        let elementwise = ["relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_",
                           "gelu", "silu", "mish", "softplus", "softsign", "hardtanh", "hardtanh_", "hardswish",
                           "hardsigmoid", "threshold", "threshold_", "logsigmoid", "tanhshrink", "softshrink",
                           "hardshrink", "rrelu", "rrelu_"]
        var ops: [String: OpFunction] = ["prelu": prelu, "glu": glu]
        for op in elementwise { ops[op] = { try activation(op, $0) } }
        return ops
    }()

    // MARK: Elementwise

    /// y = f(x), recorded by the shared `ActivationCall.record` (which input or result the node keeps).
    static func activation(_ op: String, _ args: Arguments) throws -> Value {
        let call = try ActivationCall(op, args)
        let f = call.function
        let data = try activationForward(f, call.input.data.converted(to: call.dtype))
        return .tensor(call.record(data) { g, saved, savedIsResult in
            try activationPullback(f, g, saved: saved, savedIsResult: savedIsResult)
        })
    }

    static func activationForward(_ f: Activation, _ x: TensorData) throws -> TensorData {
        switch x {
        case .float32(let a): return .float32(a.map { f.apply($0) })
        case .float64(let a): return .float64(a.map { f.apply($0) })
        case .int64(let a): return .int64(try f.applyToIntegers(a))
        case .bool: preconditionFailure("rejected by ActivationCall")
        }
    }

    /// dx = f'(x) · g, from the saved input or (in-place `leaky_relu_`/`elu_`) the saved result.
    static func activationPullback(_ f: Activation, _ g: Tensor, saved: Tensor, savedIsResult: Bool) throws -> Tensor {
        func dx<T: FloatScalar>(_ gs: [T], _ s: [T]) -> Tensor {
            Tensor(shape: g.shape, zip(gs, s).map { savedIsResult ? f.gradient($0, result: $1) : f.gradient($0, input: $1) })
        }
        switch (g.data, saved.data) {
        case (.float32(let gs), .float32(let s)): return dx(gs, s)
        case (.float64(let gs), .float64(let s)): return dx(gs, s)
        default: preconditionFailure("gradients are floating point, in the input's dtype")
        }
    }

    // MARK: prelu

    /// y = x > 0 ? x : w·x, w broadcast over dim 1. Backward (ATen's `_prelu_kernel_backward`):
    /// dx = x > 0 ? g : w·g, dw = Σ (x > 0 ? 0 : x·g) over everything but the channel.
    static func prelu(_ args: Arguments) throws -> Value {
        let call = try PreluCall(args)
        let x = call.input, w = call.weight
        let iw = broadcastIndices(from: call.weightShape, to: x.shape)
        func forward<T: FloatScalar>(_ xs: [T], _ ws: [T]) -> [T] {
            xs.indices.map { k in xs[k] > 0 ? xs[k] : ws[iw[k]] * xs[k] }
        }
        let data: TensorData
        switch (x.data, w.data) {
        case (.float32(let xs), .float32(let ws)): data = .float32(forward(xs, ws))
        case (.float64(let xs), .float64(let ws)): data = .float64(forward(xs, ws))
        default: preconditionFailure("rejected by PreluCall")
        }
        let savedX = SavedTensor(x), savedW = SavedTensor(w)
        let y = Tensor(shape: x.shape, data: data)
        return .tensor(y.recording("PreluKernelBackward0", inputs: [x, w], saving: [savedX, savedW]) { g in
            let (x, w) = (try savedX.unpack(), try savedW.unpack())
            func grads<T: FloatScalar>(_: T.Type) -> [Tensor?] {
                let (xs, ws, gs) = (x.values(T.self), w.values(T.self), g.values(T.self))
                var dx = [T](), dwFull = [T]()
                for k in xs.indices {
                    dx.append(xs[k] > 0 ? gs[k] : ws[iw[k]] * gs[k])
                    dwFull.append(xs[k] > 0 ? 0 : xs[k] * gs[k])
                }
                return [Tensor(shape: x.shape, dx), Tensor(shape: w.shape, sumToShape(dwFull, from: x.shape, to: call.weightShape))]
            }
            return g.dtype == .float32 ? grads(Float.self) : grads(Double.self)
        })
    }

    // MARK: glu

    /// With a, b the first and second halves of `dim`: y = a·σ(b), σ(b) = 1 / (1 + e^(−b)).
    /// Backward (ATen's `glu_backward`): da = σ(b)·g, db = (1 − σ(b))·σ(b)·a·g.
    static func glu(_ args: Arguments) throws -> Value {
        let call = try GluCall(args)
        let x = call.input
        let (outer, size, inner) = call.slices
        let half = size / 2
        var outShape = x.shape
        outShape[call.dim] = half
        /// Calls `body(a, b, y)` with the flat indices of each pair and of its output.
        func forEachPair(_ body: (Int, Int, Int) -> Void) {
            for o in 0..<outer {
                for j in 0..<half {
                    for i in 0..<inner {
                        body((o * size + j) * inner + i, (o * size + j + half) * inner + i, (o * half + j) * inner + i)
                    }
                }
            }
        }
        func forward<T: FloatScalar>(_ xs: [T]) -> [T] {
            var y = [T](repeating: 0, count: outShape.reduce(1, *))
            forEachPair { a, b, k in y[k] = xs[a] * (1 / (1 + T.exp(-xs[b]))) }
            return y
        }
        let data: TensorData = x.dtype == .float32 ? .float32(forward(x.values(Float.self))) : .float64(forward(x.values(Double.self)))
        let saved = SavedTensor(x)
        let y = Tensor(shape: outShape, data: data)
        return .tensor(y.recording("GluBackward0", inputs: [x], saving: [saved]) { g in
            let x = try saved.unpack()
            func dx<T: FloatScalar>(_ xs: [T], _ gs: [T]) -> Tensor {
                var d = [T](repeating: 0, count: xs.count)
                forEachPair { a, b, k in
                    let s = 1 / (1 + T.exp(-xs[b]))
                    d[a] = s * gs[k]
                    d[b] = (1 - s) * s * xs[a] * gs[k]
                }
                return Tensor(shape: x.shape, d)
            }
            return [g.dtype == .float32 ? dx(x.values(Float.self), g.values(Float.self)) : dx(x.values(Double.self), g.values(Double.self))]
        })
    }
}

/// √½, and the constants of gelu: √(2/π) for the tanh form, 1/√(2π) for the normal density,
/// each computed in double as ATen's `M_SQRT2 * M_2_SQRTPI * 0.5` and `M_2_SQRTPI * M_SQRT1_2 * 0.5`.
private let sqrtHalf = 0.70710678118654752440
private let geluBeta = 1.41421356237309504880 * 1.12837916709551257390 * 0.5
private let geluPdfScale = 1.12837916709551257390 * 0.70710678118654752440 * 0.5
private let geluKappa = 0.044715

extension Activation {
    /// f(x), parameters rounded to T first (ATen's `Scalar.to<scalar_t>()`).
    func apply<T: FloatScalar>(_ x: T) -> T {
        switch self {
        case .hardtanh(let lo, let hi): return clamp(x, T(lo), T(hi))
        case .leakyRelu(let slope): return x > 0 ? x : x * T(slope)
        case .elu, .celu:
            let c = eluCoefficients(T.self, backward: false)
            return x < 0 ? T.expMinusOne(x * c.input) * c.negative : x * c.positive
        case .gelu(tanh: false): return x * 0.5 * (1 + T.erf(x * T(sqrtHalf)))
        case .gelu(tanh: true): return 0.5 * x * (1 + T.tanh(T(geluBeta) * (x + T(geluKappa) * (x * x * x))))
        case .silu: return x / (1 + T.exp(-x))
        case .mish: return x * T.tanh(T.log(onePlus: T.exp(x)))
        case .softplus(let beta, let threshold):
            return x * T(beta) > T(threshold) ? x : T.log(onePlus: T.exp(x * T(beta))) / T(beta)
        case .softsign: return x / (abs(x) + 1)
        case .hardswish: return x * clamp(x + 3, 0, 6) / 6
        case .hardsigmoid: return clamp(x + 3, 0, 6) / 6
        case .threshold(let threshold, let value): return x <= T(threshold) ? T(value) : x
        case .logSigmoid: return min(x, 0) - T.log(onePlus: T.exp(-abs(x)))  // min passes NaN through
        case .tanhshrink: return x - T.tanh(x)
        case .softshrink(let lambd):
            let l = T(lambd)
            return x > l ? x - l : x < -l ? x + l : x.isNaN ? x : 0
        case .hardshrink(let lambd): return x >= -T(lambd) && x <= T(lambd) ? 0 : x
        }
    }

    /// f(x) on int64 (hardtanh and threshold only), the parameters truncated to integers.
    func applyToIntegers(_ xs: [Int64]) throws -> [Int64] {
        switch self {
        case .hardtanh(let lo, let hi):
            let (l, h) = (try ActivationCall.int64(lo), try ActivationCall.int64(hi))
            return xs.map { clamp($0, l, h) }
        case .threshold(let threshold, let value):
            let (t, v) = (try ActivationCall.int64(threshold), try ActivationCall.int64(value))
            return xs.map { $0 <= t ? v : $0 }
        default: preconditionFailure("rejected by ActivationCall")
        }
    }

    /// f'(x) · g from the input x. Piecewise functions take ATen's side at the joins: hardtanh,
    /// threshold and the shrinks have derivative 0 at their corners, leaky_relu and elu the
    /// negative side's at 0, hardswish and hardsigmoid their outer pieces' at ±3.
    func gradient<T: FloatScalar>(_ g: T, input x: T) -> T {
        switch self {
        case .hardtanh(let lo, let hi): return x > T(lo) && x < T(hi) ? g : 0
        case .leakyRelu(let slope): return x > 0 ? g : g * T(slope)
        case .elu, .celu:
            let c = eluCoefficients(T.self, backward: true)
            return x > 0 ? g * c.positive : g * c.input * c.negative * T.exp(x * c.input)
        case .gelu(tanh: false):
            let cdf = 0.5 * (1 + T.erf(x * T(sqrtHalf)))
            let pdf = T(geluPdfScale) * T.exp(x * x * -0.5)
            return g * (cdf + x * pdf)
        case .gelu(tanh: true):
            let xSquared = x * x
            let t = T.tanh(T(geluBeta) * (x + T(geluKappa) * (xSquared * x)))
            let innerDerivative = T(geluBeta) * (1 + 3 * T(geluKappa) * xSquared)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * innerDerivative)
        case .silu:
            let s = 1 / (1 + T.exp(-x))
            return g * s * (1 + x * (1 - s))
        case .mish:
            let s = 1 / (1 + T.exp(-x)), t = T.tanh(T.log(onePlus: T.exp(x)))
            return g * (t + x * s * (1 - t * t))
        case .softplus(let beta, let threshold):
            let z = T.exp(x * T(beta))
            return x * T(beta) > T(threshold) ? g : g * z / (z + 1)
        case .softsign:
            // F's x / (|x| + 1) through autograd: DivBackward0 to both operands, then AbsBackward0.
            let b = abs(x) + 1
            let sign: T = x > 0 ? 1 : x < 0 ? -1 : 0
            return g / b + -g * ((x / b) / b) * sign
        case .hardswish: return x <= -3 ? 0 : x >= 3 ? g : g * (x / 3 + 0.5)
        case .hardsigmoid: return x > -3 && x < 3 ? g * T(Float(1) / 6) : 0  // ATen's float constant 1.0f/6
        case .threshold(let threshold, _): return x <= T(threshold) ? 0 : g
        case .logSigmoid:
            let b = T.exp(-abs(x))  // the buffer the forward keeps
            return x < 0 ? (1 - b / (1 + b)) * g : b / (1 + b) * g
        case .tanhshrink:
            // F's x − tanh(x): SubBackward0 passes g and −g, TanhBackward0 multiplies by 1 − tanh².
            let t = T.tanh(x)
            return g + -g * (1 - t * t)
        case .softshrink(let lambd), .hardshrink(let lambd): return x < -T(lambd) || x > T(lambd) ? g : 0
        }
    }

    /// f'(x) · g from the result y of an in-place `leaky_relu_` (y > 0 exactly when x > 0) or
    /// `elu_` (below 0, f' = s·(y + α·λ)).
    func gradient<T: FloatScalar>(_ g: T, result y: T) -> T {
        switch self {
        case .leakyRelu(let slope): return y > 0 ? g : g * T(slope)
        case .elu, .celu:
            let c = eluCoefficients(T.self, backward: true)
            return y > 0 ? g * c.positive : g * c.input * (y + c.negative)
        default: preconditionFailure("only leaky_relu_ and elu_ save their result")
        }
    }

    /// ATen's elu coefficients in T: (α·λ, λ, s). celu is elu(α, 1, 1/α), but its backward
    /// takes s = 1 / Float(α) (derivatives.yaml: `1.0/alpha.toFloat()`).
    private func eluCoefficients<T: FloatScalar>(_: T.Type, backward: Bool) -> (negative: T, positive: T, input: T) {
        switch self {
        case .elu(let alpha, let scale, let inputScale): return (T(alpha) * T(scale), T(scale), T(inputScale))
        case .celu(let alpha): return (T(alpha), 1, T(backward ? 1 / Double(Float(alpha)) : 1 / alpha))
        default: preconditionFailure("not an elu")
        }
    }
}

/// `std::min(std::max(x, lo), hi)`: NaN passes through, and hi wins when lo > hi.
private func clamp<T: Comparable>(_ x: T, _ lo: T, _ hi: T) -> T {
    let m = x < lo ? lo : x
    return hi < m ? hi : m
}
