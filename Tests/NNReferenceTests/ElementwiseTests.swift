import Foundation
import Testing
import NNCore
import NNReference

/// Helpers shared by the Elementwise, Reduction, Softmax and Losses tests.
enum RefCheck {
    /// Calls `op` on the reference backend and returns its tensor.
    static func call(_ op: String, _ args: [String: Value]) throws -> Tensor {
        let v = try Reference.backend.call(op, args)
        guard case .tensor(let t) = v else { throw TorchError.type("\(op) returned \(v.pythonTypeName)") }
        return t
    }

    /// The largest |analytic − numeric| gradient of L = Σ_k w_k f(inputs)_k over every element of
    /// every float64 input: backward from leaf copies, against central differences (h = 1e-6).
    static func gradientError(_ inputs: [Tensor], _ f: ([Tensor]) throws -> Tensor) throws -> Double {
        let leaves = inputs.map { $0.clone(requiresGrad: true) }
        let y = try f(leaves)
        let w = (0..<y.numel).map { Double($0 % 5) * 0.3 - 0.55 }
        try y.backward(gradient: Tensor(shape: y.shape, w))
        let h = 1e-6
        var worst = 0.0
        for (i, input) in inputs.enumerated() {
            let analytic = leaves[i].grad?.doubles ?? Array(repeating: 0, count: input.numel)
            for j in 0..<input.numel {
                func loss(_ delta: Double) throws -> Double {
                    var values = input.doubles
                    values[j] += delta
                    var args = inputs
                    args[i] = Tensor(shape: input.shape, values)
                    return zip(try f(args).doubles, w).map(*).reduce(0, +)
                }
                let numeric = (try loss(h) - loss(-h)) / (2 * h)
                worst = max(worst, abs(numeric - analytic[j]))
            }
        }
        return worst
    }

    /// `body`'s error, or nil when it succeeds.
    static func error(_ body: () throws -> Void) -> TorchError? {
        do { try body() } catch let e as TorchError { return e } catch { return TorchError("other", "\(error)") }
        return nil
    }

    static func versionError(_ what: String, version: Int, expected: Int) -> TorchError {
        .runtime("one of the variables needed for gradient computation has been modified by an inplace operation: "
                 + "\(what) is at version \(version); expected version \(expected) instead. Hint: enable anomaly "
                 + "detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")
    }
}

private func call(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
private func f32(_ v: [Float], _ shape: [Int]? = nil) -> Tensor { Tensor(shape: shape ?? [v.count], v) }
private func f64(_ v: [Double], _ shape: [Int]? = nil) -> Tensor { Tensor(shape: shape ?? [v.count], v) }
private func i64(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64: v) }
private func bools(_ v: [Bool]) -> Tensor { Tensor(shape: [v.count], data: .bool(v)) }
/// A non-leaf copy of a fresh leaf requiring grad (x · 1), which in-place ops may write.
private func nonLeaf(_ v: [Double]) throws -> (leaf: Tensor, copy: Tensor) {
    let leaf = f64(v).clone(requiresGrad: true)
    return (leaf, try call("mul", ["input": .tensor(leaf), "other": .int(1)]))
}

@Suite struct ElementwiseTests {
    @Test func divRoundingModes() throws {
        let x = f64([7, -7, 7.5, -0.5, 1], [5]), y = f64([2, 2, -2, 4, 0], [5])
        let trunc = try call("div", ["input": .tensor(x), "other": .tensor(y), "rounding_mode": .string("trunc")])
        let floor = try call("div", ["input": .tensor(x), "other": .tensor(y), "rounding_mode": .string("floor")])
        #expect(trunc.doubles == [3, -3, -3, -0.0, .infinity])
        #expect(floor.doubles == [3, -4, -4, -1, .infinity])
        #expect(floor.doubles[3].sign == .minus)
        // ATen's floor division corrects a quotient that rounded just below an integer: 1 // 0.1 == 9.
        #expect(try call("div", ["input": .tensor(f64([1])), "other": .double(0.1), "rounding_mode": .string("floor")]).doubles == [9])
        let ints = try call("div", ["input": .tensor(i64([7, -7, -8])), "other": .tensor(i64([2, 2, 2])), "rounding_mode": .string("floor")])
        #expect(ints.int64s == [3, -4, -4] && ints.dtype == .int64)
        #expect(throws: TorchError.runtime("ZeroDivisionError")) {
            try call("div", ["input": .tensor(i64([1])), "other": .tensor(i64([0])), "rounding_mode": .string("trunc")])
        }
        let a = Tensor(shape: [2], [Float(3), -3], requiresGrad: true)
        let q = try call("div", ["input": .tensor(a), "other": .double(2), "rounding_mode": .string("floor")])
        #expect(q.gradFn?.name == "DivBackward2")
        try q.backward(gradient: Tensor(shape: [2], [Float(1), 1]))
        #expect(a.grad?.doubles == [0, 0])
    }

    @Test func unaryValues() throws {
        let x = f64([1, -2, 0, 0.5])
        #expect(try call("relu", ["input": .tensor(x)]).doubles == [1, 0, 0, 0.5])
        #expect(try call("neg", ["input": .tensor(x)]).doubles == [-1, 2, -0.0, -0.5])
        let s = try call("sigmoid", ["input": .tensor(f64([0, 2, -1]))]).doubles
        #expect(s == [0.5, 0.8807970779778823, 0.2689414213699951])
        #expect(try call("exp", ["input": .tensor(f64([0, 1]))]).doubles == [1, 2.718281828459045])
        #expect(try call("tanh", ["input": .tensor(f32([20, -50, 0]))]).doubles == [1, -1, 0])
        // NaN and −0 pass through relu; sigmoid saturates without NaN.
        let r = try call("relu", ["input": .tensor(f32([.nan, -0.0]))]).values(Float.self)
        #expect(r[0].isNaN && r[1] == 0 && r[1].sign == .minus)
        #expect(try call("sigmoid", ["input": .tensor(f32([-1000, 100]))]).doubles == [0, 1])
    }

    @Test func unaryDTypes() throws {
        let xi = i64([1, -2, 3])
        let r = try call("relu", ["input": .tensor(xi)])
        #expect(r.dtype == .int64 && r.int64s == [1, 0, 3])
        #expect(try call("neg", ["input": .tensor(xi)]).int64s == [-1, 2, -3])
        let s = try call("sigmoid", ["input": .tensor(xi)])
        #expect(s.dtype == .float32 && s.values(Float.self)[0] == 1 / (1 + exp(Float(-1))))
        #expect(try call("exp", ["input": .tensor(bools([true, false]))]).values(Float.self) == [exp(Float(1)), 1])
        #expect(try call("tanh", ["input": .tensor(f64([1]))]).dtype == .float64)
    }

    @Test func unaryErrors() throws {
        #expect(throws: TorchError.notImplemented("Boolean inputs not supported for relu")) {
            try call("relu", ["input": .tensor(bools([true]))])
        }
        #expect(throws: Pointwise.boolNegationError) { try call("neg", ["input": .tensor(bools([true]))]) }
        #expect(throws: TorchError.runtime("result type Float can't be cast to the desired output type Long")) {
            try call("sigmoid_", ["input": .tensor(i64([1]))])
        }
        #expect(throws: TorchError.runtime("result type Float can't be cast to the desired output type Bool")) {
            try call("exp_", ["input": .tensor(bools([true]))])
        }
        let leaf = f32([1]).clone(requiresGrad: true)
        #expect(throws: TorchError.runtime("a leaf Variable that requires grad is being used in an in-place operation.")) {
            try call("relu", ["input": .tensor(leaf), "inplace": .bool(true)])
        }
        #expect(throws: TorchError.type("relu() got an unexpected keyword argument 'alpha'")) {
            try call("relu", ["input": .tensor(leaf), "alpha": .int(1)])
        }
    }

    @Test func inplaceUnaryWritesSelf() throws {
        let x = i64([-1, 2])
        let y = try call("relu_", ["input": .tensor(x)])
        #expect(y === x && x.int64s == [0, 2] && x.version == 1)
        let z = f32([1, -1])
        #expect(try call("relu", ["input": .tensor(z), "inplace": .bool(true)]) === z && z.doubles == [1, 0])
        let n = f64([3])
        _ = try call("neg_", ["input": .tensor(n)])
        #expect(n.doubles == [-3])
    }

    @Test func gradFnNames() throws {
        for (op, name) in [("relu", "ReluBackward0"), ("sigmoid", "SigmoidBackward0"), ("tanh", "TanhBackward0"),
                           ("exp", "ExpBackward0"), ("neg", "NegBackward0")] {
            let (_, c) = try nonLeaf([1, -2])
            #expect(try call(op, ["input": .tensor(c)]).gradFn?.name == name)
            _ = try call(op + "_", ["input": .tensor(c)])
            #expect(c.gradFn?.name == name)
        }
        for (op, name) in [("add", "AddBackward0"), ("sub", "SubBackward0"), ("mul", "MulBackward0"), ("div", "DivBackward0")] {
            let (x, c) = try nonLeaf([1, -2])
            #expect(try call(op, ["input": .tensor(x), "other": .double(2)]).gradFn?.name == name)
            #expect(try call(op, ["input": .tensor(x), "other": .tensor(f32([3]))]).gradFn?.name == name)
            _ = try call(op + "_", ["input": .tensor(c), "other": .tensor(x)])
            #expect(c.gradFn?.name == name)
        }
    }

    @Test func unaryGradients() throws {
        for op in ["relu", "sigmoid", "tanh", "exp", "neg"] {
            let x = f64([0.7, -1.3, 2.1, -0.2], [2, 2])
            #expect(try RefCheck.gradientError([x]) { try call(op, ["input": .tensor($0[0])]) } < 1e-7)
            // In place on a non-leaf copy: the node saves the written result.
            #expect(try RefCheck.gradientError([x]) { v in
                let c = try call("mul", ["input": .tensor(v[0]), "other": .int(1)])
                return try call(op + "_", ["input": .tensor(c)])
            } < 1e-7)
        }
    }

    @Test func binaryValuesAndBroadcasting() throws {
        let a = f64([1, 2, 3, 4, 5, 6], [2, 3]), b = f64([10, 20, 30])
        let s = try call("add", ["input": .tensor(a), "other": .tensor(b), "alpha": .int(2)])
        #expect(s.shape == [2, 3] && s.doubles == [21, 42, 63, 24, 45, 66])
        #expect(try call("sub", ["input": .tensor(a), "other": .double(0.5), "alpha": .double(2)]).doubles == [0, 1, 2, 3, 4, 5])
        #expect(try call("mul", ["input": .tensor(f64([2], [1, 1])), "other": .tensor(b)]).shape == [1, 3])
        #expect(try call("div", ["input": .tensor(b), "other": .tensor(f64([4], []))]).doubles == [2.5, 5, 7.5])
        #expect(throws: TorchError.runtime("The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1")) {
            try call("add", ["input": .tensor(a), "other": .tensor(f64([1, 2]))])
        }
        // α multiplies as one fused multiply-add, like PyTorch's vectorised fmadd.
        let fused = try call("add", ["input": .tensor(f32([-0.041225917637348175])),
                                     "other": .tensor(f32([-1.8817001581192017])), "alpha": .double(0.1)])
        #expect(fused.values(Float.self) == [-0.22939594089984894])
    }

    @Test func integerAndBoolArithmetic() throws {
        let xi = i64([1, -2, 3])
        #expect(try call("add", ["input": .tensor(xi), "other": .tensor(xi), "alpha": .int(3)]).int64s == [4, -8, 12])
        #expect(try call("mul", ["input": .tensor(i64([1 << 62])), "other": .int(4)]).int64s == [0])  // wraps
        let q = try call("div", ["input": .tensor(xi), "other": .tensor(i64([0, 2, 0]))])
        #expect(q.dtype == .float32 && q.doubles == [.infinity, -1, .infinity])
        let b = bools([true, false])
        #expect(try call("add", ["input": .tensor(b), "other": .tensor(b), "alpha": .int(2)]).data == .bool([true, false]))
        #expect(try call("add", ["input": .tensor(b), "other": .bool(true)]).data == .bool([true, true]))
        #expect(try call("mul", ["input": .tensor(b), "other": .tensor(bools([true, true]))]).data == .bool([true, false]))
    }

    @Test func typePromotion() throws {
        func dtype(_ a: Tensor, _ other: Value) throws -> DType {
            try call("add", ["input": .tensor(a), "other": other]).dtype
        }
        let x32 = f32([1, 2]), xi = i64([1, 2]), xb = bools([true, false])
        #expect(try dtype(x32, .double(2.5)) == .float32)
        #expect(try dtype(xi, .double(2.5)) == .float32)
        #expect(try dtype(xi, .int(2)) == .int64)
        #expect(try dtype(xb, .int(2)) == .int64)
        #expect(try dtype(x32, .tensor(f64([1, 2]))) == .float64)
        #expect(try dtype(x32, .tensor(f64([2], []))) == .float32)  // 0-dim of the same category
        #expect(try dtype(xi, .tensor(f64([2], []))) == .float64)  // 0-dim of a higher category
        #expect(try dtype(xb, .tensor(Tensor(shape: [], int64: [2]))) == .int64)
        #expect(try dtype(xi, .tensor(Tensor(shape: [], data: .bool([true])))) == .int64)
        #expect(try dtype(Tensor(shape: [], int64: [1]), .double(2.5)) == .float32)
        #expect(try dtype(f32([1], []), .tensor(f64([2], []))) == .float64)
        // In place: computed in the common dtype, stored in self's.
        let y = f32([1, 2])
        _ = try call("mul_", ["input": .tensor(y), "other": .tensor(f64([0.1]))])
        #expect(y.dtype == .float32 && y.values(Float.self) == [Float(0.1), Float(0.2)])
    }

    @Test func binaryErrors() throws {
        let xi = i64([1, 2, 3]), xb = bools([true, false, true]), x = f32([1, 2, 3])
        #expect(throws: TorchError.runtime("result type Float can't be cast to the desired output type Long")) {
            try call("add_", ["input": .tensor(xi), "other": .double(2.5)])
        }
        #expect(throws: TorchError.runtime("result type Long can't be cast to the desired output type Bool")) {
            try call("add_", ["input": .tensor(xb), "other": .int(1)])
        }
        #expect(throws: TorchError.runtime("result type Float can't be cast to the desired output type Long")) {
            try call("div_", ["input": .tensor(xi), "other": .int(2)])
        }
        #expect(throws: TorchError.runtime("output with shape [3] doesn't match the broadcast shape [2, 3]")) {
            try call("add_", ["input": .tensor(xi), "other": .tensor(f32([1, 2, 3, 4, 5, 6], [2, 3]))])
        }
        #expect(throws: TorchError.runtime("output with shape [] doesn't match the broadcast shape [3]")) {
            try call("mul_", ["input": .tensor(f32([1], [])), "other": .tensor(x)])
        }
        #expect(throws: TorchError.runtime("For integral input tensors, argument alpha must not be a floating point number.")) {
            try call("add", ["input": .tensor(xi), "other": .tensor(xi), "alpha": .double(1.5)])
        }
        #expect(throws: TorchError.runtime("Boolean alpha only supported for Boolean results.")) {
            try call("add", ["input": .tensor(x), "other": .tensor(x), "alpha": .bool(true)])
        }
        #expect(throws: TorchError.notImplemented("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.")) {
            try call("sub", ["input": .tensor(xb), "other": .tensor(xb)])
        }
        #expect(throws: TorchError.notImplemented("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")) {
            try call("sub", ["input": .tensor(x), "other": .bool(true)])
        }
        #expect(throws: TorchError.runtime("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found 'bad'")) {
            try call("div", ["input": .tensor(x), "other": .int(2), "rounding_mode": .string("bad")])
        }
        #expect(throws: TorchError.type("mul(): argument 'other' (position 2) must be Tensor, not str")) {
            try call("mul", ["input": .tensor(x), "other": .string("a")])
        }
        // The leaf check comes before every other.
        #expect(throws: TorchError.runtime("a leaf Variable that requires grad is being used in an in-place operation.")) {
            try call("add_", ["input": .tensor(x.clone(requiresGrad: true)), "other": .tensor(f32([1, 2], [2, 1]))])
        }
    }

    @Test func binaryGradients() throws {
        let a = f64([0.5, -1.5, 2.0, 1.25, -0.75, 3.0], [2, 3]), b = f64([1.5, -0.5, 2.5])
        for op in ["add", "sub", "mul", "div"] {
            var args: [String: Value] = [:]
            if op == "add" || op == "sub" { args["alpha"] = .double(0.7) }
            #expect(try RefCheck.gradientError([a, b]) { v in
                try call(op, args.merging(["input": .tensor(v[0]), "other": .tensor(v[1])]) { $1 })
            } < 1e-6)
            #expect(try RefCheck.gradientError([b, a]) { v in  // broadcasting self, scalar alpha
                try call(op, args.merging(["input": .tensor(v[0]), "other": .tensor(v[1])]) { $1 })
            } < 1e-6)
            #expect(try RefCheck.gradientError([a, b]) { v in  // in place, other broadcast
                let c = try call("mul", ["input": .tensor(v[0]), "other": .int(1)])
                return try call(op + "_", args.merging(["input": .tensor(c), "other": .tensor(v[1])]) { $1 })
            } < 1e-6)
        }
        // Mixed dtypes: the result is float64, each gradient comes back in its input's dtype.
        let s = f32([2]).clone(requiresGrad: true), t = f64([1, 1, 1]).clone(requiresGrad: true)
        let y = try call("mul", ["input": .tensor(s), "other": .tensor(t)])
        #expect(y.dtype == .float64)
        try call("sum", ["input": .tensor(y)]).backward()
        #expect(s.grad?.dtype == .float32 && s.grad?.doubles == [3])
        #expect(t.grad?.dtype == .float64 && t.grad?.doubles == [2, 2, 2])
    }

    @Test func inplaceVersionRules() throws {
        // The output sigmoid saved was written afterwards.
        let x = f32([1, -2, 3]).clone(requiresGrad: true)
        let y = try call("sigmoid", ["input": .tensor(x)])
        _ = try Reference.backend.call("mul_", ["input": .tensor(y), "other": .double(2)])
        #expect(y.gradFn?.name == "MulBackward0")
        #expect(RefCheck.error { try call("sum", ["input": .tensor(y)]).backward() }
                == RefCheck.versionError("[torch.FloatTensor [3]], which is output 0 of Sigmoid,", version: 1, expected: 0))

        // x * 2 saves only the scalar: writing its result is fine.
        let x2 = f32([1, -2, 3]).clone(requiresGrad: true)
        let z = try call("mul", ["input": .tensor(x2), "other": .int(2)])
        _ = try call("add_", ["input": .tensor(z), "other": .int(1)])
        try call("sum", ["input": .tensor(z)]).backward()
        #expect(x2.grad?.doubles == [2, 2, 2] && z.doubles == [3, -3, 7])

        // relu_ saves its own result at version 1; writing it again breaks the backward.
        let (_, c) = try nonLeaf([1, -2, 3])
        _ = try call("relu_", ["input": .tensor(c)])
        _ = try call("add_", ["input": .tensor(c), "other": .int(1)])
        #expect(RefCheck.error { try call("sum", ["input": .tensor(c)]).backward() }
                == RefCheck.versionError("[torch.DoubleTensor [3]], which is output 0 of Relu,", version: 2, expected: 1))

        // mul saves an input; the message names the input's current grad_fn.
        let (_, u) = try nonLeaf([1, 2, 3])
        let w = f64([1, 2, 3]).clone(requiresGrad: true)
        let uw = try call("mul", ["input": .tensor(u), "other": .tensor(w)])
        _ = try call("add_", ["input": .tensor(u), "other": .int(1)])
        #expect(RefCheck.error { try call("sum", ["input": .tensor(uw)]).backward() }
                == RefCheck.versionError("[torch.DoubleTensor [3]], which is output 0 of Add,", version: 1, expected: 0))

        // exp saves its output, not its input; y / 2 saves nothing of y.
        let (l3, v) = try nonLeaf([0, 1])
        let e = try call("exp", ["input": .tensor(v)])
        let h = try call("div", ["input": .tensor(v), "other": .int(2)])
        _ = try call("mul_", ["input": .tensor(v), "other": .int(2)])
        try call("sum", ["input": .tensor(try call("add", ["input": .tensor(e), "other": .tensor(h)]))]).backward()
        #expect(l3.grad?.doubles == [1.5, 2.718281828459045 + 0.5])

        // mul_ by a tensor needing grad keeps self as it was before the write.
        let (l4, m) = try nonLeaf([1, -2, 3])
        let k = f64([1, 2, 3]).clone(requiresGrad: true)
        _ = try call("mul_", ["input": .tensor(m), "other": .tensor(k)])
        try call("sum", ["input": .tensor(m)]).backward()
        #expect(l4.grad?.doubles == [1, 2, 3] && k.grad?.doubles == [1, -2, 3])
    }

    @Test func secondBackward() throws {
        let x = f64([1, 2]).clone(requiresGrad: true)
        let doubled = try call("mul", ["input": .tensor(x), "other": .int(2)])
        let shifted = try call("add", ["input": .tensor(x), "other": .int(2)])
        try doubled.backward(gradient: f64([1, 1]))
        #expect(RefCheck.error { try doubled.backward(gradient: f64([1, 1])) }?.message.hasPrefix("Trying to backward through the graph a second time") == true)
        try shifted.backward(gradient: f64([1, 1]))
        try shifted.backward(gradient: f64([1, 1]))  // AddBackward0 saves nothing
        #expect(x.grad?.doubles == [4, 4])
    }

    @Test func noGrad() throws {
        let x = f32([1, -2]).clone(requiresGrad: true)
        try GradMode.noGrad {
            let y = try call("sigmoid", ["input": .tensor(x)])
            #expect(y.gradFn == nil && !y.requiresGrad)
            _ = try call("mul_", ["input": .tensor(x), "other": .int(3)])  // a leaf may be written
        }
        #expect(x.doubles == [3, -6] && x.isLeaf && x.version == 1)
    }
}
