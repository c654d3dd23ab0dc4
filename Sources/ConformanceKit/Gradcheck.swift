import NNCore

/// `torch.autograd.gradcheck` for one case: the backend's analytical vector-Jacobian product
/// against central finite differences, all in float64.
///
/// For each input x that requires grad and each element i, with v the case's `grad_output`:
///
///     numeric_i = ⟨v, f(x + h·e_i) − f(x − h·e_i)⟩ / 2h,   h = 1e-6
///
/// must match the i-th element of x.grad after `f(x).backward(v)` within
/// `atol 1e-5 + rtol 1e-3 · |numeric_i|` (gradcheck's defaults). Elements where f is not
/// differentiable are skipped: where f is not finite at x ± h·e_i (a domain edge such as
/// 0·log 0), or where the one-sided differences disagree by more than that tolerance (a kink,
/// such as relu at 0).
///
/// The result is a diagnostic, not a verdict on the case: it says whether the backend's backward
/// is the derivative of its own forward. PyTorch itself is not always consistent there (in
/// float64, `nearest` interpolation with a non-integer scale picks different source indices
/// forward and backward, and `torch.autograd.gradcheck` fails on it), and a reference that
/// matches PyTorch inherits that.
enum Gradcheck {
    static let h = 1e-6, atol = 1e-5, rtol = 1e-3
    /// Cases needing more than this many perturbed evaluations are skipped.
    static let maxEvaluations = 2000

    static func run(_ spec: CallSpec, backend: any Backend) -> GradcheckResult {
        func skipped(_ why: String) -> GradcheckResult { GradcheckResult(status: "skipped", maxAbsErr: nil, message: why) }
        if spec.args.contains(where: { $0.0 == "dtype" }) { return skipped("the call casts with 'dtype'") }
        let inputs = spec.args.compactMap { name, v -> (String, TensorSpec)? in
            guard case .tensor(let t) = v, t.requiresGrad else { return nil }
            return (name, t)
        }
        let evaluations = 2 * inputs.reduce(0) { $0 + $1.1.data.count }
        guard evaluations <= maxEvaluations else { return skipped("\(evaluations) evaluations exceed \(maxEvaluations)") }
        func widened(_ v: ValueSpec) -> ValueSpec {
            switch v {
            case .tensor(let t) where t.dtype.isFloatingPoint:
                return .tensor(TensorSpec(shape: t.shape, data: t.data.converted(to: .float64), requiresGrad: t.requiresGrad))
            case .list(let l): return .list(l.map(widened))
            default: return v
            }
        }
        let args = spec.args.map { ($0, widened($1)) }
        do {
            // Analytical.
            let values = try materialize(args)
            guard let out = flatten(try backend.call(spec.op, Arguments(op: spec.op, values))).first ?? nil else {
                return skipped("the op returned no tensor")
            }
            let v = spec.backward?.gradOutput.map { Tensor(shape: $0.shape, data: $0.data.converted(to: .float64)) }
                ?? Tensor(shape: out.shape, data: TensorData.float64(Array(repeating: 1, count: out.numel)))
            try out.backward(gradient: v)
            let vd = v.doubles
            let center = out.doubles
            // Numerical.
            var worst = 0.0
            for (name, t) in inputs {
                let analytic = values[name]?.tensor?.grad?.doubles ?? Array(repeating: 0, count: t.data.count)
                let base = t.data.converted(to: .float64).doubles
                for i in base.indices {
                    func f(_ delta: Double) throws -> [Double]? {
                        var x = base
                        x[i] += delta
                        let perturbed = args.map { n, s -> (String, ValueSpec) in
                            n == name ? (n, .tensor(TensorSpec(shape: t.shape, data: .float64(x), requiresGrad: false))) : (n, s)
                        }
                        let y = try GradMode.noGrad { flatten(try backend.call(spec.op, Arguments(op: spec.op, try materialize(perturbed)))).first ?? nil }
                        return y?.doubles
                    }
                    guard let plus = try f(h), let minus = try f(-h),
                          plus.allSatisfy(\.isFinite), minus.allSatisfy(\.isFinite) else { continue }
                    var right = 0.0, left = 0.0
                    for k in vd.indices {
                        right += vd[k] * (plus[k] - center[k])
                        left += vd[k] * (center[k] - minus[k])
                    }
                    let numeric = (right + left) / (2 * h)
                    if abs(right - left) / h > atol + rtol * abs(numeric) { continue }  // a kink
                    let err = abs(analytic[i] - numeric)
                    guard analytic[i].isFinite else { continue }
                    worst = max(worst, err)
                    if err > atol + rtol * abs(numeric) {
                        return GradcheckResult(status: "fail", maxAbsErr: err,
                                               message: "d/d\(name)\(unravel(i, shape: t.shape)): analytical \(analytic[i]), numerical \(numeric)")
                    }
                }
            }
            return GradcheckResult(status: "pass", maxAbsErr: worst, message: nil)
        } catch {
            return skipped("float64 evaluation failed: \(error)")
        }
    }
}
