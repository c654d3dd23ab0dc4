import NNCore

// `grid_sample`'s coordinate maths for the optimized kernels: the reference's
// (`NNReference/SamplingCoordinates.swift`, ATen's `GridSampler.h` and `GridSamplerKernel.cpp`),
// same formulas and the same order of operations, so results match it bit for bit, but writing
// each point's stencil into a worker's scratch buffers instead of building arrays.
//
// A point's stencil is the tensor product of per-axis taps (outermost axis first, the innermost
// axis varying fastest): for taps i_d with weights w_d and slopes s_d = dw_d/du_d,
//
//     offset = Σ_d i_d · stride_d        (−1 when any i_d lies outside the input)
//     weight = w_0 · w_1 (· w_2)          slope_d = the same product with s_d in place of w_d
//
// each product taken left to right, as the reference folds it.

/// The most taps one point reads (tricubic: 4³).
let gridMaxTaps = 64

/// One point's taps, in a worker's scratch memory.
struct GridStencil<T: FloatScalar> {
    /// Flat spatial offsets, −1 outside the input.
    let offsets: UnsafeMutablePointer<Int>
    let weights: UnsafeMutablePointer<T>
    /// `slopes[d · gridMaxTaps + t]`: ∂weight_t/∂u_d.
    let slopes: UnsafeMutablePointer<T>
    /// Per axis (outermost first) `du/dg`, the factor of the grid gradient.
    let scales: UnsafeMutablePointer<T>
    // Per axis, up to 4 taps: index (−1 outside), weight, slope.
    let axisIndex: UnsafeMutablePointer<Int>
    let axisWeight: UnsafeMutablePointer<T>
    let axisSlope: UnsafeMutablePointer<T>
    var count = 0

    /// Runs `body` with a stencil in temporary memory.
    @inline(__always)
    static func with<R>(_ body: (inout GridStencil<T>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: gridMaxTaps + 12) { ints in
            withUnsafeTemporaryAllocation(of: T.self, capacity: 4 * gridMaxTaps + 3 + 24) { reals in
                let i = ints.baseAddress!, r = reals.baseAddress!
                var s = GridStencil(offsets: i, weights: r, slopes: r + gridMaxTaps, scales: r + 4 * gridMaxTaps,
                                    axisIndex: i + gridMaxTaps, axisWeight: r + 4 * gridMaxTaps + 3,
                                    axisSlope: r + 4 * gridMaxTaps + 15)
                return body(&s)
            }
        }
    }
}

/// One `grid_sample` call's geometry and coordinate rules, in the element type `T`.
struct GridGeometry<T: FloatScalar> {
    let mode: GridSampleCall.Mode
    /// The spatial axes, outermost first (`[H, W]` or `[D, H, W]`).
    let axes: [SamplingAxis<T>]
    let strides: [Int]
    let batch: Int, channels: Int, inCount: Int, outCount: Int
    /// Whether a tap outside the input adds `0 · w` (ATen's vectorized 2-D gathers and its scalar
    /// cubic) rather than nothing (its scalar trilinear kernel): they differ when w is NaN.
    let weighsOutsideTaps: Bool

    init(_ call: GridSampleCall) {
        let vectorized = call.spatialDims == 2
        mode = call.mode
        axes = call.inputSize.map { SamplingAxis(size: $0, alignCorners: call.alignCorners, padding: call.padding, vectorized: vectorized) }
        strides = contiguousStrides(call.inputSize)
        batch = call.input.shape[0]
        channels = call.input.shape[1]
        inCount = call.inputSize.reduce(1, *)
        outCount = call.outputSize.reduce(1, *)
        weighsOutsideTaps = vectorized || call.mode != .bilinear
    }

    /// Fills `s` with the taps of the point whose grid coordinates (x first) start at `g`;
    /// with `slopes`, also each tap's slopes.
    @inline(__always)
    func stencil(_ g: UnsafePointer<T>, _ s: inout GridStencil<T>, slopes: Bool) {
        let k = axes.count
        var counts = (0, 0, 0), total = 1
        for d in 0..<k {
            let n = axes[d].taps(g[k - 1 - d], mode: mode, s.axisIndex + 4 * d, s.axisWeight + 4 * d, s.axisSlope + 4 * d,
                                 scale: s.scales + d)
            switch d {
            case 0: counts.0 = n
            case 1: counts.1 = n
            default: counts.2 = n
            }
            total *= n
        }
        s.count = total
        let n1 = k > 1 ? counts.1 : 1, n2 = k > 2 ? counts.2 : 1
        for t in 0..<total {
            // The per-axis tap of tap t, innermost fastest.
            let j = (t / (n1 * n2), (t / n2) % n1, t % n2)
            var offset = 0, weight: T = 0
            for d in 0..<k {
                let a = 4 * d + (d == 0 ? j.0 : d == 1 ? j.1 : j.2)
                let i = s.axisIndex[a]
                offset = offset < 0 || i < 0 ? -1 : offset + i * strides[d]
                weight = d == 0 ? s.axisWeight[a] : weight * s.axisWeight[a]
            }
            s.offsets[t] = offset
            s.weights[t] = weight
            guard slopes else { continue }
            for e in 0..<k {
                var slope: T = 0
                for d in 0..<k {
                    let a = 4 * d + (d == 0 ? j.0 : d == 1 ? j.1 : j.2)
                    let f = d == e ? s.axisSlope[a] : s.axisWeight[a]
                    slope = d == 0 ? f : slope * f
                }
                s.slopes[e * gridMaxTaps + t] = slope
            }
        }
    }
}

extension SamplingAxis {
    /// Writes the taps of `mode` for grid coordinate g (index, weight, slope) and `du/dg`;
    /// returns how many (1, 2 or 4).
    @inline(__always)
    func taps(_ g: T, mode: GridSampleCall.Mode, _ index: UnsafeMutablePointer<Int>, _ weight: UnsafeMutablePointer<T>,
              _ slope: UnsafeMutablePointer<T>, scale du: UnsafeMutablePointer<T>) -> Int {
        switch mode {
        case .nearest:
            let u = pad(unnormalize(g)).coordinate
            (index[0], weight[0], slope[0], du[0]) = (self.index(u.rounded(.toNearestOrEven)) ?? -1, 1, 0, 0)
            return 1
        case .bilinear:
            let (u, s) = pad(unnormalize(g))
            let low = u.rounded(.down), t = u - low
            (index[0], weight[0], slope[0]) = (self.index(low) ?? -1, 1 - t, -1)
            (index[1], weight[1], slope[1]) = (self.index(low + 1) ?? -1, t, 1)
            du[0] = scale * s
            return 2
        case .bicubic:
            let u = unnormalize(g)
            let low = u.rounded(.down), t = u - low
            for j in 0..<4 { index[j] = self.index(pad(low + T(j - 1)).coordinate) ?? -1 }
            gridCubicWeights(t, weight)
            gridCubicSlopes(t, slope)
            du[0] = scale
            return 4
        }
    }
}

/// Keys' cubic convolution weights (A = −0.75) at the distances `1 + t, t, 1 − t, 2 − t` of the
/// taps ⌊u⌋ − 1 … ⌊u⌋ + 2, in ATen's grid-sampler form (`get_cubic_coefficients`):
///
///     W(x) = ((A + 2)·x − (A + 3))·x·x + 1      for |x| ≤ 1
///     W(x) = ((A·x − 5A)·x + 8A)·x − 4A         for 1 < |x| < 2
@inline(__always)
func gridCubicWeights<T: FloatScalar>(_ t: T, _ w: UnsafeMutablePointer<T>) {
    let a: T = -0.75
    func near(_ x: T) -> T { ((a + 2) * x - (a + 3)) * x * x + 1 }
    func far(_ x: T) -> T { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    (w[0], w[1], w[2], w[3]) = (far(t + 1), near(t), near(1 - t), far(2 - t))
}

/// dW/dt of each weight above, evaluated as ATen's `get_cubic_coefficients_grad` (which returns −dW/dt).
@inline(__always)
func gridCubicSlopes<T: FloatScalar>(_ t: T, _ s: UnsafeMutablePointer<T>) {
    let a: T = -0.75
    var x = -1 - t
    let g0 = (-3 * a * x - 10 * a) * x - 8 * a
    x = -t
    let g1 = (-3 * (a + 2) * x - 2 * (a + 3)) * x
    x = 1 - t
    let g2 = (3 * (a + 2) * x - 2 * (a + 3)) * x
    x = 2 - t
    let g3 = (3 * a * x - 10 * a) * x + 8 * a
    (s[0], s[1], s[2], s[3]) = (-g0, -g1, -g2, -g3)
}
