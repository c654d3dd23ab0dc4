import NNCore

/// `F.interpolate` modes `nearest`, `nearest-exact`, `linear`, `bilinear`, `trilinear`, `area`
/// (adaptive average pooling) and `bicubic` / antialiased filters (`SIMDInterpolateCubic.swift`);
/// `lanczos` is `Unsupported`. Source indices and tap weights are computed per axis exactly as
/// the reference computes them (ATen's index maths: scales in the element type, C's `floorf`,
/// `nearest_idx` shortcuts for the backward and the channels-last kernel, the fused source
/// coordinates). Linear modes then run separably, one axis per pass, innermost first, as the
/// reference's nested sums do (each sum unfused here: a rounding of difference); the backward
/// runs the transposed passes. Planes (N·C) are split across cores.
extension Optimized {
    static let simdInterpolateOps: [String: OpFunction] = [
        "interpolate": { try simdInterpolate(InterpolateCall($0)) },
    ]

    private static func simdInterpolate(_ call: InterpolateCall) throws -> Value {
        switch call.mode {
        case .area: return .tensor(try simdAdaptiveAveragePool(call.input, outputSize: call.outputSize))
        case .lanczos: throw Unsupported("interpolate(mode='lanczos')")
        default: break
        }
        switch call.input.dtype {
        case .float32: return .tensor(interpolate(call, as: Float.self))
        case .float64: return .tensor(interpolate(call, as: Double.self))
        default: throw Unsupported("interpolate of \(call.input.dtype.rawValue) tensors")
        }
    }

    private static func interpolate<T: FloatScalar>(_ call: InterpolateCall, as _: T.Type) -> Tensor {
        let input = call.input, x = input.values(T.self)
        let planes = input.shape[0] * input.shape[1], inSize = call.inputSize, outSize = call.outputSize
        let y: [T]
        let vjp: ([T]) -> [T]
        switch call.mode {
        case .bilinear where call.antialias, .bicubic where call.antialias:
            y = antialiasForward(call, x, planes: planes)
            vjp = { g in antialiasBackward(call, g, planes: planes) }
        case .bicubic:
            y = cubicForward(call, x, planes: planes)
            vjp = { g in cubicBackward(call, g, planes: planes) }
        case .nearest, .nearestExact:
            let forward = nearestSources(call, T.self), backward = nearestSources(call, Float.self, indexFunction: true)
            y = nearestForward(x, planes: planes, inSize: inSize, sources: forward)
            vjp = { g in nearestBackward(g, planes: planes, inSize: inSize, sources: backward) }
        default:
            let forwardFused = !call.usesChannelsLastKernel ? [Bool](repeating: T.self == Double.self, count: inSize.count)
                : inSize.indices.map { fusedChannelsLast(call, axis: $0, T.self) }
            let channelsLastBackward = call.mode == .trilinear && (input.shape[1] == 1 || outSize.reduce(1, *) == 1)
            let forwardTaps = inSize.indices.map { linearTaps(call, axis: $0, fused: forwardFused[$0], as: T.self) }
            let backwardTaps = inSize.indices.map { d in
                linearTaps(call, axis: d, fused: !channelsLastBackward || fusedChannelsLast(call, axis: d, T.self), as: T.self)
            }
            y = separableForward(x, planes: planes, inSize: inSize, taps: forwardTaps)
            vjp = { g in separableBackward(g, planes: planes, inSize: inSize, taps: backwardTaps) }
        }
        let shape = input.shape
        return Tensor(shape: call.outputShape, y).recording(call.gradFnName, inputs: [input]) { g in
            [Tensor(shape: shape, vjp(floatElements(g, T.self)))]
        }
    }

    // MARK: index maths (the reference's, per axis)

    /// ATen's `compute_scales_value`: `1 / scale` for a given positive scale factor, else `in / out`.
    private static func scaleValue<T: FloatScalar>(_ inSize: Int, _ outSize: Int, _ scale: Double?) -> T {
        if let scale, scale > 0 { return T(1.0 / scale) }
        return T(inSize) / T(outSize)
    }

    /// C's `floorf`: the coordinate rounded to `Float` before flooring (for float64 too).
    @inline(__always) private static func floorfIndex<T: FloatScalar>(_ v: T) -> Int { Int(Float(v).rounded(.down)) }

    /// Per axis, the source index of every output index (see the reference's `nearestSources`).
    private static func nearestSources<T: FloatScalar>(_ call: InterpolateCall, _: T.Type, indexFunction: Bool = false) -> [[Int]] {
        let exact = call.mode == .nearestExact
        let useIndexFunction = indexFunction || call.usesChannelsLastKernel
        return call.inputSize.indices.map { d in
            let (s, out) = (call.inputSize[d], call.outputSize[d])
            if useIndexFunction {
                let scale: Float = scaleValue(s, out, call.scales[d])
                return (0..<out).map { o in
                    if !exact && out == s { return o }
                    if !exact && out == 2 * s { return o >> 1 }
                    let position = exact ? Float((Double(o) + 0.5) * Double(scale)) : Float(o) * scale
                    return min(floorfIndex(position), s - 1)
                }
            }
            let scale: T = scaleValue(s, out, call.scales[d])
            return (0..<out).map { o in
                guard exact else { return min(floorfIndex(scale * T(o)), s - 1) }
                let coordinate = max(scale * (T(o) + 0.5) - 0.5, 0)
                return min(floorfIndex(Double(coordinate) + 0.5), s - 1)
            }
        }
    }

    /// Two taps per output index along one axis: `x[i0]·w0 + x[i1]·w1`.
    struct LinearTaps<T> {
        var i0: [Int], i1: [Int], w0: [T], w1: [T]
        var count: Int { i0.count }
    }

    /// ATen's `compute_source_index_and_lambda` (see the reference's `linearTaps`).
    private static func linearTaps<T: FloatScalar>(_ call: InterpolateCall, axis d: Int, fused: Bool, as _: T.Type) -> LinearTaps<T> {
        let (s, out) = (call.inputSize[d], call.outputSize[d])
        let scale: T = call.alignCorners ? (out > 1 ? T(s - 1) / T(out - 1) : 0) : scaleValue(s, out, call.scales[d])
        var taps = LinearTaps<T>(i0: [], i1: [], w0: [], w1: [])
        for o in 0..<out {
            if s == out {
                taps.i0.append(o); taps.i1.append(o); taps.w0.append(1); taps.w1.append(0)
                continue
            }
            var r: T
            if call.alignCorners {
                r = scale * T(o)
            } else {
                r = fused ? T(-0.5).addingProduct(scale, T(o) + 0.5) : scale * (T(o) + 0.5) - 0.5
                if r < 0 { r = 0 }
            }
            let i = min(floorfIndex(r), s - 1)
            let t = min(max(r - T(i), 0), 1)
            taps.i0.append(i); taps.i1.append(i < s - 1 ? i + 1 : i); taps.w0.append(1 - t); taps.w1.append(t)
        }
        return taps
    }

    /// Whether ATen's channels-last linear kernels fuse axis `d`'s coordinate: all but the
    /// width axis of the trilinear kernels in float32.
    private static func fusedChannelsLast<T: FloatScalar>(_ call: InterpolateCall, axis d: Int, _: T.Type) -> Bool {
        !(call.mode == .trilinear && d == 2 && T.self == Float.self)
    }

    // MARK: nearest

    /// y[p, o] = x[p, i(o)]; output rows reading the same input row are copied from the previous one.
    private static func nearestForward<T: FloatScalar>(_ x: [T], planes: Int, inSize: [Int], sources: [[Int]]) -> [T] {
        let k = inSize.count, srcW = sources[k - 1], outW = srcW.count
        // The input row offset of each output row (all but the last axis), row-major.
        var rowOffsets = [0]
        for (d, axis) in sources.dropLast().enumerated() {
            let stride = inSize[(d + 1)...].reduce(1, *)
            rowOffsets = rowOffsets.flatMap { base in axis.map { base + $0 * stride } }
        }
        let inCount = inSize.reduce(1, *), outRows = rowOffsets.count, outCount = outRows * outW
        return x.withPointer { xp in
            srcW.withPointer { sw in
                makeArray(planes * outCount) { yp in
                    SIMDParallel.forEach(planes, costPerItem: outCount) { r in
                        for p in r {
                            let src = xp + p * inCount, dst = yp + p * outCount
                            for row in 0..<outRows {
                                let out = dst + row * outW
                                if row > 0 && rowOffsets[row] == rowOffsets[row - 1] {
                                    out.update(from: out - outW, count: outW)
                                    continue
                                }
                                let line = src + rowOffsets[row]
                                for o in 0..<outW { out[o] = line[sw[o]] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// ∂L/∂x[p, i] = Σ_{o : i(o) = i} ∂L/∂y[p, o], in output order.
    private static func nearestBackward<T: FloatScalar>(_ g: [T], planes: Int, inSize: [Int], sources: [[Int]]) -> [T] {
        let k = inSize.count, srcW = sources[k - 1], outW = srcW.count
        var rowOffsets = [0]
        for (d, axis) in sources.dropLast().enumerated() {
            let stride = inSize[(d + 1)...].reduce(1, *)
            rowOffsets = rowOffsets.flatMap { base in axis.map { base + $0 * stride } }
        }
        let inCount = inSize.reduce(1, *), outRows = rowOffsets.count, outCount = outRows * outW
        return g.withPointer { gp in
            srcW.withPointer { sw in
                makePlanewiseZeroedArray(planes: planes, planeSize: inCount, costPerPlane: outCount) { r, gx in
                    do {
                        for p in r {
                            let src = gp + p * outCount, dst = gx + p * inCount
                            for row in 0..<outRows {
                                let line = dst + rowOffsets[row], gr = src + row * outW
                                for o in 0..<outW { line[sw[o]] += gr[o] }
                            }
                        }
                    }
                }
            }
        }
    }
}
