import CJSONC
import Foundation

/// A parsed JSON document: json-c does the parsing, this enum is what the rest of the harness
/// reads. Object members keep the file's order.
public indirect enum JSON: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of an object (the last one if the file repeats it), else nil.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.0 == key })?.1
    }

    public var isObject: Bool { if case .object = self { return true } else { return false } }
    public var keys: [String] { if case .object(let m) = self { return m.map(\.0) } else { return [] } }

    /// A short name of the JSON type, for messages.
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON syntax error with json-c's description and the position where parsing stopped.
public struct JSONSyntaxError: Error, CustomStringConvertible {
    public let description: String
}

extension JSON {
    /// Parses `bytes` with json-c in strict mode (no trailing commas, no data after the document).
    public static func parse(_ bytes: [UInt8]) throws -> JSON {
        guard let tok = json_tokener_new_ex(128) else { throw JSONSyntaxError(description: "json-c: out of memory") }
        defer { json_tokener_free(tok) }
        json_tokener_set_flags(tok, Int32(JSON_TOKENER_STRICT))
        let root: OpaquePointer? = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                json_tokener_parse_ex(tok, $0, Int32(buf.count))
            }
        }
        let err = json_tokener_get_error(tok)
        let end = json_tokener_get_parse_end(tok)
        guard let root, err == json_tokener_success else {
            let what = err == json_tokener_continue
                ? "unexpected end of input" : String(cString: json_tokener_error_desc(err))
            throw JSONSyntaxError(description: "not valid JSON: \(what) at \(position(of: min(end, bytes.count), in: bytes))")
        }
        defer { json_object_put(root) }
        do { return try convert(root) } catch let e as NonFinite {
            let at = locate(e.text, in: bytes).map { " at \(position(of: $0, in: bytes))" } ?? ""
            throw JSONSyntaxError(description: e.message + at + e.hint)
        }
    }

    /// A number json-c accepted that JSON cannot hold (`NaN`, `Infinity`, `1e400`).
    private struct NonFinite: Error {
        let text: String
        let message: String
        let hint: String
    }

    /// The byte offset of the first `token` outside strings, to say where a refused literal is.
    static func locate(_ token: String, in bytes: [UInt8]) -> Int? {
        let t = Array(token.utf8)
        var inString = false, escaped = false
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
            } else if b == UInt8(ascii: "\"") {
                inString = true
            } else if b == t.first, i + t.count <= bytes.count, Array(bytes[i..<i + t.count]) == t {
                return i
            }
            i += 1
        }
        return nil
    }

    /// "line L, column C (byte B)" of a byte offset.
    static func position(of offset: Int, in bytes: [UInt8]) -> String {
        var line = 1, lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return "line \(line), column \(offset - lineStart + 1) (byte \(offset))"
    }

    /// json-c's tree as a `JSON`. json-c accepts `NaN` and `Infinity` even in strict mode; JSON
    /// has neither (nnconf/1 spells them "nan", "inf", "-inf"), so they are refused here.
    private static func convert(_ o: OpaquePointer?) throws -> JSON {
        guard let o else { return .null }
        switch json_object_get_type(o) {
        case json_type_null: return .null
        case json_type_boolean: return .bool(json_object_get_boolean(o) != 0)
        case json_type_int:
            // json-c keeps integers in int64 or uint64 and saturates beyond; one that does not fit
            // int64 becomes a double, so every reader refuses it where an integer is wanted.
            let i = json_object_get_int64(o)
            if i == .max, json_object_get_uint64(o) > UInt64(Int64.max) { return .double(Double(json_object_get_uint64(o))) }
            return .int(i)
        case json_type_double:
            let d = json_object_get_double(o)
            guard d.isFinite else {
                let text = String(cString: json_object_to_json_string(o))
                if let first = text.unicodeScalars.first(where: { $0 != "-" && $0 != "+" }), CharacterSet.decimalDigits.contains(first) {
                    throw NonFinite(text: text, message: "the number \(text) is too large for a double", hint: " (write \"inf\" or \"-inf\" as strings)")
                }
                throw NonFinite(text: text, message: "not valid JSON: the literal \(text)", hint: " (write \"nan\", \"inf\" or \"-inf\" as strings)")
            }
            return .double(d)
        case json_type_string:
            let n = Int(json_object_get_string_len(o))
            let p = UnsafeRawPointer(json_object_get_string(o)!)
            return .string(String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self))
        case json_type_array:
            let n = json_object_array_length(o)
            return .array(try (0..<n).map { try convert(json_object_array_get_idx(o, $0)) })
        case json_type_object:
            var members: [(String, JSON)] = []
            var it = json_object_iter_begin(o)
            var end = json_object_iter_end(o)
            while json_object_iter_equal(&it, &end) == 0 {
                members.append((String(cString: json_object_iter_peek_name(&it)), try convert(json_object_iter_peek_value(&it))))
                json_object_iter_next(&it)
            }
            return .object(members)
        default: return .null
        }
    }
}
