import Foundation
import Testing
import NNCore
@testable import NNOptimized
import NNReference

/// The optimized activations against the reference backend: values, `grad_fn`, gradients and
/// errors for every op of `Signatures.activation`, both dtypes, every parameter branch, SIMD tails
/// (1, 15, 17, 33 elements) and a size split across threads; the in-place forms on non-leaves
/// (including the backward errors of in-place results); and the accuracy of the vector maths
/// they add (`verf`, `vexpm1`, `vlog1p`).
@Suite struct SIMDActivationTests {
    /// Every elementwise op with each of its parameter branches (the defaults first).
    static var variants: [(String, [String: Value])] { [
        ("relu6", [:]), ("leaky_relu", [:]), ("leaky_relu", ["negative_slope": .double(-0.3)]),
        ("elu", [:]), ("elu", ["alpha": .double(0.5)]), ("elu", ["alpha": .double(-1.5)]), ("selu", [:]),
        ("celu", [:]), ("celu", ["alpha": .double(0.3)]), ("celu", ["alpha": .double(-2)]),
        ("gelu", [:]), ("gelu", ["approximate": .string("tanh")]), ("silu", [:]), ("mish", [:]),
        ("softplus", [:]), ("softplus", ["beta": .double(2), "threshold": .double(1)]),
        ("softplus", ["beta": .double(0.5), "threshold": .int(40)]), ("softsign", [:]),
        ("hardtanh", [:]), ("hardtanh", ["min_val": .double(-2), "max_val": .double(0.5)]),
        ("hardswish", [:]), ("hardsigmoid", [:]),
        ("threshold", ["threshold": .double(0.1), "value": .double(-1)]), ("logsigmoid", [:]), ("tanhshrink", [:]),
        ("softshrink", [:]), ("softshrink", ["lambd": .double(1.2)]), ("hardshrink", [:]), ("hardshrink", ["lambd": .int(1)]),
        ("rrelu", [:]), ("rrelu", ["lower": .double(0.1), "upper": .double(0.6)]),
    ] }

    @Test func elementwise() throws {
        var r = Random(11)
        for (op, params) in Self.variants {
            for shape in [[], [0], [1], [15], [17], [3, 33], [2, 3, 5]] {
                for dtype in [DType.float32, .float64] {
                    var args = params
                    args["input"] = .tensor(r.tensor(shape, dtype, scale: 3))
                    try check(op, args)
                }
            }
        }
    }

    /// 40,000 elements: each kernel's loop is split across the cores.
    @Test func threaded() throws {
        var r = Random(12)
        for (op, params) in Self.variants {
            var args = params
            args["input"] = .tensor(r.tensor([2, 20_000], scale: 4))
            try check(op, args)
        }
        for op in ["gelu", "elu", "hardswish"] { try check(op, ["input": .tensor(r.tensor([40_000], .float64, scale: 4))]) }
    }

    /// NaN, ±∞, ±0, the joins of the piecewise functions, saturation and overflow points.
    @Test func edgeValues() throws {
        let edges: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, -3, 3, 0.5, -0.5, 1, -1, 1.2, -1.2, 0.1, 20, 21, -20,
                               40, 88, 89, 100, -87, -104, -200, 1e-3, -1e-3, 1e-6, -1e-6, 0.3, -0.3, 0.6, -6, 6, 2.5, -2.5]
        for (op, params) in Self.variants {
            for dtype in [DType.float32, .float64] {
                var args = params
                let x = Tensor(shape: [edges.count], data: TensorData.float64(edges).converted(to: dtype))
                try x.requiresGrad_()
                args["input"] = .tensor(x)
                try check(op, args)
            }
        }
    }

    /// int64 and bool inputs: computed in int64 (hardtanh, relu6, threshold, with parameters
    /// truncated or an overflow error), promoted to float32 (softsign, tanhshrink), or refused.
    @Test func integerInputs() throws {
        let ints = Tensor(shape: [6], int64: [-9, -2, 0, 1, 3, 8])
        let bools = Tensor(shape: [2], data: .bool([true, false]))
        for (op, params) in Self.variants {
            for x in [ints, bools] {
                var args = params
                args["input"] = .tensor(x)
                try check(op, args)
            }
        }
        try check("hardtanh", ["input": .tensor(ints), "min_val": .double(-2.7), "max_val": .double(5.9)])
        try check("threshold", ["input": .tensor(ints), "threshold": .double(1.5), "value": .double(-7.9)])
        try check("threshold", ["input": .tensor(ints), "threshold": .double(1e30), "value": .int(0)])
        try check("hardtanh_", ["input": .tensor(ints.clone()), "min_val": .int(-1), "max_val": .int(2)])
    }

    /// Argument errors, from the shared calls: both backends must word them identically.
    @Test func errors() throws {
        var r = Random(13)
        let x = r.tensor([4, 6])
        try check("gelu", ["input": .tensor(x), "approximate": .string("fast")])
        try check("celu", ["input": .tensor(x), "alpha": .double(0)])
        try check("hardtanh", ["input": .tensor(x), "min_val": .double(2), "max_val": .double(1)])
        try check("hardtanh_", ["input": .tensor(x.clone()), "min_val": .double(2), "max_val": .double(1)])  // no check: hi wins
        try check("softshrink", ["input": .tensor(x), "lambd": .double(-0.5)])
        try check("rrelu", ["input": .tensor(x), "lower": .double(0.5), "upper": .double(0.1)])
        try check("rrelu", ["input": .tensor(x), "training": .bool(true)])  // unsupported on both
        try check("elu", ["input": .tensor(x), "alpha": .string("a")])
        try check("threshold", ["input": .tensor(x)])
        try check("softsign", ["input": .double(2)])
        try check("leaky_relu", ["input": .tensor(x), "inplace": .bool(true)])  // a leaf written in place
    }

    /// The in-place forms on a non-leaf (x · 1.5): same result, `grad_fn`, gradient to x, and
    /// the same backward error for an in-place result that cannot give the gradient.
    @Test func inplace() throws {
        let cases: [(String, [String: Value])] = [
            ("relu6", ["inplace": .bool(true)]), ("leaky_relu_", [:]), ("leaky_relu_", ["negative_slope": .double(-0.2)]),
            ("leaky_relu", ["inplace": .bool(true)]), ("elu_", [:]), ("elu_", ["alpha": .double(-1)]), ("elu", ["inplace": .bool(true)]),
            ("selu_", [:]), ("selu", ["inplace": .bool(true)]), ("celu_", ["alpha": .double(0.4)]), ("celu_", ["alpha": .double(-0.4)]),
            ("celu", ["inplace": .bool(true)]), ("silu", ["inplace": .bool(true)]), ("mish", ["inplace": .bool(true)]),
            ("hardtanh_", [:]), ("hardtanh", ["inplace": .bool(true), "min_val": .double(-0.5)]), ("hardswish", ["inplace": .bool(true)]),
            ("hardsigmoid", ["inplace": .bool(true)]), ("threshold_", ["threshold": .double(0.2), "value": .double(3)]),
            ("threshold", ["threshold": .double(0.2), "value": .double(3), "inplace": .bool(true)]),
            ("rrelu_", [:]), ("rrelu", ["inplace": .bool(true), "lower": .double(0.2)]),
        ]
        for (op, params) in cases {
            for dtype in [DType.float32, .float64] {
                func run(_ backend: OpTable) throws -> (Tensor, Tensor, String) {
                    var r = Random(14)
                    let x = r.tensor([3, 21], dtype, scale: 2)
                    let y = try backend.call("mul", ["input": .tensor(x), "other": .double(1.5)]).tensor!
                    var args = params
                    args["input"] = .tensor(y)
                    let z = try backend.call(op, args).tensor!
                    #expect(z === y)
                    var rg = Random(15)
                    let g = rg.tensor([3, 21], dtype, grad: false)
                    do { try z.backward(gradient: g) } catch { return (x, z, "\(error)") }
                    return (x, z, "none")
                }
                let (x1, z1, e1) = try run(optimized)
                let (x2, z2, e2) = try run(reference)
                #expect(z1.gradFn?.name == z2.gradFn?.name, "\(op)")
                #expect(close(z1, z2, rtol: 2e-6, atol: 1e-6) == nil, "\(op) \(dtype)")
                #expect(e1 == e2, "\(op)")
                if e1 == "none" {
                    #expect(close(x1.grad!, x2.grad!, rtol: 1e-5, atol: 1e-6) == nil, "\(op) \(dtype) grad")
                }
            }
        }
    }

    /// A tensor the node keeps, written in place before the backward: the same version error
    /// (the input out of place; the result of `leaky_relu_`/`elu_`; none for `tanhshrink`,
    /// which keeps its own copy).
    @Test func savedTensorsModified() throws {
        for (op, inplace) in [("elu", false), ("gelu", false), ("tanhshrink", false), ("leaky_relu_", true), ("elu_", true), ("threshold_", true)] {
            let errors = try [optimized, reference].map { backend -> String in
                let x = Tensor(shape: [4], [0.5, -1, 2, 3] as [Float], requiresGrad: true)
                var input = x
                if inplace { input = try backend.call("mul", ["input": .tensor(x), "other": .double(1)]).tensor! }
                var args: [String: Value] = ["input": .tensor(input)]
                if op == "threshold_" { (args["threshold"], args["value"]) = (.double(0), .double(0)) }
                let y = try backend.call(op, args).tensor!
                _ = try backend.call("mul_", ["input": .tensor(inplace ? y : x.detach()), "other": .double(2)])
                do { try y.backward(gradient: Tensor(shape: [4], [1, 1, 1, 1] as [Float])) } catch { return "\(error)" }
                return "none"
            }
            #expect(errors[0] == errors[1], "\(op)")
            #expect((errors[0] == "none") == (op == "tanhshrink" || op == "threshold_"), "\(op): \(errors[0])")
        }
    }

    @Test func prelu() throws {
        var r = Random(16)
        let shapes: [([Int], [Int])] = [([2, 3, 4, 5], [3]), ([2, 3, 17], [3]), ([5, 7], [7]), ([3, 40], [1]), ([33], [1]),
                                        ([], []), ([], [1]), ([2, 1, 3], [1]), ([4, 3, 0], [3]), ([0, 3], [3]), ([2, 3, 2100], [1]),
                                        ([2, 4, 9000], [4])]
        for (s, w) in shapes {
            for dtype in [DType.float32, .float64] {
                try check("prelu", ["input": .tensor(r.tensor(s, dtype)), "weight": .tensor(r.tensor(w, dtype, scale: 0.5))],
                          rtol: 5e-5, atol: 5e-5)
            }
        }
        let edges = Tensor(shape: [1, 2, 4], [.nan, .infinity, -.infinity, 0, -0.0, 1, -1, 3] as [Float], requiresGrad: true)
        try check("prelu", ["input": .tensor(edges), "weight": .tensor(Tensor(shape: [2], [0.25, -2] as [Float], requiresGrad: true))])
        // Errors: dtype mismatch, channel count, weight rank, integer input.
        try check("prelu", ["input": .tensor(r.tensor([2, 3])), "weight": .tensor(r.tensor([3], .float64))])
        try check("prelu", ["input": .tensor(r.tensor([2, 3])), "weight": .tensor(r.tensor([4]))])
        try check("prelu", ["input": .tensor(r.tensor([2, 4])), "weight": .tensor(r.tensor([2, 2]))])
        try check("prelu", ["input": .tensor(Tensor(shape: [2], int64: [1, -1])), "weight": .tensor(Tensor(shape: [1], int64: [2]))])
    }

    @Test func glu() throws {
        var r = Random(17)
        let cases: [([Int], Int)] = [([4, 34], -1), ([6, 5, 17], 0), ([2, 40, 3], 1), ([2], 0), ([3, 2, 2], 2), ([0, 4], 1),
                                     ([2, 40_000], 1), ([5_000, 8], -1)]
        for (s, dim) in cases {
            for dtype in [DType.float32, .float64] {
                try check("glu", ["input": .tensor(r.tensor(s, dtype, scale: 3)), "dim": .int(dim)])
            }
        }
        let edges = Tensor(shape: [2, 4], [.nan, .infinity, -.infinity, 1, 2, -100, 100, .nan] as [Float], requiresGrad: true)
        try check("glu", ["input": .tensor(edges), "dim": .int(0)])
        try check("glu", ["input": .tensor(r.tensor([3, 5])), "dim": .int(1)])  // odd size
        try check("glu", ["input": .tensor(r.tensor([]))])  // 0-dim
        try check("glu", ["input": .tensor(r.tensor([2, 4])), "dim": .int(2)])  // out of range
        try check("glu", ["input": .tensor(Tensor(shape: [2], int64: [1, 2]))])
    }

    /// The vector maths the activations add, against Double's on a dense grid.
    @Test func vectorMathAccuracy() {
        func ulps(_ a: Float, _ b: Double) -> Double {
            a.isNaN && b.isNaN ? 0 : abs(Double(a) - b) / Double(Float(b).ulp)
        }
        var worst = (erf: 0.0, expm1: 0.0, log1p: 0.0)
        var x: Float = -5
        while x < 5 {
            var v = VF()
            for k in 0..<16 { v[k] = x + Float(k) * 0.000_37 }
            let (e, m, l) = (verf(v), vexpm1(v), vlog1p(v.replacing(with: -v, where: v .< 0)))
            for k in 0..<16 {
                let d = Double(v[k])
                worst.erf = max(worst.erf, ulps(e[k], erf(d)))
                worst.expm1 = max(worst.expm1, ulps(m[k], expm1(d)))
                worst.log1p = max(worst.log1p, ulps(l[k], log1p(abs(d))))
            }
            x += 0.006_1
        }
        #expect(worst.erf <= 3, "verf \(worst.erf) ULP")
        #expect(worst.expm1 <= 4, "vexpm1 \(worst.expm1) ULP")
        #expect(worst.log1p <= 3, "vlog1p \(worst.log1p) ULP")
        // Edges: NaN stays NaN; erf(±∞) = ±1, expm1(−∞) = −1, log1p(+∞) = +∞, log1p(−1) = −∞, tiny u.
        let edges = VF(Float.nan, .infinity, -.infinity, 0, -0.0, 1e-30, -1, 100, -100, 4, -4, 3.9, 1e-8, -1e-8, 88, 1e38)
        let (e, m, l) = (verf(edges), vexpm1(edges), vlog1p(edges))
        #expect(e[0].isNaN && m[0].isNaN && l[0].isNaN)
        #expect(e[1] == 1 && e[2] == -1 && e[7] == 1 && e[8] == -1 && e[3] == 0)
        #expect(m[2] == -1 && m[1] == .infinity && m[5] == 1e-30 && m[12] == 1e-8)
        #expect(l[1] == .infinity && l[6] == -.infinity && l[5] == 1e-30 && l[13] == -1e-8 && abs(l[15] - 87.498) < 1e-3)
    }
}
