import Foundation
import NNCore
import NNModules

/// Runs a program case's steps in order on one backend, with the names they bind.
///
/// A step with `expect.error` must fail that way, and the program goes on; any other failure
/// ends the case. Modules live beside the values; a dotted name (`net.0.weight`) reaches a
/// module's parameter or buffer.
struct ProgramRun {
    let backend: any Backend
    let testCase: FixtureCase
    var env: [String: Value] = [:]
    var modules: [String: Module] = [:]
    /// The longest reduction (terms per element) of any call so far; widens default tolerances.
    var reductionTerms = 1

    init(backend: any Backend, testCase: FixtureCase) {
        self.backend = backend
        self.testCase = testCase
    }

    mutating func run(_ steps: [Step], into r: inout CaseResult) {
        for step in steps {
            guard r.status == .pass else { return }
            run(step, into: &r)
        }
    }

    private mutating func run(_ step: Step, into r: inout CaseResult) {
        func stop(_ status: Status, _ message: String) {
            r.status = status
            r.message = "\(step.path): \(message)"
        }
        if case .noGrad(let inner) = step.action {
            GradMode.noGrad { run(inner, into: &r) }
            return
        }
        let outcome = Result { try Warnings.collect { try perform(step, record: &r) } }
        if let expected = step.expect?.error {
            let (status, message) = judge(outcome.map(\.0), expectedError: expected)
            if status != .pass { stop(status, message ?? "") }
            return
        }
        switch outcome {
        case .failure(let e as CheckFailure): stop(.fail, e.message)
        case .failure(let e): let (s, m) = unexpected(e); stop(s, m)
        case .success(let (value, warnings)):
            if let pattern = step.expect?.warning, !warnings.contains(where: { search(pattern, in: $0.message) }) {
                stop(.fail, "expected a warning matching /\(pattern)/, got " + (warnings.isEmpty ? "none" : warnings.map(\.description).joined(separator: "; ")))
                return
            }
            if let name = step.name, let value { env[name] = value }
            if let expected = step.expect?.outputs, let value {
                let outputs = flatten(value)
                for (i, e) in expected.enumerated() {
                    guard let e else { continue }
                    guard i < outputs.count, let actual = outputs[i] else { stop(.fail, "output \(i) is missing"); return }
                    if let m = check(actual, e, record: &r) { stop(.fail, "output \(m)"); return }
                }
            }
        }
    }

    struct CheckFailure: Error { let message: String }

    /// Performs one step; returns the value it binds, if any.
    private mutating func perform(_ step: Step, record r: inout CaseResult) throws -> Value? {
        switch step.action {
        case .tensor(let spec):
            return .tensor(spec.make())
        case .call(let op, let args):
            let values = try materialize(args, env: env)
            let result = try backend.call(op, Arguments(op: op, values))
            let terms = ToleranceRule.reductionLengths(op: op, args: values, outputShape: flatten(result).first??.shape)
            reductionTerms = max(reductionTerms, terms.output, terms.grads.values.max() ?? 1)
            return result
        case .backward(let name, let gradient, let retainGraph):
            try tensor(name).backward(gradient: gradient?.make(), retainGraph: retainGraph)
            return nil
        case .checkValue(let name, let spec):
            if let m = check(try tensor(name), spec, record: &r) { throw CheckFailure(message: "\(name) \(m)") }
            return nil
        case .checkGrad(let name, let spec):
            let g = try tensor(name).grad
            switch (g, spec) {
            case (nil, nil): return nil
            case (.some, nil): throw CheckFailure(message: "\(name).grad should be None, got a tensor")
            case (nil, .some): throw CheckFailure(message: "\(name).grad is None, expected a tensor")
            case (.some(let g), .some(let spec)):
                if let m = check(g, spec, record: &r) { throw CheckFailure(message: "\(name).grad \(m)") }
                return nil
            }
        case .checkAttrs(let name, let attrs):
            let t = try tensor(name)
            for (attr, expected) in attrs {
                let actual: JSON
                switch attr {
                case "requires_grad": actual = .bool(t.requiresGrad)
                case "is_leaf": actual = .bool(t.isLeaf)
                case "grad_fn": actual = t.gradFn.map { .string($0.name) } ?? .null
                case "shape": actual = .array(t.shape.map { .int(Int64($0)) })
                case "dtype": actual = .string(t.dtype.rawValue)
                case "_version", "version": actual = .int(Int64(t.version))
                default: throw Unsupported("attribute '\(attr)' is not checked by this harness")
                }
                guard actual == expected || (actual.number != nil && actual.number == expected.number) else {
                    throw CheckFailure(message: "\(name).\(attr) is \(actual.literal), expected \(expected.literal)")
                }
            }
            return nil
        case .module(let spec):
            modules[step.name!] = try build(spec)
            return nil
        case .forward(let name, let args):
            return try module(name).forward(try materialize(args, env: env), backend: backend)
        case .train(let name):
            try module(name).train()
            return nil
        case .eval(let name):
            try module(name).eval()
            return nil
        case .zeroGrad(let name):
            try module(name).zeroGrad()
            return nil
        case .requiresGrad(let name, let flag):
            if let m = try? module(name) { try m.requiresGrad_(flag) } else { try tensor(name).requiresGrad_(flag) }
            return nil
        case .checkParameterNames(let name, let expected):
            let names = try module(name).namedParameters().map(\.0)
            guard names == expected else { throw CheckFailure(message: "\(name).named_parameters() names are \(names), expected \(expected)") }
            return nil
        case .checkState(let name, let entries):
            let state = Dictionary(try module(name).stateDict(), uniquingKeysWith: { a, _ in a })
            for (key, spec) in entries {
                guard let t = state[key] else { throw CheckFailure(message: "\(name).state_dict() has no '\(key)'") }
                if let m = check(t, spec, record: &r) { throw CheckFailure(message: "\(name).state_dict()['\(key)'] \(m)") }
            }
            return nil
        case .noGrad:
            return nil  // handled by run(_:into:)
        }
    }

    /// `nn.<cls>(**args)` with its children, then its `state` loaded strictly.
    private func build(_ spec: ModuleSpec) throws -> Module {
        let m = try Modules.make(spec.cls, try materialize(spec.args, env: env), children: try spec.children.map { ($0, try build($1)) })
        if !spec.state.isEmpty { try m.loadStateDict(spec.state.map { ($0, $1.make()) }) }
        return m
    }

    private func module(_ name: String) throws -> Module {
        let root = String(name.prefix { $0 != "." })
        guard let m = modules[root] else { throw CheckFailure(message: "'\(name)' is not a module (did the step defining it fail?)") }
        guard root != name else { return m }
        guard let sub = m.submodule(named: String(name.dropFirst(root.count + 1))) else {
            throw CheckFailure(message: "'\(name)': no such submodule")
        }
        return sub
    }

    private func tensor(_ name: String) throws -> Tensor {
        let root = String(name.prefix { $0 != "." })
        if env[name] == nil, root != name, let m = modules[root] {
            guard let t = m.tensor(named: String(name.dropFirst(root.count + 1))) else {
                throw CheckFailure(message: "'\(name)': \(m.typeName) has no such parameter or buffer")
            }
            return t
        }
        guard let v = env[name] else { throw CheckFailure(message: "'\(name)' is not defined (did the step defining it fail?)") }
        guard let t = v.tensor else { throw CheckFailure(message: "'\(name)' is \(v.pythonTypeName), not a tensor") }
        return t
    }

    /// Compares with the case's tolerance, else the dtype's default widened for the longest
    /// reduction the program has performed; records the agreement; returns the mismatch, if any.
    private func check(_ actual: Tensor, _ expected: TensorSpec, record r: inout CaseResult) -> String? {
        let (tolerance, source) = testCase.tolerance.map { ($0, "fixture") }
            ?? ToleranceRule.tolerance(expected.dtype, terms: reductionTerms)
        r.tolerance = tolerance
        r.toleranceSource = source
        let a = compare(actual, expected, tolerance: tolerance)
        r.record(a)
        if a.mismatch != nil && r.mismatches == nil { r.mismatches = a.mismatches }
        return a.mismatch
    }
}
