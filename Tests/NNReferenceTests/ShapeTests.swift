import Testing
import NNCore
import NNReference

private func call(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
private func ints(_ v: [Int]) -> Value { .list(v.map(Value.int)) }
/// 0, 1, 2, ... as float64 in `shape`.
private func counting(_ shape: [Int]) -> Tensor { Tensor(shape: shape, (0..<shape.reduce(1, *)).map(Double.init)) }

@Suite struct ShapeTests {
    @Test func flattenMergesDims() throws {
        let x = counting([2, 3, 4])
        let y = try call("flatten", ["input": .tensor(x), "start_dim": .int(1)])
        #expect(y.shape == [2, 12] && y.doubles == x.doubles)
        let middle = try call("flatten", ["input": .tensor(x), "start_dim": .int(-3), "end_dim": .int(-2)])
        #expect(middle.shape == [6, 4])
        #expect(try call("flatten", ["input": .tensor(x)]).shape == [24])
        #expect(try call("flatten", ["input": .tensor(Tensor(scalar: 2.0))]).shape == [1])
        let same = try call("flatten", ["input": .tensor(x), "start_dim": .int(1), "end_dim": .int(-2)])
        #expect(same === x)  // ATen returns the input itself when start == end
        let b = Tensor(shape: [2, 1], data: .bool([true, false]))
        #expect(try call("flatten", ["input": .tensor(b)]).data == .bool([true, false]))
    }

    @Test func flattenAndUnflattenAreViews() throws {
        let x = counting([2, 6]).clone(requiresGrad: true)
        let y = try call("unflatten", ["input": .tensor(x), "dim": .int(1), "sizes": ints([3, -1])])
        #expect(y.shape == [2, 3, 2] && y.gradFn?.name == "ViewBackward0")
        let z = try call("flatten", ["input": .tensor(y), "start_dim": .int(1)])
        #expect(z.gradFn?.name == "ViewBackward0")
        let error = try RefCheck.gradientError([counting([2, 6])]) { t in
            let u = try call("unflatten", ["input": .tensor(t[0]), "dim": .int(-1), "sizes": ints([2, 3])])
            return try call("flatten", ["input": .tensor(u), "start_dim": .int(0), "end_dim": .int(1)])
        }
        #expect(error < 1e-6)
    }

    @Test func flattenErrors() {
        let x = counting([2, 3, 4])
        #expect(throws: TorchError.runtime("flatten() has invalid args: start_dim cannot come after end_dim")) {
            try call("flatten", ["input": .tensor(x), "start_dim": .int(2), "end_dim": .int(-2)])
        }
        #expect(throws: TorchError.index("Dimension out of range (expected to be in range of [-3, 2], but got 3)")) {
            try call("flatten", ["input": .tensor(x), "start_dim": .int(3)])
        }
    }

    @Test func unflattenSplitsOneDim() throws {
        let x = counting([2, 12, 3])
        let y = try call("unflatten", ["input": .tensor(x), "dim": .int(1), "sizes": ints([2, -1, 3])])
        #expect(y.shape == [2, 2, 2, 3, 3] && y.doubles == x.doubles)
        let empty = try call("unflatten", ["input": .tensor(Tensor.zeros([0, 3], dtype: .float32)), "dim": .int(0), "sizes": ints([0, 5])])
        #expect(empty.shape == [0, 5, 3])
    }

    @Test func unflattenErrors() {
        let x = counting([2, 12])
        func unflatten(_ sizes: Value) throws { _ = try call("unflatten", ["input": .tensor(x), "dim": .int(1), "sizes": sizes]) }
        #expect(throws: TorchError.runtime("unflatten: sizes must be non-empty")) { try unflatten(ints([])) }
        #expect(throws: TorchError.runtime("unflatten: Provided sizes [5, 2] don't multiply up to the size of dim 1 (12) in the input tensor")) {
            try unflatten(ints([5, 2]))
        }
        #expect(throws: TorchError.runtime("unflatten: Provided sizes [-1, 5] don't multiply up to the size of dim 1 (12) in the input tensor")) {
            try unflatten(ints([-1, 5]))
        }
        #expect(throws: TorchError.runtime("unflatten got an unexpected error:\nonly one dimension can be inferred")) {
            try unflatten(ints([-1, -1]))
        }
        #expect(throws: TorchError.runtime("unflatten got an unexpected error:\ninvalid shape dimension -2 at index 0 of shape [-2, -6]")) {
            try unflatten(ints([-2, -6]))
        }
        #expect(throws: TorchError.type("unflatten(): argument 'sizes' must be tuple of ints, not int")) { try unflatten(.int(12)) }
    }

    @Test func pixelShuffleInterleavesChannels() throws {
        // y[0, 0, h·2 + i, w·2 + j] = x[0, i·2 + j, h, w] with x[c, 0, w] = 2c + w.
        let x = counting([1, 4, 1, 2])
        let y = try call("pixel_shuffle", ["input": .tensor(x), "upscale_factor": .int(2)])
        #expect(y.shape == [1, 1, 2, 4])
        #expect(y.doubles == [0, 2, 1, 3, 4, 6, 5, 7])
        let back = try call("pixel_unshuffle", ["input": .tensor(y), "downscale_factor": .int(2)])
        #expect(back.shape == x.shape && back.doubles == x.doubles)
        let i = Tensor(shape: [4, 1, 1], int64: [5, 6, 7, 8])
        #expect(try call("pixel_shuffle", ["input": .tensor(i), "upscale_factor": .int(2)]).int64s == [5, 6, 7, 8])
    }

    @Test func pixelShuffleGradients() throws {
        let x = counting([2, 8, 2, 3]).clone(requiresGrad: true)
        #expect(try call("pixel_shuffle", ["input": .tensor(x), "upscale_factor": .int(2)]).gradFn?.name == "PixelShuffleBackward0")
        let shuffle = try RefCheck.gradientError([counting([1, 9, 2, 1])]) { t in
            try call("pixel_shuffle", ["input": .tensor(t[0]), "upscale_factor": .int(3)])
        }
        let unshuffle = try RefCheck.gradientError([counting([2, 1, 4, 2])]) { t in
            try call("pixel_unshuffle", ["input": .tensor(t[0]), "downscale_factor": .int(2)])
        }
        #expect(shuffle < 1e-6 && unshuffle < 1e-6)
    }

    @Test func pixelShuffleErrors() {
        #expect(throws: TorchError.runtime("pixel_shuffle expects input to have at least 3 dimensions, but got input with 2 dimension(s)")) {
            try call("pixel_shuffle", ["input": .tensor(counting([4, 4])), "upscale_factor": .int(2)])
        }
        #expect(throws: TorchError.runtime("pixel_shuffle expects a positive upscale_factor, but got 0")) {
            try call("pixel_shuffle", ["input": .tensor(counting([4, 1, 1])), "upscale_factor": .int(0)])
        }
        #expect(throws: TorchError.runtime("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)=6 is not divisible by 4")) {
            try call("pixel_shuffle", ["input": .tensor(counting([6, 1, 1])), "upscale_factor": .int(2)])
        }
        #expect(throws: TorchError.runtime("pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)=5 is not divisible by 2")) {
            try call("pixel_unshuffle", ["input": .tensor(counting([1, 5, 4])), "downscale_factor": .int(2)])
        }
        #expect(throws: TorchError.runtime("pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)=5 is not divisible by 2")) {
            try call("pixel_unshuffle", ["input": .tensor(counting([1, 4, 5])), "downscale_factor": .int(2)])
        }
    }

    @Test func oneHot() throws {
        let x = Tensor(shape: [3], int64: [2, 0, 1])
        let y = try call("one_hot", ["input": .tensor(x)])
        #expect(y.shape == [3, 3] && y.dtype == .int64)
        #expect(y.int64s == [0, 0, 1, 1, 0, 0, 0, 1, 0])
        let wide = try call("one_hot", ["input": .tensor(Tensor(shape: [], int64: [1])), "num_classes": .int(4)])
        #expect(wide.shape == [4] && wide.int64s == [0, 1, 0, 0])
        let empty = try call("one_hot", ["input": .tensor(Tensor(shape: [0], int64: [])), "num_classes": .int(3)])
        #expect(empty.shape == [0, 3])
    }

    @Test func oneHotErrors() {
        func oneHot(_ x: Tensor, _ n: Int = -1) throws { _ = try call("one_hot", ["input": .tensor(x), "num_classes": .int(n)]) }
        #expect(throws: TorchError.runtime("Class values must be non-negative.")) { try oneHot(Tensor(shape: [2], int64: [0, -1]), 3) }
        #expect(throws: TorchError.runtime("Class values must be smaller than num_classes.")) { try oneHot(Tensor(shape: [1], int64: [3]), 3) }
        #expect(throws: TorchError.runtime("Can not infer total number of classes from empty tensor.")) { try oneHot(Tensor(shape: [0], int64: [])) }
        #expect(throws: TorchError.runtime("one_hot is only applicable to index tensor of type LongTensor.")) { try oneHot(counting([2]), 3) }
    }
}
