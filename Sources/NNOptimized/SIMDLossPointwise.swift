import NNCore

/// The steps the binary, likelihood, margin and embedding loss kernels share
/// (`SIMDLossBinary.swift`, `SIMDLossLikelihood.swift`, `SIMDLossMargin.swift`,
/// `SIMDLossEmbedding.swift`):
/// - ℓ_k and each gradient element computed by one closure pair: 16 float lanes at a time for
///   float32, one Double at a time for float64, split across cores (`lossMap`, `gradientMap`);
/// - the loss recorded as the call's shared `LossNode` (`NNCore/Signatures`), reduced in the same
///   node by `fusedLossNode` (`SIMDLosses.swift`): the output's `grad_fn` is PyTorch's, the saved
///   tensors and their version checks are the reference's.
extension Optimized {
    /// ℓ recorded as `node`: the losses for `none`, else their sum (/ count for `mean`).
    /// `pullback(u)` receives each loss element's gradient, the reduction applied (`mean`'s 1/n
    /// included, for a fused node as for a composite one).
    static func recordLossNode<T: FloatScalar>(_ node: LossNode, _ losses: [T], shape: [Int], reduction: LossReduction,
                                               pullback: @escaping (_ u: Upstream<T>) throws -> [Tensor?]) -> Tensor {
        let n = losses.count
        return fusedLossNode(reduction == .none ? losses : nil, sum: reduction == .none ? 0 : lossSum(losses), count: n,
                             shape: shape, reduction: reduction, divisor: nil,
                             names: (node.name, node.outputName(.sum), node.outputName(.mean)),
                             inputs: node.inputs, saving: node.saved) { g in
            try pullback(g.composite(reduction, count: n, divisor: nil))
        }
    }

    /// Σ ℓ in Double: float32 in 16 lanes per block of 1024 (`vectorSum`), float64 in order.
    static func lossSum<T: FloatScalar>(_ losses: [T]) -> Double {
        losses.withPointer { lp in
            if T.self == Float.self { return vectorSum(losses.count, cost: 1) { i, m in lanes(lp.float, i, m) } }
            var s = 0.0
            for k in losses.indices { s += Double(lp[k]) }
            return s
        }
    }

    /// out[k] for k < n: `vector(i, m)` gives elements i..<i+m (m ≤ 16 valid lanes) for float32,
    /// `scalar(k)` element k for float64; split across cores (`cost` per element).
    @inline(__always)
    static func lossMap<T: FloatScalar>(_ n: Int, cost: Int, vector: (_ i: Int, _ m: Int) -> VF,
                                        scalar: (_ k: Int) -> T) -> [T] {
        makeArray(n) { out in
            if T.self == Float.self {
                let o = out.float
                SIMDParallel.forEachAligned(n, alignment: 1024, costPerItem: cost) { r in
                    var i = r.lowerBound
                    while i + 16 <= r.upperBound { vstore(vector(i, 16), o + i); i += 16 }
                    if i < r.upperBound { vstorePartial(vector(i, r.upperBound - i), o + i, r.upperBound - i) }
                }
            } else {
                SIMDParallel.forEach(n, costPerItem: cost) { r in for k in r { out[k] = scalar(k) } }
            }
        }
    }

    /// `lossMap` for a gradient: the closures also receive the upstream gradient of the element(s).
    @inline(__always)
    static func gradientMap<T: FloatScalar>(_ u: Upstream<T>, _ n: Int, cost: Int, vector: (_ g: VF, _ i: Int, _ m: Int) -> VF,
                                            scalar: (_ g: T, _ k: Int) -> T) -> [T] {
        u.values.withPointer { gp in
            lossMap(n, cost: cost, vector: { i, m in
                vector(u.stride == 0 ? VF(repeating: gp.float[0]) : lanes(gp.float, i, m), i, m)
            }, scalar: { k in scalar(gp[k &* u.stride], k) })
        }
    }

    /// The gradient of `input` when it requires one: `compute()` over the broadcast `shape`,
    /// summed back to its shape and cast to its dtype.
    @inline(__always)
    static func lossGradient<T: FloatScalar>(_ input: Tensor?, _ shape: [Int], _ compute: () -> [T]) -> Tensor? {
        guard let input, input.requiresGrad else { return nil }
        return simdGradient(compute(), shape, for: input)
    }

    /// −a elementwise.
    static func negated<T: FloatScalar>(_ a: [T]) -> [T] {
        a.withPointer { ap in lossMap(a.count, cost: 1, vector: { i, m in -lanes(ap.float, i, m) }, scalar: { k in -ap[k] }) }
    }

    /// The elements of `t` as T broadcast to `shape`, viewed first as `view` (same elements).
    static func expanded<T: FloatScalar>(_ t: Tensor, viewedAs view: [Int], to shape: [Int], _: T.Type) -> [T] {
        expanded(view == t.shape ? t : Tensor(shape: view, data: t.data), to: shape, T.self)
    }

    /// Labels as codes exactly representable in T: 1 where y = 1, −1 where y = −1, else 0
    /// (compared in Double, as the reference compares them, unless y is already a T), broadcast
    /// to `shape`.
    static func labelCodes<T: FloatScalar>(_ target: Tensor, to shape: [Int], _: T.Type) -> [T] {
        let codes: [T]
        if target.dtype == T.dtype {
            let (one, zero) = (VF(repeating: 1), VF())
            codes = floatElements(target, T.self).withPointer { yp in
                lossMap(target.numel, cost: 1, vector: { i, m in
                    let y = lanes(yp.float, i, m)
                    return zero.replacing(with: 1, where: y .== one).replacing(with: -1, where: y .== -one)
                }, scalar: { k in yp[k] == 1 ? 1 : yp[k] == -1 ? -1 : 0 })
            }
        } else {
            codes = target.doubles.map { $0 == 1 ? 1 : $0 == -1 ? -1 : 0 }
        }
        return target.shape == shape ? codes : expanded(Tensor(shape: target.shape, codes), to: shape, T.self)
    }
}

/// Elements i..<i+m of `p` (m ≤ 16; zeros above).
@inline(__always) func lanes(_ p: UnsafePointer<Float>, _ i: Int, _ m: Int) -> VF {
    m == 16 ? vload(p + i) : vloadPartial(p + i, m)
}

/// The smaller of each pair; where `b` is NaN, `a`.
@inline(__always) func vmin(_ a: VF, _ b: VF) -> VF { a.replacing(with: b, where: b .< a) }

/// log σ(x) = min(x, 0) − log1p(e^−|x|), ATen's `log_sigmoid` (no overflow for any x).
@inline(__always) func vlogSigmoid(_ x: VF) -> VF { vmin(x, VF()) - vlog1p(vexp(-vabs(x))) }

/// (log σ(x), log σ(−x)), sharing log1p(e^−|x|): the same values as two `vlogSigmoid` calls.
@inline(__always) func vlogSigmoids(_ x: VF) -> (VF, VF) {
    let l = vlog1p(vexp(-vabs(x))), zero = VF()
    return (vmin(x, zero) - l, vmin(-x, zero) - l)
}

/// log σ(x) in float64 (as the reference's `logSigmoid`).
@inline(__always) func logSigmoid<T: FloatScalar>(_ x: T) -> T { min(x, 0) - T.log(onePlus: T.exp(-abs(x))) }
