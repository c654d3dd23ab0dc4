import NNCore
import RealModule

/// Embedding losses over the rows (last dim) of their inputs: `cosine_embedding_loss` and
/// `triplet_margin_loss`, both composites ending in `mean` / `sum`.
extension Reference {
    // MARK: cosine_embedding_loss

    /// Per row r: cos = Σ a·b / sqrt((Σ a·a + ε)(Σ b·b + ε)), ε = 1e-12 (ATen's float constant);
    /// ℓ = [y = 1] · (1 − cos) + [y = −1] · max(cos − margin, 0) (`AddBackward0`).
    /// Backward, with D = sqrt(m1 m2): dcos = −g (y = 1), g where the clamp passed (y = −1);
    /// dprod = dcos / D, dD = −dcos · (prod / D) / D, dm = dD / (2D); da = dprod · b + 2 · dm1 · a.
    static func cosineEmbeddingLoss(_ call: CosineEmbeddingCall) throws -> Tensor {
        call.dtype == .float32 ? try cosineEmbedding(Float.self, call) : try cosineEmbedding(Double.self, call)
    }

    private static func cosineEmbedding<T: FloatScalar>(_: T.Type, _ call: CosineEmbeddingCall) throws -> Tensor {
        let pair = call.pairShape, width = pair.last ?? 1, rowShape = Array(pair.dropLast())
        let (a, b) = (elements(call.input1, T.self), elements(call.input2, T.self))
        let ia = broadcastIndices(from: call.input1.shape, to: pair), ib = broadcastIndices(from: call.input2.shape, to: pair)
        let epsilon = T(Double(Float(1e-12))), margin = T(call.margin)
        var products = [T](), squares1 = [T](), squares2 = [T]()
        for r in 0..<rowShape.reduce(1, *) {
            var (p, m1, m2): (T, T, T) = (0, 0, 0)
            for k in (r * width)..<(r * width + width) {
                let (u, v) = (a[ia[k]], b[ib[k]])
                p += u * v
                m1 += u * u
                m2 += v * v
            }
            products.append(p)
            squares1.append(m1 + epsilon)
            squares2.append(m2 + epsilon)
        }
        let denominators = products.indices.map { (squares1[$0] * squares2[$0]).squareRoot() }
        let cosines = products.indices.map { products[$0] / denominators[$0] }
        let shape = call.shape, y = call.target.doubles
        let ir = broadcastIndices(from: rowShape, to: shape), iy = broadcastIndices(from: call.target.shape, to: shape)
        let loss = ir.indices.map { k -> T in
            let (c, yk) = (cosines[ir[k]], y[iy[k]])
            return (yk == 1 ? 1 - c : 0) + (yk == -1 ? (c - margin < 0 ? 0 : c - margin) : 0)
        }
        return try compositeLoss(loss, shape: shape, call.reduction, call.node) { g in
            var dCos = [T](repeating: 0, count: cosines.count)
            for k in g.indices {
                let (c, yk) = (cosines[ir[k]], y[iy[k]])
                dCos[ir[k]] += (yk == 1 ? -g[k] : 0) + (yk == -1 && c - margin >= 0 ? g[k] : 0)
            }
            var da = [T](), db = [T]()
            for r in cosines.indices {
                let d = denominators[r], dProduct = dCos[r] / d
                let dSquares = -dCos[r] * (products[r] / d / d) / (2 * d)
                let (dm1, dm2) = (dSquares * squares2[r], dSquares * squares1[r])
                for k in (r * width)..<(r * width + width) {
                    let (u, v) = (a[ia[k]], b[ib[k]])
                    da.append(dProduct * v + (dm1 * u + dm1 * u))
                    db.append(dProduct * u + (dm2 * v + dm2 * v))
                }
            }
            return [gradient(da, pair, for: call.input1), gradient(db, pair, for: call.input2)]
        }
    }

    // MARK: triplet_margin_loss

    /// ℓ = max(margin + d(a, p) − d(a, n), 0) (`ClampMinBackward0`) with the pairwise distance
    /// d(u, v) = ‖u − v + eps‖_p over the last dim; with `swap`, d(a, n) becomes
    /// min(d(a, n), d(p, n)) (a tie sends half the gradient each way, as `minimum` does).
    static func tripletMarginLoss(_ call: TripletMarginCall) throws -> Tensor {
        call.dtype == .float32 ? try triplet(Float.self, call) : try triplet(Double.self, call)
    }

    private static func triplet<T: FloatScalar>(_: T.Type, _ call: TripletMarginCall) throws -> Tensor {
        let positive = try PairDistance<T>(call.anchor, call.positive, call)
        let negative = try PairDistance<T>(call.anchor, call.negative, call)
        let swapped = call.swap ? try PairDistance<T>(call.positive, call.negative, call) : nil
        // The distance to the negative: d(a, n), or the smaller of d(a, n) and d(p, n).
        let nearShape = try swapped.map { try broadcastShapes(negative.shape, $0.shape) } ?? negative.shape
        let inNegative = broadcastIndices(from: negative.shape, to: nearShape)
        let inSwapped = swapped.map { broadcastIndices(from: $0.shape, to: nearShape) }
        let near = inNegative.indices.map { k in swapped.map { min(negative.values[inNegative[k]], $0.values[inSwapped![k]]) }
            ?? negative.values[inNegative[k]] }

        let shape = try broadcastShapes(positive.shape, nearShape), margin = T(call.margin)
        let ip = broadcastIndices(from: positive.shape, to: shape), iq = broadcastIndices(from: nearShape, to: shape)
        let unclamped = ip.indices.map { positive.values[ip[$0]] + margin - near[iq[$0]] }
        return try compositeLoss(unclamped.map { $0 < 0 ? 0 : $0 }, shape: shape, call.reduction, call.node) { g in
            let passed = g.indices.map { unclamped[$0] >= 0 ? g[$0] : 0 }
            let dPositive = sumToShape(passed, from: shape, to: positive.shape)
            let dNear = sumToShape(passed.map { -$0 }, from: shape, to: nearShape)
            var dNegative = [T](repeating: 0, count: nearShape.reduce(1, *)), dSwapped = dNegative
            for k in dNear.indices {
                guard let swapped, let inSwapped else { dNegative[k] = dNear[k]; continue }
                let (n, s) = (negative.values[inNegative[k]], swapped.values[inSwapped[k]])
                let share = n == s ? dNear[k] / 2 : dNear[k]
                dNegative[k] = n > s ? 0 : share
                dSwapped[k] = s > n ? 0 : share
            }
            var (da, dp, dn) = (Gradient<T>(call.anchor), Gradient<T>(call.positive), Gradient<T>(call.negative))
            positive.backward(dPositive, into: &da, &dp)
            negative.backward(sumToShape(dNegative, from: nearShape, to: negative.shape), into: &da, &dn)
            swapped?.backward(sumToShape(dSwapped, from: nearShape, to: swapped!.shape), into: &dp, &dn)
            return [da.tensor, dp.tensor, dn.tensor]
        }
    }

    /// A gradient accumulated from several broadcast shapes into one input.
    private struct Gradient<T: FloatScalar> {
        let input: Tensor
        var values: [T]
        init(_ input: Tensor) { (self.input, values) = (input, [T](repeating: 0, count: input.numel)) }
        mutating func add(_ d: [T], from shape: [Int]) {
            for (i, v) in sumToShape(d, from: shape, to: input.shape).enumerated() { values[i] += v }
        }
        var tensor: Tensor? { input.requiresGrad ? Tensor(shape: input.shape, data: T.wrap(values).converted(to: input.dtype)) : nil }
    }

    /// `pairwise_distance(u, v, p, eps)`: ‖u − v + eps‖_p over the last dim of their broadcast
    /// shape, and its backward (ATen's `norm_backward`).
    private struct PairDistance<T: FloatScalar> {
        let shape: [Int], pairShape: [Int]
        let differences: [T], values: [T]
        let p: Double

        init(_ u: Tensor, _ v: Tensor, _ call: TripletMarginCall) throws {
            pairShape = try broadcastShapes(u.shape, v.shape)
            shape = Array(pairShape.dropLast())
            p = call.p
            let (us, vs) = (Reference.elements(u, T.self), Reference.elements(v, T.self))
            let iu = broadcastIndices(from: u.shape, to: pairShape), iv = broadcastIndices(from: v.shape, to: pairShape)
            let eps = T(call.eps)
            differences = iu.indices.map { us[iu[$0]] - vs[iv[$0]] + eps }
            let width = pairShape.last!, rows = differences
            values = (0..<shape.reduce(1, *)).map { r in PairDistance.norm(Array(rows[(r * width)..<(r * width + width)]), call.p) }
        }

        /// ‖v‖_p: Σ|v| (p = 1), sqrt(Σ v²) (p = 2), max |v| (∞), min |v| (−∞), the count of
        /// non-zeros (p = 0), else (Σ |v|^p)^(1/p), accumulated in T as ATen's norm kernels do.
        static func norm(_ v: [T], _ p: Double) -> T {
            switch p {
            case 1: return v.reduce(0) { $0 + abs($1) }
            case 2: return v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            case .infinity: return v.reduce(0) { max($0, abs($1)) }
            case -.infinity: return v.reduce(T.infinity) { min($0, abs($1)) }
            case 0: return v.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            default: return T.pow(v.reduce(0) { $0 + T.pow(abs($1), T(p)) }, 1 / T(p))
            }
        }

        /// Row gradients g (over `shape`) → d(u − v) by `norm_backward`, added to u and, negated, to v.
        func backward(_ g: [T], into du: inout Gradient<T>, _ dv: inout Gradient<T>) {
            let width = pairShape.last!
            var d = [T]()
            for r in g.indices {
                let row = differences[(r * width)..<(r * width + width)], n = values[r], gr = g[r]
                let ties = T(row.filter { abs($0) == n || $0.isNaN }.count)
                for x in row {
                    let sgn = Reference.sign(x)
                    switch p {
                    case 0: d.append(0)
                    case 1: d.append(sgn * gr)
                    case 2: d.append(gr * (n == 0 ? 0 : x / n))
                    case _ where p.isInfinite: d.append(sgn * (gr / ties * (abs(x) == n || x.isNaN ? 1 : 0)))
                    case _ where p < 1: d.append(sgn * (x == 0 ? 0 : T.pow(abs(x), T(p - 1))) * gr * T.pow(n, T(1 - p)))
                    case _ where p < 2: d.append(sgn * T.pow(abs(x), T(p - 1)) * (n == 0 ? 0 : gr / T.pow(n, T(p - 1))))
                    default: d.append(x * T.pow(abs(x), T(p - 2)) * (n == 0 ? 0 : gr / T.pow(n, T(p - 1))))
                    }
                }
            }
            du.add(d, from: pairShape)
            dv.add(d.map { -$0 }, from: pairShape)
        }
    }
}
