import CKernels

/// The weight gradient of a stride-1 float32 convolution as a GEMM on the register tiles, for
/// small planes with many channels (see `weightGradientByGEMM`).
extension ImplicitConvolution {

    /// Positions per chunk of the inner dimension, and the elements of a thread's packed block
    /// (`depth × columns`, about a quarter of a core's L2).
    static let weightGEMMDepth = 768, weightGEMMBudget = 1 << 17

    /// Tests set this to run one path on every problem (nil: chosen by shape).
    nonisolated(unsafe) static var weightGradientPathOverride: Bool?

    /// Whether `weightGradient` runs as `weightGradientGEMM` rather than as dot products of rows:
    /// planes of at most 32 × 32 positions, and channels enough to fill the tiles. The dot products
    /// run over padded planes (at 14 × 14 with a 3 × 3 kernel, 2 of every 16 columns are scratch)
    /// and reduce each dot at the end of a call; the GEMM pays for packing and a channels-last copy
    /// of the image instead. Backward, medians of 5–6 alternating rounds: 8×256×14×14, 3×3,
    /// 12.5 ms against 14.4 with dot products; 8×64×56×56, 16.0 against 13.5.
    var weightGradientByGEMM: Bool {
        if let forced = Self.weightGradientPathOverride { return forced }
        return problem.geometry.positionCount <= 1024 && problem.positionGroup >= kernels.mr
            && problem.imageGroup * taps >= 2 * kernels.nr
    }

    /// `∂W[g·Cpg + o, c·T + q] += S_g[o, q·Cig + c]` with
    ///
    ///     S_g[o, q·Cig + c] = Σ_(b, p) ∂y[b, g·Cpg + o, p] · padded[b, g·Cig + c, j(p) + offsets[q]]
    ///
    /// over every position `(b, p)` of the batch (`j(p)` its column in the padded pitch,
    /// `PaddedLayout`). ∂y is packed once into the tiles' row panels; the image is laid out
    /// channels-last in padded planes, so a column panel's row for one position is a few runs of
    /// channels, one per tap it covers (`pack_pixels`). No scratch column enters a sum, so the
    /// image need not be finite. Threads own disjoint blocks of columns and sum the positions in
    /// fixed chunks, in order. With `planeSums`, also `planeSums[b·Cp + c] = ConvKernels.sum` of
    /// ∂y's plane.
    func weightGradientGEMM(image: UnsafePointer<Float>, positions gy: UnsafePointer<Float>, into gw: UnsafeMutablePointer<Float>,
                            planeSums: UnsafeMutablePointer<Float>?) {
        let geo = problem.geometry, layout = PaddedLayout(geo)!, P = geo.positionCount
        let (N, Ci, Cp, Cig, Cpg, T, G) = (problem.batch, problem.imageChannels, problem.positionChannels,
                                           problem.imageGroup, problem.positionGroup, taps, problem.groups)
        let (K, columns, mr, nr) = (N * P, Cig * T, kernels.mr, kernels.nr)
        let tiles = (Cpg + mr - 1) / mr
        let channelsLast = UnsafeMutablePointer<Float>.allocate(capacity: N * layout.volume * Ci)
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: G * tiles * K * mr)
        let product = UnsafeMutablePointer<Float>.allocate(capacity: Cp * columns)
        defer { channelsLast.deallocate(); rows.deallocate(); product.deallocate() }
        layout.padChannelsLast(image, batch: N, channels: Ci, into: channelsLast)
        // Each position's first pixel, channels-last: (b, (a, y, x)) → (b·volume + j)·Ci.
        var pixels: [Int] = []
        pixels.reserveCapacity(K)
        for b in 0..<N {
            for a in 0..<geo.od {
                for y in 0..<geo.oh {
                    let row = b * layout.volume + (a * layout.hp + y) * layout.wp
                    for x in 0..<geo.ow { pixels.append((row + x) * Ci) }
                }
            }
        }
        // ∂y in row panels: rows[((g·tiles + i)·K + k)·mr + r] = ∂y[b, g·Cpg + i·mr + r, p], k = b·P + p.
        SIMDParallel.forEach(G * tiles, costPerItem: K * mr) { items in
            let src = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: mr)
            defer { src.deallocate() }
            for item in items {
                let (g, i) = item.quotientAndRemainder(dividingBy: tiles)
                let m = min(mr, Cpg - i * mr)
                for b in 0..<N {
                    for r in 0..<m {
                        let channel = g * Cpg + i * mr + r, plane = gy + (b * Cp + channel) * P
                        src[r] = plane
                        planeSums?[b * Cp + channel] = ConvKernels.sum(plane, P)
                    }
                    kernels.pack_rows(src, m, P, rows + (item * K + b * P) * mr)
                }
            }
        }
        let depth = min(K, Self.weightGEMMDepth)
        let blocks = ColumnPanels(columns: columns, width: nr, groups: G, cores: SIMDParallel.cores,
                                  maxPanels: max(1, Self.weightGEMMBudget / (depth * nr)))
        let tile = kernels.tile!, packPixels = kernels.pack_pixels!
        pixels.withUnsafeBufferPointer { pixels in
            BLASKernels.reading(layout.offsets) { offsets in
                SIMDParallel.forEach(G * blocks.blocks, costPerItem: 2 * Cpg * K * blocks.maxPanels * nr) { items in
                    let block = UnsafeMutablePointer<Float>.allocate(capacity: blocks.maxPanels * depth * nr)
                    let pieces = UnsafeMutablePointer<ck_piece>.allocate(capacity: blocks.maxPanels + T + 1)
                    defer { block.deallocate(); pieces.deallocate() }
                    for item in items {
                        let (g, index) = item.quotientAndRemainder(dividingBy: blocks.blocks)
                        let (n0, nn) = blocks.columns(of: index)
                        let np = (nn + nr - 1) / nr, filled = nn - (np - 1) * nr
                        // The block's columns as runs of channels at one tap within one panel.
                        var count = 0, n = n0
                        while n < n0 + nn {
                            let (q, c) = n.quotientAndRemainder(dividingBy: Cig)
                            let (panel, within) = (n - n0).quotientAndRemainder(dividingBy: nr)
                            let length = min(Cig - c, nr - within, n0 + nn - n)
                            pieces[count] = ck_piece(panel: panel, within: within, source: offsets[q] * Ci + g * Cig + c, count: length)
                            (count, n) = (count + 1, n + length)
                        }
                        // Columns past the block's end in its last panel: zero (no piece writes them).
                        if filled < nr {
                            for k in 0..<depth { (block + ((np - 1) * depth + k) * nr + filled).update(repeating: 0, count: nr - filled) }
                        }
                        let out = product + g * Cpg * columns + n0
                        for k0 in stride(from: 0, to: K, by: depth) {
                            let kn = min(depth, K - k0)
                            packPixels(channelsLast, pixels.baseAddress! + k0, kn, pieces, count, block, depth * nr)
                            for i in 0..<tiles {
                                let a = rows + ((g * tiles + i) * K + k0) * mr
                                for j in 0..<np {
                                    tile(kn, a, block + j * depth * nr, out + i * mr * columns + j * nr, columns,
                                         min(mr, Cpg - i * mr), min(nr, nn - j * nr), k0 > 0 ? 1 : 0)
                                }
                            }
                        }
                    }
                }
            }
        }
        // Into ∂W, a row at a time: S_g[o, q·Cig + c] to ∂W[g·Cpg + o, c·T + q].
        SIMDParallel.forEach(Cp, costPerItem: columns) { r in
            for row in r {
                let src = product + row * columns, dst = gw + row * columns
                for c in 0..<Cig {
                    for q in 0..<T { dst[c * T + q] += src[q * Cig + c] }
                }
            }
        }
    }
}
