import Testing
import NNCore
import NNOptimized
import NNReference

/// `grid_sample` and `affine_grid` on the optimized backend against the reference: every mode ×
/// padding × align_corners, 2-D and 3-D, both dtypes, gradients of input, grid and θ, points
/// inside, outside and far outside the input, non-finite coordinates, and sizes that split
/// across threads.
@Suite struct SIMDSamplingTests {
    private static let modes = ["bilinear", "nearest", "bicubic"]
    private static let paddings = ["zeros", "border", "reflection"]

    private func sample(_ input: Tensor, _ grid: Tensor, _ mode: String, _ padding: String, _ align: Bool) -> [String: Value] {
        ["input": .tensor(input), "grid": .tensor(grid), "mode": .string(mode), "padding_mode": .string(padding), "align_corners": .bool(align)]
    }

    @Test func gridSample2D() throws {
        var r = Random(1)
        for mode in Self.modes {
            for padding in Self.paddings {
                for align in [false, true] {
                    for dtype in [DType.float32, .float64] {
                        for (input, grid) in [([2, 3, 5, 6], [2, 4, 3, 2]), ([1, 1, 1, 1], [1, 3, 5, 2]), ([1, 2, 4, 17], [1, 1, 15, 2])] {
                            try check("grid_sample", sample(r.tensor(input, dtype), r.tensor(grid, dtype, scale: 1.5), mode, padding, align),
                                      rtol: 1e-4, atol: 1e-5)
                        }
                    }
                }
            }
        }
    }

    @Test func gridSample3D() throws {
        var r = Random(2)
        for mode in Self.modes {
            for padding in Self.paddings {
                for align in [false, true] {
                    for dtype in [DType.float32, .float64] {
                        try check("grid_sample", sample(r.tensor([2, 2, 3, 4, 5], dtype), r.tensor([2, 2, 3, 2, 3], dtype, scale: 1.5),
                                                        mode, padding, align), rtol: 1e-4, atol: 1e-5)
                    }
                }
            }
            try check("grid_sample", sample(r.tensor([1, 1, 1, 1, 1]), r.tensor([1, 1, 2, 3, 3]), mode, "reflection", true), rtol: 1e-4, atol: 1e-5)
        }
    }

    /// Far outside, on pixel centres and edges, NaN and ±∞ coordinates (ATen's NaN clamps and
    /// zero-times-NaN weights), for every mode and padding.
    @Test func specialCoordinates() throws {
        var r = Random(3)
        let special: [Double] = [-1, 1, 0, -1.2, 1.2, 9.5, -37.25, .nan, .infinity, -.infinity, 0.5, -0.5, 1e30, -1e-30]
        for rank in [4, 5] {
            let k = rank - 2
            let points = special.count
            let grid = Tensor(shape: [1] + Array(repeating: 1, count: k - 1) + [points, k],
                              data: TensorData.float64((0..<points * k).map { special[($0 * 5 + $0 / k) % points] }).converted(to: .float32))
            let input = r.tensor([1, 2] + (rank == 4 ? [5, 6] : [3, 4, 5]))
            for mode in Self.modes {
                for padding in Self.paddings {
                    for align in [false, true] {
                        try check("grid_sample", sample(input, grid, mode, padding, align), rtol: 1e-4, atol: 1e-5)
                    }
                }
            }
        }
    }

    /// Large enough to split the forward rows and the backward planes across cores.
    @Test func threaded() throws {
        var r = Random(4)
        for mode in Self.modes {
            try check("grid_sample", sample(r.tensor([2, 5, 20, 24]), r.tensor([2, 30, 33, 2]), mode, "border", false), rtol: 1e-4, atol: 1e-4)
        }
        try check("grid_sample", sample(r.tensor([1, 3, 6, 7, 8]), r.tensor([1, 9, 10, 11, 3]), "bilinear", "zeros", true), rtol: 1e-4, atol: 1e-4)
    }

    /// Only the grid, or only the input, requiring grad; empty outputs; an integer empty call.
    @Test func partialGradientsAndEmpty() throws {
        var r = Random(5)
        try check("grid_sample", sample(r.tensor([1, 2, 4, 5], grad: false), r.tensor([1, 3, 3, 2]), "bicubic", "zeros", false))
        try check("grid_sample", sample(r.tensor([1, 2, 4, 5]), r.tensor([1, 3, 3, 2], grad: false), "bilinear", "reflection", false))
        try check("grid_sample", sample(r.tensor([2, 2, 4, 5]), r.tensor([2, 0, 3, 2]), "bilinear", "zeros", false))
        try check("grid_sample", sample(r.tensor([2, 0, 4, 5]), r.tensor([2, 3, 3, 2]), "bicubic", "zeros", false))
        try check("grid_sample", sample(Tensor.zeros([1, 0, 2, 2], dtype: .int64), r.tensor([1, 3, 3, 2], grad: false), "bilinear", "zeros", false))
    }

    @Test func gridSampleErrors() throws {
        var r = Random(6)
        try check("grid_sample", sample(r.tensor([1, 2, 4, 5]), r.tensor([2, 3, 3, 2]), "bilinear", "zeros", false))
        try check("grid_sample", sample(r.tensor([1, 2, 4, 5]), r.tensor([1, 3, 3, 3]), "bilinear", "zeros", false))
        try check("grid_sample", sample(r.tensor([1, 2, 4, 5]), r.tensor([1, 3, 3, 2]), "cubic", "zeros", false))
        try check("grid_sample", sample(r.tensor([1, 2, 4, 5]), r.tensor([1, 3, 3, 2]), "bilinear", "wrap", false))
        try check("grid_sample", sample(r.tensor([1, 2, 4, 5]), r.tensor([1, 3, 3, 2], .float64), "bilinear", "zeros", false))
        try check("grid_sample", sample(Tensor.zeros([1, 2, 4, 5], dtype: .int64), r.tensor([1, 3, 3, 2]), "bilinear", "zeros", false))
    }

    @Test func affineGrid() throws {
        var r = Random(7)
        for size in [[2, 3, 4, 5], [1, 1, 1, 7], [3, 2, 17, 1], [2, 3, 3, 4, 5], [1, 1, 1, 1, 6], [2, 1, 5, 1, 3], [1, 3, 150, 160], [1, 2, 20, 30, 40]] {
            for align in [false, true] {
                for dtype in [DType.float32, .float64] {
                    let k = size.count - 2
                    let theta = r.tensor([size[0], k, k + 1], dtype)
                    try check("affine_grid", ["theta": .tensor(theta), "size": .list(size.map { .int($0) }), "align_corners": .bool(align)],
                              rtol: 1e-4, atol: 1e-4)
                }
            }
        }
        // Errors: the wrong θ shape, a bad size, a batch mismatch, an integer θ.
        try check("affine_grid", ["theta": .tensor(r.tensor([2, 3, 3])), "size": .list([2, 3, 4, 5].map { .int($0) })])
        try check("affine_grid", ["theta": .tensor(r.tensor([2, 2, 3])), "size": .list([2, 3, 4].map { .int($0) })])
        try check("affine_grid", ["theta": .tensor(r.tensor([1, 2, 3])), "size": .list([2, 3, 4, 5].map { .int($0) })])
        try check("affine_grid", ["theta": .tensor(Tensor(shape: [1, 2, 3], int64: [1, 0, 0, 0, 1, 0])), "size": .list([1, 1, 2, 2].map { .int($0) })])
    }

    /// A spatial transformer: affine_grid feeding grid_sample, gradients flowing back to θ.
    @Test func spatialTransformer() throws {
        var r = Random(8)
        for backendPair in [(optimized, reference)] {
            let x = r.tensor([2, 3, 9, 11]), theta = r.tensor([2, 2, 3], scale: 0.5)
            var grads: [[Double]] = []
            for backend in [backendPair.0, backendPair.1] {
                let (xc, tc) = (x.clone(requiresGrad: true), theta.clone(requiresGrad: true))
                let grid = try backend.call("affine_grid", ["theta": .tensor(tc), "size": .list([2, 3, 7, 8].map { .int($0) }),
                                                            "align_corners": .bool(false)]).tensor!
                let y = try backend.call("grid_sample", sample(xc, grid, "bilinear", "zeros", false)).tensor!
                try y.backward(gradient: Tensor(shape: y.shape, (0..<y.numel).map { Float($0 % 5) - 2 }))
                grads.append(try #require(tc.grad).doubles + #require(xc.grad).doubles)
            }
            let maxDiff = zip(grads[0], grads[1]).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
            #expect(maxDiff < 1e-4)
        }
    }
}
