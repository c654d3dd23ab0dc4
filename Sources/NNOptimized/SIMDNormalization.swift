import NNCore

/// `batch_norm`, `instance_norm`, `group_norm` and `layer_norm` on the shared calls, recorded as
/// the reference records them (`NativeBatchNormBackward0` saving input, weight and running
/// statistics; instance norm viewed back with `ViewBackward0`; `NativeGroupNormBackward0`;
/// `NativeLayerNormBackward0` saving input, weight and bias), with the same running-statistics
/// update (in place, without a version bump for batch norm).
///
/// Batch, instance and group norm see the input as rows (n, c) of `inner` contiguous elements;
/// a group of rows shares μ and r = 1/√(var + eps), and row (n, c) is scaled by channel c's
/// weight. Layer norm's rows are the `normalized_shape` blocks, scaled element by element.
/// Sums run in 16 float lanes per row and are combined in Double (the reference accumulates
/// every element in Double: the results agree to a few ULP). Groups are split across cores.
extension Optimized {
    static let simdNormalizationOps: [String: OpFunction] = [
        "batch_norm": { try .tensor(simdBatchNorm(BatchNormCall(.batch, $0))) },
        "instance_norm": { try .tensor(simdBatchNorm(BatchNormCall(.instance, $0))) },
        "group_norm": { try .tensor(simdGroupNorm(GroupNormCall($0))) },
        "layer_norm": { try .tensor(simdLayerNorm(LayerNormCall($0))) },
    ]

    static func simdBatchNorm(_ call: BatchNormCall) throws -> Tensor {
        call.input.dtype == .float32 ? try batchNorm(Float.self, call) : try batchNorm(Double.self, call)
    }

    static func simdGroupNorm(_ call: GroupNormCall) -> Tensor {
        call.input.dtype == .float32 ? groupNorm(Float.self, call) : groupNorm(Double.self, call)
    }

    static func simdLayerNorm(_ call: LayerNormCall) -> Tensor {
        call.input.dtype == .float32 ? layerNorm(Float.self, call) : layerNorm(Double.self, call)
    }

    private static func batchNorm<T: FloatScalar>(_: T.Type, _ call: BatchNormCall) throws -> Tensor {
        let x = call.input, s = x.shape
        let rows = RowGroups(samples: s[0], channels: s[1], inner: s.dropFirst(2).reduce(1, *),
                             groupsPerSample: call.kind == .instance ? s[1] : nil)
        var stats: NormStatistics<T>
        if call.useInputStats {
            stats = rows.statistics(x.values(T.self), eps: call.eps)
            if let mean = call.runningMean, let variance = call.runningVar, x.numel > 0 {
                updateRunning(call, rows, mean: mean, variance: variance, stats)
            }
        } else {
            let mean = call.runningMean!.values(T.self), variance = call.runningVar!.values(T.self), c = s[1]
            stats = NormStatistics(mean: (0..<rows.groupCount).map { mean[$0 % c] },
                                   invstd: (0..<rows.groupCount).map { 1 / (variance[$0 % c] + T(call.eps)).squareRoot() },
                                   squareSums: [], fromInput: false)
        }
        if call.kind == .batch {
            return rows.normalize(x, stats, weight: call.weight, bias: call.bias, node: "NativeBatchNormBackward0",
                                  saving: [x, call.weight, call.runningMean, call.runningVar])
        }
        let y = rows.normalize(x, stats, weight: call.weight, bias: call.bias, node: "NativeBatchNormBackward0", saving: [x])
        return try y.view(s)
    }

    /// running ← momentum·batch + (1 − momentum)·running in T, with the unbiased variance
    /// S/(n − 1); instance norm averages its per-sample updates and bumps the versions.
    private static func updateRunning<T: FloatScalar>(_ call: BatchNormCall, _ rows: RowGroups, mean: Tensor, variance: Tensor,
                                                      _ stats: NormStatistics<T>) {
        let momentum = T(call.momentum), keep = T(1 - call.momentum), n = T(rows.groupSize)
        let oldMean = mean.values(T.self), oldVariance = variance.values(T.self)
        let channels = rows.channels, samples = rows.groupCount / channels
        var newMean = [Double](repeating: 0, count: channels), newVariance = newMean
        for g in 0..<rows.groupCount {
            let c = g % channels
            newMean[c] += Double(momentum * stats.mean[g] + keep * oldMean[c])
            newVariance[c] += Double(momentum * (stats.squareSums[g] / (n - 1)) + keep * oldVariance[c])
        }
        mean.overwrite(with: T.wrap(newMean.map { T($0 / Double(samples)) }), bumpingVersion: false)
        variance.overwrite(with: T.wrap(newVariance.map { T($0 / Double(samples)) }), bumpingVersion: false)
        if call.kind == .instance {
            mean.markModified()
            variance.markModified()
        }
    }

    private static func groupNorm<T: FloatScalar>(_: T.Type, _ call: GroupNormCall) -> Tensor {
        let x = call.input, s = x.shape
        let rows = RowGroups(samples: s[0], channels: s[1], inner: s.dropFirst(2).reduce(1, *), groupsPerSample: call.numGroups)
        let stats: NormStatistics<T> = rows.statistics(x.values(T.self), eps: call.eps)
        return rows.normalize(x, stats, weight: call.weight, bias: call.bias, folded: call.weight != nil || call.bias != nil,
                              node: "NativeGroupNormBackward0", saving: [x, call.weight])
    }

    // MARK: layer norm

    /// Rows of D = ∏ normalized_shape elements; y = (x − μ)·r·w_d + b_d.
    private static func layerNorm<T: FloatScalar>(_: T.Type, _ call: LayerNormCall) -> Tensor {
        let x = call.input, d = call.normalizedCount, rowCount = d == 0 ? 0 : x.numel / d
        let rows = RowGroups(samples: rowCount, channels: 1, inner: d, groupsPerSample: 1)
        let xs = x.values(T.self)
        let stats: NormStatistics<T> = rows.statistics(xs, eps: call.eps)
        let w = call.weight?.values(T.self) ?? [T](repeating: 1, count: d)
        let b = call.bias?.values(T.self) ?? [T](repeating: 0, count: d)
        let y: [T] = xs.withPointer { xp in
            w.withPointer { wp in
                b.withPointer { bp in
                    makeArray(xs.count) { yp in
                        SIMDParallel.forEach(rowCount, costPerItem: d * 2) { r in
                            for row in r {
                                let src = xp + row * d, dst = yp + row * d, mu = stats.mean[row], rs = stats.invstd[row]
                                // fma(x̂, w, b) as ATen rounds it (exactly, for float32: see `RowGroups.normalize`).
                                if T.self == Float.self {
                                    let (s, o, wf, bf, m, rf) = (src.float, dst.float, wp.float, bp.float, Float(mu), Float(rs))
                                    for i in 0..<d { o[i] = Float(Double((s[i] - m) * rf) * Double(wf[i]) + Double(bf[i])) }
                                } else {
                                    for i in 0..<d { dst[i] = bp[i].addingProduct((src[i] - mu) * rs, wp[i]) }
                                }
                            }
                        }
                    }
                }
            }
        }
        let saved = [x, call.weight, call.bias].compactMap { $0.map(SavedTensor.init) }
        return Tensor(shape: x.shape, y).recording("NativeLayerNormBackward0", inputs: [x, call.weight, call.bias], saving: saved) { g in
            for s in saved { _ = try s.unpack() }
            let gs = floatElements(g, T.self)
            // Per element d: Σ_rows g·x̂ and Σ_rows g, from per-worker partial sums.
            let partials = gs.withPointer { gp in
                xs.withPointer { xp in
                    SIMDParallel.map(rowCount, costPerItem: d * 4) { r -> ([T], [T]) in
                        var dw = [T](repeating: 0, count: d), db = dw
                        dw.withUnsafeMutableBufferPointer { dwp in
                            db.withUnsafeMutableBufferPointer { dbp in
                                for row in r {
                                    let (mu, rs) = (stats.mean[row], stats.invstd[row])
                                    let gr = gp + row * d, xr = xp + row * d
                                    for i in 0..<d {
                                        dwp[i] += gr[i] * ((xr[i] - mu) * rs)
                                        dbp[i] += gr[i]
                                    }
                                }
                            }
                        }
                        return (dw, db)
                    }
                }
            }
            // Per row: Σĝ and Σĝ(x − μ) with ĝ = g·w_d, then dx = r·(ĝ − Σĝ/n − (x − μ)·r²·Σĝ(x − μ)/n).
            let dx: [T] = gs.withPointer { gp in
                xs.withPointer { xp in
                    w.withPointer { wp in
                        makeArray(xs.count) { out in
                            SIMDParallel.forEach(rowCount, costPerItem: d * 4) { r in
                                for row in r {
                                    let (mu, rs) = (stats.mean[row], stats.invstd[row])
                                    let gr = gp + row * d, xr = xp + row * d, o = out + row * d
                                    var sumG = 0.0, sumGX = 0.0
                                    for i in 0..<d {
                                        let gh = gr[i] * wp[i]
                                        sumG += Double(gh)
                                        sumGX += Double(gh * (xr[i] - mu))
                                    }
                                    let n = Double(d), rd = Double(rs)
                                    let a = rs, bk = T(-rd * rd * rd * sumGX / n), k = T(-rd * sumG / n)
                                    for i in 0..<d { o[i] = (gr[i] * wp[i]) * a + (xr[i] - mu) * bk + k }
                                }
                            }
                        }
                    }
                }
            }
            func total(_ k: Int) -> [T] {
                partials.dropFirst().reduce(k == 0 ? partials[0].0 : partials[0].1) { acc, p in
                    zip(acc, k == 0 ? p.0 : p.1).map(+)
                }
            }
            return [Tensor(shape: x.shape, dx), call.weight.map { Tensor(shape: $0.shape, total(0)) },
                    call.bias.map { Tensor(shape: $0.shape, total(1)) }]
        }
    }
}
