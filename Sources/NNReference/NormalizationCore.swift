import NNCore

/// The core that batch, instance, group and layer norm share.
///
/// Each views its input as [outer, channels, inner] and normalizes element (o, c, i) with the
/// mean μ and inverse deviation r = 1/√(var + eps) of the group of elements it belongs to, then
/// scales and shifts it by channel c's weight and bias:
///
///     y = (x − μ)·r·w_c + b_c
///
/// | op            | view                    | one group per                            |
/// |---------------|-------------------------|------------------------------------------|
/// | batch norm    | [N, C, spatial]         | channel c, over every (o, i)             |
/// | instance norm | [N, C, spatial]         | (o, c), over i                           |
/// | group norm    | [N, C, spatial]         | (o, g), over the C/G channels of g and i |
/// | layer norm    | [rows, normalized, 1]   | row o, over all of it                    |
struct NormLayout {
    let outer: Int
    let channels: Int
    let inner: Int
    /// Groups of consecutive channels per sample; nil for batch norm's one group per channel
    /// across the samples.
    let groupsPerSample: Int?

    var groupCount: Int { groupsPerSample.map { outer * $0 } ?? channels }

    /// The number of elements n each mean and variance is taken over.
    var groupSize: Int { outer * channels * inner / max(groupCount, 1) }

    func group(_ o: Int, _ c: Int) -> Int {
        guard let g = groupsPerSample else { return c }
        return o * g + c / (channels / g)
    }

    /// Calls `body(k, group, channel)` for every element, k being its row-major index.
    func forEachElement(_ body: (_ k: Int, _ group: Int, _ channel: Int) -> Void) {
        var k = 0
        for o in 0..<outer {
            for c in 0..<channels {
                let s = group(o, c)
                for _ in 0..<inner {
                    body(k, s, c)
                    k += 1
                }
            }
        }
    }
}

/// The μ and r of each group, and whether they were computed from the input (so the backward
/// differentiates through them) or are given constants (running statistics).
struct GroupStatistics<T: FloatScalar> {
    var mean: [T]
    var invstd: [T]
    let fromInput: Bool
}

/// How the forward rounds (each a few ULP from the other; ATen's choice per kernel, measured
/// bit for bit against torch on float32):
enum NormRounding {
    /// y = x·α + β with α = r·w and β = b − μ·α, both fused multiply-adds: batch and instance
    /// norm, and group norm with a weight or bias.
    case folded
    /// x̂ = (x − μ)·r rounded, then y = x̂·w + b fused: layer norm, and group norm without
    /// weight and bias.
    case centered
}

extension Reference {
    /// The statistics of each group of the input, as ATen's batch-norm kernel computes them:
    /// μ = Σx/n accumulated in Double (its `acc_type` for float) and rounded to T, then
    /// S = Σ(x − μ)² with each square in T and the sum in Double, rounded to T; the biased
    /// variance is S/n (in T) and r = 1/√(S/n + eps) (in Double, rounded to T). Returns S too,
    /// for the unbiased variance S/(n − 1) of the running statistics.
    ///
    /// That is bit for bit ATen's batch and instance norm of float32 with more than one element
    /// per channel and sample. Its layer and group norm (and batch norm of [N, C] inputs) instead
    /// accumulate in float, Welford's way across SIMD lanes whose number depends on the CPU; those
    /// agree with these statistics to a few ULP.
    static func inputStatistics<T: FloatScalar>(_ x: [T], _ layout: NormLayout, eps: Double) -> (GroupStatistics<T>, squareSums: [T]) {
        var sums = [Double](repeating: 0, count: layout.groupCount)
        layout.forEachElement { k, s, _ in sums[s] += Double(x[k]) }
        let n = layout.groupSize
        let mean = sums.map { T($0 / Double(n)) }
        var squares = [Double](repeating: 0, count: layout.groupCount)
        layout.forEachElement { k, s, _ in
            let d = x[k] - mean[s]
            squares[s] += Double(d * d)
        }
        let squareSums = squares.map { T($0) }
        let invstd = squareSums.map { T(1 / (Double($0 / T(n)) + eps).squareRoot()) }
        return (GroupStatistics(mean: mean, invstd: invstd, fromInput: true), squareSums)
    }

    /// y = (x − μ)·r·w_c + b_c (w = 1, b = 0 when absent), rounded as ATen's CPU kernels compile
    /// it, which differs between ops: see `NormRounding`.
    static func normalizeForward<T: FloatScalar>(_ x: [T], _ layout: NormLayout, _ stats: GroupStatistics<T>,
                                                 weight: [T]?, bias: [T]?, rounding: NormRounding) -> [T] {
        var y = x
        layout.forEachElement { k, s, c in
            let w = weight?[c] ?? 1, b = bias?[c] ?? 0
            switch rounding {
            case .folded:
                let alpha = stats.invstd[s] * w
                let beta = b.addingProduct(-stats.mean[s], alpha)
                y[k] = beta.addingProduct(x[k], alpha)
            case .centered:
                y[k] = b.addingProduct((x[k] - stats.mean[s]) * stats.invstd[s], w)
            }
        }
        return y
    }

    /// The gradients of `normalizeForward`. With ĝ = g·w_c and x̂ = (x − μ)·r, over each group
    /// of n elements:
    ///
    ///     statistics from the input:  dx = r·(ĝ − mean(ĝ) − (x − μ)·r²·mean(ĝ·(x − μ)))
    ///     given statistics:           dx = r·ĝ
    ///     dw_c = Σ g·x̂ and db_c = Σ g, over the elements of channel c
    ///
    /// Sums are accumulated in Double.
    static func normalizeBackward<T: FloatScalar>(_ g: [T], _ x: [T], _ layout: NormLayout, _ stats: GroupStatistics<T>,
                                                  weight: [T]?) -> (dx: [T], dw: [T], db: [T]) {
        func w(_ c: Int) -> Double { weight.map { Double($0[c]) } ?? 1 }
        var sumG = [Double](repeating: 0, count: layout.groupCount)
        var sumGX = [Double](repeating: 0, count: layout.groupCount)
        var dw = [Double](repeating: 0, count: layout.channels)
        var db = [Double](repeating: 0, count: layout.channels)
        layout.forEachElement { k, s, c in
            let centered = Double(x[k]) - Double(stats.mean[s])
            sumG[s] += Double(g[k]) * w(c)
            sumGX[s] += Double(g[k]) * w(c) * centered
            dw[c] += Double(g[k]) * centered * Double(stats.invstd[s])
            db[c] += Double(g[k])
        }
        let n = Double(layout.groupSize)
        var dx = g
        layout.forEachElement { k, s, c in
            let r = Double(stats.invstd[s])
            let gHat = Double(g[k]) * w(c)
            guard stats.fromInput else {
                dx[k] = T(r * gHat)
                return
            }
            let centered = Double(x[k]) - Double(stats.mean[s])
            dx[k] = T(r * (gHat - sumG[s] / n - centered * r * r * sumGX[s] / n))
        }
        return (dx, dw.map { T($0) }, db.map { T($0) })
    }

    /// Normalizes `x` (of dtype T) and records the backward to input, weight and bias as `node`,
    /// saving the tensors in `saving`, so that modifying one in place before the backward is
    /// PyTorch's version-counter error.
    static func normalize<T: FloatScalar>(_ x: Tensor, _ layout: NormLayout, _ stats: GroupStatistics<T>,
                                          weight: Tensor?, bias: Tensor?, rounding: NormRounding = .folded,
                                          node: String, saving: [Tensor?]) -> Tensor {
        let xs = x.values(T.self)
        let w = weight?.values(T.self)
        let y = Tensor(shape: x.shape, normalizeForward(xs, layout, stats, weight: w, bias: bias?.values(T.self), rounding: rounding))
        let saved = saving.compactMap { $0.map(SavedTensor.init) }
        return y.recording(node, inputs: [x, weight, bias], saving: saved) { g in
            for s in saved { _ = try s.unpack() }
            let (dx, dw, db) = normalizeBackward(g.values(T.self), xs, layout, stats, weight: w)
            return [Tensor(shape: x.shape, dx), weight.map { Tensor(shape: $0.shape, dw) }, bias.map { Tensor(shape: $0.shape, db) }]
        }
    }
}
