import NNCore

// `linear`, `bilinear`, `trilinear` and `bicubic`: separable weighted sums over taps per axis.
//
// Along an axis of input size `s`, output index `o` has the source coordinate
//
//     r = scale · o                        align_corners=True
//     r = scale · (o + 0.5) − 0.5          align_corners=False (linear modes clamp r at 0)
//
// with `i = min(floor(r), s − 1)` and `t = clamp(r − i, 0, 1)`, and these taps:
//
// - linear: `x[i]` with weight `1 − t` and `x[min(i + 1, s − 1)]` with weight `t`
//   (when `o_size = s`, ATen takes `i = o`, weights 1 and 0);
// - cubic: `x[clamp(i − 1 + j, 0, s − 1)]`, j = 0…3, with Keys' kernel (A = −0.75) at the
//   distances `1 + t, t, 1 − t, 2 − t` (see `cubicCoefficients`).
//
// The k-dimensional output is the tensor product: `y[o] = Σ_{taps} (Π_d w_d) · x[i_1 … i_k]`,
// and the vector-Jacobian product sends `(Π_d w_d) · ∂L/∂y[o]` back to each tap.
//
// Rounding follows ATen's CPU build (GCC), which contracts `a·b + c` into fused multiply-adds:
// `contractedDot` gives the forward sums; `r` is fused (`fma(scale, o + 0.5, −0.5)`) in the
// linear backward, the channels-last kernels (but for the trilinear width axis in float32),
// cubic forward, and the generic linear forward in float64 but not in float32; the bicubic
// backward is built without FMA and fuses nothing. (Found by comparing with PyTorch 2.15's
// x86-64 wheel bit for bit; another build may round differently in the last place.)

/// ATen's forward for `linear`, `bilinear`, `trilinear`.
func linearForward<T: FloatScalar>(_ call: InterpolateCall, _ x: [T], _ grid: InterpolationGrid) -> [T] {
    if call.usesChannelsLastKernel {
        let taps = call.inputSize.indices.map { d in
            linearTaps(call, axis: d, fused: fusedChannelsLastCoordinate(call, axis: d, as: T.self), as: T.self)
        }
        return channelsLastForward(x, grid, channels: call.input.shape[1], taps: taps)
    }
    let taps = call.inputSize.indices.map { linearTaps(call, axis: $0, fused: T.self == Double.self, as: T.self) }
    return separableForward(x, grid, taps: taps)
}

/// ∂L/∂x[taps of o] += (Π_d w_d) · ∂L/∂y[o], over outputs in row-major order, taps in order
/// (outer axis slowest), each as `fma(Π_d w_d, ∂L/∂y[o], acc)`. ATen takes its channels-last
/// trilinear backward when the output gradient is channels-last contiguous (C = 1 or a single
/// output position).
func linearBackward<T: FloatScalar>(_ call: InterpolateCall, _ g: [T], _ grid: InterpolationGrid) -> [T] {
    let channelsLast = call.mode == .trilinear && (call.input.shape[1] == 1 || grid.outCount == 1)
    let taps = call.inputSize.indices.map { d in
        linearTaps(call, axis: d, fused: !channelsLast || fusedChannelsLastCoordinate(call, axis: d, as: T.self), as: T.self)
    }
    let corners = interpolationIndices(grid.outSize).map { tapProducts(taps, at: $0, inSize: grid.inSize) }
    var gx = [T](repeating: 0, count: grid.planes * grid.inCount)
    for p in 0..<grid.planes {
        for (k, (offsets, weights)) in corners.enumerated() {
            let gy = g[p * grid.outCount + k]
            for (offset, w) in zip(offsets, weights) {
                let i = p * grid.inCount + offset
                gx[i] = gx[i].addingProduct(w, gy)
            }
        }
    }
    return gx
}

/// ATen's forward for `bicubic` (the generic kernel with four taps per axis).
func cubicForward<T: FloatScalar>(_ call: InterpolateCall, _ x: [T], _ grid: InterpolationGrid) -> [T] {
    let taps = call.inputSize.indices.map { cubicTaps(call, axis: $0, fused: true, as: T.self) }
    return separableForward(x, grid, taps: taps)
}

/// ∂L/∂x[y_j, x_i] += (∂L/∂y · w_y[j]) · w_x[i] for i (columns) outer, j (rows) inner; when the
/// size does not change, ATen copies the gradient.
func cubicBackward<T: FloatScalar>(_ call: InterpolateCall, _ g: [T], _ grid: InterpolationGrid) -> [T] {
    if grid.inSize == grid.outSize { return g }
    let rows = cubicTaps(call, axis: 0, fused: false, as: T.self)
    let columns = cubicTaps(call, axis: 1, fused: false, as: T.self)
    let (width, outWidth) = (grid.inSize[1], grid.outSize[1])
    var gx = [T](repeating: 0, count: grid.planes * grid.inCount)
    for p in 0..<grid.planes {
        for (oy, row) in rows.enumerated() {
            for (ox, column) in columns.enumerated() {
                let gy = g[p * grid.outCount + oy * outWidth + ox]
                for i in 0..<4 {
                    for j in 0..<4 {
                        let offset = p * grid.inCount + row.index[j] * width + column.index[i]
                        gx[offset] += gy * row.weight[j] * column.weight[i]
                    }
                }
            }
        }
    }
    return gx
}

// MARK: taps

/// The input indices one output index reads along one axis, and their weights.
private struct Taps<T> {
    var index: [Int]
    var weight: [T]
}

/// ATen's `area_pixel_compute_scale`.
private func pixelScale<T: FloatScalar>(_ call: InterpolateCall, axis d: Int) -> T {
    let (s, out) = (call.inputSize[d], call.outputSize[d])
    if call.alignCorners { return out > 1 ? T(s - 1) / T(out - 1) : 0 }
    return interpolationScale(s, out, call.scales[d])
}

/// ATen's `area_pixel_compute_source_index`: `r` for output index `o` (see the file comment).
private func sourceCoordinate<T: FloatScalar>(_ scale: T, _ o: Int, alignCorners: Bool, cubic: Bool, fused: Bool) -> T {
    if alignCorners { return scale * T(o) }
    let r = fused ? T(-0.5).addingProduct(scale, T(o) + 0.5) : scale * (T(o) + 0.5) - 0.5
    return !cubic && r < 0 ? 0 : r
}

/// Whether ATen's channels-last linear kernels fuse axis `d`'s coordinate: all but the width
/// axis of the trilinear kernels in float32.
private func fusedChannelsLastCoordinate<T: FloatScalar>(_ call: InterpolateCall, axis d: Int, as _: T.Type) -> Bool {
    !(call.mode == .trilinear && d == 2 && T.self == Float.self)
}

/// ATen's `compute_source_index_and_lambda`: two taps per output index.
private func linearTaps<T: FloatScalar>(_ call: InterpolateCall, axis d: Int, fused: Bool, as _: T.Type) -> [Taps<T>] {
    let (s, out) = (call.inputSize[d], call.outputSize[d])
    let scale: T = pixelScale(call, axis: d)
    return (0..<out).map { o in
        if s == out { return Taps(index: [o, o], weight: [1, 0]) }
        let r = sourceCoordinate(scale, o, alignCorners: call.alignCorners, cubic: false, fused: fused)
        let i = min(floorfIndex(r), s - 1)
        let t = min(max(r - T(i), 0), 1)
        return Taps(index: [i, i < s - 1 ? i + 1 : i], weight: [1 - t, t])
    }
}

/// Four taps per output index (ATen's `HelperInterpCubic`); indices are clamped to the input.
private func cubicTaps<T: FloatScalar>(_ call: InterpolateCall, axis d: Int, fused: Bool, as _: T.Type) -> [Taps<T>] {
    let s = call.inputSize[d]
    let scale: T = pixelScale(call, axis: d)
    return (0..<call.outputSize[d]).map { o in
        let r = sourceCoordinate(scale, o, alignCorners: call.alignCorners, cubic: true, fused: fused)
        let i = min(floorfIndex(r), s - 1)
        let t = min(max(r - T(i), 0), 1)
        return Taps(index: (0..<4).map { min(max(i - 1 + $0, 0), s - 1) }, weight: cubicCoefficients(t, fused: fused))
    }
}

/// Keys' cubic convolution kernel with A = −0.75 at the distances `1 + t, t, 1 − t, 2 − t`:
///
///     W(x) = ((A + 2)·x − (A + 3))·x·x + 1      for |x| ≤ 1
///     W(x) = ((A·x − 5A)·x + 8A)·x − 4A         for 1 < |x| < 2
///
/// `fused` rounds as the forward kernel does (its inner multiply-adds contracted).
private func cubicCoefficients<T: FloatScalar>(_ t: T, fused: Bool) -> [T] {
    let a: T = -0.75
    func near(_ x: T) -> T {
        fused ? (-(a + 3)).addingProduct(a + 2, x) * x * x + 1 : ((a + 2) * x - (a + 3)) * x * x + 1
    }
    func far(_ x: T) -> T {
        fused ? (8 * a).addingProduct((-5 * a).addingProduct(a, x), x) * x - 4 * a
              : ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    }
    return [far(t + 1), near(t), near(1 - t), far((1 - t) + 1)]
}

// MARK: sums

/// `Σ_k v_k · w_k` rounded as GCC compiles ATen's `v0*w0 + v1*w1 + …`:
/// `fma(v0, w0, v1·w1)`, then `fma(v_k, w_k, ·)` for k ≥ 2.
private func contractedDot<T: FloatScalar>(_ v: [T], _ w: [T]) -> T {
    var sum = (v[1] * w[1]).addingProduct(v[0], w[0])
    for k in 2..<v.count { sum = sum.addingProduct(v[k], w[k]) }
    return sum
}

/// ATen's generic N-d kernel: interpolates the innermost axis first, and each outer axis over
/// the results of the next (`Interpolate<n>`), every level a `contractedDot`.
private func separableForward<T: FloatScalar>(_ x: [T], _ grid: InterpolationGrid, taps: [[Taps<T>]]) -> [T] {
    let strides = contiguousStrides(grid.inSize)
    func value(_ o: [Int], axis d: Int, offset: Int) -> T {
        let tap = taps[d][o[d]]
        let parts = tap.index.map { i in
            d == o.count - 1 ? x[offset + i] : value(o, axis: d + 1, offset: offset + i * strides[d])
        }
        return contractedDot(parts, tap.weight)
    }
    let positions = interpolationIndices(grid.outSize)
    var y: [T] = []
    y.reserveCapacity(grid.planes * grid.outCount)
    for p in 0..<grid.planes {
        for o in positions { y.append(value(o, axis: 0, offset: p * grid.inCount)) }
    }
    return y
}

/// ATen's channels-last kernel: one sum over the 2^k corners with weights `Π_d w_d`. It works on
/// 256-bit vectors of channels: the channels that fill whole vectors sum the corners in reverse
/// order, the remaining channels in order.
private func channelsLastForward<T: FloatScalar>(_ x: [T], _ grid: InterpolationGrid, channels: Int, taps: [[Taps<T>]]) -> [T] {
    let lanes = 32 / MemoryLayout<T>.size
    let vectorized = channels - channels % lanes
    let corners = interpolationIndices(grid.outSize).map { tapProducts(taps, at: $0, inSize: grid.inSize) }
    var y: [T] = []
    y.reserveCapacity(grid.planes * grid.outCount)
    for p in 0..<grid.planes {
        for (offsets, weights) in corners {
            let v = offsets.map { x[p * grid.inCount + $0] }
            y.append(p % channels < vectorized ? contractedDot(v.reversed(), weights.reversed()) : contractedDot(v, weights))
        }
    }
    return y
}

/// The input offsets of all tap combinations at output position `o` (outer axis slowest) and
/// their weights `w_1 · w_2 · …` multiplied left to right.
private func tapProducts<T: FloatScalar>(_ taps: [[Taps<T>]], at o: [Int], inSize: [Int]) -> (offsets: [Int], weights: [T]) {
    var offsets = [0], weights: [T] = [1]
    let strides = contiguousStrides(inSize)
    for (d, axisTaps) in taps.enumerated() {
        let tap = axisTaps[o[d]]
        offsets = offsets.flatMap { base in tap.index.map { base + $0 * strides[d] } }
        weights = weights.flatMap { product in tap.weight.map { product * $0 } }
    }
    return (offsets, weights)
}

// MARK: antialias

/// `antialias=True` for `bilinear` and `bicubic` (PIL's resampling), one axis at a time: width
/// first, then height, skipping an axis whose size does not change. With the axis scale `r`
/// (above) and `s = max(r, 1)`, output `o` has the centre `c = r·(o + 0.5)` and reads the inputs
/// `i` from `⌊c − support + 0.5⌋` to `⌊c + support + 0.5⌋` (clipped to the input) with weights
/// `f((i − c + 0.5) / s)` divided by their sum, where `support = s` and `f(x) = max(1 − |x|, 0)`
/// for bilinear, `support = 2s` and `f` Keys' kernel with A = −0.5 for bicubic.
func antialiasForward<T: FloatScalar>(_ call: InterpolateCall, _ x: [T], _ grid: InterpolationGrid) -> [T] {
    let (height, width) = (grid.inSize[0], grid.inSize[1])
    let (outHeight, outWidth) = (grid.outSize[0], grid.outSize[1])
    var image = x, columns = width
    if outWidth != width {
        let taps = antialiasTaps(call, axis: 1, as: T.self), rows = image
        image = (0 ..< grid.planes * height).flatMap { row in
            taps.map { tap in loopDot(tap.index.map { rows[row * width + $0] }, tap.weight) }
        }
        columns = outWidth
    }
    guard outHeight != height else { return image }
    let taps = antialiasTaps(call, axis: 0, as: T.self)
    var y: [T] = []
    y.reserveCapacity(grid.planes * grid.outCount)
    for p in 0..<grid.planes {
        for tap in taps {
            // PyTorch 2.15 reuses the first output row's taps for every row when the output
            // width is 1 (its vertical loop then runs along the height with the taps' stride 0).
            let tap = columns == 1 ? taps[0] : tap
            for c in 0..<columns {
                y.append(loopDot(tap.index.map { image[(p * height + $0) * columns + c] }, tap.weight))
            }
        }
    }
    return y
}

/// ∂L/∂x[i, j] += (w_x · w_y) · ∂L/∂y[o] over the taps of every output, as `fma`.
func antialiasBackward<T: FloatScalar>(_ call: InterpolateCall, _ g: [T], _ grid: InterpolationGrid) -> [T] {
    let rows = antialiasTaps(call, axis: 0, as: T.self), columns = antialiasTaps(call, axis: 1, as: T.self)
    let width = grid.inSize[1]
    var gx = [T](repeating: 0, count: grid.planes * grid.inCount)
    for p in 0..<grid.planes {
        for (oy, row) in rows.enumerated() {
            for (ox, column) in columns.enumerated() {
                let gy = g[p * grid.outCount + oy * columns.count + ox]
                for (i, wy) in zip(row.index, row.weight) {
                    for (j, wx) in zip(column.index, column.weight) {
                        let offset = p * grid.inCount + i * width + j
                        gx[offset] = gx[offset].addingProduct(wx * wy, gy)
                    }
                }
            }
        }
    }
    return gx
}

/// ATen's `_compute_indices_min_size_weights_aa`, in its mix of `T` and C++ double arithmetic.
private func antialiasTaps<T: FloatScalar>(_ call: InterpolateCall, axis d: Int, as _: T.Type) -> [Taps<T>] {
    let (s, out) = (call.inputSize[d], call.outputSize[d])
    let halfWidth = call.mode == .bicubic ? 2.0 : 1.0
    let scale: T = pixelScale(call, axis: d)
    let support = scale >= 1 ? T(halfWidth * Double(scale)) : T(halfWidth)
    let invScale = scale >= 1 ? T(1 / Double(scale)) : 1
    let maxCount = Int(Double(support).rounded(.up)) * 2 + 1
    return (0..<out).map { o in
        let centre = T(Double(scale) * (Double(o) + 0.5))
        let first = max(Int(Double(centre - support) + 0.5), 0)
        let count = min(max(min(Int(Double(centre + support) + 0.5), s) - first, 0), maxCount)
        var weights = (0..<count).map { j in
            antialiasFilter(T((Double(T(first + j) - centre) + 0.5) * Double(invScale)), cubic: call.mode == .bicubic)
        }
        let total = weights.reduce(0, +)
        if total != 0 { weights = weights.map { $0 / total } }
        return Taps(index: Array(first ..< first + count), weight: weights)
    }
}

/// The triangle `max(1 − |x|, 0)`, or Keys' cubic kernel with A = −0.5 (as `cubicCoefficients`,
/// with every multiply-add fused).
private func antialiasFilter<T: FloatScalar>(_ x: T, cubic: Bool) -> T {
    let x = abs(x)
    guard cubic else { return x < 1 ? 1 - x : 0 }
    let a: T = -0.5
    if x < 1 { return T(1).addingProduct((-(a + 3)).addingProduct(a + 2, x) * x, x) }
    if x < 2 { return (-4 * a).addingProduct((8 * a).addingProduct((-5 * a).addingProduct(a, x), x), x) }
    return 0
}

/// `Σ v_j·w_j` as GCC compiled ATen's loop `out = v_0·w_0; out += v_j·w_j`: it vectorized the
/// loop as an in-order reduction over 256-bit vectors, then one 128-bit vector, of products
/// (each rounded, then added in order); the last terms are fused, `fma(v_j, w_j, out)`.
private func loopDot<T: FloatScalar>(_ v: [T], _ w: [T]) -> T {
    guard !v.isEmpty else { return 0 }
    let lanes = 32 / MemoryLayout<T>.size
    var sum = v[0] * w[0], j = 1
    func addProducts(_ count: Int) {
        for k in j ..< j + count { sum += v[k] * w[k] }
        j += count
    }
    while v.count - j >= lanes { addProducts(lanes) }
    if v.count - j >= lanes / 2 { addProducts(lanes / 2) }
    while j < v.count {
        sum = sum.addingProduct(v[j], w[j])
        j += 1
    }
    return sum
}
