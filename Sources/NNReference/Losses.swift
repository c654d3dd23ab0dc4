import NNCore
import RealModule

/// Losses. `kl_div` computes the pointwise term as one node, named as PyTorch names the
/// last op of its expression, then reduces with the `sum`/`mean` kernels and divides by the
/// batch size with the `div` kernel, so the graph's last node is PyTorch's.
extension Reference {
    static let lossOps: [String: OpFunction] = [
        "kl_div": { try .tensor(klDiv(KLDivCall($0))) },
    ]

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

        var reduced = loss
        if call.reduction != .none {
            let kind: ReductionCall.Kind = call.reduction == .sum ? .sum : .mean
            reduced = reduce(try ReductionCall(kind, Arguments(op: kind.rawValue, ["input": .tensor(loss)])))
        }
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
    private static func klGradients<T: FloatScalar>(_ call: KLDivCall, _ gradient: Tensor, _ x: [T], _ t: [T],
                                                    _ ix: [Int], _ it: [Int], needs: (x: Bool, t: Bool)) -> [Tensor?] {
        let g = T.unwrap(gradient.data.converted(to: T.dtype))!
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
        func reduced(_ d: [T], to input: Tensor, _ needed: Bool) -> Tensor? {
            guard needed else { return nil }
            let summed = sumToShape(d, from: call.shape, to: input.shape)
            return Tensor(shape: input.shape, data: T.wrap(summed).converted(to: input.dtype))
        }
        return [reduced(dx, to: call.input, needs.x), reduced(dt, to: call.target, needs.t)]
    }
}
