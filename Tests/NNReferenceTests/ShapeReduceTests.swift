import Testing
import NNCore
import NNReference

/// `op` on the reference backend; a tuple result comes back as its tensors.
private func select(_ op: String, _ args: [String: Value]) throws -> [Tensor] {
    switch try Reference.backend.call(op, args) {
    case .tensor(let t): return [t]
    case .list(let l): return l.compactMap(\.tensor)
    case let v: throw TorchError.type("\(op) returned \(v.pythonTypeName)")
    }
}
/// [[1, 5, 5], [nan, 2, nan]] (float32).
private func sample(requiresGrad: Bool = false) -> Tensor {
    Tensor(shape: [2, 3], [1, 5, 5, .nan, 2, .nan] as [Float], requiresGrad: requiresGrad)
}

@Suite struct ShapeReduceTests {
    @Test func maxAndMinAlongADim() throws {
        let r = try select("max", ["input": .tensor(sample()), "dim": .int(1)])
        #expect(r.count == 2 && r[0].shape == [2])
        #expect(r[0].doubles[0] == 5 && r[0].doubles[1].isNaN)  // the NaN propagates
        #expect(r[1].dtype == .int64 && r[1].int64s == [1, 0])  // first maximum, first NaN
        let m = try select("min", ["input": .tensor(sample()), "dim": .int(-1), "keepdim": .bool(true)])
        #expect(m[0].shape == [2, 1] && m[1].int64s == [0, 0])
        let columns = try select("min", ["input": .tensor(sample()), "dim": .int(0)])
        #expect(columns[1].int64s == [1, 1, 1])  // a NaN beats any number
        let zeroDim = try select("max", ["input": .tensor(Tensor(scalar: 3.0)), "dim": .int(0)])
        #expect(zeroDim[0].shape == [] && zeroDim[1].int64s == [0])
    }

    @Test func integerAndBoolInputs() throws {
        let i = Tensor(shape: [2, 3], int64: [3, 1, 3, 0, -2, -2])
        let r = try select("max", ["input": .tensor(i), "dim": .int(1)])
        #expect(r[0].int64s == [3, 0] && r[1].int64s == [0, 0])
        #expect(try select("min", ["input": .tensor(i)])[0].int64s == [-2])
        let b = Tensor(shape: [3], data: .bool([false, true, true]))
        let found = try select("max", ["input": .tensor(b), "dim": .int(0)])
        #expect(found[0].data == .bool([true]) && found[1].int64s == [1])
        #expect(try select("argmin", ["input": .tensor(i), "dim": .int(1)])[0].int64s == [1, 1])
    }

    @Test func argmaxFlattensWithoutDim() throws {
        let x = Tensor(shape: [2, 3], [0, 4, 1, 4, -1, 2] as [Double])
        let flat = try select("argmax", ["input": .tensor(x)])[0]
        #expect(flat.shape == [] && flat.int64s == [1])
        let kept = try select("argmax", ["input": .tensor(x), "dim": .none, "keepdim": .bool(true)])[0]
        #expect(kept.shape == [1, 1] && kept.int64s == [1])
        #expect(try select("argmin", ["input": .tensor(x), "dim": .int(0)])[0].int64s == [0, 1, 0])
        #expect(try select("argmax", ["input": .tensor(sample())])[0].int64s == [3])
    }

    @Test func fullReductionSharesTheGradientAmongTies() throws {
        let x = Tensor(shape: [4], [1, 3, 3, 2] as [Float], requiresGrad: true)
        let y = try select("max", ["input": .tensor(x)])[0]
        #expect(y.shape == [] && y.doubles == [3] && y.gradFn?.name == "MaxBackward1")
        try y.backward()
        #expect(x.grad?.doubles == [0, 0.5, 0.5, 0])
        let n = Tensor(shape: [4], [1, .nan, 3, .nan] as [Float], requiresGrad: true)
        try select("min", ["input": .tensor(n)])[0].backward()
        #expect(n.grad?.doubles == [0, 0.5, 0, 0.5])
    }

    @Test func alongADimTheGradientGoesToTheSelectedElement() throws {
        let x = Tensor(shape: [1, 4], [1, 3, 3, 2] as [Double], requiresGrad: true)
        let y = try select("max", ["input": .tensor(x), "dim": .int(1)])[0]
        #expect(y.gradFn?.name == "MaxBackward0")
        try y.backward()
        #expect(x.grad?.doubles == [0, 1, 0, 0])
        let distinct = Tensor(shape: [3, 4], (0..<12).map { Double(($0 * 7) % 12) - 5.5 })
        for (op, dim) in [("max", 0), ("min", 1), ("max", -1)] {
            let error = try RefCheck.gradientError([distinct]) { t in try select(op, ["input": .tensor(t[0]), "dim": .int(dim)])[0] }
            #expect(error < 1e-6, "\(op) dim \(dim)")
        }
    }

    @Test func errors() {
        let empty = Tensor.zeros([0, 3], dtype: .float32), x = sample()
        #expect(throws: TorchError.runtime("max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")) {
            try select("max", ["input": .tensor(empty)])
        }
        #expect(throws: TorchError.index("argmin(): Expected reduction dim to be specified for input.numel() == 0.")) {
            try select("argmin", ["input": .tensor(empty)])
        }
        #expect(throws: TorchError.index("min(): Expected reduction dim 0 to have non-zero size.")) {
            try select("min", ["input": .tensor(empty), "dim": .int(-2)])
        }
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-2, 1], but got 2)")) {
            try select("argmax", ["input": .tensor(x), "dim": .int(2)])
        }
        #expect(throws: TorchError.notImplemented("argmax(): does not support bool input")) {
            try select("argmax", ["input": .tensor(Tensor(shape: [1], data: .bool([true])))])
        }
        #expect(RefCheck.error { _ = try select("max", ["input": .tensor(x), "dim": .none]) }?.type == "TypeError")
        #expect(RefCheck.error { _ = try select("min", ["input": .tensor(x), "keepdim": .bool(true)]) }?.type == "TypeError")
    }
}
