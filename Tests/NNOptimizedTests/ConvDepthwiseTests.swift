import CKernels
import NNCore
import NNOptimized
import NNReference
import Testing

/// Depthwise convolutions (`groups == inChannels`) of the optimized backend against the reference:
/// the 3×3 stride-1 row kernels (`Depthwise3x3`) at the edges of their 16-lane vectors and
/// zero-haloed planes (widths 1, 15, 16, 17, 33, 56; heights 1 and 2; padding 0, 1, 2 and mixed;
/// multiplier 2; a 3-D kernel of depth 1), at every ISA level of the float32 C rows, with only one
/// of `∂x` / `∂w` requested; and the general loops (dilation 2, 5×5, stride 2) beside them.
@Suite(.serialized) struct ConvDepthwiseTests {
    typealias Case = BLASOpsTests.Case

    static let cases: [Case] = [
        Case("conv2d", ["input": [2, 3, 1, 1], "weight": [3, 1, 3, 3], "bias": [3]], ["groups": .int(3), "padding": .int(1)]),
        Case("conv2d", ["input": [2, 4, 2, 15], "weight": [4, 1, 3, 3], "bias": [4]], ["groups": .int(4), "padding": .int(1)]),
        Case("conv2d", ["input": [1, 3, 5, 16], "weight": [6, 1, 3, 3]], ["groups": .int(3), "padding": .int(1)]),
        Case("conv2d", ["input": [2, 2, 6, 17], "weight": [2, 1, 3, 3]], ["groups": .int(2)]),
        Case("conv2d", ["input": [1, 2, 4, 33], "weight": [4, 1, 3, 3], "bias": [4]], ["groups": .int(2), "padding": .int(2)]),
        Case("conv2d", ["input": [2, 3, 9, 56], "weight": [3, 1, 3, 3]], ["groups": .int(3), "padding": .int(1)]),
        Case("conv2d", ["input": [3, 1, 2], "weight": [3, 1, 3, 3]], ["groups": .int(3), "padding": .int(1)]),
        Case("conv2d", ["input": [1, 2, 5, 17], "weight": [2, 1, 3, 3]], ["groups": .int(2), "padding": .ints([2, 0])]),
        Case("conv2d", ["input": [1, 2, 6, 31], "weight": [2, 1, 3, 3]], ["groups": .int(2), "padding": .string("same")]),
        Case("conv3d", ["input": [1, 2, 3, 4, 18], "weight": [2, 1, 1, 3, 3], "bias": [2]],
             ["groups": .int(2), "padding": .ints([0, 1, 1])]),
        // The general loops.
        Case("conv2d", ["input": [1, 2, 7, 17], "weight": [2, 1, 3, 3]], ["groups": .int(2), "padding": .int(1), "dilation": .int(2)]),
        Case("conv2d", ["input": [2, 3, 9, 10], "weight": [3, 1, 5, 5], "bias": [3]], ["groups": .int(3), "padding": .int(2)]),
        Case("conv2d", ["input": [1, 2, 9, 33], "weight": [4, 1, 3, 3]], ["groups": .int(2), "stride": .int(2), "padding": .int(1)]),
    ]

    static func compare(_ c: Case, _ dtype: DType) throws {
        let (y, leaves) = try BLASOpsTests.run(c, on: Optimized.backend, dtype)
        let (yr, leavesR) = try BLASOpsTests.run(c, on: Reference.backend, dtype)
        #expect(y.gradFn?.name == yr.gradFn?.name)
        let n = (c.tensors.map { $0.shape.reduce(1, *) } + [y.numel]).max() ?? 1
        BLASOpsTests.expectClose(y, yr, "\(c) output", dtype, sumLength: n)
        for (name, _) in c.tensors {
            #expect(leaves[name]?.grad != nil, "\(c) ∂\(name) missing")
            BLASOpsTests.expectClose(leaves[name]?.grad, leavesR[name]?.grad, "\(c) ∂\(name)", dtype, sumLength: n)
        }
    }

    @Test(arguments: cases, [DType.float32, .float64])
    func agreesWithReference(_ c: Case, _ dtype: DType) throws {
        try Self.compare(c, dtype)
    }

    /// Every float32 C level this CPU has (the level in use is restored to the best one afterwards).
    @Test func everyLevelAgrees() throws {
        let best = ck_isa_level()
        defer { ck_set_isa_level(best) }
        for level in 0...best {
            #expect(ck_set_isa_level(level) == level)
            for c in Self.cases.prefix(10) { try Self.compare(c, .float32) }
        }
    }

    /// Only `∂x`, or only `∂w`, of the fused backward pass; the other gets none.
    @Test(arguments: [DType.float32, .float64], [false, true])
    func oneGradient(_ dtype: DType, inputOnly: Bool) throws {
        func run(_ backend: some Backend) throws -> (x: Tensor, w: Tensor) {
            let x = BLASOpsTests.random([2, 3, 5, 17], dtype, seed: 1), w = BLASOpsTests.random([6, 1, 3, 3], dtype, seed: 2)
            let xi = inputOnly ? x : Tensor(shape: x.shape, data: x.data)
            let wi = inputOnly ? Tensor(shape: w.shape, data: w.data) : w
            let args: [String: Value] = ["input": .tensor(xi), "weight": .tensor(wi), "groups": .int(3), "padding": .int(1)]
            let y = try #require(try backend.call("conv2d", args).tensor)
            try y.backward(gradient: BLASOpsTests.random(y.shape, dtype, seed: 3))
            return (xi, wi)
        }
        let (x, w) = try run(Optimized.backend), (xr, wr) = try run(Reference.backend)
        #expect((x.grad == nil) == !inputOnly)
        #expect((w.grad == nil) == inputOnly)
        BLASOpsTests.expectClose(inputOnly ? x.grad : w.grad, inputOnly ? xr.grad : wr.grad, "one gradient", dtype, sumLength: 600)
    }

    /// The same call twice gives the same bits (∂w sums planes in a fixed order).
    @Test func deterministic() throws {
        let c = Case("conv2d", ["input": [8, 4, 12, 56], "weight": [4, 1, 3, 3]], ["groups": .int(4), "padding": .int(1)])
        let a = try BLASOpsTests.run(c, on: Optimized.backend, .float32), b = try BLASOpsTests.run(c, on: Optimized.backend, .float32)
        #expect(a.output.doubles == b.output.doubles)
        #expect(a.leaves["weight"]?.grad?.doubles == b.leaves["weight"]?.grad?.doubles)
        #expect(a.leaves["input"]?.grad?.doubles == b.leaves["input"]?.grad?.doubles)
    }
}
