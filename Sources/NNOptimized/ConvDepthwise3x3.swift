import CKernels
import Dispatch

/// The fast path of `DepthwiseConvolution`: a 3×3 kernel (2-D, or 3-D with a depth of 1 and no
/// depth padding) with stride 1 and dilation 1. Per plane, with `xpad` and `gpad` zero outside
/// the image and the positions:
///
///     y[r][o]  = bias + Σ_{a,c<3} w[a][c] · xpad[r + a][o + c]         xpad[i][j] = x[i − ph][j − pw]
///     ∂x[i][j] = Σ_{a,c<3} w[2 − a][2 − c] · gpad[i + a][j + c]         gpad[i][j] = ∂y[i + ph − 2][j + pw − 2]
///     ∂w[a][c] = Σ_{r,o} ∂y[r][o] · xpad[r + a][o + c] = Σ_{i,j} x[i][j] · gpad[i + 2 − a][j + 2 − c]
///
/// so `∂x` is the forward stencil with the kernel flipped, over `∂y` padded by 2 − p, and `∂w`
/// needs no padded copy of `x`: backward pads only `∂y`. `xpad`
/// (`oh + 2` rows) and `gpad` (`ih + 2` rows) live in 64-byte aligned scratch whose row pitch is a
/// whole number of 16-lane vectors plus one more of zeros: the halo is zeroed once per range of
/// work items and each plane rewrites only the interior. Rows are 16-lane vectors with the 9 taps
/// unrolled (the last vector of a row computes all lanes and stores the ones inside). Float32 runs
/// the rows in C (`ck_depthwise.h`: per ISA level, each padded row read once in aligned vectors
/// and shifted by one and two columns in registers); Float64 in Swift below.
///
/// Backward makes one pass over each `(batch, channel)` plane for `∂x` and `∂w` together, the
/// planes in memory order; `∂w` is summed per plane, then over the batch in order, so it does
/// not depend on the number of threads.
struct Depthwise3x3 {
    let geometry: ConvGeometry
    let batch: Int, inChannels: Int, outChannels: Int
    /// Row pitches of `xpad` and `gpad`.
    let xPitch: Int, gPitch: Int
    var xRows: Int { geometry.oh + 2 }
    var gRows: Int { geometry.ih + 2 }
    /// 2-D planes per channel (the depth of a 3-D input, whose depth the kernel does not mix).
    var slices: Int { geometry.id }
    var multiplier: Int { outChannels / inChannels }

    init?(_ g: ConvGeometry, batch: Int, inChannels: Int, outChannels: Int) {
        guard g.kh == 3, g.kw == 3, g.kd == 1, g.sh == 1, g.sw == 1, g.sd == 1, g.dh == 1, g.dw == 1,
              g.pd == 0, g.od == g.id, g.positionCount > 0, g.imageVolume > 0 else { return nil }
        (geometry, self.batch, self.inChannels, self.outChannels) = (g, batch, inChannels, outChannels)
        xPitch = (g.ow + 15) / 16 * 16 + 16
        gPitch = (g.iw + 15) / 16 * 16 + 16
    }

    /// `y` `[batch, outChannels, positions]`, every element written.
    func forward<T: BLASScalar>(x: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                y: UnsafeMutablePointer<T>) {
        let g = geometry, m = multiplier, Cin = inChannels
        let imagePlane = g.ih * g.iw, plane = g.oh * g.ow
        // Call (item, z, k) reads image plane item·slices + z and writes output plane
        // (item·m + k)·slices + z (item = b·Cin + c, output channel c·m + k).
        SIMDParallel.forEach(batch * Cin, costPerItem: m * 9 * slices * plane, piecesPerCore: 8) { r in
            Self.scratch(xRows * xPitch) { (xpad: UnsafeMutablePointer<T>) in
                for item in r {
                    for z in 0..<slices {
                        padImage(x + (item * slices + z) * imagePlane, into: xpad)
                        for k in 0..<m {
                            let oc = item % Cin * m + k
                            var next = ck_depthwise_next()
                            if let n = successor(item, z, k, in: r) {
                                if n.k == 0 { (next.read.0, next.read_count.0) = (floats(x + (n.item * slices + n.z) * imagePlane), imagePlane) }
                                (next.write, next.write_count) = (mutableFloats(y + ((n.item * m + n.k) * slices + n.z) * plane), plane)
                            }
                            Self.rows(xpad, xPitch, weight + oc * 9, flipped: false, bias: bias?[oc] ?? 0,
                                      into: y + ((item * m + k) * slices + z) * plane, g.ow, rows: g.oh, width: g.ow,
                                      accumulate: false, next: &next)
                        }
                    }
                }
            }
        }
    }

    /// `∂x` into `gx` `[batch, inChannels, image]` (every element written) when non-nil, `∂w` added
    /// into `gw` `[outChannels, 1, 3, 3]` when non-nil. Work items are the `(batch, channel)` planes
    /// in memory order; each leaves its `∂w` sums in `partial[b][oc]`, which are then added over the
    /// batch in order (so the sums do not depend on the number of threads).
    func backward<T: BLASScalar>(gy: UnsafePointer<T>, x: UnsafePointer<T>, weight: UnsafePointer<T>,
                                 gx: UnsafeMutablePointer<T>?, gw: UnsafeMutablePointer<T>?) {
        let g = geometry, m = multiplier, (Cin, Cout) = (inChannels, outChannels)
        let imagePlane = g.ih * g.iw, plane = g.oh * g.ow
        var partial = [T](repeating: 0, count: gw == nil ? 0 : batch * Cout * 9)
        BLASKernels.writing(&partial) { partial in
            SIMDParallel.forEach(batch * Cin, costPerItem: m * 18 * slices * plane, piecesPerCore: 8) { r in
                Self.scratch(gRows * gPitch) { (gpad: UnsafeMutablePointer<T>) in
                    var sums = [T](repeating: 0, count: 9)
                    // Call (item, z, k) reads ∂y plane (item·m + k)·slices + z, image plane
                    // item·slices + z and writes the same ∂x plane (as forward's calls).
                    for item in r {
                        let b = item / Cin
                        for z in 0..<slices {
                            let xOffset = (item * slices + z) * imagePlane
                            for k in 0..<m {
                                let oc = item % Cin * m + k
                                var next = ck_depthwise_next()
                                if let n = successor(item, z, k, in: r) {
                                    (next.read.0, next.read_count.0) = (floats(gy + ((n.item * m + n.k) * slices + n.z) * plane), plane)
                                    if n.k == 0 {
                                        let o = (n.item * slices + n.z) * imagePlane
                                        if gw != nil { (next.read.1, next.read_count.1) = (floats(x + o), imagePlane) }
                                        if let gx { (next.write, next.write_count) = (mutableFloats(gx + o), imagePlane) }
                                    }
                                }
                                padPositions(gy + ((b * Cout + oc) * slices + z) * plane, into: gpad)
                                guard gw != nil else {
                                    Self.rows(gpad, gPitch, weight + oc * 9, flipped: true, bias: 0,
                                              into: gx! + xOffset, g.iw, rows: g.ih, width: g.iw, accumulate: k > 0, next: &next)
                                    continue
                                }
                                // ∂w[a][c] = Σ_{i,j} x[i][j] · gpad[i + 2 − a][j + 2 − c]: the taps
                                // of x against gpad, in reverse.
                                for q in 0..<9 { sums[q] = 0 }
                                BLASKernels.writing(&sums) { sums in
                                    if let gx {
                                        Self.rowsAndTaps(gpad, gPitch, weight + oc * 9, into: gx + xOffset, accumulate: k > 0,
                                                         x + xOffset, g.iw, rows: g.ih, width: g.iw, into: sums, next: &next)
                                    } else {
                                        Self.tapDots(x + xOffset, g.iw, gpad, gPitch, rows: g.ih, width: g.iw, into: sums, next: &next)
                                    }
                                    for q in 0..<9 { partial[(b * Cout + oc) * 9 + q] += sums[8 - q] }
                                }
                            }
                        }
                    }
                }
            }
            guard let gw else { return }
            for b in 0..<batch {
                ConvKernels.add(partial + b * Cout * 9, into: gw, Cout * 9)
            }
        }
    }

    /// `count` zeros, 64-byte aligned (the pitches are whole 16-lane vectors, so every row of the
    /// padded planes starts aligned), for the duration of `body`.
    private static func scratch<T: BLASScalar>(_ count: Int, _ body: (UnsafeMutablePointer<T>) -> Void) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
        defer { raw.deallocate() }
        let p = raw.bindMemory(to: T.self, capacity: max(count, 1))
        p.initialize(repeating: 0, count: count)
        body(p)
    }

    /// The call after `(item, z, k)` among a range's calls (items, then slices, then the item's
    /// output channels), for the prefetches of `ck_depthwise_next`.
    private func successor(_ item: Int, _ z: Int, _ k: Int, in items: Range<Int>) -> (item: Int, z: Int, k: Int)? {
        if k + 1 < multiplier { return (item, z, k + 1) }
        if z + 1 < slices { return (item, z + 1, 0) }
        return item + 1 < items.upperBound ? (item + 1, 0, 0) : nil
    }

    /// Addresses for `ck_depthwise_next`, which only prefetches them (and only float32 reaches C).
    private func floats<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }
    private func mutableFloats<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    /// Image plane `(i, j)` to `xpad[i + ph][j + pw]`, as far as `xpad`'s `ow + 2` columns reach.
    private func padImage<T: BLASScalar>(_ x: UnsafePointer<T>, into xpad: UnsafeMutablePointer<T>) {
        let g = geometry
        let n: Int = min(g.iw, g.ow + 2 - g.pw), rows: Int = min(g.ih, xRows - g.ph)
        guard n > 0 else { return }
        for i in 0..<rows {
            ConvKernels.copy(x + i * g.iw, into: xpad + (i + g.ph) * xPitch + g.pw, n)
        }
    }

    /// Position plane `(r, o)` to `gpad[r + 2 − ph][o + 2 − pw]`, clipped to `gpad`'s `ih + 2` rows
    /// and `iw + 2` columns (positions cut off read no image element).
    private func padPositions<T: BLASScalar>(_ gy: UnsafePointer<T>, into gpad: UnsafeMutablePointer<T>) {
        let g = geometry
        let ty: Int = 2 - g.ph, tx: Int = 2 - g.pw
        let o0: Int = max(0, -tx), o1: Int = min(g.ow, g.iw + 2 - tx)
        let r0: Int = max(0, -ty), r1: Int = min(g.oh, gRows - ty)
        guard o1 > o0 && r1 > r0 else { return }
        for r in r0..<r1 {
            ConvKernels.copy(gy + r * g.ow + o0, into: gpad + (r + ty) * gPitch + o0 + tx, o1 - o0)
        }
    }

    // MARK: Rows

    /// `out[r·ldo + o] (+)= bias + Σ_{a,c<3} w'[a][c] · src[(r + a)·pitch + o + c]` for `r < rows`,
    /// `o < width`, with `w' = w` or `w` flipped in both axes; `src` is readable up to column
    /// `⌈width/16⌉·16 + 16` of each row.
    @inline(__always)
    static func rows<T: BLASScalar>(_ src: UnsafePointer<T>, _ pitch: Int, _ w: UnsafePointer<T>, flipped: Bool, bias: T,
                                    into out: UnsafeMutablePointer<T>, _ ldo: Int, rows: Int, width: Int, accumulate: Bool,
                                    next: UnsafePointer<ck_depthwise_next>? = nil) {
        var t = (0..<9).map { w[$0] }
        if flipped { t.reverse() }
        if T.self == Float.self {
            src.withMemoryRebound(to: Float.self, capacity: rows * pitch) { s in
                out.withMemoryRebound(to: Float.self, capacity: rows * ldo) { o in
                    t.withUnsafeBufferPointer { t in
                        t.baseAddress!.withMemoryRebound(to: Float.self, capacity: 9) { t in
                            ck_depthwise3x3_rows_f32(s, pitch, t, bias as! Float, o, ldo, rows, width, accumulate ? 1 : 0, next)
                        }
                    }
                }
            }
            return
        }
        let taps = Taps(t, bias: bias)
        for r in 0..<rows {
            let s = src + r * pitch, y = out + r * ldo
            var o = 0
            while o + 16 <= width {
                let v = taps.apply(s + o, pitch)
                store(accumulate ? load(y + o) + v : v, y + o)
                o += 16
            }
            if o < width {
                let v = taps.apply(s + o, pitch)
                for l in 0..<(width - o) { y[o + l] = accumulate ? y[o + l] + v[l] : v[l] }
            }
        }
    }

    /// `rows(src, pitch, w, flipped: true, bias: 0, into: out, width, ...)` and
    /// `tapDots(gy, ldg, src, pitch, ...)`, for float32 in one pass over `src`.
    @inline(__always)
    static func rowsAndTaps<T: BLASScalar>(_ src: UnsafePointer<T>, _ pitch: Int, _ w: UnsafePointer<T>,
                                           into out: UnsafeMutablePointer<T>, accumulate: Bool,
                                           _ gy: UnsafePointer<T>, _ ldg: Int, rows: Int, width: Int,
                                           into gw: UnsafeMutablePointer<T>, next: UnsafePointer<ck_depthwise_next>? = nil) {
        guard T.self == Float.self else {
            Self.rows(src, pitch, w, flipped: true, bias: 0, into: out, width, rows: rows, width: width, accumulate: accumulate)
            Self.tapDots(gy, ldg, src, pitch, rows: rows, width: width, into: gw)
            return
        }
        let t = (0..<9).map { w[8 - $0] }
        src.withMemoryRebound(to: Float.self, capacity: (rows + 2) * pitch) { s in
            out.withMemoryRebound(to: Float.self, capacity: rows * width) { o in
                gy.withMemoryRebound(to: Float.self, capacity: rows * ldg) { g in
                    gw.withMemoryRebound(to: Float.self, capacity: 9) { gw in
                        t.withUnsafeBufferPointer { t in
                            t.baseAddress!.withMemoryRebound(to: Float.self, capacity: 9) { t in
                                ck_depthwise3x3_both_f32(s, pitch, t, o, width, accumulate ? 1 : 0, g, ldg, rows, width, gw, next)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `gw[3a + c] += Σ_{r<rows, o<width} gy[r·ldg + o] · src[(r + a)·pitch + o + c]`: nine
    /// vector accumulators over the plane, then each summed into `gw` once.
    @inline(__always)
    static func tapDots<T: BLASScalar>(_ gy: UnsafePointer<T>, _ ldg: Int, _ src: UnsafePointer<T>, _ pitch: Int,
                                       rows: Int, width: Int, into gw: UnsafeMutablePointer<T>,
                                       next: UnsafePointer<ck_depthwise_next>? = nil) {
        if T.self == Float.self {
            gy.withMemoryRebound(to: Float.self, capacity: rows * ldg) { g in
                src.withMemoryRebound(to: Float.self, capacity: (rows + 2) * pitch) { s in
                    gw.withMemoryRebound(to: Float.self, capacity: 9) { gw in
                        ck_depthwise3x3_taps_f32(g, ldg, s, pitch, rows, width, gw, next)
                    }
                }
            }
            return
        }
        var a = (SIMD8<T>(), SIMD8<T>(), SIMD8<T>(), SIMD8<T>(), SIMD8<T>(), SIMD8<T>(), SIMD8<T>(), SIMD8<T>(), SIMD8<T>())
        var tail = [T](repeating: 0, count: 9)
        for r in 0..<rows {
            let d = gy + r * ldg, s0 = src + r * pitch, s1 = s0 + pitch, s2 = s1 + pitch
            var o = 0
            while o + 8 <= width {
                let v = load8(d + o)
                a.0 += v * load8(s0 + o); a.1 += v * load8(s0 + o + 1); a.2 += v * load8(s0 + o + 2)
                a.3 += v * load8(s1 + o); a.4 += v * load8(s1 + o + 1); a.5 += v * load8(s1 + o + 2)
                a.6 += v * load8(s2 + o); a.7 += v * load8(s2 + o + 1); a.8 += v * load8(s2 + o + 2)
                o += 8
            }
            while o < width {
                for q in 0..<9 { tail[q] += d[o] * src[(r + q / 3) * pitch + o + q % 3] }
                o += 1
            }
        }
        let sums = [a.0.sum(), a.1.sum(), a.2.sum(), a.3.sum(), a.4.sum(), a.5.sum(), a.6.sum(), a.7.sum(), a.8.sum()]
        for q in 0..<9 { gw[q] += sums[q] + tail[q] }
    }

    @inline(__always)
    private static func load<T: BLASScalar>(_ p: UnsafePointer<T>) -> SIMD16<T> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<T>.self)
    }

    @inline(__always)
    private static func load8<T: BLASScalar>(_ p: UnsafePointer<T>) -> SIMD8<T> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
    }

    @inline(__always)
    private static func store<T: BLASScalar>(_ v: SIMD16<T>, _ p: UnsafeMutablePointer<T>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<T>.self)
    }

    /// The nine taps and the bias, each in every lane.
    private struct Taps<T: BLASScalar> {
        let w0, w1, w2, w3, w4, w5, w6, w7, w8, bias: SIMD16<T>

        init(_ w: [T], bias: T) {
            (w0, w1, w2) = (SIMD16(repeating: w[0]), SIMD16(repeating: w[1]), SIMD16(repeating: w[2]))
            (w3, w4, w5) = (SIMD16(repeating: w[3]), SIMD16(repeating: w[4]), SIMD16(repeating: w[5]))
            (w6, w7, w8) = (SIMD16(repeating: w[6]), SIMD16(repeating: w[7]), SIMD16(repeating: w[8]))
            self.bias = SIMD16(repeating: bias)
        }

        /// 16 outputs from the three rows at `s`, `s + pitch`, `s + 2·pitch`, in tap order.
        @inline(__always)
        func apply(_ s: UnsafePointer<T>, _ pitch: Int) -> SIMD16<T> {
            let s1 = s + pitch, s2 = s1 + pitch
            var v = bias
            v += load(s) * w0; v += load(s + 1) * w1; v += load(s + 2) * w2
            v += load(s1) * w3; v += load(s1 + 1) * w4; v += load(s1 + 2) * w5
            v += load(s2) * w6; v += load(s2 + 1) * w7; v += load(s2 + 2) * w8
            return v
        }
    }
}
