import NNCore

/// `unfold` (im2col) and `fold` (col2im), and the sliding blocks they share with the
/// transposed convolutions (`ConvolutionTranspose.swift`).
///
/// Arguments, errors and shapes come from `UnfoldCall` (NNCore). For every plane `p` (a batch
/// element's channel), block `l` and kernel offset `q`, with `i(l, q)` the image position the
/// block covers (`SlidingBlocks`),
///
///     unfold:  columns[p, q, l] = image[p, i(l, q)]         (0 where i lies in the padding)
///     fold:    image[p, i]      = Σ_{(l, q) : i(l, q) = i} columns[p, q, l]
///
/// Both are linear and each is the other's adjoint (⟨unfold x, c⟩ = ⟨x, fold c⟩), so the
/// gradient of one is the other applied to the output's gradient.
extension Reference {
    static let unfoldOps: [String: OpFunction] = [
        "unfold": { try slidingBlocks(UnfoldCall($0)) },
        "fold": { try slidingBlocks(UnfoldCall($0)) },
    ]
}

/// The image positions covered by sliding blocks. Per dimension, block `l` (of `blocks`) with
/// kernel offset `q` (of `kernel`) covers
///
///     i = l·stride − padding + q·dilation
///
/// and `taps[l·K + q]` (`l`, `q` flat and row-major, `K` the kernel volume) is that position's
/// flat row-major index in the image, or −1 where it falls outside (in the zero padding).
struct SlidingBlocks {
    let imageVolume: Int
    let blockCount: Int
    let kernelVolume: Int
    let taps: [Int]

    init(image: [Int], blocks: [Int], kernel: [Int], stride: [Int], padding: [Int], dilation: [Int]) {
        let dims = image.count
        let blockStrides = contiguousStrides(blocks), kernelStrides = contiguousStrides(kernel)
        let imageStrides = contiguousStrides(image)
        imageVolume = image.reduce(1, *)
        blockCount = blocks.reduce(1, *)
        kernelVolume = kernel.reduce(1, *)
        var taps = [Int](repeating: -1, count: blockCount * kernelVolume)
        for l in 0..<blockCount {
            for q in 0..<kernelVolume {
                var flat = 0
                var inside = true
                for d in 0..<dims {
                    let block = (l / blockStrides[d]) % blocks[d], offset = (q / kernelStrides[d]) % kernel[d]
                    let i = block * stride[d] - padding[d] + offset * dilation[d]
                    inside = inside && i >= 0 && i < image[d]
                    flat += i * imageStrides[d]
                }
                if inside { taps[l * kernelVolume + q] = flat }
            }
        }
        self.taps = taps
    }

    init(_ call: UnfoldCall) {
        self.init(image: call.imageSize, blocks: call.blocks, kernel: call.kernelSize,
                  stride: call.stride, padding: call.padding, dilation: call.dilation)
    }

    /// im2col: `planes` images `[planes, image...]` to columns `[planes, K, L]`.
    func unfold<T: FloatScalar>(_ image: [T], planes: Int) -> [T] {
        var columns = [T](repeating: 0, count: planes * kernelVolume * blockCount)
        for p in 0..<planes {
            for q in 0..<kernelVolume {
                for l in 0..<blockCount where taps[l * kernelVolume + q] >= 0 {
                    columns[(p * kernelVolume + q) * blockCount + l] = image[p * imageVolume + taps[l * kernelVolume + q]]
                }
            }
        }
        return columns
    }

    /// col2im: columns `[planes, K, L]` summed into `planes` images `[planes, image...]`.
    func fold<T: FloatScalar>(_ columns: [T], planes: Int) -> [T] {
        var image = [T](repeating: 0, count: planes * imageVolume)
        for p in 0..<planes {
            for q in 0..<kernelVolume {
                for l in 0..<blockCount where taps[l * kernelVolume + q] >= 0 {
                    image[p * imageVolume + taps[l * kernelVolume + q]] += columns[(p * kernelVolume + q) * blockCount + l]
                }
            }
        }
        return image
    }
}

private func slidingBlocks(_ call: UnfoldCall) throws -> Value {
    let blocks = SlidingBlocks(call)
    switch call.input.dtype {
    case .float32: return .tensor(slidingBlocks(call, blocks, as: Float.self))
    case .float64: return .tensor(slidingBlocks(call, blocks, as: Double.self))
    default:
        // Bool (int64 was rejected as PyTorch rejects it): computed as 0/1, so that a position
        // `fold` sums several blocks into is true when any of them is.
        let x = call.input.doubles, planes = call.batchSize * call.channels
        let y = call.isFold ? blocks.fold(x, planes: planes) : blocks.unfold(x, planes: planes)
        return .tensor(Tensor(shape: call.outputShape, data: TensorData.float64(y).converted(to: call.input.dtype)))
    }
}

/// The op in `T`, recording `Im2ColBackward0` / `Col2ImBackward0` (which save no tensors).
private func slidingBlocks<T: FloatScalar>(_ call: UnfoldCall, _ blocks: SlidingBlocks, as _: T.Type) -> Tensor {
    let planes = call.batchSize * call.channels, fold = call.isFold, input = call.input
    let x: [T] = input.values()
    let y = fold ? blocks.fold(x, planes: planes) : blocks.unfold(x, planes: planes)
    return Tensor(shape: call.outputShape, y).recording(fold ? "Col2ImBackward0" : "Im2ColBackward0", inputs: [input]) { g in
        let gy = Reference.elements(g, T.self)
        return [Tensor(shape: input.shape, fold ? blocks.unfold(gy, planes: planes) : blocks.fold(gy, planes: planes))]
    }
}
