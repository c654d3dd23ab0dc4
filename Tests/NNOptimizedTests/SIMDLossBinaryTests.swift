import Foundation
import Testing
import NNCore
import NNOptimized
import NNReference

/// The optimized binary and likelihood losses against the reference: `binary_cross_entropy`
/// (and `_with_logits`), `soft_margin_loss`, `multilabel_soft_margin_loss`, `poisson_nll_loss`,
/// `gaussian_nll_loss`; every reduction, optional argument and both dtypes, on sizes that take
/// the 16-lane paths and their tails (1, 15, 17, 33) and one large enough to split across threads.
@Suite struct SIMDLossBinaryTests {
    static let reductions = ["none", "sum", "mean"]
    static let shapes: [[Int]] = [[1], [15], [17], [2, 33]]
    static let big = [3, 1100]

    /// The tolerance for a dtype: float32 sums add in another order than the reference's.
    static func tol(_ dtype: DType, big: Bool = false) -> (Double, Double) {
        dtype == .float64 ? (1e-10, 1e-10) : big ? (1e-4, 1e-4) : (2e-5, 2e-5)
    }

    /// Probabilities in (0, 1), σ of normal values.
    static func probabilities(_ r: inout Random, _ shape: [Int], _ dtype: DType, grad: Bool = true) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { _ in 1 / (1 + exp(-2 * r.normal())) }
        let t = Tensor(shape: shape, data: TensorData.float64(values).converted(to: dtype))
        if grad { try! t.requiresGrad_() }
        return t
    }

    static func with(_ r: inout Random, _ shape: [Int], _ dtype: DType, _ values: [Double], grad: Bool = true) -> Tensor {
        let t = Tensor(shape: shape, data: TensorData.float64(values).converted(to: dtype))
        if grad { try! t.requiresGrad_() }
        return t
    }

    @Test func binaryCrossEntropy() throws {
        var r = Random(21)
        for dtype in [DType.float32, .float64] {
            for shape in Self.shapes + [Self.big] {
                let (rtol, atol) = Self.tol(dtype, big: shape == Self.big)
                for reduction in Self.reductions {
                    var args: [String: Value] = ["input": .tensor(Self.probabilities(&r, shape, dtype)),
                                                 "target": .tensor(Self.probabilities(&r, shape, dtype)), "reduction": .string(reduction)]
                    try check("binary_cross_entropy", args, rtol: rtol, atol: atol)
                    args["weight"] = .tensor(r.tensor([shape.last!], dtype, offset: 1, grad: false))
                    try check("binary_cross_entropy", args, rtol: rtol, atol: atol)
                    args["weight"] = .tensor(r.tensor(shape, dtype, offset: 1, grad: false))
                    try check("binary_cross_entropy", args, rtol: rtol, atol: atol)
                }
            }
            // Exact 0 and 1 (the logs clamped at −100), a target without a gradient, legacy arguments.
            let edges = [0, 1, 0.5, 1e-6, 1 - 1e-6, 0, 1, 0.25, 0.75, 1e-3, 0.999, 0.1, 0.9, 0.3, 0.7, 0.05, 0.95]
            let target = Self.with(&r, [17], dtype, (0..<17).map { Double($0 % 3) / 2 }, grad: false)
            for (average, reduce) in [(true, true), (false, true), (true, false)] {
                try check("binary_cross_entropy", ["input": .tensor(Self.with(&r, [17], dtype, edges)), "target": .tensor(target),
                                                   "size_average": .bool(average), "reduce": .bool(reduce)])
            }
        }
        // Errors: out of range, sizes, dtypes, a weight requiring grad.
        try check("binary_cross_entropy", ["input": .tensor(r.tensor([4])), "target": .tensor(Self.probabilities(&r, [4], .float32))])
        try check("binary_cross_entropy", ["input": .tensor(Self.probabilities(&r, [4], .float32)), "target": .tensor(Self.probabilities(&r, [5], .float32))])
        try check("binary_cross_entropy", ["input": .tensor(Self.probabilities(&r, [4], .float32)), "target": .tensor(Self.probabilities(&r, [4], .float64))])
        try check("binary_cross_entropy", ["input": .tensor(Self.probabilities(&r, [4], .float32)), "target": .tensor(Self.probabilities(&r, [4], .float32)),
                                           "weight": .tensor(r.tensor([4]))])
    }

    @Test func binaryCrossEntropyWithLogits() throws {
        var r = Random(22)
        for dtype in [DType.float32, .float64] {
            for shape in Self.shapes + [Self.big] {
                let (rtol, atol) = Self.tol(dtype, big: shape == Self.big)
                for reduction in Self.reductions {
                    var args: [String: Value] = ["input": .tensor(r.tensor(shape, dtype, scale: 4)),
                                                 "target": .tensor(Self.probabilities(&r, shape, dtype)), "reduction": .string(reduction)]
                    try check("binary_cross_entropy_with_logits", args, rtol: rtol, atol: atol)
                    args["pos_weight"] = .tensor(r.tensor([shape.last!], dtype, offset: 2, grad: false))
                    try check("binary_cross_entropy_with_logits", args, rtol: rtol, atol: atol)
                    args["weight"] = .tensor(r.tensor(shape, dtype, offset: 1, grad: false))
                    try check("binary_cross_entropy_with_logits", args, rtol: rtol, atol: atol)
                    args["pos_weight"] = nil
                    try check("binary_cross_entropy_with_logits", args, rtol: rtol, atol: atol)
                }
            }
            // Large logits (no overflow either way), legacy arguments.
            let logits = Self.with(&r, [17], dtype, [-200, -90, -50, -20, -1, -0.0, 0, 1e-4, 1, 20, 50, 90, 200, 3, -3, 0.5, -0.5])
            try check("binary_cross_entropy_with_logits", ["input": .tensor(logits), "target": .tensor(Self.probabilities(&r, [17], dtype)),
                                                           "pos_weight": .tensor(r.tensor([1], dtype, offset: 2, grad: false)),
                                                           "size_average": .bool(false)])
        }
        try check("binary_cross_entropy_with_logits", ["input": .tensor(r.tensor([3])), "target": .tensor(r.tensor([4]))])
        try check("binary_cross_entropy_with_logits", ["input": .tensor(r.tensor([3])), "target": .tensor(r.tensor([3])),
                                                       "pos_weight": .tensor(r.tensor([3]))])
        try check("binary_cross_entropy_with_logits", ["input": .tensor(r.tensor([2, 3])), "target": .tensor(r.tensor([2, 3])),
                                                       "weight": .tensor(r.tensor([4], grad: false))])
    }

    @Test func softMargin() throws {
        var r = Random(23)
        for dtype in [DType.float32, .float64] {
            for shape in Self.shapes + [Self.big] {
                let (rtol, atol) = Self.tol(dtype, big: shape == Self.big)
                for reduction in Self.reductions {
                    let labels = (0..<shape.reduce(1, *)).map { _ in r.int(0...1) == 0 ? -1.0 : 1.0 }
                    try check("soft_margin_loss", ["input": .tensor(r.tensor(shape, dtype, scale: 3)),
                                                   "target": .tensor(Self.with(&r, shape, dtype, labels, grad: false)),
                                                   "reduction": .string(reduction)], rtol: rtol, atol: atol)
                    // The target broadcast into the input, in another dtype.
                    try check("soft_margin_loss", ["input": .tensor(r.tensor(shape, dtype, scale: 3)),
                                                   "target": .tensor(r.tensor([shape.last!], .float64, grad: false)),
                                                   "reduction": .string(reduction)], rtol: rtol, atol: atol)
                }
            }
            let large = Self.with(&r, [15], dtype, [-200, -100, -90, -50, -1, 0, 1, 50, 90, 100, 200, 3, -3, 0.5, -0.5])
            try check("soft_margin_loss", ["input": .tensor(large), "target": .tensor(r.tensor([15], dtype, grad: false)), "reduce": .bool(false)])
        }
        try check("soft_margin_loss", ["input": .tensor(r.tensor([3])), "target": .tensor(r.tensor([3]))])
        try check("soft_margin_loss", ["input": .tensor(r.tensor([3])), "target": .tensor(r.tensor([2, 3], grad: false))])
    }

    @Test func multilabelSoftMargin() throws {
        var r = Random(24)
        for dtype in [DType.float32, .float64] {
            for shape in Self.shapes + [Self.big, [2, 3, 17]] {
                let (rtol, atol) = Self.tol(dtype, big: shape == Self.big)
                for reduction in Self.reductions {
                    let c = shape.last!
                    var args: [String: Value] = ["input": .tensor(r.tensor(shape, dtype, scale: 3)),
                                                 "target": .tensor(Self.probabilities(&r, shape, dtype)), "reduction": .string(reduction)]
                    try check("multilabel_soft_margin_loss", args, rtol: rtol, atol: atol)
                    args["weight"] = .tensor(r.tensor([c], dtype, offset: 1))
                    try check("multilabel_soft_margin_loss", args, rtol: rtol, atol: atol)
                }
            }
            // A target with more dims than the input (the class-dim sum then has inner elements), an int64 target.
            try check("multilabel_soft_margin_loss", ["input": .tensor(r.tensor([5], dtype)), "target": .tensor(Self.probabilities(&r, [3, 5], dtype)),
                                                      "weight": .tensor(r.tensor([3, 1], dtype))], rtol: 1e-5, atol: 1e-5)
            try check("multilabel_soft_margin_loss", ["input": .tensor(r.tensor([4, 6], dtype)),
                                                      "target": .tensor(Tensor(shape: [4, 6], int64: (0..<24).map { Int64($0 % 2) })),
                                                      "size_average": .bool(false)])
        }
        try check("multilabel_soft_margin_loss", ["input": .tensor(r.tensor([2, 3])), "target": .tensor(r.tensor([2, 3])), "reduction": .string("max")])
        try check("multilabel_soft_margin_loss", ["input": .tensor(r.tensor([2, 3])), "target": .tensor(r.tensor([2, 4]))])
    }

    @Test func poissonNLL() throws {
        var r = Random(25)
        for dtype in [DType.float32, .float64] {
            for shape in Self.shapes + [Self.big] {
                let (rtol, atol) = Self.tol(dtype, big: shape == Self.big)
                for reduction in Self.reductions {
                    for (logInput, full) in [(true, false), (false, false), (true, true), (false, true)] {
                        let n = shape.reduce(1, *)
                        // Targets on both sides of 1 (the Stirling term's mask), positive rates without log_input.
                        let target = Self.with(&r, shape, dtype, (0..<n).map { _ in abs(r.normal()) * 3 })
                        let input = logInput ? r.tensor(shape, dtype) : Self.with(&r, shape, dtype, (0..<n).map { _ in abs(r.normal()) + 0.1 })
                        try check("poisson_nll_loss", ["input": .tensor(input), "target": .tensor(target), "log_input": .bool(logInput),
                                                       "full": .bool(full), "reduction": .string(reduction)], rtol: rtol, atol: atol)
                    }
                }
            }
            // Broadcast target, eps, legacy arguments.
            try check("poisson_nll_loss", ["input": .tensor(Self.probabilities(&r, [3, 17], dtype)), "target": .tensor(Self.with(&r, [17], dtype, (0..<17).map { Double($0) / 4 })),
                                           "log_input": .bool(false), "eps": .double(0.5), "full": .bool(true), "reduce": .bool(false)])
        }
        try check("poisson_nll_loss", ["input": .tensor(r.tensor([3])), "target": .tensor(r.tensor([3])), "reduction": .string("elementwise_mean")])
        try check("poisson_nll_loss", ["input": .tensor(r.tensor([3])), "target": .tensor(r.tensor([4]))])
    }

    @Test func gaussianNLL() throws {
        var r = Random(26)
        for dtype in [DType.float32, .float64] {
            for shape in [[2, 1], [3, 15], [2, 17], [2, 33], Self.big] {
                let (rtol, atol) = Self.tol(dtype, big: shape == Self.big)
                for reduction in Self.reductions {
                    for full in [false, true] {
                        let n = shape.reduce(1, *)
                        // var: the input's shape (some below eps), one dim short, a broadcast dim of 1.
                        let variances: [([Int], [Double])] = [
                            (shape, (0..<n).map { $0 % 5 == 0 ? 1e-8 : abs(r.normal()) + 0.05 }),
                            ([shape[0]], (0..<shape[0]).map { _ in abs(r.normal()) + 0.1 }),
                            ([shape[0], 1], (0..<shape[0]).map { _ in abs(r.normal()) + 0.1 }),
                        ]
                        for (vshape, values) in variances {
                            try check("gaussian_nll_loss", ["input": .tensor(r.tensor(shape, dtype)), "target": .tensor(r.tensor(shape, dtype)),
                                                            "var": .tensor(Self.with(&r, vshape, dtype, values)), "full": .bool(full),
                                                            "reduction": .string(reduction)], rtol: rtol, atol: atol)
                        }
                    }
                }
            }
            try check("gaussian_nll_loss", ["input": .tensor(r.tensor([4, 5], dtype)), "target": .tensor(r.tensor([5], dtype)),
                                            "var": .double(0.7), "eps": .double(1e-3)])
        }
        try check("gaussian_nll_loss", ["input": .tensor(r.tensor([3])), "target": .tensor(r.tensor([3])), "var": .tensor(r.tensor([3], offset: -5))])
        try check("gaussian_nll_loss", ["input": .tensor(r.tensor([3, 4])), "target": .tensor(r.tensor([3, 4])), "var": .tensor(r.tensor([2], offset: 1))])
    }

    /// Writing a saved tensor in place before the backward fails as in the reference.
    @Test func savedTensorsVersionChecked() throws {
        var r = Random(27)
        let (x, p) = (r.tensor([3, 5]), Self.probabilities(&r, [3, 5], .float32))
        let target = Self.probabilities(&r, [3, 5], .float32, grad: false)
        try checkWrittenAfter("binary_cross_entropy", ["input": .tensor(p), "target": .tensor(target)], writing: "target", saved: true)
        try checkWrittenAfter("binary_cross_entropy_with_logits", ["input": .tensor(x), "target": .tensor(target),
                                                                   "pos_weight": .tensor(r.tensor([5], grad: false))],
                              writing: "pos_weight", saved: true)
        try checkWrittenAfter("soft_margin_loss", ["input": .tensor(x), "target": .tensor(target)], writing: "target", saved: true)
        try checkWrittenAfter("multilabel_soft_margin_loss", ["input": .tensor(x), "target": .tensor(target), "reduction": .string("none")],
                              writing: "target", saved: true)
        try checkWrittenAfter("poisson_nll_loss", ["input": .tensor(x), "target": .tensor(target)], writing: "target", saved: true)
        try checkWrittenAfter("gaussian_nll_loss", ["input": .tensor(x), "target": .tensor(target), "var": .double(0.5)],
                              writing: "target", saved: true)
    }
}

/// Runs `op` on each backend, writes the argument `key` (a tensor needing no gradient) in place
/// with `relu_`, then runs the backward: both backends must fail with the same message when the
/// loss saved that tensor (`saved`), or both succeed.
func checkWrittenAfter(_ op: String, _ args: [String: Value], writing key: String, saved: Bool,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    var outcomes: [String] = []
    for backend in [optimized, reference] {
        let a = copies(args)
        let out = try backend.call(op, a).tensor!
        _ = try backend.call("relu_", ["input": a[key]!])
        let ones = Tensor(shape: out.shape, data: TensorData.float64(Array(repeating: 1, count: out.numel)).converted(to: out.dtype))
        do { try out.backward(gradient: ones); outcomes.append("ok") } catch { outcomes.append("\(error)") }
    }
    #expect(outcomes[0] == outcomes[1], "\(op): \(outcomes)", sourceLocation: sourceLocation)
    let failed = outcomes[1] != "ok"
    #expect(failed == saved, "\(op): \(outcomes[1])", sourceLocation: sourceLocation)
}
