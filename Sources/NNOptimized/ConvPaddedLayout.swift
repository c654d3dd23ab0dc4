import CKernels

/// Planes laid out so that a stride-1 convolution reads each kernel tap as one contiguous run.
///
/// Each image plane is copied into a zeroed plane of `dp × hp × wp` (`hp = oh + dh·(kh − 1)`, ...:
/// the positions plus the kernel's dilated extent) at offset `(pd, ph, pw)`. Output position
/// `(a, b, o)` is then column `j = (a·hp + b)·wp + o` of the plane, and kernel tap `q` reads the
/// padded plane at `j + offsets[q]`:
///
///     columns[q, j] = padded[j + offsets[q]],  offsets[q] = (kz·dd·hp + ky·dh)·wp + kx·dw
///
/// Columns `0 ..< span` cover every position; those with `o ≥ ow` (or `b ≥ oh`) are scratch. The
/// GEMMs' column panels skip them (a run of positions per row); ∂weight's dot products run over
/// them (`weightGradientSpread`). The last tap of the last column reads the plane's last element.
struct PaddedLayout {
    let geometry: ConvGeometry
    let dp: Int, hp: Int, wp: Int
    /// Elements of a padded plane.
    let volume: Int
    /// Columns from position (0, 0, 0) to the last one, in padded pitch.
    let span: Int
    let offsets: [Int]

    /// Nil unless every stride is 1 and no padding is negative.
    init?(_ g: ConvGeometry) {
        guard g.sd == 1 && g.sh == 1 && g.sw == 1, g.pd >= 0 && g.ph >= 0 && g.pw >= 0, g.positionCount > 0 else { return nil }
        geometry = g
        dp = g.od + g.dd * (g.kd - 1)
        hp = g.oh + g.dh * (g.kh - 1)
        wp = g.ow + g.dw * (g.kw - 1)
        volume = dp * hp * wp
        span = ((g.od - 1) * hp + (g.oh - 1)) * wp + g.ow
        var offsets: [Int] = []
        for kz in 0..<g.kd {
            for ky in 0..<g.kh {
                for kx in 0..<g.kw { offsets.append((kz * g.dd * hp + ky * g.dh) * wp + kx * g.dw) }
            }
        }
        self.offsets = offsets
    }

    /// Image row `(z, y)` lands at padded row `(z + pd, y + ph)`, column `pw`: calls
    /// `body(imageRow, paddedRow, count)` for the rows of the image inside the padded plane (rows
    /// and columns past it are never read).
    @inline(__always)
    private func forEachImageRow(_ body: (_ imageRow: Int, _ paddedRow: Int, _ count: Int) -> Void) {
        let g = geometry
        let width = min(g.iw, wp - g.pw)
        guard width > 0 else { return }
        for z in 0..<max(min(g.id, dp - g.pd), 0) {
            for y in 0..<max(min(g.ih, hp - g.ph), 0) {
                body((z * g.ih + y) * g.iw, ((z + g.pd) * hp + y + g.ph) * wp + g.pw, width)
            }
        }
    }

    /// Copies an image plane into a padded plane (`volume` elements, zero around the image).
    @inline(__always)
    func pad<T: BLASScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>) {
        dst.update(repeating: 0, count: volume)
        forEachImageRow { i, p, n in ConvKernels.copy(src + i, into: dst + p, n) }
    }

    /// Copies `planes` image planes into padded planes, split across the cores; returns whether
    /// every value copied is finite. Each row prefetches the same row of the next plane.
    @discardableResult
    func pad(_ src: UnsafePointer<Float>, planes: Int, into dst: UnsafeMutablePointer<Float>) -> Bool {
        let IV = geometry.imageVolume
        var finite = [Bool](repeating: true, count: planes)
        finite.withUnsafeMutableBufferPointer { flags in
            let flags = flags.baseAddress!
            SIMDParallel.forEach(planes, costPerItem: volume) { r in
                for plane in r {
                    let s = src + plane * IV, d = dst + plane * volume, next = plane + 1 < r.upperBound ? s + IV : nil
                    d.update(repeating: 0, count: volume)
                    var nonFinite = SIMD16<Float>()  // x − x: 0, or NaN for ±∞ and NaN
                    forEachImageRow { i, p, n in
                        if let next { ck_prefetch(next + i, n * MemoryLayout<Float>.stride) }
                        ConvKernels.copy(s + i, into: d + p, n)
                        var k = 0
                        while k + 16 <= n {
                            let v = UnsafeRawPointer(s + i + k).loadUnaligned(as: SIMD16<Float>.self)
                            nonFinite += v - v
                            k += 16
                        }
                        if k < n && n >= 16 {  // the last 16, again in part: the check is idempotent
                            let v = UnsafeRawPointer(s + i + n - 16).loadUnaligned(as: SIMD16<Float>.self)
                            nonFinite += v - v
                        } else {
                            while k < n { nonFinite[0] += s[i + k] - s[i + k]; k += 1 }
                        }
                    }
                    flags[plane] = nonFinite.sum() == 0
                }
            }
        }
        return !finite.contains(false)
    }

    /// A batch's images channels-last in padded planes, `dst[(b·volume + j)·C + c]` = padded plane
    /// `(b, c)` at `j` (zero around the image), split across the cores by batch element.
    func padChannelsLast(_ src: UnsafePointer<Float>, batch: Int, channels C: Int, into dst: UnsafeMutablePointer<Float>) {
        let IV = geometry.imageVolume
        SIMDParallel.forEach(batch, costPerItem: volume * C) { r in
            for b in r {
                let out = dst + b * volume * C
                out.update(repeating: 0, count: volume * C)
                forEachImageRow { i, p, n in
                    for c in 0..<C {
                        let s = src + (b * C + c) * IV + i, d = out + p * C + c
                        for x in 0..<n { d[x * C] = s[x] }
                    }
                }
            }
        }
    }

    /// Copies the image part of a padded plane into an image plane.
    @inline(__always)
    func unpad<T: BLASScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>) {
        forEachImageRow { i, p, n in ConvKernels.copy(src + p, into: dst + i, n) }
    }

    /// Lays out a plane of positions in padded pitch, `span` columns, zero in the scratch columns.
    @inline(__always)
    func spread<T: BLASScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>) {
        let g = geometry
        dst.update(repeating: 0, count: span)
        for a in 0..<g.od {
            for b in 0..<g.oh { ConvKernels.copy(src + (a * g.oh + b) * g.ow, into: dst + (a * hp + b) * wp, g.ow) }
        }
    }

    /// `spread` of `planes` planes, `stride ≥ span` elements apart (the columns between are not
    /// written), split across the cores; with `sums`, also `sums[k] = ConvKernels.sum` of plane `k`
    /// while it is in cache. Each plane prefetches the next.
    func spread<T: BLASScalar>(_ src: UnsafePointer<T>, planes: Int, stride: Int, into dst: UnsafeMutablePointer<T>,
                               sums: UnsafeMutablePointer<T>? = nil) {
        let P = geometry.positionCount
        SIMDParallel.forEach(planes, costPerItem: span) { r in
            for plane in r {
                if plane + 1 < r.upperBound { ck_prefetch(src + (plane + 1) * P, P * MemoryLayout<T>.stride) }
                spread(src + plane * P, into: dst + plane * stride)
                sums?[plane] = ConvKernels.sum(src + plane * P, P)
            }
        }
    }

    /// The positions of a plane in padded pitch, packed.
    @inline(__always)
    func crop<T: BLASScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>) {
        let g = geometry
        for a in 0..<g.od {
            for b in 0..<g.oh { ConvKernels.copy(src + (a * hp + b) * wp, into: dst + (a * g.oh + b) * g.ow, g.ow) }
        }
    }
}
