import NNCore

/// `conv_transpose1d`, `conv_transpose2d`, `conv_transpose3d`: one N-dimensional implementation
/// built on `fold` / `unfold` (`Unfold.swift`).
///
/// Arguments, errors and the output shape come from `ConvolutionTransposeCall` (NNCore). With
/// `G = groups`, `Cg = inChannels / G` input and `Og = outChannels / G` output channels per
/// group, each input element `x[b, g·Cg + c, l]` is spread over a window of the output, weighted
/// by the kernel: output position `p = l·stride − padding + q·dilation` (per dimension) receives
///
///     y[b, g·Og + o, p] = bias[g·Og + o] + Σ_{c < Cg} Σ_{(l, q) → p}  x[b, g·Cg + c, l] · w[g·Cg + c, o, q]
///
/// (output padding only adds positions at the end, which nothing but the bias may reach). This
/// is the adjoint of `conv{N}d` with the same weight and parameters, computed as PyTorch's CPU
/// kernel does: a product with the weight per group gives the columns of sliding blocks over the
/// output, one block per input position `l`, and `fold` sums them into place:
///
///     columns[b, g·Og + o, q, l] = Σ_{c < Cg} w[g·Cg + c, o, q] · x[b, g·Cg + c, l]
///     y = fold(columns) + bias
///
/// Backward, with `∂columns = unfold(∂y)` (the adjoint of `fold`):
///
///     ∂x[b, g·Cg + c, l] = Σ_{o, q} w[g·Cg + c, o, q] · ∂columns[b, g·Og + o, q, l]
///     ∂w[g·Cg + c, o, q] = Σ_{b, l} x[b, g·Cg + c, l] · ∂columns[b, g·Og + o, q, l]
///     ∂bias[o]           = Σ_{b, p} ∂y[b, o, p]
///
/// `∂x` is therefore `conv{N}d(∂y, w)` with the same stride, padding, dilation and groups.
extension Reference {
    static let convolutionTransposeOps: [String: OpFunction] = {
        let ops: [String: OpFunction] = [
            "conv_transpose1d": { try convolutionTranspose(ConvolutionTransposeCall($0, spatialDims: 1)) },
            "conv_transpose2d": { try convolutionTranspose(ConvolutionTransposeCall($0, spatialDims: 2)) },
            "conv_transpose3d": { try convolutionTranspose(ConvolutionTransposeCall($0, spatialDims: 3)) },
        ]
        return ops.merging(unfoldOps) { a, _ in a }
    }()
}

private func convolutionTranspose(_ call: ConvolutionTransposeCall) throws -> Value {
    let output: Tensor
    switch call.input.dtype {
    case .float32: output = try convolutionTranspose(call, as: Float.self)
    case .float64: output = try convolutionTranspose(call, as: Double.self)
    case .int64 where call.input.numel > 0:
        // PyTorch's slow CPU kernels also compute int64 tensors (with wrapping arithmetic).
        throw Unsupported("the reference transposed convolution computes float32 and float64 tensors, not int64")
    default:
        // An empty int64 or bool input: PyTorch returns zeros without running a kernel.
        output = Tensor.zeros(call.batchedOutputShape, dtype: call.input.dtype)
    }
    // PyTorch convolves the input unsqueezed to a batch of one, then `squeeze(0)`s the result.
    return .tensor(call.batched ? output : try squeezed(output, at: 0))
}

/// The forward in `T` (Float for float32, Double for float64), recording `ConvolutionBackward0`.
private func convolutionTranspose<T: FloatScalar>(_ call: ConvolutionTransposeCall, as _: T.Type) throws -> Tensor {
    let blocks = SlidingBlocks(image: call.outputSize, blocks: call.inputSize, kernel: call.kernelSize,
                               stride: call.stride, padding: call.padding, dilation: call.dilation)
    let planes = call.batchSize * call.outChannels
    let x = Reference.elements(call.input, T.self), w = Reference.elements(call.weight, T.self)
    var columns = [T](repeating: 0, count: planes * blocks.kernelVolume * blocks.blockCount)
    forEachProduct(call) { i, j, k in columns[k] += w[j] * x[i] }
    var y = blocks.fold(columns, planes: planes)
    if let bias = call.bias {
        let b = Reference.elements(bias, T.self)
        for k in y.indices { y[k] += b[(k / blocks.imageVolume) % call.outChannels] }
    }
    let output = Tensor(shape: call.batchedOutputShape, y)

    // PyTorch saves the input the kernel saw: for an unbatched input, the unsqueezed view (which
    // shares its version counter).
    let savedInput = SavedTensor(call.batched ? call.input : try GradMode.noGrad { try call.input.view(call.batchedInputShape) })
    let savedWeight = SavedTensor(call.weight)
    let (input, weight, bias) = (call.input, call.weight, call.bias)
    return output.recording("ConvolutionBackward0", inputs: [input, weight, bias], saving: [savedInput, savedWeight]) { g in
        let x = Reference.elements(try savedInput.unpack(), T.self), w = Reference.elements(try savedWeight.unpack(), T.self)
        let gy = Reference.elements(g, T.self)
        let gColumns = blocks.unfold(gy, planes: planes)
        var gx = [T](repeating: 0, count: x.count), gw = [T](repeating: 0, count: w.count)
        if input.requiresGrad { forEachProduct(call) { i, j, k in gx[i] += w[j] * gColumns[k] } }
        if weight.requiresGrad { forEachProduct(call) { i, j, k in gw[j] += x[i] * gColumns[k] } }
        var gb = [T](repeating: 0, count: call.outChannels)
        for k in gy.indices { gb[(k / blocks.imageVolume) % call.outChannels] += gy[k] }
        return [Reference.gradient(gx, input.shape, for: input), Reference.gradient(gw, weight.shape, for: weight),
                Reference.gradient(gb, [call.outChannels], for: bias)]
    }
}

/// Calls `body(i, j, k)` for every product `w[j]·x[i]` that column element `k` sums: flat indices
/// into the batched input `[N, Cin, L]`, the weight `[Cin, Og, K]` and the columns
/// `[N, Cout, K, L]` (L input positions, K kernel positions).
private func forEachProduct(_ call: ConvolutionTransposeCall, _ body: (Int, Int, Int) -> Void) {
    let positions = call.inputSize.reduce(1, *), kernel = call.kernelSize.reduce(1, *)
    let inPerGroup = call.inChannels / call.groups, outPerGroup = call.outChannels / call.groups
    for b in 0..<call.batchSize {
        for ci in 0..<call.inChannels {
            let g = ci / inPerGroup
            for o in 0..<outPerGroup {
                for q in 0..<kernel {
                    let j = (ci * outPerGroup + o) * kernel + q
                    let column = ((b * call.outChannels + g * outPerGroup + o) * kernel + q) * positions
                    for l in 0..<positions {
                        body((b * call.inChannels + ci) * positions + l, j, column + l)
                    }
                }
            }
        }
    }
}
