import NNCore

extension AgreementGenerators {
    /// Convolutions, transposed convolutions, unfold / fold.
    nonisolated(unsafe) static let windows: [String: CaseGenerator] = {
        var g: [String: CaseGenerator] = [:]
        /// An int when every spatial dimension agrees, else the list.
        func arg(_ v: [Int]) -> GenValue { Set(v).count == 1 ? .int(v[0]) : .ints(v) }

        for n in 1...3 {
            g["conv\(n)d"] = { d in
                var c = AgreementCase("conv\(n)d")
                let dtype = d.dtype()
                let groups = d.pick([1, 2, 3])
                let (cin, cout) = (groups * d.dim(upTo: 5), groups * d.dim(upTo: 5))
                let w = (0..<n).map { _ in d.window() }
                let batched = !d.bool()
                var batch = batched ? [d.dim(upTo: 5)] : []
                let spatial = w.map(\.input)
                if batched && d.large() { batch[0] = max(batch[0], (1 << 15) / max(1, cin * spatial.reduce(1, *)) + 1) }
                c["input"] = d.tensor("input", batch + [cin] + spatial, dtype)
                c["weight"] = d.tensor("weight", [cout, cin / groups] + w.map(\.k), dtype, -1, 1)
                if d.bool() { c["bias"] = d.tensor("bias", [cout], dtype) }
                let (s, p, dil) = (w.map(\.s), w.map(\.p), w.map(\.d))
                if s.contains(where: { $0 != 1 }) { c["stride"] = arg(s) }
                if s.allSatisfy({ $0 == 1 }) && d.raw(4) == 3 { c["padding"] = .string(d.pick(["same", "valid"])) }
                else if p.contains(where: { $0 != 0 }) { c["padding"] = arg(p) }
                if dil.contains(where: { $0 != 1 }) { c["dilation"] = arg(dil) }
                if groups != 1 { c["groups"] = .int(groups) }
                return c
            }
            g["conv_transpose\(n)d"] = { d in
                var c = AgreementCase("conv_transpose\(n)d")
                let dtype = d.dtype()
                let groups = d.pick([1, 2, 3])
                let (cin, cout) = (groups * d.dim(upTo: 5), groups * d.dim(upTo: 5))
                var k: [Int] = [], s: [Int] = [], p: [Int] = [], op: [Int] = [], dil: [Int] = [], size: [Int] = []
                for _ in 0..<n {
                    let (ki, si, di, ii) = (d.pick([1, 2, 3, 5]), d.pick([1, 2, 3]), d.pick([1, 2]), d.dim(upTo: 8))
                    let full = (ii - 1) * si + di * (ki - 1) + 1           // output size with no padding
                    let pi = min(d.int(0...(ki / 2)), (full - 1) / 2)
                    let oi = d.int(0...(max(si, di) - 1))
                    k.append(ki); s.append(si); dil.append(di); size.append(ii); p.append(max(pi, 0)); op.append(oi)
                }
                let batched = !d.bool()
                c["input"] = d.tensor("input", (batched ? [d.dim(upTo: 5)] : []) + [cin] + size, dtype)
                c["weight"] = d.tensor("weight", [cin, cout / groups] + k, dtype, -1, 1)
                if d.bool() { c["bias"] = d.tensor("bias", [cout], dtype) }
                if s.contains(where: { $0 != 1 }) { c["stride"] = arg(s) }
                if p.contains(where: { $0 != 0 }) { c["padding"] = arg(p) }
                if op.contains(where: { $0 != 0 }) { c["output_padding"] = arg(op) }
                if groups != 1 { c["groups"] = .int(groups) }
                if dil.contains(where: { $0 != 1 }) { c["dilation"] = arg(dil) }
                return c
            }
        }

        g["unfold"] = { d in
            var c = AgreementCase("unfold")
            let w = [d.window(), d.window()]
            let batched = !d.bool()
            c["input"] = d.tensor("input", (batched ? [d.dim(upTo: 5)] : []) + [d.dim(upTo: 5)] + w.map(\.input), d.dtype())
            c["kernel_size"] = arg(w.map(\.k))
            if w.contains(where: { $0.d != 1 }) { c["dilation"] = arg(w.map(\.d)) }
            if w.contains(where: { $0.p != 0 }) { c["padding"] = arg(w.map(\.p)) }
            if w.contains(where: { $0.s != 1 }) { c["stride"] = arg(w.map(\.s)) }
            return c
        }
        g["fold"] = { d in
            var c = AgreementCase("fold")
            let w = [d.window(), d.window()]
            let channels = d.dim(upTo: 5)
            let blocks = w.map(\.out).reduce(1, *)
            let batched = !d.bool()
            c["input"] = d.tensor("input", (batched ? [d.dim(upTo: 5)] : []) + [channels * w[0].k * w[1].k, blocks], d.dtype())
            c["output_size"] = .ints(w.map(\.input))
            c["kernel_size"] = arg(w.map(\.k))
            if w.contains(where: { $0.d != 1 }) { c["dilation"] = arg(w.map(\.d)) }
            if w.contains(where: { $0.p != 0 }) { c["padding"] = arg(w.map(\.p)) }
            if w.contains(where: { $0.s != 1 }) { c["stride"] = arg(w.map(\.s)) }
            return c
        }
        return g
    }()
}
