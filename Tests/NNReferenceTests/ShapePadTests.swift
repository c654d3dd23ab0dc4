import Testing
import NNCore
import NNReference

private func ints(_ v: [Int]) -> Value { .list(v.map(Value.int)) }
private func pad(_ x: Tensor, _ amounts: [Int], _ mode: String = "constant", value: Value? = nil) throws -> Tensor {
    var args: [String: Value] = ["input": .tensor(x), "pad": ints(amounts), "mode": .string(mode)]
    if let value { args["value"] = value }
    return try RefCheck.call("pad", args)
}
/// [1, 2, 3, 4] as a (1, 1, 4) float64 tensor.
private func row() -> Tensor { Tensor(shape: [1, 1, 4], [1, 2, 3, 4] as [Double]) }

@Suite struct ShapePadTests {
    @Test func constantPadsAndCrops() throws {
        let x = Tensor(shape: [3], [1, 2, 3] as [Float])
        #expect(try pad(x, [1, 2], value: .double(9)).doubles == [9, 1, 2, 3, 9, 9])
        #expect(try pad(x, [-1, 1]).doubles == [2, 3, 0])
        #expect(try pad(x, [-1, -2]).shape == [0])
        let grid = Tensor(shape: [2, 2], [1, 2, 3, 4] as [Double])
        let framed = try pad(grid, [0, 1, 1, 0], value: .double(-1))
        #expect(framed.shape == [3, 3])
        #expect(framed.doubles == [-1, -1, -1, 1, 2, -1, 3, 4, -1])
        let i = try pad(Tensor(shape: [2], int64: [5, 6]), [1, 1], value: .double(-2.5))
        #expect(i.int64s == [-2, 5, 6, -2])
        #expect(try pad(Tensor(scalar: 2.0), []).doubles == [2])
    }

    @Test func reflectReplicateCircular() throws {
        #expect(try pad(row(), [2, 1], "reflect").doubles == [3, 2, 1, 2, 3, 4, 3])
        #expect(try pad(row(), [2, 1], "replicate").doubles == [1, 1, 1, 2, 3, 4, 4])
        #expect(try pad(row(), [2, 1], "circular").doubles == [3, 4, 1, 2, 3, 4, 1])
        #expect(try pad(row(), [-1, 1], "reflect").doubles == [2, 3, 4, 3])
        #expect(try pad(row(), [-1, 6], "replicate").doubles == [2, 3, 4, 4, 4, 4, 4, 4, 4])
        // Circular crops first, then wraps around what is left: [2, 3, 4] → [2, 3, 4, 2, 3].
        #expect(try pad(row(), [-1, 2], "circular").doubles == [2, 3, 4, 2, 3])
        // 2-d reflect of [[1, 2], [3, 4]], one row above and one column left.
        let square = Tensor(shape: [1, 2, 2], [1, 2, 3, 4] as [Double])
        #expect(try pad(square, [1, 0, 1, 0], "reflect").doubles == [4, 3, 4, 2, 1, 2, 4, 3, 4])
    }

    @Test func gradFnNames() throws {
        let x = Tensor(shape: [1, 1, 2, 3, 4], (0..<24).map(Double.init), requiresGrad: true)
        #expect(try pad(x, [1, 1]).gradFn?.name == "ConstantPadNdBackward0")
        let planes = Tensor(shape: [2, 3, 4], (0..<24).map(Double.init), requiresGrad: true)
        #expect(try pad(planes, [1, 1, 1, 1], "reflect").gradFn?.name == "ReflectionPad2DBackward0")
        #expect(try pad(planes, [1, 1], "replicate").gradFn?.name == "ReplicationPad1DBackward0")
        #expect(try pad(x, [1, 1, 1, 1, 1, 1], "replicate").gradFn?.name == "ReplicationPad3DBackward0")
        #expect(try pad(x, [1, 1, 1, 1, 1, 1], "circular").gradFn?.name == "CopySlices")
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = Tensor(shape: [1, 2, 3, 4], (0..<24).map { Double($0) * 0.37 - 2 })
        let variants: [([Int], String)] = [
            ([2, -1, 1, 3], "constant"), ([3, 1, 2, 2], "reflect"), ([-1, 5, 2, 0], "replicate"),
            ([3, -1, 3, 3], "circular"), ([-2, 1, 0, 0], "reflect"),
        ]
        for (amounts, mode) in variants {
            let error = try RefCheck.gradientError([x]) { t in try pad(t[0], amounts, mode) }
            #expect(error < 1e-6, "\(mode) \(amounts)")
        }
    }

    @Test func lengthModeAndValueErrors() {
        let x = Tensor(shape: [1, 2, 3], (0..<6).map(Double.init))
        #expect(throws: TorchError.runtime("Padding length must be divisible by 2")) { try pad(x, [1, 1, 1]) }
        #expect(throws: TorchError.runtime("Padding length should be less than or equal to two times the input dimension but got padding length 8 and input of dimension 3")) {
            try pad(x, [1, 1, 1, 1, 1, 1, 1, 1])
        }
        #expect(throws: TorchError.notImplemented("Unrecognised padding mode zeros")) { try pad(x, [1, 1], "zeros") }
        #expect(throws: TorchError.runtime("Padding mode \"reflect\" doesn't take in value argument")) {
            try pad(x, [1, 1], "reflect", value: .double(1))
        }
        #expect(throws: TorchError.runtime("narrow(): length must be non-negative.")) { try pad(x, [-2, -2]) }
        #expect(throws: TorchError.runtime("value cannot be converted to type float without overflow")) {
            try pad(Tensor(shape: [2], [1, 2] as [Float]), [1, 0], value: .double(1e39))
        }
        #expect(throws: TorchError.runtime("value cannot be converted to type int64_t without overflow")) {
            try pad(Tensor(shape: [2], int64: [1, 2]), [1, 0], value: .string("nan"))
        }
        #expect(throws: TorchError.type("pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type float at pos 1")) {
            try RefCheck.call("pad", ["input": .tensor(x), "pad": .list([.int(1), .double(1)])])
        }
    }

    @Test func modeSpecificErrors() {
        let x = Tensor(shape: [1, 2, 3], (0..<6).map(Double.init))
        #expect(throws: TorchError.notImplemented("Padding size 2 is not supported for 1D input tensor.\nSupported combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")) {
            try pad(Tensor(shape: [3], [1, 2, 3] as [Double]), [1, 1], "replicate")
        }
        #expect(throws: TorchError.runtime("Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (3, 0) at dimension 2 of input [1, 2, 3]")) {
            try pad(x, [3, 0], "reflect")
        }
        #expect(throws: TorchError.runtime("Argument #6: Padding size should be less than the corresponding input dimension, but got: padding (0, 2) at dimension 1 of input [1, 2, 3]")) {
            try pad(x, [1, 1, 0, 2], "reflect")
        }
        #expect(throws: TorchError.runtime("input (W: 3) is too small. Calculated output W: -1")) { try pad(x, [-2, -2], "replicate") }
        #expect(throws: TorchError.runtime("Calculated output H: 0 W: 3 must be >= 1 in every dimension (input H: 2, W: 3)")) {
            try pad(x, [0, 0, -1, -1], "replicate")
        }
        #expect(throws: TorchError.runtime("Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: [1, 0, 3]")) {
            try pad(Tensor.zeros([1, 0, 3], dtype: .float32), [1, 1], "reflect")
        }
        #expect(throws: TorchError.notImplemented("\"reflection_pad1d\" not implemented for 'Bool'")) {
            try pad(Tensor(shape: [1, 2], data: .bool([true, false])), [1, 0], "reflect")
        }
        #expect(throws: TorchError.runtime("Padding value causes wrapping around more than once.")) { try pad(x, [4, 0], "circular") }
        #expect(throws: TorchError.runtime("Negative padding value is resulting in an empty dimension")) { try pad(x, [-2, -2], "circular") }
        #expect(throws: TorchError.runtime("unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before performing the operation.")) {
            try pad(x, [3, -2], "circular")
        }
    }
}
