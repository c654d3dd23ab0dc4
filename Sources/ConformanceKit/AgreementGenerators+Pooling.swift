import NNCore

extension AgreementGenerators {
    /// Max, average, power-average, adaptive pooling and max-unpooling in 1–3 dimensions.
    nonisolated(unsafe) static let pooling: [String: CaseGenerator] = {
        var g: [String: CaseGenerator] = [:]
        func arg(_ v: [Int]) -> GenValue { Set(v).count == 1 ? .int(v[0]) : .ints(v) }
        /// `[N, C, *spatial]` or unbatched `[C, *spatial]`, large now and then.
        func input(_ d: inout Draw, _ spatial: [Int]) -> [Int] {
            var lead = d.bool() ? [d.dim(upTo: 8)] : [d.dim(upTo: 5), d.dim(upTo: 8)]
            if d.large() { lead[0] = max(lead[0], (1 << 15) / max(1, spatial.reduce(1, *) * lead.dropFirst().reduce(1, *)) + 1) }
            return lead + spatial
        }

        for n in 1...3 {
            for op in ["max_pool\(n)d", "max_pool\(n)d_with_indices", "avg_pool\(n)d", "lp_pool\(n)d"] {
                g[op] = { d in
                    var c = AgreementCase(op)
                    let isMax = op.hasPrefix("max"), isLP = op.hasPrefix("lp")
                    let w = (0..<n).map { _ in d.window(padding: !isLP, dilation: isMax, coverKernel: true) }
                    // lp_pool of x^p needs x ≥ 0 for a fractional p; positive inputs keep every p defined.
                    c["input"] = d.tensor("input", input(&d, w.map(\.input)), d.dtype(), isLP ? 0.1 : -2, 2)
                    if isLP { c["norm_type"] = .double(d.pick([2.0, 1.0, 3.0])) }
                    c["kernel_size"] = arg(w.map(\.k))
                    let strides = w.map(\.s)
                    if strides != w.map(\.k) || d.bool() { c["stride"] = arg(strides) }
                    if !isLP && w.contains(where: { $0.p != 0 }) { c["padding"] = arg(w.map(\.p)) }
                    if isMax && w.contains(where: { $0.d != 1 }) { c["dilation"] = arg(w.map(\.d)) }
                    if d.bool() { c["ceil_mode"] = .bool(true) }
                    if op.hasPrefix("avg") {
                        if d.bool() { c["count_include_pad"] = .bool(false) }
                        if n > 1 && d.raw(4) == 3 { c["divisor_override"] = .int(d.pick([3, 1])) }
                    }
                    if op == "max_pool\(n)d" && d.bool() { c["return_indices"] = .bool(true) }
                    return c
                }
            }
            for op in ["adaptive_avg_pool\(n)d", "adaptive_max_pool\(n)d", "adaptive_max_pool\(n)d_with_indices"] {
                g[op] = { d in
                    var c = AgreementCase(op)
                    let spatial = (0..<n).map { _ in d.dim() }
                    c["input"] = d.tensor("input", input(&d, spatial), d.dtype())
                    let out = (0..<n).map { _ in d.dim(upTo: 17) }
                    c["output_size"] = arg(out)
                    if op == "adaptive_max_pool\(n)d" && d.bool() { c["return_indices"] = .bool(true) }
                    return c
                }
            }
            // max_unpool: indices one per window, inside its window, windows not overlapping
            // (stride ≥ kernel) so that no two point at the same output element.
            g["max_unpool\(n)d"] = { d in
                var c = AgreementCase("max_unpool\(n)d")
                let dtype = d.dtype()
                let k = (0..<n).map { _ in d.pick([1, 2, 3]) }
                let s = k.map { $0 + d.int(0...1) }
                let pooled = (0..<n).map { _ in d.dim(upTo: 8) }
                let outSize = zip(pooled, zip(s, k)).map { ($0 - 1) * $1.0 + $1.1 }
                let shape = input(&d, pooled)
                var r = d.rng(for: "indices")
                let planes = shape.dropLast(n).reduce(1, *)
                var idx: [Double] = []
                let pooledStrides = contiguousStrides(pooled), outStrides = contiguousStrides(outSize)
                for _ in 0..<planes {
                    for flat in 0..<pooled.reduce(1, *) {
                        var at = 0
                        for i in 0..<n {
                            let p = (flat / pooledStrides[i]) % pooled[i]
                            at += (p * s[i] + Int(r.next() % UInt64(k[i]))) * outStrides[i]
                        }
                        idx.append(Double(at))
                    }
                }
                c["input"] = d.tensor("input", shape, dtype)
                c["indices"] = d.data(shape, .int64, idx)
                c["kernel_size"] = arg(k)
                if s != k { c["stride"] = arg(s) }
                if d.bool() { c["output_size"] = .ints(outSize.map { $0 + (d.bool() ? 1 : 0) }) }
                return c
            }
        }
        return g
    }()
}
