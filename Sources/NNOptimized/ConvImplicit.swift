import CKernels

/// Float32 convolution GEMMs on our own register tiles (`CKernels/gemm_tiles.c`), with the
/// column operand packed straight from the image into cache-sized panels ("implicit GEMM"):
/// nothing of the size of im2col's columns is ever materialized, and each core works on its own
/// panels in its own cache. `ConvProblem` (OpenBLAS on materialized columns) remains for float64,
/// 1×1 kernels (whose columns are the image itself), and CPUs without vector FMA.
///
/// In terms of `ConvProblem`'s image, positions and weight (`[Cp, Ci/G, T]`, `T` kernel taps),
/// per group `g` and with `columns_g[c·T + q, (b, p)] = image[b, g·Cig + c, p·stride − padding +
/// q·dilation]` over the columns `(b, p)` of all batch elements:
///
/// - `multiply`: positions = bias + A_g · columns_g, where A_g is the weight (convolution
///   forward) or, for a stride-1 convolution's ∂input, the weight transposed per group and its
///   taps reversed (`PackedWeights`): ∂x[i] = Σ_q ∂y[i + padding − q·dilation] · w[q] is the
///   convolution of ∂y with the reversed kernel and padding `dilation·(k − 1) − padding`.
/// - `weightGradient`: ∂W_g += positions_g · columns_gᵀ, as dot products of rows, or for small
///   planes as a GEMM over the batch's positions (`weightGradientGEMM`).
///
/// Every element of the output is summed by one thread in a fixed order, so results do not depend
/// on the number of threads.
struct ImplicitConvolution {
    let problem: ConvProblem
    let kernels: ck_sgemm_kernels

    /// Inner-dimension rows per packed block (whole channels: a multiple of the taps).
    static let depthTarget = 256
    /// Elements of a thread's output block (`M × columns`) and of its packed columns (`depth ×
    /// columns`): together about half of a core's L2.
    static let outputBlockTarget = 1 << 16, packedBudget = 1 << 16
    /// Columns of `weightGradient`'s blocks, and their packed rows' budget in elements.
    static let dotColumns = 4096, dotBudget = 1 << 16

    /// Nil where `ConvProblem` serves instead: no tiles on this CPU, or a 1×1 kernel whose columns
    /// are the image (OpenBLAS's own tiles are faster there).
    init?(_ problem: ConvProblem) {
        guard let kernels = ck_sgemm_kernels_for_isa(), !problem.geometry.isIdentity else { return nil }
        self.problem = problem
        self.kernels = kernels.pointee
    }

    /// The float32 tiles for a problem on `T` elements: nil unless `T` is `Float` (and `init` agrees).
    init?<T>(_ problem: ConvProblem, _: T.Type) {
        guard T.self == Float.self else { return nil }
        self.init(problem)
    }

    /// The tiles for the ∂input of a stride-1 convolution with this geometry, as the convolution of
    /// ∂y (`positionChannels` channels) by the transposed, reversed weight with padding
    /// `dilation·(k − 1) − padding`; nil for other strides.
    static func inputGradient<T>(of problem: ConvProblem, _: T.Type) -> ImplicitConvolution? {
        let g = problem.geometry
        guard g.sd == 1 && g.sh == 1 && g.sw == 1 else { return nil }
        let transposed = ConvGeometry(image: [g.od, g.oh, g.ow], positions: [g.id, g.ih, g.iw], kernel: [g.kd, g.kh, g.kw],
                                      stride: [1, 1, 1],
                                      padding: [g.dd * (g.kd - 1) - g.pd, g.dh * (g.kh - 1) - g.ph, g.dw * (g.kw - 1) - g.pw],
                                      dilation: [g.dd, g.dh, g.dw])
        return ImplicitConvolution(ConvProblem(geometry: transposed, batch: problem.batch, imageChannels: problem.positionChannels,
                                               positionChannels: problem.imageChannels, groups: problem.groups), T.self)
    }

    /// The convolution `positions = bias + weight ⋆ image` (`T` is `Float`).
    func forward<T>(image: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>?, positions: UnsafeMutablePointer<T>) {
        multiply(image: floats(image), weights: packWeight(floats(weight)), bias: bias.map(floats), positions: mutableFloats(positions))
    }

    /// For the problem of `inputGradient(of:)`: `∂x = weightᵀ ⋆ ∂y` (`T` is `Float`).
    func inputGradient<T>(gy: UnsafePointer<T>, weight: UnsafePointer<T>, gx: UnsafeMutablePointer<T>) {
        multiply(image: floats(gy), weights: packTransposedWeight(floats(weight)), bias: nil, positions: mutableFloats(gx))
    }

    /// `∂W += ∂y · columnsᵀ` (`T` is `Float`); returns whether it wrote `biasGradient` too.
    func weightGradient<T>(image: UnsafePointer<T>, positions: UnsafePointer<T>, into gw: UnsafeMutablePointer<T>,
                           biasGradient: UnsafeMutablePointer<T>?) -> Bool {
        weightGradient(image: floats(image), positions: floats(positions), into: mutableFloats(gw),
                       biasGradient: biasGradient.map(mutableFloats))
    }

    private func floats<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
        precondition(T.self == Float.self)
        return UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    private func mutableFloats<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        precondition(T.self == Float.self)
        return UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    var taps: Int { problem.geometry.kernelVolume }

    /// Whether `weightGradient` serves this problem: stride 1 (the padded layout).
    var coversWeightGradient: Bool { PaddedLayout(problem.geometry) != nil }

    // MARK: Forward

    /// The left operand of `multiply`, `A_g` `[rows, depth]` with `depth = Cig·T`, packed per group
    /// into panels of `mr` rows: `data[((g·panels + i)·depth + k)·mr + r] = A_g[i·mr + r, k]` (zero
    /// past the last row).
    struct PackedWeights {
        let rows: Int, depth: Int, panels: Int
        let data: [Float]
    }

    /// `A_g[o, c·T + q] = weight[g·Cpg + o, c, q]`: the convolution's own weight, whose panels
    /// interleave rows in place (`pack_rows`).
    func packWeight(_ w: UnsafePointer<Float>) -> PackedWeights {
        let (Cpg, depth, mr) = (problem.positionGroup, problem.imageGroup * taps, kernels.mr)
        return pack(rows: Cpg, depth: depth) { g, o0, m, dst in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: mr) { rows in
                for r in 0..<m { rows[r] = w + (g * Cpg + o0 + r) * depth }
                kernels.pack_rows(rows.baseAddress!, m, depth, dst)
            }
        }
    }

    /// `A_g[c, o·T + q] = weight[g·Co/G + o, c, T − 1 − q]` for the convolution whose image is this
    /// problem's positions (`Co` channels): the weight of its ∂input as a convolution. A panel's
    /// `mr` rows of one `o` are `mr · T` contiguous weights, read once, in order.
    func packTransposedWeight(_ w: UnsafePointer<Float>) -> PackedWeights {
        let (rows, Cog, T, mr) = (problem.positionGroup, problem.imageGroup, taps, kernels.mr)
        return pack(rows: rows, depth: Cog * T) { g, c0, m, dst in
            for o in 0..<Cog {
                let src = w + ((g * Cog + o) * rows + c0) * T, out = dst + o * T * mr
                for q in 0..<T {
                    for r in 0..<mr { out[q * mr + r] = r < m ? src[r * T + T - 1 - q] : 0 }
                }
            }
        }
    }

    /// Packs `A_g`, `panel(g, i, m, dst)` writing the panel of its rows `i ..< i + m` (`m ≤ mr`,
    /// zero rows past them) to `dst`; panels split across the cores.
    private func pack(rows: Int, depth: Int,
                      _ panel: (_ g: Int, _ first: Int, _ m: Int, _ dst: UnsafeMutablePointer<Float>) -> Void) -> PackedWeights {
        let mr = kernels.mr, panels = (rows + mr - 1) / mr, G = problem.groups
        let data = BLASKernels.uninitialized(G * panels * depth * mr) { (p: UnsafeMutablePointer<Float>) in
            SIMDParallel.forEach(G * panels, costPerItem: mr * depth) { items in
                for item in items {
                    let (g, i) = item.quotientAndRemainder(dividingBy: panels)
                    panel(g, i * mr, min(mr, rows - i * mr), p + item * depth * mr)
                }
            }
        }
        return PackedWeights(rows: rows, depth: depth, panels: panels, data: data)
    }

    /// `positions[b, g·Cpg + o, p] = bias[g·Cpg + o] + Σ_k A_g[o, k] · columns_g[k, (b, p)]`,
    /// written over every element of `positions`.
    func multiply(image: UnsafePointer<Float>, weights a: PackedWeights, bias: UnsafePointer<Float>?,
                  positions out: UnsafeMutablePointer<Float>) {
        let geo = problem.geometry, P = geo.positionCount, T = taps
        let (Cp, Cig, M, G) = (problem.positionChannels, problem.imageGroup, a.rows, problem.groups)
        let (mr, nr) = (kernels.mr, kernels.nr)
        guard problem.batch * P > 0 && M > 0 else { return }
        Columns.of(problem, image) { columns in
            let chunks = (Cig + max(1, Self.depthTarget / T) - 1) / max(1, Self.depthTarget / T)
            let blockChannels = (Cig + chunks - 1) / chunks
            let panels = ColumnPanels(columns: columns.count, width: nr, groups: G, cores: SIMDParallel.cores,
                                      maxPanels: max(1, min(Self.outputBlockTarget / (a.panels * mr),
                                                            Self.packedBudget / (blockChannels * T)) / nr))
            let ldc = panels.maxPanels * nr
            let tile = kernels.tile!
            BLASKernels.reading(a.data) { aData in
                SIMDParallel.forEach(G * panels.blocks, costPerItem: 2 * M * a.depth * ldc) { items in
                    let packed = UnsafeMutablePointer<Float>.allocate(capacity: blockChannels * T * ldc)
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: columns.layout == nil ? T * ldc : 1)
                    let block = UnsafeMutablePointer<Float>.allocate(capacity: a.panels * mr * ldc)
                    let pieces = UnsafeMutablePointer<ck_piece>.allocate(capacity: panels.maxPanels * nr)
                    defer { packed.deallocate(); scratch.deallocate(); block.deallocate(); pieces.deallocate() }
                    for item in items {
                        let (g, blockIndex) = item.quotientAndRemainder(dividingBy: panels.blocks)
                        let (n0, nn) = panels.columns(of: blockIndex)
                        let np = (nn + nr - 1) / nr
                        let pieceCount = columns.layout == nil ? 0 : columns.pieces(n0, nn, nr: nr, into: pieces)
                        let ag = aData + g * a.panels * a.depth * mr
                        for c0 in stride(from: 0, to: Cig, by: blockChannels) {
                            let cn = min(blockChannels, Cig - c0), depth = cn * T
                            for c in 0..<cn {
                                columns.pack(channel: g * Cig + c0 + c, n0, nn, pieces: pieces, pieceCount, last: c == cn - 1,
                                             into: packed, row: c * T, depth: depth, kernels: kernels, scratch: scratch, ld: ldc)
                            }
                            for i in 0..<a.panels {
                                let ai = ag + (i * a.depth + c0 * T) * mr
                                for j in 0..<np {
                                    tile(depth, ai, packed + j * depth * nr, block + i * mr * ldc + j * nr, ldc, mr, nr, c0 > 0 ? 1 : 0)
                                }
                            }
                        }
                        // The block's columns into the output planes, plus the bias.
                        columns.forEachSegment(n0, nn) { b, p, col, count in
                            for o in 0..<M {
                                let channel = g * M + o
                                let dst = out + (b * Cp + channel) * P + p, src = block + o * ldc + col
                                if let bias {
                                    ConvKernels.addingScalar(bias[channel], src, into: dst, count)
                                } else {
                                    ConvKernels.copy(src, into: dst, count)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
