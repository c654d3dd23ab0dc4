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
private let reductions = ["none", "mean", "sum"]

@Suite struct LossMarginTests {
    @Test func cosineEmbedding() throws {
        // Rows: orthogonal (cos 0), parallel (cos ≈ 1), opposite (cos ≈ −1).
        let a = f64([1, 0, 1, 1, 1, 2], [3, 2]), b = f64([0, 1, 2, 2, -1, -2], [3, 2])
        func cel(_ y: [Double], _ extra: [String: Value] = [:]) throws -> [Double] {
            try loss("cosine_embedding_loss", ["input1": .tensor(a), "input2": .tensor(b), "target": .tensor(f64(y)),
                                               "reduction": .string("none")].merging(extra) { $1 }).doubles
        }
        #expect(close(try cel([1, 1, 1]), [1, 0, 2], 1e-9))
        #expect(close(try cel([-1, -1, -1], ["margin": .double(-0.5)]), [0.5, 1.5, 0], 1e-9))
        #expect(try cel([0, 2, -1]) == [0, 0, 0])  // labels other than ±1 give 0; cos − margin < 0 is clamped
        let xs = f64([0.3, -1.2, 2.5, 0.8, -0.1, 1.7], [2, 3]), ys = f64([0.4, 0.1, -0.6, 1.1, 0.9, -0.3], [2, 3])
        for reduction in reductions {
            #expect(try RefCheck.gradientError([xs, ys]) { v in
                try loss("cosine_embedding_loss", ["input1": .tensor(v[0]), "input2": .tensor(v[1]), "target": .tensor(f64([1, -1])),
                                                   "margin": .double(-0.2), "reduction": .string(reduction)])
            } < 1e-7)
        }
        #expect(throws: TorchError.runtime("1D target tensor expects 2D input tensors, but found inputs with sizes [2] and [3, 2].")) {
            try loss("cosine_embedding_loss", ["input1": .tensor(f64([1, 2])), "input2": .tensor(b), "target": .tensor(f64([1, 1, 1]))])
        }
        #expect(throws: TorchError.runtime("0D or 1D target tensor expected, multi-target not supported")) {
            try loss("cosine_embedding_loss", ["input1": .tensor(a), "input2": .tensor(b), "target": .tensor(f64([1, 1, 1], [3, 1]))])
        }
    }

    @Test func marginRanking() throws {
        let x1 = f64([1, 2, 0.5]), x2 = f64([2, 1, 0.5]), y = f64([1, 1, -1])
        let args: [String: Value] = ["input1": .tensor(x1), "input2": .tensor(x2), "target": .tensor(y), "reduction": .string("none")]
        #expect(try loss("margin_ranking_loss", args).doubles == [1, 0, 0])
        #expect(try loss("margin_ranking_loss", args.merging(["margin": .double(0.5)]) { $1 }).doubles == [1.5, 0, 0.5])
        let a = f64([0.5, -1.2, 2.5, 0.8]), b = f64([0.1, 0.4, 2.9, -0.3]), t = f64([-1, 1, -1, -0.5])
        for reduction in reductions {
            #expect(try RefCheck.gradientError([a, b, t]) { v in
                try loss("margin_ranking_loss", ["input1": .tensor(v[0]), "input2": .tensor(v[1]), "target": .tensor(v[2]),
                                                 "margin": .double(0.2), "reduction": .string(reduction)])
            } < 1e-8)
        }
        let target = f64([1, 1, -1], grad: true)
        let l = try loss("margin_ranking_loss", ["input1": .tensor(x1), "input2": .tensor(x2), "target": .tensor(target)])
        #expect(l.gradFn?.name == "MeanBackward0")
        #expect(throws: TorchError.runtime("margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: torch.Size([3]), input2: torch.Size([3, 1]), target: torch.Size([3]) ")) {
            try loss("margin_ranking_loss", ["input1": .tensor(x1), "input2": .tensor(f64([1, 2, 3], [3, 1])), "target": .tensor(y)])
        }
    }

    @Test func hingeEmbedding() throws {
        // y = 1: x; y = −1: max(0, margin − x); any other label: both.
        let x = f64([0.3, 2, -1, 0.5]), y = f64([1, -1, -1, 0])
        let none = try loss("hinge_embedding_loss", ["input": .tensor(x), "target": .tensor(y), "reduction": .string("none")])
        #expect(none.doubles == [0.3, 0, 2, 1])
        let xs = f64([0.3, -1.2, 2.5, 0.8, -0.1, 1.7], [2, 3])
        for reduction in reductions {
            #expect(try RefCheck.gradientError([xs]) { v in
                try loss("hinge_embedding_loss", ["input": .tensor(v[0]), "target": .tensor(f64([1, -1, -1])),
                                                  "margin": .double(0.5), "reduction": .string(reduction)])
            } < 1e-8)
        }
    }

    @Test func tripletMargin() throws {
        // d(a, p) = ‖(−3, −4)‖ = 5, d(a, n) = 1 (eps 0); with swap d(p, n) = ‖(3, 3)‖ > 1 changes nothing.
        let a = f64([0, 0], [1, 2]), p = f64([3, 4], [1, 2]), n = f64([0, 1], [1, 2])
        func tml(_ extra: [String: Value]) throws -> Double {
            try loss("triplet_margin_loss", ["anchor": .tensor(a), "positive": .tensor(p), "negative": .tensor(n),
                                             "eps": .double(0)].merging(extra) { $1 }).item
        }
        #expect(try tml([:]) == 5)
        #expect(try tml(["p": .int(1), "margin": .double(2)]) == 8)
        #expect(try tml(["swap": .bool(true)]) == 5)
        // Swapped: with n close to p, d(p, n) = 0.5 replaces d(a, n) = ‖(0, −4.5)‖.
        let near = f64([3, 4.5], [1, 2])
        #expect(close([try loss("triplet_margin_loss", ["anchor": .tensor(a), "positive": .tensor(p), "negative": .tensor(near),
                                                        "eps": .double(0), "swap": .bool(true)]).item], [5.5]))
        let xa = f64([0.3, -1.2, 2.5, 0.8, -0.1, 1.7], [2, 3]), xp = f64([0.4, -0.9, 2.1, 1.3, 0.2, 1.1], [2, 3])
        let xn = f64([0.1, -1.0, 2.2, 0.9, 0.0, 1.5], [2, 3])
        for norm in [1.0, 2, 3] {
            for swap in [false, true] {
                #expect(try RefCheck.gradientError([xa, xp, xn]) { v in
                    try loss("triplet_margin_loss", ["anchor": .tensor(v[0]), "positive": .tensor(v[1]), "negative": .tensor(v[2]),
                                                     "p": .double(norm), "swap": .bool(swap), "margin": .double(2)])
                } < 1e-7, "p \(norm) swap \(swap)")
            }
        }
        #expect(throws: TorchError.value("margin must be greater than 0, got 0.0")) { try tml(["margin": .double(0)]) }
        #expect(throws: TorchError.runtime("The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: anchor 2D, positive 1D, and negative 2D inputs")) {
            try loss("triplet_margin_loss", ["anchor": .tensor(a), "positive": .tensor(f64([1, 2])), "negative": .tensor(n)])
        }
    }

    @Test func softMargin() throws {
        // log(1 + e^(−y·x)): ln 2 at x = 0.
        let x = f64([0, 1, -2]), y = f64([1, -1, -1])
        #expect(close(try loss("soft_margin_loss", ["input": .tensor(x), "target": .tensor(y), "reduction": .string("none")]).doubles,
                      [log(2), log(1 + exp(1)), log(1 + exp(-2))]))
        let xs = f64([0.3, -1.2, 2.5, 0.8, -0.1, 1.7], [2, 3])
        for reduction in reductions {
            #expect(try RefCheck.gradientError([xs]) { v in
                try loss("soft_margin_loss", ["input": .tensor(v[0]), "target": .tensor(f64([1, -1, 1])), "reduction": .string(reduction)])
            } < 1e-8)
        }
        #expect(throws: TorchError.runtime("The function 'soft_margin_loss' is not differentiable with respect to argument 'target'. This input cannot have requires_grad True.")) {
            try loss("soft_margin_loss", ["input": .tensor(x), "target": .tensor(f64([1, 1, 1], grad: true))])
        }
        #expect(throws: TorchError.runtime("output with shape [3] doesn't match the broadcast shape [2, 3]")) {
            try loss("soft_margin_loss", ["input": .tensor(x), "target": .tensor(xs)])
        }
    }

    @Test func multilabelSoftMargin() throws {
        // −(y log σ(x) + (1 − y) log σ(−x)) averaged over classes: ln 2 per class at x = 0.
        let ml = "multilabel_soft_margin_loss"
        #expect(close([try loss(ml, ["input": .tensor(f64([0, 0], [1, 2])), "target": .tensor(f64([1, 0], [1, 2]))]).item], [log(2)]))
        #expect(close([try loss(ml, ["input": .tensor(f64([0, 0], [1, 2])), "target": .tensor(f64([1, 0], [1, 2])),
                                     "weight": .tensor(f64([1, 3]))]).item], [2 * log(2)]))
        let xs = f64([0.3, -1.2, 2.5, 0.8, -0.1, 1.7], [2, 3]), ys = f64([1, 0, 0.5, 0.2, 1, 0], [2, 3]), w = f64([0.5, 2, 1])
        for reduction in reductions {
            #expect(try RefCheck.gradientError([xs, ys, w]) { v in
                try loss(ml, ["input": .tensor(v[0]), "target": .tensor(v[1]), "weight": .tensor(v[2]), "reduction": .string(reduction)])
            } < 1e-8)
        }
        let named = try loss(ml, ["input": .tensor(f64([0, 1], grad: true)), "target": .tensor(f64([1, 0])), "reduction": .string("none")])
        #expect(named.gradFn?.name == "DivBackward0")
        #expect(throws: TorchError.value("avg is not valid")) {
            try loss(ml, ["input": .tensor(xs), "target": .tensor(ys), "reduction": .string("avg")])
        }
    }
}
