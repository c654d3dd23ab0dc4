import NNCore

extension AgreementGenerators {
    /// Elementwise ops, activations, softmax, sum/mean, dropout.
    nonisolated(unsafe) static let pointwise: [String: CaseGenerator] = {
        var g: [String: CaseGenerator] = [:]
        // Unary ops with no other argument; exp's input stays where float32 does not overflow.
        for op in ["relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "neg", "neg_", "relu6", "selu", "selu_",
                   "silu", "mish", "softsign", "hardswish", "hardsigmoid", "logsigmoid", "tanhshrink"] {
            g[op] = { d in AgreementCase.unary(op, &d) }
        }
        for op in ["exp", "exp_"] { g[op] = { d in AgreementCase.unary(op, &d, -3, 3) } }

        // Binary arithmetic with broadcasting: `other` is a broadcastable tensor or a scalar.
        for op in ["add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_"] {
            g[op] = { d in
                let inplace = op.hasSuffix("_")
                var c = AgreementCase(op)
                let dtype = d.dtype()
                let shape = d.shape()
                c["input"] = d.tensor("input", shape, dtype, grad: !inplace)
                let isDiv = op.hasPrefix("div")
                if d.raw(4) == 3 {
                    c["other"] = .double(isDiv ? 1.5 : -0.75)
                } else {
                    // Divisors in [0.5, 2]: away from 0, where float rounding of the quotient explodes.
                    c["other"] = d.tensor("other", d.broadcastable(to: shape), dtype, isDiv ? 0.5 : -2, 2)
                }
                if op.hasPrefix("add") || op.hasPrefix("sub") { if d.bool() { c["alpha"] = .double(d.pick([2.0, -0.5])) } }
                if isDiv { if let m = d.pick([nil, "trunc", "floor"] as [String?]) { c["rounding_mode"] = .string(m) } }
                return c
            }
        }

        // Activations with parameters (defaults first).
        func param(_ op: String, _ extra: @escaping (inout Draw, inout AgreementCase) -> Void) {
            g[op] = { d in
                var c = AgreementCase.unary(op, &d)
                extra(&d, &c)
                return c
            }
        }
        for op in ["leaky_relu", "leaky_relu_"] { param(op) { d, c in if d.bool() { c["negative_slope"] = .double(d.pick([0.2, 0.0, -0.3])) } } }
        for op in ["elu", "elu_", "celu", "celu_"] { param(op) { d, c in if d.bool() { c["alpha"] = .double(d.pick([0.5, 2.0])) } } }
        param("gelu") { d, c in if d.bool() { c["approximate"] = .string("tanh") } }
        param("softplus") { d, c in
            if d.bool() { c["beta"] = .double(d.pick([2.0, 0.5])) }
            if d.bool() { c["threshold"] = .double(d.pick([1.0, 5.0])) }
        }
        for op in ["hardtanh", "hardtanh_"] {
            param(op) { d, c in
                if d.bool() { c["min_val"] = .double(d.pick([-2.0, 0.0, -0.5])); c["max_val"] = .double(d.pick([2.0, 0.5, 3.0])) }
            }
        }
        for op in ["threshold", "threshold_"] {
            param(op) { d, c in c["threshold"] = .double(d.pick([0.0, 0.5, -1.0])); c["value"] = .double(d.pick([0.0, -2.0, 20.0])) }
        }
        for op in ["softshrink", "hardshrink"] { param(op) { d, c in if d.bool() { c["lambd"] = .double(d.pick([0.25, 1.5])) } } }
        // rrelu draws its slopes when training: compared only in eval (the mean slope).
        for op in ["rrelu", "rrelu_"] {
            param(op) { d, c in if d.bool() { c["lower"] = .double(0.1); c["upper"] = .double(d.pick([0.3, 0.5])) } }
        }
        g["prelu"] = { d in
            var c = AgreementCase("prelu")
            let dtype = d.dtype()
            let shape = d.shape(1...4)
            c["input"] = d.tensor("input", shape, dtype)
            let channels = shape.count >= 2 && d.bool() ? shape[1] : 1
            c["weight"] = d.tensor("weight", [channels], dtype, -0.5, 0.5)
            return c
        }
        g["glu"] = { d in
            var c = AgreementCase("glu")
            let dtype = d.dtype()
            var shape = d.shape(1...4)
            let dim = d.int(0...(shape.count - 1))
            shape[dim] *= 2
            c["input"] = d.tensor("input", shape, dtype)
            if dim != shape.count - 1 || d.bool() { c["dim"] = .int(d.bool() ? dim - shape.count : dim) }
            return c
        }

        // Softmax family: over a drawn dimension (negative half the time).
        for op in ["softmax", "log_softmax", "softmin"] {
            g[op] = { d in
                var c = AgreementCase(op)
                let dtype = d.dtype()
                let shape = d.shape(1...4)
                c["input"] = d.tensor("input", shape, dtype, -6, 6)
                let dim = d.int(0...(shape.count - 1))
                c["dim"] = .int(d.bool() ? dim - shape.count : dim)
                return c
            }
        }

        // sum / mean: everything, one dim, or a list of distinct dims; keepdim.
        for op in ["sum", "mean"] {
            g[op] = { d in
                var c = AgreementCase(op)
                let dtype = d.dtype()
                let shape = d.shape(0...4)
                c["input"] = d.tensor("input", shape, dtype)
                switch shape.isEmpty ? 0 : d.raw(3) {
                case 1: c["dim"] = .int(d.int(0...(shape.count - 1)))
                case 2:
                    let dims = (0..<shape.count).filter { _ in d.bool() }
                    c["dim"] = .ints(dims.isEmpty ? [0] : dims)
                default: break
                }
                if c["dim"] != nil && d.bool() { c["keepdim"] = .bool(true) }
                return c
            }
        }

        // Dropout: deterministic calls only (eval, or training with p = 0 or p = 1), since no
        // two backends draw the same masks.
        for op in ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"] {
            g[op] = { d in
                var c = AgreementCase(op)
                let dtype = d.dtype()
                let ranks: ClosedRange<Int> = op == "dropout1d" ? 2...3 : op == "dropout2d" ? 3...4 : op == "dropout3d" ? 4...5 : 1...4
                c["input"] = d.tensor("input", d.shape(ranks), dtype)
                switch d.raw(3) {
                case 1: c["training"] = .bool(true); c["p"] = .double(0.0)
                case 2: c["training"] = .bool(true); c["p"] = .double(1.0)
                default: c["training"] = .bool(false); c["p"] = .double(d.pick([0.5, 0.2]))
                }
                return c
            }
        }
        return g
    }()
}
