import NNCore
import RealModule

/// Pointwise ops (`relu`, `sigmoid`, `tanh`, `exp`, `neg`, `add`, `sub`, `mul`, `div` and their
/// in-place forms) on the shared calls `UnaryPointwiseCall` / `BinaryPointwiseCall`, so type
/// promotion and errors are the reference's. Autograd is recorded exactly as the reference
/// records it (node names, saved tensors, in-place rebasing).
///
/// float32 runs 16-lane vector loops (`SIMDMath.swift`), float64 plain loops the compiler
/// vectorizes where it can; both split large tensors across the cores.
extension Optimized {
    static let simdElementwiseOps: [String: OpFunction] = [
        "relu": { args in try simdUnary(.relu, args, inplace: try args.bool("inplace", default: false)) },
        "relu_": { try simdUnary(.relu, $0, inplace: true) },
        "sigmoid": { try simdUnary(.sigmoid, $0, inplace: false) },
        "sigmoid_": { try simdUnary(.sigmoid, $0, inplace: true) },
        "tanh": { try simdUnary(.tanh, $0, inplace: false) },
        "tanh_": { try simdUnary(.tanh, $0, inplace: true) },
        "exp": { try simdUnary(.exp, $0, inplace: false) },
        "exp_": { try simdUnary(.exp, $0, inplace: true) },
        "neg": { try simdUnary(.neg, $0, inplace: false) },
        "neg_": { try simdUnary(.neg, $0, inplace: true) },
        "add": { try simdBinary(.add, $0, inplace: false) },
        "add_": { try simdBinary(.add, $0, inplace: true) },
        "sub": { try simdBinary(.sub, $0, inplace: false) },
        "sub_": { try simdBinary(.sub, $0, inplace: true) },
        "mul": { try simdBinary(.mul, $0, inplace: false) },
        "mul_": { try simdBinary(.mul, $0, inplace: true) },
        "div": { try simdBinary(.div, $0, inplace: false) },
        "div_": { try simdBinary(.div, $0, inplace: true) },
    ]

    // MARK: Unary

    static func simdUnary(_ f: UnaryFunction, _ args: Arguments, inplace: Bool) throws -> Value {
        let call = try UnaryPointwiseCall(f, args, inplace: inplace)
        let data = unaryForward(f, call.input.data.converted(to: call.dtype))
        return .tensor(call.record(data) { g, y in unaryGradient(f, g, output: y) })
    }

    /// `neg(x)` as its own op (`NegBackward0`), for ops built on it (`softmin`).
    static func simdNegate(_ x: Tensor) throws -> Tensor {
        try simdUnary(.neg, Arguments(op: "neg", ["input": .tensor(x)]), inplace: false).tensor!
    }

    static func unaryForward(_ f: UnaryFunction, _ x: TensorData) -> TensorData {
        switch x {
        case .float32(let a):
            return .float32(a.withPointer { src in
                makeArray(a.count) { dst in
                    switch f {
                    case .relu: vmap(a.count, src, dst) { $0.replacing(with: 0, where: $0 .< 0) }
                    case .sigmoid: vmap(a.count, src, dst, cost: 16) { vsigmoid($0) }
                    case .tanh: vmap(a.count, src, dst, cost: 20) { vtanh($0) }
                    case .exp: vmap(a.count, src, dst, cost: 16) { vexp($0) }
                    case .neg: vmap(a.count, src, dst) { -$0 }
                    }
                }
            })
        case .float64(let a): return .float64(scalarUnary(f, a))
        case .int64(let a):
            return .int64(a.withPointer { src in
                makeArray(a.count) { dst in
                    SIMDParallel.forEach(a.count, costPerItem: 1) { r in
                        if f == .neg { for i in r { dst[i] = 0 &- src[i] } } else { for i in r { dst[i] = max(src[i], 0) } }
                    }
                }
            })
        case .bool: preconditionFailure("rejected by UnaryPointwiseCall")
        }
    }

    private static func scalarUnary<T: FloatScalar>(_ f: UnaryFunction, _ a: [T]) -> [T] {
        a.withPointer { src in
            makeArray(a.count) { dst in
                SIMDParallel.forEach(a.count, costPerItem: f == .relu || f == .neg ? 1 : 20) { r in
                    switch f {
                    case .relu: for i in r { let v = src[i]; dst[i] = v < 0 ? 0 : v }
                    case .sigmoid: for i in r { dst[i] = 1 / (1 + T.exp(-src[i])) }
                    case .tanh: for i in r { dst[i] = T.tanh(src[i]) }
                    case .exp: for i in r { dst[i] = T.exp(src[i]) }
                    case .neg: for i in r { dst[i] = -src[i] }
                    }
                }
            }
        }
    }

    /// dx = f'(x) · g from the saved output y: [y ≤ 0 ? 0 : g] (NaN passes g), g(1 − y)y,
    /// g(1 − y²), g·y, −g.
    static func unaryGradient(_ f: UnaryFunction, _ g: Tensor, output y: Tensor?) -> Tensor {
        let n = g.numel
        switch g.data {
        case .float32(let gs):
            let ys = y.map { floatElements($0, Float.self) } ?? gs  // `neg` saves nothing
            let dx: [Float] = gs.withPointer { gp in
                ys.withPointer { yp in
                    makeArray(n) { dst in
                        switch f {
                        case .relu: vmap2(n, gp, yp, dst) { g, y in g.replacing(with: 0, where: y .<= 0) }
                        case .sigmoid: vmap2(n, gp, yp, dst) { g, y in g * (1 - y) * y }
                        case .tanh: vmap2(n, gp, yp, dst) { g, y in g * (1 - y * y) }
                        case .exp: vmap2(n, gp, yp, dst) { g, y in g * y }
                        case .neg: vmap(n, gp, dst) { -$0 }
                        }
                    }
                }
            }
            return Tensor(shape: g.shape, dx)
        case .float64(let gs):
            let ys = y.map { floatElements($0, Double.self) } ?? gs
            let dx: [Double] = gs.withPointer { gp in
                ys.withPointer { yp in
                    makeArray(n) { dst in
                        SIMDParallel.forEach(n, costPerItem: 1) { r in
                            switch f {
                            case .relu: for i in r { dst[i] = yp[i] <= 0 ? 0 : gp[i] }
                            case .sigmoid: for i in r { dst[i] = gp[i] * (1 - yp[i]) * yp[i] }
                            case .tanh: for i in r { dst[i] = gp[i] * (1 - yp[i] * yp[i]) }
                            case .exp: for i in r { dst[i] = gp[i] * yp[i] }
                            case .neg: for i in r { dst[i] = -gp[i] }
                            }
                        }
                    }
                }
            }
            return Tensor(shape: g.shape, dx)
        default: preconditionFailure("gradients are floating point")
        }
    }

    // MARK: Binary

    /// z = x ∘ y over the broadcast shape in the common dtype, saved as the reference saves:
    /// `mul` keeps y for dx and x for dy, `div` keeps y for both and x for dy; in place, x is
    /// the value before the write.
    static func simdBinary(_ f: BinaryFunction, _ args: Arguments, inplace: Bool) throws -> Value {
        let call = try BinaryPointwiseCall(f, args, inplace: inplace)
        let x = call.input, y = call.other.tensor
        let plan = BroadcastPlan(x.shape, y.shape, to: call.shape)
        let z = binaryForward(call, plan, x.data.converted(to: call.dtype), y.data.converted(to: call.dtype))

        let needs = (x: GradMode.isEnabled && x.requiresGrad, y: GradMode.isEnabled && y.requiresGrad)
        let keepsY = (f == .mul && needs.x) || (f == .div && (needs.x || needs.y))
        let keepsX = (f == .mul || f == .div) && needs.y
        let savedY = keepsY ? SavedTensor(y) : nil
        var saving = savedY.map { [$0] } ?? []
        let pullback = { (g: Tensor, oldX: Tensor?) throws -> [Tensor?] in
            try binaryGradients(call, plan, g, needs: needs, x: oldX, y: savedY?.unpack())
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

    private static func binaryForward(_ call: BinaryPointwiseCall, _ plan: BroadcastPlan, _ a: TensorData, _ b: TensorData) -> TensorData {
        let count = call.shape.reduce(1, *)
        switch (a, b) {
        case (.float32(let x), .float32(let y)): return .float32(floatingBinary(call, plan, count, x, y))
        case (.float64(let x), .float64(let y)): return .float64(floatingBinary(call, plan, count, x, y))
        case (.int64(let x), .int64(let y)):
            // add/sub/mul wrap like C++ int64_t; div only with a rounding mode (checked non-zero).
            let k = Int64(call.alpha), floor = call.roundingMode == .floor
            return .int64(combine(plan, count, x, y) { (p: Int64, q: Int64) -> Int64 in
                switch call.function {
                case .add: return p &+ k &* q
                case .sub: return p &- k &* q
                case .mul: return p &* q
                case .div:
                    let (quotient, remainder) = p.quotientAndRemainder(dividingBy: q)
                    return floor && remainder != 0 && (p < 0) != (q < 0) ? quotient - 1 : quotient
                }
            })
        case (.bool(let x), .bool(let y)):
            let mul = call.function == .mul, alpha = call.alpha != 0
            return .bool(combine(plan, count, x, y) { p, q in mul ? p && q : p || (alpha && q) })
        default:
            preconditionFailure("operands are converted to the common dtype")
        }
    }

    @inline(__always)
    private static func combine<A, R>(_ plan: BroadcastPlan, _ count: Int, _ x: [A], _ y: [A], _ f: (A, A) -> R) -> [R] {
        x.withPointer { xp in y.withPointer { yp in makeArray(count) { out in broadcastCombine(plan, xp, yp, out, f) } } }
    }

    /// x + αy and x − αy (fused as PyTorch's `fmadd(y, α, x)` unless α = 1, where it is exact
    /// either way), x·y, x / y, rounded toward zero or down for `rounding_mode`.
    private static func floatingBinary<T: FloatScalar>(_ call: BinaryPointwiseCall, _ plan: BroadcastPlan, _ count: Int,
                                                       _ x: [T], _ y: [T]) -> [T] {
        let alpha = T(call.alpha)
        switch (call.function, call.roundingMode) {
        case (.add, _) where alpha == 1: return combine(plan, count, x, y) { $0 + $1 }
        case (.sub, _) where alpha == 1: return combine(plan, count, x, y) { $0 - $1 }
        case (.add, _): return combine(plan, count, x, y) { $0.addingProduct($1, alpha) }
        case (.sub, _): return combine(plan, count, x, y) { $0.addingProduct($1, -alpha) }
        case (.mul, _): return combine(plan, count, x, y) { $0 * $1 }
        case (.div, nil): return combine(plan, count, x, y) { $0 / $1 }
        case (.div, .trunc?): return combine(plan, count, x, y) { ($0 / $1).rounded(.towardZero) }
        case (.div, .floor?): return combine(plan, count, x, y) { floorDivide($0, $1) }
        }
    }

    /// ATen's `div_floor_floating` (see the reference's `floorDivide`).
    private static func floorDivide<T: FloatScalar>(_ x: T, _ y: T) -> T {
        if y == 0 { return x / y }
        let mod = x.truncatingRemainder(dividingBy: y)
        var div = (x - mod) / y
        if mod != 0 && (y < 0) != (mod < 0) { div -= 1 }
        guard div != 0 else { return T(signOf: x / y, magnitudeOf: 0) }
        var floored = div.rounded(.down)
        if div - floored > 0.5 { floored += 1 }
        return floored
    }

    /// dx, dy in the common dtype, summed back over broadcast dims and cast to each operand's
    /// dtype: add (g, gα), sub (g, −gα), mul (g·y, g·x), div (g / y, −g · ((x / y) / y)); zero
    /// for a rounding division.
    private static func binaryGradients(_ call: BinaryPointwiseCall, _ plan: BroadcastPlan, _ g: Tensor,
                                        needs: (x: Bool, y: Bool), x: Tensor?, y: Tensor?) throws -> [Tensor?] {
        switch call.dtype {
        case .float32: return binaryGradients(Float.self, call, plan, g, needs: needs, x: x, y: y)
        case .float64: return binaryGradients(Double.self, call, plan, g, needs: needs, x: x, y: y)
        default: preconditionFailure("gradients are floating point")
        }
    }

    private static func binaryGradients<T: FloatScalar>(_: T.Type, _ call: BinaryPointwiseCall, _ plan: BroadcastPlan,
                                                        _ gradient: Tensor, needs: (x: Bool, y: Bool),
                                                        x: Tensor?, y: Tensor?) -> [Tensor?] {
        let g = floatElements(gradient, T.self), count = g.count
        let alpha = T(call.alpha)
        let zeros = call.roundingMode != nil
        // The gradient over the output shape, as an operand of a broadcast combine with `other`.
        let full = BroadcastPlan(call.shape, call.shape, to: call.shape)
        func combined(_ other: Tensor?, _ plan: BroadcastPlan, _ f: (T, T) -> T) -> [T] {
            combine(plan, count, g, floatElements(other!, T.self), f)
        }
        var dx: [T]?, dy: [T]?
        if needs.x {
            switch call.function {
            case _ where zeros: dx = [T](repeating: 0, count: count)
            case .add, .sub: dx = g
            case .mul: dx = combined(y, BroadcastPlan(call.shape, call.other.tensor.shape, to: call.shape)) { $0 * $1 }
            case .div: dx = combined(y, BroadcastPlan(call.shape, call.other.tensor.shape, to: call.shape)) { $0 / $1 }
            }
        }
        if needs.y {
            switch call.function {
            case _ where zeros: dy = [T](repeating: 0, count: count)
            case .add: dy = alpha == 1 ? g : combine(full, count, g, g) { g, _ in g * alpha }
            case .sub: dy = combine(full, count, g, g) { g, _ in -g * alpha }
            case .mul: dy = combined(x, BroadcastPlan(call.shape, call.input.shape, to: call.shape)) { $0 * $1 }
            case .div:
                // −g · ((x / y) / y) over the broadcast of g, x and y.
                let xs = floatElements(x!, T.self), ys = floatElements(y!, T.self)
                let quotient: [T] = combine(plan, count, xs, ys) { ($0 / $1) / $1 }
                dy = combine(full, count, g, quotient) { -$0 * $1 }
            }
        }
        func reduced(_ d: [T]?, to t: Tensor) -> Tensor? {
            guard let d else { return nil }
            let summed = sumToShapeFast(d, from: call.shape, to: t.shape)
            return Tensor(shape: t.shape, data: T.wrap(summed).converted(to: t.dtype))
        }
        return [reduced(dx, to: call.input), reduced(dy, to: call.other.tensor)]
    }
}
