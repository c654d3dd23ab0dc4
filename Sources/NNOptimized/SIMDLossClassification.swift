import NNCore

/// `nll_loss` and `cross_entropy` with class-index targets (`label_smoothing` and
/// class-probability targets are `Unsupported`), recorded as the reference records them:
/// `cross_entropy` is `log_softmax` over the class dim (`LogSoftmaxBackward0`, saving its
/// output) then `nll_loss` (`NllLossBackward0` / `NllLoss2DBackward0` saving input, target and
/// weight; `ViewBackward0` on a viewed `none` result).
extension Optimized {
    static func simdCrossEntropy(_ call: CrossEntropyCall) throws -> Tensor {
        let logp = try simdSoftmax(SoftmaxCall(.logSoftmax, Arguments(op: "log_softmax", ["input": .tensor(call.input),
                                                                                         "dim": .int(call.classDim)])))
        if call.probabilities {
            _ = try LossCheck.floatingType([call.input, call.target, call.weight], op: "cross_entropy")
            throw Unsupported("cross_entropy with class-probability targets")
        }
        let nllCall = try call.nll(on: logp)
        if call.labelSmoothing > 0 { throw Unsupported("cross_entropy with label_smoothing > 0") }
        return try simdNLLLoss(nllCall)
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
