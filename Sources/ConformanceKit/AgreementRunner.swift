import Foundation
import NNCore

/// The verdict of one random call on two backends.
public enum AgreementVerdict: Equatable {
    case agree
    /// Either backend lacks the op (or an argument value): skipped, not judged.
    case unsupported(String)
    case disagree(String)

    public var isDisagreement: Bool { if case .disagree = self { return true } else { return false } }
}

/// Runs a call on two backends and compares everything a fixture would: the error (type and
/// message) or the outputs (count, shapes, dtypes, values within the tolerance rule for the
/// op's reduction length K), the first output's `grad_fn` name, tensors the op updates in place
/// (running statistics), and, after a backward from the first output with a seeded
/// `grad_output`, the gradient of every argument that requires grad.
public struct AgreementRunner {
    public let first: any Backend
    public let second: any Backend

    public init(_ first: any Backend, _ second: any Backend) {
        self.first = first
        self.second = second
    }

    /// The upstream gradient for an output of `shape`: uniform in [−1, 1], seeded by the case.
    public static func gradOutput(_ c: AgreementCase, shape: [Int], dtype: DType) -> GenTensor {
        GenTensor(shape: shape, dtype: dtype, fill: .uniform(-1, 1), seed: (c.seed ^ 0x6BAD_0000) & 0x1F_FFFF_FFFF_FFFF, requiresGrad: false)
    }

    struct Side {
        var args: [String: Value] = [:]
        var outcome: Result<Value, Error> = .success(.none)
        var backward: Result<Void, Error>?
    }

    /// The verdict, and the `grad_output` used (for printing the case), if a backward ran.
    public func run(_ c: AgreementCase) -> (AgreementVerdict, GenTensor?) {
        var a = Side(), b = Side()
        do { a.args = try c.materialize(); b.args = try c.materialize() } catch {
            return (.disagree("the case does not materialize: \(error)"), nil)
        }
        a.outcome = Result { try first.call(c.op, Arguments(op: c.op, a.args)) }
        b.outcome = Result { try second.call(c.op, Arguments(op: c.op, b.args)) }
        for side in [a, b] {
            if case .failure(let u as Unsupported) = side.outcome { return (.unsupported(u.reason), nil) }
        }
        let names = (first.name, second.name)
        switch (a.outcome, b.outcome) {
        case (.failure(let e), .failure(let f)):
            return ("\(e)" == "\(f)" ? .agree : .disagree("errors differ: \(names.0): \(e); \(names.1): \(f)"), nil)
        case (.failure(let e), .success):
            return (.disagree("\(names.0) raised \(e), \(names.1) succeeded"), nil)
        case (.success, .failure(let f)):
            return (.disagree("\(names.0) succeeded, \(names.1) raised \(f)"), nil)
        case (.success(let x), .success(let y)):
            return compareResults(c, x, y, &a, &b)
        }
    }

    private func compareResults(_ c: AgreementCase, _ x: Value, _ y: Value, _ a: inout Side, _ b: inout Side) -> (AgreementVerdict, GenTensor?) {
        let (xs, ys) = (flatten(x), flatten(y))
        guard xs.count == ys.count else { return (.disagree("\(xs.count) outputs vs \(ys.count)"), nil) }
        let lengths = ToleranceRule.reductionLengths(op: c.op, args: a.args, outputShape: xs.first??.shape)
        for (i, (p, q)) in zip(xs, ys).enumerated() {
            let label = xs.count > 1 ? "output \(i)" : "output"
            switch (p, q) {
            case (nil, nil): continue
            case (let p?, let q?):
                if let m = Self.differ(p, q, terms: lengths.output) { return (.disagree("\(label) \(m)"), nil) }
            default: return (.disagree("\(label) is a tensor on one backend only"), nil)
            }
        }
        // Tensors updated in place that do not require grad (running_mean, an in-place input).
        for key in a.args.keys.sorted() {
            guard let p = a.args[key]?.tensor, let q = b.args[key]?.tensor, !p.requiresGrad else { continue }
            if let m = Self.differ(p, q, terms: lengths.output) { return (.disagree("argument \(key) after the call \(m)"), nil) }
        }
        guard let p = xs.first ?? nil, let q = ys.first ?? nil else { return (.agree, nil) }
        if p.gradFn?.name != q.gradFn?.name {
            return (.disagree("grad_fn \(p.gradFn?.name ?? "None") vs \(q.gradFn?.name ?? "None")"), nil)
        }
        guard p.requiresGrad, q.requiresGrad, p.dtype.isFloatingPoint, p.numel > 0 else { return (.agree, nil) }
        let g = Self.gradOutput(c, shape: p.shape, dtype: p.dtype)
        let pb = Result { try p.backward(gradient: g.spec.make()) }
        let qb = Result { try q.backward(gradient: g.spec.make()) }
        switch (pb, qb) {
        case (.failure(let e), .failure(let f)):
            return ("\(e)" == "\(f)" ? .agree : .disagree("backward errors differ: \(e); \(f)"), g)
        case (.failure(let e), .success): return (.disagree("backward: \(first.name) raised \(e)"), g)
        case (.success, .failure(let f)): return (.disagree("backward: \(second.name) raised \(f)"), g)
        case (.success, .success): break
        }
        for key in a.args.keys.sorted() {
            guard let s = a.args[key]?.tensor, let t = b.args[key]?.tensor, s.requiresGrad, s.isLeaf else { continue }
            switch (s.grad, t.grad) {
            case (nil, nil): continue
            case (let gs?, let gt?):
                if let m = Self.differ(gs, gt, terms: lengths.grads[key] ?? 1) { return (.disagree("grad of \(key) \(m)"), g) }
            default: return (.disagree("grad of \(key) exists on one backend only"), g)
            }
        }
        return (.agree, g)
    }

    /// Why `q` (the second backend's, "got") differs from `p` (the first's, "expected") beyond
    /// the rule's tolerance, or nil.
    static func differ(_ p: Tensor, _ q: Tensor, terms: Int) -> String? {
        let (tol, source) = ToleranceRule.tolerance(p.dtype, terms: terms)
        let a = compare(q, TensorSpec(shape: p.shape, data: p.data, requiresGrad: false), tolerance: tol)
        return a.mismatch.map { "\($0) [rtol \(tol.rtol), atol \(tol.atol): \(source)]" }
    }
}
