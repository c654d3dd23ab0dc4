import NNCore

/// `embedding`: y[p, :] = weight[x_p, :] for every index x_p, row copies split across cores
/// (any weight dtype), recorded as `EmbeddingBackward0` saving the indices.
///
/// With `max_norm`, the named rows are first renormalized in place (`embedding_renorm_` under
/// `no_grad`): a row with ‖row‖_p > max_norm becomes row · (max_norm / (‖row‖_p + 1e-7)), the
/// norm taken in the weight's dtype and the scale computed in double, then rounded to the
/// dtype; one in-place write, so the weight's version goes up by one, changed or not.
///
/// Backward (ATen's `embedding_dense_backward`): dW[k, :] = Σ_{p : x_p = k} s_k · g[p, :] in
/// order of p, with s_k = 1 / count(k) under `scale_grad_by_freq` (else 1); row `padding_idx`
/// gets none. The positions are grouped by row first (a counting sort), so every row is summed
/// by one worker, in order of p, as vector row additions.
extension Optimized {
    static let simdEmbeddingOps: [String: OpFunction] = [
        "embedding": { try .tensor(simdEmbedding(EmbeddingCall($0))) },
    ]

    static func simdEmbedding(_ call: EmbeddingCall) -> Tensor {
        if call.maxNorm != nil { renormalize(call) }
        let d = call.width
        let indices = call.input.int64s.map { Int($0) }
        let y = Tensor(shape: call.input.shape + [d], data: moveElements(call.weight.data, count: indices.count * d, RowLookup(indices: indices, width: d)))
        let saved = SavedTensor(call.input)
        return y.recording("EmbeddingBackward0", inputs: [call.weight], saving: [saved]) { g in
            _ = try saved.unpack()
            switch g.data {
            case .float32(let gs): return [embeddingGradient(gs, indices, call)]
            case .float64(let gs): return [embeddingGradient(gs, indices, call)]
            default: preconditionFailure("gradients are floating point")
            }
        }
    }

    private static func embeddingGradient<T: BLASScalar>(_ g: [T], _ indices: [Int], _ call: EmbeddingCall) -> Tensor {
        let d = call.width, rows = call.rows
        // Counting sort: the positions naming row k are order[start[k] ..< start[k + 1]], ascending.
        var start = [Int](repeating: 0, count: rows + 1)
        for k in indices { start[k + 1] += 1 }
        for k in 0..<rows { start[k + 1] += start[k] }
        var order = [Int](repeating: 0, count: indices.count), next = start
        for (p, k) in indices.enumerated() {
            order[next[k]] = p
            next[k] += 1
        }
        let padding = call.paddingIdx ?? -1, byFrequency = call.scaleGradByFreq
        let costPerRow = d * max(1, indices.count / max(rows, 1))
        let dw: [T] = g.withPointer { gp in
            makePlanewiseZeroedArray(planes: rows, planeSize: d, costPerPlane: costPerRow) { range, dw in
                for k in range where k != padding {
                    let positions = order[start[k] ..< start[k + 1]]
                    let scale: T = byFrequency ? T(1.0 / Double(positions.count)) : 1
                    for p in positions {
                        if scale == 1 {
                            ConvKernels.add(gp + p * d, into: dw + k * d, d)
                        } else {
                            ConvKernels.axpy(scale, gp + p * d, into: dw + k * d, d)
                        }
                    }
                }
            }
        }
        return Tensor(shape: call.weight.shape, dw)
    }

    /// `embedding_renorm_`: the rows of `renormRows` (distinct, so split across cores) scaled.
    private static func renormalize(_ call: EmbeddingCall) {
        let w = call.weight, d = call.width, maxNorm = call.maxNorm!, p = call.normType, rows = call.renormRows
        func scaled<T: BLASScalar>(_ values: [T]) -> [T] {
            var table = values
            table.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                SIMDParallel.forEach(rows.count, costPerItem: 4 * d) { r in
                    for k in rows[r] {
                        let row = base + k * d
                        let norm = Double(VectorNorms.norm(UnsafePointer(row), d, p))
                        guard norm > maxNorm else { continue }
                        let scale = T(maxNorm / (norm + 1e-7))
                        for c in 0..<d { row[c] *= scale }
                    }
                }
            }
            return table
        }
        switch w.data {
        case .float32(let a): w.overwrite(with: .float32(scaled(a)))
        case .float64(let a): w.overwrite(with: .float64(scaled(a)))
        default: w.markModified()  // no rows named: `EmbeddingCall` rejects integer tables otherwise
        }
    }
}

/// y[p, :] = table[indices[p], :], rows of `width`.
private struct RowLookup: ElementMove {
    let indices: [Int], width: Int
    func move<E>(_ src: UnsafePointer<E>, _ dst: UnsafeMutablePointer<E>, fill _: E) {
        let d = width
        indices.withPointer { ip in
            SIMDParallel.forEach(indices.count, costPerItem: d) { r in
                for p in r { (dst + p * d).initialize(from: src + ip[p] * d, count: d) }
            }
        }
    }
}
