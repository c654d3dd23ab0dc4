import NNCore

extension Trust {
    /// Which degenerate values op `op` makes on purpose, for one expected tensor (`subject`) and
    /// the call's arguments. A property of the op (and its arguments), never of a case's name;
    /// an in-place form (`relu_`) is its op's entry. Ops not listed make none.
    public static func byDesign(op: String, subject: Trust.Subject, args: [String: Value]) -> ByDesign {
        let name = op.hasSuffix("_") && Signatures.all[String(op.dropLast())] != nil ? String(op.dropLast()) : op
        let a = ArgsView(args)
        let isOutput: Bool = { if case .output = subject { return true } else { return false } }()
        let grad: String? = { if case .grad(let n) = subject { return n } else { return nil } }()

        // A call with an empty tensor argument computes nothing: a sum over no elements is 0,
        // a mean NaN, a parameter that met no data has zero gradient.
        if args.values.contains(where: { ($0.tensor?.numel ?? 1) == 0 }) { return .all }
        // Windowed ops whose windows leave input elements unread (stride > 1, dilation > 1, or
        // a padded block): those elements get no gradient, and a transposed op (conv_transpose,
        // fold) writes zeros where no window lands. `a.skips` reads stride (default: the kernel
        // for pooling, 1 otherwise) and dilation.
        let digit = Int(String(name.dropLast().suffix(1))) ?? 0
        let family = name.hasSuffix("d") && (1...3).contains(digit) ? String(name.dropLast(2)) : name
        switch family {
        case "conv", "max_pool", "avg_pool", "lp_pool":
            if grad == "input" && a.skips(strideDefaultsToKernel: family != "conv") { return .sparse }
        case "conv_transpose":
            if isOutput && a.skips(strideDefaultsToKernel: false) { return .sparse }
        case "unfold":
            // Blocks over padding read zeros; strided or dilated blocks skip input elements.
            if isOutput && a.positive("padding") { return .sparse }
            if grad == "input" && a.skips(strideDefaultsToKernel: false) { return .sparse }
        case "fold":
            if isOutput && a.skips(strideDefaultsToKernel: false) { return .sparse }
            if grad == "input" && a.positive("padding") { return .sparse }
        case "interpolate":
            // Downsampling reads only some input elements (nearest: one per output; linear
            // modes: two or four taps per output).
            if grad == "input" && a.downsamples() { return .sparse }
        case "pad":
            // A negative pad crops: the cropped elements get no gradient; cropping a whole
            // dimension away leaves only the pad value (or nothing) and no gradient at all.
            let pads = a.intList("pad")
            if let s = a.shape("input"), s.count * 2 >= pads.count {
                for i in 0..<(pads.count / 2) where s[s.count - 1 - i] + min(pads[2 * i], 0) + min(pads[2 * i + 1], 0) <= 0 { return .all }
            }
            if grad == "input" && pads.contains(where: { $0 < 0 }) { return .sparse }
        case "adaptive_avg_pool":
            // An output of size 1 averages the whole plane: every input element gets the same gradient.
            if grad == "input" && !a.intList("output_size").isEmpty && a.intList("output_size").allSatisfy({ $0 == 1 }) { return .constant }
        case "affine_grid":
            // A spatial size of 1 puts every grid point at coordinate 0 there: no gradient for
            // the matching column of theta.
            if grad == "theta" && a.intList("size").dropFirst(2).contains(1) { return .sparse }
        default: break
        }

        switch name {
        // Clamps at zero: zero output on a half-line, zero gradient wherever the clamp is flat.
        case "relu", "relu6", "hardsigmoid", "hardswish", "softshrink", "hardshrink":
            return .sparse
        // hardtanh clamps to [min_val, max_val]: the gradient is zero outside; the output is zero
        // only when 0 is a bound.
        case "hardtanh":
            // min_val = max_val: a constant output with no gradient.
            if a.double("min_val", -1) == a.double("max_val", 1) { return .all }
            return isOutput && a.double("min_val", 0 - 1) != 0 && a.double("max_val", 1) != 0 ? [] : .sparse
        // threshold(x) = x > threshold ? x : value: zero gradient below; zero output if value = 0.
        case "threshold":
            return isOutput && a.double("value", 0) != 0 ? [] : .sparse
        // A zero slope makes leaky_relu relu, and alpha = 0 makes elu / celu relu.
        case "leaky_relu": return a.double("negative_slope", 0.01) == 0 ? .sparse : []
        case "elu", "celu": return a.double("alpha", 1) == 0 ? .sparse : []

        // Dropout zeroes the dropped units and their gradients; with p = 1 everything is x · 0.
        case "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout":
            let training = a.bool("training", !name.contains("alpha"))
            guard training else { return [] }
            return a.double("p", 0.5) == 1 ? .all : .sparse

        // Scatter-like outputs: zero except where an index points (or padding adds a constant 0).
        case "max_unpool1d", "max_unpool2d", "max_unpool3d":
            return isOutput ? .sparse : []
        case "one_hot":
            // One class: every element is 1.
            let inferred = (a.int("num_classes") ?? -1) == -1 ? (args["input"]?.tensor?.doubles.max() ?? 0) + 1 : nil
            return a.int("num_classes") == 1 || inferred == 1 ? .all : .sparse
        case "pad":
            return isOutput && a.string("mode", "constant") == "constant" && a.double("value", 0) == 0 ? .sparse : []
        case "embedding":
            // The weight's gradient is zero on every row no index looks up (and padding_idx).
            return grad == "weight" ? .sparse : []

        // Gradients routed to one element per window or reduction: the argmax / argmin.
        case _ where name.hasPrefix("max_pool") || name.hasPrefix("adaptive_max_pool"):
            return isOutput ? [] : .sparse
        case "max", "min":
            // Over one element the index is 0 and the gradient passes straight through.
            if a.reducedExtent() <= 1 { return .all }
            // With `dim`, output 1 is indices (0 wherever the first element wins).
            return subject == .output(0) && a.has("dim") ? [] : .sparse
        case "argmax", "argmin":
            // Indices: 0 wherever the first element is the extreme one (all 0 over one element).
            return a.reducedExtent() <= 1 ? .all : .sparse

        // Hinge losses: max(0, margin − ...) is zero, with zero gradient, wherever the margin is met.
        case "hinge_embedding_loss", "margin_ranking_loss", "multi_margin_loss", "multilabel_margin_loss",
             "triplet_margin_loss", "cosine_embedding_loss":
            return .sparse
        // nll_loss's gradient is −w_c on the target class and zero on every other class;
        // cross_entropy's is zero on rows whose target is ignore_index (and so is their loss).
        case "nll_loss", "cross_entropy":
            // Every target ignored: nothing contributes (a zero sum, zero gradient).
            if let t = args["target"]?.tensor, t.dtype == .int64,
               t.doubles.allSatisfy({ $0 == a.double("ignore_index", -100) }) { return .all }
            return .sparse
        // kl_div's pointwise term t·(log t − x) is zero where t = 0 (PyTorch's xlogy).
        case "kl_div":
            return .sparse

        // A floor or truncating division is piecewise constant: no gradient at all, and an
        // output of 0 wherever |x / y| < 1 (trunc) or 0 ≤ x / y < 1 (floor).
        case "div":
            guard a.has("rounding_mode") else { return [] }
            return isOutput ? .sparse : .all

        // The gradient of a full sum or mean is grad_output spread evenly over the input.
        case "sum", "mean":
            // A full reduction (no dim, an empty list, or every dim) spreads one value.
            guard grad != nil else { return [] }
            let rank = a.shape("input")?.count ?? 0
            let dims = Set(a.intList("dim").map { $0 < 0 ? $0 + rank : $0 })
            return !a.has("dim") || dims.isEmpty || dims.count == rank ? .constant : []

        // Distances: the ∞-norm routes the gradient to the largest difference; the 0-"norm"
        // counts non-zeros (an integer, no gradient). Vectors of one element have cosine ±1.
        case "pairwise_distance":
            let p = a.double("p", 2)
            if p == 0 { return .all }
            return p.isInfinite ? .sparse : []
        case "cosine_similarity":
            guard let s = a.shape("x1") else { return [] }
            let d = a.int("dim") ?? 1
            let i = d < 0 ? d + s.count : d
            return s.isEmpty || (s.indices.contains(i) && s[i] == 1) ? .all : []
        case "normalize":
            // x / ‖x‖ over one element is ±1, with zero gradient.
            guard let s = a.shape("input") else { return [] }
            let d = a.int("dim") ?? 1
            let i = d < 0 ? d + s.count : d
            return s.isEmpty || (s.indices.contains(i) && s[i] == 1) ? .all : []
        case "layer_norm", "group_norm", "instance_norm", "batch_norm":
            // Normalizing groups of one element gives 0 (then the bias): a constant output, and
            // no gradient for the input or the weight.
            return ToleranceRule.reductionLengths(op: name, args: args, outputShape: nil).output <= 1 ? .all : []

        // Softmax over a dimension of size 1 is 1 everywhere (log_softmax 0), with zero gradient.
        case "softmax", "log_softmax", "softmin":
            guard let s = a.shape("input") else { return [] }
            let d = a.int("dim").map { $0 < 0 ? $0 + s.count : $0 }
            let reducedHasOne = s.isEmpty || (d.map { $0 >= 0 && $0 < s.count && s[$0] == 1 } ?? false)
            return reducedHasOne ? .all : []

        // Sampling outside the input reads zero padding; nearest sampling has no gradient in
        // the grid, and leaves unsampled input elements without gradient.
        case "grid_sample":
            if grad == "grid" && a.string("mode", "bilinear") == "nearest" { return .all }
            // A one-pixel input under border or reflection padding is a constant field: no grid gradient.
            if grad == "grid", a.string("padding_mode", "zeros") != "zeros", let s = a.shape("input"),
               s.dropFirst(2).allSatisfy({ $0 == 1 }) { return .all }
            return .sparse

        default:
            return []
        }
    }
}

/// Typed reads of materialized arguments with PyTorch's defaults (a `None` is the default).
struct ArgsView {
    let args: [String: Value]
    init(_ args: [String: Value]) { self.args = args }

    func has(_ k: String) -> Bool {
        switch args[k] {
        case nil, .none?: return false
        default: return true
        }
    }
    func double(_ k: String, _ d: Double) -> Double {
        switch args[k] {
        case .double(let x)?: return x
        case .int(let i)?: return Double(i)
        case .bool(let b)?: return b ? 1 : 0
        case .string(let x)?: return Double(x) ?? (x == "inf" ? .infinity : x == "-inf" ? -.infinity : d)
        default: return d
        }
    }
    func int(_ k: String) -> Int? { if case .int(let i)? = args[k] { return i } else { return nil } }
    func bool(_ k: String, _ d: Bool) -> Bool { if case .bool(let b)? = args[k] { return b } else { return d } }
    func string(_ k: String, _ d: String) -> String { if case .string(let s)? = args[k] { return s } else { return d } }
    func shape(_ k: String) -> [Int]? { args[k]?.tensor?.shape }
    func intList(_ k: String) -> [Int] {
        switch args[k] {
        case .int(let i)?: return [i]
        case .list(let l)?: return l.compactMap { if case .int(let i) = $0 { i } else { nil } }
        default: return []
        }
    }
    func positive(_ k: String) -> Bool { intList(k).contains { $0 > 0 } }

    /// Whether windows can skip input elements: a stride above 1 (pooling's default stride
    /// is its kernel) or a dilation above 1.
    func skips(strideDefaultsToKernel: Bool) -> Bool {
        let stride = has("stride") && !intList("stride").isEmpty ? intList("stride") : (strideDefaultsToKernel ? intList("kernel_size") : [1])
        return stride.contains { $0 > 1 } || intList("dilation").contains { $0 > 1 }
    }

    /// Whether interpolate makes some spatial dimension smaller than the input's.
    func downsamples() -> Bool {
        guard let s = shape("input"), s.count > 2 else { return false }
        let spatial = Array(s.dropFirst(2))
        if has("size") {
            let size = intList("size")
            let out = size.count == 1 ? Array(repeating: size[0], count: spatial.count) : size
            return zip(out, spatial).contains { $0 < $1 }
        }
        switch args["scale_factor"] {
        case .double(let f)?: return f < 1
        case .list(let l)?: return l.contains { if case .double(let f) = $0 { f < 1 } else { false } }
        default: return false
        }
    }

    /// The number of elements one output of max/min/argmax/argmin reduces over.
    func reducedExtent() -> Int {
        guard let s = shape("input") else { return 2 }
        guard let d = int("dim") else { return s.reduce(1, *) }
        let i = d < 0 ? d + s.count : d
        return s.isEmpty ? 1 : (s.indices.contains(i) ? s[i] : 2)
    }
}
