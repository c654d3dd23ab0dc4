/// The weight gradient of a stride-1 float32 convolution as dot products of rows on the register
/// tiles of `CKernels` (see `ImplicitConvolution`).
extension ImplicitConvolution {

    /// `gradW[g·Cpg + o, c·T + q] += Σ_{(b, p)} positions[b, g·Cpg + o, p] · columns_g[c·T + q, (b, p)]`
    /// with `gradW` `[Cp, Cig·T]`, for stride 1 (`coversWeightGradient`; other strides use
    /// `ConvProblem`): as a GEMM for small planes (`weightGradientByGEMM`), else as dot products
    /// of rows, threads owning disjoint blocks of image channels (columns of `gradW`), each
    /// looping over all the columns in order.
    ///
    /// With `biasGradient`, when this path reads ∂y whole (`weightGradientGEMM`, or a finite image:
    /// see `weightGradientSpread`), it also writes `∂bias[c] = Σ_b Σ_p ∂y[b, c, p]` there, summed as
    /// `ConvKernels.biasGradient` sums (the same bits), and returns true; otherwise false.
    @discardableResult
    func weightGradient(image: UnsafePointer<Float>, positions gy: UnsafePointer<Float>, into gw: UnsafeMutablePointer<Float>,
                        biasGradient: UnsafeMutablePointer<Float>? = nil) -> Bool {
        let (N, Cp) = (problem.batch, problem.positionChannels)
        guard N * problem.geometry.positionCount > 0 && problem.positionGroup > 0 && problem.imageGroup > 0 else { return false }
        let sums = biasGradient.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: N * Cp) }
        defer { sums?.deallocate() }
        var summed = false
        if weightGradientByGEMM {
            weightGradientGEMM(image: image, positions: gy, into: gw, planeSums: sums)
            summed = true
        } else {
            Columns.of(problem, image) { columns in
                let layout = columns.layout!
                guard columns.finite else { return weightGradient(columns, layout, gy, gw) }
                weightGradientSpread(columns, layout, gy, gw, planeSums: sums)
                summed = true
            }
        }
        guard summed, let sums, let biasGradient else { return false }
        for c in 0..<Cp {
            var s: Float = 0
            for b in 0..<N { s += sums[b * Cp + c] }
            biasGradient[c] = s
        }
        return true
    }

    /// Channel blocks of at most `maxChannels`, at least two per core where the channels allow,
    /// and a multiple of the cores where they allow (the workers take blocks as they come free, so 5
    /// blocks on 2 cores would leave one idle for a block's time).
    private func channelBlocks(maxChannels: Int) -> (count: Int, channels: Int) {
        let Cig = problem.imageGroup, G = problem.groups
        var count = (Cig + maxChannels - 1) / maxChannels
        if G * count < 2 * SIMDParallel.cores { count = min(Cig, (2 * SIMDParallel.cores + G - 1) / G) }
        while (G * count) % SIMDParallel.cores != 0 && count < Cig { count += 1 }
        let channels = (Cig + count - 1) / count
        return ((Cig + channels - 1) / channels, channels)
    }

    /// Stride 1 over a finite image: ∂y spread into the padded pitch, zero in the scratch columns,
    /// so that each dot product runs over whole planes (`0 · x = 0` for the scratch columns' image
    /// values only when they are finite, hence the condition).
    private func weightGradientSpread(_ columns: Columns, _ layout: PaddedLayout, _ gy: UnsafePointer<Float>,
                                      _ gw: UnsafeMutablePointer<Float>, planeSums: UnsafeMutablePointer<Float>?) {
        let (N, Ci, Cp, Cig, Cpg, T) = (problem.batch, problem.imageChannels, problem.positionChannels, problem.imageGroup,
                                        problem.positionGroup, taps)
        let span = layout.span, rowsK = Cig * T
        // A call's dot products run over `batches` elements × `length` columns: long runs, as the
        // tile's reduction at the end of a call costs as much as ~100 columns. Spread planes start
        // 64-byte aligned (`pitch`: whole vectors) and runs at multiples of 16 columns, so every
        // ∂y load is aligned (the image rows, at the taps' offsets, cannot all be).
        let pitch = (span + 15) / 16 * 16
        let chunks = (span + Self.dotColumns - 1) / Self.dotColumns
        let length = ((span + chunks - 1) / chunks + 15) / 16 * 16
        let batchesPerBlock = min(N, max(1, Self.dotColumns / pitch))
        let blocks = channelBlocks(maxChannels: max(1, 2 * Self.dotBudget / (batchesPerBlock * (length + layout.offsets.last!))))
        let (dmr, dnr) = (kernels.dot_mr, kernels.dot_nr)
        let dots = kernels.dots!
        let raw = UnsafeMutableRawPointer.allocate(byteCount: N * Cp * pitch * MemoryLayout<Float>.stride, alignment: 64)
        defer { raw.deallocate() }
        let spread = raw.bindMemory(to: Float.self, capacity: N * Cp * pitch)
        layout.spread(gy, planes: N * Cp, stride: pitch, into: spread, sums: planeSums)
        forEachChannelBlock(blocks, layout, costPerItem: 2 * Cpg * blocks.channels * T * N * span) { g, c0, cn, rows, taps in
            for j0 in stride(from: 0, to: span, by: length) {
                let len = min(length, span - j0)
                for b0 in stride(from: 0, to: N, by: batchesPerBlock) {
                    let batches = min(batchesPerBlock, N - b0)
                    for o0 in stride(from: 0, to: Cpg, by: dmr) {
                        let m = min(dmr, Cpg - o0)
                        for r in 0..<m { rows[r] = UnsafePointer(spread + (b0 * Cp + g * Cpg + o0 + r) * pitch + j0) }
                        for k0 in stride(from: 0, to: cn * T, by: dnr) {
                            let n = min(dnr, cn * T - k0)
                            let base = columns.image + (b0 * Ci + g * Cig + c0) * layout.volume + j0
                            for j in 0..<n { rows[dmr + j] = base + taps[k0 + j] }
                            dots(len, 1, batches, rows, 0, Cp * pitch, rows + dmr, 0, Ci * layout.volume,
                                 gw + (g * Cpg + o0) * rowsK + c0 * T + k0, rowsK, m, n)
                        }
                    }
                }
            }
        }
    }

    /// Stride 1: both operands of every dot product are rows in place, ∂y's rows of positions
    /// and the padded image's rows at the tap's offset, so nothing is packed and no scratch column
    /// enters a sum. Blocks of rows × batch elements keep a block's ∂y rows (all its channels) in
    /// cache while every tap of the thread's image channels passes over them.
    private func weightGradient(_ columns: Columns, _ layout: PaddedLayout, _ gy: UnsafePointer<Float>, _ gw: UnsafeMutablePointer<Float>) {
        let geo = problem.geometry, P = geo.positionCount
        let (N, Ci, Cp, Cig, Cpg, T) = (problem.batch, problem.imageChannels, problem.positionChannels, problem.imageGroup,
                                        problem.positionGroup, taps)
        let rowsK = Cig * T
        let rowElements = Cpg * geo.ow
        let rowsPerBlock = min(geo.oh, max(1, Self.dotBudget / rowElements))
        let batchesPerBlock = rowsPerBlock < geo.oh ? 1 : min(N, max(1, Self.dotBudget / (rowElements * geo.oh)))
        let paddedRows = batchesPerBlock * (rowsPerBlock + layout.hp - geo.oh) * layout.wp
        let blocks = channelBlocks(maxChannels: max(1, Self.dotBudget / (paddedRows * geo.kd)))
        let (dmr, dnr) = (kernels.dot_mr, kernels.dot_nr)
        let dots = kernels.dots!
        forEachChannelBlock(blocks, layout, costPerItem: 2 * Cpg * blocks.channels * T * N * P) { g, c0, cn, rows, taps in
            for a in 0..<geo.od {
                for y0 in stride(from: 0, to: geo.oh, by: rowsPerBlock) {
                    let rowCount = min(rowsPerBlock, geo.oh - y0)
                    for b0 in stride(from: 0, to: N, by: batchesPerBlock) {
                        let batches = min(batchesPerBlock, N - b0)
                        for k0 in stride(from: 0, to: cn * T, by: dnr) {
                            let n = min(dnr, cn * T - k0)
                            let base = columns.image + (b0 * Ci + g * Cig + c0) * layout.volume + (a * layout.hp + y0) * layout.wp
                            for j in 0..<n { rows[dmr + j] = base + taps[k0 + j] }
                            for o0 in stride(from: 0, to: Cpg, by: dmr) {
                                let m = min(dmr, Cpg - o0)
                                for r in 0..<m { rows[r] = gy + (b0 * Cp + g * Cpg + o0 + r) * P + (a * geo.oh + y0) * geo.ow }
                                dots(geo.ow, rowCount, batches, rows, geo.ow, Cp * P, rows + dmr, layout.wp, Ci * layout.volume,
                                     gw + (g * Cpg + o0) * rowsK + c0 * T + k0, rowsK, m, n)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body(g, c0, cn, rows, taps)` for every block of `blocks` (group `g`, image channels
    /// `c0 ..< c0 + cn`), threads owning disjoint blocks: `rows` holds `dot_mr + dot_nr` row
    /// pointers for the dot tiles, `taps[c·T + q]` is `c·volume + offsets[q]`.
    private func forEachChannelBlock(_ blocks: (count: Int, channels: Int), _ layout: PaddedLayout, costPerItem: Int,
                                     _ body: (_ g: Int, _ c0: Int, _ cn: Int, _ rows: UnsafeMutablePointer<UnsafePointer<Float>?>,
                                              _ taps: UnsafePointer<Int>) -> Void) {
        let T = taps, Cig = problem.imageGroup
        SIMDParallel.forEach(problem.groups * blocks.count, costPerItem: costPerItem) { items in
            let rows = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: kernels.dot_mr + kernels.dot_nr)
            let taps = UnsafeMutablePointer<Int>.allocate(capacity: blocks.channels * T)
            defer { rows.deallocate(); taps.deallocate() }
            for c in 0..<blocks.channels {
                for q in 0..<T { taps[c * T + q] = c * layout.volume + layout.offsets[q] }
            }
            for item in items {
                let (g, cb) = item.quotientAndRemainder(dividingBy: blocks.count)
                let c0 = cb * blocks.channels, cn = min(blocks.channels, Cig - c0)
                if cn > 0 { body(g, c0, cn, rows, taps) }
            }
        }
    }
}
