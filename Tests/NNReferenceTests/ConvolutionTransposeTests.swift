import Foundation
import NNCore
import NNReference
import Testing

/// conv_transpose1d/2d/3d of the reference backend. Expected values are worked by hand; error
/// texts are PyTorch 2.15's own.
@Suite struct ConvolutionTransposeTests {
    private func call(_ op: String, _ args: [String: Value]) throws -> Tensor {
        try #require(try Reference.backend.call(op, args).tensor)
    }

    /// Deterministic values in [-1, 1].
    private func tensor(_ shape: [Int], _ dtype: DType = .float64, seed: Double = 0, requiresGrad: Bool = false) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { sin(Double($0) * 1.3 + seed) }
        return Tensor(shape: shape, data: TensorData.float64(values).converted(to: dtype), requiresGrad: requiresGrad)
    }

    private func ints(_ v: [Int]) -> Value { .list(v.map(Value.int)) }

    @Test func stride2SpreadsEachInputOverItsOwnBlock() throws {
        // Each x[i, j] scales the whole kernel into output block (2i..2i+1, 2j..2j+1).
        let x = Tensor(shape: [1, 1, 2, 2], [Float]([1, 2, 3, 4]), requiresGrad: true)
        let w = Tensor(shape: [1, 1, 2, 2], [Float]([1, 10, 100, 1000]))
        let y = try call("conv_transpose2d", ["input": .tensor(x), "weight": .tensor(w), "stride": .int(2)])
        #expect(y.shape == [1, 1, 4, 4])
        let expected: [Double] = [1, 10, 2, 20, 100, 1000, 200, 2000, 3, 30, 4, 40, 300, 3000, 400, 4000]
        #expect(y.doubles == expected)
        #expect(y.gradFn?.name == "ConvolutionBackward0")
    }

    @Test func overlapsSumAndPaddingCropsWhatOutputPaddingRestores() throws {
        // Uncropped: p = 2l + q gives [1, 10, 100+2, 20, 200+3, 30, 300]. padding=1 drops one
        // position at each end; output_padding=1 gives the last one back.
        let x = Tensor(shape: [1, 1, 3], [Double]([1, 2, 3]))
        let w = Tensor(shape: [1, 1, 3], [Double]([1, 10, 100]))
        let base: [String: Value] = ["input": .tensor(x), "weight": .tensor(w), "stride": .int(2)]
        let full = try call("conv_transpose1d", base)
        #expect(full.doubles == [1, 10, 102, 20, 203, 30, 300])
        let cropped = try call("conv_transpose1d", base.merging(["padding": .int(1)]) { _, b in b })
        #expect(cropped.doubles == [10, 102, 20, 203, 30])
        let restored = try call("conv_transpose1d", base.merging(["padding": .int(1), "output_padding": .int(1)]) { _, b in b })
        #expect(restored.doubles == [10, 102, 20, 203, 30, 300])
    }

    @Test func dilationSpacesTheKernelTaps() throws {
        // dilation 2: p = l + 2q, so x = [1, 2] and w = [1, 10] give [1, 2, 10, 20].
        let y = try call("conv_transpose1d", ["input": .tensor(Tensor(shape: [1, 1, 2], [Double]([1, 2]))),
                                              "weight": .tensor(Tensor(shape: [1, 1, 2], [Double]([1, 10]))),
                                              "dilation": .int(2)])
        #expect(y.doubles == [1, 2, 10, 20])
    }

    @Test func groupsKeepChannelsApartAndAddTheBias() throws {
        // Depthwise: channel c is x[c]·w[c] + bias[c].
        let x = Tensor(shape: [1, 2, 1], [Float]([1, 2]))
        let w = Tensor(shape: [2, 1, 2], [Float]([1, 10, 100, 1000]))
        let b = Tensor(shape: [2], [Float]([5, 7]))
        let y = try call("conv_transpose1d", ["input": .tensor(x), "weight": .tensor(w), "bias": .tensor(b), "groups": .int(2)])
        #expect(y.shape == [1, 2, 2])
        #expect(y.doubles == [6, 15, 207, 2007])
    }

    @Test func isTheAdjointOfConvolution() throws {
        // ⟨conv_transpose(x, w), r⟩ = ⟨x, conv(r, w)⟩ for the same stride, padding, dilation, groups.
        let options: [String: Value] = ["stride": ints([2, 1]), "padding": ints([1, 2]), "dilation": ints([1, 2]), "groups": .int(2)]
        let x = tensor([2, 4, 4, 5], seed: 0.2), w = tensor([4, 3, 3, 2], seed: 0.9)
        let y = try call("conv_transpose2d", options.merging(["input": .tensor(x), "weight": .tensor(w)]) { a, _ in a })
        #expect(y.shape == [2, 6, 7, 3])
        let r = tensor(y.shape, seed: 2.4)
        let back = try call("conv2d", options.merging(["input": .tensor(r), "weight": .tensor(w)]) { a, _ in a })
        #expect(back.shape == x.shape)
        let lhs = zip(y.doubles, r.doubles).map(*).reduce(0, +)
        let rhs = zip(x.doubles, back.doubles).map(*).reduce(0, +)
        #expect(abs(lhs - rhs) < 1e-10)
    }

    @Test func unbatchedMatchesBatchOfOne() throws {
        let w = tensor([3, 2, 2, 3], seed: 1), b = tensor([2], seed: 2)
        let x = tensor([3, 4, 3], requiresGrad: true)
        let options: [String: Value] = ["weight": .tensor(w), "bias": .tensor(b), "stride": .int(2), "output_padding": .int(1)]
        let batched = try call("conv_transpose2d", options.merging(["input": .tensor(try x.detach().reshape([1, 3, 4, 3]))]) { a, _ in a })
        let y = try call("conv_transpose2d", options.merging(["input": .tensor(x)]) { a, _ in a })
        #expect(y.shape == [2, 9, 8])
        #expect(y.doubles == batched.doubles)
        #expect(y.gradFn?.name == "SqueezeBackward1")
        try y.backward(gradient: Tensor(shape: y.shape, [Double](repeating: 1, count: y.numel)))
        #expect(x.grad?.shape == [3, 4, 3])
    }

    @Test func emptyBatchGivesEmptyOutputAndZeroGradients() throws {
        let w = tensor([4, 3, 3, 3], .float32, requiresGrad: true)
        let y = try call("conv_transpose2d", ["input": .tensor(tensor([0, 4, 5, 5], .float32)), "weight": .tensor(w), "stride": .int(2)])
        #expect(y.shape == [0, 3, 11, 11])
        try y.backward(gradient: Tensor.zeros(y.shape, dtype: .float32))
        #expect(w.grad?.doubles == [Double](repeating: 0, count: w.numel))
    }

    // MARK: Gradients against central differences (exact up to rounding: y is bilinear in x, w)

    /// Backpropagates a fixed `r` through `op` and compares every gradient element with
    /// (L(v + h) − L(v − h)) / 2h, where L = Σ r·y.
    private func checkGradients(_ op: String, input: [Int], weight: [Int], groups: Int, _ options: [String: Value]) throws {
        let names = ["input", "weight", "bias"]
        let leaves = [tensor(input, seed: 0.3, requiresGrad: true), tensor(weight, seed: 1.1, requiresGrad: true),
                      tensor([weight[1] * groups], seed: 2.9, requiresGrad: true)]
        func arguments(_ tensors: [Tensor]) -> [String: Value] {
            options.merging(zip(names, tensors.map { Value.tensor($0) })) { a, _ in a }.merging(["groups": .int(groups)]) { a, _ in a }
        }
        let y = try call(op, arguments(leaves))
        let r = tensor(y.shape, seed: 4.2).doubles
        try y.backward(gradient: Tensor(shape: y.shape, r))
        func loss(_ values: [[Double]]) throws -> Double {
            let y = try call(op, arguments(zip(leaves, values).map { Tensor(shape: $0.shape, $1) }))
            return zip(y.doubles, r).map(*).reduce(0, +)
        }
        let h = 1e-6
        for (n, leaf) in leaves.enumerated() {
            let analytic = try #require(leaf.grad).doubles
            for e in 0..<leaf.numel {
                var values = leaves.map(\.doubles)
                values[n][e] += h
                let plus = try loss(values)
                values[n][e] -= 2 * h
                let minus = try loss(values)
                #expect(abs((plus - minus) / (2 * h) - analytic[e]) < 1e-6, "\(op) d/d\(names[n])[\(e)]")
            }
        }
    }

    @Test func conv2dTransposeGradientsWithEveryParameter() throws {
        try checkGradients("conv_transpose2d", input: [2, 4, 3, 4], weight: [4, 1, 3, 2], groups: 2,
                           ["stride": ints([2, 3]), "padding": ints([1, 0]), "output_padding": ints([1, 1]),
                            "dilation": ints([1, 2])])
    }

    @Test func conv1dAndConv3dTransposeGradients() throws {
        try checkGradients("conv_transpose1d", input: [2, 3, 5], weight: [3, 2, 3], groups: 1,
                           ["stride": .int(2), "padding": .int(2), "dilation": .int(2), "output_padding": .int(1)])
        try checkGradients("conv_transpose3d", input: [1, 2, 2, 3, 2], weight: [2, 2, 2, 1, 2], groups: 2,
                           ["stride": ints([1, 2, 2]), "padding": ints([0, 1, 0]), "output_padding": ints([0, 1, 0])])
    }

    // MARK: Autograd bookkeeping

    @Test func modifyingTheSavedInputInPlaceIsAnError() throws {
        let x = tensor([3, 4, 4], .float32)
        let w = tensor([3, 2, 3, 3], .float32, requiresGrad: true)
        let y = try call("conv_transpose2d", ["input": .tensor(x), "weight": .tensor(w)])
        // The node saved the unsqueezed view of the unbatched input, which shares its version.
        x.markModified()
        let g = Tensor(shape: y.shape, [Float](repeating: 1, count: y.numel))
        #expect(throws: TorchError.runtime("one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [1, 3, 4, 4]] is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")) {
            try y.backward(gradient: g)
        }
    }

    // MARK: Errors, as PyTorch 2.15 raises them

    @Test func errors() throws {
        let x = tensor([1, 4, 3, 3])
        let w = tensor([4, 2, 3, 3])
        func expect(_ type: String, _ message: String, _ extra: [String: Value], op: String = "conv_transpose2d",
                    sourceLocation: SourceLocation = #_sourceLocation) {
            let args = extra.merging(["input": .tensor(x), "weight": .tensor(w)]) { a, _ in a }
            #expect(throws: TorchError(type, message), sourceLocation: sourceLocation) { _ = try call(op, args) }
        }
        let rt = "RuntimeError"
        expect(rt, "output padding must be smaller than either stride or dilation, but got output_padding_height: 1 output_padding_width: 1 stride_height: 1 stride_width: 1 dilation_height: 1 dilation_width: 1",
               ["output_padding": .int(1)])
        expect(rt, "output padding must be smaller than either stride or dilation, but got output_padding_height: 0 output_padding_width: 1 stride_height: 1 stride_width: 1 dilation_height: 1 dilation_width: 1",
               ["input": .tensor(tensor([1, 4, 3])), "weight": .tensor(tensor([4, 2, 3])), "output_padding": .int(1)],
               op: "conv_transpose1d")
        expect(rt, "Given transposed=1, weight of size [4, 2, 3, 3], expected input[1, 5, 3, 3] to have 4 channels, but got 5 channels instead",
               ["input": .tensor(tensor([1, 5, 3, 3]))])
        expect(rt, "Given transposed=1, weight of size [4, 2, 3, 3], expected bias to be 1-dimensional with 4 elements, but got bias of size [2] instead",
               ["bias": .tensor(tensor([2])), "groups": .int(2)])
        expect(rt, "Given input size per channel: (3 x 3). Calculated output size per channel: (-1 x -1). Output size is too small",
               ["padding": .int(3)])
        expect(rt, "Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got input of size: [4, 3]",
               ["input": .tensor(tensor([4, 3]))])
        expect(rt, "negative output_padding is not supported", ["output_padding": .int(-1)])
        expect(rt, "Given groups=3, expected weight to be divisible by 3 at dimension 0, but got weight of size [[4, 2, 3, 3]] instead",
               ["groups": .int(3)])
        expect(rt, "dilation should be greater than zero, but got dilation_height: 0, dilation_width: 0", ["dilation": .int(0)])
        expect(rt, "non-empty 2D or 4D weight tensor expected, but got: [2, 0, 3, 3]",
               ["weight": .tensor(tensor([4, 0, 3, 3])), "groups": .int(2)])
        expect(rt, "expected scalar type Double but found Float", ["weight": .tensor(tensor([4, 2, 3, 3], .float32))])
        expect(rt, "expected output_padding to be a single integer value or a list of 2 values to match the convolution dimensions, but got output_padding=[0, 0, 0]",
               ["output_padding": ints([0, 0, 0])])
        // A float32 batch of two goes to oneDNN, with its own messages.
        let x2 = tensor([2, 4, 3, 3], .float32)
        expect(rt, "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same or input should be a MKLDNN tensor and weight is a dense tensor",
               ["input": .tensor(x2)])
        expect(rt, "could not construct a memory descriptor using a format tag",
               ["input": .tensor(x2), "weight": .tensor(tensor([4, 2, 3, 3], .float32)), "padding": .int(3)])
        expect("NotImplementedError", "\"slow_conv_transpose3d_out_cpu\" not implemented for 'Bool'",
               ["input": .tensor(tensor([1, 4, 2, 2, 2], .bool)), "weight": .tensor(tensor([4, 2, 1, 1, 1], .bool))],
               op: "conv_transpose3d")
        expect("TypeError", "conv_transpose2d(): argument 'padding' must be tuple of ints, not str", ["padding": .string("same")])
        expect("TypeError", "conv_transpose2d(): argument 'groups' must be int, not bool", ["groups": .bool(true)])
        #expect(throws: TorchError.type("conv_transpose2d() missing 2 required positional argument: \"input\", \"weight\"")) {
            _ = try call("conv_transpose2d", [:])
        }
    }

    @Test func int64IsComputedByPyTorchButNotByTheReference() throws {
        let x = Tensor(shape: [1, 2, 3, 3], int64: .init(repeating: 1, count: 18))
        let w = Tensor(shape: [2, 1, 2, 2], int64: .init(repeating: 1, count: 8))
        #expect(throws: Unsupported.self) { _ = try call("conv_transpose2d", ["input": .tensor(x), "weight": .tensor(w)]) }
    }
}
