import CKernels
import NNCore

/// μ, r = 1/√(var + eps) and S = Σ(x − μ)² per group, and whether they came from the input (so
/// the backward differentiates through them) or are the running statistics.
struct NormStatistics<T: FloatScalar> {
    var mean: [T]
    var invstd: [T]
    var squareSums: [T]
    let fromInput: Bool
}

/// An input `[samples, channels, inner…]` as rows (n, c) of `inner` contiguous elements, grouped
/// as batch norm (one group per channel, across samples: `groupsPerSample == nil`), instance
/// norm (one per row) or group norm (blocks of channels per sample); layer norm is one channel
/// per sample, its row being the normalized block.
struct RowGroups {
    let samples: Int
    let channels: Int
    let inner: Int
    let groupsPerSample: Int?

    var rowCount: Int { samples * channels }
    var groupCount: Int { groupsPerSample.map { samples * $0 } ?? channels }
    var groupSize: Int { samples * channels * inner / max(groupCount, 1) }

    @inline(__always) func group(ofRow r: Int) -> Int {
        guard let g = groupsPerSample else { return r % channels }
        return r / channels * g + r % channels / (channels / g)
    }

    // MARK: row reductions

    /// Σ x over a row, accumulated in Double (ATen's `acc_type` for float in the batch-norm
    /// statistics; a float accumulation moves μ by an ULP, which the backward amplifies by r³
    /// where the variance is small), float32 in 2 × 8 Double lanes.
    @inline(__always) private func rowSum<T: FloatScalar>(_ x: UnsafePointer<T>) -> Double {
        if T.self == Float.self {
            let p = x.float
            var lo = SIMD8<Double>(), hi = lo, i = 0
            while i + 16 <= inner {
                let v = vload(p + i)
                lo += SIMD8<Double>(v.lowHalf)
                hi += SIMD8<Double>(v.highHalf)
                i += 16
            }
            var s = (lo + hi).sum()
            while i < inner { s += Double(p[i]); i += 1 }
            return s
        }
        var s = 0.0
        for i in 0..<inner { s += Double(x[i]) }
        return s
    }

    /// Σ (x − μ)² over a row (each square in T, the sum in Double as `rowSum`).
    @inline(__always) private func rowSquares<T: FloatScalar>(_ x: UnsafePointer<T>, _ mu: T) -> Double {
        if T.self == Float.self {
            let p = x.float, m = VF(repeating: Float(mu))
            var lo = SIMD8<Double>(), hi = lo, i = 0
            while i + 16 <= inner {
                let d = vload(p + i) - m, q = d * d
                lo += SIMD8<Double>(q.lowHalf)
                hi += SIMD8<Double>(q.highHalf)
                i += 16
            }
            var s = (lo + hi).sum()
            while i < inner { let d = p[i] - Float(mu); s += Double(d * d); i += 1 }
            return s
        }
        var s = 0.0
        for i in 0..<inner { let d = x[i] - mu; s += Double(d * d) }
        return s
    }

    /// (Σ g, Σ g·(x − μ)) over row `row`, in Double as the reference (x − μ and its product with g
    /// are then exact for float32); float32 rows prefetch row `next` meanwhile.
    @inline(__always) private func rowGradientSums<T: FloatScalar>(_ g: UnsafePointer<T>, _ x: UnsafePointer<T>, _ mu: T,
                                                                  row: Int, next: Int?) -> (Double, Double) {
        let (gr, xr) = (g + row * inner, x + row * inner)
        if T.self == Float.self {
            var out = (0.0, 0.0)
            withUnsafeMutableBytes(of: &out) { out in
                ck_norm_row_sums_f32(gr.float, xr.float, Float(mu), inner, next.map { g.float + $0 * inner },
                                     next.map { x.float + $0 * inner }, out.baseAddress!.assumingMemoryBound(to: Double.self))
            }
            return out
        }
        var a = 0.0, b = 0.0
        for i in 0..<inner { a += Double(gr[i]); b += Double(gr[i]) * (Double(xr[i]) - Double(mu)) }
        return (a, b)
    }

    /// One value per row, computed across cores.
    private func perRow(cost: Int, _ body: (Int) -> Double) -> [Double] {
        makeArray(rowCount) { out in
            SIMDParallel.forEach(rowCount, costPerItem: inner * cost) { r in for row in r { out[row] = body(row) } }
        }
    }

    /// Sums per-row values into their groups.
    private func byGroup(_ values: [Double]) -> [Double] {
        var sums = [Double](repeating: 0, count: groupCount)
        for r in 0..<rowCount { sums[group(ofRow: r)] += values[r] }
        return sums
    }

    // MARK: forward

    /// The input's statistics: μ = Σx/n rounded to T; S = Σ(x − μ)² rounded to T;
    /// r = 1/√(S/n + eps) from the T value S/n, in Double, rounded to T (as the reference).
    func statistics<T: FloatScalar>(_ x: [T], eps: Double) -> NormStatistics<T> {
        let n = groupSize
        return x.withPointer { xp in
            let mean = byGroup(perRow(cost: 1) { rowSum(xp + $0 * inner) }).map { T($0 / Double(n)) }
            let squareSums = byGroup(perRow(cost: 2) { rowSquares(xp + $0 * inner, mean[group(ofRow: $0)]) }).map { T($0) }
            let invstd = squareSums.map { T(1 / (Double($0 / T(n)) + eps).squareRoot()) }
            return NormStatistics(mean: mean, invstd: invstd, squareSums: squareSums, fromInput: true)
        }
    }

    /// y per row as ATen's kernels round it: `folded` (batch and instance norm, group norm with
    /// a weight or bias) is x·α + β with α = r·w_c and β = b_c − μ·α, both fused multiply-adds;
    /// `centered` (group norm without them) is (x − μ)·r. Recorded as `node`, saving `saving`.
    ///
    /// The fused x·α + β is exact for float32 as `Float(Double(x)·Double(α) + Double(β))` (the
    /// product is exact in Double; only a double rounding could differ, with probability
    /// ~2⁻²⁹), which vectorizes, where `addingProduct` would call libm's `fmaf`. It matters:
    /// where x ≈ μ and r is large, PyTorch's result is b plus the rounding residual of x·α.
    func normalize<T: FloatScalar>(_ x: Tensor, _ stats: NormStatistics<T>, weight: Tensor?, bias: Tensor?, folded: Bool = true,
                                   node: String, saving: [Tensor?]) -> Tensor {
        let xs = x.values(T.self), w = weight?.values(T.self), b = bias?.values(T.self)
        let y: [T] = xs.withPointer { xp in
            makeArray(xs.count) { yp in
                SIMDParallel.forEach(rowCount, costPerItem: inner * 2) { r in
                    for row in r {
                        let s = group(ofRow: row), c = row % channels, mu = stats.mean[s]
                        let alpha = stats.invstd[s] * (w?[c] ?? 1)
                        let beta = (b?[c] ?? 0).addingProduct(-mu, alpha)
                        let src = xp + row * inner, dst = yp + row * inner
                        if !folded {
                            for i in 0..<inner { dst[i] = (src[i] - mu) * alpha }
                        } else if T.self == Float.self {
                            let (sf, df, a, bb) = (src.float, dst.float, Double(alpha), Double(beta))
                            for i in 0..<inner { df[i] = Float(Double(sf[i]) * a + bb) }
                        } else {
                            for i in 0..<inner { dst[i] = beta.addingProduct(src[i], alpha) }
                        }
                    }
                }
            }
        }
        let saved = saving.compactMap { $0.map(SavedTensor.init) }
        return Tensor(shape: x.shape, y).recording(node, inputs: [x, weight, bias], saving: saved) { g in
            for s in saved { _ = try s.unpack() }
            let (dx, dw, db) = backward(floatElements(g, T.self), xs, stats, weight: w)
            return [Tensor(shape: x.shape, dx), weight.map { Tensor(shape: $0.shape, dw) }, bias.map { Tensor(shape: $0.shape, db) }]
        }
    }

    // MARK: backward

    /// The rows of group `s`, ascending: every `channels`-th row for batch norm, else a block.
    @inline(__always) func rows(ofGroup s: Int) -> StrideTo<Int> {
        guard groupsPerSample != nil else { return stride(from: s, to: rowCount, by: channels) }
        let per = rowCount / max(groupCount, 1)
        return stride(from: s * per, to: (s + 1) * per, by: 1)
    }

    /// With ĝ = g·w_c, per group of n elements:
    ///   from the input: dx = r·(ĝ − Σĝ/n − (x − μ)·r²·Σĝ(x − μ)/n);  given: dx = r·ĝ;
    /// dw_c = Σ g·(x − μ)·r and db_c = Σ g over channel c's elements.
    ///
    /// A group at a time: its rows' sums, then its rows' dx while they are still in cache (a batch
    /// norm channel of 8 × 56 × 56 is 200 KB of g and x), so g and x come from memory once. With
    /// fewer groups than 4 per core (a batch norm of 3 channels) the rows are shared out instead,
    /// in two passes. The sums are added in ascending row order either way, so both give the
    /// same bits.
    func backward<T: FloatScalar>(_ g: [T], _ x: [T], _ stats: NormStatistics<T>, weight w: [T]?) -> (dx: [T], dw: [T], db: [T]) {
        g.withPointer { gp in
            x.withPointer { xp in
                var sums = [(Double, Double)](repeating: (0, 0), count: rowCount)
                let n = Double(groupSize)
                let weightOf = { (c: Int) in w.map { Double($0[c]) } ?? 1 }
                // dx = a·g + b·(x − μ) + k over a row of group s, channel c.
                func rowGradient(_ row: Int, _ s: Int, _ sumG: Double, _ sumGX: Double, into out: UnsafeMutablePointer<T>) {
                    let c = row % channels, rs = Double(stats.invstd[s])
                    let a = T(rs * weightOf(c))
                    let b = stats.fromInput ? T(-rs * rs * rs * sumGX / n) : 0
                    let k = stats.fromInput ? T(-rs * sumG / n) : 0
                    let mu = stats.mean[s], src = gp + row * inner, xr = xp + row * inner, dst = out + row * inner
                    if T.self == Float.self {
                        let (av, bv, kv, m) = (Float(a), Float(b), Float(k), Float(mu))
                        ck_norm_row_grad_f32(src.float, xr.float, dst.float, inner, av, bv, m, kv)
                    } else {
                        for i in 0..<inner { dst[i] = src[i] * a + (xr[i] - mu) * b + k }
                    }
                }
                let dx: [T] = makeArray(x.count) { out in
                    sums.withUnsafeMutableBufferPointer { sums in
                        let sums = sums
                        if groupCount >= 4 * SIMDParallel.cores {
                            SIMDParallel.forEach(groupCount, costPerItem: groupSize * 3) { r in
                                for s in r {
                                    var sumG = 0.0, sumGX = 0.0
                                    var groupRows = rows(ofGroup: s).makeIterator(), next = groupRows.next()
                                    while let row = next {
                                        next = groupRows.next()
                                        sums[row] = rowGradientSums(gp, xp, stats.mean[s], row: row, next: next)
                                        let wc = weightOf(row % channels)
                                        sumG += wc * sums[row].0
                                        sumGX += wc * sums[row].1
                                    }
                                    for row in rows(ofGroup: s) { rowGradient(row, s, sumG, sumGX, into: out) }
                                }
                            }
                            return
                        }
                        SIMDParallel.forEach(rowCount, costPerItem: inner * 2) { r in
                            for row in r {
                                let next = row + 1 < r.upperBound ? row + 1 : nil
                                sums[row] = rowGradientSums(gp, xp, stats.mean[group(ofRow: row)], row: row, next: next)
                            }
                        }
                        var sumG = [Double](repeating: 0, count: groupCount), sumGX = sumG
                        for row in 0..<rowCount {
                            let s = group(ofRow: row), wc = weightOf(row % channels)
                            sumG[s] += wc * sums[row].0
                            sumGX[s] += wc * sums[row].1
                        }
                        SIMDParallel.forEach(rowCount, costPerItem: inner) { r in
                            for row in r {
                                let s = group(ofRow: row)
                                rowGradient(row, s, sumG[s], sumGX[s], into: out)
                            }
                        }
                    }
                }
                var dw = [Double](repeating: 0, count: channels), db = dw
                for row in 0..<rowCount {
                    let s = group(ofRow: row), c = row % channels
                    dw[c] += sums[row].1 * Double(stats.invstd[s])
                    db[c] += sums[row].0
                }
                return (dx, dw.map { T($0) }, db.map { T($0) })
            }
        }
    }
}
