import NNCore

/// `unfold` (im2col) and `fold` (col2im) on the convolutions' sliding-window loops
/// (`ConvGeometry.im2col` / `col2im`: whole rows of blocks copied or added as vectors).
///
/// Arguments, errors and shapes come from `UnfoldCall` (NNCore). For every plane `p` (a batch
/// element's channel), kernel offset `q` and block `l`, with `i(l, q)` the image position the
/// block covers (i = l·stride − padding + q·dilation per dimension),
///
///     unfold:  columns[p, q, l] = image[p, i(l, q)]         (0 where i lies in the padding)
///     fold:    image[p, i]      = Σ_{(l, q) : i(l, q) = i} columns[p, q, l]
///
/// Each is the other's adjoint, so the gradient of one is the other applied to the output's
/// gradient (`Im2ColBackward0`, `Col2ImBackward0`, saving nothing). Planes are split across
/// cores; within a plane `col2im` adds in order of q, then l, as the reference does. A bool
/// input runs as 0/1 in float32, so that a position `fold` sums several blocks into is true
/// when any of them is.
extension Optimized {
    static let simdUnfoldOps: [String: OpFunction] = [
        "unfold": { try .tensor(simdSlidingBlocks(UnfoldCall($0))) },
        "fold": { try .tensor(simdSlidingBlocks(UnfoldCall($0))) },
    ]

    static func simdSlidingBlocks(_ call: UnfoldCall) -> Tensor {
        let blocks = SlidingBlockPlanes(call)
        switch call.input.data {
        case .float32(let x): return slidingBlocks(call, blocks, x)
        case .float64(let x): return slidingBlocks(call, blocks, x)
        default:
            let x = floatElements(call.input, Float.self)
            let y = call.isFold ? blocks.fold(x) : blocks.unfold(x)
            return Tensor(shape: call.outputShape, data: TensorData.float32(y).converted(to: call.input.dtype))
        }
    }

    private static func slidingBlocks<T: BLASScalar>(_ call: UnfoldCall, _ blocks: SlidingBlockPlanes, _ x: [T]) -> Tensor {
        let fold = call.isFold, input = call.input
        let y = Tensor(shape: call.outputShape, fold ? blocks.fold(x) : blocks.unfold(x))
        return y.recording(fold ? "Col2ImBackward0" : "Im2ColBackward0", inputs: [input]) { g in
            let gy = floatElements(g, T.self)
            return [Tensor(shape: input.shape, fold ? blocks.unfold(gy) : blocks.fold(gy))]
        }
    }
}

/// `planes` images of a sliding-block geometry (the blocks are the geometry's positions).
struct SlidingBlockPlanes {
    let geometry: ConvGeometry
    let planes: Int

    init(_ call: UnfoldCall) {
        geometry = ConvGeometry(image: call.imageSize, positions: call.blocks, kernel: call.kernelSize,
                                stride: call.stride, padding: call.padding, dilation: call.dilation)
        planes = call.batchSize * call.channels
    }

    /// im2col: images `[planes, image...]` to columns `[planes, K, L]`.
    func unfold<T: BLASScalar>(_ image: [T]) -> [T] {
        let geo = geometry, K = geo.kernelVolume, L = geo.positionCount, V = geo.imageVolume
        return image.withPointer { src in
            makeArray(planes * K * L) { dst in
                SIMDParallel.forEach(planes, costPerItem: K * L) { r in
                    for p in r { geo.im2col(src + p * V, dst + p * K * L, ld: L, positions: 0..<L) }
                }
            }
        }
    }

    /// col2im: columns `[planes, K, L]` summed into images `[planes, image...]`.
    func fold<T: BLASScalar>(_ columns: [T]) -> [T] {
        let geo = geometry, K = geo.kernelVolume, L = geo.positionCount, V = geo.imageVolume
        return columns.withPointer { src in
            makePlanewiseZeroedArray(planes: planes, planeSize: V, costPerPlane: K * L) { r, dst in
                for p in r { geo.col2im(src + p * K * L, ld: L, dst + p * V, positions: 0..<L) }
            }
        }
    }
}
