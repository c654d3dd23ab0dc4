import Testing
import NNCore
import NNReference

private func call(_ op: String, _ args: [String: Value]) throws -> Tensor {
    try Reference.backend.call(op, args).tensor!
}

/// `F.grid_sample(x, grid, mode, padding_mode, align_corners)`.
private func sample(_ x: Tensor, _ grid: Tensor, _ mode: String = "bilinear", _ padding: String = "zeros",
                    align: Bool = false) throws -> Tensor {
    try call("grid_sample", ["input": .tensor(x), "grid": .tensor(grid), "mode": .string(mode),
                             "padding_mode": .string(padding), "align_corners": .bool(align)])
}

private func affineGrid(_ theta: Tensor, _ size: [Int], align: Bool) throws -> Tensor {
    try call("affine_grid", ["theta": .tensor(theta), "size": .list(size.map { .int($0) }), "align_corners": .bool(align)])
}

/// The identity θ (N copies of [I | 0]) for `k` spatial axes.
private func identityTheta(batch: Int, k: Int) -> Tensor {
    let one: [Double] = (0..<k).flatMap { i in (0...k).map { j in i == j ? 1.0 : 0.0 } }
    return Tensor(shape: [batch, k, k + 1], Array((0..<batch).map { _ in one }.joined()))
}

/// Deterministic values in [lo, hi) for inputs, grids and output gradients.
private func wobble(_ count: Int, seed: Int, _ lo: Double = -1, _ hi: Double = 1) -> [Double] {
    (0..<count).map { i -> Double in
        let k: Int = (i * 7919 + seed * 104_729 + 13) % 101
        return lo + (hi - lo) * Double(k) / 101
    }
}

private func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// The backward of `Σ r·f(v)` against central differences of `f` in each entry of `v`.
private func expectGradientMatches(_ v0: [Double], analytic: [Double], r: [Double], tolerance: Double,
                                   sourceLocation: SourceLocation = #_sourceLocation,
                                   _ f: ([Double]) throws -> [Double]) throws {
    let h = 1e-6
    for i in v0.indices {
        var plus = v0, minus = v0
        plus[i] += h
        minus[i] -= h
        let up = zip(try f(plus), r).reduce(0) { $0 + $1.0 * $1.1 }
        let down = zip(try f(minus), r).reduce(0) { $0 + $1.0 * $1.1 }
        let numeric = (up - down) / (2 * h)
        #expect(abs(numeric - analytic[i]) < tolerance, "entry \(i): \(numeric) vs \(analytic[i])", sourceLocation: sourceLocation)
    }
}

@Suite struct SamplingTests {
    // MARK: values

    @Test(arguments: ["bilinear", "nearest", "bicubic"], [false, true])
    func identityGridReproducesInput(mode: String, align: Bool) throws {
        for shape in [[2, 3, 4, 5], [1, 2, 3, 4, 5]] {
            let x = Tensor(shape: shape, wobble(shape.reduce(1, *), seed: 1))
            let grid = try affineGrid(identityTheta(batch: shape[0], k: shape.count - 2), shape, align: align)
            let y = try sample(x, grid, mode, align: align)
            #expect(y.shape == shape)
            #expect(maxDifference(y.doubles, x.doubles) < 1e-12, "\(mode) \(shape)")
        }
    }

    @Test func affineGridPositions() throws {
        // align_corners=False: pixel centres (2w + 1)/W − 1; True: linspace(−1, 1, W).
        let theta = identityTheta(batch: 1, k: 2)
        let centres = try affineGrid(theta, [1, 1, 1, 4], align: false).doubles
        #expect(centres == [-0.75, 0, -0.25, 0, 0.25, 0, 0.75, 0])
        let ends = try affineGrid(theta, [1, 1, 2, 3], align: true).doubles
        #expect(ends == [-1, -1, 0, -1, 1, -1, -1, 1, 0, 1, 1, 1])
        // A translation by (0.5, −1) moves every point; a unit axis sits at 0.
        let shifted = Tensor(shape: [1, 2, 3], [1, 0, 0.5, 0, 1, -1] as [Double])
        #expect(try affineGrid(shifted, [1, 1, 1, 2], align: true).doubles == [-0.5, -1, 1.5, -1])
    }

    /// A 1×4 row sampled half a pixel to the right of each pixel centre, so x = 0.5, 1.5, 2.5, 3.5.
    @Test func halfPixelShift() throws {
        let x = Tensor(shape: [1, 1, 1, 4], [1, 2, 3, 4] as [Double])
        // u = ((g + 1)·4 − 1)/2 = j + 0.5  ⇔  g = (2j + 2)/4 − 1.
        let points: [Double] = (0..<4).flatMap { j in [Double(2 * j + 2) / 4 - 1, 0] }
        let grid = Tensor(shape: [1, 1, 4, 2], points)
        // Halfway between neighbours; past the last centre `zeros` mixes in a 0, `border` and
        // `reflection` (mirrored at the edge 3.5, then clamped to 3) repeat the last pixel.
        #expect(try sample(x, grid, "bilinear", "zeros").doubles == [1.5, 2.5, 3.5, 2])
        #expect(try sample(x, grid, "bilinear", "border").doubles == [1.5, 2.5, 3.5, 4])
        #expect(try sample(x, grid, "bilinear", "reflection").doubles == [1.5, 2.5, 3.5, 4])
        // Ties round half to even: 0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4 (outside: 0, or clamped to 3).
        #expect(try sample(x, grid, "nearest", "zeros").doubles == [1, 3, 3, 0])
        #expect(try sample(x, grid, "nearest", "border").doubles == [1, 3, 3, 4])
        // Bicubic at t = 1/2 weighs the four neighbours −3/32, 19/32, 19/32, −3/32.
        let cubic = try sample(x, grid, "bicubic", "border").doubles
        #expect(abs(cubic[1] - 2.5) < 1e-15)
        #expect(abs(cubic[0] - (-3.0 * 1 + 19 * 1 + 19 * 2 - 3 * 3) / 32) < 1e-15)
    }

    @Test func reflectionFoldsFarCoordinates() throws {
        let x = Tensor(shape: [1, 1, 1, 3], [10, 20, 30] as [Double])
        // align_corners=True: u = g + 1 mirrored at 0 and 2 (period 4): u = −1, 4, 6, 7.5 → 1, 0, 2, 0.5.
        let aligned = Tensor(shape: [1, 1, 4, 2], [-2, 0, 3, 0, 5, 0, 6.5, 0] as [Double])
        #expect(try sample(x, aligned, "bilinear", "reflection", align: true).doubles == [20, 10, 30, 15])
        // align_corners=False: u = (3g + 2)/2 mirrored at the edges −0.5 and 2.5: u = −1 → 0, 4 → 1.
        let edges = Tensor(shape: [1, 1, 2, 2], [-4.0 / 3, 0, 2, 0] as [Double])
        #expect(try sample(x, edges, "nearest", "reflection").doubles == [10, 20])
    }

    @Test func nanCoordinatesFollowEachKernel() throws {
        // `border` clamps a NaN coordinate to the first pixel in ATen's 2-D kernel and to the last
        // in its 3-D kernel; `zeros` reads nothing, which the 2-D kernel multiplies by NaN weights.
        let row: [Double] = [1, 2, 3]
        let nanPoint: [Double] = [.nan, 0]
        let flat = try sample(Tensor(shape: [1, 1, 1, 3], row), Tensor(shape: [1, 1, 1, 2], nanPoint), "nearest", "border")
        #expect(flat.doubles == [1])
        let volume = Tensor(shape: [1, 1, 1, 1, 3], row)
        let nanVolumePoint = Tensor(shape: [1, 1, 1, 1, 3], [.nan, 0, 0] as [Double])
        #expect(try sample(volume, nanVolumePoint, "nearest", "border").doubles == [3])
        #expect(try sample(volume, nanVolumePoint, "bilinear", "zeros").doubles == [0])
        #expect(try sample(Tensor(shape: [1, 1, 1, 3], row), Tensor(shape: [1, 1, 1, 2], nanPoint)).doubles[0].isNaN)
    }

    // MARK: gradients

    @Test(arguments: ["bilinear", "nearest", "bicubic"], ["zeros", "border", "reflection"])
    func gradientsMatchFiniteDifferences(mode: String, padding: String) throws {
        for (shape, gridShape) in [([2, 2, 3, 4], [2, 3, 2, 2]), ([1, 2, 2, 3, 4], [1, 2, 2, 2, 3])] {
            for align in [false, true] {
                let x0 = wobble(shape.reduce(1, *), seed: 3)
                // Coordinates in (−1.3, 1.3), off the pixel grid, so no tap changes within ±h.
                let g0 = wobble(gridShape.reduce(1, *), seed: 4, -1.3, 1.3).map { $0 + 0.0037 }
                let x = Tensor(shape: shape, x0, requiresGrad: true)
                let grid = Tensor(shape: gridShape, g0, requiresGrad: true)
                let y = try sample(x, grid, mode, padding, align: align)
                let r = wobble(y.numel, seed: 5)
                try y.backward(gradient: Tensor(shape: y.shape, r))
                try expectGradientMatches(x0, analytic: x.grad!.doubles, r: r, tolerance: 1e-7) {
                    try sample(Tensor(shape: shape, $0), grid.detach(), mode, padding, align: align).doubles
                }
                if mode == "nearest" {
                    #expect(grid.grad!.doubles.allSatisfy { $0 == 0 })
                    continue
                }
                try expectGradientMatches(g0, analytic: grid.grad!.doubles, r: r, tolerance: 1e-6) {
                    try sample(x.detach(), Tensor(shape: gridShape, $0), mode, padding, align: align).doubles
                }
            }
        }
    }

    @Test func thetaGradientMatchesFiniteDifferences() throws {
        for (size, k) in [([2, 1, 3, 4], 2), ([1, 1, 2, 3, 2], 3)] {
            for align in [false, true] {
                let theta0 = wobble(size[0] * k * (k + 1), seed: 6)
                let theta = Tensor(shape: [size[0], k, k + 1], theta0, requiresGrad: true)
                let grid = try affineGrid(theta, size, align: align)
                #expect(grid.gradFn?.name == "AffineGridGeneratorBackward0")
                let r = wobble(grid.numel, seed: 7)
                try grid.backward(gradient: Tensor(shape: grid.shape, r))
                try expectGradientMatches(theta0, analytic: theta.grad!.doubles, r: r, tolerance: 1e-8) {
                    try affineGrid(Tensor(shape: [size[0], k, k + 1], $0), size, align: align).doubles
                }
            }
        }
    }

    @Test func gradFnNamesAndSavedInputVersion() throws {
        let x = Tensor(shape: [1, 1, 2, 2], [1, 2, 3, 4] as [Double], requiresGrad: true)
        let grid = Tensor(shape: [1, 1, 1, 2], [0.1, 0.2] as [Double], requiresGrad: true)
        #expect(try sample(x, grid).gradFn?.name == "GridSampler2DBackward0")
        let volume = Tensor(shape: [1, 1, 1, 2, 2], [1, 2, 3, 4] as [Double], requiresGrad: true)
        let point = Tensor(shape: [1, 1, 1, 1, 3], [0.1, 0.2, 0] as [Double])
        #expect(try sample(volume, point).gradFn?.name == "GridSampler3DBackward0")
        // The input is saved for backward: writing to it in place first is PyTorch's version error.
        let a = try call("mul", ["input": .tensor(x), "other": .double(2)])
        let y = try sample(a, grid)
        _ = try Reference.backend.call("add_", ["input": .tensor(a), "other": .double(1)])
        #expect(throws: TorchError.self) { try y.backward(gradient: Tensor(shape: [1, 1, 1, 1], [1] as [Double])) }
    }

    // MARK: warnings and errors

    @Test func alignCornersWarnings() throws {
        let theta = identityTheta(batch: 1, k: 2)
        let (_, defaulted) = try Warnings.collect { try call("affine_grid", ["theta": .tensor(theta), "size": .list([.int(1), .int(1), .int(2), .int(2)])]) }
        #expect(defaulted.map(\.message).first?.hasPrefix("Default grid_sample and affine_grid behavior has changed") == true)
        let (_, unit) = try Warnings.collect { try affineGrid(theta, [1, 1, 1, 3], align: true) }
        #expect(unit.map(\.message).first?.hasPrefix("Since version 1.3.0, affine_grid behavior has changed for unit-size grids") == true)
        let (_, none) = try Warnings.collect { try affineGrid(theta, [1, 1, 1, 3], align: false) }
        #expect(none.isEmpty)
    }

    @Test func gridSampleErrors() throws {
        func expectError(_ error: TorchError, input: [Int], grid: [Int], _ extra: [String: Value] = [:],
                         inputType: DType = .float64, gridType: DType = .float64,
                         sourceLocation: SourceLocation = #_sourceLocation) {
            var args: [String: Value] = ["input": .tensor(Tensor.zeros(input, dtype: inputType)),
                                         "grid": .tensor(Tensor.zeros(grid, dtype: gridType)), "align_corners": .bool(false)]
            args.merge(extra) { _, new in new }
            #expect(throws: error, sourceLocation: sourceLocation) { try call("grid_sample", args) }
        }
        let (image, points) = ([1, 1, 3, 3], [1, 2, 2, 2])
        expectError(.value("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'cubic'"),
                    input: image, grid: points, ["mode": .string("cubic")])
        expectError(.value("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: 'circular'"),
                    input: image, grid: points, ["padding_mode": .string("circular")])
        expectError(.type("grid_sampler(): argument 'align_corners' (position 5) must be bool, not int"),
                    input: image, grid: points, ["align_corners": .int(1)])
        expectError(.runtime("grid_sampler(): expected grid and input to have same batch size, but got input with sizes [2, 1, 3, 3] and grid with sizes [1, 2, 2, 2]"),
                    input: [2, 1, 3, 3], grid: points)
        expectError(.runtime("grid_sampler(): expected grid to have size 2 in last dimension, but got grid with sizes [1, 2, 2, 3]"),
                    input: image, grid: [1, 2, 2, 3])
        expectError(.runtime("grid_sampler(): expected 4D input and grid with same number of dimensions, but got input with sizes [1, 1, 3, 3] and grid with sizes [1, 2, 2, 2, 2]"),
                    input: image, grid: [1, 2, 2, 2, 2])
        expectError(.runtime("grid_sampler(): expected 5D input and grid with same number of dimensions, but got input with sizes [1, 1, 3] and grid with sizes [1, 2, 1]"),
                    input: [1, 1, 3], grid: [1, 2, 1])
        expectError(.runtime("grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes [1, 1, 0, 3] with dimension 2 being empty"),
                    input: [1, 1, 0, 3], grid: points)
        expectError(.index("Dimension specified as 0 but tensor has no dimensions"), input: [], grid: points)
        expectError(.notImplemented("\"grid_sampler_2d_cpu_kernel_impl\" not implemented for 'Long'"),
                    input: image, grid: points, inputType: .int64)
        expectError(.notImplemented("\"grid_sampler3d_cpu\" not implemented for 'Long'"),
                    input: [1, 1, 2, 3, 3], grid: [1, 2, 2, 2, 3], inputType: .int64)
        expectError(.runtime("expected scalar type Double but found Float"), input: image, grid: points, gridType: .float32)
        // An empty 2-D output skips the kernel, and its dtype check.
        #expect(try call("grid_sample", ["input": .tensor(Tensor.zeros(image, dtype: .int64)),
                                         "grid": .tensor(Tensor.zeros([1, 0, 2, 2], dtype: .float32))]).shape == [1, 1, 0, 2])
    }

    @Test func affineGridErrors() throws {
        func expectError(_ error: TorchError, theta: [Int], size: Value, align: Value = .bool(false), dtype: DType = .float64,
                         sourceLocation: SourceLocation = #_sourceLocation) {
            let args: [String: Value] = ["theta": .tensor(Tensor.zeros(theta, dtype: dtype)), "size": size, "align_corners": align]
            #expect(throws: error, sourceLocation: sourceLocation) { try call("affine_grid", args) }
        }
        func list(_ s: [Int]) -> Value { .list(s.map { .int($0) }) }
        expectError(.value("Expected a batch of 2D affine matrices of shape Nx2x3 for size [2, 1, 4, 5]. Got torch.Size([2, 3, 4])."),
                    theta: [2, 3, 4], size: list([2, 1, 4, 5]))
        expectError(.value("Expected a batch of 3D affine matrices of shape Nx3x4 for size [2, 1, 3, 4, 5]. Got torch.Size([2, 2, 3])."),
                    theta: [2, 2, 3], size: list([2, 1, 3, 4, 5]))
        expectError(.notImplemented("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size [2, 1, 4]."),
                    theta: [2, 2, 3], size: list([2, 1, 4]))
        expectError(.value("Expected non-zero, positive output size. Got [2, 0, 4, 5]"), theta: [2, 2, 3], size: list([2, 0, 4, 5]))
        expectError(.value("Expected theta to have floating point type, but got torch.int64"),
                    theta: [2, 2, 3], size: list([2, 1, 4, 5]), dtype: .int64)
        expectError(.type("affine_grid_generator(): argument 'align_corners' (position 3) must be bool, not int"),
                    theta: [2, 2, 3], size: list([2, 1, 4, 5]), align: .int(0))
        expectError(.type("affine_grid_generator(): argument 'size' failed to unpack the object at pos 3 with error \"type must be tuple of ints,but got float\""),
                    theta: [2, 2, 3], size: .list([.int(2), .int(1), .double(4), .int(5)]))
        expectError(.type("object of type 'int' has no len()"), theta: [2, 2, 3], size: .int(4))
        expectError(.runtime("Expected size for first two dimensions of batch2 tensor to be: [3, 3] but got: [2, 3]."),
                    theta: [2, 2, 3], size: list([3, 1, 4, 5]))
    }
}
