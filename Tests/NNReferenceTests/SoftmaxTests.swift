import Foundation
import Testing
import NNCore
import NNReference

private func call(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
private func implicitDimWarning(_ op: String) -> Warning {
    Warning("UserWarning", "Implicit dimension choice for \(op) has been deprecated. Change the call to include dim=X as an argument.")
}

@Suite struct SoftmaxTests {
    @Test func values() throws {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 1, 1, 1] as [Double])
        let s = try call("softmax", ["input": .tensor(x), "dim": .int(1)]).doubles
        let expected = [0.09003057317038045, 0.2447284710547976, 0.6652409557748218, 1.0 / 3, 1.0 / 3, 1.0 / 3]
        #expect(zip(s, expected).allSatisfy { abs($0 - $1) < 1e-15 })
        let l = try call("log_softmax", ["input": .tensor(x), "dim": .int(-1)]).doubles
        #expect(abs(l[0] - -2.4076059644443806) < 1e-15 && abs(l[2] - -0.4076059644443804) < 1e-15)
        // softmin(x) = softmax(−x), along dim 0 here: each column is [a, b] → [σ(b − a), σ(a − b)].
        let m = try call("softmin", ["input": .tensor(x), "dim": .int(0)]).doubles
        #expect(abs(m[1] - 1 / (1 + exp(1.0))) < 1e-15 && m[3] == 0.5)
    }

    @Test func extremeLogitsAreExact() throws {
        let x = Tensor(shape: [3], [1e4, -1e4, 0] as [Float])
        #expect(try call("softmax", ["input": .tensor(x), "dim": .int(0)]).doubles == [1, 0, 0])
        #expect(try call("log_softmax", ["input": .tensor(x), "dim": .int(0)]).doubles == [0, -20000, -10000])
        #expect(try call("softmin", ["input": .tensor(x), "dim": .int(0)]).doubles == [0, 1, 0])
        let inf = try call("log_softmax", ["input": .tensor(Tensor(shape: [2], [-.infinity, 0] as [Float])), "dim": .int(0)])
        #expect(inf.doubles == [-.infinity, 0])
    }

    @Test func zeroDimAndEmpty() throws {
        let s = Tensor(shape: [], [2] as [Float])
        #expect(try call("softmax", ["input": .tensor(s), "dim": .int(-1)]).doubles == [1])
        #expect(try call("log_softmax", ["input": .tensor(s), "dim": .int(0)]).doubles == [0])
        let e = try call("softmax", ["input": .tensor(Tensor.zeros([0, 3], dtype: .float32)), "dim": .int(0)])
        #expect(e.shape == [0, 3])
    }

    @Test func implicitDim() throws {
        // dim 0 for 0-, 1- and 3-dim inputs, else 1; each call warns, naming the op.
        for (shape, dim) in [([2], 0), ([2, 3], 1), ([2, 3, 4], 0), ([2, 3, 1, 2], 1)] {
            let x = Tensor(shape: shape, (0..<shape.reduce(1, *)).map { Double($0) * 0.3 })
            for op in ["softmax", "log_softmax", "softmin"] {
                let (y, warnings) = try Warnings.collect { try call(op, ["input": .tensor(x)]) }
                #expect(warnings == [implicitDimWarning(op)])
                #expect(try y.doubles == call(op, ["input": .tensor(x), "dim": .int(dim)]).doubles)
            }
        }
        let (_, none) = try Warnings.collect { try call("softmax", ["input": .tensor(Tensor(shape: [1], [1.0])), "dim": .int(0)]) }
        #expect(none.isEmpty)
    }

    @Test func errors() throws {
        let x = Tensor(shape: [2, 3], [Float](repeating: 1, count: 6))
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-2, 1], but got 2)")) {
            try call("softmax", ["input": .tensor(x), "dim": .int(2)])
        }
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-1, 0], but got 1)")) {
            try call("log_softmax", ["input": .tensor(Tensor(shape: [], [1.0])), "dim": .int(1)])
        }
        let xi = Tensor(shape: [2, 2], data: .int64([1, 2, 3, 4]))
        #expect(throws: TorchError.notImplemented("\"softmax_lastdim_kernel_impl\" not implemented for 'Long'")) {
            try call("softmax", ["input": .tensor(xi), "dim": .int(1)])
        }
        #expect(throws: TorchError.notImplemented("\"log_softmax_kernel_impl\" not implemented for 'Long'")) {
            try call("log_softmax", ["input": .tensor(xi), "dim": .int(0)])
        }
        #expect(throws: TorchError.notImplemented("\"softmax_kernel_impl\" not implemented for 'Long'")) {
            try call("softmax", ["input": .tensor(x), "dim": .int(0), "dtype": .string("int64")])
        }
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-2, 1], but got 5)")) {
            try call("softmin", ["input": .tensor(xi), "dim": .int(5)])  // the dim check comes before the dtype's
        }
        #expect(throws: Pointwise.boolNegationError) {
            try call("softmin", ["input": .tensor(Tensor(shape: [1], data: .bool([true]))), "dim": .int(0)])
        }
    }

    @Test func dtypeCastsFirst() throws {
        let xi = Tensor(shape: [2], int64: [1, 2])
        let y = try call("softmax", ["input": .tensor(xi), "dim": .int(0), "dtype": .string("float32")])
        #expect(y.dtype == .float32 && abs(y.doubles[1] - 0.7310585786) < 1e-7)
        let x = Tensor(shape: [2, 3], [1, 2, 3, 0, 0, 1] as [Float], requiresGrad: true)
        let d = try call("log_softmax", ["input": .tensor(x), "dim": .int(1), "dtype": .string("float64")])
        #expect(d.dtype == .float64 && d.gradFn?.name == "LogSoftmaxBackward0")
        try d.backward(gradient: Tensor(shape: [2, 3], [1, 0, 0, 1, 0, 0] as [Double]))
        #expect(x.grad?.dtype == .float32)
        #expect(abs(x.grad!.doubles[0] - (1 - 0.09003057317038045)) < 1e-6)
    }

    @Test func gradFnNames() throws {
        let x = Tensor(shape: [3], [1, 2, 3] as [Float], requiresGrad: true)
        #expect(try call("softmax", ["input": .tensor(x), "dim": .int(0)]).gradFn?.name == "SoftmaxBackward0")
        #expect(try call("log_softmax", ["input": .tensor(x), "dim": .int(0)]).gradFn?.name == "LogSoftmaxBackward0")
        #expect(try call("softmin", ["input": .tensor(x), "dim": .int(0), "dtype": .string("float64")]).gradFn?.name == "SoftmaxBackward0")
    }

    @Test func gradients() throws {
        let x = Tensor(shape: [2, 3, 2], (0..<12).map { Double(($0 * 7) % 12) * 0.35 - 2 })
        for op in ["softmax", "log_softmax", "softmin"] {
            for dim in [0, 1, -1] {
                #expect(try RefCheck.gradientError([x]) { v in
                    try call(op, ["input": .tensor(v[0]), "dim": .int(dim)])
                } < 1e-7)
            }
        }
    }

    @Test func savedOutputVersion() throws {
        let x = Tensor(shape: [3], [1, 2, 3] as [Float], requiresGrad: true)
        let y = try call("softmax", ["input": .tensor(x), "dim": .int(0)])
        _ = try call("mul_", ["input": .tensor(y), "other": .int(2)])
        #expect(RefCheck.error { try y.backward(gradient: Tensor(shape: [3], [1, 0, 0] as [Float])) }
                == RefCheck.versionError("[torch.FloatTensor [3]], which is output 0 of Softmax,", version: 1, expected: 0))
        let z = try GradMode.noGrad { try call("softmax", ["input": .tensor(x), "dim": .int(0)]) }
        #expect(z.gradFn == nil)
    }
}
