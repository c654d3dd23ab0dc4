import Foundation
import NNCore

public struct RunOptions {
    /// Only cases whose id this matches (searched, as Python's `re.search`).
    public var filter: NSRegularExpression?
    /// Also check the reference backward against finite differences (`--gradcheck`).
    public var gradcheck = false
    /// Seconds spent timing each phase (forward, backward) of a case, after its checked run.
    public var timeBudget = 0.02
    /// At most this many timed repetitions per phase.
    public var maxRepeats = 15
    /// `(k, n)`: run only shard k of n (1-based), a deterministic split by case id, so a CI
    /// matrix can spread a run over machines and `conformance merge` can join the reports.
    public var shard: (Int, Int)?
    /// Called before a case runs on a backend (id, backend name), and with each result as soon
    /// as it is final: how an isolated worker tells its supervisor where it is (Isolation.swift).
    public var willRun: ((String, String) -> Void)?
    public var didRun: ((CaseResult) -> Void)?
    public init() {}
}

/// Runs fixture cases on backends and judges them. Every case is independent: its tensors are
/// made afresh from the fixture for each backend and each timed repetition.
public struct Runner {
    public let backends: [any Backend]
    public let options: RunOptions

    public init(backends: [any Backend], options: RunOptions = RunOptions()) {
        self.backends = backends
        self.options = options
    }

    public func selected(_ files: [FixtureFile]) -> [FixtureCase] {
        files.flatMap(\.cases).filter { c in
            if let (k, n) = options.shard, Int(fnv1a(c.id) % UInt64(n)) != k - 1 { return false }
            guard let f = options.filter else { return true }
            return f.firstMatch(in: c.id, range: NSRange(c.id.startIndex..., in: c.id)) != nil
        }
    }

    /// Runs every selected case on every backend; `progress(done, total, id)` after each.
    /// With several backends, each one's outputs and gradients are also compared with the first
    /// backend's (the reference, when it runs): `vs_reference` in the report, and the verdict of
    /// a case that has no expected values of its own.
    public func run(_ cases: [FixtureCase], progress: ((Int, Int, String) -> Void)? = nil) -> [CaseResult] {
        var results: [CaseResult] = []
        let total = cases.count * backends.count
        let ordered = runOrder
        for c in cases {
            var baseline: (result: CaseResult, computed: Computed)?
            for b in ordered {
                options.willRun?(c.id, b.name)
                var (r, computed) = runCapturing(c, on: b)
                if let computed, let base = baseline {
                    compareWithReference(c, &r, computed, base.result, base.computed)
                } else if baseline == nil, let computed, ordered.count > 1 {
                    baseline = (r, computed)
                }
                results.append(r)
                options.didRun?(r)
                progress?(results.count, total, c.id)
            }
        }
        return results
    }

    /// The order each case runs on the backends: the reference first, the baseline of the others.
    public var runOrder: [any Backend] {
        backends.sorted { ($0.name == "reference" ? 0 : 1) < ($1.name == "reference" ? 0 : 1) }
    }

    public func run(_ c: FixtureCase, on backend: any Backend) -> CaseResult { runCapturing(c, on: backend).0 }

    /// What a backend computed for a single-call case: outputs and the gradients of its inputs.
    struct Computed {
        var outputs: [Tensor?] = []
        var grads: [String: Tensor] = [:]
        var terms = (output: 1, grads: [String: Int]())
    }

    func runCapturing(_ c: FixtureCase, on backend: any Backend) -> (CaseResult, Computed?) {
        var r = CaseResult(id: c.id, backend: backend.name, op: c.op, status: .pass)
        r.tags = c.tags.isEmpty ? nil : c.tags
        var computed: Computed?
        switch c.body {
        case .invalid(let why):
            r.status = .invalid
            r.message = why
        case .call(let spec):
            computed = runCall(c, spec, on: backend, into: &r)
        case .program where !backend.supportsPrograms:
            r.status = .unsupported
            r.message = "program cases need tensors in this process; the \(backend.name) backend runs elsewhere"
        case .program(let steps):
            var program = ProgramRun(backend: backend, testCase: c)
            program.run(steps, into: &r)
        }
        return (r, computed)
    }

    /// Agreement of another backend's outputs and gradients with the reference's, at the case's
    /// tolerance (or the default rule); and the speed-up of its forward over the reference's.
    private func compareWithReference(_ c: FixtureCase, _ r: inout CaseResult, _ mine: Computed, _ baseResult: CaseResult, _ base: Computed) {
        if let mineMs = r.forwardMs, let baseMs = baseResult.forwardMs, mineMs > 0 { r.speedup = baseMs / mineMs }
        // A random op's mask is the backend's own draw: it is judged by its properties (RandomOps), not by agreement.
        if case .call(let spec) = c.body, spec.expect?.dropout != nil { return }
        var agreement = Agreement(), grads: [GradResult] = []
        for (a, b) in zip(mine.outputs, base.outputs) {
            guard let a, let b else { continue }
            let (t, _) = tolerance(c.tolerance, b.dtype, terms: base.terms.output)!
            agreement = agreement.merged(compare(a, TensorSpec(shape: b.shape, data: b.data, requiresGrad: false), tolerance: t))
        }
        for (name, b) in base.grads.sorted(by: { $0.key < $1.key }) {
            guard let a = mine.grads[name] else { continue }
            let (t, _) = tolerance(c.gradTolerance ?? c.tolerance, b.dtype, terms: base.terms.grads[name] ?? 1)!
            grads.append(GradResult(name: name, agreement: compare(a, TensorSpec(shape: b.shape, data: b.data, requiresGrad: false), tolerance: t), tolerance: t))
        }
        r.vsReference = agreement
        r.vsReferenceGrads = grads.isEmpty ? nil : grads
        // A case without expected values is judged by agreement with the reference alone.
        guard case .call(let spec) = c.body, spec.expect?.outputs == nil, spec.expect?.error == nil else { return }
        if let m = agreement.mismatch { r.fail("disagrees with \(baseResult.backend): output \(m)", agreement) }
        for g in grads { if let m = g.agreement.mismatch { r.fail("disagrees with \(baseResult.backend): grad of \(g.name) \(m)", g.agreement) } }
    }

    // MARK: single-call cases

    private func runCall(_ c: FixtureCase, _ spec: CallSpec, on backend: any Backend, into r: inout CaseResult) -> Computed? {
        let args: [String: Value]
        do { args = try materialize(spec.args) } catch {
            r.status = .invalid
            r.message = "\(c.file): case '\(c.name)': \(error)"
            return nil
        }
        r.arguments = spec.args.map { "\($0)=\($1.brief)" }.joined(separator: " ")
        let start = DispatchTime.now()
        let outcome = Result { try Warnings.collect { try backend.call(spec.op, Arguments(op: spec.op, args)) } }
        let firstForward = seconds(since: start)

        if let expected = spec.expect?.error {
            (r.status, r.message) = judge(outcome.map(\.0), expectedError: expected)
            return nil
        }
        let value: Value, warnings: [Warning]
        switch outcome {
        case .failure(let e): (r.status, r.message) = unexpected(e); return nil
        case .success(let (v, w)): (value, warnings) = (v, w)
        }
        if let pattern = spec.expect?.warning, !warnings.contains(where: { search(pattern, in: $0.message) }) {
            r.status = .fail
            r.message = "expected a warning matching /\(pattern)/, got " + (warnings.isEmpty ? "none" : warnings.map(\.description).joined(separator: "; "))
            return nil
        }
        let outputs = flatten(value)
        r.flops = FlopCount.forward(op: spec.op, args: args, outputShape: outputs.first??.shape)
        let lengths = ToleranceRule.reductionLengths(op: spec.op, args: args, outputShape: outputs.first??.shape)
        var computed = Computed(outputs: outputs, terms: (lengths.output, lengths.grads))
        if let expected = spec.expect?.outputs {
            guard let (tolerance, source) = tolerance(c.tolerance, expected.compactMap { $0 }.first?.dtype, terms: lengths.output) else { return computed }
            r.tolerance = tolerance
            r.toleranceSource = source
            guard expected.count == outputs.count || (!(spec.expect?.isTuple ?? false) && outputs.count >= 1) else {
                r.status = .fail
                r.message = "the op returned \(outputs.count) outputs, the fixture expects \(expected.count)"
                return computed
            }
            for (i, e) in expected.enumerated() {
                guard let e else { continue }
                guard let actual = outputs[i] else {
                    r.status = .fail
                    r.message = "output \(i) is None, expected a tensor"
                    return computed
                }
                let a = compare(actual, e, tolerance: tolerance)
                r.record(a)
                if let m = a.mismatch { r.fail("output" + (expected.count > 1 ? " \(i)" : "") + " " + m, a) }
            }
        }
        var firstBackward: Double?
        if let b = spec.backward {
            guard let root = outputs.first ?? nil else {
                r.status = .error
                r.message = "backward: the op returned no tensor"
                return computed
            }
            let start = DispatchTime.now()
            do { try root.backward(gradient: b.gradOutput?.make()) } catch {
                (r.status, r.message) = unexpected(error, during: "backward")
                return computed
            }
            firstBackward = seconds(since: start)
            for (name, value) in args { if let g = value.tensor?.grad { computed.grads[name] = g } }
            var grads: [GradResult] = []
            for (name, expected) in b.grads {
                let (tolerance, source) = self.tolerance(c.gradTolerance ?? c.tolerance, expected.dtype, terms: lengths.grads[name] ?? 1)!
                guard let g = args[name]?.tensor?.grad else {
                    r.status = .fail
                    r.message = r.message ?? "input '\(name)' has no gradient after backward"
                    continue
                }
                let a = compare(g, expected, tolerance: tolerance)
                grads.append(GradResult(name: name, agreement: a, tolerance: tolerance, toleranceSource: source))
                if let m = a.mismatch { r.fail("grad of \(name) \(m)", a) }
            }
            r.grads = grads.isEmpty ? nil : grads
            if options.gradcheck && backend.name == "reference" {
                r.gradcheck = spec.expect?.dropout == nil ? Gradcheck.run(spec, backend: backend) : RandomOps.gradcheckSkipped
            }
        }
        r.mistrust(Trust.reasons(spec, args: args, outputTolerance: r.tolerance, grads: r.grads ?? []))
        if let d = spec.expect?.dropout, r.status == .pass {
            RandomOps.check(d, c, spec, args: args, output: outputs.first ?? nil, into: &r)
        }
        r.forwardMs = time(first: firstForward) {
            let fresh = try materialize(spec.args)
            let start = DispatchTime.now()
            _ = try backend.call(spec.op, Arguments(op: spec.op, fresh))
            return seconds(since: start)
        }
        if let b = spec.backward, let first = firstBackward {
            r.backwardMs = time(first: first) {
                let fresh = try materialize(spec.args)
                guard let root = flatten(try backend.call(spec.op, Arguments(op: spec.op, fresh))).first ?? nil else { return 0 }
                let gradient = b.gradOutput?.make()
                let start = DispatchTime.now()
                try root.backward(gradient: gradient)
                return seconds(since: start)
            }
        }
        return computed
    }

    /// The case's tolerance, or the rule's for `dtype` and `terms`; nil only without a dtype.
    func tolerance(_ given: Tolerance?, _ dtype: DType?, terms: Int) -> (Tolerance, String)? {
        if let given { return (given, "fixture") }
        guard let dtype else { return nil }
        return ToleranceRule.tolerance(dtype, terms: terms)
    }

    /// Median in milliseconds of the first measured run and further repetitions of `body`
    /// (each returning the seconds it measured) until the time budget or repeat cap is reached.
    /// The first run, which also warmed caches up, counts only when it alone exceeded the budget.
    func time(first: Double, _ body: () throws -> Double) -> Double? {
        guard first < options.timeBudget else { return first * 1000 }
        var samples: [Double] = []
        var spent = 0.0
        while spent < options.timeBudget && samples.count < options.maxRepeats {
            guard let s = try? body() else { return nil }
            samples.append(s)
            spent += s
        }
        samples.sort()
        return samples.isEmpty ? nil : samples[samples.count / 2] * 1000
    }
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// Fresh values for a call's arguments: every tensor built anew from its spec.
func materialize(_ args: [(String, ValueSpec)], env: [String: Value] = [:]) throws -> [String: Value] {
    var values: [String: Value] = [:]
    for (k, v) in args { values[k] = try materialize(v, env: env) }
    return values
}

func materialize(_ v: ValueSpec, env: [String: Value]) throws -> Value {
    switch v {
    case .literal(let x): return x
    case .tensor(let t): return .tensor(t.make())
    case .list(let l): return .list(try l.map { try materialize($0, env: env) })
    case .ref(let name):
        guard let x = env[name] else {
            throw FormatError(path: "", message: "reference to '\(name)' outside a program or before it is defined")
        }
        return x
    }
}

/// An op's result as a list of tensors (a tuple's entries; `nil` for a non-tensor entry).
func flatten(_ v: Value) -> [Tensor?] {
    switch v {
    case .tensor(let t): return [t]
    case .list(let l): return l.map(\.tensor)
    default: return [nil]
    }
}

/// Python's `re.search(pattern, text)`.
func search(_ pattern: String, in text: String) -> Bool {
    guard let re = try? NSRegularExpression(pattern: pattern) else { return false }
    return re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
}

/// The verdict on an error that was not expected.
func unexpected(_ error: Error, during phase: String? = nil) -> (Status, String) {
    let prefix = phase.map { "\($0): " } ?? ""
    switch error {
    case let u as Unsupported: return (.unsupported, prefix + u.reason)
    case let t as TorchError: return (.error, prefix + "unexpected \(t.type): \(t.message)")
    default: return (.error, prefix + "unexpected error: \(error)")
    }
}

/// The verdict on a call that had to fail with `expected`.
func judge<T>(_ outcome: Result<T, Error>, expectedError expected: ErrorSpec) -> (Status, String?) {
    let want = expected.type + (expected.match.map { " matching /\($0)/" } ?? "")
    switch outcome {
    case .success: return (.error, "expected \(want), but the call succeeded")
    case .failure(let u as Unsupported): return (.unsupported, u.reason)
    case .failure(let t as TorchError):
        if t.type == expected.type && (expected.match.map { search($0, in: t.message) } ?? true) { return (.pass, nil) }
        return (.error, "expected \(want), got \(t.type): \(t.message)")
    case .failure(let e): return (.error, "expected \(want), got \(e)")
    }
}

/// FNV-1a over the id's UTF-8 bytes: a hash that is the same on every machine and run.
func fnv1a(_ s: String) -> UInt64 {
    s.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
}

extension ValueSpec {
    /// A short spelling for reports: tensors by dtype and shape (∇ when they require grad).
    var brief: String {
        switch self {
        case .literal(let v): return v.pythonDescription
        case .tensor(let t): return "\(t.dtype.rawValue)\(shapeString(t.shape))" + (t.requiresGrad ? "∇" : "")
        case .ref(let name): return name
        case .list(let items): return "[" + items.map(\.brief).joined(separator: ", ") + "]"
        }
    }
}
