import NNCore

extension Reference {
    static let linearOps: [String: OpFunction] = [
        "linear": { args in .tensor(try linear(LinearCall(args))) },
        "bilinear": { args in .tensor(try bilinear(BilinearCall(args))) },
    ]

    /// y[r, o] = Σᵢ x[r, i]·W[o, i] + b[o], for each row r of the flattened input.
    ///
    /// Backward: ∂x[r, i] = Σₒ g[r, o]·W[o, i];  ∂W[o, i] = Σᵣ g[r, o]·x[r, i];  ∂b = g summed
    /// down to b's shape. A 1-D weight is the single-output case with the output dim dropped.
    static func linear(_ c: LinearCall) throws -> Tensor {
        switch c.input.dtype {
        case .float32: return try linear(Float.self, c)
        default: return try linear(Double.self, c)
        }
    }

    private static func linear<T: FloatScalar>(_: T.Type, _ c: LinearCall) throws -> Tensor {
        let x = c.input.values(T.self), w = c.weight.values(T.self)
        let (rows, n, m) = (c.rows, c.inFeatures, c.outFeatures ?? 1)
        var y = [T](repeating: 0, count: rows * m)
        for r in 0..<rows {
            for o in 0..<m {
                var acc: T = 0
                for i in 0..<n { acc += x[r * n + i] * w[o * n + i] }
                y[r * m + o] = acc
            }
        }
        if let b = c.bias {
            let bv = b.values(T.self)
            for (k, j) in broadcastIndices(from: b.shape, to: c.outputShape).enumerated() { y[k] += bv[j] }
        }
        let savedX = SavedTensor(c.input), savedW = SavedTensor(c.weight)
        let (inShape, wShape, outShape, biasShape) = (c.input.shape, c.weight.shape, c.outputShape, c.bias?.shape)
        return Tensor(shape: c.outputShape, y).recording(c.backwardName, inputs: [c.input, c.weight, c.bias],
                                                         saving: [savedX, savedW]) { grad in
            let g = grad.values(T.self)
            let x = try savedX.unpack().values(T.self), w = try savedW.unpack().values(T.self)
            var gx = [T](repeating: 0, count: rows * n), gw = [T](repeating: 0, count: m * n)
            for r in 0..<rows {
                for o in 0..<m {
                    let go = g[r * m + o]
                    for i in 0..<n {
                        gx[r * n + i] += go * w[o * n + i]
                        gw[o * n + i] += go * x[r * n + i]
                    }
                }
            }
            let gb = biasShape.map { Tensor(shape: $0, sumToShape(g, from: outShape, to: $0)) }
            return [Tensor(shape: inShape, gx), Tensor(shape: wShape, gw), gb]
        }
    }

    /// y[r, o] = Σᵢ Σⱼ x₁[r, i]·A[o, i, j]·x₂[r, j] + b[o].
    ///
    /// Backward: ∂x₁[r, i] = Σₒ g[r, o] Σⱼ A[o, i, j]·x₂[r, j];  ∂x₂[r, j] = Σₒ g[r, o] Σᵢ x₁[r, i]·A[o, i, j];
    /// ∂A[o, i, j] = Σᵣ g[r, o]·x₁[r, i]·x₂[r, j];  ∂b[o] = Σᵣ g[r, o].
    static func bilinear(_ c: BilinearCall) throws -> Tensor {
        switch c.input1.dtype {
        case .float32: return try bilinear(Float.self, c)
        default: return try bilinear(Double.self, c)
        }
    }

    private static func bilinear<T: FloatScalar>(_: T.Type, _ c: BilinearCall) throws -> Tensor {
        let (rows, p, q, m) = (c.rows, c.in1, c.in2, c.out)
        let a = c.weight.values(T.self), x1 = c.input1.values(T.self), x2 = c.input2.values(T.self)
        let bv = c.bias?.values(T.self)
        var y = [T](repeating: 0, count: rows * m)
        for r in 0..<rows {
            for o in 0..<m {
                var acc: T = 0
                for i in 0..<p {
                    for j in 0..<q { acc += x1[r * p + i] * a[(o * p + i) * q + j] * x2[r * q + j] }
                }
                y[r * m + o] = acc + (bv?[o] ?? 0)
            }
        }
        let saved = [SavedTensor(c.input1), SavedTensor(c.input2), SavedTensor(c.weight)]
        let shapes = (c.input1.shape, c.input2.shape, c.weight.shape)
        let hasBias = c.bias != nil
        return Tensor(shape: c.outputShape, y).recording(c.backwardName, inputs: [c.input1, c.input2, c.weight, c.bias],
                                                         saving: saved) { grad in
            let g = grad.values(T.self)
            let x1 = try saved[0].unpack().values(T.self), x2 = try saved[1].unpack().values(T.self)
            let a = try saved[2].unpack().values(T.self)
            var g1 = [T](repeating: 0, count: rows * p), g2 = [T](repeating: 0, count: rows * q)
            var ga = [T](repeating: 0, count: m * p * q), gb = [T](repeating: 0, count: m)
            for r in 0..<rows {
                for o in 0..<m {
                    let go = g[r * m + o]
                    gb[o] += go
                    for i in 0..<p {
                        for j in 0..<q {
                            let k = (o * p + i) * q + j
                            g1[r * p + i] += go * a[k] * x2[r * q + j]
                            g2[r * q + j] += go * x1[r * p + i] * a[k]
                            ga[k] += go * x1[r * p + i] * x2[r * q + j]
                        }
                    }
                }
            }
            return [Tensor(shape: shapes.0, g1), Tensor(shape: shapes.1, g2), Tensor(shape: shapes.2, ga),
                    hasBias ? Tensor(shape: [m], gb) : nil]
        }
    }
}
