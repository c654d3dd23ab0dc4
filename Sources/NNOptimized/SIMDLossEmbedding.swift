import NNCore

/// Embedding losses over the rows (last dim) of their inputs, composites recorded as one node
/// named as PyTorch's last op before the reduction: `cosine_embedding_loss`,
/// `triplet_margin_loss` (joining `simdLossMarginOps`). Rows run in parallel; float32 rows are
/// reduced in 16 lanes (another order than the reference's, within the losses' tolerance).
extension Optimized {
    static let simdLossEmbeddingOps: [String: OpFunction] = [
        "cosine_embedding_loss": { try .tensor(simdCosineEmbeddingLoss(CosineEmbeddingCall($0))) },
        "triplet_margin_loss": { try .tensor(simdTripletMarginLoss(TripletMarginCall($0))) },
    ]

    /// `values` over `from` broadcast to `shape`.
    static func spread<T: FloatScalar>(_ values: [T], from: [Int], to shape: [Int]) -> [T] {
        from == shape ? values : expanded(Tensor(shape: from, values), to: shape, T.self)
    }

    // MARK: cosine_embedding_loss

    /// Per row r: cos = Σ a·b / sqrt((Σ a·a + ε)(Σ b·b + ε)), ε = 1e-12 (ATen's float constant);
    /// ℓ = [y = 1] · (1 − cos) + [y = −1] · max(cos − margin, 0) (`AddBackward0`).
    /// Backward, with D = sqrt(m1 m2): dcos = −u (y = 1), u where the clamp passed (y = −1);
    /// dprod = dcos / D, dm = −dcos · (prod / D) / D / (2D); da = dprod · b + 2 · dm · m2 · a (db alike).
    static func simdCosineEmbeddingLoss(_ call: CosineEmbeddingCall) -> Tensor {
        call.dtype == .float32 ? cosineEmbedding(Float.self, call) : cosineEmbedding(Double.self, call)
    }

    private static func cosineEmbedding<T: FloatScalar>(_: T.Type, _ call: CosineEmbeddingCall) -> Tensor {
        let pair = call.pairShape, width = pair.last ?? 1, rowShape = Array(pair.dropLast()), rows = rowShape.reduce(1, *)
        let a = expanded(call.input1, to: pair, T.self), b = expanded(call.input2, to: pair, T.self)
        let epsilon = T(Double(Float(1e-12))), margin = T(call.margin)
        // (Σ a·b, Σ a·a + ε, Σ b·b + ε) per row, interleaved.
        let sums: [T] = a.withPointer { ap in b.withPointer { bp in
            makeArray(3 * rows) { out in
                SIMDParallel.forEach(rows, costPerItem: 3 * width) { r in
                    for row in r {
                        let (u, v) = (ap + row * width, bp + row * width)
                        var p: T = 0, m1: T = 0, m2: T = 0
                        if T.self == Float.self {
                            var (pv, m1v, m2v) = (VF(), VF(), VF())
                            var k = 0
                            while k < width {
                                let m = min(16, width - k), (uv, vv) = (lanes(u.float, k, m), lanes(v.float, k, m))
                                pv += uv * vv
                                m1v += uv * uv
                                m2v += vv * vv
                                k += 16
                            }
                            (p, m1, m2) = (T(vsum(pv)), T(vsum(m1v)), T(vsum(m2v)))
                        } else {
                            for k in 0..<width { p += u[k] * v[k]; m1 += u[k] * u[k]; m2 += v[k] * v[k] }
                        }
                        (out[3 * row], out[3 * row + 1], out[3 * row + 2]) = (p, m1 + epsilon, m2 + epsilon)
                    }
                }
            }
        } }
        let denominators = (0..<rows).map { r -> T in (sums[3 * r + 1] * sums[3 * r + 2]).squareRoot() }
        let shape = call.shape, y = labelCodes(call.target, to: shape, T.self)
        let cosines = spread((0..<rows).map { r -> T in sums[3 * r] / denominators[r] }, from: rowShape, to: shape)
        let losses = cosines.indices.map { k -> T in
            let (c, yk) = (cosines[k], y[k])
            return (yk == 1 ? 1 - c : 0) + (yk == -1 ? (c - margin < 0 ? 0 : c - margin) : 0)
        }
        return recordLossNode(call.node, losses, shape: shape, reduction: call.reduction) { u in
            let dCosines = cosines.indices.map { k -> T in
                let (c, yk) = (cosines[k], y[k])
                return (yk == 1 ? -u[k] : 0) + (yk == -1 && c - margin >= 0 ? u[k] : 0)
            }
            let dCos = sumToShapeFast(dCosines, from: shape, to: rowShape)
            // Per row: (d prod / D, d m1, d m2), each input's gradient is dprod · other + 2 · dm · self.
            let factors = (0..<rows).map { r -> (T, T, T) in
                let d = denominators[r], (p, s1, s2) = (sums[3 * r], sums[3 * r + 1], sums[3 * r + 2])
                let dSquares = -dCos[r] * (p / d / d) / (2 * d)
                return (dCos[r] / d, dSquares * s2, dSquares * s1)
            }
            func rowGradient(_ mine: [T], _ other: [T], first: Bool) -> [T] {
                mine.withPointer { sp in other.withPointer { op in
                    makeArray(rows * width) { out in
                        SIMDParallel.forEach(rows, costPerItem: 2 * width) { r in
                            for row in r {
                                let (dProduct, dm1, dm2) = factors[row], dm = first ? dm1 : dm2, base = row * width
                                if T.self == Float.self {
                                    let (fp, fm) = (VF(repeating: Float(dProduct)), VF(repeating: Float(dm)))
                                    var k = 0
                                    while k < width {
                                        let m = min(16, width - k), s = lanes(sp.float, base + k, m)
                                        let g = fp * lanes(op.float, base + k, m) + (fm * s + fm * s)
                                        if m == 16 { vstore(g, out.float + base + k) } else { vstorePartial(g, out.float + base + k, m) }
                                        k += 16
                                    }
                                } else {
                                    for k in base..<(base + width) { out[k] = dProduct * op[k] + (dm * sp[k] + dm * sp[k]) }
                                }
                            }
                        }
                    }
                } }
            }
            return [lossGradient(call.input1, pair) { rowGradient(a, b, first: true) },
                    lossGradient(call.input2, pair) { rowGradient(b, a, first: false) }]
        }
    }

    // MARK: triplet_margin_loss

    /// ℓ = max(margin + d(a, p) − d(a, n), 0) (`ClampMinBackward0`) with the pairwise distance
    /// d(u, v) = ‖u − v + eps‖_p over the last dim; with `swap`, d(a, n) becomes
    /// min(d(a, n), d(p, n)) (a tie sends half the gradient each way, as `minimum` does).
    static func simdTripletMarginLoss(_ call: TripletMarginCall) throws -> Tensor {
        call.dtype == .float32 ? try triplet(Float.self, call) : try triplet(Double.self, call)
    }

    private static func triplet<T: FloatScalar>(_: T.Type, _ call: TripletMarginCall) throws -> Tensor {
        let positive = try RowDistance<T>(call.anchor, call.positive, call)
        let negative = try RowDistance<T>(call.anchor, call.negative, call)
        let swapped = call.swap ? try RowDistance<T>(call.positive, call.negative, call) : nil
        // The distance to the negative: d(a, n), or the smaller of d(a, n) and d(p, n).
        let nearShape = try swapped.map { try broadcastShapes(negative.shape, $0.shape) } ?? negative.shape
        let toNegative = spread(negative.values, from: negative.shape, to: nearShape)
        let toSwapped = swapped.map { spread($0.values, from: $0.shape, to: nearShape) }
        let near = toSwapped.map { s in toNegative.indices.map { min(toNegative[$0], s[$0]) } } ?? toNegative

        let shape = try broadcastShapes(positive.shape, nearShape), margin = T(call.margin)
        let (dp, dn) = (spread(positive.values, from: positive.shape, to: shape), spread(near, from: nearShape, to: shape))
        let unclamped = dp.indices.map { dp[$0] + margin - dn[$0] }
        let losses = unclamped.map { $0 < 0 ? 0 : $0 }
        return recordLossNode(call.node, losses, shape: shape, reduction: call.reduction) { u in
            let passed = unclamped.indices.map { unclamped[$0] >= 0 ? u[$0] : 0 }
            let dPositive = sumToShapeFast(passed, from: shape, to: positive.shape)
            let dNear = sumToShapeFast(passed.map { -$0 }, from: shape, to: nearShape)
            var dNegative = dNear, dSwapped = [T](repeating: 0, count: dNear.count)
            if let toSwapped {
                for k in dNear.indices {
                    let (n, s) = (toNegative[k], toSwapped[k]), share = n == s ? dNear[k] / 2 : dNear[k]
                    dNegative[k] = n > s ? 0 : share
                    dSwapped[k] = s > n ? 0 : share
                }
            }
            var (da, dpos, dneg) = (Accumulated<T>(call.anchor), Accumulated<T>(call.positive), Accumulated<T>(call.negative))
            positive.backward(dPositive, into: &da, &dpos)
            negative.backward(sumToShapeFast(dNegative, from: nearShape, to: negative.shape), into: &da, &dneg)
            if let swapped { swapped.backward(sumToShapeFast(dSwapped, from: nearShape, to: swapped.shape), into: &dpos, &dneg) }
            return [da.tensor, dpos.tensor, dneg.tensor]
        }
    }

    /// A gradient accumulated from several broadcast shapes into one input.
    private struct Accumulated<T: FloatScalar> {
        let input: Tensor
        var values: [T]
        init(_ input: Tensor) { (self.input, values) = (input, input.requiresGrad ? [T](repeating: 0, count: input.numel) : []) }
        mutating func add(_ d: [T], from shape: [Int], negated: Bool) {
            guard input.requiresGrad else { return }
            let summed = sumToShapeFast(d, from: shape, to: input.shape)
            if negated { for i in values.indices { values[i] -= summed[i] } } else { for i in values.indices { values[i] += summed[i] } }
        }
        var tensor: Tensor? { input.requiresGrad ? Tensor(shape: input.shape, data: T.wrap(values).converted(to: input.dtype)) : nil }
    }

    /// `pairwise_distance(u, v, p, eps)`: ‖u − v + eps‖_p over the last dim of the broadcast
    /// shape, rows in parallel, and its backward (ATen's `norm_backward`).
    private struct RowDistance<T: FloatScalar> {
        let shape: [Int], pairShape: [Int]
        let differences: [T], values: [T]
        let p: Double

        init(_ u: Tensor, _ v: Tensor, _ call: TripletMarginCall) throws {
            pairShape = try broadcastShapes(u.shape, v.shape)
            shape = Array(pairShape.dropLast())
            p = call.p
            let (us, vs) = (expanded(u, to: pairShape, T.self), expanded(v, to: pairShape, T.self))
            let count = pairShape.reduce(1, *), eps = T(call.eps), epsV = VF(repeating: Float(call.eps))
            differences = us.withPointer { up in vs.withPointer { vp in
                lossMap(count, cost: 1, vector: { i, m in lanes(up.float, i, m) - lanes(vp.float, i, m) + epsV },
                        scalar: { k in up[k] - vp[k] + eps })
            } }
            let width = pairShape.last!, rows = shape.reduce(1, *), p = call.p
            values = differences.withPointer { dp in
                makeArray(rows) { out in
                    SIMDParallel.forEach(rows, costPerItem: 2 * width) { r in
                        for row in r { out[row] = RowDistance.norm(dp + row * width, width, p) }
                    }
                }
            }
        }

        /// ‖v‖_p: Σ|v| (p = 1), sqrt(Σ v²) (p = 2) in 16 lanes for float32; max |v| (∞), min |v|
        /// (−∞), the count of non-zeros (p = 0), else (Σ |v|^p)^(1/p), as the reference.
        static func norm(_ v: UnsafePointer<T>, _ width: Int, _ p: Double) -> T {
            if T.self == Float.self && (p == 1 || p == 2) {
                var acc = VF(), k = 0
                while k < width {
                    let x = lanes(v.float, k, min(16, width - k))
                    acc += p == 1 ? vabs(x) : x * x
                    k += 16
                }
                let s = T(vsum(acc))
                return p == 1 ? s : s.squareRoot()
            }
            let row = UnsafeBufferPointer(start: v, count: width)
            switch p {
            case 1: return row.reduce(0) { $0 + abs($1) }
            case 2: return row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            case .infinity: return row.reduce(0) { max($0, abs($1)) }
            case -.infinity: return row.reduce(T.infinity) { min($0, abs($1)) }
            case 0: return row.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            default: return T.pow(row.reduce(0) { $0 + T.pow(abs($1), T(p)) }, 1 / T(p))
            }
        }

        /// Row gradients g (over `shape`) → d(u − v) by `norm_backward`, added to u and, negated, to v.
        func backward(_ g: [T], into du: inout Accumulated<T>, _ dv: inout Accumulated<T>) {
            guard du.input.requiresGrad || dv.input.requiresGrad else { return }
            let width = pairShape.last!, p = self.p
            let d: [T] = differences.withPointer { xp in
                makeArray(differences.count) { out in
                    SIMDParallel.forEach(g.count, costPerItem: 4 * width) { r in
                        for row in r {
                            let (x, o, n, gr) = (xp + row * width, out + row * width, values[row], g[row])
                            if T.self == Float.self && (p == 1 || p == 2) {
                                // p = 1: sgn(x)·g (0 at 0, NaN stays NaN); p = 2: g·(x / n), 0 when n = 0.
                                let (nv, gv, zero) = (VF(repeating: Float(n)), VF(repeating: Float(gr)), VF())
                                var k = 0
                                while k < width {
                                    let m = min(16, width - k), xv = lanes(x.float, k, m)
                                    let sgn = xv.replacing(with: 1, where: xv .> zero).replacing(with: -1, where: xv .< zero)
                                    let dv = p == 1 ? sgn * gv : gv * (n == 0 ? zero : xv / nv)
                                    if m == 16 { vstore(dv, o.float + k) } else { vstorePartial(dv, o.float + k, m) }
                                    k += 16
                                }
                                continue
                            }
                            let ties = p.isInfinite ? T((0..<width).filter { abs(x[$0]) == n || x[$0].isNaN }.count) : 1
                            for k in 0..<width {
                                let xk = x[k], sgn: T = xk > 0 ? 1 : xk < 0 ? -1 : xk
                                switch p {
                                case 0: o[k] = 0
                                case 1: o[k] = sgn * gr
                                case 2: o[k] = gr * (n == 0 ? 0 : xk / n)
                                case _ where p.isInfinite: o[k] = sgn * (gr / ties * (abs(xk) == n || xk.isNaN ? 1 : 0))
                                case _ where p < 1: o[k] = sgn * (xk == 0 ? 0 : T.pow(abs(xk), T(p - 1))) * gr * T.pow(n, T(1 - p))
                                case _ where p < 2: o[k] = sgn * T.pow(abs(xk), T(p - 1)) * (n == 0 ? 0 : gr / T.pow(n, T(p - 1)))
                                default: o[k] = xk * T.pow(abs(xk), T(p - 2)) * (n == 0 ? 0 : gr / T.pow(n, T(p - 1)))
                                }
                            }
                        }
                    }
                }
            }
            du.add(d, from: pairShape, negated: false)
            dv.add(d, from: pairShape, negated: true)
        }
    }
}
