import NNCore

/// The harness's default tolerances, and where each case's tolerance came from.
///
/// The base is `torch.testing.assert_close`'s: float32 `rtol 1.3e-6, atol 1e-5`, float64
/// `rtol 1e-7, atol 1e-7`; integers and bools compare exactly. An op that sums K terms per
/// output element accumulates rounding error that grows like √K for independent errors
/// (Higham, *Accuracy and Stability of Numerical Algorithms*, §4.2), and two correct
/// implementations may sum in different orders, so both bounds are widened by √K, with K read
/// from the op and its arguments (never from the case name). See docs/tolerance.md, which has
/// the derivation and one row per op family.
public enum ToleranceRule {
    public static func base(_ dtype: DType) -> Tolerance {
        switch dtype {
        case .float32: return Tolerance(rtol: 1.3e-6, atol: 1e-5)
        case .float64: return Tolerance(rtol: 1e-7, atol: 1e-7)
        case .int64, .bool: return Tolerance(rtol: 0, atol: 0)
        }
    }

    /// The tolerance for a value of `dtype` produced by summing `terms` terms, with its source.
    public static func tolerance(_ dtype: DType, terms: Int) -> (Tolerance, String) {
        let b = base(dtype)
        guard terms > 1, dtype.isFloatingPoint else { return (b, "default \(dtype.rawValue)") }
        let f = Double(terms).squareRoot()
        return (Tolerance(rtol: b.rtol * f, atol: b.atol * f), "default \(dtype.rawValue) × √\(terms) (reduction length)")
    }

    /// Ops whose output element is one input element moved, selected or copied, or one
    /// elementwise function of a few: K = 1. Listed so that every op has a rule on purpose.
    static let elementwise: Set<String> = {
        var s: Set<String> = ["pad", "pixel_shuffle", "pixel_unshuffle", "one_hot", "embedding", "flatten", "unflatten",
                              "max", "min", "argmax", "argmin", "glu", "prelu"]
        // Elementwise arithmetic and activations (each with its in-place form), dropout.
        for op in ["relu", "sigmoid", "tanh", "exp", "neg", "add", "sub", "mul", "div", "leaky_relu", "elu", "selu", "celu",
                   "hardtanh", "threshold", "rrelu"] { s.formUnion([op, op + "_"]) }
        s.formUnion(["relu6", "gelu", "silu", "mish", "softplus", "softsign", "hardswish", "hardsigmoid", "logsigmoid",
                     "tanhshrink", "softshrink", "hardshrink"])
        s.formUnion(["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"])
        for n in 1...3 {
            s.formUnion(["max_pool\(n)d", "max_pool\(n)d_with_indices", "adaptive_max_pool\(n)d",
                         "adaptive_max_pool\(n)d_with_indices", "max_unpool\(n)d"])
        }
        return s
    }()

    /// K, the number of terms summed per element: for the output, and for the gradient of each
    /// argument. An op without an explicit gradient rule uses its forward K for every gradient,
    /// or `numel(output) / numel(input)` when larger (a broadcast or gathered input's gradient
    /// sums that many terms).
    public static func reductionLengths(op: String, args: [String: Value], outputShape: [Int]?) -> (output: Int, grads: [String: Int]) {
        func shape(_ name: String) -> [Int]? { args[name]?.tensor?.shape }
        func ints(_ name: String, _ n: Int) -> [Int]? {
            switch args[name] {
            case .int(let i)?: return Array(repeating: i, count: n)
            case .list(let l)?:
                let v = l.compactMap { if case .int(let i) = $0 { i } else { nil } }
                return v.count == l.count ? (v.count == 1 ? Array(repeating: v[0], count: n) : v) : nil
            default: return nil
            }
        }
        func int(_ name: String) -> Int? { if case .int(let i)? = args[name] { return i } else { return nil } }
        let outNumel = outputShape?.reduce(1, *) ?? 1
        var forward = 1
        var grads: [String: Int] = [:]
        // conv2d → (conv, 2), avg_pool3d → (avg_pool, 3); other ops are their own family.
        let digit = op.count > 2 && op.hasSuffix("d") ? Int(String(op.dropLast().suffix(1))) : nil
        let spatialRank = digit.map { (1...3).contains($0) ? $0 : 0 } ?? 0
        let family = spatialRank > 0 ? String(op.dropLast(2)) : op

        switch family {
        case "conv":
            if let w = shape("weight"), let out = outputShape, w.count >= 3 {
                let groups = max(int("groups") ?? 1, 1)
                forward = w.dropFirst().reduce(1, *)                      // Cin/groups · kernel volume
                let perChannel = out.count == w.count ? out[0] * out.dropFirst(2).reduce(1, *) : out.dropFirst().reduce(1, *)
                grads = ["input": w[0] / groups * w.dropFirst(2).reduce(1, *),   // Cout/groups · kernel volume
                         "weight": perChannel, "bias": perChannel]              // N · output spatial size
            }
        case "conv_transpose":
            // Weight (in, out/groups, *k): each output sums at most in/groups · kernel volume products.
            if let w = shape("weight"), let out = outputShape, w.count >= 3 {
                let groups = max(int("groups") ?? 1, 1)
                forward = w[0] / groups * w.dropFirst(2).reduce(1, *)
                let perChannel = out.count == w.count ? out[0] * out.dropFirst(2).reduce(1, *) : out.dropFirst().reduce(1, *)
                grads = ["input": w.dropFirst().reduce(1, *), "weight": perChannel, "bias": perChannel]
            }
        case "linear":
            // y = x·Wᵀ + b: in_features products per output; the input's gradient sums
            // out_features, the weight's and bias's sum over the batch rows.
            if let w = shape("weight"), w.count == 2, let x = shape("input") {
                forward = w[1]
                let rows = max(1, x.reduce(1, *) / max(w[1], 1))
                grads = ["input": w[0], "weight": rows, "bias": rows]
            }
        case "bilinear":
            // y_o = x1ᵀ W_o x2 + b_o: in1 · in2 products.
            if let w = shape("weight"), w.count == 3, let x = shape("input1") {
                forward = w[1] * w[2]
                let rows = max(1, x.reduce(1, *) / max(w[1], 1))
                grads = ["input1": w[0] * w[2], "input2": w[0] * w[1], "weight": rows, "bias": rows]
            }
        case "fold", "unfold":
            // fold sums the overlapping blocks: at most kernel volume terms per element (and
            // unfold's gradient is a fold).
            forward = ints("kernel_size", 2)?.reduce(1, *) ?? 1
        case "avg_pool", "lp_pool":
            // A window's sum (of x or x^p): kernel volume terms; the input's gradient sums over
            // the windows that overlap it, at most kernel volume of them.
            forward = ints("kernel_size", spatialRank)?.reduce(1, *) ?? 1
        case "adaptive_avg_pool":
            // Windows of ⌈in/out⌉ + 1 elements at most, per spatial dimension.
            if let s = shape("input"), let out = outputShape, spatialRank > 0, s.count >= spatialRank, out.count == s.count {
                forward = zip(s.suffix(spatialRank), out.suffix(spatialRank)).reduce(1) { $0 * (($1.0 + $1.1 - 1) / max($1.1, 1) + 1) }
            }
        case "grid_sample":
            // 4 bilinear / 8 trilinear / 16 (or 64) bicubic taps; the grid gradient also sums channels.
            let taps = args["mode"].map { if case .string("bicubic") = $0 { 64 } else { 8 } } ?? 8
            forward = taps
            grads = ["input": taps, "grid": taps * max(1, shape("input")?.dropFirst().first ?? 1)]
        case "affine_grid":
            // A grid point is θ·(x, y[, z], 1): 3 or 4 products.
            forward = (shape("theta")?.last ?? 1)
        case "batch_norm", "instance_norm", "group_norm", "layer_norm", "normalize", "local_response_norm":
            // Mean and variance are sums over the elements normalized together.
            if let s = shape("input"), s.count >= 1 {
                let numel = s.reduce(1, *)
                switch op {
                case "batch_norm": forward = s.count >= 2 ? numel / max(s[1], 1) : 1
                case "instance_norm": forward = s.count >= 2 ? numel / max(s[0] * s[1], 1) : 1
                case "group_norm": forward = numel / max(s[0] * (int("num_groups") ?? 1), 1)
                case "layer_norm": forward = max(1, ints("normalized_shape", 1).map { s.suffix($0.count).reduce(1, *) } ?? 1)
                case "local_response_norm": forward = int("size") ?? 1        // a window across channels
                default:                                                      // normalize: the norm over `dim` (1)
                    let d = int("dim") ?? 1
                    forward = s.indices.contains(d < 0 ? d + s.count : d) ? s[d < 0 ? d + s.count : d] : 1
                }
            }
        case "softmax", "log_softmax", "softmin":
            // Σ exp over the reduced dimension (the implicit one when `dim` is None).
            if let s = shape("input"), !s.isEmpty {
                let d = int("dim") ?? ([0, 1, 3].contains(s.count) ? 0 : 1)
                let i = d < 0 ? d + s.count : d
                forward = s.indices.contains(i) ? s[i] : 1
            }
        case "cosine_similarity", "pairwise_distance":
            // Dot products and norms over the vectors' dimension (`dim`, default 1; the last one).
            if let s = shape("x1"), !s.isEmpty {
                let d = op == "pairwise_distance" ? s.count - 1 : (int("dim") ?? 1)
                let i = d < 0 ? d + s.count : d
                forward = s.indices.contains(i) ? s[i] : (s.last ?? 1)
            }
        case "sum", "mean":
            // The gradient is grad_output spread (and scaled by 1/n): no sum, K = 1.
            forward = max(1, (shape("input")?.reduce(1, *) ?? 1) / max(outNumel, 1))
            grads = ["input": 1]
        case _ where Signatures.losses.contains(where: { $0.name == op }):
            // A reduced loss sums every element's term; class losses also sum over classes
            // (reduction 'none' leaves those: C per output element).
            let n = ["input", "input1", "anchor"].lazy.compactMap(shape).first?.reduce(1, *) ?? 1
            forward = max(1, n / max(outNumel, 1))
        case "interpolate":
            if let s = shape("input"), let out = outputShape, s.count == out.count {
                let ratio = zip(s.dropFirst(2), out.dropFirst(2)).reduce(1) { $0 * max(1, ($1.0 + $1.1 - 1) / max($1.1, 1)) }
                forward = max(16, ratio)                                  // bicubic's 4×4 taps, or an area window
            }
        default:
            // `elementwise` (K = 1), and any op added later until it gets a rule.
            break
        }
        for (name, value) in args {
            guard let t = value.tensor, t.requiresGrad, grads[name] == nil else { continue }
            grads[name] = max(forward, outNumel / max(t.numel, 1))
        }
        return (forward, grads)
    }

    /// Ops of `Signatures.all` with neither a rule in `reductionLengths` nor an entry in
    /// `elementwise` (expected: none; a test keeps it so).
    public static var opsWithoutRule: [String] {
        let ruled: Set<String> = ["linear", "bilinear", "fold", "unfold", "grid_sample", "affine_grid", "batch_norm",
                                  "instance_norm", "group_norm", "layer_norm", "normalize", "local_response_norm", "softmax",
                                  "log_softmax", "softmin", "cosine_similarity", "pairwise_distance", "sum", "mean", "interpolate"]
        let windowed = ["conv", "conv_transpose", "avg_pool", "lp_pool", "adaptive_avg_pool"]
        return Signatures.all.keys.filter { op in
            !ruled.contains(op) && !elementwise.contains(op) && !Signatures.losses.contains { $0.name == op }
                && !windowed.contains { f in (1...3).contains { op == "\(f)\($0)d" } }
        }.sorted()
    }
}
