import NNCore

extension AgreementGenerators {
    /// Shape and misc ops (pad, pixel shuffle, one_hot, embedding, distances, flatten, max/min,
    /// argmax/argmin) and linear / bilinear.
    nonisolated(unsafe) static let shape: [String: CaseGenerator] = {
        var g: [String: CaseGenerator] = [:]
        g["pad"] = { d in
            var c = AgreementCase("pad")
            let dtype = d.dtype()
            let mode = d.pick(["constant", "reflect", "replicate", "circular"])
            let k = d.int(1...3)                                    // padded trailing dims
            var shape = d.dims(mode == "constant" ? d.int(k...4) : k + d.int(1...2))
            if mode == "constant" && d.large() { shape[0] = max(shape[0], (1 << 15) / max(1, shape.dropFirst().reduce(1, *)) + 1) }
            var pad: [Int] = []
            for i in 0..<k {
                let size = shape[shape.count - 1 - i]
                let limit = mode == "reflect" ? size - 1 : mode == "circular" ? size : 3
                pad += [d.int(0...max(0, limit)), d.int(0...max(0, limit))]
            }
            if mode == "constant" && d.bool(), shape[shape.count - 1] > 1 { pad[0] = -1 }
            c["input"] = d.tensor("input", shape, dtype)
            c["pad"] = .ints(pad)
            if mode != "constant" { c["mode"] = .string(mode) } else if d.bool() { c["value"] = .double(d.pick([1.5, -2.0])) }
            return c
        }
        g["pixel_shuffle"] = { d in
            var c = AgreementCase("pixel_shuffle")
            let r = d.pick([1, 2, 3])
            let lead = d.dims(d.int(0...2))
            c["input"] = d.tensor("input", lead + [d.dim(upTo: 5) * r * r, d.dim(upTo: 8), d.dim(upTo: 8)], d.dtype())
            c["upscale_factor"] = .int(r)
            return c
        }
        g["pixel_unshuffle"] = { d in
            var c = AgreementCase("pixel_unshuffle")
            let r = d.pick([1, 2, 3])
            let lead = d.dims(d.int(0...2))
            c["input"] = d.tensor("input", lead + [d.dim(upTo: 5), d.dim(upTo: 8) * r, d.dim(upTo: 8) * r], d.dtype())
            c["downscale_factor"] = .int(r)
            return c
        }
        g["one_hot"] = { d in
            var c = AgreementCase("one_hot")
            let classes = d.dim(upTo: 17)
            c["input"] = d.indices("input", d.shape(0...3), 0, classes)
            if d.bool() { c["num_classes"] = .int(classes + d.int(0...2)) }
            return c
        }
        g["embedding"] = { d in
            var c = AgreementCase("embedding")
            let dtype = d.dtype()
            let num = d.dim(upTo: 17), width = d.dim()
            c["input"] = d.indices("input", d.shape(0...3), 0, num)
            c["weight"] = d.tensor("weight", [num, width], dtype)
            if d.bool() { c["padding_idx"] = .int(d.int(0...(num - 1)) - (d.bool() ? num : 0)) }
            if d.bool() { c["scale_grad_by_freq"] = .bool(true) }
            return c
        }
        for op in ["cosine_similarity", "pairwise_distance"] {
            g[op] = { d in
                var c = AgreementCase(op)
                let dtype = d.dtype()
                let shape = op == "pairwise_distance" ? d.dims(d.int(1...2)) : d.shape(1...4)
                c["x1"] = d.tensor("x1", shape, dtype)
                c["x2"] = d.tensor("x2", d.broadcastable(to: shape), dtype)
                if op == "cosine_similarity" {
                    if d.bool() { c["dim"] = .int(d.int(0...(shape.count - 1))) }
                } else {
                    if d.bool() { c["p"] = .double(d.pick([1.0, 3.0, 1.5])) }
                    if d.bool() { c["keepdim"] = .bool(true) }
                }
                return c
            }
        }
        g["flatten"] = { d in
            var c = AgreementCase("flatten")
            let shape = d.shape(0...4)
            c["input"] = d.tensor("input", shape, d.dtype())
            let r = max(shape.count, 1)
            let start = d.int(0...(r - 1)), end = d.int(start...(r - 1))
            if start != 0 || d.bool() { c["start_dim"] = .int(start) }
            if end != r - 1 || d.bool() { c["end_dim"] = .int(end) }
            return c
        }
        g["unflatten"] = { d in
            var c = AgreementCase("unflatten")
            var shape = d.shape(1...3)
            let dim = d.int(0...(shape.count - 1))
            let (a, b) = (d.dim(upTo: 8), d.dim(upTo: 8))
            shape[dim] = a * b
            c["input"] = d.tensor("input", shape, d.dtype())
            c["dim"] = .int(dim)
            c["sizes"] = .ints(d.bool() ? [a, -1] : [a, b])
            return c
        }
        for op in ["max", "min", "argmax", "argmin"] {
            g[op] = { d in
                var c = AgreementCase(op)
                let shape = d.shape(op.hasPrefix("arg") ? 0...4 : 1...4)
                c["input"] = d.tensor("input", shape, d.dtype())
                if !shape.isEmpty && d.bool() {
                    c["dim"] = .int(d.int(0...(shape.count - 1)))
                    if d.bool() { c["keepdim"] = .bool(true) }
                }
                return c
            }
        }

        g["linear"] = { d in
            var c = AgreementCase("linear")
            let dtype = d.dtype()
            let lead = d.shape(0...2), (inF, outF) = (d.dim(), d.dim())
            c["input"] = d.tensor("input", lead + [inF], dtype)
            c["weight"] = d.tensor("weight", [outF, inF], dtype, -1, 1)
            if d.bool() { c["bias"] = d.tensor("bias", [outF], dtype) }
            return c
        }
        g["bilinear"] = { d in
            var c = AgreementCase("bilinear")
            let dtype = d.dtype()
            let lead = d.dims(d.int(1...2)), (in1, in2, outF) = (d.dim(upTo: 17), d.dim(upTo: 17), d.dim(upTo: 17))
            c["input1"] = d.tensor("input1", lead + [in1], dtype)
            c["input2"] = d.tensor("input2", lead + [in2], dtype)
            c["weight"] = d.tensor("weight", [outF, in1, in2], dtype, -1, 1)
            if d.bool() { c["bias"] = d.tensor("bias", [outF], dtype) }
            return c
        }
        return g
    }()
}
