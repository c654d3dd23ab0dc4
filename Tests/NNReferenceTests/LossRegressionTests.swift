import Foundation
import Testing
import NNCore
import NNReference

private func loss(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
private func f64(_ v: [Double], _ shape: [Int]? = nil, grad: Bool = false) -> Tensor {
    Tensor(shape: shape ?? [v.count], v, requiresGrad: grad)
}
private func close(_ a: [Double], _ b: [Double], _ tol: Double = 1e-12) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) }
}
private func pair(_ op: String, _ x: Tensor, _ t: Tensor, _ extra: [String: Value] = [:]) throws -> Tensor {
    try loss(op, ["input": .tensor(x), "target": .tensor(t)].merging(extra) { $1 })
}
private var none: [String: Value] { ["reduction": .string("none")] }
/// d = x − t = [−0.5, 2, 0].
private var x: Tensor { f64([0, 1, 3]) }
private var t: Tensor { f64([0.5, -1, 3]) }

@Suite struct LossRegressionTests {
    @Test func distanceValues() throws {
        #expect(try pair("mse_loss", x, t, none).doubles == [0.25, 4, 0])
        #expect(try pair("mse_loss", x, t).doubles == [4.25 / 3])
        #expect(try pair("l1_loss", x, t, ["reduction": .string("sum")]).doubles == [2.5])
        // Smooth L1: ½d²/β inside β, |d| − ½β outside; Huber: ½d² inside δ, δ(|d| − ½δ) outside.
        #expect(try pair("smooth_l1_loss", x, t, none).doubles == [0.125, 1.5, 0])
        #expect(try pair("smooth_l1_loss", x, t, none.merging(["beta": .double(2)]) { $1 }).doubles == [0.0625, 1, 0])
        #expect(try pair("smooth_l1_loss", x, t, none.merging(["beta": .double(0)]) { $1 }).doubles == [0.5, 2, 0])
        #expect(try pair("huber_loss", x, t, none.merging(["delta": .double(0.25)]) { $1 }).doubles == [0.09375, 0.46875, 0])
        // Weighted: Σ w f(d) / Σ w for mse and l1, the plain mean for huber.
        let w = f64([1, 2, 5])
        #expect(close(try pair("mse_loss", x, t, ["weight": .tensor(w)]).doubles, [8.25 / 8]))
        #expect(close(try pair("huber_loss", x, t, ["weight": .tensor(w)]).doubles, [3.125 / 3]))
    }

    @Test func distanceWarningsAndNames() throws {
        let (y, warnings) = try Warnings.collect { try pair("mse_loss", f64([1, 2, 3, 4], [2, 2]), f64([1, 2]), ["size_average": .bool(false)]) }
        #expect(y.doubles == [4 + 4])
        #expect(warnings == [
            Warning("UserWarning", "Using a target size (torch.Size([2])) that is different to the input size (torch.Size([2, 2])). "
                    + "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size."),
            Warning("UserWarning", "size_average and reduce args will be deprecated, please use reduction='sum' instead.")])
        let xg = f64([0, 1, 3], grad: true), w = f64([1, 2, 5])
        let names: [(String, [String: Value], String)] = [
            ("mse_loss", [:], "MseLossBackward0"), ("l1_loss", none, "AbsBackward0"), ("l1_loss", [:], "MeanBackward0"),
            ("smooth_l1_loss", [:], "SmoothL1LossBackward0"), ("smooth_l1_loss", ["beta": .double(0)], "MeanBackward0"),
            ("huber_loss", none, "HuberLossBackward0"), ("mse_loss", ["weight": .tensor(w)], "DivBackward0"),
            ("l1_loss", ["weight": .tensor(w), "reduction": .string("none")], "MulBackward0"),
            ("huber_loss", ["weight": .tensor(w)], "MeanBackward0"),
        ]
        for (op, extra, name) in names { #expect(try pair(op, xg, t, extra).gradFn?.name == name, "\(op) \(extra)") }
    }

    @Test func distanceGradients() throws {
        // No |x − t| sits on β or δ, where the second derivative jumps.
        let xs = f64([0.3, -1.2, 2.5, 0.85, -0.15, 1.7], [2, 3]), ts = f64([0.1, 0.4, -0.2], [3]), w = f64([0.5, 1, 2, 1.5, 0.2, 1], [2, 3])
        let settings: [(String, [String: Value])] = [
            ("mse_loss", [:]), ("l1_loss", [:]), ("smooth_l1_loss", ["beta": .double(0.5)]), ("huber_loss", ["delta": .double(0.7)]),
        ]
        for (op, extra) in settings {
            for reduction in ["none", "mean", "sum"] {
                let args = extra.merging(["reduction": .string(reduction)]) { $1 }
                #expect(try RefCheck.gradientError([xs, ts]) { v in try pair(op, v[0], v[1], args) } < 1e-7, "\(op) \(reduction)")
                if op != "smooth_l1_loss" {
                    #expect(try RefCheck.gradientError([xs, ts, w]) { v in
                        try pair(op, v[0], v[1], args.merging(["weight": .tensor(v[2])]) { $1 })
                    } < 1e-7, "\(op) weighted \(reduction)")
                }
            }
        }
    }

    @Test func distanceErrors() throws {
        #expect(throws: TorchError.runtime("smooth_l1_loss does not support negative values for beta.")) {
            try pair("smooth_l1_loss", x, t, ["beta": .double(-1)])
        }
        #expect(throws: TorchError.runtime("huber_loss does not support non-positive values for delta.")) {
            try pair("huber_loss", x, t, ["delta": .double(0)])
        }
        #expect(throws: TorchError.value("Weights and input must have the same size.")) { try pair("mse_loss", x, t, ["weight": .tensor(f64([1]))]) }
        #expect(throws: TorchError.value("Invalid reduction mode: avg. Expected one of 'none', 'mean', 'sum'.")) {
            try pair("l1_loss", x, t, ["weight": .tensor(f64([1, 1, 1])), "reduction": .string("avg")])
        }
        #expect(throws: TorchError.runtime("The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0")) {
            try pair("mse_loss", x, f64([1, 2]))
        }
    }

    @Test func binaryCrossEntropy() throws {
        // −log 0.5 = ln 2; a probability of exactly 0 for a positive target is clamped to log = −100.
        #expect(close(try pair("binary_cross_entropy", f64([0.5, 0]), f64([1, 1]), none).doubles, [log(2), 100]))
        #expect(close(try pair("binary_cross_entropy", f64([0.5, 0.25]), f64([0, 1]), ["weight": .tensor(f64([2]))]).doubles,
                      [log(2) + log(4)]))
        let xs = f64([0.2, 0.7, 0.45, 0.9], [2, 2]), ts = f64([0.1, 0.9, 0.5, 0.3], [2, 2])
        for reduction in ["none", "mean", "sum"] {
            #expect(try RefCheck.gradientError([xs, ts]) { v in
                try pair("binary_cross_entropy", v[0], v[1], ["reduction": .string(reduction), "weight": .tensor(f64([2, 0.5]))])
            } < 1e-7)
        }
        #expect(throws: TorchError.runtime("all elements of input should be between 0 and 1")) { try pair("binary_cross_entropy", f64([1.5]), f64([1])) }
        #expect(throws: TorchError.runtime("all elements of target should be between 0 and 1")) { try pair("binary_cross_entropy", f64([0.5]), f64([-1])) }
        #expect(throws: TorchError.value("Using a target size (torch.Size([1, 1])) that is different to the input size (torch.Size([1])) is deprecated. Please ensure they have the same size.")) {
            try pair("binary_cross_entropy", f64([0.5]), f64([1], [1, 1]))
        }
        #expect(throws: TorchError.runtime("The function 'binary_cross_entropy' is not differentiable with respect to argument 'weight'. This input cannot have requires_grad True.")) {
            try pair("binary_cross_entropy", f64([0.5]), f64([1]), ["weight": .tensor(f64([1], grad: true))])
        }
    }

    @Test func binaryCrossEntropyWithLogits() throws {
        // σ(0) = ½: ln 2, times p for a positive target; logits of ±1e4 do not overflow.
        let bce = "binary_cross_entropy_with_logits"
        #expect(close(try pair(bce, f64([0, 0]), f64([1, 0]), none.merging(["pos_weight": .tensor(f64([3]))]) { $1 }).doubles,
                      [3 * log(2), log(2)]))
        #expect(try pair(bce, f64([1e4, -1e4]), f64([0, 1]), none).doubles == [1e4, 1e4])
        let xs = f64([0.3, -1.2, 2.5, 0.8], [2, 2]), ts = f64([0.1, 1, 0.5, 0], [2, 2])
        for reduction in ["none", "mean", "sum"] {
            #expect(try RefCheck.gradientError([xs, ts]) { v in
                try pair(bce, v[0], v[1], ["reduction": .string(reduction), "weight": .tensor(f64([2, 0.5])), "pos_weight": .tensor(f64([1.5, 3]))])
            } < 1e-7)
        }
        #expect(throws: TorchError.value("Target size (torch.Size([2, 1])) must be the same as input size (torch.Size([2]))")) {
            try pair(bce, f64([0, 1]), f64([0, 1], [2, 1]))
        }
        #expect(throws: TorchError.runtime("output with shape [2] doesn't match the broadcast shape [2, 2]")) {
            try pair(bce, f64([0, 1]), f64([0, 1]), ["weight": .tensor(f64([1, 1, 1, 1], [2, 2]))])
        }
    }

    @Test func poissonNLL() throws {
        // log_input: eˣ − t·x; else x − t·log(x + eps); full adds t log t − t + ½ log(2πt) for t > 1.
        #expect(close(try pair("poisson_nll_loss", f64([0, log(2)]), f64([2, 1]), none).doubles, [1, 2 - log(2)]))
        #expect(close(try pair("poisson_nll_loss", f64([2]), f64([3]), ["log_input": .bool(false), "eps": .double(0)]).doubles,
                      [2 - 3 * log(2)]))
        #expect(close(try pair("poisson_nll_loss", f64([0, 0]), f64([3, 1]), none.merging(["full": .bool(true)]) { $1 }).doubles,
                      [1 + 3 * log(3) - 3 + 0.5 * log(6 * Double.pi), 1]))
        let xs = f64([0.3, 1.2, 2.5, 0.8], [2, 2]), ts = f64([0.5, 3, 1.5, 4], [2, 2])
        for (logInput, full) in [(true, false), (false, false), (true, true), (false, true)] {
            #expect(try RefCheck.gradientError([xs, ts]) { v in
                try pair("poisson_nll_loss", v[0], v[1], ["log_input": .bool(logInput), "full": .bool(full)])
            } < 1e-7)
        }
        #expect(throws: TorchError.value("elementwise_mean is not a valid value for reduction")) {
            try pair("poisson_nll_loss", xs, ts, ["reduction": .string("elementwise_mean")])
        }
    }

    @Test func gaussianNLL() throws {
        func gnll(_ x: Tensor, _ t: Tensor, _ v: Value, _ extra: [String: Value] = [:]) throws -> Tensor {
            try loss("gaussian_nll_loss", ["input": .tensor(x), "target": .tensor(t), "var": v].merging(extra) { $1 })
        }
        // ½ (log v + (x − t)² / v); var below eps is clamped to eps; full adds ½ log 2π.
        #expect(close(try gnll(f64([1]), f64([0]), .double(2)).doubles, [0.5 * (log(2) + 0.5)]))
        #expect(close(try gnll(f64([1]), f64([0]), .tensor(f64([0])), ["eps": .double(0.5), "full": .bool(true)]).doubles,
                      [0.5 * (log(0.5) + 2) + 0.5 * log(2 * Double.pi)]))
        let xs = f64([0.3, -1.2, 2.5, 0.8, 0.1, -0.4], [2, 3]), ts = f64([0.1, 0.4, -0.2], [3])
        for v in [f64([0.5, 1, 2, 1.5, 0.7, 1.1], [2, 3]), f64([0.6, 1.3]), f64([0.4, 0.8, 1.9], [1, 3])] {
            #expect(try RefCheck.gradientError([xs, ts, v]) { a in try gnll(a[0], a[1], .tensor(a[2]), ["reduction": .string("sum")]) } < 1e-7)
        }
        #expect(throws: TorchError.value("var has negative entry/entries")) { try gnll(xs, xs, .double(-1)) }
        #expect(throws: TorchError.value("var is of incorrect size")) { try gnll(xs, xs, .tensor(f64([1, 1, 1]))) }
        #expect(throws: TorchError.value("avg is not valid")) { try gnll(xs, xs, .double(1), ["reduction": .string("avg")]) }
    }
}
