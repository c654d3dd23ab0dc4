import NNCore

/// `conv1d/2d/3d` and `conv_transpose1d/2d/3d` on GEMMs (`ConvGEMM.swift`), with depthwise
/// convolutions on direct loops (`ConvDepthwise.swift`).
///
/// Arguments, errors and shapes come from `ConvolutionCall` / `ConvolutionTransposeCall`
/// (NNCore); autograd is recorded as the reference records it (`ConvolutionBackward0`, the same
/// saved tensors, `SqueezeBackward1` for an unbatched input). A convolution and a transposed
/// convolution with the same weight and parameters are each other's adjoint, so:
///
///     conv:            y = unfoldMultiply(x)   ∂x = multiplyFold(∂y)     ∂w = weightGradient(x, ∂y)
///     conv_transpose:  y = multiplyFold(x)     ∂x = unfoldMultiply(∂y)   ∂w = weightGradient(∂y, x)
extension Optimized {
    static let convolutionOps: [String: OpFunction] = [
        "conv1d": { try ConvOps.convolution(ConvolutionCall($0, spatialDims: 1)) },
        "conv2d": { try ConvOps.convolution(ConvolutionCall($0, spatialDims: 2)) },
        "conv3d": { try ConvOps.convolution(ConvolutionCall($0, spatialDims: 3)) },
        "conv_transpose1d": { try ConvOps.convolutionTranspose(ConvolutionTransposeCall($0, spatialDims: 1)) },
        "conv_transpose2d": { try ConvOps.convolutionTranspose(ConvolutionTransposeCall($0, spatialDims: 2)) },
        "conv_transpose3d": { try ConvOps.convolutionTranspose(ConvolutionTransposeCall($0, spatialDims: 3)) },
    ]
}

enum ConvOps {
    // MARK: Convolution

    static func convolution(_ call: ConvolutionCall) throws -> Value {
        let output: Tensor
        switch call.input.dtype {
        case .float32: output = try convolution(call, Float.self)
        case .float64: output = try convolution(call, Double.self)
        case .int64 where call.input.numel > 0:
            throw Unsupported("the optimized convolution computes float32 and float64 tensors, not int64")
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

    private static func convolution<T: BLASScalar>(_ call: ConvolutionCall, _: T.Type) throws -> Tensor {
        let geometry = ConvGeometry(image: call.inputSize, positions: call.outputSize, kernel: call.kernelSize,
                                    stride: call.stride, padding: call.paddingBefore, dilation: call.dilation)
        let (N, Cin, Cout, G) = (call.batchSize, call.inChannels, call.outChannels, call.groups)
        let P = geometry.positionCount
        let depthwise = G == Cin && G > 1
        let gemm = ConvProblem(geometry: geometry, batch: N, imageChannels: Cin, positionChannels: Cout, groups: G)
        let direct = DepthwiseConvolution(geometry: geometry, batch: N, inChannels: Cin, outChannels: Cout)
        let implicit = ImplicitConvolution(gemm, T.self)
        let implicitInputGradient = implicit == nil ? nil : ImplicitConvolution.inputGradient(of: gemm, T.self)
        let x = BLASKernels.elements(call.input, T.self), w = BLASKernels.elements(call.weight, T.self)
        let b = call.bias.map { BLASKernels.elements($0, T.self) }
        let count = N * Cout * P
        let y: [T] = BLASKernels.uninitialized(count) { y in
            BLASKernels.reading(x) { x in
                BLASKernels.reading(w) { w in
                    if depthwise {
                        if let b {
                            BLASKernels.reading(b) { b in direct.forward(x: x, weight: w, bias: b, y: y) }
                        } else {
                            direct.forward(x: x, weight: w, bias: nil, y: y)
                        }
                    } else if let implicit {
                        if let b {
                            BLASKernels.reading(b) { b in implicit.forward(image: x, weight: w, bias: b, positions: y) }
                        } else {
                            implicit.forward(image: x, weight: w, bias: nil, positions: y)
                        }
                    } else {
                        gemm.unfoldMultiply(image: x, weight: w, positions: y)
                        if let b { ConvKernels.addBias(b, to: y, batches: N, channels: Cout, plane: P) }
                    }
                }
            }
        }
        let output = Tensor(shape: call.batchedOutputShape, y)

        // As the reference: PyTorch saves the input the kernel saw — unsqueezed (sharing the version
        // counter) when unbatched, and for asymmetric "same" padding a padded copy.
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
            let x = BLASKernels.elements(try savedInput.unpack(), T.self)
            let w = BLASKernels.elements(try savedWeight.unpack(), T.self)
            let gy = BLASKernels.elements(g, T.self)
            var grads: [Tensor?] = [nil, nil, nil]
            if depthwise {
                // ∂x and ∂w together (one pass over ∂y where the kernel allows).
                let (gx, gw) = direct.gradients(gy: gy, x: x, weight: w, input: input.requiresGrad, weight: weight.requiresGrad)
                grads[0] = gx.map { BLASKernels.gradient($0, like: input) }
                grads[1] = gw.map { BLASKernels.gradient($0, like: weight) }
            }
            if !depthwise && input.requiresGrad {
                // The implicit GEMM writes every element; the fold accumulates into zeros.
                let gx: [T] = implicitInputGradient.map { implicit in
                    BLASKernels.uninitialized(x.count) { gx in
                        BLASKernels.reading(gy) { gy in
                            BLASKernels.reading(w) { w in implicit.inputGradient(gy: gy, weight: w, gx: gx) }
                        }
                    }
                } ?? BLASKernels.zeroed(x.count) { gx in
                    BLASKernels.reading(gy) { gy in
                        BLASKernels.reading(w) { w in gemm.multiplyFold(positions: gy, weight: w, image: gx) }
                    }
                }
                grads[0] = BLASKernels.gradient(gx, like: input)
            }
            // The implicit weight gradient may sum the bias gradient on its pass over ∂y.
            let wantsBias = bias?.requiresGrad == true
            var gb = [T](repeating: 0, count: wantsBias ? Cout : 0), summedBias = false
            if !depthwise && weight.requiresGrad {
                let gw: [T] = BLASKernels.zeroed(w.count) { gw in
                    BLASKernels.reading(gy) { gy in
                        BLASKernels.reading(x) { x in
                            if let implicit, implicit.coversWeightGradient {
                                summedBias = BLASKernels.writing(&gb) { gb in
                                    implicit.weightGradient(image: x, positions: gy, into: gw, biasGradient: wantsBias ? gb : nil)
                                }
                            } else {
                                gemm.weightGradient(image: x, positions: gy, into: gw)
                            }
                        }
                    }
                }
                grads[1] = BLASKernels.gradient(gw, like: weight)
            }
            if let bias, bias.requiresGrad {
                let gb = summedBias ? gb : ConvKernels.biasGradient(gy, batches: N, channels: Cout, plane: P)
                grads[2] = BLASKernels.gradient(gb, like: bias)
            }
            return grads
        }
    }

    // MARK: Transposed convolution

    static func convolutionTranspose(_ call: ConvolutionTransposeCall) throws -> Value {
        let output: Tensor
        switch call.input.dtype {
        case .float32: output = try convolutionTranspose(call, Float.self)
        case .float64: output = try convolutionTranspose(call, Double.self)
        case .int64 where call.input.numel > 0:
            throw Unsupported("the optimized transposed convolution computes float32 and float64 tensors, not int64")
        default:
            output = Tensor.zeros(call.batchedOutputShape, dtype: call.input.dtype)
        }
        if call.batched { return .tensor(output) }
        // PyTorch convolves the input unsqueezed to a batch of one, then `squeeze(0)`s the result
        // (a view of it).
        let batchedShape = output.shape
        return .tensor(try GradMode.noGrad { try output.view(call.outputShape) }
            .recording("SqueezeBackward1", inputs: [output]) { g in [try g.reshape(batchedShape)] })
    }

    private static func convolutionTranspose<T: BLASScalar>(_ call: ConvolutionTransposeCall, _: T.Type) throws -> Tensor {
        // The convolution this one transposes: its image is our output, its positions our input.
        let geometry = ConvGeometry(image: call.outputSize, positions: call.inputSize, kernel: call.kernelSize,
                                    stride: call.stride, padding: call.padding, dilation: call.dilation)
        let (N, Cin, Cout, G) = (call.batchSize, call.inChannels, call.outChannels, call.groups)
        let IV = geometry.imageVolume
        let gemm = ConvProblem(geometry: geometry, batch: N, imageChannels: Cout, positionChannels: Cin, groups: G)
        let x = BLASKernels.elements(call.input, T.self), w = BLASKernels.elements(call.weight, T.self)
        let b = call.bias.map { BLASKernels.elements($0, T.self) }
        let y: [T] = BLASKernels.zeroed(N * Cout * IV) { y in
            BLASKernels.reading(x) { x in
                BLASKernels.reading(w) { w in gemm.multiplyFold(positions: x, weight: w, image: y) }
            }
            if let b { ConvKernels.addBias(b, to: y, batches: N, channels: Cout, plane: IV) }
        }
        let output = Tensor(shape: call.batchedOutputShape, y)

        let savedInput = SavedTensor(call.batched ? call.input
                                         : try GradMode.noGrad { try call.input.view(call.batchedInputShape) })
        let savedWeight = SavedTensor(call.weight)
        let (input, weight, bias) = (call.input, call.weight, call.bias)
        return output.recording("ConvolutionBackward0", inputs: [input, weight, bias],
                                saving: [savedInput, savedWeight]) { g in
            let x = BLASKernels.elements(try savedInput.unpack(), T.self)
            let w = BLASKernels.elements(try savedWeight.unpack(), T.self)
            let gy = BLASKernels.elements(g, T.self)
            var grads: [Tensor?] = [nil, nil, nil]
            if input.requiresGrad {
                let gx: [T] = BLASKernels.uninitialized(x.count) { gx in
                    BLASKernels.reading(gy) { gy in
                        BLASKernels.reading(w) { w in gemm.unfoldMultiply(image: gy, weight: w, positions: gx) }
                    }
                }
                grads[0] = BLASKernels.gradient(gx, like: input)
            }
            if weight.requiresGrad {
                let gw: [T] = BLASKernels.zeroed(w.count) { gw in
                    BLASKernels.reading(gy) { gy in
                        BLASKernels.reading(x) { x in gemm.weightGradient(image: gy, positions: x, into: gw) }
                    }
                }
                grads[1] = BLASKernels.gradient(gw, like: weight)
            }
            if let bias, bias.requiresGrad {
                grads[2] = BLASKernels.gradient(ConvKernels.biasGradient(gy, batches: N, channels: Cout, plane: IV), like: bias)
            }
            return grads
        }
    }
}
