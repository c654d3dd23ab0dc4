import NNCore

/// `embedding`: a row gather from the weight table.
extension Reference {
    /// y[p, :] = weight[x_p, :] for every index x_p (`EmbeddingBackward0`, which saves the
    /// indices). With `max_norm`, the named rows are first renormalized in place (`renormalize`).
    /// Backward: dW[k, :] = Σ_{p : x_p = k} s_k · g[p, :] in order of p, where s_k = 1 / count(k)
    /// with `scale_grad_by_freq` (else 1); row `padding_idx` gets none.
    static func embedding(_ call: EmbeddingCall) -> Tensor {
        if call.maxNorm != nil { renormalize(call) }
        let d = call.width
        let indices = call.input.int64s.map { Int($0) }
        let source = indices.flatMap { k in (0..<d).map { k * d + $0 } }
        let y = Tensor(shape: call.input.shape + [d], data: gather(call.weight.data, source))
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

    /// ATen's `embedding_dense_backward`: each term added as `add_(g_p, alpha: s_k)`, a fused
    /// multiply-add.
    private static func embeddingGradient<T: FloatScalar>(_ g: [T], _ indices: [Int], _ call: EmbeddingCall) -> Tensor {
        let d = call.width
        var counts = [Int](repeating: 0, count: call.rows)
        for k in indices { counts[k] += 1 }
        var dw = [T](repeating: 0, count: call.rows * d)
        for (p, k) in indices.enumerated() where k != call.paddingIdx {
            let scale: T = call.scaleGradByFreq ? T(1.0 / Double(counts[k])) : 1
            for c in 0..<d { dw[k * d + c] = dw[k * d + c].addingProduct(g[p * d + c], scale) }
        }
        return Tensor(shape: call.weight.shape, dw)
    }

    /// `embedding_renorm_` under `no_grad`: each row k of `renormRows` with ‖row‖_p > max_norm
    /// becomes row · (max_norm / (‖row‖_p + 1e-7)), the norm taken in the weight's dtype and the
    /// scale computed in double, then rounded to the dtype. One in-place op: the weight's
    /// version goes up by one, changed or not.
    private static func renormalize(_ call: EmbeddingCall) {
        let w = call.weight, d = call.width, maxNorm = call.maxNorm!
        func scaled<T: FloatScalar>(_ values: [T]) -> [T] {
            var rows = values
            for k in call.renormRows {
                let norm = Double(VectorNorm.norm(rows[(k * d)..<(k * d + d)], call.normType))
                guard norm > maxNorm else { continue }
                let scale = T(maxNorm / (norm + 1e-7))
                for c in (k * d)..<(k * d + d) { rows[c] *= scale }
            }
            return rows
        }
        switch w.data {
        case .float32(let a): w.overwrite(with: .float32(scaled(a)))
        case .float64(let a): w.overwrite(with: .float64(scaled(a)))
        default: w.markModified()  // no rows named: `EmbeddingCall` rejects integer tables otherwise
        }
    }
}
