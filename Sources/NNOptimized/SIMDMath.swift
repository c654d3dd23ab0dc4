/// Float32 vector maths for the SIMD kernels: 16 lanes (four SSE registers on baseline
/// x86-64, one AVX-512 register where the compiler may use it).
///
/// Written with what the compiler lowers to vector instructions on every x86-64: lane-wise
/// arithmetic, bit operations, and comparisons used directly by `replacing(with:where:)`
/// (compare + and/andn/or). It avoids `pointwiseMin`/`pointwiseMax` and float↔int vector
/// conversions, which it scalarizes (measured 100× slower), reinterpreting a comparison's
/// mask as integers (its 16 × i1 vector is then unpacked lane by lane: 10× slower), and
/// `addingProduct`, a libm call without FMA hardware.
///
/// `vexp`, `vlog` and `vtanh` are Cephes' single-precision algorithms (measured against glibc
/// over the float range: ≤ 1 ULP for `vexp` and `vlog`, ≤ 2 ULP for `vtanh`), with IEEE
/// behaviour at the edges: NaN in gives NaN, `exp` overflows to +∞ and underflows through
/// subnormals to 0, `log(0) = −∞`, `log(x < 0) = NaN`, `log(+∞) = +∞`.
///
/// Measured on this machine (2.56M floats, one thread): `vexp` 1.3 ns/element, `vlog` 2.9,
/// `vtanh` 1.6 (glibc `expf` 13). Built for AVX-512 (`-target-cpu znver4`) the same code runs
/// 3× faster; the package builds for baseline x86-64.

typealias VF = SIMD16<Float>
typealias VI = SIMD16<Int32>

@inline(__always) func vload(_ p: UnsafePointer<Float>) -> VF {
    UnsafeRawPointer(p).loadUnaligned(as: VF.self)
}

@inline(__always) func vstore(_ v: VF, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: VF.self)
}

/// The first `n` (< 16) elements at `p` in the low lanes, zeros above.
@inline(__always) func vloadPartial(_ p: UnsafePointer<Float>, _ n: Int, padding: Float = 0) -> VF {
    var v = VF(repeating: padding)
    for k in 0..<n { v[k] = p[k] }
    return v
}

@inline(__always) func vstorePartial(_ v: VF, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    for k in 0..<n { p[k] = v[k] }
}

@inline(__always) func vbits(_ v: VF) -> VI { unsafeBitCast(v, to: VI.self) }
@inline(__always) func vfloat(_ v: VI) -> VF { unsafeBitCast(v, to: VF.self) }

/// The larger of each pair; where `b` is NaN, `a` (as `if b > a { a = b }`).
@inline(__always) func vmax(_ a: VF, _ b: VF) -> VF { a.replacing(with: b, where: a .< b) }

/// |v|.
@inline(__always) func vabs(_ v: VF) -> VF { vfloat(vbits(v) & 0x7FFF_FFFF) }

/// The sum of the lanes, added as a pairwise tree.
@inline(__always) func vsum(_ v: VF) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// The largest lane (NaN lanes ignored, unless all are NaN).
@inline(__always) func vmaxLane(_ v: VF) -> Float {
    var m = v[0]
    for k in 1..<16 where v[k] > m || m.isNaN { m = v[k] }
    return m
}

/// e^x.
@inline(__always) func vexp(_ x0: VF) -> VF {
    // Clamp to where 2^n splits into two normal factors; n = round(x·log2 e) by the
    // 1.5·2^23 trick, r = x − n·ln 2 in two parts, e^r by Cephes' degree-6 polynomial.
    var x = x0.replacing(with: 89, where: x0 .> 89)
    x.replace(with: -104, where: x .< -104)
    let magic = VF(repeating: 12_582_912)
    let t = x * 1.442_695_040_888_963_4 + magic
    let n = vbits(t) &- 0x4B40_0000
    let fx = t - magic
    x = x - fx * 0.693_359_375
    x = x + fx * 2.121_944_40e-4
    let z = x * x
    var y = VF(repeating: 1.987_569_150_0e-4)
    y = y * x + 1.398_199_950_7e-3
    y = y * x + 8.333_451_907_3e-3
    y = y * x + 4.166_579_589_4e-2
    y = y * x + 1.666_666_545_9e-1
    y = y * x + 5.000_000_120_1e-1
    y = y * z + x + 1
    // 2^n as 2^(n>>1) · 2^(n − n>>1): both normal for n in [−151, 129].
    let n1 = n &>> 1, n2 = n &- n1
    y = y * vfloat((n1 &+ 127) &<< 23) * vfloat((n2 &+ 127) &<< 23)
    return y.replacing(with: x0, where: x0 .!= x0)
}

/// e^x for x ≤ 0 or NaN (softmax's x − max, log-probabilities): `vexp` without the overflow
/// clamp and the NaN select, which such inputs never need (a NaN propagates through the
/// arithmetic), so the same values at three quarters of the instructions.
@inline(__always) func vexpNonPositive(_ x0: VF) -> VF {
    let x = x0.replacing(with: -104, where: x0 .< -104)
    let magic = VF(repeating: 12_582_912)
    let t = x * 1.442_695_040_888_963_4 + magic
    let n = vbits(t) &- 0x4B40_0000
    let fx = t - magic
    var r = x - fx * 0.693_359_375
    r = r + fx * 2.121_944_40e-4
    let z = r * r
    var y = VF(repeating: 1.987_569_150_0e-4)
    y = y * r + 1.398_199_950_7e-3
    y = y * r + 8.333_451_907_3e-3
    y = y * r + 4.166_579_589_4e-2
    y = y * r + 1.666_666_545_9e-1
    y = y * r + 5.000_000_120_1e-1
    y = y * z + r + 1
    let n1 = n &>> 1, n2 = n &- n1
    return y * vfloat((n1 &+ 127) &<< 23) * vfloat((n2 &+ 127) &<< 23)
}

/// Natural logarithm.
@inline(__always) func vlog(_ x0: VF) -> VF {
    // x = m · 2^k with m in [√½, √2), split in integer arithmetic (musl's reduction: a select
    // here makes the compiler scalarize the polynomial); log m by Cephes' polynomial in m − 1.
    let ix = vbits(x0) &- 0x3F35_04F3
    let fk = vfloat((ix &>> 23) &+ 0x4B40_0000) - 12_582_912
    let m = vfloat((ix & 0x007F_FFFF) &+ 0x3F35_04F3) - 1
    let z = m * m
    var y = VF(repeating: 7.037_683_629_2e-2)
    y = y * m - 1.151_461_031_0e-1
    y = y * m + 1.167_699_874_0e-1
    y = y * m - 1.242_014_084_6e-1
    y = y * m + 1.424_932_278_7e-1
    y = y * m - 1.666_805_766_5e-1
    y = y * m + 2.000_071_476_5e-1
    y = y * m - 2.499_999_399_3e-1
    y = y * m + 3.333_333_117_4e-1
    y = y * m * z
    y = y + fk * -2.121_944_40e-4
    y = y - z * 0.5
    var r = m + y + fk * 0.693_359_375
    // Edges: subnormals and 0 → −∞ (no subnormal inputs expected), x < 0 or NaN → NaN, +∞ → +∞.
    r.replace(with: -.infinity, where: x0 .< Float.leastNormalMagnitude)
    r.replace(with: .nan, where: x0 .< 0)
    r.replace(with: x0, where: x0 .> Float.greatestFiniteMagnitude)
    r.replace(with: x0, where: x0 .!= x0)
    return r
}

/// tanh: an odd polynomial below |x| = 0.625, else 1 − 2 / (e^(2|x|) + 1) with x's sign.
@inline(__always) func vtanh(_ x: VF) -> VF {
    let z = x * x
    var p = VF(repeating: -5.704_988_727_45e-3)
    p = p * z + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    p = p * z * x + x
    let a = vabs(x)
    let big = 1 - 2 / (vexp(a + a) + 1)
    let signed = vfloat(vbits(big) | (vbits(x) & VI(repeating: Int32(bitPattern: 0x8000_0000))))
    return signed.replacing(with: p, where: a .< 0.625)
}

/// e^x − 1, accurate near 0: Taylor's series to x⁸ below |x| = ½ (truncation < 10⁻⁸ relative),
/// else `vexp(x) − 1`. Measured against the double expm1 on [−5, 5]: ≤ 2 ULP.
@inline(__always) func vexpm1(_ x: VF) -> VF {
    var p = VF(repeating: 1.0 / 40320)
    p = p * x + 1.0 / 5040
    p = p * x + 1.0 / 720
    p = p * x + 1.0 / 120
    p = p * x + 1.0 / 24
    p = p * x + 1.0 / 6
    p = p * x + 0.5
    p = p * x * x + x
    return (vexp(x) - 1).replacing(with: p, where: vabs(x) .< 0.5)
}

/// log(1 + u), accurate for small u: with w = 1 + u rounded, log(w) · u / (w − 1) (Goldberg's
/// correction of the rounding in w); u itself where w rounds to 1, +∞ at u = +∞. Measured against
/// the double log1p on [0, 5]: ≤ 3 ULP.
@inline(__always) func vlog1p(_ u: VF) -> VF {
    let w = 1 + u
    var r = vlog(w) * (u / (w - 1))
    r.replace(with: u, where: w .== 1)
    r.replace(with: u, where: u .== .infinity)
    return r
}

/// erf(x): x·P(x²) below |x| = 1, else ±(1 − e^(Q(|x|))) with Q fitted to log erfc(t) on [1, 4]
/// (beyond 4, erf rounds to ±1). Least-squares fits on Chebyshev nodes (P of degree 6 in x²,
/// relative error; Q of degree 7, weighted by erfc). Measured against the double erf on [−5, 5]:
/// ≤ 3 ULP (2.3).
@inline(__always) func verf(_ x: VF) -> VF {
    let z = x * x
    var p = VF(repeating: 7.898_449_257e-5)
    p = p * z - 8.024_431_881e-4
    p = p * z + 5.190_063_268e-3
    p = p * z - 2.685_481_496e-2
    p = p * z + 1.128_361_225e-1
    p = p * z - 3.761_262_894e-1
    p = p * z + 1.128_379_226
    let a = vabs(x)
    let t = a.replacing(with: 4, where: a .> 4)
    var q = VF(repeating: -2.179_032_163e-5)
    q = q * t + 4.426_076_775e-4
    q = q * t - 4.211_114_254e-3
    q = q * t + 2.522_662_840e-2
    q = q * t - 1.084_488_481e-1
    q = q * t - 6.331_905_723e-1
    q = q * t - 1.129_593_968
    q = q * t + 1.914_784_953e-4
    let big = 1 - vexp(q)
    let signed = vfloat(vbits(big) | (vbits(x) & VI(repeating: Int32(bitPattern: 0x8000_0000))))
    return signed.replacing(with: x * p, where: a .< 1)
}

/// σ(x) = 1 / (1 + e^(−x)).
@inline(__always) func vsigmoid(_ x: VF) -> VF { 1 / (1 + vexp(-x)) }

/// dst[i] = f(src[i]) for i < n, in whole vectors (the tail padded), split across cores.
@inline(__always)
func vmap(_ n: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, cost: Int = 1, _ f: (VF) -> VF) {
    SIMDParallel.forEachAligned(n, alignment: 1024, costPerItem: cost) { r in
        var i = r.lowerBound
        while i + 16 <= r.upperBound {
            vstore(f(vload(src + i)), dst + i)
            i += 16
        }
        if i < r.upperBound { vstorePartial(f(vloadPartial(src + i, r.upperBound - i)), dst + i, r.upperBound - i) }
    }
}

/// dst[i] = f(a[i], b[i]) for i < n, in whole vectors, split across cores.
@inline(__always)
func vmap2(_ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
           cost: Int = 1, _ f: (VF, VF) -> VF) {
    SIMDParallel.forEachAligned(n, alignment: 1024, costPerItem: cost) { r in
        var i = r.lowerBound
        while i + 16 <= r.upperBound {
            vstore(f(vload(a + i), vload(b + i)), dst + i)
            i += 16
        }
        let m = r.upperBound - i
        if m > 0 { vstorePartial(f(vloadPartial(a + i, m), vloadPartial(b + i, m)), dst + i, m) }
    }
}

/// Σ a[i] for i < n, accumulated in 16 lanes and then as a tree (more accurate than in order).
@inline(__always)
func vsumRow(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = VF(), i = 0
    while i + 16 <= n { acc += vload(a + i); i += 16 }
    if i < n { acc += vloadPartial(a + i, n - i) }
    return vsum(acc)
}
