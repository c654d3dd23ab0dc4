import NNCore

extension AgreementGenerators {
    /// interpolate (every mode), grid_sample, affine_grid.
    nonisolated(unsafe) static let resampling: [String: CaseGenerator] = {
        var g: [String: CaseGenerator] = [:]
        g["interpolate"] = { d in
            var c = AgreementCase("interpolate")
            let dtype = d.dtype()
            let mode = d.pick(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"])
            let n: Int
            switch mode {
            case "linear": n = 1
            case "bilinear", "bicubic": n = 2
            case "trilinear": n = 3
            default: n = d.int(1...3)
            }
            var lead = [d.dim(upTo: 5), d.dim(upTo: 5)]
            let spatial = (0..<n).map { _ in d.dim(upTo: n == 3 ? 8 : 17) }
            if d.large() { lead[0] = max(lead[0], (1 << 15) / max(1, spatial.reduce(1, *) * lead[1] * 2) + 1) }
            c["input"] = d.tensor("input", lead + spatial, dtype)
            if d.bool() {
                let f = (0..<n).map { _ in d.pick([2.0, 0.5, 1.5, 3.0, 0.75, 1.0]) }
                c["scale_factor"] = Set(f).count == 1 ? .double(f[0]) : .list(f.map { .double($0) })
                if mode != "area" && d.bool() { c["recompute_scale_factor"] = .bool(true) }
            } else {
                c["size"] = .ints((0..<n).map { _ in d.dim(upTo: 33) })
            }
            if mode != "nearest" { c["mode"] = .string(mode) }
            if ["linear", "bilinear", "bicubic", "trilinear"].contains(mode) && d.bool() { c["align_corners"] = .bool(true) }
            if ["bilinear", "bicubic"].contains(mode) && d.raw(4) == 3 { c["antialias"] = .bool(true) }
            return c
        }
        g["grid_sample"] = { d in
            var c = AgreementCase("grid_sample")
            let dtype = d.dtype()
            let mode = d.pick(["bilinear", "nearest", "bicubic"])
            let n = mode == "bicubic" ? 2 : d.int(2...3)
            let batch = d.dim(upTo: 4)
            c["input"] = d.tensor("input", [batch, d.dim(upTo: 5)] + (0..<n).map { _ in d.dim(upTo: 17) }, dtype)
            c["grid"] = d.tensor("grid", [batch] + (0..<n).map { _ in d.dim(upTo: 8) } + [n], dtype, -1.2, 1.2)
            if mode != "bilinear" { c["mode"] = .string(mode) }
            let padding = d.pick(["zeros", "border", "reflection"])
            if padding != "zeros" { c["padding_mode"] = .string(padding) }
            if d.bool() { c["align_corners"] = .bool(true) }
            return c
        }
        g["affine_grid"] = { d in
            var c = AgreementCase("affine_grid")
            let n = d.int(2...3)
            let batch = d.dim(upTo: 5)
            c["theta"] = d.tensor("theta", [batch, n, n + 1], d.dtype(), -1, 1)
            c["size"] = .ints([batch, d.dim(upTo: 3)] + (0..<n).map { _ in d.dim(upTo: 17) })
            if d.bool() { c["align_corners"] = .bool(true) }
            return c
        }
        return g
    }()
}
