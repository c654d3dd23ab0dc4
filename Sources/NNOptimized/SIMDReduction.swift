import NNCore

/// `sum` and `mean` over any dims (the shared `ReductionCall`), recorded as the reference
/// records them (`SumBackward0/1`, `MeanBackward0/1`, saving nothing). Floating-point sums
/// run over the broadcast plan of the kept shape against the input: a reduced contiguous run
/// is summed in 16 float lanes, a kept one accumulated row by row; integer and bool sums
/// wrap / or in order as the reference does.
extension Optimized {
    static let simdReductionOps: [String: OpFunction] = [
        "sum": { try .tensor(simdReduce(ReductionCall(.sum, $0))) },
        "mean": { try .tensor(simdReduce(ReductionCall(.mean, $0))) },
    ]

    static func simdReduce(_ call: ReductionCall) -> Tensor {
        let x = call.input
        let kept = x.shape.indices.map { call.dims.contains($0) ? 1 : x.shape[$0] }
        let data: TensorData
        switch x.data.converted(to: call.dtype) {
        case .float32(let a): data = .float32(floatingReduce(call, a, kept))
        case .float64(let a): data = .float64(floatingReduce(call, a, kept))
        case .int64(let a): data = .int64(orderedReduce(a, x.shape, kept, zero: 0) { $0 &+ $1 })
        case .bool(let a): data = .bool(orderedReduce(a, x.shape, kept, zero: false) { $0 || $1 })
        }
        let y = Tensor(shape: call.outputShape, data: data)
        return y.recording(call.backwardName, inputs: [x]) { g in
            switch g.data {
            case .float32(let gs): return [expandGradient(call, gs, kept)]
            case .float64(let gs): return [expandGradient(call, gs, kept)]
            default: preconditionFailure("gradients are floating point")
            }
        }
    }

    private static func floatingReduce<T: FloatScalar>(_ call: ReductionCall, _ x: [T], _ kept: [Int]) -> [T] {
        let sums = sumToShapeFast(x, from: call.input.shape, to: kept)
        guard call.kind == .mean else { return sums }
        let n = T(call.count)
        return sums.map { $0 / n }
    }

    /// out[target(i)] ⊕= x[i] in input order.
    private static func orderedReduce<A>(_ x: [A], _ shape: [Int], _ kept: [Int], zero: A, _ add: (A, A) -> A) -> [A] {
        var out = [A](repeating: zero, count: kept.reduce(1, *))
        for (i, t) in broadcastIndices(from: kept, to: shape).enumerated() { out[t] = add(out[t], x[i]) }
        return out
    }

    /// dx_i = g at i's output (/ n for `mean`), in the input's dtype.
    private static func expandGradient<T: FloatScalar>(_ call: ReductionCall, _ g: [T], _ kept: [Int]) -> Tensor {
        let shape = call.input.shape, plan = BroadcastPlan(kept, kept, to: shape)
        let n = T(call.count), mean = call.kind == .mean
        let dx: [T] = g.withPointer { gp in
            makeArray(shape.reduce(1, *)) { out in broadcastCombine(plan, gp, gp, out) { v, _ in mean ? v / n : v } }
        }
        return Tensor(shape: shape, data: T.wrap(dx).converted(to: call.input.dtype))
    }
}
