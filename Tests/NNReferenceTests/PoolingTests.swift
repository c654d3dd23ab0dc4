import Foundation
import NNCore
import NNReference
import Testing

/// Pooling ops of the reference backend. Expected values are worked by hand; error texts are
/// PyTorch 2.15's own (checked against torch).
@Suite struct PoolingTests {
    private func call(_ op: String, _ args: [String: Value]) throws -> Value {
        try Reference.backend.call(op, args)
    }

    private func pool(_ op: String, _ args: [String: Value]) throws -> Tensor {
        try #require(try call(op, args).tensor)
    }

    /// Deterministic distinct values in [-1, 1] (no ties for max pooling).
    private func tensor(_ shape: [Int], seed: Double = 0, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, (0..<shape.reduce(1, *)).map { sin(Double($0) * 1.7 + seed) }, requiresGrad: requiresGrad)
    }

    /// 1 ... 16 as a 1×1×4×4 float32 image.
    private let image = Tensor(shape: [1, 1, 4, 4], (1...16).map(Float.init), requiresGrad: true)

    // MARK: Values worked by hand

    @Test func maxPool2dOfFourByFour() throws {
        let result = try call("max_pool2d", ["input": .tensor(image), "kernel_size": .int(2), "return_indices": .bool(true)])
        guard case .list(let pair) = result, let y = pair[0].tensor, let indices = pair[1].tensor else {
            Issue.record("expected (output, indices), got \(result.pythonDescription)")
            return
        }
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.doubles == [6, 8, 14, 16])
        #expect(indices.dtype == .int64)
        #expect(indices.int64s == [5, 7, 13, 15])
        #expect(y.gradFn?.name == "MaxPool2DWithIndicesBackward0")
        try y.backward(gradient: Tensor(shape: [1, 1, 2, 2], [Float]([1, 2, 3, 4])))
        #expect(image.grad?.doubles == [0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4])
    }

    @Test func avgPool2dOfFourByFour() throws {
        let y = try pool("avg_pool2d", ["input": .tensor(image.detach()), "kernel_size": .int(2)])
        #expect(y.doubles == [3.5, 5.5, 11.5, 13.5])
        // Stride 1, padding 1: the corner window [−1, 1)² holds only x[0, 0] = 1; counting the
        // padding it is 1/4, without it 1/1.
        let args: [String: Value] = ["input": .tensor(image.detach()), "kernel_size": .int(2), "stride": .int(1), "padding": .int(1)]
        #expect(try pool("avg_pool2d", args).doubles.first == 0.25)
        #expect(try pool("avg_pool2d", args.merging(["count_include_pad": .bool(false)]) { $1 }).doubles.first == 1)
        #expect(try pool("avg_pool2d", args.merging(["divisor_override": .int(2)]) { $1 }).doubles.first == 0.5)
    }

    @Test func avgPool1dPaddingAndCeilMode() throws {
        let x = Tensor(shape: [1, 1, 4], [Double]([1, 2, 3, 4]))
        // Windows [−1, 2) and [1, 4): sums 3 and 9.
        let padded: [String: Value] = ["input": .tensor(x), "kernel_size": .int(3), "stride": .int(2), "padding": .int(1)]
        #expect(try pool("avg_pool1d", padded).doubles == [1, 3])
        #expect(try pool("avg_pool1d", padded.merging(["count_include_pad": .bool(false)]) { $1 }).doubles == [1.5, 3])
        // ceil_mode adds the partial window [4, 6) of 1...5, which holds one element.
        let five = Tensor(shape: [1, 1, 5], [Double]([1, 2, 3, 4, 5]))
        let ceil: [String: Value] = ["input": .tensor(five), "kernel_size": .int(2), "ceil_mode": .bool(true)]
        #expect(try pool("avg_pool1d", ceil).doubles == [1.5, 3.5, 5])
        #expect(try pool("max_pool1d", ceil).doubles == [2, 4, 5])
        #expect(try pool("max_pool1d", ceil.merging(["ceil_mode": .bool(false)]) { $1 }).doubles == [2, 4])
    }

    @Test func maxPoolTiesAndNaN() throws {
        func maxIndex(_ values: [Double]) throws -> (Double, Int64) {
            let x = Tensor(shape: [1, 1, values.count], values)
            let result = try call("max_pool1d", ["input": .tensor(x), "kernel_size": .int(values.count), "return_indices": .bool(true)])
            guard case .list(let pair) = result, let y = pair[0].tensor, let i = pair[1].tensor else { throw Unsupported("no tuple") }
            return (y.item, i.int64s[0])
        }
        #expect(try maxIndex([2, 5, 5, 1]) == (5, 1))             // the first maximum
        let (nan, at) = try maxIndex([1, .nan, 3, .nan, 2])
        #expect(nan.isNaN && at == 3)                               // the last NaN
        #expect(try maxIndex([-.infinity, -.infinity]) == (-.infinity, 0))
    }

    @Test func adaptivePoolingWindows() throws {
        // 5 → 3: windows [0, 2), [1, 4), [3, 5).
        let x = Tensor(shape: [1, 5], [Double]([1, 2, 3, 4, 10]))
        #expect(try pool("adaptive_avg_pool1d", ["input": .tensor(x), "output_size": .int(3)]).doubles == [1.5, 3, 7])
        #expect(try pool("adaptive_max_pool1d", ["input": .tensor(x), "output_size": .int(3)]).doubles == [2, 4, 10])
        // None keeps the input's size; an all-ones output size is the mean.
        let y = try pool("adaptive_avg_pool2d", ["input": .tensor(image.detach()), "output_size": .list([.none, .int(1)])])
        #expect(y.shape == [1, 1, 4, 1])
        #expect(y.doubles == [2.5, 6.5, 10.5, 14.5])
        let mean = try pool("adaptive_avg_pool2d", ["input": .tensor(image), "output_size": .int(1)])
        #expect(mean.doubles == [8.5])
        #expect(mean.gradFn?.name == "MeanBackward1")
    }

    @Test func lpPool() throws {
        let x = Tensor(shape: [1, 1, 4], [Double]([3, 4, -1, 0]), requiresGrad: true)
        // (x₀² + x₁²)^½ and ((−1)² + 0²)^½.
        let y = try pool("lp_pool1d", ["input": .tensor(x), "norm_type": .int(2), "kernel_size": .int(2)])
        #expect(y.doubles == [5, 1])
        #expect(y.gradFn?.name == "PowBackward0")
        try y.backward(gradient: Tensor(shape: [1, 1, 2], [Double]([1, 1])))
        let grad = try #require(x.grad).doubles
        #expect(zip(grad, [0.6, 0.8, -1, 0]).allSatisfy { abs($0 - $1) < 1e-15 }, "\(grad)")
        // p = ∞ is the max of |x|; p = −∞ the min.
        let inf = try pool("lp_pool1d", ["input": .tensor(x.detach()), "norm_type": .double(.infinity), "kernel_size": .int(2)])
        #expect(inf.doubles == [4, 1])
        let negInf = try pool("lp_pool1d", ["input": .tensor(x.detach()), "norm_type": .double(-.infinity), "kernel_size": .int(2)])
        #expect(negInf.doubles == [3, 0])
    }

    @Test func maxUnpoolWritesAtIndices() throws {
        let x = Tensor(shape: [1, 1, 3], [Double]([7, 8, 9]), requiresGrad: true)
        let indices = Tensor(shape: [1, 1, 3], int64: [1, 1, 4])
        let y = try pool("max_unpool1d", ["input": .tensor(x), "indices": .tensor(indices), "kernel_size": .int(2)])
        #expect(y.doubles == [0, 8, 0, 0, 9, 0])                    // the later write wins
        try y.backward(gradient: Tensor(shape: [1, 1, 6], [Double]([1, 2, 3, 4, 5, 6])))
        #expect(x.grad?.doubles == [2, 2, 5])
    }

    @Test func outputSizes() throws {
        func width(_ size: Int, _ options: [String: Value]) throws -> Int {
            let x = Tensor(shape: [1, 1, size], [Double](repeating: 0, count: size))
            return try pool("max_pool1d", options.merging(["input": .tensor(x)]) { $1 }).shape[2]
        }
        // floor((5 − 2)/2) + 1 = 2; with ceil_mode 3.
        #expect(try width(5, ["kernel_size": .int(2)]) == 2)
        #expect(try width(5, ["kernel_size": .int(2), "ceil_mode": .bool(true)]) == 3)
        // ceil((4 + 2 − 2)/3) + 1 = 3, but the third window would start at 5 = in + padding: dropped.
        #expect(try width(4, ["kernel_size": .int(2), "stride": .int(3), "padding": .int(1), "ceil_mode": .bool(true)]) == 2)
        // Dilation 2 makes a kernel of 3 span 5.
        #expect(try width(7, ["kernel_size": .int(3), "stride": .int(1), "dilation": .int(2)]) == 3)
        // Unbatched input keeps its rank.
        let unbatched = try pool("avg_pool2d", ["input": .tensor(tensor([3, 7, 6])), "kernel_size": .list([.int(3), .int(2)])])
        #expect(unbatched.shape == [3, 2, 3])
    }

    @Test func gradFnNames() throws {
        let x1 = tensor([2, 3, 8], requiresGrad: true), x3 = tensor([1, 2, 4, 4, 4], requiresGrad: true)
        #expect(try pool("max_pool1d", ["input": .tensor(x1), "kernel_size": .int(2)]).gradFn?.name == "SqueezeBackward1")
        #expect(try pool("avg_pool3d", ["input": .tensor(x3), "kernel_size": .int(2)]).gradFn?.name == "AvgPool3DBackward0")
        #expect(try pool("max_pool3d", ["input": .tensor(x3), "kernel_size": .int(2)]).gradFn?.name == "MaxPool3DWithIndicesBackward0")
        #expect(try pool("adaptive_max_pool3d", ["input": .tensor(x3), "output_size": .int(3)]).gradFn?.name == "AdaptiveMaxPool3DBackward0")
    }

    // MARK: Gradients against central differences (Double, distinct values)

    /// Backpropagates a fixed `r` through `op` and compares d/dx of L = Σ r·y with
    /// (L(x + h) − L(x − h)) / 2h for every element of the input.
    private func checkGradient(_ op: String, input shape: [Int], positive: Bool = false, _ options: [String: Value]) throws {
        func input(_ t: Tensor) -> Tensor { positive ? Tensor(shape: t.shape, t.doubles.map { 1.5 + $0 }) : t }
        let x = input(tensor(shape, seed: 0.3))
        let leaf = x.clone(requiresGrad: true)
        func run(_ t: Tensor) throws -> Tensor { try pool(op, options.merging(["input": .tensor(t)]) { $1 }) }
        let y = try run(leaf)
        let r = tensor(y.shape, seed: 4.2).doubles
        try y.backward(gradient: Tensor(shape: y.shape, r))
        let analytic = try #require(leaf.grad).doubles
        let h = 1e-6
        for e in 0..<x.numel {
            var values = x.doubles
            values[e] += h
            let plus = zip(try run(Tensor(shape: shape, values)).doubles, r).map(*).reduce(0, +)
            values[e] -= 2 * h
            let minus = zip(try run(Tensor(shape: shape, values)).doubles, r).map(*).reduce(0, +)
            #expect(abs((plus - minus) / (2 * h) - analytic[e]) < 1e-6, "\(op) d/dx[\(e)]")
        }
    }

    @Test func gradients() throws {
        try checkGradient("max_pool2d", input: [2, 2, 7, 6], ["kernel_size": .int(3), "stride": .list([.int(2), .int(1)]),
                                                              "padding": .int(1), "dilation": .list([.int(1), .int(2)]),
                                                              "ceil_mode": .bool(true)])
        try checkGradient("avg_pool2d", input: [2, 2, 7, 6], ["kernel_size": .int(3), "stride": .int(2), "padding": .int(1),
                                                              "ceil_mode": .bool(true), "count_include_pad": .bool(false)])
        try checkGradient("avg_pool3d", input: [1, 2, 5, 4, 5], ["kernel_size": .int(2), "stride": .int(1), "divisor_override": .int(3)])
        try checkGradient("adaptive_avg_pool2d", input: [1, 2, 7, 6], ["output_size": .list([.int(4), .int(5)])])
        try checkGradient("adaptive_max_pool1d", input: [2, 3, 9], ["output_size": .int(4)])
        try checkGradient("lp_pool2d", input: [1, 2, 6, 5], positive: true, ["norm_type": .int(3), "kernel_size": .int(2), "stride": .int(1)])
        try checkGradient("lp_pool1d", input: [2, 9], ["norm_type": .int(2), "kernel_size": .int(3), "ceil_mode": .bool(true)])
        let indices = Tensor(shape: [1, 2, 2, 2], int64: [0, 3, 9, 15, 4, 6, 1, 12])
        try checkGradient("max_unpool2d", input: [1, 2, 2, 2], ["indices": .tensor(indices), "kernel_size": .int(2)])
    }

    // MARK: Errors

    @Test func errors() throws {
        func expect(_ op: String, _ args: [String: Value], _ type: String, _ message: String,
                    sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: TorchError(type, message), sourceLocation: sourceLocation) { _ = try call(op, args) }
        }
        let x2 = Value.tensor(tensor([2, 3, 7, 6])), x1 = Value.tensor(tensor([2, 3, 9]))
        expect("max_pool2d", ["input": x2, "kernel_size": .int(3), "padding": .int(2)], "RuntimeError",
               "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1")
        expect("max_pool2d", ["input": x2, "kernel_size": .int(3), "padding": .int(2), "dilation": .int(2)], "RuntimeError",
               "pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 2, kW = 3, kH = 3")
        expect("max_pool1d", ["input": x1, "kernel_size": .int(3), "padding": .int(2)], "RuntimeError",
               "max_pool1d() padding should be at most half of kernel size, but got padding=2 and kernel_size=3")
        expect("avg_pool2d", ["input": .tensor(tensor([1, 2, 2, 2])), "kernel_size": .int(3)], "RuntimeError",
               "Given input size: (2x2x2). Calculated output size: (2x0x0). Output size is too small")
        expect("avg_pool3d", ["input": .tensor(tensor([1, 2, 2, 2, 2])), "kernel_size": .int(3), "padding": .int(1)], "RuntimeError",
               "input image (T: 2 H: 2 W: 2) smaller than kernel size (kT: 3 kH: 3 kW: 3)")
        expect("max_pool2d", ["input": .tensor(tensor([7, 6])), "kernel_size": .int(2)], "RuntimeError",
               "non-empty 3D or 4D (batch mode) tensor expected for input")
        expect("avg_pool2d", ["input": .tensor(tensor([7, 6])), "kernel_size": .int(2)], "IndexError",
               "Dimension out of range (expected to be in range of [-2, 1], but got -3)")
        expect("avg_pool2d", ["input": x2, "kernel_size": .int(2), "divisor_override": .int(0)], "RuntimeError", "divisor must be not zero")
        expect("max_pool2d", ["input": x2, "kernel_size": .double(2)], "TypeError",
               "max_pool2d(): argument 'kernel_size' (position 2) must be tuple of ints, not float")
        expect("avg_pool1d", ["input": x1, "kernel_size": .int(2), "ceil_mode": .int(1)], "TypeError",
               "avg_pool1d(): argument 'ceil_mode' must be bool, not int")
        expect("adaptive_avg_pool2d", ["input": x2, "output_size": .list([.int(2), .int(2), .int(2)])], "RuntimeError",
               "adaptive_avg_pool2d: output_size must be 2")
        expect("adaptive_max_pool2d", ["input": x2, "output_size": .list([.int(2), .int(2), .int(2)])], "RuntimeError",
               "adaptive_max_pool2d(): internal error: output_size.size() must be 2")
        expect("adaptive_avg_pool1d", ["input": x1, "output_size": .int(-1)], "RuntimeError",
               "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {1, -1}")
        expect("lp_pool2d", ["input": x2, "norm_type": .int(0), "kernel_size": .int(2)], "ValueError",
               "norm_type must be a non-zero value, but got 0")
        let y = Value.tensor(tensor([1, 1, 3])), bad = Value.tensor(Tensor(shape: [1, 1, 3], int64: [9, 1, 7]))
        expect("max_unpool1d", ["input": y, "indices": bad, "kernel_size": .int(2)], "RuntimeError",
               "Found an invalid max index: 7 (output volumes are of size 6x1)")
        expect("max_unpool1d", ["input": y, "indices": bad, "kernel_size": .int(2), "output_size": .list([.int(8)])], "ValueError",
               "invalid output_size \"[8]\" (dim 0 must be between 4 and 8)")
        #expect(throws: Unsupported.self) {
            _ = try call("max_pool2d", ["input": .tensor(Tensor(shape: [1, 2, 2], int64: [1, 2, 3, 4])), "kernel_size": .int(2)])
        }
    }
}
