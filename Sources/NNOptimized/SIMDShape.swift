import NNCore

/// Shape and misc ops: ops that move, select or compare elements rather than compute new ones.
///
/// - `pad` (`SIMDShapePad.swift`): row copies with per-dim index maps;
/// - `pixel_shuffle` / `pixel_unshuffle` (here): a strided row permutation, each the other's backward;
/// - `one_hot` (here);
/// - `flatten` / `unflatten`: views, shared by every backend (`FlattenCall.result()`,
///   `UnflattenCall.result()` in NNCore). They move no data, so there is no kernel to optimize;
/// - `embedding` (`SIMDShapeEmbedding.swift`): row copies, backward a row accumulation;
/// - `cosine_similarity`, `pairwise_distance` (`SIMDShapeDistance.swift`);
/// - `max`, `min`, `argmax`, `argmin` (`SIMDShapeReduce.swift`);
/// - `unfold`, `fold` (`SIMDUnfold.swift`): im2col / col2im on `ConvGeometry`.
///
/// Arguments and errors are the shared calls of `NNCore/Signatures` (`PadCall`, ...); autograd
/// is recorded with the reference's node names, saved tensors and in-place semantics. The pure
/// data movements (pad, pixel shuffles, gathers of max/min) take every dtype, as the reference.
extension Optimized {
    static let simdShapeOps: [String: OpFunction] = [
        [
            "pixel_shuffle": { try .tensor(simdPixelShuffle(PixelShuffleCall(unshuffle: false, $0))) },
            "pixel_unshuffle": { try .tensor(simdPixelShuffle(PixelShuffleCall(unshuffle: true, $0))) },
            "one_hot": { try .tensor(simdOneHot(OneHotCall($0))) },
            "flatten": { try .tensor(FlattenCall($0).result()) },
            "unflatten": { try .tensor(UnflattenCall($0).result()) },
        ],
        simdPadOps, simdSelectionOps, simdDistanceOps, simdEmbeddingOps, simdUnfoldOps,
    ].reduce(into: [:]) { table, family in table.merge(family) { a, _ in a } }

    // MARK: pixel_shuffle, pixel_unshuffle

    /// pixel_shuffle: y[*, c, h·r + i, w·r + j] = x[*, c·r² + i·r + j, h, w]; pixel_unshuffle
    /// is the inverse permutation. Each is the other's backward (`PixelShuffleBackward0`,
    /// `PixelUnshuffleBackward0`, saving nothing).
    static func simdPixelShuffle(_ call: PixelShuffleCall) -> Tensor {
        let x = call.input, unshuffle = call.unshuffle
        let small = unshuffle ? call.outputShape : x.shape  // (*, C·r², H, W)
        let r = call.factor, n = small.count
        let layout = ShuffleLayout(planes: small.dropLast(3).reduce(1, *) * (small[n - 3] / (r * r)),
                                   factor: r, height: small[n - 2], width: small[n - 1])
        let y = Tensor(shape: call.outputShape, data: moveElements(x.data, count: x.numel, Shuffle(layout: layout, toLarge: !unshuffle)))
        return y.recording(call.backwardName, inputs: [x]) { g in
            [Tensor(shape: x.shape, data: moveElements(g.data, count: g.numel, Shuffle(layout: layout, toLarge: unshuffle)))]
        }
    }

    // MARK: one_hot

    /// y[..., k] = 1 if x[...] = k else 0, int64 (no gradient).
    static func simdOneHot(_ call: OneHotCall) -> Tensor {
        let classes = call.input.int64s, n = call.numClasses
        let y: [Int64] = classes.withPointer { cp in
            makeZeroedArray(classes.count * n) { out in
                SIMDParallel.forEach(classes.count, costPerItem: n) { r in
                    for p in r { out[p * n + Int(cp[p])] = 1 }
                }
            }
        }
        return Tensor(shape: call.input.shape + [n], int64: y)
    }
}

/// One direction of `ShuffleLayout.permute`.
struct Shuffle: ElementMove {
    let layout: ShuffleLayout, toLarge: Bool
    func move<E>(_ src: UnsafePointer<E>, _ dst: UnsafeMutablePointer<E>, fill _: E) { layout.permute(src, dst, toLarge: toLarge) }
}

/// The layouts pixel_shuffle moves between: `planes` groups (batch × output channel) of r²
/// small planes H × W (the "small" layout (*, C·r², H, W)), each one large plane H·r × W·r (the
/// "large" layout (*, C, H·r, W·r)). Small row (g, i·r + j, h) holds large row (g, h·r + i)'s
/// elements w·r + j.
struct ShuffleLayout {
    let planes: Int, factor: Int, height: Int, width: Int

    /// Copies every element from one layout to the other (small → large when `toLarge`); rows
    /// are split across cores, each writing only its own elements.
    func permute<E>(_ src: UnsafePointer<E>, _ dst: UnsafeMutablePointer<E>, toLarge: Bool) {
        let r = factor, h = height, w = width
        let rows = planes * r * r * h
        SIMDParallel.forEach(rows, costPerItem: w) { range in
            for row in range {
                let (g, rest) = row.quotientAndRemainder(dividingBy: r * r * h)
                let (channel, y) = rest.quotientAndRemainder(dividingBy: h)
                let (i, j) = channel.quotientAndRemainder(dividingBy: r)
                let small = row * w, large = (g * h * r + y * r + i) * (w * r) + j
                if toLarge {
                    for x in 0..<w { dst[large + x * r] = src[small + x] }
                } else {
                    for x in 0..<w { dst[small + x] = src[large + x * r] }
                }
            }
        }
    }
}

/// A data movement generic over the element type (pad, pixel shuffles, gathers): every dtype
/// runs the same specialized kernel.
protocol ElementMove {
    /// Writes every one of the destination's elements, from `src` or as `fill`.
    func move<E>(_ src: UnsafePointer<E>, _ dst: UnsafeMutablePointer<E>, fill: E)
}

/// New data of `count` elements of `data`'s dtype, written by `kernel`. `fill` is converted to
/// the dtype as `fill_` converts it (int64: toward zero; a value that does not fit, which the
/// ops' checks allow only when no element uses it, becomes 0).
func moveElements(_ data: TensorData, count: Int, fill: Double = 0, _ kernel: some ElementMove) -> TensorData {
    func run<E>(_ a: [E], _ f: E) -> [E] { a.withPointer { p in makeArray(count) { kernel.move(p, $0, fill: f) } } }
    switch data {
    case .float32(let a): return .float32(run(a, Float(fill)))
    case .float64(let a): return .float64(run(a, fill))
    case .int64(let a): return .int64(run(a, Int64(exactly: fill.rounded(.towardZero)) ?? 0))
    case .bool(let a): return .bool(run(a, fill != 0))
    }
}
