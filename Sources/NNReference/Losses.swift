import NNCore
import RealModule

/// Losses: the op table, the steps every loss kernel shares, and `kl_div`. The other kernels
/// are in `LossClassification.swift`, `LossRegression.swift`, `LossBinary.swift`,
/// `LossMargin.swift` and `LossEmbedding.swift`.
///
/// A kernel is one of two kinds, as the op is in ATen:
/// - fused (`mse_loss`, `nll_loss`, `binary_cross_entropy`, ...): one node (`MseLossBackward0`)
///   computes the loss and its reduction; its pullback receives the reduced output's gradient
///   spread over the loss elements (`fusedLoss`);
/// - composite (`l1_loss`, `poisson_nll_loss`, `margin_ranking_loss`, ...): ATen builds ℓ from
///   pointwise ops; the kernel records ℓ as one node named as PyTorch names its last op, then
///   reduces with the `sum` / `mean` kernels (`compositeLoss`), so the output's `grad_fn` is PyTorch's.
extension Reference {
    static let lossOps: [String: OpFunction] = [
        "kl_div": { try .tensor(klDiv(KLDivCall($0))) },
        "nll_loss": { try .tensor(nllLoss(NLLCall($0))) },
        "cross_entropy": { try .tensor(crossEntropy(CrossEntropyCall($0))) },
        "mse_loss": { try .tensor(pairwiseLoss(PairwiseLossCall(.mse, $0))) },
        "l1_loss": { try .tensor(pairwiseLoss(PairwiseLossCall(.l1, $0))) },
        "smooth_l1_loss": { try .tensor(pairwiseLoss(PairwiseLossCall(.smoothL1, $0))) },
        "huber_loss": { try .tensor(pairwiseLoss(PairwiseLossCall(.huber, $0))) },
        "binary_cross_entropy": { try .tensor(binaryCrossEntropy(BCECall($0))) },
        "binary_cross_entropy_with_logits": { try .tensor(binaryCrossEntropyWithLogits(BCEWithLogitsCall($0))) },
        "poisson_nll_loss": { try .tensor(poissonNLLLoss(PoissonNLLCall($0))) },
        "gaussian_nll_loss": { try .tensor(gaussianNLLLoss(GaussianNLLCall($0))) },
        "cosine_embedding_loss": { try .tensor(cosineEmbeddingLoss(CosineEmbeddingCall($0))) },
        "margin_ranking_loss": { try .tensor(marginRankingLoss(MarginRankingCall($0))) },
        "hinge_embedding_loss": { try .tensor(hingeEmbeddingLoss(HingeEmbeddingCall($0))) },
        "triplet_margin_loss": { try .tensor(tripletMarginLoss(TripletMarginCall($0))) },
        "soft_margin_loss": { try .tensor(softMarginLoss(SoftMarginCall($0))) },
        "multilabel_soft_margin_loss": { try .tensor(multilabelSoftMarginLoss(MultilabelSoftMarginCall($0))) },
        "multi_margin_loss": { try .tensor(multiMarginLoss(MultiMarginCall($0))) },
        "multilabel_margin_loss": { try .tensor(multilabelMarginLoss(MultilabelMarginCall($0))) },
    ]

    // MARK: Shared steps

    /// The elements of `t` converted to `T`, the dtype the loss computes in.
    static func elements<T: FloatScalar>(_ t: Tensor, _: T.Type) -> [T] {
        T.unwrap(t.data.converted(to: T.dtype))!
    }

    /// A gradient computed over `shape`, summed back over the dims `input` was broadcast along
    /// and cast to its dtype; nil when `input` is absent or needs no gradient.
    static func gradient<T: FloatScalar>(_ d: [T], _ shape: [Int], for input: Tensor?) -> Tensor? {
        guard let input, input.requiresGrad else { return nil }
        let summed = sumToShape(d, from: shape, to: input.shape)
        return Tensor(shape: input.shape, data: T.wrap(summed).converted(to: input.dtype))
    }

    /// Records `output` as the node `name` over `inputs`. `saving` is what PyTorch's node saves:
    /// writing one of them in place afterwards makes the backward fail as in PyTorch. The
    /// pullback receives the output's gradient as `[T]`.
    static func recordLoss<T: FloatScalar>(_ output: Tensor, _ name: String, _: T.Type, inputs: [Tensor?], saving: [Tensor?],
                                           pullback: @escaping ([T]) throws -> [Tensor?]) -> Tensor {
        let saved = saving.compactMap { $0.map(SavedTensor.init) }
        return output.recording(name, inputs: inputs, saving: saved) { g in
            for s in saved { _ = try s.unpack() }
            return try pullback(elements(g, T.self))
        }
    }

    /// A fused loss: `output` (already reduced) recorded as one node; its pullback receives the
    /// gradient of each of the `count` loss elements: its own for `none`, the single output
    /// gradient for all of them otherwise.
    static func fusedLoss<T: FloatScalar>(_ output: [T], shape: [Int], count: Int, _ name: String, inputs: [Tensor?],
                                          saving: [Tensor?], pullback: @escaping ([T]) throws -> [Tensor?]) -> Tensor {
        recordLoss(Tensor(shape: shape, output), name, T.self, inputs: inputs, saving: saving) { g in
            try pullback(g.count == count ? g : Array(repeating: g[0], count: count))
        }
    }

    /// A composite loss: the pointwise loss `loss` over `shape` recorded as the node `name`,
    /// then reduced by `reduceLoss`.
    static func compositeLoss<T: FloatScalar>(_ loss: [T], shape: [Int], _ reduction: LossReduction, _ name: String,
                                              inputs: [Tensor?], saving: [Tensor?],
                                              pullback: @escaping ([T]) throws -> [Tensor?]) throws -> Tensor {
        try reduceLoss(recordLoss(Tensor(shape: shape, loss), name, T.self, inputs: inputs, saving: saving, pullback: pullback),
                       reduction)
    }

    /// `fusedLoss` recording the call's shared `node`.
    static func fusedLoss<T: FloatScalar>(_ output: [T], shape: [Int], count: Int, _ node: LossNode,
                                          pullback: @escaping ([T]) throws -> [Tensor?]) -> Tensor {
        fusedLoss(output, shape: shape, count: count, node.name, inputs: node.inputs, saving: node.saving, pullback: pullback)
    }

    /// `compositeLoss` recording the call's shared `node`.
    static func compositeLoss<T: FloatScalar>(_ loss: [T], shape: [Int], _ reduction: LossReduction, _ node: LossNode,
                                              pullback: @escaping ([T]) throws -> [Tensor?]) throws -> Tensor {
        try compositeLoss(loss, shape: shape, reduction, node.name, inputs: node.inputs, saving: node.saving, pullback: pullback)
    }

    /// ATen's `apply_loss_reduction`: `mean()` (`MeanBackward0`), `sum()` (`SumBackward0`) or the loss itself.
    static func reduceLoss(_ loss: Tensor, _ reduction: LossReduction) throws -> Tensor {
        guard reduction != .none else { return loss }
        let kind: ReductionCall.Kind = reduction == .sum ? .sum : .mean
        return reduce(try ReductionCall(kind, Arguments(op: kind.rawValue, ["input": .tensor(loss)])))
    }

    /// `mean()` / `sum()` of a fused loss's elements inside its kernel: Σ ℓ in order, / n for `mean`.
    static func reduceElements<T: FloatScalar>(_ loss: [T], _ reduction: LossReduction) -> [T] {
        guard reduction != .none else { return loss }
        let sum = loss.reduce(0, +)
        return [reduction == .mean ? sum / T(loss.count) : sum]
    }

    // MARK: kl_div

    /// ℓ = xlogy(t, t) − t·x  (`SubBackward0`), or ℓ = e^t · (t − x) with `log_target`
    /// (`MulBackward0`); then `sum` / `mean`, and for `batchmean` / input.size(0).
    static func klDiv(_ call: KLDivCall) throws -> Tensor {
        let x = call.input, t = call.target
        let ix = broadcastIndices(from: x.shape, to: call.shape)
        let it = broadcastIndices(from: t.shape, to: call.shape)
        let xd = x.data.converted(to: call.dtype), td = t.data.converted(to: call.dtype)
        let loss: Tensor
        switch (xd, td) {
        case (.float32(let xs), .float32(let ts)): loss = Tensor(shape: call.shape, klPointwise(xs, ts, ix, it, call.logTarget))
        case (.float64(let xs), .float64(let ts)): loss = Tensor(shape: call.shape, klPointwise(xs, ts, ix, it, call.logTarget))
        default: preconditionFailure("rejected by KLDivCall")
        }

        // Saved as PyTorch's pieces save them: xlogy(t, t) and t·x keep t (and x when t needs a
        // gradient), so writing them afterwards breaks the backward; with `log_target` only
        // intermediates (e^t, t − x) are kept. The pullback computes from the forward's copies
        // and unpacks the saved tensors for their version check.
        let saving = call.logTarget ? [SavedTensor(Tensor(shape: t.shape, data: td))]
            : [SavedTensor(t)] + (t.requiresGrad ? [SavedTensor(x)] : [])
        let needs = (x: x.requiresGrad, t: t.requiresGrad)
        loss.recording(call.logTarget ? "MulBackward0" : "SubBackward0", inputs: [x, t], saving: saving) { g in
            for s in saving { _ = try s.unpack() }
            return klPullback(call, g, xd, td, ix, it, needs: needs)
        }

        var reduced = try reduceLoss(loss, call.reduction)
        if let n = call.batchDivisor {
            reduced = try binary(.div, Arguments(op: "div", ["input": .tensor(reduced), "other": .int(n)]), inplace: false).tensor!
        }
        return reduced
    }

    /// xlogy(a, b) = a · log b, 0 where a = 0 (NaN where b is NaN).
    private static func xlogy<T: FloatScalar>(_ a: T, _ b: T) -> T {
        if b.isNaN { return .nan }
        return a == 0 ? 0 : a * T.log(b)
    }

    private static func klPointwise<T: FloatScalar>(_ x: [T], _ t: [T], _ ix: [Int], _ it: [Int], _ logTarget: Bool) -> [T] {
        broadcastZip(x, t, ix, it) { x, t in logTarget ? T.exp(t) * (t - x) : xlogy(t, t) - t * x }
    }

    private static func klPullback(_ call: KLDivCall, _ g: Tensor, _ x: TensorData, _ t: TensorData,
                                   _ ix: [Int], _ it: [Int], needs: (x: Bool, t: Bool)) -> [Tensor?] {
        switch (x, t) {
        case (.float32(let xs), .float32(let ts)): return klGradients(call, g, xs, ts, ix, it, needs: needs)
        case (.float64(let xs), .float64(let ts)): return klGradients(call, g, xs, ts, ix, it, needs: needs)
        default: preconditionFailure("rejected by KLDivCall")
        }
    }

    /// Without `log_target`: dx = −g·t; dt = xlogy(g, t) + g·t/t − g·x (xlogy's two terms and
    /// the product's; PyTorch zeroes the first where t = 0, but g·t/t is NaN there anyway).
    /// With it: dx = −g·e^t; dt = g·(t − x)·e^t + g·e^t.
    private static func klGradients<T: FloatScalar>(_ call: KLDivCall, _ upstream: Tensor, _ x: [T], _ t: [T],
                                                    _ ix: [Int], _ it: [Int], needs: (x: Bool, t: Bool)) -> [Tensor?] {
        let g = elements(upstream, T.self)
        var dx = [T](), dt = [T]()
        for k in g.indices {
            let (xk, tk, gk) = (x[ix[k]], t[it[k]], g[k])
            if call.logTarget {
                let e = T.exp(tk)
                dx.append(-(gk * e))
                dt.append(gk * (tk - xk) * e + gk * e)
            } else {
                dx.append(-gk * tk)
                dt.append(xlogy(gk, tk) + gk * tk / tk + -gk * xk)
            }
        }
        return [needs.x ? gradient(dx, call.shape, for: call.input) : nil,
                needs.t ? gradient(dt, call.shape, for: call.target) : nil]
    }
}
