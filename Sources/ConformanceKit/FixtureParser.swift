import Foundation
import NNCore

/// A problem with a fixture at a JSON path, e.g. `args.input.data: expected 6 values for shape [2, 3], got 5`.
struct FormatError: Error {
    let path: String
    let message: String
    var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// What parsing a case notes on the side: warnings, and the elements its tensors hold so far.
/// A class, so the non-mutating parse functions can add to it.
final class ParseLog {
    var warnings: [String] = []
    /// The current case's id, for warnings.
    var id = ""
}

/// Turns the JSON of one case into a `FixtureCase`, checking everything `nnconf/1` requires.
struct CaseParser {
    /// Largest number of elements one case's tensors may hold together (so also one tensor);
    /// larger ones are refused before anything is allocated.
    var maxElements: Int
    let log = ParseLog()
    /// Unknown keys seen (ignored with a warning, as the format says).
    var warnings: [String] { log.warnings }

    init(maxElements: Int) { self.maxElements = maxElements }

    static let caseKeys: Set = ["name", "call", "args", "expect", "backward", "tolerance", "grad_tolerance", "tags", "program", "description"]
    static let tensorKeys: Set = ["shape", "dtype", "data", "b64", "init", "requires_grad"]
    static let expectKeys: Set = ["output", "error", "warning", "dropout"]
    static let backwardKeys: Set = ["grad_output", "grads"]
    static let toleranceKeys: Set = ["rtol", "atol"]

    /// Warns about the keys of `json` outside `known` (unknown keys are ignored, never an error).
    func warnUnknownKeys(_ json: JSON, _ known: Set<String>, path: String) {
        for key in json.keys where !known.contains(key) {
            log.warnings.append("\(log.id): \(path.isEmpty ? "" : path + ": ")unknown key '\(key)' ignored")
        }
    }

    mutating func parseCase(_ json: JSON, id: String, file: String, name: String) -> FixtureCase {
        log.id = id
        func invalid(_ path: String, _ message: String) -> FixtureCase {
            let problem = FixtureProblem(file: file, caseLabel: "case '\(name)'", id: id, path: path, message: message)
            var c = FixtureCase(id: id, file: file, name: name, body: .invalid(problem.description))
            c.problem = problem
            return c
        }
        do {
            warnUnknownKeys(json, Self.caseKeys, path: "")
            var elements = 0
            try checkSize(json, path: "", total: &elements)
            var c = FixtureCase(id: id, file: file, name: name, body: try parseBody(json))
            c.tolerance = try json["tolerance"].map { try parseTolerance($0, path: "tolerance") }
            c.gradTolerance = try json["grad_tolerance"].map { try parseTolerance($0, path: "grad_tolerance") }
            if let tags = json["tags"] {
                guard case .array(let a) = tags else { throw FormatError(path: "tags", message: "must be an array of strings") }
                c.tags = try a.enumerated().map { i, t in
                    guard case .string(let s) = t else { throw FormatError(path: "tags[\(i)]", message: "must be a string, got \(t.literal)") }
                    return s
                }
            }
            return c
        } catch let e as FormatError {
            return invalid(e.path, e.message)
        } catch {
            return invalid("", "\(error)")
        }
    }

    /// Adds up the elements of every tensor the case declares (any object whose `shape` is an
    /// array of non-negative integers) before anything is built, and refuses the case at the
    /// tensor that takes it past `maxElements`: so a refused case allocates nothing.
    func checkSize(_ json: JSON, path: String, total: inout Int) throws {
        switch json {
        case .object(let members):
            if case .array(let dims)? = json["shape"] {
                var count = 1, overflow = false
                for d in dims {
                    guard case .int(let n) = d, n >= 0 else { return }  // parseTensor says what is wrong
                    let (p, o) = count.multipliedReportingOverflow(by: Int(n))
                    (count, overflow) = (p, overflow || o)
                }
                let shape = shapeString(dims.map { if case .int(let n) = $0 { return Int(n) } else { return 0 } })
                let where_ = path.isEmpty ? "shape" : "\(path).shape"
                guard !overflow, count <= maxElements else {
                    throw FormatError(path: where_, message: "\(shape) has more than the limit of \(maxElements) elements; refused")
                }
                let (sum, o) = total.addingReportingOverflow(count)
                guard !o, sum <= maxElements else {
                    throw FormatError(path: where_, message: "\(shape) brings the case's tensors to \(sum) elements, over the limit of \(maxElements); refused")
                }
                total = sum
            }
            for (key, value) in members where key != "shape" {
                try checkSize(value, path: path.isEmpty ? key : "\(path).\(key)", total: &total)
            }
        case .array(let items):
            for (i, item) in items.enumerated() { try checkSize(item, path: "\(path)[\(i)]", total: &total) }
        default:
            return
        }
    }

    mutating func parseBody(_ json: JSON) throws -> FixtureCase.Body {
        switch (json["call"], json["program"]) {
        case (.some(let call), nil):
            guard case .string(let op) = call else { throw FormatError(path: "call", message: "must be a string naming the op") }
            let args = try parseArgs(json["args"], path: "args")
            for (key, v) in args where !v.references.isEmpty {
                throw FormatError(path: "args.\(key)", message: "refers to '\(v.references[0])', but only a program's steps define names")
            }
            let expect = try json["expect"].map { try parseExpect($0, path: "expect", singleCall: true) }
            var backward: BackwardSpec?
            if let b = json["backward"] {
                backward = try parseBackward(b, args: args, expect: expect)
            }
            return .call(CallSpec(op: op, args: args, expect: expect, backward: backward))
        case (nil, .some(let program)):
            guard case .array(let steps) = program else { throw FormatError(path: "program", message: "must be an array of steps") }
            var defined = Set<String>()
            return .program(try steps.enumerated().map { try parseStep($1, path: "program[\($0)]", defined: &defined) })
        case (.some, .some): throw FormatError(path: "", message: "a case has either 'call' or 'program', not both")
        case (nil, nil): throw FormatError(path: "", message: "a case needs 'call' or 'program'")
        }
    }

    /// `{"rtol": r, "atol": a}`: finite and non-negative; a missing one is 0, but not both.
    func parseTolerance(_ json: JSON, path: String) throws -> Tolerance {
        guard json.isObject else { throw FormatError(path: path, message: "must be an object with rtol and atol, got \(json.literal)") }
        warnUnknownKeys(json, Self.toleranceKeys, path: path)
        guard json["rtol"] != nil || json["atol"] != nil else {
            throw FormatError(path: path, message: "needs rtol, atol or both")
        }
        func number(_ key: String) throws -> Double {
            guard let v = json[key] else { return 0 }
            guard let d = v.number, d >= 0, d.isFinite else {
                throw FormatError(path: "\(path).\(key)", message: "must be a finite non-negative number, got \(v.literal)")
            }
            return d
        }
        return Tolerance(rtol: try number("rtol"), atol: try number("atol"))
    }

    func parseArgs(_ json: JSON?, path: String) throws -> [(String, ValueSpec)] {
        guard let json else { return [] }
        guard case .object(let members) = json else { throw FormatError(path: path, message: "must be an object of keyword arguments") }
        return try members.map { ($0, try parseValue($1, path: "\(path).\($0)")) }
    }

    func parseValue(_ json: JSON, path: String) throws -> ValueSpec {
        switch json {
        case .null: return .literal(.none)
        case .bool(let b): return .literal(.bool(b))
        case .int(let i): return .literal(.int(Int(i)))
        case .double(let d): return .literal(.double(d))
        case .string(let s): return .literal(.string(s))
        case .array(let a): return .list(try a.enumerated().map { try parseValue($1, path: "\(path)[\($0)]") })
        case .object:
            if json["shape"] != nil { return .tensor(try parseTensor(json, path: path)) }
            if let ref = json["ref"] {
                guard case .string(let name) = ref, !name.isEmpty else {
                    throw FormatError(path: "\(path).ref", message: "must be a non-empty string naming a value, got \(ref.literal)")
                }
                return .ref(name)
            }
            throw FormatError(path: path, message: "an object argument must be a tensor (with 'shape') or a reference ({\"ref\": NAME})")
        }
    }

    /// `singleCall`: property checks (`dropout`) are read only for single-call cases.
    func parseExpect(_ json: JSON, path: String, singleCall: Bool = false) throws -> Expectation {
        guard json.isObject else { throw FormatError(path: path, message: "must be an object, got \(json.literal)") }
        warnUnknownKeys(json, Self.expectKeys, path: path)
        var e = Expectation()
        if let out = json["output"] {
            switch out {
            case .array(let items):
                e.isTuple = true
                e.outputs = try items.enumerated().map { i, item in
                    item == .null ? nil : try parseTensor(item, path: "\(path).output[\(i)]")
                }
            default: e.outputs = [try parseTensor(out, path: "\(path).output")]
            }
        }
        if let err = json["error"] {
            guard case .string(let type)? = err["type"] else {
                throw FormatError(path: "\(path).error.type", message: "must be a string naming the exception type")
            }
            var match: String?
            if let m = err["match"] {
                guard case .string(let s) = m else { throw FormatError(path: "\(path).error.match", message: "must be a string") }
                guard (try? NSRegularExpression(pattern: s)) != nil else {
                    throw FormatError(path: "\(path).error.match", message: "is not a valid regular expression: \(s)")
                }
                match = s
            }
            e.error = ErrorSpec(type: type, match: match)
        }
        if let w = json["warning"] {
            guard case .string(let s)? = w["match"] else { throw FormatError(path: "\(path).warning.match", message: "must be a string") }
            guard (try? NSRegularExpression(pattern: s)) != nil else {
                throw FormatError(path: "\(path).warning.match", message: "is not a valid regular expression: \(s)")
            }
            e.warning = s
        }
        if let d = json["dropout"] {
            guard singleCall else { throw FormatError(path: "\(path).dropout", message: "is checked on single-call cases only") }
            e.dropout = try parseDropout(d, path: "\(path).dropout")
        }
        if e.error != nil && e.outputs != nil {
            throw FormatError(path: path, message: "has both 'output' and 'error'")
        }
        if e.error != nil && e.dropout != nil {
            throw FormatError(path: path, message: "has both 'dropout' and 'error'")
        }
        return e
    }

    /// `backward`: `grad_output` (the shape of the expected output, when there is one) and
    /// `grads` of arguments that require grad (each of its argument's shape and dtype).
    func parseBackward(_ json: JSON, args: [(String, ValueSpec)], expect: Expectation?) throws -> BackwardSpec {
        guard json.isObject else { throw FormatError(path: "backward", message: "must be an object, got \(json.literal)") }
        warnUnknownKeys(json, Self.backwardKeys, path: "backward")
        guard args.contains(where: { $0.1.tensors.contains(where: \.requiresGrad) }) else {
            throw FormatError(path: "backward", message: "no argument of the call has requires_grad: true, so there is nothing to run backward through")
        }
        if expect?.error != nil {
            throw FormatError(path: "backward", message: "cannot run after a call that expect.error says must fail")
        }
        let gradOutput = try json["grad_output"].map { try parseTensor($0, path: "backward.grad_output") }
        if let g = gradOutput, let out = expect?.outputs?.first ?? nil, g.shape != out.shape {
            throw FormatError(path: "backward.grad_output.shape",
                              message: "\(shapeString(g.shape)) is not the shape of expect.output\(expect?.isTuple == true ? "[0]" : ""), \(shapeString(out.shape))")
        }
        var grads: [(String, TensorSpec)] = []
        if let g = json["grads"] {
            guard case .object(let members) = g else { throw FormatError(path: "backward.grads", message: "must be an object of tensors by argument name") }
            for (name, t) in members {
                let arg = args.first(where: { $0.0 == name })?.1
                guard case .tensor(let spec)? = arg, spec.requiresGrad else {
                    throw FormatError(path: "backward.grads.\(name)",
                                      message: arg == nil ? "names no argument of the call" : "argument '\(name)' does not have requires_grad: true")
                }
                let grad = try parseTensor(t, path: "backward.grads.\(name)")
                guard grad.shape == spec.shape, grad.dtype == spec.dtype else {
                    throw FormatError(path: "backward.grads.\(name)",
                                      message: "is \(grad.dtype.rawValue)\(shapeString(grad.shape)), but a gradient has its argument's shape and dtype, \(spec.dtype.rawValue)\(shapeString(spec.shape))")
                }
                grads.append((name, grad))
            }
        }
        return BackwardSpec(gradOutput: gradOutput, grads: grads)
    }
}

extension ValueSpec {
    /// The tensors written in this value (inside lists too).
    var tensors: [TensorSpec] {
        switch self {
        case .tensor(let t): return [t]
        case .list(let l): return l.flatMap(\.tensors)
        default: return []
        }
    }
}

extension JSON {
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}
