import NNCore

/// `pad` as row copies. Every mode is separable (`PadCall.sourceCoordinate`): output element
/// (j_0, ..., j_{n−1}) reads input element (m_0(j_0), ..., m_{n−1}(j_{n−1})), or the constant
/// `value` where some m_d(j_d) is nothing. So each output row (the last dim) reads one input row
/// (or is all fill), and along it an interior j ∈ [max(b, 0), min(W_out, W_in + b)) reads
/// m(j) = j − b, a contiguous copy; only the few edge positions go through the map.
///
/// Backward (`ConstantPadNdBackward0`, `ReflectionPad{1,2,3}DBackward0`,
/// `ReplicationPad{1,2,3}DBackward0`, `CopySlices`; nothing saved):
///
/// - constant: dx = pad(g, −pads) with 0 fill: each input element is read at most once, so the
///   backward is the same row gather the other way round;
/// - reflect / replicate / circular: dx_{m(j)} += g_j in output order (as the reference adds),
///   planes of the unpadded leading dims split across cores, the interior of each row added as
///   one vector loop.
extension Optimized {
    static let simdPadOps: [String: OpFunction] = [
        "pad": { try .tensor(simdPad(PadCall($0))) },
    ]

    static func simdPad(_ call: PadCall) -> Tensor {
        let x = call.input, out = call.outputShape
        let lead = x.dim - call.pads.count
        let maps: [[Int]] = out.indices.map { d in
            guard d >= lead else { return Array(0..<out[d]) }
            return (0..<out[d]).map { call.sourceCoordinate($0, paddedDim: d - lead) ?? -1 }
        }
        let shift = call.pads.last?.before ?? 0
        let forward = RowGather(source: x.shape, target: out, maps: maps, shift: shift)
        let y = Tensor(shape: out, data: moveElements(x.data, count: forward.targetCount, fill: call.value, forward))
        guard call.mode != .constant else {
            // Input element i is output element i + before (where that exists): a gather back.
            let backMaps: [[Int]] = x.shape.indices.map { d in
                let before = d >= lead ? call.pads[d - lead].before : 0
                return (0..<x.shape[d]).map { i in i + before >= 0 && i + before < out[d] ? i + before : -1 }
            }
            let backward = RowGather(source: out, target: x.shape, maps: backMaps, shift: -shift)
            return y.recording(call.backwardName, inputs: [x]) { g in
                [Tensor(shape: x.shape, data: moveElements(g.data, count: x.numel, backward))]
            }
        }
        return y.recording(call.backwardName, inputs: [x]) { g in
            switch g.data {
            case .float32(let gs): return [Tensor(shape: x.shape, forward.scatterAdd(gs, planes: x.shape[..<lead].reduce(1, *)))]
            case .float64(let gs): return [Tensor(shape: x.shape, forward.scatterAdd(gs, planes: x.shape[..<lead].reduce(1, *)))]
            default: preconditionFailure("gradients are floating point")
            }
        }
    }
}

/// A separable gather from a row-major `source` into a row-major `target`: target element
/// (j_0, ..., j_{n−1}) is source element (maps[0][j_0], ..., maps[n−1][j_{n−1}]), or the fill
/// where some map entry is −1. Along the last dim the map is j − `shift` wherever that lies in
/// the source row (the copied interior); a 0-dim shape is one row of one element.
struct RowGather: ElementMove {
    let sourceRow: Int, targetRow: Int
    let rowCount: Int, sourceCount: Int
    /// Per outer target dim (all but the last), each coordinate's source offset, or −1.
    let outerOffsets: [[Int]]
    let lastMap: [Int]
    /// The interior of a target row: target j reads source j − shift for j in `interior`.
    let interior: Range<Int>
    let shift: Int

    var targetCount: Int { rowCount * targetRow }

    init(source: [Int], target: [Int], maps: [[Int]], shift: Int) {
        let (source, target, maps) = source.isEmpty ? ([1], [1], [[0]]) : (source, target, maps)
        let strides = contiguousStrides(source)
        sourceRow = source.last!
        targetRow = target.last!
        rowCount = target.dropLast().reduce(1, *)
        sourceCount = source.reduce(1, *)
        outerOffsets = maps.dropLast().enumerated().map { d, map in map.map { $0 < 0 ? -1 : $0 * strides[d] } }
        lastMap = maps.last!
        let lo = min(max(shift, 0), targetRow), hi = min(targetRow, sourceRow + shift)
        interior = lo ..< max(lo, hi)
        self.shift = shift
    }

    /// The source offset of target row `r`'s first element, or −1 when the row is all fill.
    @inline(__always)
    func sourceOffset(_ r: Int) -> Int {
        var rest = r, offset = 0
        for d in stride(from: outerOffsets.count - 1, through: 0, by: -1) {
            let map = outerOffsets[d]
            let (q, j) = rest.quotientAndRemainder(dividingBy: map.count)
            let o = map[j]
            if o < 0 { return -1 }
            offset += o
            rest = q
        }
        return offset
    }

    func move<E>(_ src: UnsafePointer<E>, _ dst: UnsafeMutablePointer<E>, fill: E) {
        let w = targetRow, interior = interior, shift = shift
        lastMap.withPointer { map in
            SIMDParallel.forEach(rowCount, costPerItem: w) { rows in
                for r in rows {
                    let out = dst + r * w, base = sourceOffset(r)
                    guard base >= 0 else {
                        out.initialize(repeating: fill, count: w)
                        continue
                    }
                    let row = src + base
                    for j in 0..<interior.lowerBound { out[j] = map[j] < 0 ? fill : row[map[j]] }
                    (out + interior.lowerBound).initialize(from: row + interior.lowerBound - shift, count: interior.count)
                    for j in interior.upperBound..<w { out[j] = map[j] < 0 ? fill : row[map[j]] }
                }
            }
        }
    }

    /// The adjoint of `move` for a gather without fill: dx_{source(k)} += g_k in target order,
    /// over `planes` independent leading slabs of the target (each reading its own slab of the
    /// source, so the slabs run on different cores).
    func scatterAdd<T: BLASScalar>(_ g: [T], planes: Int) -> [T] {
        let w = targetRow, interior = interior, shift = shift
        let rowsPerPlane = planes == 0 ? 0 : rowCount / planes
        return g.withPointer { gp in
            lastMap.withPointer { map in
                makePlanewiseZeroedArray(planes: planes, planeSize: planes == 0 ? 0 : sourceCount / planes,
                                         costPerPlane: rowsPerPlane * w) { (range, dx: UnsafeMutablePointer<T>) in
                    for r in range.lowerBound * rowsPerPlane ..< range.upperBound * rowsPerPlane {
                        let gr = gp + r * w, row = dx + sourceOffset(r)
                        for j in 0..<interior.lowerBound { row[map[j]] += gr[j] }
                        ConvKernels.add(gr + interior.lowerBound, into: row + interior.lowerBound - shift, interior.count)
                        for j in interior.upperBound..<w { row[map[j]] += gr[j] }
                    }
                }
            }
        }
    }
}
