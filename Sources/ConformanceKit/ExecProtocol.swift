import Foundation
import NNCore

/// The wire format of `nnconf-exec/1` (docs/external-backends.md, "Any language: the
/// subprocess protocol"): one JSON object per line on the child's stdin and stdout.
///
/// This file only spells and reads messages; `ExecBackend` runs the process.
public enum ExecProtocol {
    /// The protocol version this harness speaks.
    public static let version = 1

    // MARK: writing

    /// A JSON string literal: quotes, backslashes and control characters escaped, the rest UTF-8.
    static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}":
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON number. Python reads `2.0` as a float and `2` as an int, so doubles keep their
    /// decimal point. JSON has no NaN or infinity; nnconf/1 cannot write them as arguments,
    /// and should one arrive here it is sent as the string "nan", "inf" or "-inf".
    static func number(_ d: Double) -> String {
        if d.isNaN { return "\"nan\"" }
        if d.isInfinite { return d > 0 ? "\"inf\"" : "\"-inf\"" }
        return "\(d)"  // shortest round-trip spelling: 0.5, 1e-05, 2.0
    }

    /// A tensor as `{"shape", "dtype", "b64"}` (plus `"requires_grad": true` when it does).
    /// The harness always sends `b64`: exact to the bit and a quarter the size of decimals.
    static func tensor(_ t: Tensor, requiresGrad: Bool = false) -> String {
        tensor(shape: t.shape, data: t.data, requiresGrad: requiresGrad)
    }

    static func tensor(shape: [Int], data: TensorData, requiresGrad: Bool = false) -> String {
        "{\"shape\":[" + shape.map(String.init).joined(separator: ",") + "],\"dtype\":\"" + data.dtype.rawValue
            + "\",\"b64\":\"" + base64(data) + "\"" + (requiresGrad ? ",\"requires_grad\":true" : "") + "}"
    }

    /// Little-endian bytes (one byte per bool), base64-encoded, as `nnconf/1` `b64`.
    static func base64(_ data: TensorData) -> String {
        func bytes<W: FixedWidthInteger>(_ words: [W]) -> Data {
            words.map(\.littleEndian).withUnsafeBytes { Data($0) }
        }
        switch data {
        case .float32(let a): return bytes(a.map(\.bitPattern)).base64EncodedString()
        case .float64(let a): return bytes(a.map(\.bitPattern)).base64EncodedString()
        case .int64(let a): return bytes(a).base64EncodedString()
        case .bool(let a): return Data(a.map { $0 ? 1 : 0 }).base64EncodedString()
        }
    }

    /// An argument value as the Python keyword argument would be written: tensors as above,
    /// tuples as arrays.
    static func value(_ v: Value) -> String {
        switch v {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return number(d)
        case .string(let s): return quote(s)
        case .tensor(let t): return tensor(t, requiresGrad: t.requiresGrad)
        case .list(let l): return "[" + l.map(value).joined(separator: ",") + "]"
        }
    }

    /// The `args` object of a call: keys in PyTorch's parameter order (then any others, sorted),
    /// so requests are deterministic and read like the Python call.
    static func arguments(_ args: Arguments) -> String {
        "{" + orderedKeys(args).map { quote($0) + ":" + value(args.values[$0]!) }.joined(separator: ",") + "}"
    }

    static func orderedKeys(_ args: Arguments) -> [String] {
        let order = Signatures.all[args.op]?.parameters ?? []
        let known = order.filter { args.values[$0] != nil }
        return known + args.values.keys.filter { !order.contains($0) }.sorted()
    }

    static func hello(ops: [String]) -> String {
        "{\"nnconf-exec\":\(version),\"type\":\"hello\",\"ops\":[" + ops.map(quote).joined(separator: ",") + "]}"
    }

    static let bye = "{\"type\":\"bye\"}"

    // MARK: reading

    /// A message that breaks the protocol (what it got and why), as opposed to an error the
    /// backend reports with `{"type": "error"}`.
    struct Violation: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// What the backend said about itself in its `hello` answer.
    public struct Hello: Sendable {
        public var name: String
        public var version: String
        public var ops: Set<String>
        public var dtypes: Set<DType>
        public var backward: Bool
        public var programs: Bool
        /// Free text for report headers (device, library versions), optional.
        public var details: String?
    }

    static func parseHello(_ json: JSON) throws -> Hello {
        guard json.isObject else { throw Violation("the hello answer is not a JSON object") }
        guard case .string("hello")? = json["type"] else {
            throw Violation("expected {\"type\": \"hello\", ...} first, got type \(json["type"]?.literal ?? "(none)")")
        }
        if let v = json["nnconf-exec"], v != .int(Int64(version)) {
            throw Violation("the backend speaks nnconf-exec/\(v.literal); this harness speaks nnconf-exec/\(version)")
        }
        guard case .string(let name)? = json["name"], !name.isEmpty else {
            throw Violation("the hello answer needs \"name\": a non-empty string")
        }
        var version = ""
        if let v = json["version"] {
            guard case .string(let s) = v else { throw Violation("hello.version must be a string") }
            version = s
        }
        guard case .array(let opList)? = json["ops"] else { throw Violation("the hello answer needs \"ops\": an array of op names") }
        let ops = try opList.map { o -> String in
            guard case .string(let s) = o else { throw Violation("hello.ops must hold strings, got \(o.literal)") }
            return s
        }
        var dtypes = Set(DType.allCases)
        if let d = json["dtypes"] {
            guard case .array(let names) = d else { throw Violation("hello.dtypes must be an array of dtype names") }
            dtypes = try Set(names.map { n in
                guard case .string(let s) = n, let t = DType(rawValue: s) else {
                    throw Violation("hello.dtypes: \(n.literal) is not one of float32, float64, int64, bool")
                }
                return t
            })
        }
        func flag(_ key: String) throws -> Bool {
            guard let v = json[key] else { return false }
            guard case .bool(let b) = v else { throw Violation("hello.\(key) must be true or false") }
            return b
        }
        var details: String?
        if case .string(let s)? = json["details"] { details = s }
        return Hello(name: name, version: version, ops: Set(ops), dtypes: dtypes,
                     backward: try flag("backward"), programs: try flag("programs"), details: details)
    }

    /// One answer to a `call`.
    enum Answer {
        case result(Result)
        case error(TorchError)
        case unsupported(String)
    }

    struct Result {
        /// Required in the answer to a forward call; a backward answer need not repeat it.
        var output: Value?
        var grads: [String: Tensor?]?
        var forwardMs: Double?
        var backwardMs: Double?
        var warnings: [NNCore.Warning]
        var gradFn: String?
    }

    static func parseAnswer(_ json: JSON, id: Int) throws -> Answer {
        guard json.isObject else { throw Violation("an answer must be a JSON object, got \(json.kind)") }
        guard case .string(let type)? = json["type"] else { throw Violation("the answer has no \"type\"") }
        guard json["id"] == .int(Int64(id)) else {
            throw Violation("answer to call \(id) carries id \(json["id"]?.literal ?? "(none)")")
        }
        switch type {
        case "result":
            var r = Result(output: try json["output"].map { try decodeValue($0, path: "output") }, warnings: [])
            if let g = json["grads"], g != .null {
                guard case .object(let members) = g else { throw Violation("\"grads\" must be an object") }
                var grads: [String: Tensor?] = [:]
                for (name, t) in members {
                    grads[name] = t == .null ? .some(nil) : try decodeTensor(t, path: "grads.\(name)")
                }
                r.grads = grads
            }
            if let t = json["timing_ms"] {
                r.forwardMs = t["forward"]?.number
                r.backwardMs = t["backward"]?.number
            }
            if case .array(let ws)? = json["warnings"] {
                r.warnings = ws.compactMap { w in
                    if case .string(let m) = w { return NNCore.Warning("UserWarning", m) }
                    guard case .string(let m)? = w["message"] else { return nil }
                    if case .string(let c)? = w["category"] { return NNCore.Warning(c, m) }
                    return NNCore.Warning("UserWarning", m)
                }
            }
            if case .string(let f)? = json["grad_fn"] { r.gradFn = f }
            return .result(r)
        case "error":
            guard let e = json["error"], case .string(let t)? = e["type"], case .string(let m)? = e["message"] else {
                throw Violation("an error answer needs \"error\": {\"type\": string, \"message\": string}")
            }
            return .error(TorchError(t, m))
        case "unsupported":
            if case .string(let reason)? = json["reason"] { return .unsupported(reason) }
            return .unsupported("the backend answered unsupported")
        default:
            throw Violation("unknown answer type \"\(type)\" (expected result, error or unsupported)")
        }
    }

    /// An output value: a tensor, a list (tuple) of values, null or a scalar.
    static func decodeValue(_ json: JSON, path: String) throws -> Value {
        switch json {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(Int(i))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(try a.enumerated().map { try decodeValue($1, path: "\(path)[\($0)]") })
        case .object: return .tensor(try decodeTensor(json, path: path))
        }
    }

    /// A tensor in any `nnconf/1` encoding (`data`, `b64` or `init`), as a fresh tensor that
    /// does not require grad (the harness decides that).
    static func decodeTensor(_ json: JSON, path: String) throws -> Tensor {
        do {
            let spec = try CaseParser(maxElements: FixtureLoader.defaultMaxElements).parseTensor(json, path: path)
            return Tensor(shape: spec.shape, data: spec.data)
        } catch let e as FormatError {
            throw Violation("bad tensor: \(e.description)")
        }
    }
}
