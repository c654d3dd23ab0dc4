import CKernels
import NNCore
@testable import NNOptimized
import Testing

/// The float32 implicit-GEMM convolutions (`ConvImplicit.swift`, `ConvPaddedLayout.swift`, the
/// tiles of `CKernels/gemm_tiles.c`) against the reference backend, at every ISA level with tiles
/// (AVX2 + FMA, AVX-512) this CPU has: blocks of columns that cross batch elements, inner
/// dimensions cut into several packed blocks, partial panels and tiles, groups, dilation, the
/// padded layout's scratch columns, the im2col path (strides), and non-finite images (the weight
/// gradient must not pick up `0 · ∞` from a scratch column); the stride-1 weight gradient both as
/// dot products of rows and as a GEMM (`weightGradientGEMM`), each forced on every case.
@Suite(.serialized) struct ConvImplicitTests {
    static var cases: [(shape: [Int], weight: [Int], options: [String: Value])] { [
        ([2, 3, 5, 7], [5, 3, 3, 3], ["padding": .int(1)]),
        ([3, 4, 14, 14], [9, 4, 3, 3], ["padding": .int(1)]),             // columns cross batch elements
        ([1, 40, 9, 11], [10, 40, 3, 3], ["padding": .int(1)]),           // depth 360: two packed blocks
        ([2, 6, 17, 33], [50, 3, 3, 3], ["padding": .int(2), "groups": .int(2), "dilation": .int(2)]),
        ([2, 5, 8, 8], [7, 5, 2, 4], ["padding": .string("same")]),      // asymmetric padding
        ([1, 3, 6, 6], [4, 3, 5, 5], ["padding": .int(0)]),
        ([2, 3, 60, 57], [17, 3, 3, 3], ["padding": .int(1)]),            // many blocks, both threads
        ([1, 2, 70, 66], [5, 2, 3, 3], ["padding": .int(1)]),             // ∂weight's columns in two runs
        ([3, 20, 20, 15], [10, 20, 3, 3], ["padding": .int(1)]),          // ∂weight's GEMM: position chunks, taps mid-panel
        ([2, 3, 20, 21], [6, 3, 7, 7], ["padding": .int(3), "stride": .int(2)]),  // im2col path
        ([2, 4, 9, 10], [5, 4, 3, 2], ["stride": .list([.int(2), .int(1)]), "padding": .int(1), "dilation": .list([.int(1), .int(2)])]),
    ] }

    /// Runs `body` at ISA `level` (not at all if this CPU lacks it) with the weight gradient's path
    /// forced (`gemm`) or chosen by shape (nil).
    private func at(level: Int, gemm: Bool?, _ body: () throws -> Void) rethrows {
        let chosen = ck_isa_level()
        defer { ck_set_isa_level(chosen); ImplicitConvolution.weightGradientPathOverride = nil }
        guard ck_set_isa_level(Int32(level)) == Int32(level) else { return }  // not on this CPU
        ImplicitConvolution.weightGradientPathOverride = gemm
        try body()
    }

    @Test(arguments: [1, 2], [false, true]) func agreesWithReference(level: Int, gemm: Bool) throws {
        try at(level: level, gemm: gemm) { try agreesWithReference(seed: UInt64(70 + level)) }
    }

    private func agreesWithReference(seed: UInt64) throws {
        var r = Random(seed)
        for c in Self.cases {
            var args = c.options
            args["input"] = .tensor(r.tensor(c.shape))
            args["weight"] = .tensor(r.tensor(c.weight, scale: 0.3))
            args["bias"] = .tensor(r.tensor([c.weight[0]]))
            try check("conv2d", args, rtol: 1e-4, atol: 1e-4)
        }
        // 1-d and 3-d through the same 3-d geometry.
        try check("conv1d", ["input": .tensor(r.tensor([3, 6, 50])), "weight": .tensor(r.tensor([5, 6, 4], scale: 0.3)),
                             "padding": .int(2), "dilation": .int(3)], rtol: 1e-4, atol: 1e-4)
        try check("conv3d", ["input": .tensor(r.tensor([2, 3, 5, 6, 7])), "weight": .tensor(r.tensor([4, 3, 3, 3, 3], scale: 0.3)),
                             "padding": .int(1)], rtol: 1e-4, atol: 1e-4)
    }

    /// An infinite pixel in the last column: the taps that never read it validly keep finite weight
    /// gradients, as in PyTorch, although a padded-layout scratch column reads it.
    @Test(arguments: [1, 2], [false, true]) func nonFiniteImage(level: Int, gemm: Bool) throws {
        try at(level: level, gemm: gemm, nonFiniteImage)
    }

    private func nonFiniteImage() throws {
        var r = Random(5)
        // Rows of 9 (checked element by element) and of 21 (a vector, then the last 16 again).
        for width in [9, 21] {
            var values = r.tensor([2, 3, 6, width], grad: false).doubles
            values[((1 * 3 + 0) * 6 + 2) * width + width - 1] = .infinity  // batch 1, channel 0, row 2, last column
            let input = Tensor(shape: [2, 3, 6, width], data: TensorData.float64(values).converted(to: .float32))
            try input.requiresGrad_()
            try check("conv2d", ["input": .tensor(input), "weight": .tensor(r.tensor([4, 3, 3, 3])), "padding": .int(1)])
        }
    }

    /// The weight gradient sums the bias gradient on its pass over ∂y (finite images); the sums
    /// are those of the separate pass it replaces, bit for bit: with the weight frozen (the separate
    /// pass) and with a non-finite image (the dot products' masked path; the GEMM sums there too).
    @Test(arguments: [false, true]) func biasGradientFoldedIntoTheWeightGradientKeepsItsBits(gemm: Bool) throws {
        try at(level: Int(ck_isa_level()), gemm: gemm, biasGradientFoldedIntoTheWeightGradientKeepsItsBits)
    }

    private func biasGradientFoldedIntoTheWeightGradientKeepsItsBits() throws {
        var r = Random(31)
        let x = r.tensor([3, 5, 23, 19]), w = r.tensor([6, 5, 3, 3], scale: 0.3), gy = r.tensor([3, 6, 23, 19], grad: false)
        func biasGradient(image: Tensor, weightRequiresGrad: Bool) throws -> [Double] {
            let (input, weight) = (image.clone(requiresGrad: true), w.clone(requiresGrad: weightRequiresGrad))
            let bias = r.tensor([6])
            let y = try #require(try optimized.call("conv2d", ["input": .tensor(input), "weight": .tensor(weight),
                                                               "bias": .tensor(bias), "padding": .int(1)]).tensor)
            try y.backward(gradient: gy)
            return try #require(bias.grad).doubles
        }
        let folded = try biasGradient(image: x, weightRequiresGrad: true)
        #expect(folded.map(\.bitPattern) == (try biasGradient(image: x, weightRequiresGrad: false)).map(\.bitPattern))
        var values = x.doubles
        values[100] = .nan
        let nonFinite = Tensor(shape: x.shape, data: TensorData.float64(values).converted(to: .float32))
        #expect(folded.map(\.bitPattern) == (try biasGradient(image: nonFinite, weightRequiresGrad: true)).map(\.bitPattern))
    }
}
