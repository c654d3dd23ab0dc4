import NNCore
import RealModule

/// Pointwise kernels. One helper runs every unary op (and its in-place form), one every
/// binary op; the per-op maths is in `UnaryFunction.apply`/`gradient` and
/// `BinaryFunction.apply`/`gradients` below.
extension Reference {
    static let elementwiseOps: [String: OpFunction] = [
        "relu": { args in try unary(.relu, args, inplace: try args.bool("inplace", default: false)) },
        "relu_": { try unary(.relu, $0, inplace: true) },
        "sigmoid": { try unary(.sigmoid, $0, inplace: false) },
        "sigmoid_": { try unary(.sigmoid, $0, inplace: true) },
        "tanh": { try unary(.tanh, $0, inplace: false) },
        "tanh_": { try unary(.tanh, $0, inplace: true) },
        "exp": { try unary(.exp, $0, inplace: false) },
        "exp_": { try unary(.exp, $0, inplace: true) },
        "neg": { try unary(.neg, $0, inplace: false) },
        "neg_": { try unary(.neg, $0, inplace: true) },
        "add": { try binary(.add, $0, inplace: false) },
        "add_": { try binary(.add, $0, inplace: true) },
        "sub": { try binary(.sub, $0, inplace: false) },
        "sub_": { try binary(.sub, $0, inplace: true) },
        "mul": { try binary(.mul, $0, inplace: false) },
        "mul_": { try binary(.mul, $0, inplace: true) },
        "div": { try binary(.div, $0, inplace: false) },
        "div_": { try binary(.div, $0, inplace: true) },
    ]

    // MARK: Unary

    /// y = f(x). In place, x is overwritten and its history rebased onto f's node, which then
    /// saves the new x (PyTorch saves the result after the write).
    static func unary(_ f: UnaryFunction, _ args: Arguments, inplace: Bool) throws -> Value {
        let call = try UnaryPointwiseCall(f, args, inplace: inplace)
        let data = unaryForward(f, call.input.data.converted(to: call.dtype))
        return .tensor(call.record(data) { g, y in try unaryPullback(f, g, output: y) })
    }

    /// Out-of-place `neg`, for ops built on it (`softmin`).
    static func negate(_ x: Tensor) throws -> Tensor {
        try unary(.neg, Arguments(op: "neg", ["input": .tensor(x)]), inplace: false).tensor!
    }

    static func unaryForward(_ f: UnaryFunction, _ x: TensorData) -> TensorData {
        switch x {
        case .float32(let a): return .float32(a.map { f.apply($0) })
        case .float64(let a): return .float64(a.map { f.apply($0) })
        case .int64(let a): return .int64(a.map { f == .neg ? 0 &- $0 : max($0, 0) })  // neg or relu
        case .bool: preconditionFailure("rejected by UnaryPointwiseCall")
        }
    }

    /// dx = f'(x) · g, written in terms of the saved output y where f needs it.
    static func unaryPullback(_ f: UnaryFunction, _ g: Tensor, output y: Tensor?) throws -> Tensor {
        switch g.dtype {
        case .float32: return unaryGradient(Float.self, f, g, output: y)
        case .float64: return unaryGradient(Double.self, f, g, output: y)
        default: preconditionFailure("gradients are floating point")
        }
    }

    private static func unaryGradient<T: FloatScalar>(_: T.Type, _ f: UnaryFunction, _ g: Tensor, output y: Tensor?) -> Tensor {
        let gs = g.values(T.self)
        let ys = y?.values(T.self) ?? [T](repeating: 0, count: gs.count)  // `neg` saves nothing
        return Tensor(shape: g.shape, zip(gs, ys).map { f.gradient($0, $1) })
    }

    // MARK: Binary

    /// z = x ∘ y over the broadcast shape, computed in the common dtype (and cast back to x's
    /// dtype in place). Saved as PyTorch saves them: `mul` keeps y for dx and x for dy, `div`
    /// keeps y for both and x for dy; in place, x is the value before the write.
    static func binary(_ f: BinaryFunction, _ args: Arguments, inplace: Bool) throws -> Value {
        let call = try BinaryPointwiseCall(f, args, inplace: inplace)
        let x = call.input, y = call.other.tensor
        let ix = broadcastIndices(from: x.shape, to: call.shape)
        let iy = broadcastIndices(from: y.shape, to: call.shape)
        let z = binaryForward(call, x.data.converted(to: call.dtype), y.data.converted(to: call.dtype), ix, iy)

        let needs = (x: GradMode.isEnabled && x.requiresGrad, y: GradMode.isEnabled && y.requiresGrad)
        let keepsY = (f == .mul && needs.x) || (f == .div && (needs.x || needs.y))
        let keepsX = (f == .mul || f == .div) && needs.y
        let savedY = keepsY ? SavedTensor(y) : nil
        var saving = savedY.map { [$0] } ?? []
        let pullback = { (g: Tensor, oldX: Tensor?) throws -> [Tensor?] in
            try binaryPullback(call, g, needs: needs, x: oldX, y: savedY?.unpack(), ix: ix, iy: iy)
        }
        if inplace {
            let before = keepsX ? x.clone() : nil  // PyTorch's `original_self`
            if let before { saving.append(SavedTensor(before)) }
            x.commitInplace(z.converted(to: x.dtype), name: call.backwardName, others: [y], saving: saving) { g in
                try pullback(g, before)
            }
            return .tensor(x)
        }
        let savedX = keepsX ? SavedTensor(x) : nil
        if let savedX { saving.append(savedX) }
        let out = Tensor(shape: call.shape, data: z)
        out.recording(call.backwardName, inputs: [x, y], saving: saving) { g in try pullback(g, savedX?.unpack()) }
        return .tensor(out)
    }

    static func binaryForward(_ call: BinaryPointwiseCall, _ a: TensorData, _ b: TensorData, _ ia: [Int], _ ib: [Int]) -> TensorData {
        let f = call.function, alpha = call.alpha, rounding = call.roundingMode
        switch (a, b) {
        case (.float32(let x), .float32(let y)):
            return .float32(broadcastZip(x, y, ia, ib) { f.apply($0, $1, alpha: Float(alpha), rounding: rounding) })
        case (.float64(let x), .float64(let y)):
            return .float64(broadcastZip(x, y, ia, ib) { f.apply($0, $1, alpha: alpha, rounding: rounding) })
        case (.int64(let x), .int64(let y)):
            // add/sub/mul wrap like C++ int64_t; div only with a rounding mode (true division
            // promotes), its divisors checked non-zero by the call.
            let k = Int64(alpha)
            return .int64(broadcastZip(x, y, ia, ib) { p, q in
                switch f {
                case .add: return p &+ k &* q
                case .sub: return p &- k &* q
                case .mul: return p &* q
                case .div:
                    let (quotient, remainder) = p.quotientAndRemainder(dividingBy: q)
                    return rounding == .floor && remainder != 0 && (p < 0) != (q < 0) ? quotient - 1 : quotient
                }
            })
        case (.bool(let x), .bool(let y)):
            // add or mul (bool sub is rejected): x + αy and x·y in C++ bool arithmetic.
            return .bool(broadcastZip(x, y, ia, ib) { p, q in f == .mul ? p && q : p || (alpha != 0 && q) })
        default:
            preconditionFailure("operands are converted to the common dtype")
        }
    }

    /// Elementwise `combine(a[ia[k]], b[ib[k]])` for every k of the broadcast shape.
    static func broadcastZip<A, R>(_ a: [A], _ b: [A], _ ia: [Int], _ ib: [Int], _ combine: (A, A) -> R) -> [R] {
        var out: [R] = []
        out.reserveCapacity(ia.count)
        for k in ia.indices { out.append(combine(a[ia[k]], b[ib[k]])) }
        return out
    }

    /// dx, dy in the common dtype, summed back over broadcast dims and cast to each operand's dtype.
    static func binaryPullback(_ call: BinaryPointwiseCall, _ g: Tensor, needs: (x: Bool, y: Bool),
                               x: Tensor?, y: Tensor?, ix: [Int], iy: [Int]) throws -> [Tensor?] {
        switch call.dtype {
        case .float32: return binaryGradients(Float.self, call, g, needs: needs, x: x, y: y, ix: ix, iy: iy)
        case .float64: return binaryGradients(Double.self, call, g, needs: needs, x: x, y: y, ix: ix, iy: iy)
        default: preconditionFailure("gradients are floating point")
        }
    }

    static func binaryGradients<T: FloatScalar>(_: T.Type, _ call: BinaryPointwiseCall, _ gradient: Tensor,
                                                needs: (x: Bool, y: Bool), x: Tensor?, y: Tensor?,
                                                ix: [Int], iy: [Int]) -> [Tensor?] {
        let g = T.unwrap(gradient.data.converted(to: T.dtype))!
        let xs: [T]? = x.map { T.unwrap($0.data.converted(to: T.dtype))! }
        let ys: [T]? = y.map { T.unwrap($0.data.converted(to: T.dtype))! }
        var dx = [T](), dy = [T]()
        for k in g.indices {
            let (gx, gy) = call.roundingMode != nil ? (0, 0)  // a rounded quotient is piecewise constant
                : call.function.gradients(g[k], x: xs?[ix[k]] ?? 0, y: ys?[iy[k]] ?? 0, alpha: T(call.alpha))
            dx.append(gx)
            dy.append(gy)
        }
        func reduced(_ d: [T], to t: Tensor, _ needed: Bool) -> Tensor? {
            guard needed else { return nil }
            let summed = sumToShape(d, from: call.shape, to: t.shape)
            return Tensor(shape: t.shape, data: T.wrap(summed).converted(to: t.dtype))
        }
        return [reduced(dx, to: call.input, needs.x), reduced(dy, to: call.other.tensor, needs.y)]
    }
}

extension UnaryFunction {
    /// relu(x) = max(x, 0) (NaN and −0 pass through), σ(x) = 1 / (1 + e^−x), tanh, e^x, −x.
    func apply<T: FloatScalar>(_ x: T) -> T {
        switch self {
        case .relu: return x < 0 ? 0 : x
        case .sigmoid: return 1 / (1 + T.exp(-x))
        case .tanh: return T.tanh(x)
        case .exp: return T.exp(x)
        case .neg: return -x
        }
    }

    /// f'(x) · g from the output y: [y ≤ 0 ? 0 : g], g(1 − y)y, g(1 − y²), g·y, −g.
    func gradient<T: FloatScalar>(_ g: T, _ y: T) -> T {
        switch self {
        case .relu: return y <= 0 ? 0 : g  // threshold_backward: a NaN result passes g through
        case .sigmoid: return g * (1 - y) * y
        case .tanh: return g * (1 - y * y)
        case .exp: return g * y
        case .neg: return -g
        }
    }
}

extension BinaryFunction {
    /// x + αy and x − αy as one fused multiply-add (PyTorch's `fmadd(y, α, x)`), x·y, x / y
    /// (rounded toward zero or down when `rounding` says so).
    func apply<T: FloatScalar>(_ x: T, _ y: T, alpha: T, rounding: RoundingMode? = nil) -> T {
        switch (self, rounding) {
        case (.add, _): return x.addingProduct(y, alpha)
        case (.sub, _): return x.addingProduct(y, -alpha)
        case (.mul, _): return x * y
        case (.div, nil): return x / y
        case (.div, .trunc): return (x / y).rounded(.towardZero)
        case (.div, .floor): return floorDivide(x, y)
        }
    }

    /// ATen's `div_floor_floating`: the quotient of the exactly representable `x − fmod(x, y)`,
    /// stepped down when the remainder's sign differs from y's, then floored; a result within
    /// 0.5 above the floor rounds up, which undoes a quotient rounded just below an integer.
    private func floorDivide<T: FloatScalar>(_ x: T, _ y: T) -> T {
        if y == 0 { return x / y }
        let mod = x.truncatingRemainder(dividingBy: y)
        var div = (x - mod) / y
        if mod != 0 && (y < 0) != (mod < 0) { div -= 1 }
        guard div != 0 else { return T(signOf: x / y, magnitudeOf: 0) }
        var floored = div.rounded(.down)
        if div - floored > 0.5 { floored += 1 }
        return floored
    }

    /// (∂z/∂x · g, ∂z/∂y · g), in PyTorch's order of operations:
    /// add (g, gα), sub (g, −gα), mul (g·y, g·x), div (g / y, −g · ((x / y) / y)).
    func gradients<T: FloatScalar>(_ g: T, x: T, y: T, alpha: T) -> (T, T) {
        switch self {
        case .add: return (g, g * alpha)
        case .sub: return (g, -g * alpha)
        case .mul: return (g * y, g * x)
        case .div: return (g / y, -g * ((x / y) / y))
        }
    }
}
