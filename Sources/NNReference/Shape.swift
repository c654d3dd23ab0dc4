import NNCore

/// Ops that move, select or compare elements. Most are gathers, y_k = x_{source[k]} (or a fill
/// where there is no source); their backward is the adjoint scatter, dx_{source[k]} += g_k.
extension Reference {
    static let shapeOps: [String: OpFunction] = [
        "pad": { try .tensor(pad(PadCall($0))) },
        "pixel_shuffle": { try .tensor(pixelShuffle(PixelShuffleCall(unshuffle: false, $0))) },
        "pixel_unshuffle": { try .tensor(pixelShuffle(PixelShuffleCall(unshuffle: true, $0))) },
        "one_hot": { try .tensor(oneHot(OneHotCall($0))) },
        "embedding": { try .tensor(embedding(EmbeddingCall($0))) },
        "cosine_similarity": { try .tensor(cosineSimilarity(CosineSimilarityCall($0))) },
        "pairwise_distance": { try .tensor(pairwiseDistance(PairwiseDistanceCall($0))) },
        "flatten": { try .tensor(FlattenCall($0).result()) },
        "unflatten": { try .tensor(UnflattenCall($0).result()) },
        "max": { try select(SelectionCall(.max, $0)) },
        "min": { try select(SelectionCall(.min, $0)) },
        "argmax": { try select(SelectionCall(.argmax, $0)) },
        "argmin": { try select(SelectionCall(.argmin, $0)) },
    ]

    // MARK: Gathers

    /// y_k = x_{source[k]}, or `fill` (converted to x's dtype as `fill_` does) where source[k] < 0.
    /// A fill no element uses may not fit the dtype (NaN for int64): it is then never converted.
    static func gather(_ x: TensorData, _ source: [Int], fill: Double = 0) -> TensorData {
        func pick<E>(_ a: [E], _ f: E) -> [E] { source.map { $0 < 0 ? f : a[$0] } }
        switch x {
        case .float32(let a): return .float32(pick(a, Float(fill)))
        case .float64(let a): return .float64(pick(a, fill))
        case .int64(let a): return .int64(pick(a, source.contains { $0 < 0 } ? Int64(fill.rounded(.towardZero)) : 0))
        case .bool(let a): return .bool(pick(a, fill != 0))
        }
    }

    /// The adjoint of `gather`: dx_{source[k]} += g_k in order of k, for an input of `shape`.
    static func scatterAdd(_ g: Tensor, _ source: [Int], into shape: [Int]) -> Tensor {
        func add<T: FloatScalar>(_ gs: [T]) -> Tensor {
            var dx = [T](repeating: 0, count: shape.reduce(1, *))
            for (k, i) in source.enumerated() where i >= 0 { dx[i] += gs[k] }
            return Tensor(shape: shape, dx)
        }
        switch g.data {
        case .float32(let a): return add(a)
        case .float64(let a): return add(a)
        default: preconditionFailure("gradients are floating point")
        }
    }

    /// A gather of `x` into a new tensor of `shape`, recorded as the node `name`.
    static func gathered(_ x: Tensor, _ source: [Int], shape: [Int], fill: Double = 0, name: String) -> Tensor {
        let y = Tensor(shape: shape, data: gather(x.data, source, fill: fill))
        return y.recording(name, inputs: [x]) { g in [scatterAdd(g, source, into: x.shape)] }
    }

    /// The gather map of a separable index map: output element (j_0, ..., j_{n−1}) reads input
    /// element (maps[0][j_0], ..., maps[n−1][j_{n−1}]) of a tensor of `inShape`, or nothing (−1)
    /// when any coordinate is nil. Built dim by dim, so the map is in row-major output order.
    static func separableSource(_ maps: [[Int?]], inShape: [Int]) -> [Int] {
        let strides = contiguousStrides(inShape)
        var source = [0]
        for (d, map) in maps.enumerated() {
            source = source.flatMap { base in
                map.map { i in base < 0 ? -1 : i.map { base + $0 * strides[d] } ?? -1 }
            }
        }
        return source
    }

    // MARK: pixel_shuffle, one_hot
    // (flatten and unflatten are views, shared by every backend: `FlattenCall.result()`,
    // `UnflattenCall.result()`.)

    /// pixel_shuffle: y[*, c, h·r + i, w·r + j] = x[*, c·r² + i·r + j, h, w]; pixel_unshuffle is
    /// the inverse permutation. Each is the other's backward.
    static func pixelShuffle(_ call: PixelShuffleCall) -> Tensor {
        let small = call.unshuffle ? call.outputShape : call.input.shape  // (*, C·r², H, W)
        let r = call.factor, n = small.count
        let (channels, h, w) = (small[n - 3] / (r * r), small[n - 2], small[n - 1])
        let planes = small.dropLast(3).reduce(1, *)
        // For each element of the (*, C, H·r, W·r) layout in row-major order, its index in (*, C·r², H, W).
        var smallIndex: [Int] = []
        for b in 0..<planes {
            for c in 0..<channels {
                for oh in 0..<(h * r) {
                    for ow in 0..<(w * r) {
                        let channel = c * r * r + (oh % r) * r + ow % r
                        smallIndex.append(((b * channels * r * r + channel) * h + oh / r) * w + ow / r)
                    }
                }
            }
        }
        var source = smallIndex
        if call.unshuffle {
            for (k, i) in smallIndex.enumerated() { source[i] = k }
        }
        return gathered(call.input, source, shape: call.outputShape, name: call.backwardName)
    }

    /// y[..., k] = 1 if x[...] = k else 0, int64.
    static func oneHot(_ call: OneHotCall) -> Tensor {
        let classes = call.input.int64s, n = call.numClasses
        var y = [Int64](repeating: 0, count: classes.count * n)
        for (p, k) in classes.enumerated() { y[p * n + Int(k)] = 1 }
        return Tensor(shape: call.input.shape + [n], int64: y)
    }
}

/// The 1-d runs of a row-major tensor of `shape` along `dim`: run r = o · inner + i (the
/// reduced tensor's row-major order) holds the elements (o · size + j) · inner + i, j < size.
/// A 0-dim shape is one run of one element.
struct Runs {
    let outer: Int, size: Int, inner: Int

    init(_ shape: [Int], dim: Int) {
        guard !shape.isEmpty else { (outer, size, inner) = (1, 1, 1); return }
        (outer, size, inner) = (shape[..<dim].reduce(1, *), shape[dim], shape[(dim + 1)...].reduce(1, *))
    }

    var count: Int { outer * inner }

    /// The flat index of element j of run r.
    func index(_ r: Int, _ j: Int) -> Int {
        let (o, i) = r.quotientAndRemainder(dividingBy: inner)
        return (o * size + j) * inner + i
    }
}
