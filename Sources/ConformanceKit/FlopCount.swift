import NNCore

/// Floating-point operations of an op's forward, for GFLOP/s in reports: a multiply-add counts
/// two. Defined for the matrix-product ops, where the figure means something; nil elsewhere.
public enum FlopCount {
    public static func forward(op: String, args: [String: Value], outputShape: [Int]?) -> Double? {
        guard let out = outputShape, let w = args["weight"]?.tensor?.shape else { return nil }
        let outputs = Double(out.reduce(1, *))
        switch op {
        case "conv1d", "conv2d", "conv3d":
            return 2 * outputs * Double(w.dropFirst().reduce(1, *))        // Cin/groups · kernel per output
        case "conv_transpose1d", "conv_transpose2d", "conv_transpose3d":
            guard let x = args["input"]?.tensor?.shape, w.count >= 3 else { return nil }
            return 2 * Double(x.reduce(1, *)) * Double(w.dropFirst().reduce(1, *))  // each input scatters out/groups · kernel
        case "linear":
            return 2 * outputs * Double(w.last ?? 1)
        case "bilinear":
            return w.count == 3 ? 2 * outputs * Double(w[1] * w[2]) : nil
        default:
            return nil
        }
    }

    /// Floating-point operations of the backward of the same call: each of the input and weight
    /// gradients of a matrix-product op is a product of the forward's size, so the forward's
    /// count once per one of them that requires grad (bias gradients, mere sums, are left out).
    public static func backward(op: String, args: [String: Value], outputShape: [Int]?) -> Double? {
        guard let f = forward(op: op, args: args, outputShape: outputShape) else { return nil }
        let products = ["input", "weight"].filter { args[$0]?.tensor?.requiresGrad == true }.count
        return products > 0 ? f * Double(products) : nil
    }
}
