import NNCore

extension AgreementGenerators {
    /// batch / instance / layer / group / local response normalization, normalize.
    nonisolated(unsafe) static let normalization: [String: CaseGenerator] = {
        var g: [String: CaseGenerator] = [:]
        /// `[N, C, *spatial]` with 0–3 spatial dimensions, large now and then.
        func nc(_ d: inout Draw, spatial: ClosedRange<Int> = 0...3, channels: Int? = nil) -> [Int] {
            var s = [d.dim(upTo: 8), channels ?? d.dim(upTo: 17)] + (0..<d.int(spatial)).map { _ in d.dim(upTo: 17) }
            if d.large() { s[0] = max(s[0], (1 << 15) / max(1, s.dropFirst().reduce(1, *)) + 1) }
            return s
        }
        func affine(_ d: inout Draw, _ c: inout AgreementCase, _ shape: [Int], _ dtype: DType) {
            if d.bool() { c["weight"] = d.tensor("weight", shape, dtype, 0.5, 1.5) }
            if d.bool() { c["bias"] = d.tensor("bias", shape, dtype) }
        }

        g["batch_norm"] = { d in
            var c = AgreementCase("batch_norm")
            let dtype = d.dtype()
            let shape = nc(&d)
            c["input"] = d.tensor("input", shape, dtype)
            c["running_mean"] = d.tensor("running_mean", [shape[1]], dtype, -0.5, 0.5, grad: false)
            c["running_var"] = d.tensor("running_var", [shape[1]], dtype, 0.5, 2, grad: false)
            affine(&d, &c, [shape[1]], dtype)
            if d.bool() { c["training"] = .bool(true) }
            if d.bool() { c["momentum"] = .double(d.pick([0.5, 0.0])) }
            if d.bool() { c["eps"] = .double(1e-3) }
            return c
        }
        g["instance_norm"] = { d in
            var c = AgreementCase("instance_norm")
            let dtype = d.dtype()
            let shape = nc(&d, spatial: 1...3)
            c["input"] = d.tensor("input", shape, dtype)
            if d.bool() {
                c["running_mean"] = d.tensor("running_mean", [shape[1]], dtype, -0.5, 0.5, grad: false)
                c["running_var"] = d.tensor("running_var", [shape[1]], dtype, 0.5, 2, grad: false)
                if d.bool() { c["use_input_stats"] = .bool(false) }
            }
            affine(&d, &c, [shape[1]], dtype)
            if d.bool() { c["momentum"] = .double(0.5) }
            return c
        }
        g["layer_norm"] = { d in
            var c = AgreementCase("layer_norm")
            let dtype = d.dtype()
            let shape = d.shape(1...4)
            let normalized = Array(shape.suffix(d.int(1...shape.count)))
            c["input"] = d.tensor("input", shape, dtype)
            c["normalized_shape"] = .ints(normalized)
            affine(&d, &c, normalized, dtype)
            if d.bool() { c["eps"] = .double(1e-3) }
            return c
        }
        g["group_norm"] = { d in
            var c = AgreementCase("group_norm")
            let dtype = d.dtype()
            let groups = d.pick([1, 2, 3, 4])
            let shape = nc(&d, channels: groups * d.dim(upTo: 5))
            c["input"] = d.tensor("input", shape, dtype)
            c["num_groups"] = .int(groups)
            affine(&d, &c, [shape[1]], dtype)
            return c
        }
        g["local_response_norm"] = { d in
            var c = AgreementCase("local_response_norm")
            let dtype = d.dtype()
            c["input"] = d.tensor("input", nc(&d, spatial: 1...3), dtype)
            c["size"] = .int(d.pick([1, 2, 3, 5]))
            if d.bool() { c["alpha"] = .double(d.pick([0.01, 0.5])) }
            if d.bool() { c["beta"] = .double(d.pick([0.5, 1.0])) }
            if d.bool() { c["k"] = .double(d.pick([2.0, 0.5])) }
            return c
        }
        g["normalize"] = { d in
            var c = AgreementCase("normalize")
            let shape = d.shape(1...4)
            c["input"] = d.tensor("input", shape, d.dtype())
            if d.bool() { c["p"] = .double(d.pick([1.0, 3.0, 1.5])) }
            if shape.count == 1 { c["dim"] = .int(0) } else if d.bool() { c["dim"] = .int(d.int(0...(shape.count - 1))) }
            return c
        }
        return g
    }()
}
