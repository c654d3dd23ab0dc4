import NNCore

/// `conv1d`, `conv2d`, `conv3d`: one N-dimensional implementation.
///
/// Arguments, errors, padding and output shape come from `ConvolutionCall` (NNCore). With
/// `G = groups`, `Cg = inChannels / G` input channels and `Og = outChannels / G` output channels
/// per group, output channel `o` belongs to group `g = o / Og` and, as a cross-correlation
/// (the kernel is not flipped),
///
///     y[b, o, p] = bias[o] + Σ_{c < Cg} Σ_q  x[b, g·Cg + c, p·stride − padBefore + q·dilation] · w[o, c, q]
///
/// where `p` runs over output positions, `q` over kernel positions (both N-dimensional, taken
/// per dimension) and terms whose input position falls in the zero padding are left out.
///
/// `y` is a sum of products `x[i]·w[j]` over a fixed set of index triples `(i, j, k)` into
/// `x`, `w`, `y`, so the vector-Jacobian products run over the same triples:
///
///     ∂L/∂x[i] = Σ ∂L/∂y[k] · w[j]      ∂L/∂w[j] = Σ ∂L/∂y[k] · x[i]      ∂L/∂bias[o] = Σ_{b,p} ∂L/∂y[b, o, p]
extension Reference {
    static let convolutionOps: [String: OpFunction] = [
        "conv1d": { try convolution(ConvolutionCall($0, spatialDims: 1)) },
        "conv2d": { try convolution(ConvolutionCall($0, spatialDims: 2)) },
        "conv3d": { try convolution(ConvolutionCall($0, spatialDims: 3)) },
    ]
}

private func convolution(_ call: ConvolutionCall) throws -> Value {
    let output: Tensor
    switch call.input.dtype {
    case .float32: output = try convolution(call, as: Float.self)
    case .float64: output = try convolution(call, as: Double.self)
    case .int64 where call.input.numel > 0:
        // PyTorch's CPU kernels also convolve int64 tensors (with wrapping arithmetic).
        throw Unsupported("the reference convolution computes float32 and float64 tensors, not int64")
    default:
        // An empty int64 or bool input: PyTorch returns zeros without running a kernel.
        output = Tensor.zeros(call.batchedOutputShape, dtype: call.input.dtype)
    }
    if call.batched { return .tensor(output) }
    // PyTorch convolves the input unsqueezed to a batch of one, then `squeeze(0)`s the result.
    let batchedShape = output.shape
    let squeezed = Tensor(shape: call.outputShape, data: output.data)
    return .tensor(squeezed.recording("SqueezeBackward1", inputs: [output]) { g in [try g.reshape(batchedShape)] })
}

/// The forward in `T` (Float for float32, Double for float64), recording `ConvolutionBackward0`.
private func convolution<T: FloatScalar>(_ call: ConvolutionCall, as _: T.Type) throws -> Tensor {
    let taps = inputTaps(call)
    let x: [T] = elements(call.input), w: [T] = elements(call.weight)
    let positions = call.outputSize.reduce(1, *)
    var y = [T](repeating: 0, count: call.batchedOutputShape.reduce(1, *))
    if let bias = call.bias {
        let b: [T] = elements(bias)
        for k in y.indices { y[k] = b[(k / positions) % call.outChannels] }
    }
    forEachProduct(call, taps) { i, j, k in y[k] += x[i] * w[j] }
    let output = Tensor(shape: call.batchedOutputShape, y)

    // PyTorch saves the input the kernel saw: unsqueezed (sharing the version counter) when
    // unbatched, and for asymmetric "same" padding a padded copy that nothing else can modify.
    let savedInput: SavedTensor
    if call.paddingBefore != call.paddingAfter {
        savedInput = SavedTensor(call.input.clone())
    } else if call.batched {
        savedInput = SavedTensor(call.input)
    } else {
        savedInput = SavedTensor(try GradMode.noGrad { try call.input.view(call.batchedInputShape) })
    }
    let savedWeight = SavedTensor(call.weight)
    let (input, weight, bias) = (call.input, call.weight, call.bias)
    return output.recording("ConvolutionBackward0", inputs: [input, weight, bias],
                            saving: [savedInput, savedWeight]) { g in
        let x: [T] = elements(try savedInput.unpack()), w: [T] = elements(try savedWeight.unpack())
        let gy: [T] = elements(g)
        var grads: [Tensor?] = [nil, nil, nil]
        if input.requiresGrad {
            var gx = [T](repeating: 0, count: x.count)
            forEachProduct(call, taps) { i, j, k in gx[i] += gy[k] * w[j] }
            grads[0] = gradient(gx, like: input)
        }
        if weight.requiresGrad {
            var gw = [T](repeating: 0, count: w.count)
            forEachProduct(call, taps) { i, j, k in gw[j] += gy[k] * x[i] }
            grads[1] = gradient(gw, like: weight)
        }
        if let bias, bias.requiresGrad {
            var gb = [T](repeating: 0, count: bias.numel)
            for k in gy.indices { gb[(k / positions) % call.outChannels] += gy[k] }
            grads[2] = gradient(gb, like: bias)
        }
        return grads
    }
}

/// For output position `p` and kernel position `q` (flat, row-major over the spatial dimensions),
/// `taps[p * K + q]` is the flat spatial index of the input element they multiply, or -1 where
/// it lies in the padding. Per dimension: `in = out·stride − padBefore + k·dilation`.
private func inputTaps(_ call: ConvolutionCall) -> [Int] {
    let dims = call.inputSize.count
    let outStrides = contiguousStrides(call.outputSize)
    let kernelStrides = contiguousStrides(call.kernelSize)
    let inStrides = contiguousStrides(call.inputSize)
    let positions = call.outputSize.reduce(1, *), taps = call.kernelSize.reduce(1, *)
    var table = [Int](repeating: -1, count: positions * taps)
    for p in 0..<positions {
        for q in 0..<taps {
            var flat = 0
            var inside = true
            for d in 0..<dims {
                let out = (p / outStrides[d]) % call.outputSize[d]
                let k = (q / kernelStrides[d]) % call.kernelSize[d]
                let i = out * call.stride[d] - call.paddingBefore[d] + k * call.dilation[d]
                if i < 0 || i >= call.inputSize[d] {
                    inside = false
                    break
                }
                flat += i * inStrides[d]
            }
            if inside { table[p * taps + q] = flat }
        }
    }
    return table
}

/// Calls `body(i, j, k)` for every product `x[i]·w[j]` that the sum for `y[k]` contains
/// (flat indices into the batched input, the weight and the batched output).
private func forEachProduct(_ call: ConvolutionCall, _ taps: [Int], _ body: (Int, Int, Int) -> Void) {
    let inSize = call.inputSize.reduce(1, *), positions = call.outputSize.reduce(1, *)
    let kernel = call.kernelSize.reduce(1, *)
    let inPerGroup = call.inChannels / call.groups, outPerGroup = call.outChannels / call.groups
    for b in 0..<call.batchSize {
        for o in 0..<call.outChannels {
            let g = o / outPerGroup
            for c in 0..<inPerGroup {
                let xBase = (b * call.inChannels + g * inPerGroup + c) * inSize
                let wBase = (o * inPerGroup + c) * kernel
                for p in 0..<positions {
                    let k = (b * call.outChannels + o) * positions + p
                    for q in 0..<kernel where taps[p * kernel + q] >= 0 {
                        body(xBase + taps[p * kernel + q], wBase + q, k)
                    }
                }
            }
        }
    }
}

/// The elements of `t` in `T`, converted if needed (the bias may have another dtype when
/// `padding` is a string, which PyTorch accepts and casts).
private func elements<T: FloatScalar>(_ t: Tensor) -> [T] {
    T.unwrap(t.data.converted(to: T.dtype))!
}

/// A gradient computed in `T`, in the shape and dtype of the tensor it belongs to.
private func gradient<T: FloatScalar>(_ values: [T], like t: Tensor) -> Tensor {
    Tensor(shape: t.shape, data: T.wrap(values).converted(to: t.dtype))
}
