import NNCore

/// Bytes an op must move at least, for GB/s in reports: every tensor it reads once and every
/// tensor it writes once (caches, reuse and scratch aside). For an op doing a few flops per
/// element (activations, pooling, normalization, depthwise convolutions) this is the figure that
/// bounds its time: a phase's GB/s next to a pure streaming op's (`relu`) shows how close it is.
///
///     forward  = Σ tensor arguments + output
///     backward = ∂output + Σ tensor arguments + Σ gradients of the arguments that require grad
///
/// (the backward reads the saved arguments and ∂output and writes the gradients).
public enum ByteCount {
    public static func forward(args: [String: Value], output: Tensor?) -> Double? {
        guard let output else { return nil }
        return Double(tensors(args).map(bytes).reduce(0, +) + bytes(output))
    }

    public static func backward(args: [String: Value], output: Tensor?) -> Double? {
        guard let output else { return nil }
        let inputs = tensors(args)
        let gradients = inputs.filter(\.requiresGrad).map(bytes).reduce(0, +)
        guard gradients > 0 else { return nil }
        return Double(bytes(output) + inputs.map(bytes).reduce(0, +) + gradients)
    }

    private static func bytes(_ t: Tensor) -> Int { t.numel * t.dtype.itemSize }

    /// The tensors among the arguments, those in lists included (`flatten`).
    private static func tensors(_ args: [String: Value]) -> [Tensor] {
        args.values.flatMap(flatten).compactMap { $0 }
    }
}
