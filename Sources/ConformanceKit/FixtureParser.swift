import Foundation
import NNCore

/// A problem with a fixture at a JSON path, e.g. `args.input.data: expected 6 values for shape [2, 3], got 5`.
struct FormatError: Error {
    let path: String
    let message: String
    var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Turns the JSON of one case into a `FixtureCase`, checking everything `nnconf/1` requires.
struct CaseParser {
    /// Largest tensor a fixture may ask for, in elements; larger ones are refused before allocating.
    var maxElements: Int
    /// Unknown keys seen (ignored with a warning, as the format says).
    var warnings: [String] = []

    static let caseKeys: Set = ["name", "call", "args", "expect", "backward", "tolerance", "grad_tolerance", "tags", "program", "description"]
    static let tensorKeys: Set = ["shape", "dtype", "data", "b64", "init", "requires_grad"]

    mutating func parseCase(_ json: JSON, id: String, file: String, name: String) -> FixtureCase {
        do {
            for key in json.keys where !Self.caseKeys.contains(key) { warnings.append("\(id): unknown key '\(key)' ignored") }
            var c = FixtureCase(id: id, file: file, name: name, body: try parseBody(json))
            c.tolerance = try json["tolerance"].map { try parseTolerance($0, path: "tolerance") }
            c.gradTolerance = try json["grad_tolerance"].map { try parseTolerance($0, path: "grad_tolerance") }
            if let tags = json["tags"] {
                guard case .array(let a) = tags else { throw FormatError(path: "tags", message: "must be an array of strings") }
                c.tags = try a.map { t in
                    guard case .string(let s) = t else { throw FormatError(path: "tags", message: "must be an array of strings") }
                    return s
                }
            }
            return c
        } catch let e as FormatError {
            return FixtureCase(id: id, file: file, name: name, body: .invalid(e.description))
        } catch {
            return FixtureCase(id: id, file: file, name: name, body: .invalid("\(error)"))
        }
    }

    mutating func parseBody(_ json: JSON) throws -> FixtureCase.Body {
        switch (json["call"], json["program"]) {
        case (.some(let call), nil):
            guard case .string(let op) = call else { throw FormatError(path: "call", message: "must be a string naming the op") }
            let args = try parseArgs(json["args"], path: "args")
            let expect = try json["expect"].map { try parseExpect($0, path: "expect", singleCall: true) }
            var backward: BackwardSpec?
            if let b = json["backward"] {
                backward = try parseBackward(b, args: args)
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

    func parseTolerance(_ json: JSON, path: String) throws -> Tolerance {
        func number(_ key: String) throws -> Double {
            guard let v = json[key] else { return 0 }
            guard let d = v.number, d >= 0, d.isFinite else {
                throw FormatError(path: "\(path).\(key)", message: "must be a finite non-negative number")
            }
            return d
        }
        guard json.isObject else { throw FormatError(path: path, message: "must be an object with rtol and atol") }
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
            if case .string(let name)? = json["ref"] { return .ref(name) }
            throw FormatError(path: path, message: "an object argument must be a tensor (with 'shape') or a reference ({\"ref\": NAME})")
        }
    }

    /// `singleCall`: property checks (`dropout`) are read only for single-call cases.
    func parseExpect(_ json: JSON, path: String, singleCall: Bool = false) throws -> Expectation {
        guard json.isObject else { throw FormatError(path: path, message: "must be an object") }
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

    func parseBackward(_ json: JSON, args: [(String, ValueSpec)]) throws -> BackwardSpec {
        guard json.isObject else { throw FormatError(path: "backward", message: "must be an object") }
        let gradOutput = try json["grad_output"].map { try parseTensor($0, path: "backward.grad_output") }
        var grads: [(String, TensorSpec)] = []
        if let g = json["grads"] {
            guard case .object(let members) = g else { throw FormatError(path: "backward.grads", message: "must be an object") }
            for (name, t) in members {
                let arg = args.first(where: { $0.0 == name })?.1
                guard case .tensor(let spec)? = arg, spec.requiresGrad else {
                    throw FormatError(path: "backward.grads.\(name)",
                                      message: arg == nil ? "names no argument of the call" : "argument '\(name)' does not have requires_grad: true")
                }
                grads.append((name, try parseTensor(t, path: "backward.grads.\(name)")))
            }
        }
        return BackwardSpec(gradOutput: gradOutput, grads: grads)
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
