import NNCore

/// `dropout`, `alpha_dropout`, `feature_alpha_dropout`, `dropout1d/2d/3d` as ATen computes them
/// on the CPU, rounding included: with every factor rounded to the dtype T first,
///   dropout: y = x · n,  n = m · (1 / T(q))            (`MulBackward0` saving n)
///   alpha:   y = x · n + c,  n = m · T(a),  c = m ? T(b) : −T(a·α) + T(b)   (then `AddBackward0`)
/// and the backward multiplies the gradient by the same n. p = 1 is y = x · 0 for every kind.
/// Masks come from `DropoutGenerator.current` (NNCore), drawn unit by unit in row-major order.
extension Reference {
    static let dropoutOps: [String: OpFunction] = Dictionary(uniqueKeysWithValues: DropoutFunction.allCases.map { f in
        (f.rawValue, { args in .tensor(try dropout(DropoutCall(f, args))) } as OpFunction)
    })

    /// The call as every backend records it (`DropoutCall.record`), with plain loops for the data.
    static func dropout(_ call: DropoutCall) throws -> Tensor {
        try call.record(compute: { x in factors(call, x) }, multiply: { g, n in elementwise(g, n, *, *) })
    }

    /// The mask for `x` (the input or its batched view), then n, and y = x · n (+ c).
    private static func factors(_ call: DropoutCall, _ x: Tensor) -> DropoutData {
        let keep = call.action == .mask ? DropoutGenerator.current.keeps(call.units, probability: 1 - call.p)
            : Array(repeating: false, count: call.units)
        let alpha = call.function.isAlpha && call.action == .mask
        let (noise, shift): (TensorData, TensorData?)
        switch x.dtype {
        case .float32: (noise, shift) = factors(Float.self, call, keep, alpha: alpha, count: x.numel)
        case .float64: (noise, shift) = factors(Double.self, call, keep, alpha: alpha, count: x.numel)
        default: (noise, shift) = (.zeros(x.dtype, count: x.numel), nil)  // only p = 1 gets here
        }
        let product = elementwise(x.data, noise, *, *)
        guard let shift else { return DropoutData(noise: noise, output: product, shifted: false) }
        return DropoutData(noise: noise, output: elementwise(product, shift, +, +), shifted: true)
    }

    /// Per element: the factor n (0 where dropped) and, for alpha dropout, the shift c; each
    /// unit's value repeated over its `count / keep.count` elements.
    private static func factors<T: FloatScalar>(_: T.Type, _ call: DropoutCall, _ keep: [Bool], alpha: Bool,
                                                count: Int) -> (TensorData, TensorData?) {
        let perUnit = count / keep.count
        func expand(_ kept: T, _ dropped: T) -> TensorData {
            T.wrap(keep.flatMap { Array(repeating: $0 ? kept : dropped, count: perUnit) })
        }
        guard alpha else { return (expand(1 / T(1 - call.p), 0), nil) }
        let k = AlphaDropoutConstants(p: call.p)
        let b = T(k.b)
        return (expand(T(k.a), 0), expand(b, -T(k.a * AlphaDropoutConstants.alpha) + b))
    }

    /// `op` element by element on two tensors' data of the same dtype and size, in that dtype.
    /// Integers and bools only get here for p = 1, as x · 0 = 0.
    private static func elementwise(_ u: TensorData, _ v: TensorData,
                                    _ op32: (Float, Float) -> Float, _ op64: (Double, Double) -> Double) -> TensorData {
        switch (u, v) {
        case (.float32(let a), .float32(let b)): return .float32(zip(a, b).map(op32))
        case (.float64(let a), .float64(let b)): return .float64(zip(a, b).map(op64))
        default: return .zeros(u.dtype, count: u.count)
        }
    }
}
