import NNCore

// `grid_sample`'s coordinate maths: normalized grid coordinates to pixel coordinates, padding,
// and each mode's taps (see `Sampling.swift` for the formulas).
//
// ATen runs a 4-D input through its vectorized 2-D kernel (`GridSamplerKernel.cpp`) and a 5-D
// input through the scalar 3-D kernel (`GridSampler.cpp` with the helpers of `GridSampler.h`).
// They agree in exact arithmetic and differ in three details modelled here: the order of the
// unnormalizing operations, where `border` and `reflection` put a NaN coordinate (the vector
// clamp sends it to 0, the scalar `std::min(s − 1, std::max(u, 0))` to `s − 1`), and whether
// taps outside the input are multiplied as zeros (which shows only with NaN weights).

/// One `grid_sample` call's geometry and coordinate rules, in the element type `T`.
struct GridSampler<T: FloatScalar> {
    let mode: GridSampleCall.Mode
    /// The spatial axes, outermost first (`[H, W]` or `[D, H, W]`).
    let axes: [SamplingAxis<T>]
    let batch: Int
    let channels: Int
    let inCount: Int
    let outCount: Int
    let strides: [Int]
    /// Whether a tap outside the input adds `0 · w` (ATen's vectorized gathers, and its scalar
    /// cubic), rather than nothing (its scalar trilinear kernel): they differ when `w` is NaN.
    let weighsOutsideTaps: Bool

    init(_ call: GridSampleCall) {
        let vectorized = call.spatialDims == 2
        mode = call.mode
        axes = call.inputSize.map {
            SamplingAxis(size: $0, alignCorners: call.alignCorners, padding: call.padding, vectorized: vectorized)
        }
        batch = call.input.shape[0]
        channels = call.input.shape[1]
        inCount = call.inputSize.reduce(1, *)
        outCount = call.outputSize.reduce(1, *)
        strides = contiguousStrides(call.inputSize)
        weighsOutsideTaps = vectorized || call.mode != .bilinear
    }

    /// The taps of output point `p` of batch `n`, and per axis `du/dg`, the factor of its grid
    /// gradient.
    func stencil(_ grid: [T], n: Int, point p: Int) -> (taps: [Tap<T>], scales: [T]) {
        let k = axes.count
        var taps = [Tap<T>(offset: 0, weight: 1, slopes: [])]
        var scales: [T] = []
        for (d, axis) in axes.enumerated() {
            // The grid holds x (the innermost axis) first.
            let (along, scale) = axis.taps(grid[(n * outCount + p) * k + (k - 1 - d)], mode: mode)
            taps = taps.flatMap { tap in
                along.map { a in
                    Tap(offset: tap.offset.flatMap { o in a.index.map { o + $0 * strides[d] } },
                        weight: tap.weight * a.weight,
                        slopes: tap.slopes.map { $0 * a.weight } + [tap.weight * a.slope])
                }
            }
            scales.append(scale)
        }
        return (taps, scales)
    }
}

/// One input element a point reads: its flat spatial offset (nil outside the input, where it
/// reads 0), its weight `Π_d w_d`, and per axis `∂w/∂u_d = w'_d · Π_{e≠d} w_e`.
struct Tap<T> {
    var offset: Int?
    var weight: T
    var slopes: [T]
}

/// One pixel an axis contributes: its index (nil outside), weight, and `dw/du`.
struct AxisTap<T> {
    var index: Int?
    var weight: T
    var slope: T
}

extension SamplingAxis {
    /// The taps of `mode` for grid coordinate `g`, and `du/dg` for the grid gradient.
    func taps(_ g: T, mode: GridSampleCall.Mode) -> ([AxisTap<T>], T) {
        switch mode {
        case .nearest:
            let u = pad(unnormalize(g)).coordinate
            return ([AxisTap(index: index(u.rounded(.toNearestOrEven)), weight: 1, slope: 0)], 0)
        case .bilinear:
            let (u, slope) = pad(unnormalize(g))
            let low = u.rounded(.down), t = u - low
            return ([AxisTap(index: index(low), weight: 1 - t, slope: -1),
                     AxisTap(index: index(low + 1), weight: t, slope: 1)], scale * slope)
        case .bicubic:
            let u = unnormalize(g)
            let low = u.rounded(.down), t = u - low
            let (weights, slopes) = (cubicWeights(t), cubicSlopes(t))
            return ((0..<4).map { j in
                AxisTap(index: index(pad(low + T(j - 1)).coordinate), weight: weights[j], slope: slopes[j])
            }, scale)
        }
    }
}

// MARK: cubic convolution

/// Keys' cubic convolution kernel with A = −0.75 at the distances `1 + t, t, 1 − t, 2 − t` of
/// the taps ⌊u⌋ − 1 … ⌊u⌋ + 2 (ATen's `get_cubic_coefficients` of the grid sampler):
///
///     W(x) = ((A + 2)·x − (A + 3))·x·x + 1      for |x| ≤ 1
///     W(x) = ((A·x − 5A)·x + 8A)·x − 4A         for 1 < |x| < 2
private func cubicWeights<T: FloatScalar>(_ t: T) -> [T] {
    let a: T = -0.75
    func near(_ x: T) -> T { ((a + 2) * x - (a + 3)) * x * x + 1 }
    func far(_ x: T) -> T { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]
}

/// `dW/dt` of each weight above: `W'(x) = 3(A + 2)x² − 2(A + 3)x` near, `3Ax² − 10Ax + 8A` far,
/// times `dx/dt = ±1`, evaluated as ATen's `get_cubic_coefficients_grad` (which returns −dW/dt).
private func cubicSlopes<T: FloatScalar>(_ t: T) -> [T] {
    let a: T = -0.75
    var x = -1 - t
    let g0 = (-3 * a * x - 10 * a) * x - 8 * a
    x = -t
    let g1 = (-3 * (a + 2) * x - 2 * (a + 3)) * x
    x = 1 - t
    let g2 = (3 * (a + 2) * x - 2 * (a + 3)) * x
    x = 2 - t
    let g3 = (3 * a * x - 10 * a) * x + 8 * a
    return [-g0, -g1, -g2, -g3]
}
