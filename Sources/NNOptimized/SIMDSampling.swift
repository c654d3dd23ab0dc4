import NNCore

/// `F.affine_grid` and `F.grid_sample` (2-D and 3-D; `bilinear`, `nearest`, `bicubic`; `zeros`,
/// `border`, `reflection`; both `align_corners`), with the reference's formulas and order of
/// operations (see `NNReference/Sampling.swift` for the maths).
///
/// grid_sample: each output point's stencil (`SIMDSamplingCoordinates.swift`) is computed once
/// and applied to every channel, y[n, c, p] = Σ_taps w · x[n, c, tap] summed in tap order;
/// rows of output points (batch × all but the last output axis) are split across cores. The
/// backward runs two passes: ∂L/∂x scatters w · ∂L/∂y into each (n, c) plane in point order
/// (planes split across cores, so every element sums in the reference's order), and ∂L/∂grid
/// sums over channels per point (rows split across cores). Taps outside the input read 0; since
/// a sum that starts at +0 is unchanged by adding ±0, the forward skips them, except that a
/// non-finite outside weight makes the point NaN where ATen multiplies it by 0.
///
/// affine_grid: grid[n, p, i] = Σ_j base[p, j] · θ[n, i, j] with the base grid built on the fly
/// (a direct loop, rows split across cores: with k + 1 ≤ 4 terms per output, faster than a GEMM);
/// the backward sums base · ∂L/∂grid per output row, then the rows in order.
extension Optimized {
    static let simdSamplingOps: [String: OpFunction] = [
        "affine_grid": { try simdAffineGrid(AffineGridCall($0)) },
        "grid_sample": { try simdGridSample(GridSampleCall($0)) },
    ]

    // MARK: affine_grid

    private static func simdAffineGrid(_ call: AffineGridCall) throws -> Value {
        switch call.theta.dtype {
        case .float32: return .tensor(affineGrid(call, as: Float.self))
        case .float64: return .tensor(affineGrid(call, as: Double.self))
        default: throw Unsupported("affine_grid of \(call.theta.dtype.rawValue) theta")
        }
    }

    private static func affineGrid<T: FloatScalar>(_ call: AffineGridCall, as _: T.Type) -> Tensor {
        let theta: [T] = call.theta.values()
        let spatial = call.spatialSize, k = spatial.count, columns = k + 1, batch = call.size[0]
        // positions[d]: the normalized positions along axis d, innermost (x) first.
        let positions: [[T]] = spatial.reversed().map { affinePositions($0, alignCorners: call.alignCorners) }
        let width = spatial[k - 1], rows = spatial.dropLast().reduce(1, *), points = rows * width
        let grid: [T] = theta.withPointer { th in
            makeArray(batch * points * k) { out in
                SIMDParallel.forEach(batch * rows, costPerItem: width * k * columns) { r in
                    for item in r {
                        let (n, row) = item.quotientAndRemainder(dividingBy: rows)
                        // The row's outer coordinates (y, then z): base = (x_w, y, [z,] 1).
                        let y = positions[1][row % spatial[k - 2]]
                        let z: T = k == 3 ? positions[2][row / spatial[1]] : 0
                        let dst = out + (n * points + row * width) * k
                        for i in 0..<k {
                            let t = th + (n * k + i) * columns
                            for w in 0..<width {
                                var sum: T = 0
                                sum += positions[0][w] * t[0]
                                sum += y * t[1]
                                if k == 3 { sum += z * t[2] }
                                sum += t[k]
                                dst[w * k + i] = sum
                            }
                        }
                    }
                }
            }
        }
        let thetaShape = call.theta.shape
        return Tensor(shape: call.outputShape, grid).recording("AffineGridGeneratorBackward0", inputs: [call.theta]) { g in
            let gradGrid = floatElements(g, T.self)
            // Per (n, row): Σ_w base[j] · g[i], then per n the rows in order.
            let partial: [T] = gradGrid.withPointer { gp in
                makeArray(batch * rows * k * columns) { out in
                    SIMDParallel.forEach(batch * rows, costPerItem: width * k * columns) { r in
                        for item in r {
                            let row = item % rows
                            let y = positions[1][row % spatial[k - 2]]
                            let z: T = k == 3 ? positions[2][row / spatial[1]] : 0
                            let src = gp + item * width * k, sums = out + item * k * columns
                            for i in 0..<k {
                                var (sx, sg): (T, T) = (0, 0)
                                for w in 0..<width {
                                    let gv = src[w * k + i]
                                    sx += positions[0][w] * gv
                                    sg += gv
                                }
                                let s = sums + i * columns
                                s[0] = sx
                                s[1] = y * sg
                                if k == 3 { s[2] = z * sg }
                                s[k] = sg
                            }
                        }
                    }
                }
            }
            let gradTheta = makeZeroedArray(batch * k * columns) { (dst: UnsafeMutablePointer<T>) in
                for n in 0..<batch {
                    for row in 0..<rows {
                        for e in 0..<k * columns { dst[n * k * columns + e] += partial[(n * rows + row) * k * columns + e] }
                    }
                }
            }
            return [Tensor(shape: thetaShape, gradTheta)]
        }
    }

    /// ATen's `linspace_from_neg_one` (the reference's `normalizedPositions`): `linspace(−1, 1, s)`,
    /// each value one fused multiply-add from the nearer end, times `(s − 1)/s` for
    /// align_corners=False; `[0]` for `s = 1`.
    private static func affinePositions<T: FloatScalar>(_ s: Int, alignCorners: Bool) -> [T] {
        guard s > 1 else { return [0] }
        let step = T(2) / T(s - 1)
        return (0..<s).map { i in
            let v = i < s / 2 ? T(-1).addingProduct(step, T(i)) : T(1).addingProduct(-step, T(s - 1 - i))
            return alignCorners ? v : v * T(s - 1) / T(s)
        }
    }

    // MARK: grid_sample

    private static func simdGridSample(_ call: GridSampleCall) throws -> Value {
        switch call.input.dtype {
        case .float32: return .tensor(gridSample(call, as: Float.self))
        case .float64: return .tensor(gridSample(call, as: Double.self))
        default:
            // Only a 2-D call with an empty output gets here: ATen returns before its dtype dispatch.
            guard call.outputShape.reduce(1, *) == 0 else { throw Unsupported("grid_sample of \(call.input.dtype.rawValue) tensors") }
            return .tensor(Tensor.zeros(call.outputShape, dtype: call.input.dtype))
        }
    }

    /// The forward, recording `GridSampler2DBackward0` / `GridSampler3DBackward0`, which keeps the
    /// input and the grid.
    private static func gridSample<T: FloatScalar>(_ call: GridSampleCall, as _: T.Type) -> Tensor {
        let geometry = GridGeometry<T>(call)
        let y = gridSampleForward(geometry, call.input.values(), grid: call.grid.values(), width: call.outputSize.last ?? 1)
        let saved = [SavedTensor(call.input), SavedTensor(call.grid)]
        let (inputShape, gridShape, width) = (call.input.shape, call.grid.shape, call.outputSize.last ?? 1)
        // Only the gradients an input needs (`nearest` gives the grid zeros).
        let (inputNeedsGrad, gridNeedsGrad) = (call.input.requiresGrad, call.grid.requiresGrad)
        return Tensor(shape: call.outputShape, y).recording(call.gradFnName, inputs: [call.input, call.grid], saving: saved) { g in
            let (x, grid): ([T], [T]) = (try saved[0].unpack().values(), try saved[1].unpack().values())
            let gOut = floatElements(g, T.self)
            let gx = inputNeedsGrad ? Tensor(shape: inputShape, gridSampleInputGradient(geometry, gOut, grid: grid)) : nil
            let gGrid = !gridNeedsGrad ? nil : geometry.mode == .nearest ? Tensor(shape: gridShape, [T](repeating: 0, count: grid.count))
                : Tensor(shape: gridShape, gridSampleGridGradient(geometry, gOut, x, grid: grid, width: width))
            return [gx, gGrid]
        }
    }

    /// y[n, c, p] = Σ_taps w · x[n, c, tap], rows of points split across cores.
    private static func gridSampleForward<T: FloatScalar>(_ geo: GridGeometry<T>, _ x: [T], grid: [T], width: Int) -> [T] {
        let (batch, channels, inCount, outCount, k) = (geo.batch, geo.channels, geo.inCount, geo.outCount, geo.axes.count)
        let rows = width == 0 ? 0 : outCount / width, weighsOutside = geo.weighsOutsideTaps
        let taps = geo.mode == .nearest ? 1 : geo.mode == .bilinear ? 1 << k : 1 << (2 * k)
        return x.withPointer { xp in grid.withPointer { gp in
            makeArray(batch * channels * outCount) { yp in
                SIMDParallel.forEach(batch * rows, costPerItem: width * (channels * taps + 16 * k)) { r in
                    GridStencil<T>.with { s in
                        for item in r {
                            let n = item / rows
                            for p in (item % rows) * width ..< (item % rows + 1) * width {
                                geo.stencil(gp + (n * outCount + p) * k, &s, slopes: false)
                                // Keep the taps inside the input, in order.
                                var m = 0, poisoned = false
                                for t in 0..<s.count {
                                    if s.offsets[t] >= 0 {
                                        (s.offsets[m], s.weights[m]) = (s.offsets[t], s.weights[t])
                                        m += 1
                                    } else if weighsOutside && !s.weights[t].isFinite {
                                        poisoned = true
                                    }
                                }
                                for c in 0..<channels {
                                    let plane = xp + (n * channels + c) * inCount
                                    var sum: T = 0
                                    for t in 0..<m { sum += plane[s.offsets[t]] * s.weights[t] }
                                    yp[(n * channels + c) * outCount + p] = poisoned ? .nan : sum
                                }
                            }
                        }
                    }
                }
            }
        } }
    }

    /// ∂L/∂x[n, c, tap] += w · ∂L/∂y[n, c, p], over points in order; (n, c) planes split across cores.
    private static func gridSampleInputGradient<T: FloatScalar>(_ geo: GridGeometry<T>, _ g: [T], grid: [T]) -> [T] {
        let (channels, inCount, outCount, k) = (geo.channels, geo.inCount, geo.outCount, geo.axes.count)
        let taps = geo.mode == .nearest ? 1 : geo.mode == .bilinear ? 1 << k : 1 << (2 * k)
        return g.withPointer { gp in grid.withPointer { gridp in
            makePlanewiseZeroedArray(planes: geo.batch * channels, planeSize: inCount, costPerPlane: outCount * taps) { r, gx in
                GridStencil<T>.with { s in
                    var plane = r.lowerBound
                    while plane < r.upperBound {
                        // The planes of one batch entry in this range.
                        let n = plane / channels, c0 = plane % channels, c1 = min(channels, c0 + r.upperBound - plane)
                        for p in 0..<outCount {
                            geo.stencil(gridp + (n * outCount + p) * k, &s, slopes: false)
                            for c in c0..<c1 {
                                let gOut = gp[(n * channels + c) * outCount + p], dst = gx + (n * channels + c) * inCount
                                for t in 0..<s.count where s.offsets[t] >= 0 { dst[s.offsets[t]] += s.weights[t] * gOut }
                            }
                        }
                        plane += c1 - c0
                    }
                }
            }
        } }
    }

    /// ∂L/∂g_d[n, p] = (du_d/dg_d) · Σ_c Σ_taps x[n, c, tap] · ∂L/∂y[n, c, p] · ∂w/∂u_d, the grid
    /// holding x (the innermost axis) first; rows of points split across cores.
    private static func gridSampleGridGradient<T: FloatScalar>(_ geo: GridGeometry<T>, _ g: [T], _ x: [T], grid: [T],
                                                               width: Int) -> [T] {
        let (batch, channels, inCount, outCount, k) = (geo.batch, geo.channels, geo.inCount, geo.outCount, geo.axes.count)
        let rows = width == 0 ? 0 : outCount / width
        let taps = geo.mode == .bilinear ? 1 << k : 1 << (2 * k)
        return g.withPointer { gp in x.withPointer { xp in grid.withPointer { gridp in
            makeArray(grid.count) { out in
                SIMDParallel.forEach(batch * rows, costPerItem: width * (channels * taps * (k + 1) + 32 * k)) { r in
                    GridStencil<T>.with { s in
                        for item in r {
                            let n = item / rows
                            for p in (item % rows) * width ..< (item % rows + 1) * width {
                                geo.stencil(gridp + (n * outCount + p) * k, &s, slopes: true)
                                var sums: (T, T, T) = (0, 0, 0)
                                for c in 0..<channels {
                                    let plane = xp + (n * channels + c) * inCount
                                    let gOut = gp[(n * channels + c) * outCount + p]
                                    for t in 0..<s.count {
                                        let o = s.offsets[t], v = (o >= 0 ? plane[o] : 0) * gOut
                                        sums.0 += v * s.slopes[t]
                                        sums.1 += v * s.slopes[gridMaxTaps + t]
                                        if k == 3 { sums.2 += v * s.slopes[2 * gridMaxTaps + t] }
                                    }
                                }
                                let point = out + (n * outCount + p) * k
                                point[k - 1] = s.scales[0] * sums.0
                                point[k - 2] = s.scales[1] * sums.1
                                if k == 3 { point[0] = s.scales[2] * sums.2 }
                            }
                        }
                    }
                }
            }
        } } }
    }
}
