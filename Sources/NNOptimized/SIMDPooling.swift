import NNCore

/// `max_pool{1,2,3}d` (also `_with_indices`), `avg_pool{1,2,3}d`, `adaptive_avg_pool{1,2,3}d`
/// and `adaptive_max_pool{1,2,3}d` on the shared calls (`PoolingCall`, `AdaptivePoolingCall`).
///
/// Every op reduces windows of a plane (`[D, H, W]`; 2-d pooling has D = 1 and the 1-d ops
/// pool `input.unsqueeze(-2)` as the reference does). Along each axis the in-range taps of a
/// window are an arithmetic progression (first index, count, step = dilation), so a window is
/// three nested counted loops without bounds tests. As in ATen and the reference: max pooling
/// keeps the first maximum in scan order or its last NaN, with its offset in the plane; average
/// pooling sums in scan order in the element type and divides by its divisor (adaptive pooling
/// by each window extent in turn); backward passes accumulate in output order. Planes are
/// split across the cores.
extension Optimized {
    static let simdPoolingOps: [String: OpFunction] = (1...3).reduce(into: [:]) { ops, n in
        let maxPool: OpFunction = { try simdPool(PoolingCall($0, kind: .max, spatialDims: n)) }
        let adaptiveMax: OpFunction = { try simdAdaptivePool(AdaptivePoolingCall($0, kind: .max, spatialDims: n)) }
        ops["max_pool\(n)d"] = maxPool
        ops["max_pool\(n)d_with_indices"] = maxPool
        ops["avg_pool\(n)d"] = { try simdPool(PoolingCall($0, kind: .average, spatialDims: n)) }
        ops["adaptive_avg_pool\(n)d"] = { try simdAdaptivePool(AdaptivePoolingCall($0, kind: .average, spatialDims: n)) }
        ops["adaptive_max_pool\(n)d"] = adaptiveMax
        ops["adaptive_max_pool\(n)d_with_indices"] = adaptiveMax
    }

    // MARK: ops

    private static func simdPool(_ call: PoolingCall) throws -> Value {
        let x = call.unsqueezed ? try simdUnsqueezed(call.input, at: call.input.dim - 1) : call.input
        let geometry = PoolGeometry(call)
        var output: Tensor, indices: Tensor?
        switch call.kind {
        case .max:
            (output, indices) = try poolMax(x, geometry, outputShape: call.poolOutputShape, name: call.gradFnName)
        case .average:
            output = try poolAverage(x, geometry, divisors: .sliding(call), outputShape: call.poolOutputShape, name: call.gradFnName)
        }
        if call.unsqueezed {
            output = try simdSqueezed(output, at: output.dim - 2)
            indices = indices.map { Tensor(shape: call.outputShape, data: $0.data) }
        }
        guard call.returnIndices, let indices else { return .tensor(output) }
        return .list([.tensor(output), .tensor(indices)])
    }

    private static func simdAdaptivePool(_ call: AdaptivePoolingCall) throws -> Value {
        if call.kind == .average {
            let size = call.unsqueezed ? Array(call.outputSize.dropFirst()) : call.outputSize
            return .tensor(try simdAdaptiveAveragePool(call.input, outputSize: size))
        }
        let x = call.unsqueezed ? try simdUnsqueezed(call.input, at: call.input.dim - 1) : call.input
        let geometry = PoolGeometry(adaptive: call.planes, inputSize: call.inputSize, outputSize: call.outputSize)
        var (output, indices) = try poolMax(x, geometry, outputShape: call.poolOutputShape,
                                            name: "AdaptiveMaxPool\(call.outputSize.count)DBackward0")
        if call.unsqueezed {
            output = try simdSqueezed(output, at: output.dim - 2)
            indices = Tensor(shape: call.outputShape, data: indices.data)
        }
        return call.returnIndices ? .list([.tensor(output), .tensor(indices)]) : .tensor(output)
    }

    /// `adaptive_avg_pool{1,2,3}d` of the last `outputSize.count` dims (also `interpolate(mode='area')`);
    /// an all-ones output size is `input.mean(spatial dims, keepdim=True)` (`MeanBackward1`).
    static func simdAdaptiveAveragePool(_ input: Tensor, outputSize: [Int]) throws -> Tensor {
        let n = outputSize.count
        if n == 1 {
            let x = try simdUnsqueezed(input, at: input.dim - 1)
            let y = try simdAdaptiveAveragePool(x, outputSize: [1] + outputSize)
            return try simdSqueezed(y, at: y.dim - 2)
        }
        let planes = input.shape.dropLast(n).reduce(1, *), inputSize = Array(input.shape.suffix(n))
        let outputShape = Array(input.shape.dropLast(n)) + outputSize
        try simdCheckFloat(input, "adaptive pooling")
        if outputSize.allSatisfy({ $0 == 1 }) {
            return input.dtype == .float32 ? spatialMean(input, planes: planes, outputShape: outputShape, as: Float.self)
                : spatialMean(input, planes: planes, outputShape: outputShape, as: Double.self)
        }
        let geometry = PoolGeometry(adaptive: planes, inputSize: inputSize, outputSize: outputSize)
        return try poolAverage(input, geometry, divisors: .extents, outputShape: outputShape, name: "AdaptiveAvgPool\(n)DBackward0")
    }

    // MARK: max

    private static func poolMax(_ x: Tensor, _ geometry: PoolGeometry, outputShape: [Int], name: String) throws -> (Tensor, Tensor) {
        try simdCheckFloat(x, "pooling")
        return x.dtype == .float32 ? poolMax(x, geometry, outputShape, name, as: Float.self)
            : poolMax(x, geometry, outputShape, name, as: Double.self)
    }

    private static func poolMax<T: FloatScalar>(_ x: Tensor, _ geo: PoolGeometry, _ outputShape: [Int], _ name: String,
                                                as _: T.Type) -> (Tensor, Tensor) {
        let xs = x.values(T.self), total = geo.planes * geo.outCount
        var at = [Int64](repeating: 0, count: total)
        let y: [T] = xs.withPointer { xp in
            at.withUnsafeMutableBufferPointer { atBuffer in
                let ap = atBuffer.baseAddress
                return makeArray(total) { yp in
                    SIMDParallel.forEach(geo.planes, costPerItem: geo.outCount * geo.windowVolume) { planes in
                        for p in planes {
                            let (src, dst, idx) = (xp + p * geo.inCount, yp + p * geo.outCount, ap! + p * geo.outCount)
                            if T.self == Float.self && geo.vectorizable {
                                geo.maxPlaneVector(src.float, dst.float, idx, available: (geo.planes - p) * geo.inCount)
                            } else {
                                geo.maxPlane(src, dst, idx)
                            }
                        }
                    }
                }
            }
        }
        let indices = Tensor(shape: outputShape, int64: at)
        // As PyTorch: the node saves the input (for its version counter) and the indices.
        let savedInput = SavedTensor(x), savedIndices = SavedTensor(output: indices, of: name)
        let inputShape = x.shape
        let output = Tensor(shape: outputShape, y).recording(name, inputs: [x], saving: [savedInput, savedIndices]) { g in
            _ = try savedInput.unpack()
            let at = try savedIndices.unpack().int64s, gy = floatElements(g, T.self)
            let gx: [T] = gy.withPointer { gp in
                at.withPointer { ap in
                    makePlanewiseZeroedArray(planes: geo.planes, planeSize: geo.inCount, costPerPlane: geo.outCount) { planes, gxp in
                        do {
                            for p in planes {
                                let dst = gxp + p * geo.inCount, src = gp + p * geo.outCount, idx = ap + p * geo.outCount
                                for k in 0..<geo.outCount { dst[Int(idx[k])] += src[k] }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: inputShape, gx)]
        }
        return (output, indices)
    }

    // MARK: average

    private static func poolAverage(_ x: Tensor, _ geometry: PoolGeometry, divisors: PoolDivisors, outputShape: [Int],
                                    name: String) throws -> Tensor {
        try simdCheckFloat(x, "pooling")
        return x.dtype == .float32 ? poolAverage(x, geometry, divisors, outputShape, name, as: Float.self)
            : poolAverage(x, geometry, divisors, outputShape, name, as: Double.self)
    }

    private static func poolAverage<T: FloatScalar>(_ x: Tensor, _ geo: PoolGeometry, _ divisors: PoolDivisors,
                                                    _ outputShape: [Int], _ name: String, as _: T.Type) -> Tensor {
        let xs = x.values(T.self), total = geo.planes * geo.outCount
        let divide = geo.divisors(divisors, T.self)
        let y: [T] = xs.withPointer { xp in
            makeArray(total) { yp in
                let single = divide.single ?? []
                single.withPointer { dp in
                    SIMDParallel.forEach(geo.planes, costPerItem: geo.outCount * geo.windowVolume) { planes in
                        for p in planes {
                            let (src, dst) = (xp + p * geo.inCount, yp + p * geo.outCount)
                            if T.self == Float.self && geo.vectorizable && divide.single != nil {
                                geo.averagePlaneVector(src.float, dst.float, dp.float, available: (geo.planes - p) * geo.inCount)
                            } else {
                                geo.averagePlane(src, dst, divide)
                            }
                        }
                    }
                }
            }
        }
        let saved = SavedTensor(x), inputShape = x.shape
        return Tensor(shape: outputShape, y).recording(name, inputs: [x], saving: [saved]) { g in
            _ = try saved.unpack()
            let gy = floatElements(g, T.self)
            let gx: [T] = gy.withPointer { gp in
                (divide.single ?? []).withPointer { dp in
                    makePlanewiseZeroedArray(planes: geo.planes, planeSize: geo.inCount, costPerPlane: geo.outCount * geo.windowVolume) { planes, gxp in
                        do {
                            for p in planes {
                                let (src, dst) = (gp + p * geo.outCount, gxp + p * geo.inCount)
                                if T.self == Float.self && geo.backwardVectorizable && divide.single != nil {
                                    geo.averagePlaneBackwardVector(src.float, dst.float, dp.float)
                                } else {
                                    geo.averagePlaneBackward(src, dst, divide)
                                }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: inputShape, gx)]
        }
    }

    /// `input.mean(spatial dims, keepdim=True)`: each plane summed (16 lanes for float32, in
    /// Double otherwise) and divided by its size, recorded as `MeanBackward1`.
    private static func spatialMean<T: FloatScalar>(_ input: Tensor, planes: Int, outputShape: [Int], as _: T.Type) -> Tensor {
        let x = input.values(T.self), count = planes == 0 ? 0 : x.count / planes, shape = input.shape
        let y: [T] = x.withPointer { xp in
            makeArray(planes) { yp in
                SIMDParallel.forEach(planes, costPerItem: count) { r in
                    for p in r {
                        if T.self == Float.self {
                            yp[p] = T(Float(vsumRow(xp.float + p * count, count))) / T(count)
                        } else {
                            var s: T = 0
                            for i in 0..<count { s += xp[p * count + i] }
                            yp[p] = s / T(count)
                        }
                    }
                }
            }
        }
        return Tensor(shape: outputShape, y).recording("MeanBackward1", inputs: [input]) { g in
            let gy = floatElements(g, T.self)
            let gx: [T] = gy.withPointer { gp in
                makeArray(planes * count) { dst in
                    SIMDParallel.forEach(planes, costPerItem: count) { r in
                        for p in r {
                            let v = gp[p] / T(count)
                            for i in 0..<count { dst[p * count + i] = v }
                        }
                    }
                }
            }
            return [Tensor(shape: shape, gx)]
        }
    }
}
