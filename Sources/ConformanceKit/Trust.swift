import NNCore

/// Zero-trust, as oneDNN's benchdnn has it: a case passes only if its expected values could
/// have caught a wrong kernel. A case whose expected output or gradient is degenerate passes
/// for a kernel that does nothing, so instead of `pass` it is `mistrusted`.
///
/// A float or integer expected tensor T (numel n ≥ 1, compared with `atol`, `rtol`) is
/// degenerate when
///   1. **zero passes**: every element satisfies |T_i| ≤ atol + rtol·|T_i| — a kernel that
///      returns zeros agrees within tolerance (every value zero, or all so small that the error
///      bound swallows them);
///   2. **constant**: n ≥ 2 and every element equals T_0 (NaN counting as equal to NaN) — a
///      kernel that fills one value agrees;
///   3. **mostly zeros**: n ≥ `minimumElements` and more than `zeroLimit` (30%, benchdnn's
///      `zero_trust_percent`) of the elements are exactly zero — most of the tensor checks
///      nothing but that a kernel left zeros alone.
/// unless the op makes that shape of value *by design* (`byDesign`, a property of the op and
/// its arguments, never of a case's name): relu's output is zero on half of a symmetric
/// input, max_pool's input gradient is zero off the argmax, a floor division has no
/// gradient. Rule 1 is waived only where every value is zero by design.
public enum Trust {
    public static let zeroLimit = 0.3
    /// Below this many elements a fraction of zeros says little (one zero of two is 50%).
    public static let minimumElements = 8

    /// What an expected tensor is: output `i` of the call, or the gradient of an argument.
    public enum Subject: Hashable, CustomStringConvertible {
        case output(Int)
        case grad(String)
        public var description: String {
            switch self {
            case .output(let i): return i == 0 ? "output" : "output \(i)"
            case .grad(let n): return "grad of \(n)"
            }
        }
    }

    /// The kinds of degenerate value an op produces on purpose.
    public struct ByDesign: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// More than 30% exact zeros (a clamp at 0, a gradient routed to a few elements).
        public static let sparse = ByDesign(rawValue: 1)
        /// Every element equal (the gradient of a full sum or mean).
        public static let constant = ByDesign(rawValue: 2)
        /// Every element zero (the gradient of a piecewise-constant function).
        public static let zero = ByDesign(rawValue: 4)
        public static let all: ByDesign = [.sparse, .constant, .zero]
    }

    /// The reasons a case's expected values cannot tell a correct kernel from a broken one;
    /// empty when they can. `tensors` are the expected outputs and gradients with the
    /// tolerance each is compared at; `args` the call's materialized arguments.
    public static func reasons(op: String, args: [String: Value],
                               tensors: [(Subject, TensorSpec, Tolerance)]) -> [String] {
        var out: [String] = []
        for (subject, t, tol) in tensors {
            let allowed = byDesign(op: op, subject: subject, args: args)
            if let why = degenerate(t, tolerance: tol, allowed: allowed) { out.append("\(subject) \(why)") }
        }
        return out
    }

    /// Why one tensor is degenerate, or nil.
    static func degenerate(_ t: TensorSpec, tolerance: Tolerance, allowed: ByDesign) -> String? {
        let v = t.data.doubles
        let n = v.count
        guard n > 0 else { return nil }
        let exact = !t.dtype.isFloatingPoint
        let zeros = v.lazy.filter { $0 == 0 }.count
        if zeros == n {
            return allowed.contains(.zero) ? nil : "is all zeros (\(n) element\(n == 1 ? "" : "s")): a kernel returning zeros passes"
        }
        if !exact && !allowed.contains(.zero) {
            let bound = v.allSatisfy { $0.isFinite && abs($0) <= tolerance.atol + tolerance.rtol * abs($0) }
            if bound {
                let m = v.map(abs).max() ?? 0
                return "is within tolerance of zero everywhere (max |x| \(m) ≤ atol \(tolerance.atol)): a kernel returning zeros passes"
            }
        }
        if n >= 2 && !allowed.contains(.constant) {
            let first = v[0]
            if v.allSatisfy({ $0 == first || ($0.isNaN && first.isNaN) }) {
                return "has one value everywhere (\(first), \(n) elements): a kernel filling a constant passes"
            }
        }
        // (A bool's false is one of its two values, not an absence.)
        if n >= minimumElements && t.dtype != .bool && !allowed.contains(.sparse) && Double(zeros) > zeroLimit * Double(n) {
            let pct = Int((100 * Double(zeros) / Double(n)).rounded())
            return "is \(pct)% zeros (\(zeros) of \(n), more than \(Int(zeroLimit * 100))%) where the op does not make zeros by design"
        }
        return nil
    }
}

extension Trust {
    /// The reasons for a single-call case: its expected outputs at the output tolerance, and
    /// its expected gradients at each one's tolerance (as `grads` recorded them).
    static func reasons(_ spec: CallSpec, args: [String: Value], outputTolerance: Tolerance?, grads: [GradResult]) -> [String] {
        var tensors: [(Subject, TensorSpec, Tolerance)] = []
        if let tol = outputTolerance {
            for (i, e) in (spec.expect?.outputs ?? []).enumerated() { if let e { tensors.append((.output(i), e, tol)) } }
        }
        let tolerances = Dictionary(grads.map { ($0.name, $0.tolerance) }, uniquingKeysWith: { a, _ in a })
        for (name, e) in spec.backward?.grads ?? [] {
            if let tol = tolerances[name] { tensors.append((.grad(name), e, tol)) }
        }
        return reasons(op: spec.op, args: args, tensors: tensors)
    }
}
