import CKernels

extension ImplicitConvolution {

    /// The image as the GEMMs' columns `(b, p)`, one per output position `p` of each batch element:
    /// read from padded planes (`PaddedLayout`, stride 1, copied once per call) or im2col rows.
    struct Columns {
        let geometry: ConvGeometry
        let layout: PaddedLayout?
        /// The padded planes, or the image itself.
        let image: UnsafePointer<Float>
        let channels: Int
        let batch: Int
        /// Whether every image value the padded planes hold is finite (true without them).
        var finite = true

        var count: Int { batch * geometry.positionCount }

        /// Calls `body` with the columns of `image` for `problem`, padding it first where that applies.
        static func of(_ problem: ConvProblem, _ image: UnsafePointer<Float>, _ body: (Columns) -> Void) {
            let geo = problem.geometry, planes = problem.batch * problem.imageChannels
            guard let layout = PaddedLayout(geo) else {
                body(Columns(geometry: geo, layout: nil, image: image, channels: problem.imageChannels, batch: problem.batch))
                return
            }
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: planes * layout.volume)
            defer { padded.deallocate() }
            let finite = layout.pad(image, planes: planes, into: padded)
            body(Columns(geometry: geo, layout: layout, image: padded, channels: problem.imageChannels, batch: problem.batch,
                         finite: finite))
        }

        /// Calls `body(b, j, col, count)` for the runs of columns `n0 ..< n0 + nn` that lie in one
        /// batch element: its columns `j ..< j + count`, at column `col` of the block.
        @inline(__always)
        func forEachSegment(_ n0: Int, _ nn: Int, _ body: (_ b: Int, _ j: Int, _ col: Int, _ count: Int) -> Void) {
            let per = geometry.positionCount
            var col = 0
            while col < nn {
                let (b, j) = (n0 + col).quotientAndRemainder(dividingBy: per)
                let count = min(per - j, nn - col)
                body(b, j, col, count)
                col += count
            }
        }

        /// The runs of columns `n0 ..< n0 + nn` cut at batch elements, at rows of positions and at
        /// panels of `nr`, each read from `source` in channel 0 of its element's padded planes (the
        /// row's first padded column, where tap 0 reads): at most `nn` of them. (Padded layout only.)
        func pieces(_ n0: Int, _ nn: Int, nr: Int, into out: UnsafeMutablePointer<ck_piece>) -> Int {
            let layout = layout!, g = geometry
            var k = 0
            forEachSegment(n0, nn) { b, p, col, count in
                var (c, left, p) = (col, count, p)
                while left > 0 {
                    let (row, x) = p.quotientAndRemainder(dividingBy: g.ow)
                    let (a, y) = row.quotientAndRemainder(dividingBy: g.oh)
                    let (panel, within) = c.quotientAndRemainder(dividingBy: nr)
                    let n = min(nr - within, left, g.ow - x)
                    let source = b * channels * layout.volume + (a * layout.hp + y) * layout.wp + x
                    out[k] = ck_piece(panel: panel, within: within, source: source, count: n)
                    (k, c, left, p) = (k + 1, c + n, left - n, p + n)
                }
            }
            return k
        }

        /// Packs the rows `row + q` (`q` over the taps) of image channel `channel`, columns
        /// `n0 ..< n0 + nn` (`pieces` of them when padded), into panels of `nr` columns and `depth`
        /// rows, zero past `nn`. `scratch` holds `taps × ld` elements for im2col rows (unpadded).
        @inline(__always)
        func pack(channel: Int, _ n0: Int, _ nn: Int, pieces: UnsafePointer<ck_piece>, _ pieceCount: Int, last: Bool,
                  into panels: UnsafeMutablePointer<Float>, row: Int, depth: Int,
                  kernels: ck_sgemm_kernels, scratch: UnsafeMutablePointer<Float>, ld: Int) {
            let T = geometry.kernelVolume, nr = kernels.nr, np = (nn + nr - 1) / nr, stride = depth * nr
            if let layout {
                let plane = image + channel * layout.volume
                BLASKernels.reading(layout.offsets) { offsets in
                    kernels.pack(plane, last ? nil : plane + layout.volume, offsets, T, pieces, pieceCount,
                                 panels + row * nr, stride, np - 1, nn - (np - 1) * nr)
                }
                return
            }
            let IV = geometry.imageVolume
            forEachSegment(n0, nn) { b, p, col, count in
                geometry.im2col(image + (b * channels + channel) * IV, scratch + col, ld: ld, positions: p ..< p + count)
            }
            for q in 0..<T {
                let src = scratch + q * ld
                (src + nn).update(repeating: 0, count: np * nr - nn)
                for j in 0..<np { ConvKernels.copy(src + j * nr, into: panels + j * stride + (row + q) * nr, nr) }
            }
        }
    }
}

extension ConvKernels {
    /// `y[i] = x[i] + s` for `i < n`.
    @inline(__always)
    static func addingScalar(_ s: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let v = SIMD16<Float>(repeating: s)
        while i + 16 <= n {
            UnsafeMutableRawPointer(y + i).storeBytes(of: UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) + v,
                                                      as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { y[i] = x[i] + s; i += 1 }
    }
}

/// The columns of all batch elements, `0 ..< columns`, cut into register-tile panels of `width`
/// and the panels into blocks of at most `maxPanels`: at least one block per core (a multiple of
/// the cores when there are few), panel counts differing by at most one.
struct ColumnPanels {
    let width: Int
    let panels: Int, blocks: Int, maxPanels: Int
    let columns: Int

    init(columns: Int, width: Int, groups: Int, cores: Int, maxPanels: Int) {
        self.columns = columns
        self.width = width
        panels = (columns + width - 1) / width
        var blocks = (panels + maxPanels - 1) / maxPanels
        if groups * blocks < 8 * cores {
            let multiple = (cores + groups - 1) / groups  // blocks per group for groups·blocks ≥ cores
            blocks = min(panels, (blocks + multiple - 1) / multiple * multiple)
        }
        self.blocks = max(blocks, 1)
        self.maxPanels = (panels + self.blocks - 1) / self.blocks
    }

    /// The first column and the column count of block `i`.
    func columns(of i: Int) -> (Int, Int) {
        let first = panels * i / blocks, last = panels * (i + 1) / blocks
        let n0 = first * width
        return (n0, min(last * width, columns) - n0)
    }
}
