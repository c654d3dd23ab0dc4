import NNCore

/// Elements `max`/`min` can compare: the scan replaces its candidate c by x when
/// `replaces(x, c)` and stops at an element that `endsScan` (a NaN).
protocol Selectable {
    static func replaces(_ x: Self, _ c: Self, largest: Bool) -> Bool
    var endsScan: Bool { get }
}

extension Selectable where Self: BinaryFloatingPoint {
    /// ATen's `!(x <= c)` (`!(x >= c)` for min): true for a larger (smaller) x or a NaN.
    static func replaces(_ x: Self, _ c: Self, largest: Bool) -> Bool { largest ? !(x <= c) : !(x >= c) }
    var endsScan: Bool { isNaN }
}

extension Float: Selectable {}
extension Double: Selectable {}

extension Int64: Selectable {
    static func replaces(_ x: Int64, _ c: Int64, largest: Bool) -> Bool { largest ? x > c : x < c }
    var endsScan: Bool { false }
}

extension Bool: Selectable {
    static func replaces(_ x: Bool, _ c: Bool, largest: Bool) -> Bool { largest ? x && !c : !x && c }
    var endsScan: Bool { false }
}

/// `max`, `min`, `argmax`, `argmin`.
extension Reference {
    /// The selected position along each run (see `SelectionCall`). `max(input, dim)` returns
    /// (values, indices) with `MaxBackward0`: the gradient goes to the selected element alone.
    /// `max(input)` returns the value with `MaxBackward1`: the gradient is shared equally by
    /// every element equal to it (every NaN when it is NaN). `argmax` returns the indices.
    static func select(_ call: SelectionCall) throws -> Value {
        let x = call.input
        let runs = call.dim.map { Runs(x.shape, dim: $0) } ?? Runs([x.numel], dim: 0)
        let positions: [Int]
        switch x.data {
        case .float32(let a): positions = selectedPositions(a, runs, largest: call.largest)
        case .float64(let a): positions = selectedPositions(a, runs, largest: call.largest)
        case .int64(let a): positions = selectedPositions(a, runs, largest: call.largest)
        case .bool(let a): positions = selectedPositions(a, runs, largest: call.largest)
        }
        let indices = Tensor(shape: call.outputShape, int64: positions.map { Int64($0) })
        guard call.returnsValues else { return .tensor(indices) }
        let flat = positions.enumerated().map { runs.index($0.offset, $0.element) }
        guard call.dim == nil else {
            let values = gathered(x, flat, shape: call.outputShape, name: call.backwardName)
            return .list([.tensor(values), .tensor(indices)])
        }
        let value = Tensor(shape: [], data: gather(x.data, flat))
        let saved = SavedTensor(x)
        value.recording(call.backwardName, inputs: [x], saving: [saved]) { g in
            let input = try saved.unpack()
            switch (input.data, g.data) {
            case (.float32(let xs), .float32(let gs)): return [Tensor(shape: input.shape, sharedAmongTies(xs, gs[0], xs[flat[0]]))]
            case (.float64(let xs), .float64(let gs)): return [Tensor(shape: input.shape, sharedAmongTies(xs, gs[0], xs[flat[0]]))]
            default: preconditionFailure("gradients are floating point")
            }
        }
        return .tensor(value)
    }

    /// For each run, the position j of the selected element: ATen's scan from j = 0.
    private static func selectedPositions<E: Selectable>(_ x: [E], _ runs: Runs, largest: Bool) -> [Int] {
        (0..<runs.count).map { r in
            var best = 0, candidate = x[runs.index(r, 0)]
            for j in 0..<runs.size {
                let v = x[runs.index(r, j)]
                guard E.replaces(v, candidate, largest: largest) else { continue }
                (best, candidate) = (j, v)
                if v.endsScan { break }
            }
            return best
        }
    }

    /// ATen's `evenly_distribute_backward`: g / m to each of the m elements equal to `value`
    /// (NaN: to each NaN), 0 elsewhere.
    private static func sharedAmongTies<T: FloatScalar>(_ x: [T], _ g: T, _ value: T) -> [T] {
        let selected = x.map { value.isNaN ? $0.isNaN : $0 == value }
        let share = g / T(selected.filter { $0 }.count)
        return selected.map { $0 ? share : 0 }
    }
}
