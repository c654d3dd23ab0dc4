/// Depthwise convolution (`groups == inChannels`: one input channel per group, `m` output
/// channels per input channel) as direct loops instead of GEMMs with an inner dimension of `K`.
///
/// With stride 1 everywhere (the common case) each input plane is copied into a zero-padded
/// plane of `Dp × Hp × Wp` (`PaddedLayout`: `Hp = oh + dh·(kh − 1)`, ...), and the output is
/// computed in the same row pitch: output position `(a, b, o)` sits at `j = (a·Hp + b)·Wp + o`
/// and kernel tap `q` reads the padded input at `j + offset(q)`. Each tap is then one long vector
/// loop over all `j` (`y[j] += w[q] · xpad[j + offset(q)]`); the columns `o ≥ ow` of each row
/// are scratch and dropped. Other strides go row by row over the unpadded planes.
///
/// For each output element the taps come in the reference's order, starting from the bias.
/// 3×3 kernels with stride 1 and dilation 1 take the row kernels of `Depthwise3x3` instead.
struct DepthwiseConvolution {
    let geometry: ConvGeometry
    let batch: Int
    let inChannels: Int
    let outChannels: Int

    var multiplier: Int { outChannels / inChannels }

    /// The padded-plane layout of the stride-1 path, or nil for other strides.
    private var flat: PaddedLayout? { PaddedLayout(geometry) }

    /// Writes every element of `y` `[batch, outChannels, positions]`.
    func forward<T: BLASScalar>(x: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                y: UnsafeMutablePointer<T>) {
        let geo = geometry, P = geo.positionCount, IV = geo.imageVolume, K = geo.kernelVolume
        let (Cin, Cout, m, sw) = (inChannels, outChannels, multiplier, geo.sw)
        if let fast = Depthwise3x3(geo, batch: batch, inChannels: Cin, outChannels: Cout) {
            fast.forward(x: x, weight: weight, bias: bias, y: y)
            return
        }
        if let f = flat {
            SIMDParallel.forEach(batch * Cin, costPerItem: m * K * f.span) { r in
                BLASKernels.scratch(f.volume + f.span) { (buffer: UnsafeMutablePointer<T>) in
                    let xpad = buffer, acc = buffer + f.volume
                    for item in r {
                        f.pad(x + item * IV, into: xpad)
                        let b = item / Cin
                        for oc in (item % Cin) * m ..< (item % Cin + 1) * m {
                            let wr = weight + oc * K
                            acc.update(repeating: bias?[oc] ?? 0, count: f.span)
                            BLASKernels.reading(f.offsets) { offsets in
                                ConvKernels.stencil(acc, f.span, xpad, offsets: offsets, weights: wr, taps: K)
                            }
                            f.crop(acc, into: y + (b * Cout + oc) * P)
                        }
                    }
                }
            }
            return
        }
        SIMDParallel.forEach(batch * Cout, costPerItem: K * P) { r in
            for item in r {
                let (b, oc) = item.quotientAndRemainder(dividingBy: Cout)
                let xp = x + (b * Cin + oc / m) * IV, yp = y + item * P, wr = weight + oc * K
                yp.update(repeating: bias?[oc] ?? 0, count: P)
                geo.forEachTap { pr, ir, q, lo, hi, off in
                    let wv = wr[q], yr = yp + pr, xr = xp + ir + off
                    for o in lo..<hi { yr[o] += xr[o * sw] * wv }
                }
            }
        }
    }

    /// `∂x` (when `input`) and `∂w` (when `weight`) from `∂y`: for 3×3 kernels with stride 1 in one
    /// pass over `∂y` (`Depthwise3x3.backward`), otherwise `inputGradient` then `weightGradient`.
    func gradients<T: BLASScalar>(gy: [T], x: [T], weight w: [T], input: Bool, weight: Bool) -> (gx: [T]?, gw: [T]?) {
        var gw = [T](repeating: 0, count: weight ? w.count : 0)
        let imageCount = x.count
        func run(_ gx: UnsafeMutablePointer<T>?) {
            BLASKernels.reading(gy) { gy in
                BLASKernels.reading(x) { x in
                    BLASKernels.reading(w) { w in
                        BLASKernels.writing(&gw) { gwp in
                            let gw = weight ? gwp : nil
                            if let fast = Depthwise3x3(geometry, batch: batch, inChannels: inChannels, outChannels: outChannels) {
                                fast.backward(gy: gy, x: x, weight: w, gx: gx, gw: gw)
                                return
                            }
                            if let gx {
                                gx.update(repeating: 0, count: imageCount)
                                inputGradient(gy: gy, weight: w, gx: gx)
                            }
                            if let gw { weightGradient(gy: gy, x: x, gw: gw) }
                        }
                    }
                }
            }
        }
        let gx: [T]? = input ? BLASKernels.uninitialized(imageCount) { run($0) } : nil
        if !input { run(nil) }
        return (gx, weight ? gw : nil)
    }

    /// `∂x` into `gx` `[batch, inChannels, image]`, which must start zeroed.
    func inputGradient<T: BLASScalar>(gy: UnsafePointer<T>, weight: UnsafePointer<T>, gx: UnsafeMutablePointer<T>) {
        let geo = geometry, P = geo.positionCount, IV = geo.imageVolume, K = geo.kernelVolume
        let (Cin, Cout, m, sw) = (inChannels, outChannels, multiplier, geo.sw)
        if let f = flat {
            // ∂xpad[i] = Σ_q w[q] · ∂y[i − offset(q)]: a stencil over ∂y laid out in padded pitch
            // with `reach` zeros before it (and enough after), so no index leaves the buffer.
            let reach = f.offsets.last ?? 0
            let reversed = f.offsets.map { reach - $0 }
            let extended = f.volume + 2 * reach
            SIMDParallel.forEach(batch * Cin, costPerItem: m * K * f.volume) { r in
                BLASKernels.scratch(f.volume + extended) { (buffer: UnsafeMutablePointer<T>) in
                    let gxpad = buffer, gyext = buffer + f.volume
                    gyext.update(repeating: 0, count: extended)
                    for item in r {
                        gxpad.update(repeating: 0, count: f.volume)
                        let b = item / Cin
                        for oc in (item % Cin) * m ..< (item % Cin + 1) * m {
                            f.spread(gy + (b * Cout + oc) * P, into: gyext + reach)
                            BLASKernels.reading(reversed) { offsets in
                                ConvKernels.stencil(gxpad, f.volume, gyext, offsets: offsets, weights: weight + oc * K, taps: K)
                            }
                        }
                        f.unpad(gxpad, into: gx + item * IV)
                    }
                }
            }
            return
        }
        SIMDParallel.forEach(batch * Cin, costPerItem: m * K * P) { r in
            for item in r {
                let (b, c) = item.quotientAndRemainder(dividingBy: Cin)
                let gxp = gx + item * IV
                for oc in c * m ..< (c + 1) * m {
                    let gyp = gy + (b * Cout + oc) * P, wr = weight + oc * K
                    geo.forEachTap { pr, ir, q, lo, hi, off in
                        let wv = wr[q], gyr = gyp + pr, gxr = gxp + ir + off
                        for o in lo..<hi { gxr[o * sw] += gyr[o] * wv }
                    }
                }
            }
        }
    }

    /// `∂w` into `gw` `[outChannels, 1, K]`, which must start zeroed.
    func weightGradient<T: BLASScalar>(gy: UnsafePointer<T>, x: UnsafePointer<T>, gw: UnsafeMutablePointer<T>) {
        let geo = geometry, P = geo.positionCount, IV = geo.imageVolume, K = geo.kernelVolume
        let (Cin, Cout, m, sw) = (inChannels, outChannels, multiplier, geo.sw)
        if let f = flat {
            SIMDParallel.forEach(Cout, costPerItem: batch * K * f.span) { r in
                BLASKernels.scratch(f.volume + f.span) { (buffer: UnsafeMutablePointer<T>) in
                    let xpad = buffer, gyflat = buffer + f.volume
                    for oc in r {
                        let gwr = gw + oc * K
                        for b in 0..<batch {
                            f.pad(x + (b * Cin + oc / m) * IV, into: xpad)
                            f.spread(gy + (b * Cout + oc) * P, into: gyflat)
                            BLASKernels.reading(f.offsets) { offsets in
                                ConvKernels.dots(gyflat, f.span, xpad, offsets: offsets, taps: K, into: gwr)
                            }
                        }
                    }
                }
            }
            return
        }
        SIMDParallel.forEach(Cout, costPerItem: batch * K * P) { r in
            for oc in r {
                let gwr = gw + oc * K
                for b in 0..<batch {
                    let gyp = gy + (b * Cout + oc) * P, xp = x + (b * Cin + oc / m) * IV
                    geo.forEachTap { pr, ir, q, lo, hi, off in
                        let gyr = gyp + pr, xr = xp + ir + off
                        var s: T = 0
                        for o in lo..<hi { s += gyr[o] * xr[o * sw] }
                        gwr[q] += s
                    }
                }
            }
        }
    }
}
