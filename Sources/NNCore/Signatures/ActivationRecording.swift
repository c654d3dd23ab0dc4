/// How an elementwise activation is recorded for autograd, shared by every backend (the
/// backends differ only in how they compute f and f').

extension ActivationCall {
    /// f(x) = `data` as PyTorch records it. Out of place the node keeps x (for `tanhshrink` a
    /// private copy: PyTorch keeps only tanh(x)). In place, x is overwritten and its history
    /// rebased onto f's node, which keeps either the result (`leaky_relu_`, `elu_`, ...: then
    /// `savesResult`) or a copy of x from before the write.
    ///
    /// `gradient(g, saved, savedIsResult)` is f'·g from the saved input, or from the saved
    /// result when `savedIsResult`; before it runs from a result, a negative slope or α raises
    /// PyTorch's in-place backward error.
    public func record(_ data: TensorData,
                       gradient: @escaping (_ g: Tensor, _ saved: Tensor, _ savedIsResult: Bool) throws -> Tensor) -> Tensor {
        let (f, x) = (function, input)
        if savesResult {
            x.commitInplace(data, name: backwardName, pullbackWithOutput: { g, y in
                try f.checkBackwardFromResult()
                return [try gradient(g, y, true)]
            })
            return x
        }
        let saved = inplace || f == .tanhshrink ? SavedTensor(x.clone()) : SavedTensor(x)
        let pullback = { (g: Tensor) in [try gradient(g, saved.unpack(), false)] }
        if inplace {
            x.commitInplace(data, name: backwardName, saving: [saved], pullback: pullback)
            return x
        }
        return Tensor(shape: x.shape, data: data).recording(backwardName, inputs: [x], saving: [saved], pullback: pullback)
    }
}

extension Activation {
    /// The result determines the gradient only for a non-negative slope or α.
    func checkBackwardFromResult() throws {
        switch self {
        case .leakyRelu(let slope) where slope < 0: throw Activation.negativeSlopeInplaceError
        case .elu(let alpha, _, _) where alpha < 0, .celu(let alpha) where alpha < 0: throw Activation.negativeAlphaInplaceError
        default: return
        }
    }
}
