import NNCore

extension AgreementGenerators {
    /// Every loss: inputs and targets inside each loss's domain (probabilities in (0, 1), class
    /// indices in range, ±1 targets, positive variances), with a drawn reduction.
    nonisolated(unsafe) static let losses: [String: CaseGenerator] = {
        var g: [String: CaseGenerator] = [:]
        func reduction(_ d: inout Draw, _ c: inout AgreementCase, batchmean: Bool = false) {
            let r = d.pick(batchmean ? ["mean", "none", "sum", "batchmean"] : ["mean", "none", "sum"])
            if r != "mean" { c["reduction"] = .string(r) }
        }
        /// Pointwise losses of `input` and a same-shaped `target`.
        func pointwise(_ op: String, _ lo: Double = -2, _ hi: Double = 2, target: (Double, Double) = (-2, 2),
                       _ extra: @escaping (inout Draw, inout AgreementCase, [Int], DType) -> Void = { _, _, _, _ in }) {
            g[op] = { d in
                var c = AgreementCase(op)
                let dtype = d.dtype()
                let shape = d.shape(0...4)
                c["input"] = d.tensor("input", shape, dtype, lo, hi)
                c["target"] = d.tensor("target", shape, dtype, target.0, target.1, grad: d.bool())
                extra(&d, &c, shape, dtype)
                reduction(&d, &c, batchmean: op == "kl_div")
                return c
            }
        }
        pointwise("mse_loss")
        pointwise("l1_loss")
        pointwise("smooth_l1_loss") { d, c, _, _ in if d.bool() { c["beta"] = .double(d.pick([0.5, 2.0, 0.0])) } }
        pointwise("huber_loss") { d, c, _, _ in if d.bool() { c["delta"] = .double(d.pick([0.5, 2.0])) } }
        pointwise("kl_div", -3, 0, target: (0.01, 1)) { d, c, _, _ in if d.bool() { c["log_target"] = .bool(true) } }
        pointwise("binary_cross_entropy", 0.02, 0.98, target: (0, 1)) { d, c, shape, dtype in
            if d.bool() { c["weight"] = d.tensor("weight", d.broadcastable(to: shape), dtype, 0.5, 2, grad: false) }
        }
        pointwise("binary_cross_entropy_with_logits", -4, 4, target: (0, 1)) { d, c, shape, dtype in
            if d.bool() { c["weight"] = d.tensor("weight", d.broadcastable(to: shape), dtype, 0.5, 2, grad: false) }
            if !shape.isEmpty && d.bool() { c["pos_weight"] = d.tensor("pos_weight", [shape[shape.count - 1]], dtype, 0.5, 2, grad: false) }
        }
        g["poisson_nll_loss"] = { d in
            var c = AgreementCase("poisson_nll_loss")
            let dtype = d.dtype(), shape = d.shape(0...4)
            let logInput = !d.bool()
            // With log_input=False the input is a rate: positive.
            c["input"] = logInput ? d.tensor("input", shape, dtype) : d.tensor("input", shape, dtype, 0.1, 3)
            c["target"] = d.tensor("target", shape, dtype, 0, 4, grad: d.bool())
            if !logInput { c["log_input"] = .bool(false) }
            if d.bool() { c["full"] = .bool(true) }
            reduction(&d, &c)
            return c
        }
        g["soft_margin_loss"] = { d in
            var c = AgreementCase("soft_margin_loss")
            let dtype = d.dtype(), shape = d.shape(0...4)
            c["input"] = d.tensor("input", shape, dtype)
            c["target"] = d.signs("target", shape, dtype)
            reduction(&d, &c)
            return c
        }
        g["hinge_embedding_loss"] = { d in
            var c = AgreementCase("hinge_embedding_loss")
            let dtype = d.dtype(), shape = d.shape(0...4)
            c["input"] = d.tensor("input", shape, dtype)
            c["target"] = d.signs("target", shape, dtype)
            if d.bool() { c["margin"] = .double(d.pick([0.5, 2.0])) }
            reduction(&d, &c)
            return c
        }
        g["gaussian_nll_loss"] = { d in
            var c = AgreementCase("gaussian_nll_loss")
            let dtype = d.dtype(), shape = d.shape(1...4)
            c["input"] = d.tensor("input", shape, dtype)
            c["target"] = d.tensor("target", shape, dtype, -2, 2, grad: d.bool())
            c["var"] = d.tensor("var", d.bool() ? Array(shape.dropLast()) + [1] : shape, dtype, 0.1, 2)
            if d.bool() { c["full"] = .bool(true) }
            reduction(&d, &c)
            return c
        }
        // Class losses: input (N, C, d...) or (C), target indices in [0, C) or probabilities.
        for op in ["nll_loss", "cross_entropy"] {
            g[op] = { d in
                var c = AgreementCase(op)
                let dtype = d.dtype()
                let classes = d.dim(upTo: 17)
                let unbatched = d.raw(4) == 3
                let rest = unbatched ? [] : [d.dim()] + (0..<d.int(0...2)).map { _ in d.dim(upTo: 8) }
                let inputShape = unbatched ? [classes] : [rest[0], classes] + rest.dropFirst()
                c["input"] = d.tensor("input", inputShape, dtype, op == "nll_loss" ? -4 : -3, op == "nll_loss" ? 0 : 3)
                if op == "cross_entropy" && d.raw(3) == 2 {
                    c["target"] = d.tensor("target", inputShape, dtype, 0, 1, grad: false)
                } else {
                    c["target"] = d.indices("target", unbatched ? [] : rest, 0, classes)
                    if d.bool() { c["ignore_index"] = .int(d.int(0...(classes - 1))) }
                }
                if d.bool() { c["weight"] = d.tensor("weight", [classes], dtype, 0.5, 2, grad: false) }
                if op == "cross_entropy" && d.bool() { c["label_smoothing"] = .double(d.pick([0.1, 0.5])) }
                reduction(&d, &c)
                return c
            }
        }
        g["multilabel_soft_margin_loss"] = { d in
            var c = AgreementCase("multilabel_soft_margin_loss")
            let dtype = d.dtype(), shape = [d.dim(), d.dim(upTo: 17)]
            c["input"] = d.tensor("input", shape, dtype)
            var r = d.rng(for: "target")
            c["target"] = d.data(shape, dtype, (0..<shape[0] * shape[1]).map { _ in Double(r.next() & 1) })
            if d.bool() { c["weight"] = d.tensor("weight", [shape[1]], dtype, 0.5, 2, grad: false) }
            reduction(&d, &c)
            return c
        }
        g["multi_margin_loss"] = { d in
            var c = AgreementCase("multi_margin_loss")
            let dtype = d.dtype(), (n, classes) = (d.dim(), d.dim(upTo: 17))
            c["input"] = d.tensor("input", [n, classes], dtype, -1, 1)
            c["target"] = d.indices("target", [n], 0, classes)
            if d.bool() { c["p"] = .int(2) }
            if d.bool() { c["margin"] = .double(d.pick([0.5, 2.0])) }
            if d.bool() { c["weight"] = d.tensor("weight", [classes], dtype, 0.5, 2, grad: false) }
            reduction(&d, &c)
            return c
        }
        g["multilabel_margin_loss"] = { d in
            var c = AgreementCase("multilabel_margin_loss")
            let dtype = d.dtype(), (n, classes) = (d.dim(), d.dim(upTo: 17))
            c["input"] = d.tensor("input", [n, classes], dtype, -1, 1)
            // Each row: some distinct labels, then −1 (the end of the row's labels), then anything.
            var r = d.rng(for: "target")
            var rows: [Double] = []
            for _ in 0..<n {
                var order = Array(0..<classes)
                for i in stride(from: classes - 1, to: 0, by: -1) { order.swapAt(i, Int(r.next() % UInt64(i + 1))) }
                let labels = Array(order.prefix(Int(r.next() % UInt64(classes + 1))))
                rows += (labels + Array(repeating: -1, count: classes - labels.count)).map(Double.init)
            }
            c["target"] = d.data([n, classes], .int64, rows)
            reduction(&d, &c)
            return c
        }
        for op in ["cosine_embedding_loss", "margin_ranking_loss"] {
            g[op] = { d in
                var c = AgreementCase(op)
                let dtype = d.dtype(), n = d.dim()
                let shape = op == "margin_ranking_loss" ? [n] : [n, d.dim()]
                c["input1"] = d.tensor("input1", shape, dtype)
                c["input2"] = d.tensor("input2", shape, dtype)
                c["target"] = d.signs("target", [n], dtype)
                if d.bool() { c["margin"] = .double(d.pick([0.5, -0.25])) }
                reduction(&d, &c)
                return c
            }
        }
        g["triplet_margin_loss"] = { d in
            var c = AgreementCase("triplet_margin_loss")
            let dtype = d.dtype(), shape = [d.dim(), d.dim()]
            for name in ["anchor", "positive", "negative"] { c[name] = d.tensor(name, shape, dtype) }
            if d.bool() { c["margin"] = .double(d.pick([0.5, 2.0])) }
            if d.bool() { c["p"] = .double(d.pick([1.0, 3.0])) }
            if d.bool() { c["swap"] = .bool(true) }
            reduction(&d, &c)
            return c
        }
        return g
    }()
}
