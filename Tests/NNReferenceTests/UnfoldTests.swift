import Foundation
import NNCore
import NNReference
import Testing

/// unfold (im2col) and fold (col2im) of the reference backend. Expected values are worked by
/// hand; error texts are PyTorch 2.15's own.
@Suite struct UnfoldTests {
    private func call(_ op: String, _ args: [String: Value]) throws -> Tensor {
        try #require(try Reference.backend.call(op, args).tensor)
    }

    /// Deterministic values in [-1, 1].
    private func tensor(_ shape: [Int], seed: Double = 0, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, (0..<shape.reduce(1, *)).map { sin(Double($0) * 0.7 + seed) }, requiresGrad: requiresGrad)
    }

    private func ints(_ v: [Int]) -> Value { .list(v.map(Value.int)) }

    private func dot(_ a: Tensor, _ b: Tensor) -> Double { zip(a.doubles, b.doubles).map(*).reduce(0, +) }

    @Test func unfoldCopiesEachWindowIntoAColumn() throws {
        // 1 2 3 / 4 5 6 / 7 8 9 with a 2×2 kernel: row q of the result is the kernel offset q
        // read at each of the four window positions.
        let x = Tensor(shape: [1, 1, 3, 3], (1...9).map(Double.init), requiresGrad: true)
        let y = try call("unfold", ["input": .tensor(x), "kernel_size": .int(2)])
        #expect(y.shape == [1, 4, 4])
        let expected: [Double] = [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]
        #expect(y.doubles == expected)
        #expect(y.gradFn?.name == "Im2ColBackward0")
    }

    @Test func unfoldReadsZerosInThePadding() throws {
        // A 2×2 image, padding 1, stride 2: each window holds one pixel, in the opposite corner.
        let x = Tensor(shape: [1, 2, 2], [Double]([1, 2, 3, 4]))
        let y = try call("unfold", ["input": .tensor(x), "kernel_size": .int(2), "padding": .int(1), "stride": .int(2)])
        #expect(y.shape == [4, 4])
        let expected: [Double] = [0, 0, 0, 4, 0, 0, 3, 0, 0, 2, 0, 0, 1, 0, 0, 0]
        #expect(y.doubles == expected)
    }

    @Test func foldOfUnfoldIsTheIdentityForNonOverlappingWindows() throws {
        let x = tensor([2, 3, 4, 6])
        let options: [String: Value] = ["kernel_size": ints([2, 3]), "stride": ints([2, 3])]
        let columns = try call("unfold", options.merging(["input": .tensor(x)]) { a, _ in a })
        #expect(columns.shape == [2, 18, 4])
        let back = try call("fold", options.merging(["input": .tensor(columns), "output_size": ints([4, 6])]) { a, _ in a })
        #expect(back.shape == x.shape)
        #expect(back.doubles == x.doubles)
    }

    @Test func foldSumsOverlappingWindows() throws {
        // fold(unfold(ones)) counts the windows covering each pixel.
        let ones = Tensor(shape: [1, 1, 3, 3], [Float](repeating: 1, count: 9))
        let columns = try call("unfold", ["input": .tensor(ones), "kernel_size": .int(2)])
        let counts = try call("fold", ["input": .tensor(columns), "output_size": .int(3), "kernel_size": .int(2)])
        #expect(counts.doubles == [1, 2, 1, 2, 4, 2, 1, 2, 1])
        #expect(counts.dtype == .float32)
    }

    @Test func foldIsTheAdjointOfUnfold() throws {
        // ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩, with every parameter in use.
        let options: [String: Value] = ["kernel_size": ints([2, 3]), "dilation": ints([2, 1]), "padding": ints([1, 2]),
                                        "stride": ints([2, 1])]
        let x = tensor([2, 3, 5, 4], seed: 0.4)
        let columns = try call("unfold", options.merging(["input": .tensor(x)]) { a, _ in a })
        #expect(columns.shape == [2, 18, 18])
        let c = tensor(columns.shape, seed: 1.7)
        let folded = try call("fold", options.merging(["input": .tensor(c), "output_size": ints([5, 4])]) { a, _ in a })
        #expect(abs(dot(columns, c) - dot(x, folded)) < 1e-12)
    }

    @Test func foldOfBooleansIsTrueWhereAnyBlockIs() throws {
        // Two true entries land on the centre pixel of a 3×3 image (the first window's bottom
        // right, the last one's top left); true + true stays true.
        var values = [Bool](repeating: false, count: 16)
        values[3 * 4 + 0] = true  // q = (1, 1), block 0
        values[0 * 4 + 3] = true  // q = (0, 0), block 3
        let c = Tensor(shape: [1, 4, 4], data: .bool(values))
        let y = try call("fold", ["input": .tensor(c), "output_size": .int(3), "kernel_size": .int(2)])
        #expect(y.dtype == .bool)
        #expect(y.doubles == [0, 0, 0, 0, 1, 0, 0, 0, 0])
    }

    // MARK: Gradients against central differences (exact up to rounding: both ops are linear)

    private func checkGradient(_ op: String, input: [Int], _ options: [String: Value]) throws {
        let x = tensor(input, seed: 0.3, requiresGrad: true)
        let y = try call(op, options.merging(["input": .tensor(x)]) { a, _ in a })
        #expect(y.gradFn?.name == (op == "fold" ? "Col2ImBackward0" : "Im2ColBackward0"))
        let r = tensor(y.shape, seed: 2.2)
        try y.backward(gradient: r)
        func loss(_ values: [Double]) throws -> Double {
            dot(try call(op, options.merging(["input": .tensor(Tensor(shape: input, values))]) { a, _ in a }), r)
        }
        let analytic = try #require(x.grad).doubles
        let h = 1e-6
        for e in 0..<x.numel {
            var values = x.doubles
            values[e] += h
            let plus = try loss(values)
            values[e] -= 2 * h
            let minus = try loss(values)
            #expect(abs((plus - minus) / (2 * h) - analytic[e]) < 1e-7, "\(op) d/dinput[\(e)]")
        }
    }

    @Test func unfoldAndFoldGradients() throws {
        let options: [String: Value] = ["kernel_size": ints([2, 2]), "dilation": ints([1, 2]), "padding": .int(1), "stride": ints([1, 2])]
        try checkGradient("unfold", input: [2, 2, 4, 5], options)
        try checkGradient("fold", input: [2, 8, 15], options.merging(["output_size": ints([4, 5])]) { a, _ in a })
        try checkGradient("fold", input: [8, 4], ["output_size": .int(3), "kernel_size": .int(2)])
    }

    // MARK: Errors, as PyTorch 2.15 raises them

    @Test func errors() throws {
        func expect(_ type: String, _ message: String, _ op: String, _ args: [String: Value],
                    sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: TorchError(type, message), sourceLocation: sourceLocation) { _ = try call(op, args) }
        }
        let image: Value = .tensor(tensor([2, 3, 5, 4])), columns: Value = .tensor(tensor([2, 12, 12]))
        let rt = "RuntimeError"
        expect(rt, "Given output_size=(4, 5), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), stride=(1, 1), expected size of input's dimension 2 to match the calculated number of sliding blocks 3 * 4 = 12, but got input.size(2)=11.",
               "fold", ["input": .tensor(tensor([2, 12, 11])), "output_size": ints([4, 5]), "kernel_size": .int(2)])
        expect(rt, "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=12 and kernel_size=(3, 3).",
               "fold", ["input": columns, "output_size": ints([4, 5]), "kernel_size": .int(3)])
        expect(rt, "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: [1, 2, 12, 12]",
               "fold", ["input": .tensor(tensor([1, 2, 12, 12])), "output_size": ints([4, 5]), "kernel_size": .int(2)])
        expect(rt, "Given output_size=(1, 1), kernel_size=(3, 3), dilation=(1, 1), padding=(0, 0), stride=(1, 1), calculated shape of the array of sliding blocks as (-1, -1), which is too small (non-positive)",
               "fold", ["input": .tensor(tensor([1, 9, 1])), "output_size": .int(1), "kernel_size": .int(3)])
        expect(rt, "It is expected output_size equals to 2, but got size 1", "fold", ["input": columns, "output_size": ints([4]), "kernel_size": .int(2)])
        expect(rt, "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: [2, 0, 5, 4]",
               "unfold", ["input": .tensor(tensor([2, 0, 5, 4])), "kernel_size": .int(2)])
        expect("IndexError", "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
               "unfold", ["input": .tensor(tensor([5, 4])), "kernel_size": .int(2)])
        expect(rt, "Given input with spatial size (5, 4), kernel_size=(6, 6), dilation=(1, 1), padding=(0, 0), calculated shape of the array of sliding blocks as (0, -1), but its components must be at least one.",
               "unfold", ["input": image, "kernel_size": .int(6)])
        expect(rt, "padding should be non-negative, but got pad_height: -1 pad_width: -1",
               "unfold", ["input": image, "kernel_size": .int(2), "padding": .int(-1), "stride": .int(0)])
        expect(rt, "stride should be greater than zero, but got stride_height: 0 stride_width: 0",
               "fold", ["input": columns, "output_size": ints([4, 5]), "kernel_size": .int(2), "padding": .int(-1), "stride": .int(0)])
        expect("NotImplementedError", "\"im2col_out_cpu\" not implemented for 'Long'",
               "unfold", ["input": .tensor(Tensor(shape: [1, 1, 2, 2], int64: [1, 2, 3, 4])), "kernel_size": .int(1)])
        expect("TypeError", "im2col(): argument 'kernel_size' (position 2) must be tuple of ints, but found element of type float at pos 0",
               "unfold", ["input": image, "kernel_size": .double(2.5)])
        expect("TypeError", "fold() missing 2 required positional arguments: 'output_size' and 'kernel_size'", "fold", ["input": columns])
    }
}
