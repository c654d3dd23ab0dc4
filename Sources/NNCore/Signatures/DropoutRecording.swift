/// What a backend computes for a dropout call that applies a mask (`DropoutAction.mask` or
/// `.zero`): per element the factor n (0 where dropped) and the output y = x · n, or
/// y = x · n + c for alpha dropout (the product rounded before the shift is added).
public struct DropoutData {
    /// n, in x's dtype; the backward multiplies the gradient by it.
    public var noise: TensorData
    /// y, in x's dtype.
    public var output: TensorData
    /// Whether `output` includes alpha dropout's shift c (recorded as `AddBackward0`).
    public var shifted: Bool

    public init(noise: TensorData, output: TensorData, shifted: Bool) {
        self.noise = noise
        self.output = output
        self.shifted = shifted
    }
}

extension DropoutCall {
    /// The call as PyTorch records it, for any backend; `compute(x)` gives the data for `x` (the
    /// input, or its batched view), `multiply(g, n)` the backward's g · n.
    ///
    /// The product is `MulBackward0` saving n (in place: written into x), then for alpha dropout
    /// `.add_(c)`, in place on the product, so a fresh output is at version 1 (`AddBackward0`).
    /// An unbatched `dropout1d`/`dropout3d` input gets a leading batch dimension first: out of
    /// place `unsqueeze(0)` … `squeeze(0)` (so even the identity is a view, `SqueezeBackward1`);
    /// in place `unsqueeze_(0)` … `squeeze_(0)`, each bumping the version and recorded
    /// (`UnsqueezeBackward1`, `SqueezeBackward4`). Tensors here cannot change shape, so the
    /// in-place pair is recorded without one; the data and gradients are the same.
    public func record(compute: (Tensor) throws -> DropoutData,
                       multiply: @escaping (TensorData, TensorData) -> TensorData) throws -> Tensor {
        let x = input
        func apply(_ x: Tensor) throws -> Tensor {
            guard action != .identity else { return x }
            return try Self.apply(compute(x), to: x, inplace: inplace, multiply: multiply)
        }
        guard addsBatchDim else { return try apply(x) }
        guard inplace else { return try Self.view(apply(Self.view(x, [1] + x.shape, "UnsqueezeBackward0")), x.shape, "SqueezeBackward1") }
        x.commitInplace(x.data, name: "UnsqueezeBackward1") { g in [g] }
        _ = try apply(x)
        x.commitInplace(x.data, name: "SqueezeBackward4") { g in [g] }
        return x
    }

    private static func apply(_ d: DropoutData, to x: Tensor, inplace: Bool,
                              multiply: @escaping (TensorData, TensorData) -> TensorData) throws -> Tensor {
        // The noise is private to this node (nothing can modify it in place); saved for the
        // freed-after-backward rule like any saved tensor.
        let noise = Tensor(shape: x.shape, data: d.noise)
        let saved = SavedTensor(noise)
        let pullback = { (g: Tensor) throws -> [Tensor?] in
            [Tensor(shape: g.shape, data: multiply(g.data, try saved.unpack().data))]
        }
        let y: Tensor
        if inplace {
            x.commitInplace(d.output, name: "MulBackward0", saving: [saved], pullback: pullback)
            y = x
        } else {
            y = Tensor(shape: x.shape, data: d.output).recording("MulBackward0", inputs: [x], saving: [saved], pullback: pullback)
        }
        guard d.shifted else { return y }
        y.commitInplace(d.output, name: "AddBackward0") { g in [g] }
        return y
    }

    /// `t.unsqueeze(0)` / `t.squeeze(0)` as a view of `t` with `shape`, recorded as `name`.
    private static func view(_ t: Tensor, _ shape: [Int], _ name: String) throws -> Tensor {
        let original = t.shape
        return try GradMode.noGrad { try t.view(shape) }.recording(name, inputs: [t]) { g in [try g.reshape(original)] }
    }
}
