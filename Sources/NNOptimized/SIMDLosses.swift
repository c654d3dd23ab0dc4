import NNCore
import RealModule

/// `kl_div`, `mse_loss`, `l1_loss`, `smooth_l1_loss`, `huber_loss` (without `weight`): the
/// pointwise loss and its reduction in one pass, recorded as one node named as PyTorch's last
/// one (`SubBackward0` / `MulBackward0`, `AbsBackward0`, `MseLossBackward0`, ... for `none`;
/// `SumBackward0`, `MeanBackward0`, and `DivBackward0` for `batchmean`), saving the tensors the
/// reference's first node saves, so in-place version errors and the second-backward error fire
/// as there. Sums run in 16 float lanes per block, combined in Double.
/// `nll_loss` and `cross_entropy` (class indices) are in `SIMDLossClassification.swift`.
extension Optimized {
    static let simdLossOps: [String: OpFunction] = [
        "kl_div": { try .tensor(simdKLDiv(KLDivCall($0))) },
        "mse_loss": { try .tensor(simdPairwise(PairwiseLossCall(.mse, $0))) },
        "l1_loss": { try .tensor(simdPairwise(PairwiseLossCall(.l1, $0))) },
        "smooth_l1_loss": { try .tensor(simdPairwise(PairwiseLossCall(.smoothL1, $0))) },
        "huber_loss": { try .tensor(simdPairwise(PairwiseLossCall(.huber, $0))) },
        "nll_loss": { try .tensor(simdNLLLoss(NLLCall($0))) },
        "cross_entropy": { try .tensor(simdCrossEntropy(CrossEntropyCall($0))) },
    ]

    /// Both operands expanded to the broadcast shape (a copy only when their shapes differ).
    static func expanded<T: FloatScalar>(_ t: Tensor, to shape: [Int], _: T.Type) -> [T] {
        let values = floatElements(t, T.self)
        if t.shape == shape { return values }
        let plan = BroadcastPlan(t.shape, t.shape, to: shape)
        return values.withPointer { p in makeArray(shape.reduce(1, *)) { out in broadcastCombine(plan, p, p, out) { a, _ in a } } }
    }

    /// The gradient reaching each loss element: `values[k]` (`none`) or one value for all.
    struct Upstream<T: FloatScalar> {
        let values: [T]
        let stride: Int
        @inline(__always) subscript(_ k: Int) -> T { values[k &* stride] }

        /// For a composite loss reduced by `sum()` / `mean()` (`/ n`, as `MeanBackward0`) and, for
        /// `batchmean`, first `/ N` (as `DivBackward0`).
        func composite(_ reduction: LossReduction, count: Int, divisor: Int?) -> Upstream {
            switch reduction {
            case .none: return self
            case .sum: return divisor.map { Upstream(values: [values[0] / T($0)], stride: 0) } ?? self
            case .mean: return Upstream(values: [values[0] / T(count)], stride: 0)
            }
        }
    }

    /// The fused reduced-loss node: the per-element losses (`none`) or their sum reduced (0-dim:
    /// the sum, / `count` for `mean`, / `divisor` for `batchmean`), recorded as `names`' entry for
    /// the reduction. `pullback(g)` receives the output gradient per element (the caller applies
    /// the reduction's factor).
    static func fusedLossNode<T: FloatScalar>(_ losses: [T]?, sum: Double, count: Int, shape: [Int], reduction: LossReduction,
                                              divisor: Int?, names: (none: String, sum: String, mean: String), inputs: [Tensor?],
                                              saving: [SavedTensor], pullback: @escaping (_ g: Upstream<T>) throws -> [Tensor?]) -> Tensor {
        let output: Tensor, name: String
        switch reduction {
        case .none:
            (output, name) = (Tensor(shape: shape, losses!), names.none)
        case .sum:
            let s = T(sum)
            (output, name) = divisor.map { (Tensor(shape: [], [s / T($0)]), "DivBackward0") } ?? (Tensor(shape: [], [s]), names.sum)
        case .mean:
            (output, name) = (Tensor(shape: [], [T(sum) / T(count)]), names.mean)
        }
        return output.recording(name, inputs: inputs, saving: saving) { g in
            for s in saving { _ = try s.unpack() }
            return try pullback(Upstream(values: floatElements(g, T.self), stride: reduction == .none ? 1 : 0))
        }
    }

    /// Σ f(k) over k < n (f computing 16 lanes from an offset), split across cores, in Double.
    @inline(__always)
    static func vectorSum(_ n: Int, cost: Int, _ f: (_ offset: Int, _ lanes: Int) -> VF) -> Double {
        SIMDParallel.map((n + 1023) / 1024, costPerItem: 1024 * cost) { blocks -> Double in
            var total = 0.0
            for b in blocks {
                var acc = VF(), i = b * 1024
                let end = min(i + 1024, n)
                while i < end { acc += f(i, min(16, end - i)); i += 16 }
                total += Double(vsum(acc))
            }
            return total
        }.reduce(0, +)
    }

    // MARK: kl_div

    /// ℓ = xlogy(t, t) − t·x, or e^t·(t − x) with `log_target`; backward (u the upstream
    /// gradient): dx = −u·t, dt = xlogy(u, t) + u·t/t − u·x; with `log_target` dx = −(u·e^t),
    /// dt = u·(t − x)·e^t + u·e^t.
    static func simdKLDiv(_ call: KLDivCall) throws -> Tensor {
        call.dtype == .float32 ? klDiv(Float.self, call) : klDiv(Double.self, call)
    }

    private static func klDiv<T: FloatScalar>(_: T.Type, _ call: KLDivCall) -> Tensor {
        let x = call.input, t = call.target, shape = call.shape, n = shape.reduce(1, *)
        let xs = expanded(x, to: shape, T.self), ts = expanded(t, to: shape, T.self)
        let logTarget = call.logTarget
        @inline(__always) func xlogy(_ a: T, _ b: T) -> T { b.isNaN ? .nan : a == 0 ? 0 : a * T.log(b) }
        var losses: [T]?, sum = 0.0
        xs.withPointer { xp in
            ts.withPointer { tp in
                if T.self == Float.self {
                    let (xf, tf) = (xp.float, tp.float)
                    let f = { (i: Int, m: Int) -> VF in
                        let xv = m == 16 ? vload(xf + i) : vloadPartial(xf + i, m), tv = m == 16 ? vload(tf + i) : vloadPartial(tf + i, m)
                        if logTarget { return vexp(tv) * (tv - xv) }
                        let xl = (tv * vlog(tv)).replacing(with: 0, where: tv .== 0)
                        return xl - tv * xv
                    }
                    if call.reduction == .none {
                        losses = makeArray(n) { out in
                            SIMDParallel.forEachAligned(n, alignment: 1024, costPerItem: 30) { r in
                                var i = r.lowerBound
                                while i < r.upperBound {
                                    let m = min(16, r.upperBound - i)
                                    vstorePartial(f(i, m), out.float + i, m)
                                    i += 16
                                }
                            }
                        }
                    } else {
                        sum = vectorSum(n, cost: 30, f)
                    }
                } else {
                    let l: [T] = makeArray(n) { out in
                        for k in 0..<n {
                            let (xk, tk) = (xp[k], tp[k])
                            out[k] = logTarget ? T.exp(tk) * (tk - xk) : xlogy(tk, tk) - tk * xk
                        }
                    }
                    if call.reduction == .none { losses = l } else { sum = l.reduce(0.0) { $0 + Double($1) } }
                }
            }
        }
        let saving = logTarget ? [SavedTensor(Tensor(shape: t.shape, data: t.data))]
            : [SavedTensor(t)] + (t.requiresGrad ? [SavedTensor(x)] : [])
        let needs = (x: x.requiresGrad, t: t.requiresGrad)
        return fusedLossNode(losses, sum: sum, count: n, shape: shape, reduction: call.reduction, divisor: call.batchDivisor,
                             names: (logTarget ? "MulBackward0" : "SubBackward0", "SumBackward0", "MeanBackward0"),
                             inputs: [x, t], saving: saving) { g in
            let u = g.composite(call.reduction, count: n, divisor: call.batchDivisor)
            var dx: [T]?, dt: [T]?
            xs.withPointer { xp in
                ts.withPointer { tp in
                    if needs.x {
                        dx = makeArray(n) { out in
                            SIMDParallel.forEach(n, costPerItem: logTarget ? 20 : 1) { r in
                                if logTarget {
                                    for k in r { out[k] = -(u[k] * T.exp(tp[k])) }
                                } else if u.stride == 0 {
                                    let m = -u[0]
                                    for k in r { out[k] = m * tp[k] }
                                } else {
                                    for k in r { out[k] = -u[k] * tp[k] }
                                }
                            }
                        }
                    }
                    if needs.t {
                        dt = makeArray(n) { out in
                            SIMDParallel.forEach(n, costPerItem: 20) { r in
                                for k in r {
                                    let (xk, tk, gk) = (xp[k], tp[k], u[k])
                                    if logTarget {
                                        let e = T.exp(tk)
                                        out[k] = gk * (tk - xk) * e + gk * e
                                    } else {
                                        out[k] = xlogy(gk, tk) + gk * tk / tk + -gk * xk
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return [dx.map { simdGradient($0, shape, for: x) }, dt.map { simdGradient($0, shape, for: t) }]
        }
    }

    /// A gradient over the broadcast `shape`, summed back to `input`'s shape and cast to its dtype.
    static func simdGradient<T: FloatScalar>(_ d: [T], _ shape: [Int], for input: Tensor) -> Tensor {
        Tensor(shape: input.shape, data: T.wrap(sumToShapeFast(d, from: shape, to: input.shape)).converted(to: input.dtype))
    }

    // MARK: mse, l1, smooth_l1, huber

    static func simdPairwise(_ call: PairwiseLossCall) throws -> Tensor {
        call.dtype == .float32 ? try pairwise(Float.self, call) : try pairwise(Double.self, call)
    }

    /// ATen's backward kernels for d = x − t, output gradient g and `norm` (1/n for `mean`):
    /// mse 2·norm·d·g; l1 g·sgn d; smooth L1 ±norm·g beyond ±β, else norm·d·g/β; Huber
    /// ±norm·g·δ beyond ±δ, else norm·d·g.
    @inline(__always)
    private static func slope<T: FloatScalar>(_ kind: PairwiseLoss, _ p: T, _ d: T, _ g: T, norm: Double) -> T {
        let nn = T(norm)
        switch kind {
        case .mse: return T(2 * norm) * d * g
        case .l1: return g * (d > 0 ? 1 : d < 0 ? -1 : d)
        case .smoothL1: return d <= -p ? -nn * g : d >= p ? nn * g : nn * d * g / p
        case .huber: return d <= -p ? -nn * g * p : d >= p ? nn * g * p : nn * d * g
        }
    }

    /// f(d) with d = x − t: d², |d|, smooth L1, Huber; the backward is ATen's kernel of (x, t)
    /// for the input and of (t, x) for the target (see the reference's `slope`).
    private static func pairwise<T: FloatScalar>(_: T.Type, _ call: PairwiseLossCall) throws -> Tensor {
        let shape = call.shape, n = shape.reduce(1, *), p = T(call.parameter), half: T = 0.5, kind = call.loss
        let d: [T] = expanded(call.input, to: shape, T.self).withPointer { xp in
            expanded(call.target, to: shape, T.self).withPointer { tp in
                makeArray(n) { out in SIMDParallel.forEach(n, costPerItem: 1) { r in for k in r { out[k] = xp[k] - tp[k] } } }
            }
        }
        @inline(__always) func f(_ d: T) -> T {
            let z = abs(d)
            switch kind {
            case .mse: return d * d
            case .l1: return z
            case .smoothL1: return z < p ? half * z * z / p : z - half * p
            case .huber: return z < p ? half * z * z : p * (z - half * p)
            }
        }
        let losses: [T] = d.withPointer { dp in
            makeArray(n) { out in SIMDParallel.forEach(n, costPerItem: 2) { r in for k in r { out[k] = f(dp[k]) } } }
        }
        if let weight = call.weight { return try weightedPairwise(call, d, losses, weight) }
        let sum: Double = losses.withPointer { lp in
            if T.self == Float.self { return vectorSum(n, cost: 1) { i, m in m == 16 ? vload(lp.float + i) : vloadPartial(lp.float + i, m) } }
            return losses.reduce(0.0) { $0 + Double($1) }
        }
        let norm = call.reduction.norm(n)
        let name = kind == .mse ? "MseLossBackward0" : kind == .huber ? "HuberLossBackward0" : "SmoothL1LossBackward0"
        let names = kind == .l1 ? ("AbsBackward0", "SumBackward0", "MeanBackward0") : (name, name, name)
        // l1_loss is composite (|d| then sum / mean): its mean divides the upstream gradient by n.
        let input = call.input, target = call.target
        return fusedLossNode(call.reduction == .none ? losses : nil, sum: sum, count: n, shape: shape, reduction: call.reduction,
                             divisor: nil, names: names, inputs: [input, target],
                             saving: kind == .l1 ? [] : [SavedTensor(input), SavedTensor(target)]) { g in
            // l1_loss is |d| then sum() / mean(); the fused kernels take the output gradient
            // itself (their `norm` divides for `mean`).
            let up = kind == .l1 ? g.composite(call.reduction, count: n, divisor: nil) : g
            func grad(_ sign: T, _ t: Tensor) -> Tensor? {
                guard t.requiresGrad else { return nil }
                let dd: [T] = d.withPointer { dp in
                    makeArray(n) { out in SIMDParallel.forEach(n, costPerItem: 2) { r in for k in r { out[k] = slope(kind, p, sign * dp[k], up[k], norm: norm) } } }
                }
                return simdGradient(dd, shape, for: t)
            }
            return [grad(1, input), kind == .l1 ? grad(1, target).map { neg($0) } : grad(-1, target)]
        }
    }

    /// With a weight, as `F.*_loss` composes it: ℓ = f(d)·w (`MulBackward0`, saving the weight;
    /// its backward through f as PyTorch's pieces compute it), then `sum()`, `mean()` (huber) or
    /// Σ ℓ / Σ w (`DivBackward0`, mse and l1), with this backend's `sum` and `div`.
    private static func weightedPairwise<T: FloatScalar>(_ call: PairwiseLossCall, _ d: [T], _ loss: [T], _ weight: Tensor) throws -> Tensor {
        let shape = call.shape, kind = call.loss, p = T(call.parameter), w = expanded(weight, to: shape, T.self)
        let product = Tensor(shape: shape, zip(loss, w).map { $0 * $1 })
        let saved = SavedTensor(weight), input = call.input, target = call.target
        product.recording("MulBackward0", inputs: [input, target, weight], saving: [saved]) { g in
            _ = try saved.unpack()
            let gs = floatElements(g, T.self)
            let df = zip(gs, w).map { $0 * $1 }
            let dd = df.indices.map { k in kind == .mse ? df[k] * (2 * d[k]) : slope(kind, p, d[k], df[k], norm: 1) }
            let dt = kind == .huber ? df.indices.map { slope(kind, p, -d[$0], df[$0], norm: 1) } : dd.map { -$0 }
            return [input.requiresGrad ? simdGradient(dd, shape, for: input) : nil,
                    target.requiresGrad ? simdGradient(dt, shape, for: target) : nil,
                    weight.requiresGrad ? simdGradient(zip(gs, loss).map { $0 * $1 }, shape, for: weight) : nil]
        }
        func reduced(_ t: Tensor, _ r: LossReduction) throws -> Tensor {
            guard r != .none else { return t }
            let kind: ReductionCall.Kind = r == .sum ? .sum : .mean
            return simdReduce(try ReductionCall(kind, Arguments(op: kind.rawValue, ["input": .tensor(t)])))
        }
        guard call.reduction == .mean && kind != .huber else { return try reduced(product, call.reduction) }
        let total = try reduced(product, .sum), weights = try reduced(weight, .sum)
        return try simdBinary(.div, Arguments(op: "div", ["input": .tensor(total), "other": .tensor(weights)]), inplace: false).tensor!
    }

    private static func neg(_ t: Tensor) -> Tensor {
        switch t.data {
        case .float32(let a): return Tensor(shape: t.shape, a.map { -$0 })
        case .float64(let a): return Tensor(shape: t.shape, a.map { -$0 })
        default: return t
        }
    }
}
