import Testing
import NNCore
import NNReference

private func call(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
/// [[0, 1, 2], [3, 4, 5]]
private func grid(requiresGrad: Bool = false) -> Tensor {
    Tensor(shape: [2, 3], [0, 1, 2, 3, 4, 5] as [Float], requiresGrad: requiresGrad)
}

@Suite struct ReductionTests {
    @Test func sumValues() throws {
        let x = grid()
        #expect(try call("sum", ["input": .tensor(x)]).doubles == [15])
        #expect(try call("sum", ["input": .tensor(x)]).shape == [])
        #expect(try call("sum", ["input": .tensor(x), "dim": .int(0)]).doubles == [3, 5, 7])
        let kept = try call("sum", ["input": .tensor(x), "dim": .int(-1), "keepdim": .bool(true)])
        #expect(kept.shape == [2, 1] && kept.doubles == [3, 12])
        #expect(try call("sum", ["input": .tensor(x), "dim": .list([.int(1), .int(0)])]).doubles == [15])
        let all = try call("sum", ["input": .tensor(x), "dim": .list([]), "keepdim": .bool(true)])
        #expect(all.shape == [1, 1] && all.doubles == [15])
        let cube = Tensor(shape: [2, 2, 2], (0..<8).map(Double.init))
        let sides = try call("sum", ["input": .tensor(cube), "dim": .list([0, 2].map(Value.int))])
        #expect(sides.shape == [2] && sides.doubles == [0 + 1 + 4 + 5, 2 + 3 + 6 + 7])
    }

    @Test func meanValues() throws {
        let x = grid()
        #expect(try call("mean", ["input": .tensor(x)]).doubles == [2.5])
        #expect(try call("mean", ["input": .tensor(x), "dim": .int(1)]).doubles == [1, 4])
        let m = try call("mean", ["input": .tensor(x), "dim": .int(0), "dtype": .string("float64")])
        #expect(m.dtype == .float64 && m.doubles == [1.5, 2.5, 3.5])
        let empty = Tensor.zeros([0, 3], dtype: .float32)
        #expect(try call("mean", ["input": .tensor(empty)]).doubles[0].isNaN)
        #expect(try call("mean", ["input": .tensor(empty), "dim": .int(0)]).doubles.allSatisfy(\.isNaN))
        #expect(try call("mean", ["input": .tensor(empty), "dim": .int(1)]).shape == [0])
        #expect(try call("sum", ["input": .tensor(empty), "dim": .int(0)]).doubles == [0, 0, 0])
    }

    @Test func integerAndBoolSums() throws {
        let xi = Tensor(shape: [2, 3], int64: [0, 1, 2, 3, 4, 5])
        let s = try call("sum", ["input": .tensor(xi)])
        #expect(s.dtype == .int64 && s.int64s == [15])
        let b = Tensor(shape: [2, 3], data: .bool([true, false, true, true, true, false]))
        let bs = try call("sum", ["input": .tensor(b), "dim": .int(1)])
        #expect(bs.dtype == .int64 && bs.int64s == [2, 2])
        #expect(try call("sum", ["input": .tensor(Tensor(shape: [3], int64: [1 << 62, 1 << 62, 1 << 62]))]).int64s == [-(1 << 62)])
        let f = try call("sum", ["input": .tensor(xi), "dtype": .string("torch.float32")])
        #expect(f.dtype == .float32 && f.doubles == [15])
        let truncated = try call("sum", ["input": .tensor(Tensor(shape: [2], [1.5, 2.5] as [Double])), "dtype": .string("int64")])
        #expect(truncated.int64s == [3])
        #expect(try call("sum", ["input": .tensor(grid()), "dtype": .string("bool")]).data == .bool([true]))
        let m = try call("mean", ["input": .tensor(xi), "dtype": .string("float32")])
        #expect(m.dtype == .float32 && m.doubles == [2.5])
    }

    @Test func zeroDim() throws {
        let s = Tensor(shape: [], [3] as [Float])
        for dim in [0, -1] {
            #expect(try call("sum", ["input": .tensor(s), "dim": .int(dim), "keepdim": .bool(true)]).shape == [])
        }
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-1, 0], but got 1)")) {
            try call("sum", ["input": .tensor(s), "dim": .int(1)])
        }
        #expect(throws: TorchError.runtime("dim 0 appears multiple times in the list of dims")) {
            try call("sum", ["input": .tensor(s), "dim": .list([.int(0), .int(-1)])])
        }
    }

    @Test func errors() throws {
        let x = grid(), xi = Tensor(shape: [2], int64: [1, 2])
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-2, 1], but got 2)")) {
            try call("sum", ["input": .tensor(x), "dim": .int(2)])
        }
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-2, 1], but got -3)")) {
            try call("mean", ["input": .tensor(x), "dim": .list([.int(0), .int(-3)])])
        }
        #expect(throws: TorchError.runtime("dim 1 appears multiple times in the list of dims")) {
            try call("sum", ["input": .tensor(x), "dim": .list([.int(1), .int(-1)])])
        }
        #expect(throws: TorchError.notImplemented("mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long")) {
            try call("mean", ["input": .tensor(xi), "dim": .int(5)])  // the dtype check comes first
        }
        #expect(throws: TorchError.notImplemented("mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Bool")) {
            try call("mean", ["input": .tensor(Tensor(shape: [1], data: .bool([true])))])
        }
        #expect(throws: TorchError.notImplemented("mean(): could not infer output dtype. Optional dtype must be either a floating point or complex dtype. Got: Long")) {
            try call("mean", ["input": .tensor(x), "dtype": .string("int64")])
        }
        #expect(throws: TorchError.type("sum(): argument 'dtype' must be torch.dtype, not str")) {
            try call("sum", ["input": .tensor(x), "dtype": .string("float16")])
        }
    }

    @Test func gradFnNames() throws {
        let x = grid(requiresGrad: true)
        #expect(try call("sum", ["input": .tensor(x)]).gradFn?.name == "SumBackward0")
        #expect(try call("sum", ["input": .tensor(x), "dtype": .string("float64")]).gradFn?.name == "SumBackward0")
        #expect(try call("sum", ["input": .tensor(x), "dim": .int(0)]).gradFn?.name == "SumBackward1")
        #expect(try call("sum", ["input": .tensor(x), "dim": .none, "keepdim": .bool(true)]).gradFn?.name == "SumBackward1")
        #expect(try call("mean", ["input": .tensor(x)]).gradFn?.name == "MeanBackward0")
        #expect(try call("mean", ["input": .tensor(x), "dim": .list([])]).gradFn?.name == "MeanBackward1")
    }

    @Test func gradients() throws {
        let x = Tensor(shape: [2, 3, 2], (0..<12).map { Double($0) * 0.37 - 1.9 })
        let cases: [[String: Value]] = [
            [:], ["dim": .int(1)], ["dim": .list([.int(0), .int(-1)]), "keepdim": .bool(true)], ["dim": .none],
        ]
        for op in ["sum", "mean"] {
            for extra in cases {
                #expect(try RefCheck.gradientError([x]) { v in
                    try call(op, extra.merging(["input": .tensor(v[0])]) { $1 })
                } < 1e-7)
            }
        }
        // A float32 input summed as float64 gets its gradient back as float32.
        let y = grid(requiresGrad: true)
        try call("mean", ["input": .tensor(y), "dtype": .string("float64")]).backward()
        #expect(y.grad?.dtype == .float32 && y.grad?.doubles == Array(repeating: Double(Float(1) / 6), count: 6))
        // Reductions save no tensors: a second backward is allowed.
        let s = try call("sum", ["input": .tensor(y), "dim": .int(0)])
        try s.backward(gradient: Tensor(shape: [3], [1, 2, 3] as [Float]))
        try s.backward(gradient: Tensor(shape: [3], [1, 2, 3] as [Float]))
    }

    @Test func noGrad() throws {
        let x = grid(requiresGrad: true)
        let y = try GradMode.noGrad { try call("sum", ["input": .tensor(x)]) }
        #expect(y.gradFn == nil && !y.requiresGrad && y.doubles == [15])
    }
}
