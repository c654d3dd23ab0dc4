import NNCore
import RealModule

/// Classification losses: `nll_loss`, `cross_entropy`, `multi_margin_loss`,
/// `multilabel_margin_loss`. Samples i are the rows of an N × C input, or the (n, position)
/// pairs of an N × C × d1 … dK one, in row-major order; x[i, k] is class k of sample i.
extension Reference {
    // MARK: nll_loss

    /// ℓ_i = −w[t_i] · x[i, t_i], 0 where t_i is ignored. `sum` adds the ℓ_i in ATen's cascade
    /// order; `mean` divides that by W = Σ w[t_i] over the samples not ignored (their count
    /// without a weight), so with every target ignored it is 0 / 0 = NaN.
    /// Backward: d x[i, t_i] = w[t_i] · (−g_i), and −g / W for `mean`.
    static func nllLoss(_ call: NLLCall) throws -> Tensor {
        let out = call.input.dtype == .float32 ? nll(Float.self, call) : nll(Double.self, call)
        return call.viewsOutput ? try out.view(call.unreducedShape) : out
    }

    /// The flat index of class k of sample i in a batch × classes × positions layout.
    static func classIndex(_ layout: (batch: Int, classes: Int, positions: Int), _ i: Int, _ k: Int) -> Int {
        (i / layout.positions * layout.classes + k) * layout.positions + i % layout.positions
    }

    private static func nll<T: FloatScalar>(_: T.Type, _ call: NLLCall) -> Tensor {
        let x = elements(call.input, T.self), w = call.weight.map { elements($0, T.self) }
        let at = { (i: Int, k: Int) in classIndex(call.layout, i, k) }
        let samples = call.classes.count
        var output: [T], total: T = 0
        if call.reduction == .none {
            output = call.classes.enumerated().map { i, k in k.map { -x[at(i, $0)] * (w?[$0] ?? 1) } ?? 0 }
        } else {
            var loss = CascadeSum<T>(count: samples), weights = CascadeSum<T>(count: samples)
            var counted = 0
            for (i, k) in call.classes.enumerated() {
                guard let k else { continue }
                counted += 1
                loss.add(-(x[at(i, k)] * (w?[k] ?? 1)), sample: i)
                if let w { weights.add(w[k], sample: i) }
            }
            total = w == nil ? T(counted) : weights.total
            output = [call.reduction == .mean ? loss.total / total : loss.total]
        }
        // ATen's `nll_loss2d` returns N × 1 × S for a 3-D or ≥ 5-D input, viewed afterwards.
        let shape = call.viewsOutput ? [call.layout.batch, 1, call.layout.positions] : call.reduction.shape(of: call.unreducedShape)
        return fusedLoss(output, shape: shape, count: samples, call.backwardName, inputs: [call.input],
                         saving: [call.input, call.target, call.weight]) { g in
            var dx = [T](repeating: 0, count: x.count)
            for (i, k) in call.classes.enumerated() {
                guard let k else { continue }
                let grad = -(call.reduction == .mean ? g[i] / total : g[i])
                dx[at(i, k)] = w.map { $0[k] * grad } ?? grad
            }
            return [gradient(dx, call.input.shape, for: call.input)]
        }
    }

    /// ATen's cascade summation in `nll_loss`: each value enters level 0; after sample b, every
    /// level j whose bits j·p ..< (j+1)·p of b are all zero moves into level j + 1
    /// (p = max(4, ⌈log₂ n⌉ / 8)), so level j gathers sums of 2^(j·p) samples; the total adds
    /// the levels from 0 up.
    struct CascadeSum<T: FloatScalar> {
        private var levels = [T](repeating: 0, count: 8)
        private let power: Int

        init(count n: Int) {
            let ceilLog2 = n <= 2 ? 1 : Int.bitWidth - (n - 1).leadingZeroBitCount
            power = max(4, ceilLog2 / 8)
        }

        mutating func add(_ value: T, sample b: Int) {
            levels[0] += value
            for j in 0..<(levels.count - 1) {
                guard (b >> (j * power)) & ((1 << power) - 1) == 0 else { break }
                levels[j + 1] += levels[j]
                levels[j] = 0
            }
        }

        var total: T { levels.reduce(0, +) }
    }

    // MARK: cross_entropy

    /// `nll_loss(log_softmax(x))` for class indices; with label smoothing ε,
    /// (1 − ε) · nll + ε/C · s where s_i = −Σ_c w_c log p_ic (0 where ignored), reduced as the
    /// nll is. For class probabilities see `probabilityCrossEntropy`.
    static func crossEntropy(_ call: CrossEntropyCall) throws -> Tensor {
        let logp = try softmax(.logSoftmax, Arguments(op: "log_softmax", ["input": .tensor(call.input),
                                                                          "dim": .int(call.classDim)])).tensor!
        if call.probabilities {
            let dtype = try LossCheck.floatingType([call.input, call.target, call.weight], op: "cross_entropy")
            return dtype == .float32 ? probabilityCrossEntropy(Float.self, call, logp) : probabilityCrossEntropy(Double.self, call, logp)
        }
        let nllCall = try call.nll(on: logp)
        let nll = try nllLoss(nllCall)
        guard call.labelSmoothing > 0 else { return nll }
        return logp.dtype == .float32 ? smoothed(Float.self, call, nllCall, nll, logp) : smoothed(Double.self, call, nllCall, nll, logp)
    }

    /// ATen's order: s_i = −(Σ_c log p_ic · w_c); `mean` divides Σ s_i by the nll's W; the
    /// result (1 − ε) · nll + r · (ε / C) is one `AddBackward0` node over the nll and log p.
    private static func smoothed<T: FloatScalar>(_: T.Type, _ call: CrossEntropyCall, _ nllCall: NLLCall,
                                                 _ nll: Tensor, _ logp: Tensor) -> Tensor {
        let lp = elements(logp, T.self), w = call.weight.map { elements($0, T.self) }
        let classes = nllCall.layout.classes
        let at = { (i: Int, k: Int) in classIndex(nllCall.layout, i, k) }
        var smooth = [T](), denominator: T = 0
        for (i, target) in nllCall.classes.enumerated() {
            var sum: T = 0
            for k in 0..<classes { sum += w.map { lp[at(i, k)] * $0[k] } ?? lp[at(i, k)] }
            smooth.append(target == nil ? 0 : -sum)
            if let target { denominator += w?[target] ?? 1 }
        }
        let reduced = call.reduction == .none ? smooth
            : [call.reduction == .mean ? smooth.reduce(0, +) / denominator : smooth.reduce(0, +)]
        let keep = T(1 - call.labelSmoothing), share = T(call.labelSmoothing / Double(classes))
        let output = zip(elements(nll, T.self), reduced).map { keep * $0 + $1 * share }
        return recordLoss(Tensor(shape: nll.shape, output), "AddBackward0", T.self, inputs: [nll, logp], saving: []) { g in
            var dlp = [T](repeating: 0, count: lp.count)
            for (i, target) in nllCall.classes.enumerated() where target != nil {
                var gi = g[g.count == 1 ? 0 : i] * share
                if call.reduction == .mean { gi = gi / denominator }
                for k in 0..<classes { dlp[at(i, k)] = w.map { -gi * $0[k] } ?? -gi }
            }
            return [Tensor(shape: nll.shape, g.map { $0 * keep }), gradient(dlp, logp.shape, for: logp)]
        }
    }

    /// ℓ = −Σ_c log p_c · t_c · w_c over the class dim, with t smoothed to t(1 − ε) + ε/C:
    /// per sample for `none` (`NegBackward0`), summed (`NegBackward0`), or summed and divided by
    /// the number of samples (`DivBackward1`). Gradients reach log p, the target and the weight.
    private static func probabilityCrossEntropy<T: FloatScalar>(_: T.Type, _ call: CrossEntropyCall, _ logp: Tensor) -> Tensor {
        let shape = call.input.shape, dim = call.classDim, classes = shape[dim]
        let inner = shape[(dim + 1)...].reduce(1, *), samples = shape.reduce(1, *) / max(classes, 1)
        let classOf = { (k: Int) in k / inner % classes }
        let sampleOf = { (k: Int) in k / (inner * classes) * inner + k % inner }
        let lp = elements(logp, T.self), w = call.weight.map { elements($0, T.self) }
        let ls = call.labelSmoothing
        let t = ls > 0 ? elements(call.target, T.self).map { $0 * T(1 - ls) + T(ls / Double(classes)) } : elements(call.target, T.self)
        let product = lp.indices.map { k in w.map { lp[k] * t[k] * $0[classOf(k)] } ?? lp[k] * t[k] }

        let output: [T], name: String
        switch call.reduction {
        case .none:
            var sums = [T](repeating: 0, count: samples)
            for k in product.indices { sums[sampleOf(k)] += product[k] }
            (output, name) = (sums.map { -$0 }, "NegBackward0")
        case .sum: (output, name) = ([-product.reduce(0, +)], "NegBackward0")
        case .mean: (output, name) = ([-product.reduce(0, +) / T(samples)], "DivBackward1")
        }
        var outShape = shape
        outShape.remove(at: dim)
        return recordLoss(Tensor(shape: call.reduction.shape(of: outShape), output), name, T.self,
                          inputs: [logp, call.target, call.weight], saving: [call.target, call.weight]) { g in
            var dlp = [T](), dt = [T](), dw = [T]()
            for k in lp.indices {
                let up = call.reduction == .none ? g[sampleOf(k)] : call.reduction == .mean ? g[0] / T(samples) : g[0]
                let dp = w.map { -up * $0[classOf(k)] } ?? -up
                dw.append(-up * (lp[k] * t[k]))
                dlp.append(dp * t[k])
                dt.append(ls > 0 ? dp * lp[k] * T(1 - ls) : dp * lp[k])
            }
            let weightGrad = call.weight.flatMap { weight -> Tensor? in
                guard weight.requiresGrad else { return nil }
                let view = shape.indices.map { $0 == dim ? classes : 1 }
                return Tensor(shape: weight.shape, data: T.wrap(sumToShape(dw, from: shape, to: view)).converted(to: weight.dtype))
            }
            return [gradient(dlp, shape, for: logp), gradient(dt, shape, for: call.target), weightGrad]
        }
    }

    // MARK: multi_margin_loss

    /// ℓ_i = Σ_{c ≠ y_i} h(margin − x[i, y_i] + x[i, c]) / C with h(z) = w[y_i] · z^p for z > 0,
    /// summed per sample in T; the reduction adds the samples in Double (ATen's accumulate type)
    /// and divides by N for `mean`. Backward: each z > 0 gives class c  +h' and class y_i  −h',
    /// h' = w[y_i] · (1 or 2z) / C (/ N for `mean`), times the sample's gradient.
    static func multiMarginLoss(_ call: MultiMarginCall) -> Tensor {
        call.input.dtype == .float32 ? multiMargin(Float.self, call) : multiMargin(Double.self, call)
    }

    private static func multiMargin<T: FloatScalar>(_: T.Type, _ call: MultiMarginCall) -> Tensor {
        let x = elements(call.input, T.self), y = call.target.int64s.map { Int($0) }, w = call.weight.map { elements($0, T.self) }
        let (n, c, margin) = (call.frames, call.classes, T(call.margin))
        let losses = (0..<n).map { i -> T in
            var sum: T = 0
            for d in 0..<c where d != y[i] {
                let z = margin - x[i * c + y[i]] + x[i * c + d]
                guard z > 0 else { continue }
                let h = call.p == 1 ? z : z * z
                sum += w.map { h * $0[y[i]] } ?? h
            }
            return sum / T(c)
        }
        let output = call.outputShape.isEmpty ? [T(meanOrSum(losses.map(Double.init), call.reduction))] : losses
        let step = T(call.reduction == .mean ? 1 / Double(n * c) : 1 / Double(c))
        return fusedLoss(output, shape: call.outputShape, count: n, call.node) { g in
            var dx = [T](repeating: 0, count: x.count)
            for i in 0..<n {
                var targetGrad: T = 0
                for d in 0..<c where d != y[i] {
                    let z = margin - x[i * c + y[i]] + x[i * c + d]
                    guard z > 0 else { continue }
                    let h = call.p == 1 ? step : 2 * step * z
                    let hw = w.map { h * $0[y[i]] } ?? h
                    targetGrad -= hw
                    dx[i * c + d] = hw
                }
                dx[i * c + y[i]] = targetGrad
                for d in 0..<c { dx[i * c + d] *= g[i] }
            }
            return [gradient(dx, call.input.shape, for: call.input)]
        }
    }

    /// Σ in order, / count for `mean` (the per-sample accumulation of ATen's margin losses).
    private static func meanOrSum(_ values: [Double], _ reduction: LossReduction) -> Double {
        let sum = values.reduce(0, +)
        return reduction == .mean ? sum / Double(values.count) : sum
    }

    // MARK: multilabel_margin_loss

    /// ℓ_i = Σ_{j ∈ y_i} Σ_{c ∉ y_i} max(0, 1 − x[i, j] + x[i, c]) / C, where y_i lists classes
    /// up to the first −1. Per sample the terms add in Double and round to T; reduced, the
    /// samples add in Double, / C, / N for `mean`. Backward: each positive term gives class c
    /// +1/C and class j −1/C (/ N for `mean`), times the sample's gradient.
    static func multilabelMarginLoss(_ call: MultilabelMarginCall) -> Tensor {
        call.input.dtype == .float32 ? multilabelMargin(Float.self, call) : multilabelMargin(Double.self, call)
    }

    private static func multilabelMargin<T: FloatScalar>(_: T.Type, _ call: MultilabelMarginCall) -> Tensor {
        let x = elements(call.input, T.self), target = call.target.int64s.map { Int($0) }
        let (n, c) = (call.frames, call.classes)
        let labels = (0..<n).map { i in Array(target[(i * c)..<(i * c + c)].prefix { $0 >= 0 }) }
        /// The positive terms of sample i as (label j, other class d, z).
        let terms = { (i: Int) -> [(Int, Int, T)] in
            labels[i].flatMap { j in (0..<c).filter { !labels[i].contains($0) }.compactMap { d -> (Int, Int, T)? in
                let z = 1 - x[i * c + j] + x[i * c + d]
                return z > 0 ? (j, d, z) : nil
            } }
        }
        let sums = (0..<n).map { i in T(terms(i).reduce(0.0) { $0 + Double($1.2) }) }
        let output: [T]
        if call.outputShape.isEmpty {
            let perClass = sums.reduce(0.0) { $0 + Double($1) } / Double(c)
            output = [T(call.reduction == .mean ? perClass / Double(n) : perClass)]
        } else {
            output = sums.map { $0 / T(c) }
        }
        let step = T(call.reduction == .mean ? 1 / Double(n * c) : 1 / Double(c))
        return fusedLoss(output, shape: call.outputShape, count: n, call.node) { g in
            var dx = [T](repeating: 0, count: x.count)
            for i in 0..<n {
                for (j, d, _) in terms(i) {
                    dx[i * c + j] -= step
                    dx[i * c + d] += step
                }
                for d in 0..<c { dx[i * c + d] *= g[i] }
            }
            return [gradient(dx, call.input.shape, for: call.input)]
        }
    }
}
