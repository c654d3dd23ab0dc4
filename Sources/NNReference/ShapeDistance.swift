import NNCore
import RealModule

/// Vector norms and the two ops comparing tensors along a dim: `cosine_similarity` and
/// `pairwise_distance`.
enum VectorNorm {
    /// ‖v‖_p as ATen's norm kernels accumulate it in T: Σ|v| (p = 1), √(Σ v²) (p = 2),
    /// max |v| (p = ∞), min |v| (p = −∞), the count of non-zeros (p = 0), else (Σ |v|^p)^(1/p).
    /// A NaN propagates through max and min.
    static func norm<T: FloatScalar>(_ v: some Collection<T>, _ p: Double) -> T {
        switch p {
        case 1: return v.reduce(0) { $0 + abs($1) }
        case 2: return v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        case .infinity: return v.reduce(0) { $0.isNaN || abs($1) <= $0 ? $0 : abs($1) }
        case -.infinity: return v.reduce(T.infinity) { $0.isNaN || abs($1) >= $0 ? $0 : abs($1) }
        case 0: return v.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        default: return T.pow(v.reduce(0) { $0 + T.pow(abs($1), T(p)) }, 1 / T(p))
        }
    }

    /// ATen's `norm_backward`: g · ∂‖v‖_p/∂v_i for each i, given n = ‖v‖_p, with sgn(NaN) = 0:
    ///
    ///     p = 1:      sgn(v_i) · g
    ///     p = 2:      g · (v_i / n)                          (0 when n = 0)
    ///     p = ±∞:     sgn(v_i) · (g / m) · [|v_i| = n or NaN], m the number of such i
    ///     p < 1:      sgn(v_i) · |v_i|^(p−1) · g · n^(1−p)     (0 where v_i = 0)
    ///     otherwise:  sgn(v_i) · |v_i|^(p−1) · g / n^(p−1)     (0 when n = 0)
    ///
    /// and nil for p = 0, whose gradient is undefined (PyTorch leaves `.grad` None).
    static func gradient<T: FloatScalar>(_ v: some Collection<T>, norm n: T, _ g: T, _ p: Double) -> [T]? {
        func sgn(_ x: T) -> T { x > 0 ? 1 : x < 0 ? -1 : 0 }
        let scale = n == 0 ? 0 : g / T.pow(n, T(p - 1))
        switch p {
        case 0: return nil
        case 1: return v.map { sgn($0) * g }
        case 2: return v.map { g * (n == 0 ? 0 : $0 / n) }
        case _ where p.isInfinite:
            let selected = v.map { abs($0) == n || $0.isNaN }
            let share = g / T(selected.filter { $0 }.count)
            return zip(v, selected).map { x, s in sgn(x) * (s ? share : 0) }
        case _ where p < 1: return v.map { x in sgn(x) * (x == 0 ? 0 : T.pow(abs(x), T(p - 1))) * g * T.pow(n, T(1 - p)) }
        case _ where p < 2: return v.map { x in sgn(x) * T.pow(abs(x), T(p - 1)) * scale }
        default: return v.map { x in x * T.pow(abs(x), T(p - 2)) * scale }
        }
    }
}

extension Reference {
    // MARK: cosine_similarity

    /// y = Σ_dim u · v with u = x1 / max(‖x1‖, eps) and v = x2 / max(‖x2‖, eps) (`SumBackward1`);
    /// see `UnitRuns.backward` for the gradient.
    static func cosineSimilarity(_ call: CosineSimilarityCall) -> Tensor {
        call.dtype == .float32 ? cosineSimilarity(Float.self, call) : cosineSimilarity(Double.self, call)
    }

    private static func cosineSimilarity<T: FloatScalar>(_: T.Type, _ call: CosineSimilarityCall) -> Tensor {
        let runs = Runs(call.shape, dim: call.dim)
        let a = UnitRuns<T>(call.x1, call, runs), b = UnitRuns<T>(call.x2, call, runs)
        let y = (0..<runs.count).map { r in
            (0..<runs.size).reduce(T(0)) { sum, j in sum + a.unit[runs.index(r, j)] * b.unit[runs.index(r, j)] }
        }
        let out = Tensor(shape: call.outputShape, y)
        let saved = [SavedTensor(call.x1), SavedTensor(call.x2)]
        return out.recording("SumBackward1", inputs: [call.x1, call.x2], saving: saved) { g in
            for s in saved { _ = try s.unpack() }
            let gs = elements(g, T.self)
            // ∂y/∂u = g · v and ∂y/∂v = g · u, element by element.
            var du = [T](repeating: 0, count: a.unit.count), dv = du
            for r in 0..<runs.count {
                for j in 0..<runs.size {
                    let k = runs.index(r, j)
                    du[k] = gs[r] * b.unit[k]
                    dv[k] = gs[r] * a.unit[k]
                }
            }
            return [gradient(a.backward(du, runs), call.shape, for: call.x1),
                    gradient(b.backward(dv, runs), call.shape, for: call.x2)]
        }
    }

    /// One input of `cosine_similarity` expanded to the broadcast shape, in T, with its runs'
    /// norms n (unclamped), c = max(n, eps), and u = x / c (computed in the input's own dtype,
    /// as ATen divides before promoting).
    private struct UnitRuns<T: FloatScalar> {
        let values: [T], norms: [T], clamped: [T], unit: [T]

        init(_ x: Tensor, _ call: CosineSimilarityCall, _ runs: Runs) {
            let expand = broadcastIndices(from: x.shape, to: call.shape)
            switch x.data.converted(to: x.dtype.isFloatingPoint ? x.dtype : call.dtype) {
            case .float32(let a): (norms, clamped, unit) = UnitRuns.normalize(expand.map { a[$0] }, runs, call.eps)
            case .float64(let a): (norms, clamped, unit) = UnitRuns.normalize(expand.map { a[$0] }, runs, call.eps)
            default: preconditionFailure("integer inputs are converted to the floating common dtype")
            }
            let xs = Reference.elements(x, T.self)
            values = expand.map { xs[$0] }
        }

        private static func normalize<S: FloatScalar>(_ x: [S], _ runs: Runs, _ eps: Double) -> ([T], [T], [T]) {
            let norms = (0..<runs.count).map { r in VectorNorm.norm((0..<runs.size).map { x[runs.index(r, $0)] }, 2) }
            let clamped = norms.map { $0 < S(eps) ? S(eps) : $0 }  // a NaN norm stays NaN
            var unit = x
            for r in 0..<runs.count {
                for j in 0..<runs.size { unit[runs.index(r, j)] = x[runs.index(r, j)] / clamped[r] }
            }
            return (norms.map { T($0) }, clamped.map { T($0) }, unit.map { T($0) })
        }

        /// dx from du = ∂y/∂u as autograd composes it: the division gives du / c and, towards
        /// c, gc = Σ_run −du · ((x / c) / c); the clamp ran under `no_grad`, so gc reaches the
        /// norm unchanged and its backward adds gc · (x / n) (0 when n = 0).
        func backward(_ du: [T], _ runs: Runs) -> [T] {
            var dx = [T](repeating: 0, count: du.count)
            for r in 0..<runs.count {
                let ks = (0..<runs.size).map { runs.index(r, $0) }
                let c = clamped[r]
                let gc = ks.reduce(T(0)) { sum, k in sum + -du[k] * ((values[k] / c) / c) }
                let viaNorm = VectorNorm.gradient(ks.map { values[$0] }, norm: norms[r], gc, 2)!
                for (k, n) in zip(ks, viaNorm) { dx[k] = du[k] / c + n }
            }
            return dx
        }
    }

    // MARK: pairwise_distance

    /// y = ‖x1 − x2 + eps‖_p along the last dim of the broadcast shape (`NormBackward1`); the
    /// backward is `VectorNorm.gradient`, to x1 and, negated, to x2.
    static func pairwiseDistance(_ call: PairwiseDistanceCall) -> Tensor {
        call.dtype == .float32 ? pairwiseDistance(Float.self, call) : pairwiseDistance(Double.self, call)
    }

    private static func pairwiseDistance<T: FloatScalar>(_: T.Type, _ call: PairwiseDistanceCall) -> Tensor {
        let shape = call.shape, eps = T(call.eps)
        let (a, b) = (elements(call.x1, T.self), elements(call.x2, T.self))
        let ia = broadcastIndices(from: call.x1.shape, to: shape), ib = broadcastIndices(from: call.x2.shape, to: shape)
        let difference = ia.indices.map { a[ia[$0]] - b[ib[$0]] + eps }
        let runs = Runs(shape, dim: max(shape.count - 1, 0))
        func run(_ r: Int) -> [T] { (0..<runs.size).map { difference[runs.index(r, $0)] } }
        let norms = (0..<runs.count).map { VectorNorm.norm(run($0), call.p) }
        let y = Tensor(shape: call.outputShape, norms)
        let saved = SavedTensor(output: y, of: "NormBackward1")
        return y.recording("NormBackward1", inputs: [call.x1, call.x2], saving: [saved]) { g in
            _ = try saved.unpack()
            let gs = elements(g, T.self)
            var dd = [T](repeating: 0, count: difference.count)
            for r in 0..<runs.count {
                guard let dr = VectorNorm.gradient(run(r), norm: norms[r], gs[r], call.p) else { return [nil, nil] }
                for (j, d) in dr.enumerated() { dd[runs.index(r, j)] = d }
            }
            return [gradient(dd, shape, for: call.x1), gradient(dd.map { -$0 }, shape, for: call.x2)]
        }
    }
}
