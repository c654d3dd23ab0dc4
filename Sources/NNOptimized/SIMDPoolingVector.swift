/// float32 pooling 16 outputs at a time along W, for the outputs whose windows lie wholly
/// inside the input (`PoolAxis.interior`); the others take the scalar path. Each lane runs the
/// scalar algorithm (same taps, same order, same comparisons), so results are identical.
extension PoolGeometry {
    /// Whether a plane may take the vector paths (offsets fit in Int32, 16 interior outputs).
    var vectorizable: Bool { w.interior.count >= 16 && inCount < Int(Int32.max) / 2 }

    /// 16 input values `p[l·stride]`; `available` elements are readable from `p`.
    @inline(__always)
    private func gather(_ p: UnsafePointer<Float>, stride s: Int, available: Int) -> VF {
        if s == 1 { return vload(p) }
        if s == 2 && available >= 32 { return SIMD32(lowHalf: vload(p), highHalf: vload(p + 16)).evenHalf }
        var v = VF()
        for l in 0..<16 { v[l] = p[l * s] }
        return v
    }

    /// Calls `scalar(k, base…)` for one output or `vector(k, base…)` for 16 along every output
    /// row, in output order.
    /// With `overlapping`, the last vector block of a row ends at the interior's end, overlapping
    /// the previous one (its outputs are recomputed identically: only for writes, not for
    /// accumulation); without, the rest of the interior takes the scalar path.
    @inline(__always)
    private func forEachRow(overlapping: Bool, _ scalar: (_ k: Int, _ base: Int, _ cd: Int, _ ch: Int, _ cw: Int) -> Void,
                            _ vector: (_ k: Int, _ base: Int, _ cd: Int, _ ch: Int) -> Void) {
        let rowW = w.inSize, plane = h.inSize * w.inSize
        var k = 0
        for od in 0..<d.outSize {
            let bd = d.first[od] * plane, cd = d.count[od]
            for oh in 0..<h.outSize {
                let bh = bd + h.first[oh] * rowW, ch = h.count[oh]
                var ow = 0
                while ow < w.outSize {
                    if ow >= w.interior.lowerBound && (overlapping ? ow < w.interior.upperBound : ow + 16 <= w.interior.upperBound) {
                        let start = min(ow, w.interior.upperBound - 16), skip = ow - start
                        vector(k - skip, bh + w.first[start], cd, ch)
                        (k, ow) = (k + 16 - skip, start + 16)
                    } else {
                        scalar(k, bh + w.first[ow], cd, ch, w.count[ow])
                        (k, ow) = (k + 1, ow + 1)
                    }
                }
            }
        }
    }

    /// Max pooling of one float32 plane (see `maxPlane`); `available` elements are readable from `x`.
    func maxPlaneVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ at: UnsafeMutablePointer<Int64>, available: Int) {
        let plane = h.inSize * w.inSize
        let (sd, sh, sw, s) = (d.step * plane, h.step * w.inSize, w.step, w.stride)
        let kw = w.count[w.interior.lowerBound]
        var lanes = VI()
        for l in 0..<16 { lanes[l] = Int32(l * s) }
        forEachRow(overlapping: true, { k, base, cd, ch, cw in
            var best = -Float.infinity, index = cd * ch * cw == 0 ? 0 : base
            for a in 0..<cd {
                for b in 0..<ch {
                    let row = base + a * sd + b * sh
                    for c in 0..<cw {
                        let v = x[row + c * sw]
                        if v > best || v.isNaN { (best, index) = (v, row + c * sw) }
                    }
                }
            }
            y[k] = best
            at[k] = Int64(index)
        }, { k, base, cd, ch in
            var best = VF(repeating: -.infinity), index = lanes &+ Int32(base)
            for a in 0..<cd {
                for b in 0..<ch {
                    let row = base + a * sd + b * sh
                    for c in 0..<kw {
                        let off = row + c * sw
                        let v = gather(x + off, stride: s, available: available - off)
                        // `v > best || v.isNaN` as two selects (or-ing masks unpacks them lane by lane).
                        let offsets = lanes &+ Int32(off), greater = v .> best, nan = v .!= v
                        best.replace(with: v, where: greater)
                        index.replace(with: offsets, where: greater)
                        best.replace(with: v, where: nan)
                        index.replace(with: offsets, where: nan)
                    }
                }
            }
            vstore(best, y + k)
            for l in 0..<16 { at[k + l] = Int64(index[l]) }
        })
    }

    /// Average pooling of one float32 plane by single divisors `divisor[k]` (see `averagePlane`).
    func averagePlaneVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ divisor: UnsafePointer<Float>,
                            available: Int) {
        let plane = h.inSize * w.inSize
        let (sd, sh, sw, s) = (d.step * plane, h.step * w.inSize, w.step, w.stride)
        let kw = w.count[w.interior.lowerBound]
        forEachRow(overlapping: true, { k, base, cd, ch, cw in
            var sum: Float = 0
            for a in 0..<cd {
                for b in 0..<ch {
                    let row = base + a * sd + b * sh
                    for c in 0..<cw { sum += x[row + c * sw] }
                }
            }
            y[k] = sum / divisor[k]
        }, { k, base, cd, ch in
            var sum = VF()
            for a in 0..<cd {
                for b in 0..<ch {
                    let row = base + a * sd + b * sh
                    for c in 0..<kw { sum += gather(x + row + c * sw, stride: s, available: available - row - c * sw) }
                }
            }
            vstore(sum / vload(divisor + k), y + k)
        })
    }
}

extension PoolGeometry {
    /// Whether the average backward may take the vector path: windows along W that tile the
    /// row (stride = kernel ≤ 2, no dilation), so 16 outputs cover 16·stride contiguous inputs.
    var backwardVectorizable: Bool {
        vectorizable && w.step == 1 && (w.stride == 1 || w.stride == 2) && w.count[w.interior.lowerBound] == w.stride
    }

    /// The average backward of one float32 plane by single divisors (see `averagePlaneBackward`).
    func averagePlaneBackwardVector(_ g: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ divisor: UnsafePointer<Float>) {
        let plane = h.inSize * w.inSize
        let (sd, sh, sw, s) = (d.step * plane, h.step * w.inSize, w.step, w.stride)
        forEachRow(overlapping: false, { k, base, cd, ch, cw in
            let share = g[k] / divisor[k]
            for a in 0..<cd {
                for b in 0..<ch {
                    let row = base + a * sd + b * sh
                    for c in 0..<cw { gx[row + c * sw] += share }
                }
            }
        }, { k, base, cd, ch in
            let share = vload(g + k) / vload(divisor + k)
            for a in 0..<cd {
                for b in 0..<ch {
                    let p = gx + base + a * sd + b * sh
                    if s == 1 {
                        vstore(vload(p) + share, p)
                    } else {
                        var both = SIMD32<Float>()
                        both.evenHalf = share
                        both.oddHalf = share
                        vstore(vload(p) + both.lowHalf, p)
                        vstore(vload(p + 16) + both.highHalf, p + 16)
                    }
                }
            }
        })
    }
}
