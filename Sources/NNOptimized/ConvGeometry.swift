/// The sliding-window geometry of a convolution and the loops that move data between an image
/// and its columns (im2col / col2im).
///
/// 1-d and 2-d problems are seen as 3-d with leading dimensions of size 1, so every loop is
/// written once. The *image* is the convolution's input (a transposed convolution's output);
/// the *positions* are the convolution's output positions (a transposed convolution's input
/// positions). For image channel `c`, the columns hold one row per kernel tap `q` and one column
/// per position `p`:
///
///     columns[c·K + q, p] = image[c, p·stride − padding + q·dilation]   (0 in the padding)
///
/// `col2im` is the adjoint: it adds each column element back onto the image element it came from.
struct ConvGeometry {
    let id: Int, ih: Int, iw: Int  // image
    let od: Int, oh: Int, ow: Int  // positions
    let kd: Int, kh: Int, kw: Int
    let sd: Int, sh: Int, sw: Int
    let pd: Int, ph: Int, pw: Int  // padding before (padding after is implied by the sizes)
    let dd: Int, dh: Int, dw: Int

    init(image: [Int], positions: [Int], kernel: [Int], stride: [Int], padding: [Int], dilation: [Int]) {
        func lead(_ a: [Int], _ fill: Int) -> [Int] { Array(repeating: fill, count: max(0, 3 - a.count)) + a }
        let i = lead(image, 1), o = lead(positions, 1), k = lead(kernel, 1)
        let s = lead(stride, 1), p = lead(padding, 0), d = lead(dilation, 1)
        (id, ih, iw) = (i[0], i[1], i[2])
        (od, oh, ow) = (o[0], o[1], o[2])
        (kd, kh, kw) = (k[0], k[1], k[2])
        (sd, sh, sw) = (s[0], s[1], s[2])
        (pd, ph, pw) = (p[0], p[1], p[2])
        (dd, dh, dw) = (d[0], d[1], d[2])
    }

    var imageVolume: Int { id * ih * iw }
    var positionCount: Int { od * oh * ow }
    var kernelVolume: Int { kd * kh * kw }

    /// A 1×1×1 kernel with stride 1 and no padding over an image the size of the positions: the
    /// columns are the image itself.
    var isIdentity: Bool {
        kernelVolume == 1 && sd == 1 && sh == 1 && sw == 1 && pd == 0 && ph == 0 && pw == 0
            && id == od && ih == oh && iw == ow
    }

    /// For kernel column `k`: the positions `lo..<hi` whose image column `o·sw + off` lies in the
    /// image, and `off`.
    @inline(__always)
    func widthRange(_ k: Int) -> (lo: Int, hi: Int, off: Int) {
        let off = k * dw - pw
        var lo = off >= 0 ? 0 : (-off + sw - 1) / sw
        let last = iw - 1 - off
        var hi = last < 0 ? 0 : last / sw + 1
        hi = min(hi, ow)
        lo = min(lo, hi)
        return (lo, hi, off)
    }

    /// Calls `body(positionRow, imageRow, tap, lo, hi, off)` for every pair of a row of positions
    /// and a kernel tap whose image row lies inside the image: position `o` of the row (for `o` in
    /// `lo..<hi`) reads image element `imageRow + o·sw + off`. For a fixed position the taps come
    /// in row-major kernel order.
    @inline(__always)
    func forEachTap(_ body: (_ positionRow: Int, _ imageRow: Int, _ tap: Int, _ lo: Int, _ hi: Int, _ off: Int) -> Void) {
        for a in 0..<od {
            for kz in 0..<kd {
                let z = a * sd - pd + kz * dd
                if z < 0 || z >= id { continue }
                for b in 0..<oh {
                    for ky in 0..<kh {
                        let y = b * sh - ph + ky * dh
                        if y < 0 || y >= ih { continue }
                        let positionRow = (a * oh + b) * ow, imageRow = (z * ih + y) * iw
                        let tapRow = (kz * kh + ky) * kw
                        for kx in 0..<kw {
                            let (lo, hi, off) = widthRange(kx)
                            if lo < hi { body(positionRow, imageRow, tapRow + kx, lo, hi, off) }
                        }
                    }
                }
            }
        }
    }

    /// Writes the `K` column rows of one image channel for the positions `range`: row `q` at
    /// `dst + q·ld`, `range.count` elements each.
    func im2col<T: BLASScalar>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, ld: Int, positions range: Range<Int>) {
        let p0 = range.lowerBound, p1 = range.upperBound
        guard p0 < p1 else { return }
        let r0 = p0 / ow, r1 = (p1 - 1) / ow  // rows (a·oh + b) of positions that the range touches
        var q = 0
        for kz in 0..<kd {
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let row = dst + q * ld - p0  // row[p] for p in range
                    q += 1
                    let (lo, hi, off) = widthRange(kx)
                    for r in r0...r1 {
                        let (a, b) = r.quotientAndRemainder(dividingBy: oh)
                        let s = r == r0 ? p0 - r * ow : 0, e = r == r1 ? p1 - r * ow : ow
                        let out = row + r * ow
                        let z = a * sd - pd + kz * dd, y = b * sh - ph + ky * dh
                        let l = max(lo, s), h = min(hi, e)
                        if z < 0 || z >= id || y < 0 || y >= ih || l >= h {
                            (out + s).update(repeating: 0, count: e - s)
                            continue
                        }
                        let inRow = src + (z * ih + y) * iw + off
                        if l > s { (out + s).update(repeating: 0, count: l - s) }
                        if sw == 1 {
                            ConvKernels.copy(inRow + l, into: out + l, h - l)
                        } else {
                            for o in l..<h { out[o] = inRow[o * sw] }
                        }
                        if h < e { (out + h).update(repeating: 0, count: e - h) }
                    }
                }
            }
        }
    }

    /// Adds the `K` column rows of one image channel for the positions `range` (row `q` at
    /// `src + q·ld`) onto the image.
    func col2im<T: BLASScalar>(_ src: UnsafePointer<T>, ld: Int, _ dst: UnsafeMutablePointer<T>, positions range: Range<Int>) {
        let p0 = range.lowerBound, p1 = range.upperBound
        guard p0 < p1 else { return }
        let r0 = p0 / ow, r1 = (p1 - 1) / ow
        var q = 0
        for kz in 0..<kd {
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let row = src + q * ld - p0
                    q += 1
                    let (lo, hi, off) = widthRange(kx)
                    for r in r0...r1 {
                        let (a, b) = r.quotientAndRemainder(dividingBy: oh)
                        let s = r == r0 ? p0 - r * ow : 0, e = r == r1 ? p1 - r * ow : ow
                        let z = a * sd - pd + kz * dd, y = b * sh - ph + ky * dh
                        let l = max(lo, s), h = min(hi, e)
                        if z < 0 || z >= id || y < 0 || y >= ih || l >= h { continue }
                        let cols = row + r * ow
                        let outRow = dst + (z * ih + y) * iw + off
                        if sw == 1 {
                            ConvKernels.add(cols + l, into: outRow + l, h - l)
                        } else {
                            for o in l..<h { outRow[o * sw] += cols[o] }
                        }
                    }
                }
            }
        }
    }
}

/// Vector loops shared by the convolution kernels.
enum ConvKernels {
    @inline(__always)
    private static func load<V: SIMD>(_ p: UnsafePointer<V.Scalar>, _: V.Type) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    private static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// `y[i] = x[i]` for `i < n`, inline (short rows cost more in a `memmove` call than in copying).
    @inline(__always)
    static func copy<T: BLASScalar>(_ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, _ n: Int) {
        var i = 0
        while i + 16 <= n {
            store(load(x + i, SIMD16<T>.self), y + i)
            i += 16
        }
        if i + 8 <= n {
            store(load(x + i, SIMD8<T>.self), y + i)
            i += 8
        }
        if i + 4 <= n {
            store(load(x + i, SIMD4<T>.self), y + i)
            i += 4
        }
        while i < n { y[i] = x[i]; i += 1 }
    }

    /// `y[i] += x[i]` for `i < n`.
    @inline(__always)
    static func add<T: BLASScalar>(_ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, _ n: Int) {
        var i = 0
        while i + 16 <= n {
            store(load(x + i, SIMD16<T>.self) + load(y + i, SIMD16<T>.self), y + i)
            i += 16
        }
        if i + 8 <= n {
            store(load(x + i, SIMD8<T>.self) + load(y + i, SIMD8<T>.self), y + i)
            i += 8
        }
        if i + 4 <= n {
            store(load(x + i, SIMD4<T>.self) + load(y + i, SIMD4<T>.self), y + i)
            i += 4
        }
        while i < n { y[i] += x[i]; i += 1 }
    }

    /// `y[i] += alpha · x[i]` for `i < n` (rounding as `y[i] + x[i]·alpha`, without fusing).
    @inline(__always)
    static func axpy<T: BLASScalar>(_ alpha: T, _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, _ n: Int) {
        var i = 0
        let a16 = SIMD16<T>(repeating: alpha)
        while i + 16 <= n {
            store(load(y + i, SIMD16<T>.self) + load(x + i, SIMD16<T>.self) * a16, y + i)
            i += 16
        }
        if i + 8 <= n {
            store(load(y + i, SIMD8<T>.self) + load(x + i, SIMD8<T>.self) * SIMD8(repeating: alpha), y + i)
            i += 8
        }
        if i + 4 <= n {
            store(load(y + i, SIMD4<T>.self) + load(x + i, SIMD4<T>.self) * SIMD4(repeating: alpha), y + i)
            i += 4
        }
        while i < n { y[i] += x[i] * alpha; i += 1 }
    }

    /// `out[j] += Σ_q weights[q] · input[j + offsets[q]]` for `j < n`, the taps added one by one
    /// in order (each vector of `out` is loaded and stored once for all taps).
    @inline(__always)
    static func stencil<T: BLASScalar>(_ out: UnsafeMutablePointer<T>, _ n: Int, _ input: UnsafePointer<T>,
                                       offsets: UnsafePointer<Int>, weights: UnsafePointer<T>, taps: Int) {
        var j = 0
        while j + 16 <= n {
            var v = load(out + j, SIMD16<T>.self)
            for q in 0..<taps { v += load(input + offsets[q] + j, SIMD16<T>.self) * SIMD16(repeating: weights[q]) }
            store(v, out + j)
            j += 16
        }
        while j + 4 <= n {
            var v = load(out + j, SIMD4<T>.self)
            for q in 0..<taps { v += load(input + offsets[q] + j, SIMD4<T>.self) * SIMD4(repeating: weights[q]) }
            store(v, out + j)
            j += 4
        }
        while j < n {
            var v = out[j]
            for q in 0..<taps { v += input[offsets[q] + j] * weights[q] }
            out[j] = v
            j += 1
        }
    }

    /// `out[q] += Σ_j x[j] · input[j + offsets[q]]` for `j < n` and every tap `q`, four taps per
    /// pass over `x`.
    @inline(__always)
    static func dots<T: BLASScalar>(_ x: UnsafePointer<T>, _ n: Int, _ input: UnsafePointer<T>,
                                    offsets: UnsafePointer<Int>, taps: Int, into out: UnsafeMutablePointer<T>) {
        var q = 0
        while q + 4 <= taps {
            let i0 = input + offsets[q], i1 = input + offsets[q + 1], i2 = input + offsets[q + 2], i3 = input + offsets[q + 3]
            var a0 = SIMD8<T>(), a1 = SIMD8<T>(), a2 = SIMD8<T>(), a3 = SIMD8<T>()
            var j = 0
            while j + 8 <= n {
                let v = load(x + j, SIMD8<T>.self)
                a0 += v * load(i0 + j, SIMD8<T>.self)
                a1 += v * load(i1 + j, SIMD8<T>.self)
                a2 += v * load(i2 + j, SIMD8<T>.self)
                a3 += v * load(i3 + j, SIMD8<T>.self)
                j += 8
            }
            var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
            while j < n {
                s0 += x[j] * i0[j]; s1 += x[j] * i1[j]; s2 += x[j] * i2[j]; s3 += x[j] * i3[j]
                j += 1
            }
            out[q] += s0; out[q + 1] += s1; out[q + 2] += s2; out[q + 3] += s3
            q += 4
        }
        while q < taps {
            out[q] += dot(x, input + offsets[q], n)
            q += 1
        }
    }

    /// `Σ x[i]·y[i]` for `i < n`.
    @inline(__always)
    static func dot<T: BLASScalar>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ n: Int) -> T {
        var i = 0
        var acc0 = SIMD16<T>(), acc1 = SIMD16<T>()
        while i + 32 <= n {
            acc0 += load(x + i, SIMD16<T>.self) * load(y + i, SIMD16<T>.self)
            acc1 += load(x + i + 16, SIMD16<T>.self) * load(y + i + 16, SIMD16<T>.self)
            i += 32
        }
        if i + 16 <= n {
            acc0 += load(x + i, SIMD16<T>.self) * load(y + i, SIMD16<T>.self)
            i += 16
        }
        var acc8 = acc0.lowHalf + acc0.highHalf + acc1.lowHalf + acc1.highHalf
        if i + 8 <= n {
            acc8 += load(x + i, SIMD8<T>.self) * load(y + i, SIMD8<T>.self)
            i += 8
        }
        var acc4 = acc8.lowHalf + acc8.highHalf
        if i + 4 <= n {
            acc4 += load(x + i, SIMD4<T>.self) * load(y + i, SIMD4<T>.self)
            i += 4
        }
        var s = acc4.sum()
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// `Σ x[i]` for `i < n`.
    @inline(__always)
    static func sum<T: BLASScalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
        var i = 0
        var acc0 = SIMD16<T>(), acc1 = SIMD16<T>()
        while i + 32 <= n {
            acc0 += load(x + i, SIMD16<T>.self)
            acc1 += load(x + i + 16, SIMD16<T>.self)
            i += 32
        }
        if i + 16 <= n {
            acc0 += load(x + i, SIMD16<T>.self)
            i += 16
        }
        var acc8 = acc0.lowHalf + acc0.highHalf + acc1.lowHalf + acc1.highHalf
        if i + 8 <= n {
            acc8 += load(x + i, SIMD8<T>.self)
            i += 8
        }
        var acc4 = acc8.lowHalf + acc8.highHalf
        if i + 4 <= n {
            acc4 += load(x + i, SIMD4<T>.self)
            i += 4
        }
        var s = acc4.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Copies `n` batches of `channels` planes of `plane` elements, starting at `src` with
    /// `batchStride` between batches, into a matrix `[channels, n·plane]` (batch-major columns).
    static func gather<T: BLASScalar>(_ src: UnsafePointer<T>, batchStride: Int, batches n: Int, channels: Int,
                                      plane: Int, into dst: UnsafeMutablePointer<T>) {
        let ld = n * plane
        SIMDParallel.forEach(channels * n, costPerItem: plane) { r in
            for item in r {
                let (c, b) = item.quotientAndRemainder(dividingBy: n)
                (dst + c * ld + b * plane).update(from: src + b * batchStride + c * plane, count: plane)
            }
        }
    }

    /// The inverse of `gather`: writes the matrix `[channels, n·plane]` back into the planes.
    static func scatter<T: BLASScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>, batchStride: Int,
                                       batches n: Int, channels: Int, plane: Int) {
        let ld = n * plane
        SIMDParallel.forEach(channels * n, costPerItem: plane) { r in
            for item in r {
                let (c, b) = item.quotientAndRemainder(dividingBy: n)
                (dst + b * batchStride + c * plane).update(from: src + c * ld + b * plane, count: plane)
            }
        }
    }

    /// Adds `bias[c]` to every element of plane `(b, c)` of `[batches, channels, plane]`.
    static func addBias<T: BLASScalar>(_ bias: [T], to y: UnsafeMutablePointer<T>, batches: Int, channels: Int, plane: Int) {
        BLASKernels.reading(bias) { b in
            SIMDParallel.forEach(batches * channels, costPerItem: plane) { r in
                for item in r {
                    let v = SIMD16<T>(repeating: b[item % channels]), s = b[item % channels]
                    let p = y + item * plane
                    var i = 0
                    while i + 16 <= plane {
                        let a = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<T>.self)
                        UnsafeMutableRawPointer(p + i).storeBytes(of: a + v, as: SIMD16<T>.self)
                        i += 16
                    }
                    while i < plane { p[i] += s; i += 1 }
                }
            }
        }
    }

    /// `∂bias[c] = Σ_b Σ_p ∂y[b, c, p]`.
    static func biasGradient<T: BLASScalar>(_ gy: [T], batches: Int, channels: Int, plane: Int) -> [T] {
        BLASKernels.reading(gy) { g in
            BLASKernels.zeroed(channels) { out in
                SIMDParallel.forEach(channels, costPerItem: batches * plane) { r in
                    for c in r {
                        var s: T = 0
                        for b in 0..<batches { s += sum(g + (b * channels + c) * plane, plane) }
                        out[c] = s
                    }
                }
            }
        }
    }
}
