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
        return try area(call, x)
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

// MARK: area

/// `area`: adaptive average pooling. Along an axis of input size `s` and output size `O`,
/// output `o` averages the window `[⌊o·s/O⌋, ⌈(o+1)·s/O⌉)`; the window sum runs in row-major
/// order in `T` and is divided by each window extent in turn (`sum / k_D / k_H / k_W`).
/// An all-ones output size is `input.mean(spatial)` instead, as in ATen (`atenSum / count`).
/// A 3-D input is pooled
/// as `input.unsqueeze(-2)` and squeezed back, which is what PyTorch records.
private func area<T: FloatScalar>(_ call: InterpolateCall, _ x: [T]) throws -> Tensor {
    let input = call.input
    let unsqueeze = input.dim == 3
    let prefix = Array(input.shape.prefix(2))
    let grid = InterpolationGrid(planes: prefix.reduce(1, *), inSize: (unsqueeze ? [1] : []) + call.inputSize,
                                 outSize: (unsqueeze ? [1] : []) + call.outputSize)
    let shape = input.shape
    let pooled: Tensor
    if call.areaTakesMean {
        let count = grid.inCount
        let y = (0..<grid.planes).map { p in atenSum(Array(x[p * count ..< (p + 1) * count])) / T(count) }
        pooled = Tensor(shape: prefix + grid.outSize, y).recording("MeanBackward1", inputs: [input]) { g in
            let gy: [T] = g.values()
            return [Tensor(shape: shape, (0..<grid.planes * count).map { gy[$0 / count] / T(count) })]
        }
    } else {
        // ATen saves the input it pooled (for a 3-D input, the unsqueezed view).
        let poolInput = unsqueeze ? try GradMode.noGrad { try input.view(prefix + grid.inSize) } : input
        let saved = SavedTensor(poolInput)
        pooled = Tensor(shape: prefix + grid.outSize, adaptiveAverage(x, grid))
            .recording("AdaptiveAvgPool\(grid.inSize.count)DBackward0", inputs: [input], saving: [saved]) { g in
                _ = try saved.unpack()
                let gy: [T] = g.values()
                return [Tensor(shape: shape, adaptiveAverageBackward(gy, grid))]
            }
    }
    guard unsqueeze else { return pooled }
    let pooledShape = pooled.shape
    return Tensor(shape: call.outputShape, data: pooled.data).recording("SqueezeBackward1", inputs: [pooled]) { g in
        [try g.reshape(pooledShape)]
    }
}

/// Per output position, the input offsets its window covers (row-major) and the window extents.
private func poolingWindows(_ grid: InterpolationGrid) -> [(inputs: [Int], extents: [Int])] {
    interpolationIndices(grid.outSize).map { o in
        let bounds = o.indices.map { d -> Range<Int> in
            let (s, out) = (grid.inSize[d], grid.outSize[d])
            return (o[d] * s / out) ..< (((o[d] + 1) * s + out - 1) / out)
        }
        let inputs = interpolationIndices(bounds.map(\.count)).map { w in
            interpolationOffset(w.indices.map { bounds[$0].lowerBound + w[$0] }, in: grid.inSize)
        }
        return (inputs, bounds.map(\.count))
    }
}

private func adaptiveAverage<T: FloatScalar>(_ x: [T], _ grid: InterpolationGrid) -> [T] {
    let windows = poolingWindows(grid)
    var y: [T] = []
    y.reserveCapacity(grid.planes * grid.outCount)
    for p in 0..<grid.planes {
        for window in windows {
            let sum = window.inputs.reduce(T(0)) { $0 + x[p * grid.inCount + $1] }
            y.append(window.extents.reduce(sum) { $0 / T($1) })
        }
    }
    return y
}

/// ∂L/∂x[i] = Σ over the windows containing i of ∂L/∂y[o] / k_1 / ⋯ / k_n, in output order.
private func adaptiveAverageBackward<T: FloatScalar>(_ g: [T], _ grid: InterpolationGrid) -> [T] {
    let windows = poolingWindows(grid)
    var gx = [T](repeating: 0, count: grid.planes * grid.inCount)
    for p in 0..<grid.planes {
        for (k, window) in windows.enumerated() {
            let share = window.extents.reduce(g[p * grid.outCount + k]) { $0 / T($1) }
            for i in window.inputs { gx[p * grid.inCount + i] += share }
        }
    }
    return gx
}

/// `at::sum` of a contiguous row in ATen's order (`cascade_sum`, SumKernel.cpp). A row of at
/// least one 256-bit vector is summed as `lanes`-wide vectors; the leftover elements and then
/// the vector's lanes are added to a scalar. Shorter rows are summed as scalars.
private func atenSum<T: FloatScalar>(_ x: [T]) -> T {
    let lanes = 32 / MemoryLayout<T>.size
    guard x.count >= lanes else { return rowSum(x.count, width: 1) { [x[$0]] }[0] }
    let vectors = x.count / lanes
    let partial = rowSum(vectors, width: lanes) { Array(x[$0 * lanes ..< ($0 + 1) * lanes]) }
    var total = x[(vectors * lanes)...].reduce(0, +)
    for lane in partial { total += lane }
    return total
}

/// ATen's `row_sum` of `count` items (vectors of `width` elements, added lane by lane): item
/// `i` goes to accumulator `i % 4`, each accumulator a four-level cascade that moves its sum one
/// level up every `2^power` rows (`multi_row_sum`); the last `count % 4` items go to accumulator 0,
/// and the accumulators are added into the first.
private func rowSum<T: FloatScalar>(_ count: Int, width: Int, _ item: (Int) -> [T]) -> [T] {
    let zero = [T](repeating: 0, count: width)
    func add(_ a: [T], _ b: [T]) -> [T] { zip(a, b).map(+) }
    let rows = count / 4, levels = 4
    let ceilLog2 = rows <= 2 ? 1 : Int.bitWidth - (rows - 1).leadingZeroBitCount
    let power = max(4, ceilLog2 / levels), mask = (1 << power) - 1
    var acc = [[[T]]](repeating: [[T]](repeating: zero, count: 4), count: levels)
    var i = 0
    while i + (1 << power) <= rows {
        for _ in 0 ..< 1 << power {
            for k in 0..<4 { acc[0][k] = add(acc[0][k], item(4 * i + k)) }
            i += 1
        }
        for level in 1..<levels {
            for k in 0..<4 {
                acc[level][k] = add(acc[level][k], acc[level - 1][k])
                acc[level - 1][k] = zero
            }
            if i & (mask << (level * power)) != 0 { break }
        }
    }
    for row in i..<rows {
        for k in 0..<4 { acc[0][k] = add(acc[0][k], item(4 * row + k)) }
    }
    for level in 1..<levels {
        for k in 0..<4 { acc[0][k] = add(acc[0][k], acc[level][k]) }
    }
    for j in 4 * rows ..< count { acc[0][0] = add(acc[0][0], item(j)) }
    for k in 1..<4 { acc[0][0] = add(acc[0][0], acc[0][k]) }
    return acc[0][0]
}
