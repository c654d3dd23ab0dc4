/// A grouped convolution as GEMMs over im2col columns.
///
/// The three products every convolution and transposed convolution is made of, forward and
/// backward, in terms of an *image* tensor `[batch, Ci, image...]`, a *positions* tensor
/// `[batch, Cp, positions...]` and a weight `[Cp, Ci/G, K]` (`G` groups; `K` kernel taps):
///
/// - `unfoldMultiply`: positions = W_g · im2col(image_g) per group (convolution forward,
///   transposed convolution's ∂input);
/// - `multiplyFold`: image = col2im(W_gᵀ · positions_g) (transposed convolution forward,
///   convolution's ∂input);
/// - `weightGradient`: ∂W_g = Σ positions_g · im2col(image_g)ᵀ (both ∂weights).
///
/// The columns are materialized one batch element at a time, within `columnBudget` elements:
/// small images put several batch elements side by side in one GEMM (more columns per GEMM),
/// large ones are cut into blocks of positions, and if one block of positions is still too
/// large the image channels of a group are split too (accumulating over the GEMM's inner
/// dimension). OpenBLAS threads each GEMM; the packing loops between GEMMs use `SIMDParallel`.
struct ConvProblem {
    let geometry: ConvGeometry
    let batch: Int
    let imageChannels: Int
    let positionChannels: Int
    let groups: Int

    /// Columns a GEMM should get at least, when batch elements can be put side by side.
    static let targetColumns = 1024
    /// The largest column buffer, in elements. (Smaller blocks of positions, sized for the
    /// caches, measured slower: OpenBLAS then repacks the weights for every narrower GEMM.)
    static let columnBudget = 1 << 22

    var imageGroup: Int { imageChannels / groups }
    var positionGroup: Int { positionChannels / groups }

    /// How the work is cut: batch elements per chunk, positions per block (all of them when a
    /// chunk holds several batch elements) and image channels per block.
    struct Blocking {
        let batches: Int
        let positions: Int
        let channels: Int
    }

    var blocking: Blocking {
        let P = max(geometry.positionCount, 1), K = max(geometry.kernelVolume, 1), Cig = max(imageGroup, 1)
        let nb = min(max(batch, 1), max(1, Self.targetColumns / P))
        if nb > 1 {
            return Blocking(batches: nb, positions: P, channels: min(Cig, max(1, Self.columnBudget / (K * nb * P))))
        }
        let pb = min(P, max(Self.targetColumns, Self.columnBudget / (K * Cig)))
        return Blocking(batches: 1, positions: pb, channels: min(Cig, max(1, Self.columnBudget / (K * pb))))
    }

    /// The blocks of a chunk of `n` batch elements starting at `b0`: calls `body(p0, pn)` per
    /// block of positions (a chunk of several batch elements is one block of all positions).
    @inline(__always)
    private func forEachBlock(_ blocking: Blocking, _ body: (_ b0: Int, _ n: Int, _ p0: Int, _ pn: Int) -> Void) {
        let P = geometry.positionCount
        for b0 in stride(from: 0, to: batch, by: blocking.batches) {
            let n = min(blocking.batches, batch - b0)
            for p0 in stride(from: 0, to: P, by: blocking.positions) {
                body(b0, n, p0, min(blocking.positions, P - p0))
            }
        }
    }

    /// `forEachBlock` with scratch: `cols` for a block's im2col columns (none when `identity`: a
    /// 1×1 kernel over one batch element at a time, whose columns are the image itself) and
    /// `tmp` for `Cpg` rows of a block's positions with its batch elements side by side.
    @inline(__always)
    private func forEachBlock<T: BLASScalar>(
        _: T.Type,
        _ body: (_ b0: Int, _ n: Int, _ p0: Int, _ pn: Int, _ identity: Bool,
                 _ cols: UnsafeMutablePointer<T>, _ tmp: UnsafeMutablePointer<T>) -> Void
    ) {
        let blocks = blocking, P = geometry.positionCount
        let identity = geometry.isIdentity && blocks.batches == 1
        BLASKernels.scratch(identity ? 0 : blocks.channels * geometry.kernelVolume * blocks.batches * blocks.positions) {
            (cols: UnsafeMutablePointer<T>) in
            BLASKernels.scratch(blocks.batches > 1 ? positionGroup * blocks.batches * P : 0) { (tmp: UnsafeMutablePointer<T>) in
                forEachBlock(blocks) { b0, n, p0, pn in body(b0, n, p0, pn, identity, cols, tmp) }
            }
        }
    }

    /// `forEachBlock` per group `g`, with group `g`'s positions of the block as a matrix `a`
    /// `[Cpg, n·pn]` of leading dimension `lda`: in place for one batch element, else gathered
    /// into scratch (the batch elements side by side).
    @inline(__always)
    private func forEachGroupBlock<T: BLASScalar>(
        _ positions: UnsafePointer<T>,
        _ body: (_ b0: Int, _ n: Int, _ p0: Int, _ pn: Int, _ g: Int, _ a: UnsafePointer<T>, _ lda: Int,
                 _ identity: Bool, _ cols: UnsafeMutablePointer<T>) -> Void
    ) {
        let (P, Cp, Cpg) = (geometry.positionCount, positionChannels, positionGroup)
        forEachBlock(T.self) { b0, n, p0, pn, identity, cols, tmp in
            for g in 0..<groups {
                var (a, lda) = (positions + (b0 * Cp + g * Cpg) * P + p0, P)
                if n > 1 {
                    ConvKernels.gather(a, batchStride: Cp * P, batches: n, channels: Cpg, plane: P, into: tmp)
                    (a, lda) = (UnsafePointer(tmp), n * pn)
                }
                body(b0, n, p0, pn, g, a, lda, identity, cols)
            }
        }
    }

    /// `positions[b, g·Cpg + o, p] = Σ_{c, q} W[g·Cpg + o, c, q] · columns_g[c·K + q, p]`, written
    /// over every element of `positions`.
    func unfoldMultiply<T: BLASScalar>(image: UnsafePointer<T>, weight: UnsafePointer<T>,
                                       positions out: UnsafeMutablePointer<T>) {
        let geo = geometry, P = geo.positionCount, IV = geo.imageVolume, K = geo.kernelVolume
        let (Ci, Cp, Cig, Cpg) = (imageChannels, positionChannels, imageGroup, positionGroup)
        let rowsK = Cig * K
        if rowsK == 0 {  // an empty sum
            out.update(repeating: 0, count: batch * Cp * P)
            return
        }
        let channels = blocking.channels
        forEachBlock(T.self) { b0, n, p0, pn, identity, cols, tmp in
            let L = n * pn
            for g in 0..<groups {
                let wg = weight + g * Cpg * rowsK
                let (c, ldc) = n == 1 ? (out + (b0 * Cp + g * Cpg) * P + p0, P) : (tmp, L)
                if identity {
                    BLASKernels.gemm(m: Cpg, n: pn, k: Cig, wg, lda: rowsK, image + (b0 * Ci + g * Cig) * IV + p0, ldb: P,
                                     c, ldc: ldc)
                } else {
                    for c0 in stride(from: 0, to: Cig, by: channels) {
                        let cn = min(channels, Cig - c0)
                        unfold(image + (b0 * Ci + g * Cig + c0) * IV, batches: n, channels: cn, positions: p0 ..< p0 + pn, into: cols)
                        BLASKernels.gemm(m: Cpg, n: L, k: cn * K, wg + c0 * K, lda: rowsK, cols, ldb: L,
                                         accumulate: c0 > 0, c, ldc: ldc)
                    }
                }
                if n > 1 {
                    ConvKernels.scatter(tmp, into: out + (b0 * Cp + g * Cpg) * P, batchStride: Cp * P,
                                        batches: n, channels: Cpg, plane: P)
                }
            }
        }
    }

    /// `image += col2im_g(W_gᵀ · positions_g)` per group; `image` must start zeroed.
    func multiplyFold<T: BLASScalar>(positions: UnsafePointer<T>, weight: UnsafePointer<T>,
                                     image out: UnsafeMutablePointer<T>) {
        let geo = geometry, P = geo.positionCount, IV = geo.imageVolume, K = geo.kernelVolume
        let (Ci, Cig, Cpg) = (imageChannels, imageGroup, positionGroup)
        let rowsK = Cig * K, channels = blocking.channels
        forEachGroupBlock(positions) { b0, n, p0, pn, g, a, lda, identity, cols in
            let wg = weight + g * Cpg * rowsK
            if identity {
                return BLASKernels.gemm(transA: true, m: Cig, n: pn, k: Cpg, wg, lda: rowsK, a, ldb: lda,
                                        out + (b0 * Ci + g * Cig) * IV + p0, ldc: P)
            }
            for c0 in stride(from: 0, to: Cig, by: channels) {
                let cn = min(channels, Cig - c0)
                BLASKernels.gemm(transA: true, m: cn * K, n: n * pn, k: Cpg, wg + c0 * K, lda: rowsK, a, ldb: lda,
                                 cols, ldc: n * pn)
                fold(cols, batches: n, channels: cn, positions: p0 ..< p0 + pn, into: out + (b0 * Ci + g * Cig + c0) * IV)
            }
        }
    }

    /// `gradW += Σ_b positions_g · columns_gᵀ` per group; `gradW` is `[Cp, Ci/G·K]`.
    func weightGradient<T: BLASScalar>(image: UnsafePointer<T>, positions: UnsafePointer<T>,
                                       into gw: UnsafeMutablePointer<T>) {
        let geo = geometry, P = geo.positionCount, IV = geo.imageVolume, K = geo.kernelVolume
        let (Ci, Cig, Cpg) = (imageChannels, imageGroup, positionGroup)
        let rowsK = Cig * K, channels = blocking.channels
        forEachGroupBlock(positions) { b0, n, p0, pn, g, a, lda, identity, cols in
            let gwg = gw + g * Cpg * rowsK
            if identity {
                return BLASKernels.gemm(transB: true, m: Cpg, n: Cig, k: pn, a, lda: lda,
                                        image + (b0 * Ci + g * Cig) * IV + p0, ldb: P, accumulate: true, gwg, ldc: rowsK)
            }
            for c0 in stride(from: 0, to: Cig, by: channels) {
                let cn = min(channels, Cig - c0)
                unfold(image + (b0 * Ci + g * Cig + c0) * IV, batches: n, channels: cn, positions: p0 ..< p0 + pn, into: cols)
                BLASKernels.gemm(transB: true, m: Cpg, n: cn * K, k: n * pn, a, lda: lda, cols, ldb: n * pn,
                                 accumulate: true, gwg + c0 * K, ldc: rowsK)
            }
        }
    }

    /// im2col of `channels` image channels (starting at `image`, in each of `n` batch elements)
    /// for `positions` into `[channels·K, n·positions.count]`, batch elements side by side.
    private func unfold<T: BLASScalar>(_ image: UnsafePointer<T>, batches n: Int, channels: Int, positions: Range<Int>,
                                       into cols: UnsafeMutablePointer<T>) {
        let geo = geometry, K = geo.kernelVolume, IV = geo.imageVolume, pn = positions.count
        let L = n * pn, batchStride = imageChannels * IV
        SIMDParallel.forEach(n * channels, costPerItem: K * pn) { r in
            for item in r {
                let (c, b) = item.quotientAndRemainder(dividingBy: n)
                geo.im2col(image + b * batchStride + c * IV, cols + c * K * L + b * pn, ld: L, positions: positions)
            }
        }
    }

    /// col2im of `[channels·K, n·positions.count]` onto `channels` image channels of `n` batch
    /// elements.
    private func fold<T: BLASScalar>(_ cols: UnsafePointer<T>, batches n: Int, channels: Int, positions: Range<Int>,
                                     into image: UnsafeMutablePointer<T>) {
        let geo = geometry, K = geo.kernelVolume, IV = geo.imageVolume, pn = positions.count
        let L = n * pn, batchStride = imageChannels * IV
        SIMDParallel.forEach(n * channels, costPerItem: K * pn) { r in
            for item in r {
                let (c, b) = item.quotientAndRemainder(dividingBy: n)
                geo.col2im(cols + c * K * L + b * pn, ld: L, image + b * batchStride + c * IV, positions: positions)
            }
        }
    }
}
