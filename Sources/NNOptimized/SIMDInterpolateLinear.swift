import NNCore

/// Separable linear interpolation (`linear`, `bilinear`, `trilinear`): one pass per axis,
/// innermost first, each output the two-tap sum `x[i0]·w0 + x[i1]·w1` of the previous pass's
/// values, which is the reference's nested sum (ATen's `Interpolate<n>`). Along the innermost
/// axis a pass gathers within each row; along an outer axis it combines two whole contiguous
/// blocks, a loop the compiler vectorizes. The backward runs the transposed passes, outermost
/// first, accumulating each tap's share in output order.
extension Optimized {
    /// The per-plane shapes before and after each forward pass (pass s interpolates axis k − 1 − s).
    private static func passShapes(_ inSize: [Int], _ outSize: [Int]) -> [[Int]] {
        var shapes = [inSize]
        for d in inSize.indices.reversed() {
            var s = shapes.last!
            s[d] = outSize[d]
            shapes.append(s)
        }
        return shapes
    }

    static func separableForward<T: FloatScalar>(_ x: [T], planes: Int, inSize: [Int], taps: [LinearTaps<T>]) -> [T] {
        let k = inSize.count, outSize = taps.map(\.count), shapes = passShapes(inSize, outSize)
        let inCount = inSize.reduce(1, *), outCount = outSize.reduce(1, *)
        let temp = max(1, shapes.dropFirst().dropLast().map { $0.reduce(1, *) }.max() ?? 1)
        return x.withPointer { xp in
            makeArray(planes * outCount) { yp in
                SIMDParallel.forEach(planes, costPerItem: outCount * 4) { r in
                    withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * temp) { buffer in
                        let scratch = [buffer.baseAddress!, buffer.baseAddress! + temp]
                        for p in r {
                            var src = xp + p * inCount
                            for s in 0..<k {
                                let dst = s == k - 1 ? yp + p * outCount : scratch[s % 2]
                                interpolateAxis(src, shapes[s], dst, axis: k - 1 - s, taps[k - 1 - s])
                                src = UnsafePointer(dst)
                            }
                        }
                    }
                }
            }
        }
    }

    static func separableBackward<T: FloatScalar>(_ g: [T], planes: Int, inSize: [Int], taps: [LinearTaps<T>]) -> [T] {
        let k = inSize.count, outSize = taps.map(\.count), shapes = passShapes(inSize, outSize)
        let inCount = inSize.reduce(1, *), outCount = outSize.reduce(1, *)
        let temp = max(1, shapes.dropFirst().dropLast().map { $0.reduce(1, *) }.max() ?? 1)
        return g.withPointer { gp in
            makeArray(planes * inCount) { gx in
                SIMDParallel.forEach(planes, costPerItem: outCount * 4) { r in
                    withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * temp) { buffer in
                        let scratch = [buffer.baseAddress!, buffer.baseAddress! + temp]
                        for p in r {
                            var src = gp + p * outCount
                            for s in stride(from: k - 1, through: 0, by: -1) {
                                let dst = s == 0 ? gx + p * inCount : scratch[s % 2]
                                transposeAxis(src, shapes[s + 1], dst, shapes[s], axis: k - 1 - s, taps[k - 1 - s])
                                src = UnsafePointer(dst)
                            }
                        }
                    }
                }
            }
        }
    }

    /// One forward pass: `dst` (shape `shape` with axis `d` resized to the taps) from `src`.
    @inline(__always)
    private static func interpolateAxis<T: FloatScalar>(_ src: UnsafePointer<T>, _ shape: [Int], _ dst: UnsafeMutablePointer<T>,
                                                        axis d: Int, _ taps: LinearTaps<T>) {
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *), sIn = shape[d], sOut = taps.count
        taps.i0.withPointer { i0 in taps.i1.withPointer { i1 in taps.w0.withPointer { w0 in taps.w1.withPointer { w1 in
            for ot in 0..<outer {
                let s = src + ot * sIn * inner, o = dst + ot * sOut * inner
                if inner == 1 {
                    for j in 0..<sOut { o[j] = s[i0[j]] * w0[j] + s[i1[j]] * w1[j] }
                } else {
                    for j in 0..<sOut {
                        let a = s + i0[j] * inner, b = s + i1[j] * inner, oo = o + j * inner, (u, v) = (w0[j], w1[j])
                        for t in 0..<inner { oo[t] = a[t] * u + b[t] * v }
                    }
                }
            }
        } } } }
    }

    /// One backward pass: `dst` (shape `dstShape`, axis `d` of input size) gets each tap's
    /// share of `src` (shape `srcShape`, axis `d` of output size).
    @inline(__always)
    private static func transposeAxis<T: FloatScalar>(_ src: UnsafePointer<T>, _ srcShape: [Int], _ dst: UnsafeMutablePointer<T>,
                                                      _ dstShape: [Int], axis d: Int, _ taps: LinearTaps<T>) {
        let outer = srcShape[..<d].reduce(1, *), inner = srcShape[(d + 1)...].reduce(1, *)
        let sOut = srcShape[d], sIn = dstShape[d]
        dst.initialize(repeating: 0, count: outer * sIn * inner)
        taps.i0.withPointer { i0 in taps.i1.withPointer { i1 in taps.w0.withPointer { w0 in taps.w1.withPointer { w1 in
            for ot in 0..<outer {
                let s = src + ot * sOut * inner, o = dst + ot * sIn * inner
                if inner == 1 {
                    for j in 0..<sOut {
                        o[i0[j]] += w0[j] * s[j]
                        o[i1[j]] += w1[j] * s[j]
                    }
                } else {
                    for j in 0..<sOut {
                        let a = o + i0[j] * inner, b = o + i1[j] * inner, gs = s + j * inner, (u, v) = (w0[j], w1[j])
                        for t in 0..<inner { a[t] += u * gs[t] }
                        for t in 0..<inner { b[t] += v * gs[t] }
                    }
                }
            }
        } } } }
    }
}
