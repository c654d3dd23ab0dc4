import NNCore

/// `sum` and `mean`. Each input element i adds into output element `target[i]`, where
/// `target` is the broadcasting map from the keepdim-shaped result onto the input's shape;
/// the backward runs the same map the other way (each input element gets its output's gradient).
extension Reference {
    static let reductionOps: [String: OpFunction] = [
        "sum": { try .tensor(reduce(ReductionCall(.sum, $0))) },
        "mean": { try .tensor(reduce(ReductionCall(.mean, $0))) },
    ]

    /// sum_j = Σ_{i ↦ j} x_i and mean_j = sum_j / n, accumulated in order in the result dtype
    /// (int64 wraps; a bool sum is a logical or).
    static func reduce(_ call: ReductionCall) -> Tensor {
        let x = call.input
        let keptShape = x.shape.indices.map { call.dims.contains($0) ? 1 : x.shape[$0] }
        let target = broadcastIndices(from: keptShape, to: x.shape)
        let outCount = keptShape.reduce(1, *)
        let data: TensorData
        switch x.data.converted(to: call.dtype) {
        case .float32(let a): data = .float32(sumOrMean(call, a, target, outCount))
        case .float64(let a): data = .float64(sumOrMean(call, a, target, outCount))
        case .int64(let a): data = .int64(accumulate(a, target, outCount, zero: 0) { $0 &+ $1 })
        case .bool(let a): data = .bool(accumulate(a, target, outCount, zero: false) { $0 || $1 })
        }
        let y = Tensor(shape: call.outputShape, data: data)
        return y.recording(call.backwardName, inputs: [x]) { g in [expand(call, g, target)] }
    }

    private static func sumOrMean<T: FloatScalar>(_ call: ReductionCall, _ x: [T], _ target: [Int], _ outCount: Int) -> [T] {
        let sums = accumulate(x, target, outCount, zero: 0) { $0 + $1 }
        guard call.kind == .mean else { return sums }
        let n = T(call.count)
        return sums.map { $0 / n }
    }

    /// out[target[i]] ⊕= x[i] for every i, in order.
    private static func accumulate<A>(_ x: [A], _ target: [Int], _ outCount: Int, zero: A, _ add: (A, A) -> A) -> [A] {
        var out = [A](repeating: zero, count: outCount)
        for i in x.indices { out[target[i]] = add(out[target[i]], x[i]) }
        return out
    }

    /// dx_i = g_{target[i]} for `sum`, g_{target[i]} / n for `mean`, in the input's dtype.
    private static func expand(_ call: ReductionCall, _ g: Tensor, _ target: [Int]) -> Tensor {
        switch g.dtype {
        case .float32: return expand(Float.self, call, g, target)
        case .float64: return expand(Double.self, call, g, target)
        default: preconditionFailure("gradients are floating point")
        }
    }

    private static func expand<T: FloatScalar>(_: T.Type, _ call: ReductionCall, _ g: Tensor, _ target: [Int]) -> Tensor {
        let gs = g.values(T.self)
        let n = T(call.count)
        let dx = target.map { call.kind == .mean ? gs[$0] / n : gs[$0] }
        return Tensor(shape: call.input.shape, data: T.wrap(dx).converted(to: call.input.dtype))
    }
}
