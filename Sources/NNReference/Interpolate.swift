import NNCore

/// `F.interpolate`: resamples the spatial dimensions of `[N, C, s_1 ... s_k]` to `[N, C, o_1 ... o_k]`.
///
/// Arguments, output size and errors come from `InterpolateCall` (NNCore). Every mode maps an
/// output index `o` of a spatial axis to input coordinates with the axis scale
///
///     scale = 1 / scale_factor   when the kernel received a (positive) scale factor
///     scale = s / o_size         otherwise
///     scale = (s − 1) / (o_size − 1)   for linear and cubic modes with align_corners=True
///
/// - `nearest` takes `x[floor(o · scale)]` (OpenCV's INTER_NEAREST),
/// - `nearest-exact` takes `x[floor((o + 0.5) · scale)]` (PIL, scikit-image),
/// - `linear`, `bilinear`, `trilinear` and `bicubic` are separable weighted sums over taps per
///   axis, and `antialias=True` widens bilinear and bicubic filters when downsampling (see
///   `InterpolateLinear.swift`),
/// - `area` is adaptive average pooling: output `o` averages input `[⌊o·s/O⌋, ⌈(o+1)·s/O⌉)`.
///
/// The maths is ATen's, in ATen's precision (`Float` for float32): scales and coordinates are
/// computed in the element type, except that nearest modes' backward and channels-last kernel use
/// a `Float` scale, and indices are floored through `Float` (C's `floorf`).
extension Reference {
    static let interpolateOps: [String: OpFunction] = [
        "interpolate": { try interpolate(InterpolateCall($0)) },
    ]
}

private func interpolate(_ call: InterpolateCall) throws -> Value {
    if call.mode == .lanczos { throw Unsupported("mode='lanczos'") }
    switch call.input.dtype {
    case .float32: return .tensor(try interpolate(call, as: Float.self))
    case .float64: return .tensor(try interpolate(call, as: Double.self))
    default:
        // Only an integer `area` call with an empty output gets here: PyTorch runs no kernel.
        return .tensor(Tensor.zeros(call.outputShape, dtype: call.input.dtype))
    }
}

/// The forward in `T`, recording PyTorch's backward node on the output.
private func interpolate<T: FloatScalar>(_ call: InterpolateCall, as _: T.Type) throws -> Tensor {
    let input = call.input
    let x: [T] = input.values()
    let grid = InterpolationGrid(planes: input.shape[0] * input.shape[1], inSize: call.inputSize, outSize: call.outputSize)
    let y: [T]
    let vjp: ([T]) -> [T]
    switch call.mode {
    case .area:
        return try adaptiveAveragePool(input, outputSize: call.outputSize)
    case .bilinear where call.antialias, .bicubic where call.antialias:
        y = antialiasForward(call, x, grid)
        vjp = { g in antialiasBackward(call, g, grid) }
    case .nearest, .nearestExact:
        y = nearest(x, grid, sources: nearestSources(call, T.self))
        let backwardSources = nearestSources(call, Float.self, indexFunction: true)
        vjp = { g in nearestBackward(g, grid, sources: backwardSources) }
    case .linear, .bilinear, .trilinear:
        y = linearForward(call, x, grid)
        vjp = { g in linearBackward(call, g, grid) }
    case .bicubic:
        y = cubicForward(call, x, grid)
        vjp = { g in cubicBackward(call, g, grid) }
    case .lanczos:
        preconditionFailure("rejected before dispatch")
    }
    let shape = input.shape
    return Tensor(shape: call.outputShape, y).recording(call.gradFnName, inputs: [input]) { g in
        [Tensor(shape: shape, vjp(g.values()))]
    }
}

/// Spatial geometry: `planes = N·C` independent images of `inSize`, resampled to `outSize`.
struct InterpolationGrid {
    let planes: Int
    let inSize: [Int]
    let outSize: [Int]
    var inCount: Int { inSize.reduce(1, *) }
    var outCount: Int { outSize.reduce(1, *) }
}

/// Every index of an array of `shape`, in row-major order.
func interpolationIndices(_ shape: [Int]) -> [[Int]] {
    var all: [[Int]] = [[]]
    for size in shape {
        all = all.flatMap { prefix in (0..<size).map { prefix + [$0] } }
    }
    return all
}

/// The flat position of `index` in a row-major array of `shape`.
func interpolationOffset(_ index: [Int], in shape: [Int]) -> Int {
    zip(index, contiguousStrides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
}

/// ATen's `compute_scales_value`: `1 / scale` for a given positive scale factor, else `in / out`.
func interpolationScale<T: FloatScalar>(_ inSize: Int, _ outSize: Int, _ scale: Double?) -> T {
    if let scale, scale > 0 { return T(1.0 / scale) }
    return T(inSize) / T(outSize)
}

/// C's `floorf`: the coordinate is rounded to `Float` before flooring (for float64 too).
func floorfIndex<T: FloatScalar>(_ v: T) -> Int { Int(Float(v).rounded(.down)) }

// MARK: nearest, nearest-exact

/// For each spatial axis, the source index of every output index, as ATen computes it:
///
///     nearest:        i = min(floor(o · scale), s − 1)
///     nearest-exact:  i = min(floor((o + 0.5) · scale), s − 1)
///
/// The generic forward kernel computes `o · scale` (and `(o + 0.5)·scale − 0.5`, clamped at 0,
/// plus 0.5) in `T`. The channels-last forward kernel and the backward (`indexFunction`, with
/// `T = Float`) use ATen's `nearest_idx`: a `Float` scale and, for nearest, the shortcuts
/// `i = o` when `o_size = s` and `i = o / 2` when `o_size = 2s`.
private func nearestSources<T: FloatScalar>(_ call: InterpolateCall, _: T.Type, indexFunction: Bool = false) -> [[Int]] {
    let exact = call.mode == .nearestExact
    let useIndexFunction = indexFunction || call.usesChannelsLastKernel
    return call.inputSize.indices.map { d in
        let (s, out) = (call.inputSize[d], call.outputSize[d])
        if useIndexFunction {
            let scale: Float = interpolationScale(s, out, call.scales[d])
            return (0..<out).map { o in
                if !exact && out == s { return o }
                if !exact && out == 2 * s { return o >> 1 }
                let position = exact ? Float((Double(o) + 0.5) * Double(scale)) : Float(o) * scale
                return min(floorfIndex(position), s - 1)
            }
        }
        let scale: T = interpolationScale(s, out, call.scales[d])
        return (0..<out).map { o in
            guard exact else { return min(floorfIndex(scale * T(o)), s - 1) }
            let coordinate = max(scale * (T(o) + 0.5) - 0.5, 0)
            return min(floorfIndex(Double(coordinate) + 0.5), s - 1)
        }
    }
}

/// The flat input offset each output position reads, from the per-axis source indices.
private func nearestOffsets(_ grid: InterpolationGrid, _ sources: [[Int]]) -> [Int] {
    interpolationIndices(grid.outSize).map { o in
        interpolationOffset(o.indices.map { sources[$0][o[$0]] }, in: grid.inSize)
    }
}

/// y[p, o] = x[p, i(o)].
private func nearest<T: FloatScalar>(_ x: [T], _ grid: InterpolationGrid, sources: [[Int]]) -> [T] {
    let offsets = nearestOffsets(grid, sources)
    var y: [T] = []
    y.reserveCapacity(grid.planes * grid.outCount)
    for p in 0..<grid.planes {
        for offset in offsets { y.append(x[p * grid.inCount + offset]) }
    }
    return y
}

/// ∂L/∂x[p, i] = Σ_{o : i(o) = i} ∂L/∂y[p, o], summed in output order.
private func nearestBackward<T: FloatScalar>(_ g: [T], _ grid: InterpolationGrid, sources: [[Int]]) -> [T] {
    let offsets = nearestOffsets(grid, sources)
    var gx = [T](repeating: 0, count: grid.planes * grid.inCount)
    for p in 0..<grid.planes {
        for (k, offset) in offsets.enumerated() { gx[p * grid.inCount + offset] += g[p * grid.outCount + k] }
    }
    return gx
}
