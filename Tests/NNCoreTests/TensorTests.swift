import Testing
@testable import NNCore

@Suite struct TensorTests {
    @Test func zeroDimTensorsHoldOneElement() {
        let s = Tensor(scalar: Float(3))
        #expect(s.shape == [] && s.numel == 1 && s.dim == 0 && s.item == 3)
    }

    @Test func viewSharesStorageAndInfersOneDimension() throws {
        let x = Tensor(shape: [2, 3], [Float](repeating: 1, count: 6))
        let v = try x.view([3, -1])
        #expect(v.shape == [3, 2])
        #expect(v.storage === x.storage)
        #expect(v.base === x)
        #expect(throws: TorchError.runtime("shape '[4, -1]' is invalid for input of size 6")) { try x.view([4, -1]) }
        #expect(throws: TorchError.runtime("only one dimension can be inferred")) { try x.view([-1, -1]) }
        #expect(throws: TorchError.runtime("invalid shape dimension -2 at index 1 of shape [-1, -2]")) { try x.view([-1, -2]) }
    }

    @Test func wrapDimFollowsPyTorch() throws {
        #expect(try wrapDim(-1, rank: 3) == 2)
        #expect(try wrapDim(0, rank: 0) == 0)
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-2, 1], but got 2)")) { try wrapDim(2, rank: 2) }
    }

    @Test func conversionsFollowPyTorchCasting() {
        #expect(TensorData.float64([1.9, -1.9]).converted(to: .int64) == .int64([1, -1]))
        #expect(TensorData.int64([0, 2]).converted(to: .bool) == .bool([false, true]))
        #expect(TensorData.float32([0.5]).converted(to: .float64) == .float64([0.5]))
        #expect(DType.promote(.int64, .float32) == .float32)
        #expect(DType.promote(.float64, .float32) == .float64)
    }
}

@Suite struct BroadcastTests {
    @Test func shapesAlignFromTheRight() throws {
        #expect(try broadcastShapes([2, 1, 3], [4, 1]) == [2, 4, 3])
        #expect(try broadcastShapes([], [2, 2]) == [2, 2])
        #expect(throws: TorchError.runtime("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1")) {
            try broadcastShapes([2, 3], [4])
        }
    }

    @Test func indicesMapBroadcastElementsToTheirSource() {
        #expect(broadcastIndices(from: [3], to: [2, 3]) == [0, 1, 2, 0, 1, 2])
        #expect(broadcastIndices(from: [2, 1], to: [2, 3]) == [0, 0, 0, 1, 1, 1])
        #expect(broadcastIndices(from: [], to: [2]) == [0, 0])
    }

    @Test func sumToShapeIsTheAdjointOfBroadcasting() {
        let g: [Double] = [1, 2, 3, 4, 5, 6]
        #expect(sumToShape(g, from: [2, 3], to: [3]) == [5, 7, 9])
        #expect(sumToShape(g, from: [2, 3], to: [2, 1]) == [6, 15])
        #expect(sumToShape(g, from: [2, 3], to: []) == [21])
    }
}
