import Foundation
import Testing
import NNCore
import NNReference

private func call(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
private func f32(_ v: [Float], _ shape: [Int]? = nil) -> Tensor { Tensor(shape: shape ?? [v.count], v) }
private func f64(_ v: [Double], _ shape: [Int]? = nil) -> Tensor { Tensor(shape: shape ?? [v.count], v) }
private func i64(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64: v) }
/// `op(input, **args)` on a Double tensor, as Doubles.
private func values(_ op: String, _ x: [Double], _ args: [String: Value] = [:]) throws -> [Double] {
    try call(op, args.merging(["input": .tensor(f64(x))]) { $1 }).doubles
}
/// A non-leaf copy (x · 1) of a fresh leaf requiring grad, which in-place ops may write.
private func nonLeaf(_ x: Tensor) throws -> (leaf: Tensor, copy: Tensor) {
    let leaf = x.clone(requiresGrad: true)
    return (leaf, try call("mul", ["input": .tensor(leaf), "other": .int(1)]))
}
/// d(Σ op(x)) / dx at each element of x (Double).
private func grad(_ op: String, _ x: [Double], _ args: [String: Value] = [:]) throws -> [Double] {
    let leaf = f64(x).clone(requiresGrad: true)
    try call("sum", ["input": .tensor(try call(op, args.merging(["input": .tensor(leaf)]) { $1 }))]).backward()
    return leaf.grad!.doubles
}

@Suite struct ActivationTests {
    @Test func piecewiseValues() throws {
        #expect(try values("relu6", [-1, 0, 3, 6, 7]) == [0, 0, 3, 6, 6])
        #expect(try values("hardtanh", [-3, -0.5, 2], ["min_val": .double(-2), "max_val": .int(1)]) == [-2, -0.5, 1])
        #expect(try values("leaky_relu", [-2, 0, 3]) == [-0.02, 0, 3])
        #expect(try values("leaky_relu", [-2, 3], ["negative_slope": .double(-0.5)]) == [1, 3])
        #expect(try values("threshold", [0.5, 0.25, 1], ["threshold": .double(0.5), "value": .int(-4)]) == [-4, -4, 1])
        #expect(try values("softshrink", [-2, -0.5, 0.3, 0.75]) == [-1.5, 0, 0, 0.25])
        #expect(try values("hardshrink", [-2, -0.5, 0.3, 0.75]) == [-2, 0, 0, 0.75])
        #expect(try values("hardswish", [-4, -3, 0, 1.5, 3, 5]) == [-0.0, -0.0, 0, 1.125, 3, 5])
        #expect(try values("hardsigmoid", [-4, 0, 1.5, 3]) == [0, 0.5, 0.75, 1])
        #expect(try values("softsign", [-3, 0, 1]) == [-0.75, 0, 0.5])
        // rrelu outside training is leaky_relu with the mean slope.
        #expect(try values("rrelu", [-2, 1], ["lower": .double(0.1), "upper": .double(0.3)]) == [-0.4, 1])
        // hardtanh_ skips F.hardtanh's min > max check: max wins.
        #expect(try call("hardtanh_", ["input": .tensor(f64([-3, 3])), "min_val": .int(2), "max_val": .int(1)]).doubles == [1, 1])
    }

    @Test func smoothValues() throws {
        #expect(try values("elu", [-1, 2]) == [expm1(-1.0), 2])
        #expect(try values("celu", [-1], ["alpha": .double(2)]) == [expm1(-0.5) * 2])
        #expect(try values("selu", [1]) == [1.0507009873554804934193349852946])
        #expect(abs(try values("gelu", [1])[0] - 0.8413447460685429) < 1e-15)
        #expect(abs(try values("gelu", [1], ["approximate": .string("tanh")])[0] - 0.8411919906082768) < 1e-15)
        #expect(try values("silu", [1]) == [1 / (1 + exp(-1.0))])
        #expect(abs(try values("mish", [1])[0] - 0.8650983882673103) < 1e-15)
        #expect(try values("logsigmoid", [0]) == [-log1p(1.0)])
        #expect(try values("tanhshrink", [1]) == [1 - tanh(1.0)])
        // softplus is linear where βx exceeds the threshold, log(1 + e^(βx)) / β up to it.
        #expect(try values("softplus", [20, 20.5]) == [log1p(exp(20.0)), 20.5])
        #expect(try values("softplus", [3], ["beta": .int(2), "threshold": .int(5)]) == [3])
        #expect(try values("softplus", [2.5], ["beta": .int(2), "threshold": .int(5)]) == [log1p(exp(5.0)) / 2])
    }

    @Test func specialValues() throws {
        for op in ["relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "softplus", "hardtanh", "hardswish",
                   "hardsigmoid", "logsigmoid", "tanhshrink", "hardshrink", "softshrink", "softsign"] {
            #expect(try call(op, ["input": .tensor(f32([.nan]))]).values(Float.self)[0].isNaN, "\(op)")
        }
        // Gradients at NaN as ATen's vectorised loops give them: 0 where the test is "inside the
        // band", NaN where the formula runs on x.
        #expect(try grad("hardtanh", [.nan]) == [0] && grad("relu6", [.nan]) == [0] && grad("hardshrink", [.nan]) == [0])
        #expect(try grad("elu", [.nan])[0].isNaN && grad("hardswish", [.nan])[0].isNaN)
        #expect(try grad("leaky_relu", [.nan]) == [0.01])
        #expect(try values("silu", [-1000]) == [-0.0])
        #expect(try values("mish", [1000, -1000]) == [1000, -0.0])
        #expect(try values("logsigmoid", [.infinity, -.infinity]) == [0, -.infinity])
        #expect(try values("elu", [-.infinity]) == [-1])
        // Float math stays in Float: exp overflows at 89 and softplus saturates to x.
        #expect(try call("softplus", ["input": .tensor(f32([89])), "threshold": .int(100)]).values(Float.self) == [.infinity])
        let r = try call("relu6", ["input": .tensor(f32([-0.0]))]).values(Float.self)
        #expect(r[0] == 0 && r[0].sign == .minus)
    }

    @Test func integerInputs() throws {
        let x = i64([-8, -1, 0, 3, 7])
        let r = try call("relu6", ["input": .tensor(x)])
        #expect(r.dtype == .int64 && r.int64s == [0, 0, 0, 3, 6])
        // Bounds and threshold are truncated to integers: -1.7 → -1, 1.9 → 1, 0.5 → 0.
        #expect(try call("hardtanh", ["input": .tensor(x), "min_val": .double(-1.7), "max_val": .double(1.9)]).int64s == [-1, -1, 0, 1, 1])
        #expect(try call("threshold", ["input": .tensor(x), "threshold": .double(0.5), "value": .double(9.9)]).int64s == [9, 9, 9, 3, 7])
        let s = try call("softsign", ["input": .tensor(x)])
        #expect(s.dtype == .float32 && s.values(Float.self)[3] == 0.75)
        #expect(try call("tanhshrink", ["input": .tensor(x)]).dtype == .float32)
        _ = try call("hardtanh_", ["input": .tensor(x)])
        #expect(x.int64s == [-1, -1, 0, 1, 1] && x.version == 1)
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = f64([-2.7, -1.1, -0.3, 0.4, 1.3, 2.2, 3.6, 5.2], [2, 4])  // away from every corner
        let cases: [(String, [String: Value])] = [
            ("relu6", [:]), ("leaky_relu", ["negative_slope": .double(0.2)]), ("elu", ["alpha": .double(0.7)]),
            ("selu", [:]), ("celu", ["alpha": .double(1.5)]), ("gelu", [:]), ("gelu", ["approximate": .string("tanh")]),
            ("silu", [:]), ("mish", [:]), ("softplus", ["beta": .double(1.5), "threshold": .int(4)]), ("softsign", [:]),
            ("hardtanh", ["min_val": .double(-2), "max_val": .double(3)]), ("hardswish", [:]), ("hardsigmoid", [:]),
            ("threshold", ["threshold": .double(0.1), "value": .int(7)]), ("logsigmoid", [:]), ("tanhshrink", [:]),
            ("softshrink", ["lambd": .double(0.2)]), ("hardshrink", ["lambd": .double(0.2)]), ("rrelu", [:]),
        ]
        for (op, args) in cases {
            let err = try RefCheck.gradientError([x]) { try call(op, args.merging(["input": .tensor($0[0])]) { $1 }) }
            #expect(err < 1e-7, "\(op) \(args)")
        }
        for op in ["relu6", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardtanh", "hardswish", "hardsigmoid", "rrelu"] {
            let err = try RefCheck.gradientError([x]) { v in
                let c = try call("mul", ["input": .tensor(v[0]), "other": .int(1)])
                return try call(op, ["input": .tensor(c), "inplace": .bool(true)])
            }
            #expect(err < 1e-7, "\(op) in place")
        }
        let w = f64([0.25, -0.5, 1.5])
        #expect(try RefCheck.gradientError([f64([-1.2, 0.7, -0.4, 2.1, -3, 0.9], [2, 3]), w]) { v in
            try call("prelu", ["input": .tensor(v[0]), "weight": .tensor(v[1])])
        } < 1e-7)
        #expect(try RefCheck.gradientError([f64([-1.2, 0.7, -0.4, 2.1, -3, 0.9], [3, 2]), f64([0.3], [])]) { v in
            try call("prelu", ["input": .tensor(v[0]), "weight": .tensor(v[1])])
        } < 1e-7)
        for dim in [0, 1, -1] {
            #expect(try RefCheck.gradientError([f64([-1.2, 0.7, -0.4, 2.1, -3, 0.9, 0.2, 1.7], [2, 2, 2])]) { v in
                try call("glu", ["input": .tensor(v[0]), "dim": .int(dim)])
            } < 1e-7)
        }
    }

    @Test func derivativesAtCorners() throws {
        // PyTorch's choices at the joins, which finite differences cannot settle.
        #expect(try grad("hardswish", [-3, -1.5, 3]) == [0, 0, 1])
        #expect(try grad("hardsigmoid", [-3, 0, 3]) == [0, Double(Float(1) / 6), 0])  // ATen's float 1/6, even in float64
        #expect(try grad("relu6", [0, 6]) == [0, 0])
        #expect(try grad("threshold", [0.5], ["threshold": .double(0.5), "value": .int(0)]) == [0])
        #expect(try grad("softshrink", [-0.5, 0.5]) == [0, 0])
        #expect(try grad("leaky_relu", [0]) == [0.01])
        #expect(try grad("selu", [0]) == [1.0507009873554804934193349852946 * 1.6732632423543772848170429916717])
        #expect(try grad("softplus", [20, 21]) == [exp(20.0) / (exp(20.0) + 1), 1])
        // celu's backward uses s = 1 / Float(α), its forward 1 / α.
        #expect(try grad("celu", [0], ["alpha": .double(0.3)]) == [0.3 * (1 / Double(Float(0.3)))])
    }

    @Test func gradFnNames() throws {
        let names = ["relu6": "HardtanhBackward0", "leaky_relu": "LeakyReluBackward0", "elu": "EluBackward0",
                     "selu": "EluBackward0", "celu": "CeluBackward0", "gelu": "GeluBackward0", "silu": "SiluBackward0",
                     "mish": "MishBackward0", "softplus": "SoftplusBackward0", "softsign": "DivBackward0",
                     "hardtanh": "HardtanhBackward0", "hardswish": "HardswishBackward0",
                     "hardsigmoid": "HardsigmoidBackward0", "logsigmoid": "LogSigmoidBackward0",
                     "tanhshrink": "SubBackward0", "softshrink": "SoftshrinkBackward0",
                     "hardshrink": "HardshrinkBackward0", "rrelu": "RreluWithNoiseBackward0", "glu": "GluBackward0"]
        for (op, name) in names {
            let x = f64([1, -2]).clone(requiresGrad: true)
            #expect(try call(op, ["input": .tensor(x)]).gradFn?.name == name)
        }
        let inplace = ["relu6": "HardtanhBackward0", "leaky_relu_": "LeakyReluBackward1", "elu_": "EluBackward1",
                       "selu_": "EluBackward1", "celu_": "CeluBackward1", "silu": "SiluBackward0",
                       "hardtanh_": "HardtanhBackward0", "threshold_": "ThresholdBackward1", "rrelu_": "RreluWithNoiseBackward1"]
        for (op, name) in inplace {
            let (_, c) = try nonLeaf(f64([1, -2]))
            var args: [String: Value] = ["input": .tensor(c)]
            if op == "threshold_" { args.merge(["threshold": .int(0), "value": .int(0)]) { $1 } }
            if !op.hasSuffix("_") { args["inplace"] = .bool(true) }
            #expect(try call(op, args) === c && c.gradFn?.name == name && c.version == 1)
        }
        let p = try call("prelu", ["input": .tensor(f64([1, -2])), "weight": .tensor(f64([0.5]).clone(requiresGrad: true))])
        #expect(p.gradFn?.name == "PreluKernelBackward0")
    }

    @Test func inplaceVersionRules() throws {
        // leaky_relu_ / elu_ / celu_ / rrelu_ keep their result: writing it again breaks the backward.
        for (op, name) in [("leaky_relu_", "LeakyReluBackward1"), ("elu_", "EluBackward1"), ("celu_", "CeluBackward1"), ("rrelu_", "RreluWithNoiseBackward1")] {
            let (_, c) = try nonLeaf(f64([1, -2, 3]))
            _ = try call(op, ["input": .tensor(c)])
            #expect(c.gradFn?.name == name)
            _ = try call("mul_", ["input": .tensor(c), "other": .int(2)])
            let e = RefCheck.error { try call("sum", ["input": .tensor(c)]).backward() }
            #expect(e?.message.contains("is at version 2; expected version 1 instead") == true, "\(op)")
        }
        // The others keep a copy of their input from before the write: writing again is harmless.
        for op in ["relu6", "silu", "mish", "hardtanh", "hardswish", "hardsigmoid", "threshold"] {
            let (leaf, c) = try nonLeaf(f64([-1, 0.5, 2]))
            var args: [String: Value] = ["input": .tensor(c), "inplace": .bool(true)]
            if op == "threshold" { args.merge(["threshold": .double(0), "value": .int(0)]) { $1 } }
            _ = try call(op, args)
            _ = try call("mul_", ["input": .tensor(c), "other": .int(2)])
            try call("sum", ["input": .tensor(c)]).backward()
            let expected = try grad(op, [-1, 0.5, 2], op == "threshold" ? ["threshold": .double(0), "value": .int(0)] : [:])
            #expect(leaf.grad?.doubles == expected.map { $0 * 2 }, "\(op)")
        }
        // Out of place every op keeps its input, except tanhshrink (PyTorch keeps tanh(x)).
        for op in ["gelu", "softsign", "tanhshrink"] {
            let (leaf, c) = try nonLeaf(f64([-1, 0.5]))
            let y = try call(op, ["input": .tensor(c)])
            _ = try call("add_", ["input": .tensor(c), "other": .int(1)])
            let e = RefCheck.error { try call("sum", ["input": .tensor(y)]).backward() }
            if op == "tanhshrink" {
                let expected = try grad("tanhshrink", [-1, 0.5])
                #expect(e == nil && leaf.grad?.doubles == expected)
            } else {
                #expect(e == RefCheck.versionError("[torch.DoubleTensor [2]], which is output 0 of Add,", version: 1, expected: 0), "\(op)")
            }
        }
        #expect(try {
            let y = try call("tanhshrink", ["input": .tensor(f64([1]).clone(requiresGrad: true))])
            try y.backward(gradient: f64([1]))
            return RefCheck.error { try y.backward(gradient: f64([1])) }?.message.hasPrefix("Trying to backward through the graph a second time")
        }() == true)
    }

    @Test func inplaceNegativeSlopeBackward() throws {
        for (op, args, error) in [("leaky_relu_", ["negative_slope": Value.double(-0.1)], Activation.negativeSlopeInplaceError),
                                  ("rrelu_", ["lower": .double(-0.3), "upper": .double(-0.1)], Activation.negativeSlopeInplaceError),
                                  ("elu_", ["alpha": .double(-0.5)], Activation.negativeAlphaInplaceError),
                                  ("celu_", ["alpha": .double(-0.5)], Activation.negativeAlphaInplaceError)] {
            let (_, c) = try nonLeaf(f64([-1, 2]))
            _ = try call(op, args.merging(["input": .tensor(c)]) { $1 })  // the forward is fine
            #expect(RefCheck.error { try call("sum", ["input": .tensor(c)]).backward() } == error, "\(op)")
        }
        // Without autograd the same call is fine.
        let x = f64([-1, 2])
        _ = try call("leaky_relu_", ["input": .tensor(x), "negative_slope": .double(-0.5)])
        #expect(x.doubles == [0.5, 2])
    }

    @Test func preluAndGlu() throws {
        let x = f64([-1, 2, -3, 4, -5, 6], [1, 3, 2])
        #expect(try call("prelu", ["input": .tensor(x), "weight": .tensor(f64([0.5, 1, 2]))]).doubles == [-0.5, 2, -3, 4, -10, 6])
        #expect(try call("prelu", ["input": .tensor(x), "weight": .tensor(f64([0.1], []))]).doubles.map { ($0 * 10).rounded() } == [-1, 20, -3, 40, -5, 60])
        let w = f64([0.5, 1, 2]).clone(requiresGrad: true)
        try call("sum", ["input": .tensor(try call("prelu", ["input": .tensor(x), "weight": .tensor(w)]))]).backward()
        #expect(w.grad?.shape == [3] && w.grad?.doubles == [-1, -3, -5])
        let g = try call("glu", ["input": .tensor(f64([1, 2, 0, .infinity], [2, 2])), "dim": .int(0)])
        #expect(g.shape == [1, 2] && g.doubles == [0.5, 2])
    }

    @Test func errors() throws {
        let x = f32([1, -2]), xi = i64([1, 2]), xb = Tensor(shape: [1], data: .bool([true]))
        func expectError(_ e: TorchError, _ op: String, _ args: [String: Value], sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(RefCheck.error { _ = try call(op, args) } == e, sourceLocation: sourceLocation)
        }
        expectError(.notImplemented("\"elu_cpu\" not implemented for 'Long'"), "selu", ["input": .tensor(xi)])
        expectError(.notImplemented("\"GeluKernelImpl\" not implemented for 'Bool'"), "gelu", ["input": .tensor(xb)])
        expectError(.notImplemented("Bool inputs not supported for hardtanh"), "relu6", ["input": .tensor(xb)])
        expectError(.notImplemented("\"abs_cpu\" not implemented for 'Bool'"), "softsign", ["input": .tensor(xb)])
        expectError(.value("min_val cannot be greater than max_val"), "hardtanh", ["input": .tensor(x), "min_val": .int(1), "max_val": .int(0)])
        expectError(.runtime("ZeroDivisionError: alpha cannot be 0 for CELU"), "celu", ["input": .tensor(xi), "alpha": .int(0)])
        expectError(.runtime("approximate argument must be either none or tanh."), "gelu", ["input": .tensor(xi), "approximate": .string("x")])
        expectError(.runtime("lambda must be in range [0, 3.40282e+38] for input dtype Float, but found -0.5"), "softshrink", ["input": .tensor(x), "lambd": .double(-0.5)])
        expectError(.runtime("lambda must be in range [0, 1.79769e+308] for input dtype Double, but found -0.123457"), "softshrink", ["input": .tensor(f64([1])), "lambd": .double(-0.123456789)])
        expectError(.notImplemented("\"softshrink_check\" not implemented for 'Long'"), "softshrink", ["input": .tensor(xi), "lambd": .int(-1)])
        expectError(.runtime("Lower bound should be less than or equal to the upper bound"), "rrelu_", ["input": .tensor(x.clone(requiresGrad: true)), "lower": .double(0.5), "upper": .double(0.1)])
        expectError(.runtime("value cannot be converted to type int64_t without overflow"), "hardtanh", ["input": .tensor(xi), "min_val": .double(-1e30)])
        // Types: F's Python wrappers call C++ positionally; in-place names and builtins take keywords.
        expectError(.type("elu(): argument 'alpha' (position 2) must be Number, not str"), "elu", ["input": .tensor(x), "alpha": .string("a")])
        expectError(.type("elu_(): argument 'alpha' (position 2) must be Number, not str"), "elu", ["input": .tensor(x), "alpha": .string("a"), "inplace": .bool(true)])
        expectError(.type("elu_(): argument 'alpha' must be Number, not str"), "elu_", ["input": .tensor(x), "alpha": .string("a")])
        expectError(.type("leaky_relu(): argument 'negative_slope' (position 2) must be Number, not NoneType"), "leaky_relu", ["input": .tensor(x), "negative_slope": .none])
        expectError(.type("glu(): argument 'dim' (position 2) must be int, not bool"), "glu", ["input": .tensor(x), "dim": .bool(true)])
        expectError(.type("log_sigmoid(): argument 'input' must be Tensor, not list"), "logsigmoid", ["input": .list([.double(1)])])
        expectError(TorchError("AttributeError", "'float' object has no attribute 'abs'"), "softsign", ["input": .double(2)])
        expectError(.type("_threshold() missing 2 required positional arguments: 'threshold' and 'value'"), "threshold", ["input": .tensor(x)])
        expectError(.type("threshold_() missing 1 required positional arguments: \"value\""), "threshold_", ["input": .tensor(x), "threshold": .int(0)])
        expectError(.runtime("Boolean value of Tensor with more than one value is ambiguous"), "elu", ["input": .tensor(x), "inplace": .tensor(xi)])
        #expect(throws: Unsupported.self) { try call("rrelu", ["input": .tensor(x), "training": .bool(true)]) }
        // The leaf check comes before the kernel's own.
        expectError(.runtime("a leaf Variable that requires grad is being used in an in-place operation."), "celu_", ["input": .tensor(x.clone(requiresGrad: true)), "alpha": .int(0)])
        // prelu and glu.
        let w = f32([0.25, 0.5])
        expectError(.runtime("Mismatch of parameter numbers and input channel size. Found parameter numbers = 2 and channel size = 1."), "prelu", ["input": .tensor(x), "weight": .tensor(w)])
        expectError(.runtime("prelu: Type promoting not supported. Got Float and Double"), "prelu", ["input": .tensor(x), "weight": .tensor(f64([1]))])
        expectError(.runtime("prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"), "prelu", ["input": .tensor(x), "weight": .tensor(f32([1], [1, 1]))])
        expectError(.runtime("Not allow zero-dim input tensor."), "prelu", ["input": .tensor(f32([1], [])), "weight": .tensor(w)])
        expectError(.runtime("glu does not support scalars because halving size must be even"), "glu", ["input": .tensor(f32([1], []))])
        expectError(.runtime("Halving dimension must be even, but dimension 1 is size 3"), "glu", ["input": .tensor(f32([1, 2, 3, 4, 5, 6], [2, 3]))])
        expectError(.index("Dimension out of range (expected to be in range of [-1, 0], but got 1)"), "glu", ["input": .tensor(x), "dim": .int(1)])
        expectError(.notImplemented("\"glu_cpu\" not implemented for 'Long'"), "glu", ["input": .tensor(xi)])
    }
}
