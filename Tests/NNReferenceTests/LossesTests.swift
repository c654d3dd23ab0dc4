import Foundation
import Testing
import NNCore
import NNReference

private func call(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
/// Log-probabilities and a target with one zero: [[-1, -2, -0.5], [-0.1, -3, -1]], [[0.2, 0, 0.8], [0.5, 0.25, 0.25]].
private func pair(requiresGrad: Bool = false) -> (Tensor, Tensor) {
    (Tensor(shape: [2, 3], [-1, -2, -0.5, -0.1, -3, -1] as [Double], requiresGrad: requiresGrad),
     Tensor(shape: [2, 3], [0.2, 0, 0.8, 0.5, 0.25, 0.25] as [Double], requiresGrad: requiresGrad))
}
private func klDiv(_ x: Tensor, _ t: Tensor, _ extra: [String: Value] = [:]) throws -> (Tensor, [Warning]) {
    try Warnings.collect { try call("kl_div", extra.merging(["input": .tensor(x), "target": .tensor(t)]) { $1 }) }
}
private func close(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-15 * max(1, abs($1)) }
}
private let meanWarning = Warning("UserWarning",
    "reduction: 'mean' divides the total loss by both the batch size and the support size.'batchmean' divides only by the batch size, and aligns with the KL div math definition.'mean' will be changed to behave the same as 'batchmean' in the next major release.")
private func legacyWarning(_ r: String) -> Warning {
    Warning("UserWarning", "size_average and reduce args will be deprecated, please use reduction='\(r)' instead.")
}

@Suite struct LossesTests {
    @Test func valuesPerReduction() throws {
        let (x, t) = pair()
        // Values from PyTorch 2.15 in float64.
        let expected: [(String, Bool, [Double])] = [
            ("none", false, [-0.12188758248682008, 0, 0.22148515894863224, -0.29657359027997265, 0.40342640972002736, -0.09657359027997264]),
            ("none", true, [1.4656833097922037, 2, 2.8932032070402083, 0.9892327624200768, 4.17308260423516, 1.6050317708596769]),
            ("sum", false, [0.10987680562189422]), ("sum", true, [13.126233654347326]),
            ("mean", false, [0.01831280093698237]), ("mean", true, [2.1877056090578875]),
            ("batchmean", false, [0.05493840281094711]), ("batchmean", true, [6.563116827173663]),
        ]
        for (reduction, logTarget, values) in expected {
            let (y, _) = try klDiv(x, t, ["reduction": .string(reduction), "log_target": .bool(logTarget)])
            #expect(close(y.doubles, values), "\(reduction) log_target=\(logTarget)")
            #expect(y.shape == (reduction == "none" ? [2, 3] : []))
        }
    }

    @Test func warningsAndLegacyArguments() throws {
        let (x, t) = pair()
        let (mean, w) = try klDiv(x, t)
        #expect(w == [meanWarning] && close(mean.doubles, [0.01831280093698237]))
        #expect(try klDiv(x, t, ["reduction": .string("sum")]).1.isEmpty)
        // legacy_get_string: None counts as True; `reduction` is then ignored and 'mean' does not warn.
        let legacy: [(Value, Value, String, Int)] = [
            (.bool(false), .none, "sum", 1), (.bool(true), .none, "mean", 1), (.none, .bool(false), "none", 6),
            (.bool(false), .bool(false), "none", 6), (.bool(true), .bool(true), "mean", 1),
        ]
        for (sizeAverage, reduce, name, count) in legacy {
            let (y, w) = try klDiv(x, t, ["size_average": sizeAverage, "reduce": reduce, "reduction": .string("sum")])
            #expect(w == [legacyWarning(name)] && y.numel == count)
        }
        // `batchmean` still divides after a legacy choice, as functional.kl_div checks the string.
        let (b, _) = try klDiv(x, t, ["reduce": .bool(true), "reduction": .string("batchmean")])
        #expect(close(b.doubles, [0.01831280093698237 / 2]))
        let (e, ew) = try klDiv(x, t, ["reduction": .string("elementwise_mean")])
        #expect(ew == [Warning("UserWarning", "reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")])
        #expect(close(e.doubles, [0.01831280093698237]))
    }

    @Test func errors() throws {
        let (x, t) = pair()
        #expect(throws: TorchError.value("bad is not a valid value for reduction")) {
            try klDiv(x, t, ["reduction": .string("bad")])
        }
        #expect(throws: TorchError.value("3 is not a valid value for reduction")) { try klDiv(x, t, ["reduction": .int(3)]) }
        #expect(throws: TorchError.value("None is not a valid value for reduction")) { try klDiv(x, t, ["reduction": .none]) }
        #expect(throws: TorchError.runtime("kl_div: Integral inputs not supported.")) {
            try klDiv(x, Tensor(shape: [2, 3], int64: [1, 0, 2, 0, 1, 1]), ["reduction": .string("sum")])
        }
        #expect(throws: TorchError.runtime("The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1")) {
            try klDiv(x, Tensor(shape: [2], [0.5, 0.5] as [Double]), ["reduction": .string("none")])
        }
    }

    @Test func batchmeanBroadcastingAndZeroDim() throws {
        // Divides by input.size(0) even when the target broadcasts to more rows.
        let x = Tensor(shape: [3], [-1, -2, -3] as [Double]), t = Tensor(shape: [2, 3], [Double](repeating: 0.3, count: 6))
        let (b, _) = try klDiv(x, t, ["reduction": .string("batchmean")])
        let (s, _) = try klDiv(x, t, ["reduction": .string("sum")])
        #expect(close(b.doubles, [s.item / 3]))
        // A 0-dim input is not divided: batchmean is the sum.
        let (z, _) = try klDiv(Tensor(shape: [], [-1.0]), Tensor(shape: [], [0.5]), ["reduction": .string("batchmean")])
        #expect(close(z.doubles, [0.5 * (log(0.5) + 1)]))
        // Promotion: float32 input, float64 target.
        let (p, _) = try klDiv(Tensor(shape: [1], [-1] as [Float]), Tensor(shape: [1], [0.5] as [Double]), ["reduction": .string("none")])
        #expect(p.dtype == .float64)
    }

    @Test func zeroTarget() throws {
        // xlogy: a zero target contributes 0 even against −inf, except where the product is NaN.
        let x = Tensor(shape: [3], [-.infinity, -1, .nan] as [Double]), t = Tensor(shape: [3], [0, 0, 0] as [Double])
        let (y, _) = try klDiv(x, t, ["reduction": .string("none")])
        #expect(y.doubles[0].isNaN && y.doubles[1] == 0 && y.doubles[2].isNaN)
        // Its target gradient is NaN (g·t/t), as in PyTorch; the input's is −t·g = 0.
        let (xs, ts) = pair(requiresGrad: true)
        let (l, _) = try klDiv(xs, ts, ["reduction": .string("sum")])
        try l.backward()
        #expect(ts.grad!.doubles[1].isNaN && abs(ts.grad!.doubles[0] - (2 + log(0.2))) < 1e-12)
        #expect(xs.grad!.doubles == [-0.2, -0.0, -0.8, -0.5, -0.25, -0.25])
    }

    @Test func gradFnNames() throws {
        let (x, t) = pair(requiresGrad: true)
        let names: [(String, Bool, String)] = [
            ("none", false, "SubBackward0"), ("none", true, "MulBackward0"), ("sum", false, "SumBackward0"),
            ("mean", true, "MeanBackward0"), ("batchmean", false, "DivBackward0"),
        ]
        for (reduction, logTarget, name) in names {
            let (y, _) = try klDiv(x, t, ["reduction": .string(reduction), "log_target": .bool(logTarget)])
            #expect(y.gradFn?.name == name)
        }
        let (z, _) = try klDiv(Tensor(shape: [], [-1.0], requiresGrad: true), Tensor(shape: [], [0.5]), ["reduction": .string("batchmean")])
        #expect(z.gradFn?.name == "SumBackward0")
        let n = try GradMode.noGrad { try klDiv(x, t, ["reduction": .string("sum")]).0 }
        #expect(n.gradFn == nil)
    }

    @Test func gradients() throws {
        let x = Tensor(shape: [2, 3], [-1.2, -0.3, -2.0, -0.7, -1.6, -0.1] as [Double])
        let t = Tensor(shape: [2, 3], [0.3, 0.6, 0.1, 0.45, 0.2, 0.35] as [Double])
        let row = Tensor(shape: [3], [0.2, 0.5, 0.3] as [Double])
        for reduction in ["none", "sum", "mean", "batchmean"] {
            for logTarget in [false, true] {
                let extra: [String: Value] = ["reduction": .string(reduction), "log_target": .bool(logTarget)]
                #expect(try RefCheck.gradientError([x, t]) { try klDiv($0[0], $0[1], extra).0 } < 1e-7)
                #expect(try RefCheck.gradientError([x, row]) { try klDiv($0[0], $0[1], extra).0 } < 1e-7)
            }
        }
    }

    @Test func savedTargetVersion() throws {
        let x = Tensor(shape: [2], [-1, -2] as [Double], requiresGrad: true)
        let t = Tensor(shape: [2], [0.5, 0.5] as [Double])
        let (y, _) = try klDiv(x, t, ["reduction": .string("sum")])
        _ = try call("mul_", ["input": .tensor(t), "other": .int(2)])
        #expect(RefCheck.error { try y.backward() }
                == RefCheck.versionError("[torch.DoubleTensor [2]]", version: 1, expected: 0))
        // With log_target only intermediates are saved: writing the target afterwards is fine.
        let (z, _) = try klDiv(x, t, ["reduction": .string("sum"), "log_target": .bool(true)])
        _ = try call("mul_", ["input": .tensor(t), "other": .int(2)])
        try z.backward()
        #expect(x.grad != nil)
    }
}
