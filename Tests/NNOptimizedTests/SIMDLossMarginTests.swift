import Foundation
import Testing
import NNCore
import NNOptimized
import NNReference

/// The optimized margin and embedding losses against the reference: `hinge_embedding_loss`,
/// `margin_ranking_loss`, `multi_margin_loss`, `multilabel_margin_loss`,
/// `cosine_embedding_loss`, `triplet_margin_loss`; every reduction, argument branch and both
/// dtypes, rows of 1, 15, 17, 33 (the 16-lane tails) and sizes that split across threads.
@Suite struct SIMDLossMarginTests {
    static let reductions = ["none", "sum", "mean"]

    static func tol(_ dtype: DType, big: Bool = false) -> (Double, Double) {
        dtype == .float64 ? (1e-10, 1e-10) : big ? (1e-4, 1e-4) : (2e-5, 2e-5)
    }

    /// ±1 labels, with a few other values (0, 2) where `others`.
    static func labels(_ r: inout Random, _ shape: [Int], _ dtype: DType, others: Bool = false, grad: Bool = false) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { _ -> Double in
            let k = r.int(0...(others ? 5 : 1))
            return k == 0 ? -1 : k == 1 ? 1 : k == 2 ? 1 : k == 3 ? -1 : k == 4 ? 0 : 2
        }
        let t = Tensor(shape: shape, data: TensorData.float64(values).converted(to: dtype))
        if grad { try! t.requiresGrad_() }
        return t
    }

    static func indices(_ shape: [Int], _ values: [Int]) -> Tensor { Tensor(shape: shape, int64: values.map { Int64($0) }) }

    @Test func hingeEmbedding() throws {
        var r = Random(31)
        for dtype in [DType.float32, .float64] {
            for shape in [[1], [15], [17], [2, 33], [64, 520]] {
                let (rtol, atol) = Self.tol(dtype, big: shape == [64, 520])
                for reduction in Self.reductions {
                    try check("hinge_embedding_loss", ["input": .tensor(r.tensor(shape, dtype, scale: 2)),
                                                       "target": .tensor(Self.labels(&r, shape, dtype, others: true)),
                                                       "reduction": .string(reduction)], rtol: rtol, atol: atol)
                }
            }
            // margin, a broadcast int64 target, legacy arguments.
            try check("hinge_embedding_loss", ["input": .tensor(r.tensor([3, 17], dtype)), "target": .tensor(Self.indices([17], (0..<17).map { $0 % 3 - 1 })),
                                               "margin": .double(0.3), "size_average": .bool(false)])
        }
        try check("hinge_embedding_loss", ["input": .tensor(r.tensor([3])), "target": .tensor(r.tensor([4]))])
    }

    @Test func marginRanking() throws {
        var r = Random(32)
        for dtype in [DType.float32, .float64] {
            for shape in [[1], [15], [17], [33], [40_000]] {
                let (rtol, atol) = Self.tol(dtype, big: shape == [40_000])
                for reduction in Self.reductions {
                    for margin in [0, 0.5] {
                        try check("margin_ranking_loss", ["input1": .tensor(r.tensor(shape, dtype)), "input2": .tensor(r.tensor(shape, dtype)),
                                                          "target": .tensor(Self.labels(&r, shape, dtype, grad: true)),
                                                          "margin": .double(margin), "reduction": .string(reduction)], rtol: rtol, atol: atol)
                    }
                }
            }
            try check("margin_ranking_loss", ["input1": .tensor(r.tensor([17], dtype)), "input2": .tensor(r.tensor([1], dtype)),
                                              "target": .tensor(Self.labels(&r, [17], dtype)), "reduce": .bool(false)])
        }
        try check("margin_ranking_loss", ["input1": .tensor(r.tensor([3])), "input2": .tensor(r.tensor([3])), "target": .tensor(r.tensor([1, 3]))])
    }

    @Test func multiMargin() throws {
        var r = Random(33)
        for dtype in [DType.float32, .float64] {
            for (n, c) in [(1, 1), (3, 15), (4, 17), (2, 33), (300, 40)] {
                let (rtol, atol) = Self.tol(dtype, big: n == 300)
                let target = Self.indices([n], (0..<n).map { _ in r.int(0...(c - 1)) })
                for reduction in Self.reductions {
                    for p in [1, 2] {
                        var args: [String: Value] = ["input": .tensor(r.tensor([n, c], dtype)), "target": .tensor(target),
                                                     "p": .int(p), "reduction": .string(reduction)]
                        try check("multi_margin_loss", args, rtol: rtol, atol: atol)
                        args["weight"] = .tensor(r.tensor([c], dtype, offset: 1, grad: false))
                        args["margin"] = .double(0.4)
                        try check("multi_margin_loss", args, rtol: rtol, atol: atol)
                    }
                }
            }
            // One sample: a 1-D input with a 1-D or 0-dim target, a 0-dim input.
            for reduction in Self.reductions {
                try check("multi_margin_loss", ["input": .tensor(r.tensor([7], dtype)), "target": .tensor(Self.indices([1], [3])), "reduction": .string(reduction)])
                try check("multi_margin_loss", ["input": .tensor(r.tensor([7], dtype)), "target": .tensor(Self.indices([], [2])), "reduction": .string(reduction)])
                try check("multi_margin_loss", ["input": .tensor(r.tensor([], dtype)), "target": .tensor(Self.indices([], [0])), "reduction": .string(reduction)])
            }
        }
        try check("multi_margin_loss", ["input": .tensor(r.tensor([2, 3])), "target": .tensor(Self.indices([2], [0, 3]))])
        try check("multi_margin_loss", ["input": .tensor(r.tensor([2, 3])), "target": .tensor(Self.indices([2], [0, 1])), "p": .int(3)])
        try check("multi_margin_loss", ["input": .tensor(r.tensor([2, 3])), "target": .tensor(Self.indices([2], [0, 1])), "weight": .tensor(r.tensor([3]))])
    }

    @Test func multilabelMargin() throws {
        var r = Random(34)
        for dtype in [DType.float32, .float64] {
            for (n, c) in [(1, 1), (3, 15), (4, 17), (2, 33), (200, 40)] {
                let (rtol, atol) = Self.tol(dtype, big: n == 200)
                // Per sample: some labels (a duplicate now and then), then −1 and anything.
                let target = (0..<n).flatMap { _ -> [Int] in
                    let k = r.int(0...min(c, 4))
                    let row = (0..<k).map { _ in r.int(0...(c - 1)) } + (k < c ? [-1] : [])
                    return row + (0..<(c - row.count)).map { _ in r.int(-1...(c - 1)) }
                }
                for reduction in Self.reductions {
                    try check("multilabel_margin_loss", ["input": .tensor(r.tensor([n, c], dtype)), "target": .tensor(Self.indices([n, c], target)),
                                                         "reduction": .string(reduction)], rtol: rtol, atol: atol)
                    try check("multilabel_margin_loss", ["input": .tensor(r.tensor([c], dtype)), "target": .tensor(Self.indices([c], Array(target.prefix(c)))),
                                                         "reduction": .string(reduction)], rtol: rtol, atol: atol)
                }
            }
            try check("multilabel_margin_loss", ["input": .tensor(r.tensor([], dtype)), "target": .tensor(Self.indices([], [0]))])
        }
        try check("multilabel_margin_loss", ["input": .tensor(r.tensor([2, 3])), "target": .tensor(Self.indices([2, 3], [0, 5, -1, 1, -1, 0]))])
        try check("multilabel_margin_loss", ["input": .tensor(r.tensor([2, 3])), "target": .tensor(Self.indices([3], [0, 1, -1]))])
    }

    @Test func cosineEmbedding() throws {
        var r = Random(35)
        for dtype in [DType.float32, .float64] {
            for (n, d) in [(1, 1), (3, 15), (4, 17), (5, 33), (40, 900)] {
                let (rtol, atol) = Self.tol(dtype, big: n == 40)
                for reduction in Self.reductions {
                    for margin in [0, 0.3] {
                        try check("cosine_embedding_loss", ["input1": .tensor(r.tensor([n, d], dtype)), "input2": .tensor(r.tensor([n, d], dtype)),
                                                            "target": .tensor(Self.labels(&r, [n], dtype, others: true)),
                                                            "margin": .double(margin), "reduction": .string(reduction)], rtol: rtol, atol: atol)
                    }
                }
            }
            // 1-D inputs with a 0-dim target; a broadcast row; zero rows (ε keeps the cosine finite).
            try check("cosine_embedding_loss", ["input1": .tensor(r.tensor([17], dtype)), "input2": .tensor(r.tensor([17], dtype)),
                                                "target": .tensor(Self.labels(&r, [], dtype)), "reduction": .string("none")])
            try check("cosine_embedding_loss", ["input1": .tensor(r.tensor([1, 17], dtype)), "input2": .tensor(r.tensor([6, 17], dtype)),
                                                "target": .tensor(Self.labels(&r, [6], dtype)), "size_average": .bool(false)])
            try check("cosine_embedding_loss", ["input1": .tensor(Tensor(shape: [2, 3], data: TensorData.float64([0, 0, 0, 1, 2, 3]).converted(to: dtype),
                                                                          requiresGrad: true)),
                                                "input2": .tensor(r.tensor([2, 3], dtype)), "target": .tensor(Self.labels(&r, [2], dtype))])
        }
        try check("cosine_embedding_loss", ["input1": .tensor(r.tensor([3, 4])), "input2": .tensor(r.tensor([3, 4])), "target": .tensor(r.tensor([3, 1]))])
        try check("cosine_embedding_loss", ["input1": .tensor(r.tensor([3, 4])), "input2": .tensor(r.tensor([4])), "target": .tensor(r.tensor([3]))])
    }

    @Test func tripletMargin() throws {
        var r = Random(36)
        for dtype in [DType.float32, .float64] {
            for (n, d) in [(1, 1), (3, 15), (4, 17), (5, 33), (40, 900)] {
                let (rtol, atol) = Self.tol(dtype, big: n == 40)
                for reduction in Self.reductions {
                    for swap in [false, true] {
                        try check("triplet_margin_loss", ["anchor": .tensor(r.tensor([n, d], dtype)), "positive": .tensor(r.tensor([n, d], dtype)),
                                                          "negative": .tensor(r.tensor([n, d], dtype)), "swap": .bool(swap),
                                                          "margin": .double(swap ? 2 : 1), "reduction": .string(reduction)], rtol: rtol, atol: atol)
                    }
                }
            }
            // Every norm branch (1, 2, p < 1, 1 < p < 2, p > 2, ±∞, 0), eps, broadcast inputs.
            for p in [1, 2, 0.5, 1.5, 3, .infinity, 0] as [Double] {
                for swap in [false, true] {
                    try check("triplet_margin_loss", ["anchor": .tensor(r.tensor([4, 17], dtype)), "positive": .tensor(r.tensor([1, 17], dtype)),
                                                      "negative": .tensor(r.tensor([4, 17], dtype)), "p": .double(p), "swap": .bool(swap),
                                                      "eps": .double(1e-3), "margin": .double(3), "reduction": .string("none")],
                              rtol: 1e-4, atol: 1e-5)
                }
            }
            // A swap tie: the positive equal to the anchor (half the gradient each way).
            let anchor = r.tensor([3, 5], dtype)
            try check("triplet_margin_loss", ["anchor": .tensor(anchor), "positive": .tensor(anchor.clone(requiresGrad: true)),
                                              "negative": .tensor(r.tensor([3, 5], dtype)), "swap": .bool(true), "margin": .double(2)])
        }
        try check("triplet_margin_loss", ["anchor": .tensor(r.tensor([3, 4])), "positive": .tensor(r.tensor([4])), "negative": .tensor(r.tensor([3, 4]))])
        try check("triplet_margin_loss", ["anchor": .tensor(r.tensor([3, 4])), "positive": .tensor(r.tensor([3, 4])), "negative": .tensor(r.tensor([3, 4])),
                                          "margin": .double(-1)])
    }

    /// Writing a saved tensor in place before the backward fails as in the reference (and
    /// `hinge_embedding_loss`, which saves nothing, still runs).
    @Test func savedTensorsVersionChecked() throws {
        var r = Random(37)
        let (x, y) = (r.tensor([4, 6]), Self.labels(&r, [4, 6], .float32))
        try checkWrittenAfter("hinge_embedding_loss", ["input": .tensor(x), "target": .tensor(y)], writing: "target", saved: false)
        try checkWrittenAfter("margin_ranking_loss", ["input1": .tensor(r.tensor([6])), "input2": .tensor(r.tensor([6])),
                                                      "target": .tensor(Self.labels(&r, [6], .float32))], writing: "target", saved: true)
        try checkWrittenAfter("multi_margin_loss", ["input": .tensor(x), "target": .tensor(Self.indices([4], [0, 5, 2, 1])),
                                                    "weight": .tensor(r.tensor([6], offset: 1, grad: false))], writing: "weight", saved: true)
        try checkWrittenAfter("cosine_embedding_loss", ["input1": .tensor(r.tensor([4, 6], grad: false)), "input2": .tensor(x),
                                                        "target": .tensor(Self.labels(&r, [4], .float32))], writing: "input1", saved: true)
        try checkWrittenAfter("triplet_margin_loss", ["anchor": .tensor(x), "positive": .tensor(r.tensor([4, 6])),
                                                      "negative": .tensor(r.tensor([4, 6], grad: false))], writing: "negative", saved: true)
        try checkWrittenAfter("multilabel_margin_loss", ["input": .tensor(x), "target": .tensor(Self.indices([4, 6], (0..<24).map { $0 % 7 - 1 }))],
                              writing: "target", saved: true)
    }
}
