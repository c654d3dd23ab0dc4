import NNCore

/// `F.affine_grid` and `F.grid_sample`: the two halves of a spatial transformer.
///
/// `affine_grid` maps every output pixel's normalized position through θ (see `AffineGridCall`).
/// `grid_sample` reads the input at the grid's points: for output point `p` of batch `n`, the
/// normalized coordinate `g` along each spatial axis of `s` pixels becomes the pixel coordinate
///
///     u = (g + 1)/2 · (s − 1)          align_corners=True  (−1, +1: centres of the end pixels)
///     u = ((g + 1) · s − 1)/2          align_corners=False (−1, +1: outer edges of the end pixels)
///
/// then `padding_mode` keeps `u` inside: `border` clamps it to [0, s − 1], `reflection` mirrors it
/// at the ends (the centres or the edges, as above) until it is inside, then clamps; `zeros`
/// leaves it and reads 0 outside the input. Each mode is a sum over taps, one stencil per point,
///
///     y[n, c, p] = Σ_taps w_tap · x[n, c, tap],
///
/// the taps being the tensor product of per-axis taps (`SamplingCoordinates.swift`): `nearest` the
/// pixel `u` rounds to (half to even), `bilinear` ⌊u⌋ and ⌊u⌋ + 1 with weights `1 − t` and `t`,
/// `t = u − ⌊u⌋`, `bicubic` ⌊u⌋ − 1 … ⌊u⌋ + 2 with Keys' weights (A = −0.75), where ATen
/// interpolates the unpadded `u` and pads each tap instead. The vector-Jacobian products are
///
///     ∂L/∂x[n, c, tap] += w_tap · ∂L/∂y[n, c, p]
///     ∂L/∂g_d[n, p]     = (du_d/dg_d) · Σ_c Σ_taps x[n, c, tap] · ∂L/∂y[n, c, p] · ∂w_tap/∂u_d
///
/// where du/dg is the unnormalizing scale times the padding's slope (0 where it clamps, ±1 where
/// it reflects); `bicubic` uses the scale alone, and `nearest` gives the grid a zero gradient.
/// Arithmetic is in the element type, as ATen's CPU kernels compute it.
extension Reference {
    static let samplingOps: [String: OpFunction] = [
        "affine_grid": { try affineGrid(AffineGridCall($0)) },
        "grid_sample": { try gridSample(GridSampleCall($0)) },
    ]
}

// MARK: affine_grid

private func affineGrid(_ call: AffineGridCall) throws -> Value {
    switch call.theta.dtype {
    case .float32: return .tensor(affineGrid(call, as: Float.self))
    case .float64: return .tensor(affineGrid(call, as: Double.self))
    default: preconditionFailure("AffineGridCall accepts floating-point theta only")
    }
}

/// grid[n, p, i] = Σ_j base[p, j] · θ[n, i, j], and ∂L/∂θ[n, i, j] = Σ_p base[p, j] · ∂L/∂grid[n, p, i],
/// as ATen computes them with `bmm`.
private func affineGrid<T: FloatScalar>(_ call: AffineGridCall, as _: T.Type) -> Tensor {
    let base: [[T]] = affineBaseGrid(call)
    let theta: [T] = call.theta.values()
    let (batch, k) = (call.size[0], call.spatialSize.count)
    let (points, columns) = (base.count, k + 1)
    var grid = [T](repeating: 0, count: batch * points * k)
    for n in 0..<batch {
        for (p, row) in base.enumerated() {
            for i in 0..<k {
                var sum: T = 0
                for j in 0..<columns { sum += row[j] * theta[(n * k + i) * columns + j] }
                grid[(n * points + p) * k + i] = sum
            }
        }
    }
    let thetaShape = call.theta.shape
    return Tensor(shape: call.outputShape, grid).recording("AffineGridGeneratorBackward0", inputs: [call.theta]) { g in
        let gradGrid: [T] = g.values()
        var gradTheta = [T](repeating: 0, count: batch * k * columns)
        for n in 0..<batch {
            for i in 0..<k {
                for j in 0..<columns {
                    var sum: T = 0
                    for (p, row) in base.enumerated() { sum += row[j] * gradGrid[(n * points + p) * k + i] }
                    gradTheta[(n * k + i) * columns + j] = sum
                }
            }
        }
        return [Tensor(shape: thetaShape, gradTheta)]
    }
}

/// ATen's base grid: for every output point in row-major order, its normalized position
/// innermost axis first, then 1: `(x_w, y_h, 1)` or `(x_w, y_h, z_d, 1)`.
private func affineBaseGrid<T: FloatScalar>(_ call: AffineGridCall) -> [[T]] {
    var rows: [[T]] = [[]]
    for size in call.spatialSize {
        let positions: [T] = normalizedPositions(size, alignCorners: call.alignCorners)
        rows = rows.flatMap { outer in positions.map { outer + [$0] } }
    }
    return rows.map { $0.reversed() + [1] }
}

/// ATen's `linspace_from_neg_one`: `linspace(−1, 1, s)` (from −1 up to the middle, from 1 down
/// after it, each as one fused multiply-add), times `(s − 1)/s` for align_corners=False; `[0]`
/// for `s = 1`.
private func normalizedPositions<T: FloatScalar>(_ s: Int, alignCorners: Bool) -> [T] {
    guard s > 1 else { return [0] }
    let step = T(2) / T(s - 1)
    return (0..<s).map { i in
        let v = i < s / 2 ? T(-1).addingProduct(step, T(i)) : T(1).addingProduct(-step, T(s - 1 - i))
        return alignCorners ? v : v * T(s - 1) / T(s)
    }
}

// MARK: grid_sample

private func gridSample(_ call: GridSampleCall) throws -> Value {
    switch call.input.dtype {
    case .float32: return .tensor(gridSample(call, as: Float.self))
    case .float64: return .tensor(gridSample(call, as: Double.self))
    default:
        // Only a 2-D call with an empty output gets here: ATen returns before its dtype dispatch.
        return .tensor(Tensor.zeros(call.outputShape, dtype: call.input.dtype))
    }
}

/// The forward, recording `GridSampler2DBackward0` / `GridSampler3DBackward0`, which keeps the
/// input and the grid.
private func gridSample<T: FloatScalar>(_ call: GridSampleCall, as _: T.Type) -> Tensor {
    let sampler = GridSampler<T>(call)
    let y = sampler.forward(call.input.values(), grid: call.grid.values())
    let saved = [SavedTensor(call.input), SavedTensor(call.grid)]
    let (inputShape, gridShape) = (call.input.shape, call.grid.shape)
    return Tensor(shape: call.outputShape, y).recording(call.gradFnName, inputs: [call.input, call.grid], saving: saved) { g in
        let (gx, gGrid) = sampler.backward(g.values(), input: try saved[0].unpack().values(), grid: try saved[1].unpack().values())
        return [Tensor(shape: inputShape, gx), Tensor(shape: gridShape, gGrid)]
    }
}

extension GridSampler {
    /// y[n, c, p] = Σ_taps w · x[n, c, tap].
    func forward(_ x: [T], grid: [T]) -> [T] {
        var y = [T](repeating: 0, count: batch * channels * outCount)
        for n in 0..<batch {
            for p in 0..<outCount {
                let taps = stencil(grid, n: n, point: p).taps
                for c in 0..<channels {
                    let plane = (n * channels + c) * inCount
                    var sum: T = 0
                    for tap in taps where tap.offset != nil || weighsOutsideTaps {
                        sum += (tap.offset.map { x[plane + $0] } ?? 0) * tap.weight
                    }
                    y[(n * channels + c) * outCount + p] = sum
                }
            }
        }
        return y
    }

    /// The gradients of the input and the grid for the output gradient `g` (see the file comment).
    func backward(_ g: [T], input x: [T], grid: [T]) -> (input: [T], grid: [T]) {
        let k = axes.count
        var gx = [T](repeating: 0, count: x.count)
        var gGrid = [T](repeating: 0, count: grid.count)
        for n in 0..<batch {
            for p in 0..<outCount {
                let (taps, scales) = stencil(grid, n: n, point: p)
                var slopeSums = [T](repeating: 0, count: k)
                for c in 0..<channels {
                    let plane = (n * channels + c) * inCount
                    let gOut = g[(n * channels + c) * outCount + p]
                    for tap in taps {
                        if let o = tap.offset { gx[plane + o] += tap.weight * gOut }
                        let v = tap.offset.map { x[plane + $0] } ?? 0
                        for d in 0..<k { slopeSums[d] += v * gOut * tap.slopes[d] }
                    }
                }
                // ATen fills zeros for `nearest`; the grid holds x (the innermost axis) first.
                guard mode != .nearest else { continue }
                for d in 0..<k { gGrid[(n * outCount + p) * k + (k - 1 - d)] = scales[d] * slopeSums[d] }
            }
        }
        return (gx, gGrid)
    }
}
