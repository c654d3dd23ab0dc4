import Foundation
import NNCore
import NNReference
import Testing

/// conv1d/2d/3d of the reference backend. Expected values are worked by hand (or from the seed
/// article) and were checked against PyTorch 2.15; error texts are PyTorch's own.
@Suite struct ConvolutionTests {
    private func conv(_ op: String, _ args: [String: Value]) throws -> Tensor {
        try #require(try Reference.backend.call(op, args).tensor)
    }

    /// Deterministic values in [-1, 1].
    private func tensor(_ shape: [Int], _ dtype: DType = .float64, seed: Double = 0, requiresGrad: Bool = false) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { sin(Double($0) * 1.7 + seed) }
        return Tensor(shape: shape, data: TensorData.float64(values).converted(to: dtype), requiresGrad: requiresGrad)
    }

    // The seed article's 5×5 input and 3×3 kernel (one channel, no bias).
    private let article = Tensor(shape: [1, 1, 5, 5], [Float]([3, 3, 2, 1, 0, 0, 0, 1, 3, 1, 3, 1, 2, 2, 3,
                                                              2, 0, 0, 2, 2, 2, 0, 0, 0, 1]), requiresGrad: true)
    private let articleKernel = Tensor(shape: [1, 1, 3, 3], [Float]([0, 1, 2, 2, 2, 0, 0, 1, 2]))

    @Test func articleStride1Padding0() throws {
        let y = try conv("conv2d", ["input": .tensor(article), "weight": .tensor(articleKernel)])
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.dtype == .float32)
        #expect(y.doubles == [12, 12, 17, 10, 17, 19, 9, 6, 14])
        #expect(y.gradFn?.name == "ConvolutionBackward0")
    }

    @Test func articleStride2Padding1() throws {
        let y = try conv("conv2d", ["input": .tensor(article), "weight": .tensor(articleKernel),
                                    "stride": .int(2), "padding": .int(1)])
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.doubles == [6, 17, 3, 8, 17, 13, 6, 4, 4])
    }

    @Test func conv1dStrideDilationPadding() throws {
        // x = 1...7 padded with one zero each side; y[p] = Σ_q x[2p - 1 + 2q]·w[q].
        let x = Tensor(shape: [1, 1, 7], [Double]([1, 2, 3, 4, 5, 6, 7]))
        let w = Tensor(shape: [1, 1, 3], [Double]([1, 10, 100]))
        let y = try conv("conv1d", ["input": .tensor(x), "weight": .tensor(w), "stride": .int(2),
                                    "padding": .list([.int(1)]), "dilation": .int(2)])
        #expect(y.shape == [1, 1, 3])
        #expect(y.doubles == [420, 642, 64])
    }

    @Test func conv3dSumsBlocks() throws {
        // A 2×2×2 kernel of ones sums each block of 0...26 laid out as 3×3×3.
        let x = Tensor(shape: [1, 1, 3, 3, 3], (0..<27).map(Double.init))
        let w = Tensor(shape: [1, 1, 2, 2, 2], [Double](repeating: 1, count: 8))
        let y = try conv("conv3d", ["input": .tensor(x), "weight": .tensor(w)])
        #expect(y.shape == [1, 1, 2, 2, 2])
        #expect(y.doubles == [52, 60, 76, 84, 124, 132, 148, 156])
    }

    @Test func depthwiseWithBias() throws {
        let x = Tensor(shape: [1, 2, 2, 2], [Float]([1, 2, 3, 4, 5, 6, 7, 8]))
        let w = Tensor(shape: [2, 1, 1, 1], [Float]([10, 100]))
        let b = Tensor(shape: [2], [Float]([1, 2]))
        let y = try conv("conv2d", ["input": .tensor(x), "weight": .tensor(w), "bias": .tensor(b), "groups": .int(2)])
        #expect(y.doubles == [11, 21, 31, 41, 502, 602, 702, 802])
    }

    @Test func samePaddingEvenKernelPadsTheRestAfter() throws {
        let x = Tensor(shape: [1, 1, 5], [Double]([1, 2, 3, 4, 5]))
        // k = 2: total 1, none before, one after.
        let (y2, warnings) = try Warnings.collect {
            try conv("conv1d", ["input": .tensor(x), "weight": .tensor(Tensor(shape: [1, 1, 2], [Double]([1, 10]))),
                                "padding": .string("same")])
        }
        #expect(y2.doubles == [21, 32, 43, 54, 5])
        #expect(warnings.map(\.category) == ["UserWarning"])
        #expect(warnings.first?.message.hasPrefix("Using padding='same' with even kernel lengths") == true)
        // k = 4: total 3, one before, two after.
        let y4 = try conv("conv1d", ["input": .tensor(x), "weight": .tensor(Tensor(shape: [1, 1, 4], [Double]([1, 10, 100, 1000]))),
                                     "padding": .string("same")])
        #expect(y4.doubles == [3210, 4321, 5432, 543, 54])
        // An odd kernel pads symmetrically, without a warning.
        let (y3, none) = try Warnings.collect {
            try conv("conv2d", ["input": .tensor(tensor([1, 2, 6, 5])), "weight": .tensor(tensor([3, 2, 3, 3])),
                                "padding": .string("same"), "dilation": .int(2)])
        }
        #expect(y3.shape == [1, 3, 6, 5])
        #expect(none.isEmpty)
    }

    @Test func unbatchedMatchesBatchOfOne() throws {
        let w = tensor([4, 3, 3, 2], seed: 1)
        let b = tensor([4], seed: 2)
        let x = tensor([3, 6, 5], requiresGrad: true)
        let batched = try conv("conv2d", ["input": .tensor(try x.detach().reshape([1, 3, 6, 5])),
                                          "weight": .tensor(w), "bias": .tensor(b), "padding": .int(1)])
        let y = try conv("conv2d", ["input": .tensor(x), "weight": .tensor(w), "bias": .tensor(b), "padding": .int(1)])
        #expect(y.shape == [4, 6, 6])
        #expect(y.doubles == batched.doubles)
        #expect(y.gradFn?.name == "SqueezeBackward1")
        try y.backward(gradient: Tensor(shape: y.shape, [Double](repeating: 1, count: y.numel)))
        #expect(x.grad?.shape == [3, 6, 5])
    }

    @Test func emptyInputs() throws {
        let w = tensor([4, 3, 3, 3], .float32)
        let noBatch = try conv("conv2d", ["input": .tensor(tensor([0, 3, 9, 9], .float32)), "weight": .tensor(w)])
        #expect(noBatch.shape == [0, 4, 7, 7])
        // Zero input channels: PyTorch's output has zero channels too.
        let noChannels = try conv("conv2d", ["input": .tensor(tensor([2, 0, 9, 9], .float32)),
                                             "weight": .tensor(tensor([4, 0, 3, 3], .float32))])
        #expect(noChannels.shape == [2, 0, 7, 7])
    }

    // MARK: Gradients against central differences (exact up to rounding: y is bilinear in x, w)

    /// Backpropagates a fixed `r` through `op` and compares every gradient element with
    /// (L(v + h) - L(v - h)) / 2h, where L = Σ r·y.
    private func checkGradients(_ op: String, input: [Int], weight: [Int], _ options: [String: Value]) throws {
        let names = ["input", "weight", "bias"]
        let leaves = [tensor(input, seed: 0.3, requiresGrad: true), tensor(weight, seed: 1.1, requiresGrad: true),
                      tensor([weight[0]], seed: 2.9, requiresGrad: true)]
        func arguments(_ tensors: [Tensor]) -> [String: Value] {
            options.merging(zip(names, tensors.map { Value.tensor($0) })) { a, _ in a }
        }
        let y = try conv(op, arguments(leaves))
        let r = tensor(y.shape, seed: 4.2).doubles
        try y.backward(gradient: Tensor(shape: y.shape, r))
        func loss(_ values: [[Double]]) throws -> Double {
            let y = try conv(op, arguments(zip(leaves, values).map { Tensor(shape: $0.shape, $1) }))
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

    @Test func conv2dGradientsWithStridePaddingDilationGroups() throws {
        try checkGradients("conv2d", input: [2, 4, 5, 6], weight: [6, 2, 3, 2],
                           ["stride": .list([.int(2), .int(1)]), "padding": .list([.int(1), .int(2)]),
                            "dilation": .list([.int(1), .int(2)]), "groups": .int(2)])
    }

    @Test func conv3dAndConv1dGradients() throws {
        try checkGradients("conv3d", input: [1, 2, 4, 3, 4], weight: [2, 1, 2, 2, 3],
                           ["stride": .list([.int(1), .int(2), .int(1)]), "padding": .list([.int(1), .int(0), .int(2)]),
                            "dilation": .list([.int(2), .int(1), .int(1)]), "groups": .int(2)])
        try checkGradients("conv1d", input: [2, 3, 7], weight: [2, 3, 4], ["padding": .string("same")])
    }

    // MARK: Autograd bookkeeping

    @Test func modifyingTheSavedInputInPlaceIsAnError() throws {
        let x = tensor([1, 3, 7, 7], .float32)
        let w = tensor([8, 3, 3, 3], .float32, requiresGrad: true)
        let y = try conv("conv2d", ["input": .tensor(x), "weight": .tensor(w)])
        x.markModified()
        let g = Tensor(shape: y.shape, [Float](repeating: 1, count: y.numel))
        #expect(throws: TorchError.runtime("one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [1, 3, 7, 7]] is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")) {
            try y.backward(gradient: g)
        }
        // With asymmetric "same" padding PyTorch saves a padded copy, so the same write is harmless.
        let z = try conv("conv2d", ["input": .tensor(x), "weight": .tensor(tensor([8, 3, 2, 2], .float32, requiresGrad: true)),
                                    "padding": .string("same")])
        x.markModified()
        try z.backward(gradient: Tensor(shape: z.shape, [Float](repeating: 1, count: z.numel)))
    }

    // MARK: Errors, as PyTorch 2.15 raises them

    @Test func errors() throws {
        let w = tensor([8, 3, 3, 3], .float32)
        let x = tensor([1, 3, 7, 7], .float32)
        func call(_ extra: [String: Value], op: String = "conv2d") throws {
            _ = try conv(op, extra.merging(["input": .tensor(x), "weight": .tensor(w)]) { a, _ in a })
        }
        func expect(_ type: String, _ message: String, _ extra: [String: Value], op: String = "conv2d",
                    sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: TorchError(type, message), sourceLocation: sourceLocation) { try call(extra, op: op) }
        }
        let rt = "RuntimeError"
        expect(rt, "Given groups=1, weight of size [8, 3, 3, 3], expected input[1, 5, 7, 7] to have 3 channels, but got 5 channels instead",
               ["input": .tensor(tensor([1, 5, 7, 7], .float32))])
        expect(rt, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [5, 7]",
               ["input": .tensor(tensor([5, 7], .float32))])
        expect(rt, "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size",
               ["input": .tensor(tensor([1, 3, 2, 2], .float32))])
        expect(rt, "padding='same' is not supported for strided convolutions", ["padding": .string("same"), "stride": .int(2)])
        expect(rt, "Invalid padding string: 'foo'", ["padding": .string("foo")])
        expect(rt, "Given groups=3, expected weight to be divisible by 3 at dimension 0, but got weight of size [[8, 3, 3, 3]] instead",
               ["input": .tensor(tensor([1, 9, 7, 7], .float32)), "groups": .int(3)])
        expect(rt, "Given groups=16, expected weight to be at least 16 at dimension 0, but got weight of size [8, 3, 3, 3] instead",
               ["groups": .int(16)])
        expect(rt, "Given weight of size [8, 3, 3, 3], expected bias to be 1-dimensional with 8 elements, but got bias of size [7] instead",
               ["bias": .tensor(tensor([7], .float32))])
        expect(rt, "non-positive stride is not supported", ["stride": .int(0)])
        expect(rt, "negative padding is not supported", ["padding": .int(-1)])
        expect(rt, "dilation should be greater than zero", ["dilation": .int(-1)])
        expect(rt, "dilation should be greater than zero, but got [0, 0]", ["dilation": .int(0)])
        expect(rt, "non-positive groups is not supported", ["groups": .int(0)])
        expect(rt, "expected stride to be a single integer value or a list of 2 values to match the convolution dimensions, but got stride=[1, 1, 1]",
               ["stride": .list([.int(1), .int(1), .int(1)])])
        expect(rt, "stride cannot broadcast to 1 dimensions",
               ["input": .tensor(tensor([1, 3, 7], .float32)), "weight": .tensor(tensor([8, 3, 3], .float32)),
                "padding": .string("same"), "stride": .list([.int(1), .int(1)])], op: "conv1d")
        expect(rt, "Only zero batch or zero channel inputs are supported, but got input shape: [1, 3, 0, 7]",
               ["input": .tensor(tensor([1, 3, 0, 7], .float32)), "padding": .int(2)])
        // dtypes: the bias first, then (after all shape checks) the kernel's own check.
        expect(rt, "Input type (float) and bias type (double) should be the same", ["bias": .tensor(tensor([8]))])
        expect(rt, "expected scalar type Float but found Double", ["weight": .tensor(tensor([8, 3, 3, 3]))])
        expect(rt, "expected scalar type Long but found Float", ["input": .tensor(Tensor(shape: [1, 3, 7, 7], int64: .init(repeating: 1, count: 147)))])
        expect(rt, "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same or input should be a MKLDNN tensor and weight is a dense tensor",
               ["input": .tensor(tensor([2, 3, 7, 7], .float32)), "weight": .tensor(tensor([8, 3, 3, 3]))])
        expect("NotImplementedError", "\"slow_conv2d_cpu\" not implemented for 'Bool'",
               ["input": .tensor(tensor([1, 3, 7, 7], .bool)), "weight": .tensor(tensor([8, 3, 3, 3], .bool))])
        // Python binding errors.
        expect("TypeError", """
            conv2d() received an invalid combination of arguments - got (stride=float, weight=Tensor, input=Tensor, ), but expected one of:
             * (Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, tuple of ints padding = 0, tuple of ints dilation = 1, int groups = 1)
             * (Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, str padding = "valid", tuple of ints dilation = 1, int groups = 1)

            """, ["stride": .double(1.5)])
        expect("TypeError", "conv2d(): argument 'dilation' failed to unpack the object at pos 3 with error \"type must be tuple of ints,but got float\"",
               ["dilation": .list([.int(1), .int(1), .double(2.5)])])
    }

    @Test func int64IsComputedByPyTorchButNotByTheReference() throws {
        let x = Tensor(shape: [1, 3, 7, 7], int64: .init(repeating: 1, count: 147))
        let w = Tensor(shape: [8, 3, 3, 3], int64: .init(repeating: 1, count: 216))
        #expect(throws: Unsupported.self) { _ = try conv("conv2d", ["input": .tensor(x), "weight": .tensor(w)]) }
    }
}
