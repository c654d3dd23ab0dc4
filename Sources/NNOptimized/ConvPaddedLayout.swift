/// Planes laid out so that a stride-1 convolution reads each kernel tap as one contiguous run.
///
/// Each image plane is copied into a zeroed plane of `dp × hp × wp` (`hp = oh + dh·(kh − 1)`, ...:
/// the positions plus the kernel's dilated extent) at offset `(pd, ph, pw)`. Output position
/// `(a, b, o)` is then column `j = (a·hp + b)·wp + o` of the plane, and kernel tap `q` reads the
/// padded plane at `j + offsets[q]`:
///
///     columns[q, j] = padded[j + offsets[q]],  offsets[q] = (kz·dd·hp + ky·dh)·wp + kx·dw
///
/// Columns `0 ..< span` cover every position; those with `o ≥ ow` (or `b ≥ oh`) are scratch,
/// computed and dropped. The last tap of the last column reads the plane's last element.
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

    /// Copies `planes` image planes (`imageVolume` elements each) into padded planes (`volume`
    /// each, zero around the image); returns whether every value copied is finite.
    @discardableResult
    func pad(_ src: UnsafePointer<Float>, planes: Int, into dst: UnsafeMutablePointer<Float>) -> Bool {
        let g = geometry, IV = g.imageVolume
        // Image row (z, y) lands at padded row (z + pd, y + ph), column pw; rows and columns past
        // the padded plane are never read.
        let width = min(g.iw, wp - g.pw), depth = min(g.id, dp - g.pd), height = min(g.ih, hp - g.ph)
        var finite = [Bool](repeating: true, count: planes)
        finite.withUnsafeMutableBufferPointer { flags in
            let flags = flags.baseAddress!
            Threads.forEach(planes, costPerItem: volume) { r in
                for plane in r {
                    let s = src + plane * IV, d = dst + plane * volume
                    d.update(repeating: 0, count: volume)
                    guard width > 0 else { continue }
                    var nonFinite = SIMD16<Float>()  // x − x: 0, or NaN for ±∞ and NaN
                    for z in 0..<max(depth, 0) {
                        for y in 0..<max(height, 0) {
                            let row = s + (z * g.ih + y) * g.iw
                            ConvKernels.copy(row, into: d + ((z + g.pd) * hp + y + g.ph) * wp + g.pw, width)
                            var i = 0
                            while i + 16 <= width {
                                let v = UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<Float>.self)
                                nonFinite += v - v
                                i += 16
                            }
                            while i < width { nonFinite[0] += row[i] - row[i]; i += 1 }
                        }
                    }
                    flags[plane] = nonFinite.sum() == 0
                }
            }
        }
        return !finite.contains(false)
    }

    /// Copies `planes` planes of positions into padded pitch, `span` columns each, zero in the
    /// scratch columns.
    func spread<T: BLASScalar>(_ src: UnsafePointer<T>, planes: Int, into dst: UnsafeMutablePointer<T>) {
        let g = geometry, P = g.positionCount
        Threads.forEach(planes, costPerItem: span) { r in
            for plane in r {
                let s = src + plane * P, d = dst + plane * span
                d.update(repeating: 0, count: span)
                for a in 0..<g.od {
                    for b in 0..<g.oh { ConvKernels.copy(s + (a * g.oh + b) * g.ow, into: d + (a * hp + b) * wp, g.ow) }
                }
            }
        }
    }

    /// Calls `body(j, p, count)` for the runs of positions among the columns `j0 ..< j0 + n`:
    /// columns `j ..< j + count` hold positions `p ..< p + count`.
    @inline(__always)
    func forEachPositionRun(_ j0: Int, _ n: Int, _ body: (_ j: Int, _ p: Int, _ count: Int) -> Void) {
        let g = geometry, j1 = j0 + n
        var row = j0 / wp
        while row * wp < j1 {
            let (a, b) = row.quotientAndRemainder(dividingBy: hp)
            if b < g.oh {
                let s = max(j0, row * wp), e = min(j1, row * wp + g.ow)
                if s < e { body(s, (a * g.oh + b) * g.ow + s - row * wp, e - s) }
            }
            row += 1
        }
    }
}
