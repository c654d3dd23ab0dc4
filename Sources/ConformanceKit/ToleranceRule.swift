import NNCore

/// The harness's default tolerances, and where each case's tolerance came from.
///
/// The base is `torch.testing.assert_close`'s: float32 `rtol 1.3e-6, atol 1e-5`, float64
/// `rtol 1e-7, atol 1e-7`; integers and bools compare exactly. An op that sums K terms per
/// output element accumulates rounding error that grows like √K for independent errors
/// (Higham, *Accuracy and Stability of Numerical Algorithms*, §4.2), and two correct
/// implementations may sum in different orders, so both bounds are widened by √K, with K read
/// from the op and its arguments (never from the case name). See docs/tolerance.md.
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

    /// K, the number of terms summed per element: for the output, and for the gradient of each
    /// argument. Ops without a rule sum one term per output element; a gradient whose input is
    /// broadcast or gathered sums at least `numel(output) / numel(input)` terms.
    public static func reductionLengths(op: String, args: [String: Value], outputShape: [Int]?) -> (output: Int, grads: [String: Int]) {
        func shape(_ name: String) -> [Int]? { args[name]?.tensor?.shape }
        let outNumel = outputShape?.reduce(1, *) ?? 1
        var forward = 1
        var grads: [String: Int] = [:]
        switch op {
        case "conv1d", "conv2d", "conv3d":
            if let w = shape("weight"), let out = outputShape, w.count >= 3 {
                forward = w.dropFirst().reduce(1, *)                      // Cin/groups · kernel volume
                let perChannel = out.count == w.count ? out[0] * out.dropFirst(2).reduce(1, *) : out.dropFirst().reduce(1, *)
                grads = ["input": w[0] * w.dropFirst(2).reduce(1, *),    // ≤ Cout · kernel volume
                         "weight": perChannel, "bias": perChannel]       // N · output spatial size
            }
        case "conv_transpose1d", "conv_transpose2d", "conv_transpose3d":
            // Weight (in, out/groups, *k): each output sums at most in · kernel volume products.
            if let w = shape("weight"), let out = outputShape, w.count >= 3 {
                forward = w[0] * w.dropFirst(2).reduce(1, *)
                let perChannel = out.count == w.count ? out[0] * out.dropFirst(2).reduce(1, *) : out.dropFirst().reduce(1, *)
                grads = ["input": w.dropFirst().reduce(1, *), "weight": perChannel, "bias": perChannel]
            }
        case "fold", "unfold":
            // fold sums the overlapping blocks: at most kernel volume terms per element.
            if case .list(let k)? = args["kernel_size"] { forward = k.compactMap { if case .int(let i) = $0 { i } else { nil } }.reduce(1, *) }
            else if case .int(let k)? = args["kernel_size"] { forward = k * k }
        case "grid_sample":
            // 4 bilinear / 8 trilinear / 16 (or 64) bicubic taps; the grid gradient also sums channels.
            let taps = args["mode"].map { if case .string("bicubic") = $0 { 64 } else { 8 } } ?? 8
            forward = taps
            grads = ["input": taps, "grid": taps * max(1, shape("input")?.dropFirst().first ?? 1)]
        case "batch_norm", "instance_norm", "group_norm", "layer_norm", "normalize":
            // Mean and variance are sums over the elements normalized together.
            if let s = shape("input"), s.count >= 2 {
                let numel = s.reduce(1, *)
                switch op {
                case "batch_norm": forward = numel / max(s[1], 1)
                case "instance_norm": forward = numel / max(s[0] * s[1], 1)
                case "group_norm":
                    if case .int(let g)? = args["num_groups"] { forward = numel / max(s[0] * g, 1) }
                case "layer_norm":
                    if case .list(let dims)? = args["normalized_shape"] { forward = s.suffix(dims.count).reduce(1, *) }
                    else if case .int(let d)? = args["normalized_shape"] { forward = d }
                default: forward = s[1]
                }
            }
        case "softmax", "log_softmax", "softmin":
            forward = shape("input")?.max() ?? 1
        case "sum", "mean":
            forward = max(1, (shape("input")?.reduce(1, *) ?? 1) / max(outNumel, 1))
        case _ where Signatures.losses.contains(where: { $0.name == op }):
            // A reduced loss sums every element's term; class losses also sum over classes.
            let n = ["input", "input1", "anchor"].lazy.compactMap(shape).first?.reduce(1, *) ?? 1
            forward = max(1, n / max(outNumel, 1))
        case "interpolate":
            if let s = shape("input"), let out = outputShape, s.count == out.count {
                let ratio = zip(s.dropFirst(2), out.dropFirst(2)).reduce(1) { $0 * max(1, ($1.0 + $1.1 - 1) / max($1.1, 1)) }
                forward = max(16, ratio)                                  // bicubic's 4×4 taps, or an area window
            }
        default: break
        }
        for (name, value) in args {
            guard let t = value.tensor, t.requiresGrad, grads[name] == nil else { continue }
            grads[name] = max(forward, outNumel / max(t.numel, 1))
        }
        return (forward, grads)
    }
}
