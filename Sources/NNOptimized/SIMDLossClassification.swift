import NNCore

/// `nll_loss` and `cross_entropy` (class indices or probabilities, with label smoothing),
/// recorded as the reference records them:
/// `cross_entropy` is `log_softmax` over the class dim (`LogSoftmaxBackward0`, saving its
/// output) then `nll_loss` (`NllLossBackward0` / `NllLoss2DBackward0` saving input, target and
/// weight; `ViewBackward0` on a viewed `none` result).
extension Optimized {
    static func simdCrossEntropy(_ call: CrossEntropyCall) throws -> Tensor {
        let logp = try simdSoftmax(SoftmaxCall(.logSoftmax, Arguments(op: "log_softmax", ["input": .tensor(call.input),
                                                                                         "dim": .int(call.classDim)])))
        if call.probabilities {
            let dtype = try LossCheck.floatingType([call.input, call.target, call.weight], op: "cross_entropy")
            return dtype == .float32 ? probabilityCrossEntropy(Float.self, call, logp) : probabilityCrossEntropy(Double.self, call, logp)
        }
        let nllCall = try call.nll(on: logp)
        let nll = try simdNLLLoss(nllCall)
        guard call.labelSmoothing > 0 else { return nll }
        return logp.dtype == .float32 ? smoothed(Float.self, call, nllCall, nll, logp) : smoothed(Double.self, call, nllCall, nll, logp)
    }

    /// Label smoothing ε (as the reference, in ATen's order): s_i = −(Σ_c log p_ic · w_c), 0 where
    /// ignored; `mean` divides Σ s_i by the nll's W; the result (1 − ε)·nll + r·(ε / C) is one
    /// `AddBackward0` node over the nll and log p.
    private static func smoothed<T: FloatScalar>(_: T.Type, _ call: CrossEntropyCall, _ nllCall: NLLCall,
                                                 _ nll: Tensor, _ logp: Tensor) -> Tensor {
        let lp = floatElements(logp, T.self), w = call.weight.map { floatElements($0, T.self) }
        let layout = nllCall.layout, classes = layout.classes
        @inline(__always) func at(_ i: Int, _ k: Int) -> Int {
            (i / layout.positions * layout.classes + k) * layout.positions + i % layout.positions
        }
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
        let output = zip(floatElements(nll, T.self), reduced).map { keep * $0 + $1 * share }
        return Tensor(shape: nll.shape, output).recording("AddBackward0", inputs: [nll, logp]) { g in
            let gs = floatElements(g, T.self)
            var dlp = [T](repeating: 0, count: lp.count)
            for (i, target) in nllCall.classes.enumerated() where target != nil {
                var gi = gs[gs.count == 1 ? 0 : i] * share
                if call.reduction == .mean { gi = gi / denominator }
                for k in 0..<classes { dlp[at(i, k)] = w.map { -gi * $0[k] } ?? -gi }
            }
            return [Tensor(shape: nll.shape, gs.map { $0 * keep }),
                    logp.requiresGrad ? Tensor(shape: logp.shape, data: T.wrap(dlp).converted(to: logp.dtype)) : nil]
        }
    }

    /// Class probabilities (as the reference): ℓ = −Σ_c log p_c · t_c · w_c with t smoothed to
    /// t(1 − ε) + ε/C; per sample for `none` (`NegBackward0`), summed (`NegBackward0`), or summed
    /// and divided by the number of samples (`DivBackward1`); gradients to log p, target, weight.
    private static func probabilityCrossEntropy<T: FloatScalar>(_: T.Type, _ call: CrossEntropyCall, _ logp: Tensor) -> Tensor {
        let shape = call.input.shape, dim = call.classDim, classes = shape[dim]
        let inner = shape[(dim + 1)...].reduce(1, *), samples = shape.reduce(1, *) / max(classes, 1)
        let classOf = { (k: Int) in k / inner % classes }
        let sampleOf = { (k: Int) in k / (inner * classes) * inner + k % inner }
        let lp = floatElements(logp, T.self), w = call.weight.map { floatElements($0, T.self) }
        let ls = call.labelSmoothing
        let target = floatElements(call.target, T.self)
        let t = ls > 0 ? target.map { $0 * T(1 - ls) + T(ls / Double(classes)) } : target
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
        let saved = [call.target, call.weight].compactMap { $0.map(SavedTensor.init) }
        return Tensor(shape: call.reduction.shape(of: outShape), output)
            .recording(name, inputs: [logp, call.target, call.weight], saving: saved) { g in
                for s in saved { _ = try s.unpack() }
                let gs = floatElements(g, T.self)
                var dlp = [T](), dt = [T](), dw = [T]()
                for k in lp.indices {
                    let up = call.reduction == .none ? gs[sampleOf(k)] : call.reduction == .mean ? gs[0] / T(samples) : gs[0]
                    let dp = w.map { -up * $0[classOf(k)] } ?? -up
                    dw.append(-up * (lp[k] * t[k]))
                    dlp.append(dp * t[k])
                    dt.append(ls > 0 ? dp * lp[k] * T(1 - ls) : dp * lp[k])
                }
                let weightGrad = call.weight.flatMap { weight -> Tensor? in
                    guard weight.requiresGrad else { return nil }
                    let view = shape.indices.map { $0 == dim ? classes : 1 }
                    return Tensor(shape: weight.shape, data: T.wrap(sumToShapeFast(dw, from: shape, to: view)).converted(to: weight.dtype))
                }
                return [logp.requiresGrad ? simdGradient(dlp, shape, for: logp) : nil,
                        call.target.requiresGrad ? simdGradient(dt, shape, for: call.target) : nil, weightGrad]
            }
    }

    /// ℓ_i = −x[i, t_i]·w[t_i], 0 where ignored; `sum` adds them, `mean` divides by
    /// W = Σ w[t_i] over the samples kept (their count without a weight; 0/0 = NaN when all are
    /// ignored). Backward: dx[i, t_i] = w[t_i]·(−g_i), with g / W for `mean`.
    static func simdNLLLoss(_ call: NLLCall) throws -> Tensor {
        let out = call.input.dtype == .float32 ? nll(Float.self, call) : nll(Double.self, call)
        return call.viewsOutput ? try out.view(call.unreducedShape) : out
    }

    private static func nll<T: FloatScalar>(_: T.Type, _ call: NLLCall) -> Tensor {
        let x = floatElements(call.input, T.self), w = call.weight.map { floatElements($0, T.self) }
        let layout = call.layout, samples = call.classes.count
        // The flat index of class k of sample i in the batch × classes × positions layout.
        @inline(__always) func at(_ i: Int, _ k: Int) -> Int {
            (i / layout.positions * layout.classes + k) * layout.positions + i % layout.positions
        }
        var output: [T], total: T = 0
        if call.reduction == .none {
            output = call.classes.enumerated().map { i, k in k.map { -x[at(i, $0)] * (w?[$0] ?? 1) } ?? 0 }
        } else {
            var loss = 0.0, weights = 0.0
            for (i, k) in call.classes.enumerated() {
                guard let k else { continue }
                loss += Double(-(x[at(i, k)] * (w?[k] ?? 1)))
                weights += Double(w?[k] ?? 1)
            }
            total = T(weights)
            output = [call.reduction == .mean ? T(loss) / total : T(loss)]
        }
        let shape = call.viewsOutput ? [layout.batch, 1, layout.positions] : call.reduction.shape(of: call.unreducedShape)
        let saved = [call.input, call.target, call.weight].compactMap { $0.map(SavedTensor.init) }
        let input = call.input
        return Tensor(shape: shape, output).recording(call.backwardName, inputs: [input], saving: saved) { g in
            for s in saved { _ = try s.unpack() }
            let gs = floatElements(g, T.self)
            let dx: [T] = makeZeroedArray(x.count) { dx in
                for (i, k) in call.classes.enumerated() {
                    guard let k else { continue }
                    let gi = gs.count == samples ? gs[i] : gs[0]
                    let grad = -(call.reduction == .mean ? gi / total : gi)
                    dx[at(i, k)] = w.map { $0[k] * grad } ?? grad
                }
            }
            return [input.requiresGrad ? Tensor(shape: input.shape, data: T.wrap(dx).converted(to: input.dtype)) : nil]
        }
    }
}
