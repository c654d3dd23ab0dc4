import Foundation
import NNCore
import Testing
@testable import NNReference

@Suite struct LinearTests {
    func call(_ op: String, _ args: [String: Value]) throws -> Tensor {
        try Reference.backend.call(op, args).tensor!
    }

    @Test func linearIsXTimesWTransposedPlusB() throws {
        let x = Tensor(shape: [2, 3], [1.0, 2, 3, 4, 5, 6], requiresGrad: true)
        let w = Tensor(shape: [2, 3], [1.0, 0, -1, 0.5, 0.5, 0.5], requiresGrad: true)
        let b = Tensor(shape: [2], [10.0, 20], requiresGrad: true)
        let y = try call("linear", ["input": .tensor(x), "weight": .tensor(w), "bias": .tensor(b)])
        let expected: [Double] = [8, 23, 8, 27.5]  // rows·(1, 0, −1) + 10 and rows·(½, ½, ½) + 20
        #expect(y.doubles == expected)
        #expect(y.gradFn?.name == "AddmmBackward0")
        try y.backward(gradient: Tensor(shape: [2, 2], [1.0, 0, 0, 1]))
        #expect(x.grad?.doubles == [1, 0, -1, 0.5, 0.5, 0.5])   // g·W
        #expect(w.grad?.doubles == [1, 2, 3, 4, 5, 6])           // gᵀ·x
        #expect(b.grad?.doubles == [1, 1])
    }

    @Test func bilinearGradientsMatchFiniteDifferences() throws {
        func make(_ shape: [Int], _ seed: Double) -> Tensor {
            Tensor(shape: shape, (0..<shape.reduce(1, *)).map { sin(Double($0) * 1.3 + seed) }, requiresGrad: true)
        }
        let (x1, x2, a) = (make([2, 3], 0), make([2, 2], 1), make([4, 3, 2], 2))
        func f(_ x1v: [Double]) throws -> Double {
            try call("bilinear", ["input1": .tensor(Tensor(shape: [2, 3], x1v)), "input2": .tensor(x2.detach()),
                                  "weight": .tensor(a.detach())]).doubles.reduce(0, +)
        }
        try call("bilinear", ["input1": .tensor(x1), "input2": .tensor(x2), "weight": .tensor(a)])
            .backward(gradient: Tensor(shape: [2, 4], [Double](repeating: 1, count: 8)))
        let base = x1.doubles, h = 1e-6
        for i in base.indices {
            var p = base, m = base
            p[i] += h
            m[i] -= h
            #expect(abs((try f(p) - f(m)) / (2 * h) - x1.grad!.doubles[i]) < 1e-6)
        }
    }

    @Test func errorsAreATensMatrixProductErrors() {
        let x = Tensor.zeros([2, 3], dtype: .float32)
        #expect(throws: TorchError.runtime("mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 5x4)")) {
            try call("linear", ["input": .tensor(x), "weight": .tensor(Tensor.zeros([4, 5], dtype: .float32))])
        }
        #expect(throws: TorchError.runtime("both arguments to linear need to be at least 1D, but they are 0D and 2D")) {
            try call("linear", ["input": .tensor(Tensor.zeros([], dtype: .float32)), "weight": .tensor(Tensor.zeros([4, 3], dtype: .float32))])
        }
    }
}
