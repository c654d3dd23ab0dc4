import Testing
import NNCore
import NNReference

private func call(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
/// [[0, 1], [2, 3], [4, 5]] as float64.
private func table(requiresGrad: Bool = false) -> Tensor {
    Tensor(shape: [3, 2], [0, 1, 2, 3, 4, 5] as [Double], requiresGrad: requiresGrad)
}
private func indices(_ v: [Int64], _ shape: [Int]? = nil) -> Tensor { Tensor(shape: shape ?? [v.count], int64: v) }
/// dW of `embedding(indices, W, ...)` for a gradient of ones.
private func weightGradient(_ idx: Tensor, _ extra: [String: Value] = [:]) throws -> [Double] {
    let w = table(requiresGrad: true)
    let y = try call("embedding", ["input": .tensor(idx), "weight": .tensor(w)].merging(extra) { a, _ in a })
    try y.backward(gradient: Tensor(shape: y.shape, [Double](repeating: 1, count: y.numel)))
    return w.grad?.doubles ?? []
}

@Suite struct ShapeEmbeddingTests {
    @Test func embeddingGathersRows() throws {
        let y = try call("embedding", ["input": .tensor(indices([2, 0], [1, 2])), "weight": .tensor(table())])
        #expect(y.shape == [1, 2, 2] && y.doubles == [4, 5, 0, 1])
        let scalar = try call("embedding", ["input": .tensor(indices([1], [])), "weight": .tensor(table())])
        #expect(scalar.shape == [2] && scalar.doubles == [2, 3])
        let ints = Tensor(shape: [2, 2], int64: [7, 8, 9, 10])
        #expect(try call("embedding", ["input": .tensor(indices([1, 1])), "weight": .tensor(ints)]).int64s == [9, 10, 9, 10])
    }

    @Test func embeddingGradients() throws {
        let idx = indices([1, 1, 2, 0])
        #expect(try weightGradient(idx) == [1, 1, 2, 2, 1, 1])
        #expect(try weightGradient(idx, ["padding_idx": .int(2)]) == [1, 1, 2, 2, 0, 0])
        #expect(try weightGradient(idx, ["padding_idx": .int(-2)]) == [1, 1, 0, 0, 1, 1])
        #expect(try weightGradient(idx, ["scale_grad_by_freq": .bool(true)]) == [1, 1, 1, 1, 1, 1])
        let w = table(requiresGrad: true)
        #expect(try call("embedding", ["input": .tensor(idx), "weight": .tensor(w)]).gradFn?.name == "EmbeddingBackward0")
        let error = try RefCheck.gradientError([table()]) { t in
            try call("embedding", ["input": .tensor(indices([2, 0, 2], [3, 1])), "weight": .tensor(t[0])])
        }
        #expect(error < 1e-6)
    }

    @Test func maxNormRenormalizesTheNamedRowsInPlace() throws {
        let w = Tensor(shape: [3, 2], [3, 4, 0, 0.5, 6, 8] as [Double], requiresGrad: true)
        let y = try call("embedding", ["input": .tensor(indices([0, 1, 0])), "weight": .tensor(w), "max_norm": .double(1)])
        let scale = 1 / (5 + 1e-7)  // max_norm / (‖row‖ + 1e-7)
        #expect(w.doubles == [3 * scale, 4 * scale, 0, 0.5, 6, 8])  // row 2 is not named
        #expect(w.version == 1)
        #expect(y.doubles == [3 * scale, 4 * scale, 0, 0.5, 3 * scale, 4 * scale])
        let v = Tensor(shape: [1, 2], [3, -4] as [Double])
        _ = try call("embedding", ["input": .tensor(indices([0])), "weight": .tensor(v), "max_norm": .double(1), "norm_type": .double(1)])
        let l1Scale = 1 / (7 + 1e-7)  // ‖[3, −4]‖₁ = 7
        #expect(v.doubles == [3 * l1Scale, -4 * l1Scale])
    }

    @Test func embeddingErrors() {
        let w = table()
        func embed(_ idx: Tensor, _ extra: [String: Value] = [:], weight: Tensor? = nil) throws {
            _ = try call("embedding", ["input": .tensor(idx), "weight": .tensor(weight ?? w)].merging(extra) { a, _ in a })
        }
        #expect(throws: TorchError("AssertionError", "Padding_idx must be within num_embeddings")) {
            try embed(indices([0]), ["padding_idx": .int(3)])
        }
        #expect(throws: TorchError.index("index out of range in self")) { try embed(indices([3])) }
        #expect(throws: TorchError.index("index out of range in self")) { try embed(indices([-1])) }
        #expect(throws: TorchError.runtime("'weight' must be 2-D")) { try embed(indices([0]), weight: Tensor(shape: [3], [1, 2, 3] as [Double])) }
        #expect(throws: TorchError.runtime("Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got torch.FloatTensor instead (while checking arguments for embedding)")) {
            try embed(Tensor(shape: [1], [0] as [Float]))
        }
        #expect(throws: TorchError.index("select(): index 5 out of range for tensor of size [3, 2] at dimension 0")) {
            try embed(indices([5, 0]), ["max_norm": .double(1)])
        }
        #expect(RefCheck.error { try embed(indices([0]), ["sparse": .bool(true)]) }?.type == "other")  // Unsupported
    }

    @Test func cosineSimilarityValues() throws {
        let x1 = Tensor(shape: [3, 2], [1, 0, 1, 2, 0, 0] as [Double])
        let x2 = Tensor(shape: [3, 2], [0, 1, 2, 4, 1, 1] as [Double])
        let y = try call("cosine_similarity", ["x1": .tensor(x1), "x2": .tensor(x2)])
        #expect(y.shape == [3])
        #expect(abs(y.doubles[0]) < 1e-14 && abs(y.doubles[1] - 1) < 1e-14 && y.doubles[2] == 0)
        let grid = try call("cosine_similarity", ["x1": .tensor(Tensor.zeros([2, 1, 3], dtype: .float32)),
                                                  "x2": .tensor(Tensor.zeros([4, 3], dtype: .float32)), "dim": .int(-1)])
        #expect(grid.shape == [2, 4])
    }

    @Test func cosineSimilarityGradients() throws {
        let x1 = Tensor(shape: [2, 1, 3], [0.3, -1.2, 0.8, 1.5, 0.2, -0.4] as [Double])
        let x2 = Tensor(shape: [4, 3], (0..<12).map { Double($0 % 5) * 0.45 - 0.7 })
        let error = try RefCheck.gradientError([x1, x2]) { t in
            try call("cosine_similarity", ["x1": .tensor(t[0]), "x2": .tensor(t[1]), "dim": .int(-1)])
        }
        #expect(error < 1e-6)
        // Under the eps clamp the gradient still goes through the unclamped norm (ATen clamps
        // under no_grad): d/dx1 of (x1 / max(‖x1‖, 1)) · x2 at x1 = [0.1, 0], x2 = [1, 0] is
        // [1 − 0.1, 0], not the derivative [1, 0] of the clamped function.
        let a = Tensor(shape: [1, 2], [0.1, 0] as [Double], requiresGrad: true)
        let b = Tensor(shape: [1, 2], [1, 0] as [Double], requiresGrad: true)
        let y = try call("cosine_similarity", ["x1": .tensor(a), "x2": .tensor(b), "eps": .double(1)])
        #expect(y.gradFn?.name == "SumBackward1")
        try y.backward(gradient: Tensor(shape: [1], [1] as [Double]))
        #expect(abs(y.doubles[0] - 0.1) < 1e-15)
        #expect(abs(a.grad!.doubles[0] - 0.9) < 1e-15 && b.grad?.doubles == [0, 0])
    }

    @Test func pairwiseDistanceNorms() throws {
        let x1 = Tensor(shape: [1, 2], [3, 4] as [Double]), x2 = Tensor(shape: [1, 2], [0, 0] as [Double])
        func distance(_ p: Value, keepdim: Bool = false) throws -> Tensor {
            try call("pairwise_distance", ["x1": .tensor(x1), "x2": .tensor(x2), "p": p, "eps": .double(0), "keepdim": .bool(keepdim)])
        }
        #expect(try distance(.double(2)).doubles == [5])
        #expect(try distance(.int(1)).doubles == [7])
        #expect(try distance(.string("inf")).doubles == [4])
        #expect(try distance(.string("-inf")).doubles == [3])
        #expect(try distance(.double(0)).doubles == [2])
        #expect(abs(try distance(.double(3)).doubles[0] - 4.497941445275415) < 1e-12)
        #expect(try distance(.double(2), keepdim: true).shape == [1, 1])
        let same = try call("pairwise_distance", ["x1": .tensor(x1), "x2": .tensor(x1)])
        #expect(abs(same.doubles[0] - 2.0.squareRoot() * 1e-6) < 1e-18)  // eps is added to the difference
        let scalar = try call("pairwise_distance", ["x1": .tensor(Tensor(scalar: 3.0)), "x2": .tensor(Tensor(scalar: 1.0)), "keepdim": .bool(true)])
        #expect(scalar.shape == [])
    }

    @Test func pairwiseDistanceGradients() throws {
        let x1 = Tensor(shape: [3, 4], (0..<12).map { Double(($0 * 5) % 12) * 0.31 - 1.7 })
        let x2 = Tensor(shape: [4], [0.2, -0.5, 0.9, 0.05] as [Double])
        for p in [2.0, 1.5, 3, 0.5, -1, .infinity] {
            let error = try RefCheck.gradientError([x1, x2]) { t in
                try call("pairwise_distance", ["x1": .tensor(t[0]), "x2": .tensor(t[1]), "p": .double(p)])
            }
            #expect(error < 1e-5, "p = \(p)")
        }
        let a = x1.clone(requiresGrad: true)
        let y = try call("pairwise_distance", ["x1": .tensor(a), "x2": .tensor(x2), "p": .double(0)])
        #expect(y.gradFn?.name == "NormBackward1")
        try y.backward(gradient: Tensor(shape: [3], [1, 1, 1] as [Double]))
        #expect(a.grad == nil)  // the count of non-zeros has no gradient
    }

    @Test func distanceErrors() {
        let x = Tensor.zeros([2, 3], dtype: .float32), wide = Tensor.zeros([2, 4], dtype: .float32)
        let i = Tensor(shape: [1, 2], int64: [1, 2]), b = Tensor(shape: [2], data: .bool([true, false]))
        #expect(throws: TorchError.runtime("expected common dtype to be floating point, yet common dtype is Long")) {
            try call("cosine_similarity", ["x1": .tensor(i), "x2": .tensor(i)])
        }
        #expect(throws: TorchError.runtime("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1")) {
            try call("cosine_similarity", ["x1": .tensor(x), "x2": .tensor(wide)])
        }
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-1, 0], but got 1)")) {
            try call("cosine_similarity", ["x1": .tensor(b), "x2": .tensor(Tensor.zeros([2], dtype: .float32))])
        }
        #expect(throws: TorchError.notImplemented("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.")) {
            try call("pairwise_distance", ["x1": .tensor(b), "x2": .tensor(b)])
        }
        #expect(throws: TorchError.runtime("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1")) {
            try call("pairwise_distance", ["x1": .tensor(x), "x2": .tensor(wide)])
        }
    }
}
