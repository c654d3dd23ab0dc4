import NNCore

/// `linear` and `bilinear` on GEMMs. Arguments, errors, shapes and `grad_fn` names come from
/// `LinearCall` / `BilinearCall` (NNCore); saved tensors are the reference's.
extension Optimized {
    static let linearOps: [String: OpFunction] = [
        "linear": { .tensor(try LinearOps.linear(LinearCall($0))) },
        "bilinear": { .tensor(try LinearOps.bilinear(BilinearCall($0))) },
    ]
}

enum LinearOps {
    /// The largest intermediate of `bilinear` (rows × out·in1), in elements.
    static let bilinearBudget = 1 << 22

    // MARK: linear

    /// y[r, o] = Σᵢ x[r, i]·W[o, i] + b (broadcast): one GEMM `x·Wᵀ` onto the broadcast bias.
    /// Backward: ∂x = ∂y·W, ∂W = ∂yᵀ·x, ∂b = ∂y summed to b's shape.
    static func linear(_ c: LinearCall) throws -> Tensor {
        switch c.input.dtype {
        case .float32: return try linear(c, Float.self)
        default: return try linear(c, Double.self)
        }
    }

    private static func linear<T: BLASScalar>(_ c: LinearCall, _: T.Type) throws -> Tensor {
        let x = BLASKernels.elements(c.input, T.self), w = BLASKernels.elements(c.weight, T.self)
        let (n, m) = (c.inFeatures, c.outFeatures ?? 1)
        let count = c.outputShape.reduce(1, *), rows = m > 0 ? count / m : c.rows
        let outShape = c.outputShape
        let y: [T] = BLASKernels.uninitialized(count) { y in
            if let bias = c.bias {
                fillBroadcast(BLASKernels.elements(bias, T.self), shape: bias.shape, to: outShape, rowLength: m, y)
            }
            BLASKernels.reading(x) { x in
                BLASKernels.reading(w) { w in
                    BLASKernels.gemm(transB: true, m: rows, n: m, k: n, x, lda: n, w, ldb: n,
                                     accumulate: c.bias != nil, y, ldc: m)
                }
            }
        }
        let savedX = SavedTensor(c.input), savedW = SavedTensor(c.weight)
        let (inShape, wShape, biasShape) = (c.input.shape, c.weight.shape, c.bias?.shape)
        // Whether autograd will use each gradient: an input has an edge exactly when it requires grad now.
        let (needX, needW) = (c.input.requiresGrad, c.weight.requiresGrad)
        return Tensor(shape: outShape, y).recording(c.backwardName, inputs: [c.input, c.weight, c.bias],
                                                    saving: [savedX, savedW]) { grad in
            let g = BLASKernels.elements(grad, T.self)
            let x = BLASKernels.elements(try savedX.unpack(), T.self)
            let w = BLASKernels.elements(try savedW.unpack(), T.self)
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needX {
                let d: [T] = BLASKernels.uninitialized(rows * n) { d in
                    BLASKernels.reading(g) { g in
                        BLASKernels.reading(w) { w in
                            BLASKernels.gemm(m: rows, n: n, k: m, g, lda: m, w, ldb: n, d, ldc: n)
                        }
                    }
                }
                gx = Tensor(shape: inShape, d)
            }
            if needW {
                let d: [T] = BLASKernels.uninitialized(m * n) { d in
                    BLASKernels.reading(g) { g in
                        BLASKernels.reading(x) { x in
                            BLASKernels.gemm(transA: true, m: m, n: n, k: rows, g, lda: m, x, ldb: n, d, ldc: n)
                        }
                    }
                }
                gw = Tensor(shape: wShape, d)
            }
            if let biasShape {
                gb = Tensor(shape: biasShape, sumRows(g, from: outShape, to: biasShape, rowLength: m))
            }
            return [gx, gw, gb]
        }
    }

    /// Writes `b` (of `shape`) broadcast to `out` into `y`; a bias of one row is copied row by row.
    private static func fillBroadcast<T: BLASScalar>(_ b: [T], shape: [Int], to out: [Int], rowLength m: Int,
                                                     _ y: UnsafeMutablePointer<T>) {
        let count = out.reduce(1, *)
        if count == 0 { return }
        if b.count == m && shape.last == m && m > 0 {
            BLASKernels.reading(b) { b in
                for r in 0..<count / m { (y + r * m).update(from: b, count: m) }
            }
        } else if b.count == 1 {
            y.update(repeating: b[0], count: count)
        } else {
            for (k, j) in broadcastIndices(from: shape, to: out).enumerated() { y[k] = b[j] }
        }
    }

    /// `g` (of shape `out`) summed to `shape`; a bias of one row sums the rows of `g` with vector adds.
    private static func sumRows<T: BLASScalar>(_ g: [T], from out: [Int], to shape: [Int], rowLength m: Int) -> [T] {
        guard shape.reduce(1, *) == m && shape.last == m && m > 0 && out != shape else {
            return sumToShape(g, from: out, to: shape)
        }
        let rowCount = g.count / m
        return BLASKernels.zeroed(m) { s in
            BLASKernels.reading(g) { g in
                for r in 0..<rowCount { ConvKernels.add(g + r * m, into: s, m) }
            }
        }
    }

    // MARK: bilinear

    /// y[r, o] = Σᵢ x₁[r, i]·(Σⱼ A[o, i, j]·x₂[r, j]) + b[o]: with `U = x₂·Aᵀ` (A seen as
    /// `[out·in1, in2]`), `y[r, o] = x₁[r, :]·U[r, o, :]`.
    ///
    /// Backward, with `H[r, o, i] = ∂y[r, o]·x₁[r, i]`: ∂x₁[r, i] = Σₒ ∂y[r, o]·U[r, o, i];
    /// ∂x₂ = H·A; ∂A = Hᵀ·x₂; ∂b[o] = Σᵣ ∂y[r, o].
    static func bilinear(_ c: BilinearCall) throws -> Tensor {
        switch c.input1.dtype {
        case .float32: return try bilinear(c, Float.self)
        default: return try bilinear(c, Double.self)
        }
    }

    private static func bilinear<T: BLASScalar>(_ c: BilinearCall, _: T.Type) throws -> Tensor {
        let (rows, p, q, m) = (c.rows, c.in1, c.in2, c.out)
        let mp = m * p
        let chunk = max(1, bilinearBudget / max(mp, 1))
        let a = BLASKernels.elements(c.weight, T.self)
        let x1 = BLASKernels.elements(c.input1, T.self), x2 = BLASKernels.elements(c.input2, T.self)
        let bv = c.bias.map { BLASKernels.elements($0, T.self) }
        let y: [T] = BLASKernels.uninitialized(rows * m) { y in
            BLASKernels.reading(a) { a in
                BLASKernels.reading(x1) { x1 in
                    BLASKernels.reading(x2) { x2 in
                        BLASKernels.scratch(min(chunk, rows) * mp) { (u: UnsafeMutablePointer<T>) in
                            for r0 in stride(from: 0, to: rows, by: chunk) {
                                let rn = min(chunk, rows - r0)
                                BLASKernels.gemm(transB: true, m: rn, n: mp, k: q, x2 + r0 * q, lda: q, a, ldb: q, u, ldc: mp)
                                for r in 0..<rn {
                                    for o in 0..<m {
                                        let dot = p > 0 ? ConvKernels.dot(x1 + (r0 + r) * p, u + r * mp + o * p, p) : 0
                                        y[(r0 + r) * m + o] = dot + (bv?[o] ?? 0)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let saved = [SavedTensor(c.input1), SavedTensor(c.input2), SavedTensor(c.weight)]
        let shapes = (c.input1.shape, c.input2.shape, c.weight.shape)
        let hasBias = c.bias != nil
        let (need1, need2, needA) = (c.input1.requiresGrad, c.input2.requiresGrad, c.weight.requiresGrad)
        return Tensor(shape: c.outputShape, y).recording(c.backwardName, inputs: [c.input1, c.input2, c.weight, c.bias],
                                                         saving: saved) { grad in
            let g = BLASKernels.elements(grad, T.self)
            let x1 = BLASKernels.elements(try saved[0].unpack(), T.self)
            let x2 = BLASKernels.elements(try saved[1].unpack(), T.self)
            let a = BLASKernels.elements(try saved[2].unpack(), T.self)
            var g1 = need1 ? [T](repeating: 0, count: rows * p) : []
            var g2 = need2 ? [T](repeating: 0, count: rows * q) : []
            var ga = needA ? [T](repeating: 0, count: mp * q) : []
            BLASKernels.reading(g) { g in
                BLASKernels.reading(a) { a in
                    BLASKernels.reading(x1) { x1 in
                        BLASKernels.reading(x2) { x2 in
                            BLASKernels.scratch(min(chunk, rows) * mp) { (u: UnsafeMutablePointer<T>) in
                                for r0 in stride(from: 0, to: rows, by: chunk) {
                                    let rn = min(chunk, rows - r0)
                                    if need1 {
                                        BLASKernels.gemm(transB: true, m: rn, n: mp, k: q, x2 + r0 * q, lda: q, a, ldb: q, u, ldc: mp)
                                        BLASKernels.writing(&g1) { g1 in
                                            for r in 0..<rn {
                                                let row = g1 + (r0 + r) * p
                                                for o in 0..<m { ConvKernels.axpy(g[(r0 + r) * m + o], u + r * mp + o * p, into: row, p) }
                                            }
                                        }
                                    }
                                    guard need2 || needA else { continue }
                                    // H[r, o, i] = ∂y[r, o]·x₁[r, i]
                                    for r in 0..<rn {
                                        for o in 0..<m {
                                            let go = g[(r0 + r) * m + o], src = x1 + (r0 + r) * p, dst = u + r * mp + o * p
                                            for i in 0..<p { dst[i] = go * src[i] }
                                        }
                                    }
                                    if need2 {
                                        BLASKernels.writing(&g2) { g2 in
                                            BLASKernels.gemm(m: rn, n: q, k: mp, u, lda: mp, a, ldb: q,
                                                             g2 + r0 * q, ldc: q)
                                        }
                                    }
                                    if needA {
                                        BLASKernels.writing(&ga) { ga in
                                            BLASKernels.gemm(transA: true, m: mp, n: q, k: rn, u, lda: mp, x2 + r0 * q, ldb: q,
                                                             accumulate: true, ga, ldc: q)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            var gb: Tensor?
            if hasBias {
                gb = Tensor(shape: [m], BLASKernels.zeroed(m) { s in
                    BLASKernels.reading(g) { g in
                        for r in 0..<rows { ConvKernels.add(g + r * m, into: s, m) }
                    }
                })
            }
            return [need1 ? Tensor(shape: shapes.0, g1) : nil, need2 ? Tensor(shape: shapes.1, g2) : nil,
                    needA ? Tensor(shape: shapes.2, ga) : nil, gb]
        }
    }
}
