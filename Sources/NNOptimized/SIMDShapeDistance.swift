import NNCore

/// `cosine_similarity` and `pairwise_distance`: two tensors broadcast together and compared along
/// one dim. A run along the dim is `size` elements `inner` apart (`Slices`): contiguous runs
/// (inner = 1) are reduced with SIMD sums, other runs side by side, a row of `inner` partial
/// sums per step (elementwise across runs, so it vectorizes). Runs are split across cores.
extension Optimized {
    static let simdDistanceOps: [String: OpFunction] = [
        "cosine_similarity": { try .tensor(simdCosineSimilarity(CosineSimilarityCall($0))) },
        "pairwise_distance": { try .tensor(simdPairwiseDistance(PairwiseDistanceCall($0))) },
    ]

    /// The runs along `dim` of `shape` (a 0-dim shape: one run of one element).
    static func slices(_ shape: [Int], dim: Int) -> Slices {
        shape.isEmpty ? (1, 1, 1) : (shape[..<dim].reduce(1, *), shape[dim], shape[(dim + 1)...].reduce(1, *))
    }

    /// A gradient computed over the broadcast `shape`, summed back to `input`'s shape and cast
    /// to its dtype; nil when `input` needs none.
    static func broadcastGradient<T: FloatScalar>(_ d: [T], _ shape: [Int], for input: Tensor) -> Tensor? {
        guard input.requiresGrad else { return nil }
        let summed = sumToShapeFast(d, from: shape, to: input.shape)
        return Tensor(shape: input.shape, data: T.wrap(summed).converted(to: input.dtype))
    }

    // MARK: cosine_similarity

    /// y = Σ_dim u · v with u = x1 / max(‖x1‖, eps), v = x2 / max(‖x2‖, eps), each normalized in
    /// its own dtype (ATen divides before promoting), recorded as `SumBackward1` saving x1, x2.
    /// Backward, with du = g · v: dx1 = du / c + gc · x1 / n (0 when n = 0), where
    /// gc = Σ_run −du · ((x1 / c) / c), n = ‖x1‖ and c = max(n, eps) (the clamp ran under
    /// `no_grad`); likewise for x2.
    static func simdCosineSimilarity(_ call: CosineSimilarityCall) -> Tensor {
        call.dtype == .float32 ? cosineSimilarity(Float.self, call) : cosineSimilarity(Double.self, call)
    }

    private static func cosineSimilarity<T: BLASScalar>(_: T.Type, _ call: CosineSimilarityCall) -> Tensor {
        let s = slices(call.shape, dim: call.dim)
        let a = UnitRuns<T>(call.x1, call, s), b = UnitRuns<T>(call.x2, call, s)
        let y = Tensor(shape: call.outputShape, runDots(a.unit, b.unit, s))
        let saved = [SavedTensor(call.x1), SavedTensor(call.x2)]
        return y.recording("SumBackward1", inputs: [call.x1, call.x2], saving: saved) { g in
            for s in saved { _ = try s.unpack() }
            let gs = floatElements(g, T.self)
            return [call.x1.requiresGrad ? broadcastGradient(a.backward(gs, other: b.unit, s), call.shape, for: call.x1) : nil,
                    call.x2.requiresGrad ? broadcastGradient(b.backward(gs, other: a.unit, s), call.shape, for: call.x2) : nil]
        }
    }

    /// Σ_j a_k · b_k per run.
    private static func runDots<T: BLASScalar>(_ a: [T], _ b: [T], _ s: Slices) -> [T] {
        a.withPointer { ap in
            b.withPointer { bp in
                makeArray(s.outer * s.inner) { y in
                    forEachRunBlock(s) { o, columns in
                        let base = o * s.size * s.inner
                        if s.inner == 1 { y[o] = ConvKernels.dot(ap + base, bp + base, s.size); return }
                        let out = y + o * s.inner
                        for i in columns { out[i] = 0 }
                        for j in 0..<s.size {
                            let ar = ap + base + j * s.inner, br = bp + base + j * s.inner
                            for i in columns { out[i] += ar[i] * br[i] }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body(o, columns)` for every outer index and block of runs side by side (all of
    /// `0..<1` when inner = 1), across cores.
    @inline(__always)
    static func forEachRunBlock(_ s: Slices, _ body: (_ o: Int, _ columns: Range<Int>) -> Void) {
        let block = 512, blocks = (s.inner + block - 1) / block
        SIMDParallel.forEach(s.outer * blocks, costPerItem: s.size * min(s.inner, block) * 4) { r in
            for item in r {
                let (o, b) = item.quotientAndRemainder(dividingBy: blocks)
                body(o, b * block ..< min((b + 1) * block, s.inner))
            }
        }
    }

    /// One input of `cosine_similarity` expanded to the broadcast shape, in T, with its runs'
    /// norms n (unclamped), c = max(n, eps), and u = x / c (computed in the input's own dtype).
    private struct UnitRuns<T: BLASScalar> {
        let values: [T], norms: [T], clamped: [T], unit: [T]

        init(_ x: Tensor, _ call: CosineSimilarityCall, _ s: Slices) {
            values = expanded(x, to: call.shape, T.self)
            let own = x.dtype.isFloatingPoint ? x.dtype : call.dtype
            if own == T.dtype {
                (norms, clamped, unit) = UnitRuns.normalize(values, s, T(call.eps))
            } else if own == .float32 {
                let (n, c, u) = UnitRuns<Float>.normalize(expanded(x, to: call.shape, Float.self), s, Float(call.eps))
                (norms, clamped, unit) = (n.map { T($0) }, c.map { T($0) }, u.map { T($0) })
            } else {
                let (n, c, u) = UnitRuns<Double>.normalize(expanded(x, to: call.shape, Double.self), s, call.eps)
                (norms, clamped, unit) = (n.map { T($0) }, c.map { T($0) }, u.map { T($0) })
            }
        }

        /// The runs' ‖x‖₂ = √(Σ x²), c = max(‖x‖, eps) (a NaN norm stays NaN), and x / c.
        static func normalize(_ x: [T], _ s: Slices, _ eps: T) -> ([T], [T], [T]) {
            let norms = runDots(x, x, s).map { $0.squareRoot() }
            let clamped = norms.map { $0 < eps ? eps : $0 }
            let unit: [T] = x.withPointer { xp in
                clamped.withPointer { cp in
                    makeArray(x.count) { u in
                        forEachRunBlock(s) { o, columns in
                            for j in 0..<s.size {
                                let k = (o * s.size + j) * s.inner, r = o * s.inner
                                for i in columns { u[k + i] = xp[k + i] / cp[r + i] }
                            }
                        }
                    }
                }
            }
            return (norms, clamped, unit)
        }

        /// dx from g and the other input's unit vectors (see `simdCosineSimilarity`).
        func backward(_ g: [T], other: [T], _ s: Slices) -> [T] {
            values.withPointer { xp in
                other.withPointer { vp in
                    g.withPointer { gp in
                        norms.withPointer { np in
                            clamped.withPointer { cp in
                                makeArray(values.count) { dx in
                                    forEachRunBlock(s) { o, columns in
                                        let w = columns.count, r0 = o * s.inner + columns.lowerBound
                                        let base = o * s.size * s.inner + columns.lowerBound
                                        withUnsafeTemporaryAllocation(of: T.self, capacity: w) { buffer in
                                            let gc = buffer.baseAddress!
                                            gc.initialize(repeating: 0, count: w)
                                            // gc = Σ −du · ((x / c) / c), the terms written to dx first when a run is contiguous.
                                            for j in 0..<s.size {
                                                let k = base + j * s.inner
                                                for i in 0..<w {
                                                    let c = cp[r0 + i], term = -(gp[r0 + i] * vp[k + i]) * ((xp[k + i] / c) / c)
                                                    if s.inner == 1 { dx[k + i] = term } else { gc[i] += term }
                                                }
                                            }
                                            if s.inner == 1 { gc[0] = ConvKernels.sum(dx + base, s.size) }
                                            for j in 0..<s.size {
                                                let k = base + j * s.inner
                                                for i in 0..<w {
                                                    let c = cp[r0 + i], n = np[r0 + i]
                                                    dx[k + i] = (gp[r0 + i] * vp[k + i]) / c + gc[i] * (n == 0 ? 0 : xp[k + i] / n)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: pairwise_distance

    /// y = ‖x1 − x2 + eps‖_p along the last dim of the broadcast shape, as ATen's norm kernels
    /// accumulate it: Σ|d| (p = 1), √(Σ d²) (p = 2), max |d| (p = ∞), min |d| (p = −∞), the
    /// count of non-zeros (p = 0), else (Σ |d|^p)^(1/p); a NaN propagates through max and min.
    /// Recorded as `NormBackward1` saving the output; the backward is ATen's `norm_backward`
    /// (`VectorNorms.gradient`), to x1 and, negated, to x2.
    static func simdPairwiseDistance(_ call: PairwiseDistanceCall) -> Tensor {
        call.dtype == .float32 ? pairwiseDistance(Float.self, call) : pairwiseDistance(Double.self, call)
    }

    private static func pairwiseDistance<T: BLASScalar>(_: T.Type, _ call: PairwiseDistanceCall) -> Tensor {
        let shape = call.shape, eps = T(call.eps), p = call.p
        let a = expanded(call.x1, to: shape, T.self), b = expanded(call.x2, to: shape, T.self)
        let difference: [T] = a.withPointer { ap in
            b.withPointer { bp in
                makeArray(a.count) { d in
                    SIMDParallel.forEach(a.count, costPerItem: 1) { r in for i in r { d[i] = ap[i] - bp[i] + eps } }
                }
            }
        }
        let size = shape.last ?? 1, rows = shape.isEmpty ? 1 : shape.dropLast().reduce(1, *)
        let norms: [T] = difference.withPointer { dp in
            makeArray(rows) { y in
                SIMDParallel.forEach(rows, costPerItem: size * (p == 1 || p == 2 ? 1 : 20)) { r in
                    for row in r { y[row] = VectorNorms.norm(dp + row * size, size, p) }
                }
            }
        }
        let y = Tensor(shape: call.outputShape, norms)
        let saved = SavedTensor(output: y, of: "NormBackward1")
        return y.recording("NormBackward1", inputs: [call.x1, call.x2], saving: [saved]) { g in
            _ = try saved.unpack()
            if p == 0 && rows > 0 { return [nil, nil] }  // the gradient of a count is undefined
            let gs = floatElements(g, T.self)
            let dd: [T] = difference.withPointer { dp in
                makeArray(difference.count) { out in
                    SIMDParallel.forEach(rows, costPerItem: size * 20) { r in
                        for row in r { VectorNorms.gradient(dp + row * size, size, norm: norms[row], gs[row], p, into: out + row * size) }
                    }
                }
            }
            return [broadcastGradient(dd, shape, for: call.x1), broadcastGradient(dd.map { -$0 }, shape, for: call.x2)]
        }
    }
}

/// p-norms of contiguous rows and their gradients, as ATen computes them.
enum VectorNorms {
    /// ‖v‖_p of `v[0..<n]`.
    static func norm<T: BLASScalar>(_ v: UnsafePointer<T>, _ n: Int, _ p: Double) -> T {
        switch p {
        case 1: return laneSum(n) { abs(v[$0]) }
        case 2: return ConvKernels.dot(v, v, n).squareRoot()
        case .infinity:
            var m: T = 0
            for i in 0..<n where !m.isNaN && !(abs(v[i]) <= m) { m = abs(v[i]) }
            return m
        case -.infinity:
            var m = T.infinity
            for i in 0..<n where !m.isNaN && !(abs(v[i]) >= m) { m = abs(v[i]) }
            return m
        case 0: return laneSum(n) { v[$0] != 0 ? 1 : 0 }
        default:
            let q = T(p)
            return T.pow(laneSum(n) { T.pow(abs(v[$0]), q) }, 1 / q)
        }
    }

    /// ATen's `norm_backward` for p ≠ 0: out_i = g · ∂‖v‖_p/∂v_i given n = ‖v‖_p, with
    /// sgn(NaN) = 0:
    ///
    ///     p = 1:      sgn(v_i) · g
    ///     p = 2:      g · (v_i / n)                          (0 when n = 0)
    ///     p = ±∞:     sgn(v_i) · (g / m) · [|v_i| = n or NaN], m the number of such i
    ///     p < 1:      sgn(v_i) · |v_i|^(p−1) · g · n^(1−p)     (0 where v_i = 0)
    ///     otherwise:  sgn(v_i) · |v_i|^(p−1) · g / n^(p−1)     (0 when n = 0)
    static func gradient<T: BLASScalar>(_ v: UnsafePointer<T>, _ n: Int, norm: T, _ g: T, _ p: Double,
                                        into out: UnsafeMutablePointer<T>) {
        @inline(__always) func sgn(_ x: T) -> T { x > 0 ? 1 : x < 0 ? -1 : 0 }
        let scale = norm == 0 ? 0 : g / T.pow(norm, T(p - 1))
        switch p {
        case 1: for i in 0..<n { out[i] = sgn(v[i]) * g }
        case 2: for i in 0..<n { out[i] = g * (norm == 0 ? 0 : v[i] / norm) }
        case _ where p.isInfinite:
            var m = 0
            for i in 0..<n where abs(v[i]) == norm || v[i].isNaN { m += 1 }
            let share = g / T(m)
            for i in 0..<n { out[i] = sgn(v[i]) * (abs(v[i]) == norm || v[i].isNaN ? share : 0) }
        case _ where p < 1:
            let power = T.pow(norm, T(1 - p))
            for i in 0..<n { out[i] = sgn(v[i]) * (v[i] == 0 ? 0 : T.pow(abs(v[i]), T(p - 1))) * g * power }
        case _ where p < 2: for i in 0..<n { out[i] = sgn(v[i]) * T.pow(abs(v[i]), T(p - 1)) * scale }
        default: for i in 0..<n { out[i] = v[i] * T.pow(abs(v[i]), T(p - 2)) * scale }
        }
    }
}

/// Σ f(i) for i < n, accumulated in 8 lanes (then added as a tree, and the tail in order).
@inline(__always)
func laneSum<T: BLASScalar>(_ n: Int, _ f: (Int) -> T) -> T {
    var acc = SIMD8<T>(), i = 0
    while i + 8 <= n {
        acc += SIMD8(f(i), f(i + 1), f(i + 2), f(i + 3), f(i + 4), f(i + 5), f(i + 6), f(i + 7))
        i += 8
    }
    var s = acc.sum()
    while i < n { s += f(i); i += 1 }
    return s
}
