import NNCore

/// `max`, `min`, `argmax`, `argmin` (`SelectionCall`): along each run of the reduced dim (or the
/// whole tensor, flattened), the position of the first maximum (minimum), except that the
/// first NaN wins — ATen's scan, which replaces its candidate c by x when !(x <= c)
/// (!(x >= c) for min) and stops at a NaN.
///
/// - A contiguous float32 run is scanned in 16 lanes: each lane keeps the first best of its
///   elements (a lane stops replacing once it holds a NaN), then the lanes are combined (the
///   smallest index among NaN lanes, else among the best lanes) and the tail continues the scan.
/// - Runs `inner` apart are scanned side by side, one row of candidates per step.
/// - The whole-tensor reduction is cut into chunks across cores whose results are combined in
///   order by the same scan rule.
///
/// `max(input, dim)` records `MaxBackward0` (the gradient goes to the selected element);
/// `max(input)` records `MaxBackward1` saving the input (the gradient is shared equally among
/// the elements equal to the result, every NaN when it is NaN).
extension Optimized {
    static let simdSelectionOps: [String: OpFunction] = [
        "max": { try simdSelect(SelectionCall(.max, $0)) },
        "min": { try simdSelect(SelectionCall(.min, $0)) },
        "argmax": { try simdSelect(SelectionCall(.argmax, $0)) },
        "argmin": { try simdSelect(SelectionCall(.argmin, $0)) },
    ]

    static func simdSelect(_ call: SelectionCall) throws -> Value {
        let x = call.input, largest = call.largest
        let s: Slices = call.dim.map { x.dim == 0 ? (1, 1, 1) : (x.shape[..<$0].reduce(1, *), x.shape[$0], x.shape[($0 + 1)...].reduce(1, *)) }
            ?? (1, x.numel, 1)
        let positions: [Int]
        switch x.data {
        case .float32(let a): positions = selectedPositions(a, s, largest: largest)
        case .float64(let a): positions = selectedPositions(a, s, largest: largest)
        case .int64(let a): positions = selectedPositions(a, s, largest: largest)
        case .bool(let a): positions = selectedPositions(a, s, largest: largest)
        }
        let indices = Tensor(shape: call.outputShape, int64: positions.map { Int64($0) })
        guard call.returnsValues else { return .tensor(indices) }
        // The flat input index of each run's selected element.
        let flat = positions.enumerated().map { r, j in
            let (o, i) = r.quotientAndRemainder(dividingBy: s.inner)
            return (o * s.size + j) * s.inner + i
        }
        let values = Tensor(shape: call.outputShape, data: moveElements(x.data, count: flat.count, Picked(flat: flat)))
        guard call.dim == nil else {
            let y = values.recording(call.backwardName, inputs: [x]) { g in
                switch g.data {
                case .float32(let gs): return [Tensor(shape: x.shape, placed(gs, at: flat, count: x.numel))]
                case .float64(let gs): return [Tensor(shape: x.shape, placed(gs, at: flat, count: x.numel))]
                default: preconditionFailure("gradients are floating point")
                }
            }
            return .list([.tensor(y), .tensor(indices)])
        }
        let saved = SavedTensor(x)
        values.recording(call.backwardName, inputs: [x], saving: [saved]) { g in
            let input = try saved.unpack()
            switch (input.data, g.data) {
            case (.float32(let xs), .float32(let gs)): return [Tensor(shape: input.shape, sharedAmongTies(xs, gs[0], xs[flat[0]]))]
            case (.float64(let xs), .float64(let gs)): return [Tensor(shape: input.shape, sharedAmongTies(xs, gs[0], xs[flat[0]]))]
            default: preconditionFailure("gradients are floating point")
            }
        }
        return .tensor(values)
    }

    /// For each run (row-major over (outer, inner)), the position of its selected element.
    static func selectedPositions<E: ScanSelectable>(_ x: [E], _ s: Slices, largest: Bool) -> [Int] {
        x.withPointer { xp in
            if s.outer == 1 && s.inner == 1 {
                // One run: chunks across cores, combined in order.
                let chunks = SIMDParallel.map(s.size, costPerItem: 1) { r -> (Int, E) in
                    let j = r.lowerBound + E.selectRow(xp + r.lowerBound, r.count, largest: largest)
                    return (j, xp[j])
                }
                var (best, candidate) = chunks[0]
                for (j, v) in chunks.dropFirst() where !candidate.endsScan && E.replaces(v, candidate, largest: largest) {
                    (best, candidate) = (j, v)
                }
                return [best]
            }
            return makeArray(s.outer * s.inner) { (out: UnsafeMutablePointer<Int>) in
                if s.inner == 1 {
                    SIMDParallel.forEach(s.outer, costPerItem: s.size) { r in
                        for o in r { out[o] = E.selectRow(xp + o * s.size, s.size, largest: largest) }
                    }
                    return
                }
                let block = 256, blocks = (s.inner + block - 1) / block
                SIMDParallel.forEach(s.outer * blocks, costPerItem: s.size * min(block, s.inner)) { r in
                    for item in r {
                        let (o, b) = item.quotientAndRemainder(dividingBy: blocks)
                        let columns = b * block ..< min((b + 1) * block, s.inner)
                        E.selectColumns(xp + o * s.size * s.inner, s, columns, out + o * s.inner, largest: largest)
                    }
                }
            }
        }
    }

    /// dx = 0 but dx[flat[r]] = g[r] (`MaxBackward0`: one selected element per run).
    private static func placed<T: FloatScalar>(_ g: [T], at flat: [Int], count: Int) -> [T] {
        makeZeroedArray(count) { dx in
            for (r, k) in flat.enumerated() { dx[k] = g[r] }
        }
    }

    /// ATen's `evenly_distribute_backward`: g / m to each of the m elements equal to `value`
    /// (NaN: to each NaN), 0 elsewhere.
    private static func sharedAmongTies<T: FloatScalar>(_ x: [T], _ g: T, _ value: T) -> [T] {
        let nan = value.isNaN
        return x.withPointer { xp in
            let m = SIMDParallel.map(x.count, costPerItem: 1) { r in
                var c = 0
                if nan { for i in r where xp[i].isNaN { c += 1 } } else { for i in r where xp[i] == value { c += 1 } }
                return c
            }.reduce(0, +)
            let share = g / T(m)
            return makeArray(x.count) { dx in
                SIMDParallel.forEach(x.count, costPerItem: 1) { r in
                    if nan {
                        for i in r { dx[i] = xp[i].isNaN ? share : 0 }
                    } else {
                        for i in r { dx[i] = xp[i] == value ? share : 0 }
                    }
                }
            }
        }
    }
}

/// The gather y[r] = x[flat[r]].
private struct Picked: ElementMove {
    let flat: [Int]
    func move<E>(_ src: UnsafePointer<E>, _ dst: UnsafeMutablePointer<E>, fill _: E) {
        for (r, k) in flat.enumerated() { dst[r] = src[k] }
    }
}

/// Elements the selection scan compares: it replaces its candidate c by x when
/// `replaces(x, c)` and stops once the candidate `endsScan` (a NaN).
protocol ScanSelectable {
    static func replaces(_ x: Self, _ c: Self, largest: Bool) -> Bool
    var endsScan: Bool { get }
    /// The position of the selected element of the contiguous run `x[0..<n]` (n ≥ 1).
    static func selectRow(_ x: UnsafePointer<Self>, _ n: Int, largest: Bool) -> Int
}

extension ScanSelectable {
    /// The scan of `x[start..<n]` continued from the candidate at `best`.
    @inline(__always)
    static func scan(_ x: UnsafePointer<Self>, _ n: Int, from start: Int, best: Int, largest: Bool) -> Int {
        var best = best, candidate = x[best]
        if candidate.endsScan { return best }
        for j in start..<n where replaces(x[j], candidate, largest: largest) {
            (best, candidate) = (j, x[j])
            if candidate.endsScan { break }
        }
        return best
    }

    static func selectRow(_ x: UnsafePointer<Self>, _ n: Int, largest: Bool) -> Int {
        scan(x, n, from: 1, best: 0, largest: largest)
    }

    /// Runs `columns` of a block of `s.size` rows `s.inner` apart scanned side by side: `out[i]`
    /// gets column i's selected position.
    static func selectColumns(_ x: UnsafePointer<Self>, _ s: Optimized.Slices, _ columns: Range<Int>, _ out: UnsafeMutablePointer<Int>,
                              largest: Bool) {
        let w = columns.count, c0 = columns.lowerBound
        withUnsafeTemporaryAllocation(of: Self.self, capacity: w) { buffer in
            let candidate = buffer.baseAddress!
            candidate.initialize(from: x + c0, count: w)
            for i in 0..<w { out[c0 + i] = 0 }
            for j in 1..<max(s.size, 1) {
                let row = x + j * s.inner + c0
                for i in 0..<w where !candidate[i].endsScan && replaces(row[i], candidate[i], largest: largest) {
                    candidate[i] = row[i]
                    out[c0 + i] = j
                }
            }
            candidate.deinitialize(count: w)
        }
    }
}

extension Double: ScanSelectable {
    /// ATen's `!(x <= c)` (`!(x >= c)` for min): true for a larger (smaller) x or a NaN.
    @inline(__always) static func replaces(_ x: Double, _ c: Double, largest: Bool) -> Bool { largest ? !(x <= c) : !(x >= c) }
    var endsScan: Bool { isNaN }
}

extension Int64: ScanSelectable {
    @inline(__always) static func replaces(_ x: Int64, _ c: Int64, largest: Bool) -> Bool { largest ? x > c : x < c }
    var endsScan: Bool { false }
}

extension Bool: ScanSelectable {
    @inline(__always) static func replaces(_ x: Bool, _ c: Bool, largest: Bool) -> Bool { largest ? x && !c : !x && c }
    var endsScan: Bool { false }
}

extension Float: ScanSelectable {
    @inline(__always) static func replaces(_ x: Float, _ c: Float, largest: Bool) -> Bool { largest ? !(x <= c) : !(x >= c) }
    var endsScan: Bool { isNaN }

    /// The scan in 16 lanes: lane k sees elements k, k + 16, ... and keeps the first best of
    /// them (it stops replacing once its candidate is NaN); combining the lanes then gives the
    /// first best (or first NaN) of the vector part, and the tail continues the scalar scan.
    static func selectRow(_ x: UnsafePointer<Float>, _ n: Int, largest: Bool) -> Int {
        guard n >= 32 else { return scan(x, n, from: 1, best: 0, largest: largest) }
        var candidate = vload(x)
        var index = VI(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        var position = index
        var i = 16
        while i + 16 <= n {
            position &+= 16
            let v = vload(x + i)
            let replace = largest ? .!(v .<= candidate) .& (candidate .== candidate) : .!(v .>= candidate) .& (candidate .== candidate)
            candidate.replace(with: v, where: replace)
            index.replace(with: position, where: replace)
            i += 16
        }
        var best = Int(index[0]), value = candidate[0]
        for k in 1..<16 {
            let v = candidate[k], j = Int(index[k])
            if value.isNaN {
                if v.isNaN && j < best { best = j }
            } else if v.isNaN || replaces(v, value, largest: largest) || (v == value && j < best) {
                (best, value) = (j, v)
            }
        }
        return scan(x, n, from: i, best: best, largest: largest)
    }
}
