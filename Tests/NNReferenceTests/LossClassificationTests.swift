import Foundation
import Testing
import NNCore
import NNReference

private func loss(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
private func f64(_ v: [Double], _ shape: [Int]? = nil, grad: Bool = false) -> Tensor {
    Tensor(shape: shape ?? [v.count], v, requiresGrad: grad)
}
private func ints(_ v: [Int64], _ shape: [Int]? = nil) -> Tensor { Tensor(shape: shape ?? [v.count], int64: v) }
private func close(_ a: [Double], _ b: [Double], _ tol: Double = 1e-12) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.isNaN && $1.isNaN || abs($0 - $1) <= tol * max(1, abs($1)) }
}
/// Log-probabilities of 2 samples over 3 classes, targets [2, 0], weights [1, 2, 3].
private var logProbs: Tensor { f64([-1, -2, -3, -0.5, -1.5, -2.5], [2, 3]) }
private var classes: Tensor { ints([2, 0]) }
private var weights: Tensor { f64([1, 2, 3]) }

@Suite struct LossClassificationTests {
    @Test func nllValues() throws {
        func nll(_ extra: [String: Value]) throws -> [Double] {
            try loss("nll_loss", ["input": .tensor(logProbs), "target": .tensor(classes)].merging(extra) { $1 }).doubles
        }
        #expect(try nll(["reduction": .string("none")]) == [3, 0.5])
        #expect(try nll(["reduction": .string("sum")]) == [3.5])
        #expect(try nll([:]) == [1.75])
        // Weighted: ℓ = w[t]·(−x); the mean divides by Σ w[t] = 3 + 1.
        #expect(try nll(["weight": .tensor(weights), "reduction": .string("none")]) == [9, 0.5])
        #expect(try nll(["weight": .tensor(weights)]) == [9.5 / 4])
        // Ignored targets count 0 and leave the mean's denominator; all ignored is 0/0.
        #expect(try nll(["ignore_index": .int(0), "reduction": .string("none")]) == [3, 0])
        #expect(try nll(["ignore_index": .int(0), "weight": .tensor(weights)]) == [3])
        let ignored = ["input": Value.tensor(logProbs), "target": .tensor(ints([-100, -100]))]
        #expect(try loss("nll_loss", ignored).doubles[0].isNaN)
        #expect(try loss("nll_loss", ignored.merging(["reduction": .string("sum")]) { $1 }).doubles == [0])
    }

    @Test func nllSpatialShapesAndNames() throws {
        // N = 1, C = 2, positions (2, 2): ℓ at each position is −x[class].
        let x = f64([-1, -2, -3, -4, -5, -6, -7, -8], [1, 2, 2, 2], grad: true), t = ints([1, 0, 0, 1], [1, 2, 2])
        let none = try loss("nll_loss", ["input": .tensor(x), "target": .tensor(t), "reduction": .string("none")])
        #expect(none.shape == [1, 2, 2] && none.doubles == [5, 2, 3, 8] && none.gradFn?.name == "NllLoss2DBackward0")
        let x3 = f64([-1, -2, -3, -4], [1, 2, 2], grad: true), t3 = ints([1, 0], [1, 2])
        let view = try loss("nll_loss", ["input": .tensor(x3), "target": .tensor(t3), "reduction": .string("none")])
        #expect(view.shape == [1, 2] && view.doubles == [3, 2] && view.gradFn?.name == "ViewBackward0")
        let mean = try loss("nll_loss", ["input": .tensor(x3), "target": .tensor(t3)])
        #expect(mean.doubles == [2.5] && mean.gradFn?.name == "NllLoss2DBackward0")
        let rows = try loss("nll_loss", ["input": .tensor(f64([-1, -2], [1, 2], grad: true)), "target": .tensor(ints([1]))])
        #expect(rows.gradFn?.name == "NllLossBackward0")
        let unbatched = try loss("nll_loss", ["input": .tensor(f64([-1, -2, -3])), "target": .tensor(Tensor(shape: [], int64: [2])),
                                              "reduction": .string("none")])
        #expect(unbatched.shape == [] && unbatched.doubles == [3])
    }

    @Test func nllCascadeSumOverManySamples() throws {
        // 300 samples: ATen adds them in levels of 16 (level j flushed into j + 1 after sample b
        // when b's j-th group of 4 bits is 0), which rounds differently from a running sum.
        let values = (0..<300).map { Float(-0.1) * Float($0 % 17) - 0.013 }
        let x = Tensor(shape: [300, 1], values), t = ints([Int64](repeating: 0, count: 300))
        let sum = try loss("nll_loss", ["input": .tensor(x), "target": .tensor(t), "reduction": .string("sum")])
        var levels = [Float](repeating: 0, count: 8)
        for (b, v) in values.enumerated() {
            levels[0] -= v
            for j in 0..<7 {
                guard (b >> (4 * j)) & 15 == 0 else { break }
                levels[j + 1] += levels[j]
                levels[j] = 0
            }
        }
        let cascade = levels.reduce(0, +), running = values.reduce(0) { $0 - $1 }
        #expect(cascade != running)
        #expect(sum.values(Float.self) == [cascade])
    }

    @Test func nllGradients() throws {
        let t = ints([2, 0, 1]), x = f64([-1, -2, -3, -0.5, -1.5, -2.5, -0.2, -0.4, -0.6], [3, 3])
        for reduction in ["none", "mean", "sum"] {
            for extra in [[:], ["weight": Value.tensor(weights)], ["ignore_index": .int(0), "weight": .tensor(weights)]] {
                #expect(try RefCheck.gradientError([x]) { v in
                    try loss("nll_loss", ["input": .tensor(v[0]), "target": .tensor(t), "reduction": .string(reduction)]
                        .merging(extra) { $1 })
                } < 1e-8)
            }
        }
    }

    @Test func nllErrors() throws {
        func nll(_ x: Tensor, _ t: Tensor, _ extra: [String: Value] = [:]) throws -> Tensor {
            try loss("nll_loss", ["input": .tensor(x), "target": .tensor(t)].merging(extra) { $1 })
        }
        #expect(throws: TorchError.index("Target 3 is out of bounds.")) { try nll(logProbs, ints([3, 0])) }
        #expect(throws: TorchError.index("Target -1 is out of bounds.")) { try nll(logProbs, ints([0, -1]), ["reduction": .string("none")]) }
        #expect(throws: TorchError.value("Expected input batch_size (2) to match target batch_size (3).")) { try nll(logProbs, ints([0, 1, 2])) }
        #expect(throws: TorchError.index("Dimension specified as 0 but tensor has no dimensions")) {
            try nll(f64([], [0, 3]), Tensor(shape: [], int64: [0]))
        }
        #expect(throws: TorchError.value("Expected 1 or more dimensions (got 0)")) { try nll(f64([1], []), Tensor(shape: [], int64: [0])) }
        #expect(throws: TorchError.runtime("weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: [2]")) {
            try nll(logProbs, classes, ["weight": .tensor(f64([1, 2]))])
        }
        #expect(throws: TorchError.runtime("The function 'nll_loss_forward' is not differentiable with respect to argument 'weight'. This input cannot have requires_grad True.")) {
            try nll(logProbs, classes, ["weight": .tensor(f64([1, 2, 3], grad: true))])
        }
        #expect(throws: TorchError.runtime("expected target dtype to be Long or Byte, but got Double")) { try nll(logProbs, f64([1, 0])) }
        #expect(throws: TorchError.runtime("Expected target size [1, 2], got [1, 3]")) {
            try nll(f64([0, 0, 0, 0], [1, 2, 2]), ints([0, 0, 0], [1, 3]))
        }
        #expect(throws: TorchError.value("avg is not a valid value for reduction")) { try nll(logProbs, classes, ["reduction": .string("avg")]) }
    }

    @Test func crossEntropyValues() throws {
        // Logits (ln 3, 0): p = (3/4, 1/4). Target 1: ℓ = ln 4; smoothing mixes in −Σ log p / C.
        let x = f64([log(3), 0], [1, 2]), one = ints([1])
        func ce(_ t: Tensor, _ extra: [String: Value] = [:]) throws -> Double {
            try loss("cross_entropy", ["input": .tensor(x), "target": .tensor(t)].merging(extra) { $1 }).item
        }
        #expect(close([try ce(one)], [log(4)]))
        #expect(close([try ce(one, ["label_smoothing": .double(0.2)])], [0.8 * log(4) + 0.1 * log(16.0 / 3)]))
        #expect(close([try ce(f64([0.5, 0.5], [1, 2]))], [0.5 * log(16.0 / 3)]))
        #expect(close([try ce(f64([0, 1], [1, 2]), ["label_smoothing": .double(0.2)])], [0.9 * log(4) + 0.1 * log(4.0 / 3)]))
        // Negative smoothing is ignored, as in ATen.
        #expect(close([try ce(one, ["label_smoothing": .double(-0.5)])], [log(4)]))
        // Class indices are nll_loss of log_softmax, grad_fn and all.
        let xs = f64([0.2, -1, 2, 0.5, 0.5, -0.3], [2, 3], grad: true)
        let indices = try loss("cross_entropy", ["input": .tensor(xs), "target": .tensor(classes), "weight": .tensor(weights)])
        let logp = try loss("log_softmax", ["input": .tensor(xs), "dim": .int(1)])
        let nll = try loss("nll_loss", ["input": .tensor(logp), "target": .tensor(classes), "weight": .tensor(weights)])
        #expect(indices.doubles == nll.doubles && indices.gradFn?.name == "NllLossBackward0")
        let names: [(String, [String: Value])] = [("AddBackward0", ["label_smoothing": .double(0.1)]),
                                                  ("DivBackward1", ["target": .tensor(f64([0.5, 0.5, 0, 0, 1, 0], [2, 3]))]),
                                                  ("NegBackward0", ["target": .tensor(f64([0.5, 0.5, 0, 0, 1, 0], [2, 3])), "reduction": .string("sum")])]
        for (name, extra) in names {
            #expect(try loss("cross_entropy", ["input": .tensor(xs), "target": .tensor(classes)].merging(extra) { $1 }).gradFn?.name == name)
        }
    }

    @Test func crossEntropyGradients() throws {
        let x = f64([0.2, -1, 2, 0.5, 0.5, -0.3, 1.2, 0.1, -0.7], [3, 3]), t = ints([2, 0, 1])
        let p = f64([0.2, 0.3, 0.5, 0.6, 0.1, 0.3, 0.0, 0.8, 0.2], [3, 3]), w = f64([0.5, 2, 1.5])
        for reduction in ["none", "mean", "sum"] {
            let r: [String: Value] = ["reduction": .string(reduction)]
            for extra in [[:], ["label_smoothing": Value.double(0.3)], ["label_smoothing": .double(0.3), "weight": .tensor(w), "ignore_index": .int(0)]] {
                #expect(try RefCheck.gradientError([x]) { v in
                    try loss("cross_entropy", ["input": .tensor(v[0]), "target": .tensor(t)].merging(r) { $1 }.merging(extra) { $1 })
                } < 1e-8)
            }
            // Probabilities: input, target and weight all differentiable.
            #expect(try RefCheck.gradientError([x, p, w]) { v in
                try loss("cross_entropy", ["input": .tensor(v[0]), "target": .tensor(v[1]), "weight": .tensor(v[2]),
                                           "label_smoothing": .double(0.1)].merging(r) { $1 })
            } < 1e-8)
        }
    }

    @Test func crossEntropyErrors() throws {
        let x = f64([0, 1, 2, 3], [2, 2])
        func ce(_ t: Tensor, _ extra: [String: Value] = [:]) throws -> Tensor {
            try loss("cross_entropy", ["input": .tensor(x), "target": .tensor(t)].merging(extra) { $1 })
        }
        #expect(throws: TorchError.runtime("label_smoothing must be between 0.0 and 1.0. Got: 1.5")) {
            try ce(ints([0, 1]), ["label_smoothing": .double(1.5)])
        }
        #expect(throws: TorchError.runtime("ignore_index is not supported for floating point target")) {
            try ce(f64([1, 0, 0, 1], [2, 2]), ["ignore_index": .int(0)])
        }
        #expect(throws: TorchError.runtime("Expected floating point type for target with class probabilities, got Long")) {
            try ce(ints([1, 0, 0, 1], [2, 2]))
        }
        #expect(throws: TorchError.runtime("cross_entropy: weight tensor should be defined either for all 2 classes or no classes but got weight tensor of shape: [3]")) {
            try ce(f64([1, 0, 0, 1], [2, 2]), ["weight": .tensor(weights)])
        }
        #expect(throws: TorchError.index("Target 2 is out of bounds.")) { try ce(ints([0, 2]), ["label_smoothing": .double(0.1)]) }
        #expect(throws: TorchError.index("Dimension specified as 1 but tensor has no dimensions")) {
            try loss("cross_entropy", ["input": .tensor(f64([1], [])), "target": .tensor(f64([0.5], []))])
        }
    }

    @Test func multiMargin() throws {
        // y = 1: the other classes give 1 − 0.2 + 0.1 = 0.9 and 1 − 0.2 + 0.4 = 1.2, over C = 3.
        let x = f64([0.1, 0.2, 0.4], [1, 3]), y = ints([1])
        func mm(_ extra: [String: Value]) throws -> Double {
            try loss("multi_margin_loss", ["input": .tensor(x), "target": .tensor(y)].merging(extra) { $1 }).item
        }
        #expect(close([try mm([:])], [0.7]))
        #expect(close([try mm(["p": .int(2)])], [0.75]))
        #expect(close([try mm(["margin": .double(0.1), "weight": .tensor(f64([1, 4, 1]))])], [4 * 0.3 / 3]))
        let xs = f64([0.1, 0.2, 0.4, -0.3, 0.5, 0.05, 0.9, -0.6, 0.35], [3, 3]), ys = ints([1, 0, 2])
        for p in [1, 2] {
            for reduction in ["none", "mean", "sum"] {
                #expect(try RefCheck.gradientError([xs]) { v in
                    try loss("multi_margin_loss", ["input": .tensor(v[0]), "target": .tensor(ys), "p": .int(p),
                                                   "weight": .tensor(f64([0.5, 1, 2])), "reduction": .string(reduction)])
                } < 1e-7)
            }
        }
        #expect(throws: TorchError.value("only p == 1 and p == 2 supported")) { try mm(["p": .int(3)]) }
        #expect(throws: TorchError.runtime("target out of range")) {
            try loss("multi_margin_loss", ["input": .tensor(x), "target": .tensor(ints([3]))])
        }
        #expect(throws: TorchError.runtime("inconsistent weight size, expected 3 but got [2]")) { try mm(["weight": .tensor(f64([1, 2]))]) }
    }

    @Test func multilabelMargin() throws {
        // Labels {3, 0} (the list stops at −1) against classes {1, 2}: 0.4 + 0.6 + 1.1 + 1.3, over C = 4.
        let x = f64([0.1, 0.2, 0.4, 0.8]), y = ints([3, 0, -1, 1])
        #expect(close([try loss("multilabel_margin_loss", ["input": .tensor(x), "target": .tensor(y)]).item], [0.85]))
        let xs = f64([0.1, 0.2, 0.4, 0.8, -0.3, 0.5, 0.05, 0.9], [2, 4]), ys = ints([3, 0, -1, 1, 1, -1, 0, 0], [2, 4])
        let none = try loss("multilabel_margin_loss", ["input": .tensor(xs), "target": .tensor(ys), "reduction": .string("none")])
        #expect(none.shape == [2] && close([none.doubles[0]], [0.85]))
        for reduction in ["none", "mean", "sum"] {
            #expect(try RefCheck.gradientError([xs]) { v in
                try loss("multilabel_margin_loss", ["input": .tensor(v[0]), "target": .tensor(ys), "reduction": .string(reduction)])
            } < 1e-7)
        }
        #expect(throws: TorchError.runtime("argument #2 'target' is out of range")) {
            try loss("multilabel_margin_loss", ["input": .tensor(x), "target": .tensor(ints([4, -1, 0, 0]))])
        }
        #expect(throws: TorchError.runtime("inconsistent target size: [3] for input of size: [4]")) {
            try loss("multilabel_margin_loss", ["input": .tensor(x), "target": .tensor(ints([0, -1, 0]))])
        }
    }
}
