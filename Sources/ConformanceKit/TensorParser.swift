import Foundation
import NNCore

extension CaseParser {
    /// Parses a tensor object: `shape`, `dtype`, and exactly one of `data`, `b64`, `init`.
    func parseTensor(_ json: JSON, path: String) throws -> TensorSpec {
        guard json.isObject else { throw FormatError(path: path, message: "expected a tensor object, got \(json.kind)") }
        warnUnknownKeys(json, Self.tensorKeys, path: path)
        guard case .array(let dims)? = json["shape"] else {
            throw FormatError(path: "\(path).shape", message: "must be an array of non-negative integers")
        }
        let shape = try dims.enumerated().map { i, d -> Int in
            guard case .int(let n) = d, n >= 0 else {
                throw FormatError(path: "\(path).shape[\(i)]", message: "a dimension must be a non-negative integer, got \(d.literal)")
            }
            return Int(n)
        }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxElements else {
                throw FormatError(path: "\(path).shape", message: "\(shapeString(shape)) has more than the limit of \(maxElements) elements; refused")
            }
            count = p
        }
        // Strides multiply the dimensions (a zero one counts as 1); they must fit an Int too.
        var span = 1
        for d in shape {
            let (p, overflow) = span.multipliedReportingOverflow(by: max(d, 1))
            guard !overflow else { throw FormatError(path: "\(path).shape", message: "\(shapeString(shape)): its dimensions multiply past 2^63; refused") }
            span = p
        }
        guard case .string(let dtypeName)? = json["dtype"] else {
            throw FormatError(path: "\(path).dtype", message: "missing; one of float32, float64, int64, bool")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw FormatError(path: "\(path).dtype", message: "'\(dtypeName)' is not one of float32, float64, int64, bool")
        }
        var requiresGrad = false
        if let rg = json["requires_grad"] {
            guard case .bool(let b) = rg else { throw FormatError(path: "\(path).requires_grad", message: "must be true or false") }
            requiresGrad = b
            if b && !dtype.isFloatingPoint {
                throw FormatError(path: "\(path).requires_grad", message: "only tensors of floating point dtype can require gradients, not \(dtypeName)")
            }
        }
        let sources = ["data", "b64", "init"].filter { json[$0] != nil }
        guard sources.count == 1 else {
            throw FormatError(path: path, message: sources.isEmpty ? "needs one of 'data', 'b64' or 'init'" : "has both '\(sources[0])' and '\(sources[1])'")
        }
        let data: TensorData
        switch sources[0] {
        case "data": data = try parseData(json["data"]!, dtype: dtype, shape: shape, count: count, path: "\(path).data")
        case "b64": data = try parseBase64(json["b64"]!, dtype: dtype, count: count, path: "\(path).b64")
        default: data = try parseInit(json["init"]!, dtype: dtype, count: count, path: "\(path).init")
        }
        return TensorSpec(shape: shape, data: data, requiresGrad: requiresGrad)
    }

    private func parseData(_ json: JSON, dtype: DType, shape: [Int], count: Int, path: String) throws -> TensorData {
        guard case .array(let items) = json else { throw FormatError(path: path, message: "must be a flat array of values") }
        guard items.count == count else {
            throw FormatError(path: path, message: "expected \(count) values for shape \(shapeString(shape)), got \(items.count)")
        }
        func fail(_ i: Int, _ what: String) -> FormatError {
            FormatError(path: "\(path)[\(i)]", message: "\(what), got \(items[i].literal)")
        }
        switch dtype {
        case .bool:
            return .bool(try items.indices.map { i in
                guard case .bool(let b) = items[i] else { throw fail(i, "expected true or false") }
                return b
            })
        case .int64:
            return .int64(try items.indices.map { i in
                switch items[i] {
                case .int(let v): return v
                case .double(let d) where d == d.rounded() && abs(d) < 0x1p63: return Int64(d)
                case .double(let d) where d == d.rounded(): throw fail(i, "expected an integer in the int64 range")
                default: throw fail(i, "expected an integer")
                }
            })
        case .float32, .float64:
            let values = try items.indices.map { i -> Double in
                switch items[i] {
                case .int(let v): return Double(v)
                case .double(let d): return d
                case .string("nan"): return .nan
                case .string("inf"): return .infinity
                case .string("-inf"): return -.infinity
                case .string(let word) where Self.nonFiniteSpellings[word.lowercased()] != nil:
                    throw fail(i, "nnconf/1 spells it \"\(Self.nonFiniteSpellings[word.lowercased()]!)\"")
                default: throw fail(i, "expected a number or one of \"nan\", \"inf\", \"-inf\"")
                }
            }
            return dtype == .float32 ? .float32(values.map { Float($0) }) : .float64(values)
        }
    }

    /// Spellings of NaN and the infinities that other tools write, and nnconf/1's.
    static let nonFiniteSpellings = ["nan": "nan", "+nan": "nan", "-nan": "nan", "inf": "inf", "+inf": "inf", "infinity": "inf",
                                     "+infinity": "inf", "-inf": "-inf", "-infinity": "-inf"]

    private func parseBase64(_ json: JSON, dtype: DType, count: Int, path: String) throws -> TensorData {
        guard case .string(let s) = json else { throw FormatError(path: path, message: "must be a base64 string, got \(json.kind)") }
        guard let bytes = Data(base64Encoded: s) else {
            throw FormatError(path: path, message: "is not valid base64 (RFC 4648 alphabet, padded with '=', no whitespace)")
        }
        let width = [DType.float32: 4, .float64: 8, .int64: 8, .bool: 1][dtype]!
        guard count <= Int.max / width, bytes.count == count * width else {
            throw FormatError(path: path, message: "holds \(bytes.count) bytes; \(count) \(dtype.rawValue) values need \(count * width)")
        }
        func words<W: FixedWidthInteger>(_: W.Type) -> [W] {
            bytes.withUnsafeBytes { raw in (0..<count).map { W(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * width, as: W.self)) } }
        }
        switch dtype {
        case .float32: return .float32(words(UInt32.self).map(Float.init(bitPattern:)))
        case .float64: return .float64(words(UInt64.self).map(Double.init(bitPattern:)))
        case .int64: return .int64(words(Int64.self))
        case .bool:
            let b = [UInt8](bytes)
            if let bad = b.firstIndex(where: { $0 > 1 }) {
                throw FormatError(path: path, message: "byte \(bad) is \(b[bad]); bool bytes must be 0 or 1")
            }
            return .bool(b.map { $0 == 1 })
        }
    }

    /// `{"uniform": [lo, hi], "seed": s}` or `{"randint": [lo, hi], "seed": s}`, one SplitMix64
    /// generator per tensor, element 0 first.
    private func parseInit(_ json: JSON, dtype: DType, count: Int, path: String) throws -> TensorData {
        guard json.isObject else { throw FormatError(path: path, message: "must be an object, got \(json.kind)") }
        warnUnknownKeys(json, ["uniform", "randint", "seed"], path: path)
        guard case .int(let seed)? = json["seed"] else {
            throw FormatError(path: "\(path).seed", message: "must be an integer in the int64 range (a seed of 2^63 or more as its two's complement), got \(json["seed"]?.literal ?? "nothing")")
        }
        var rng = SplitMix64(seed: UInt64(bitPattern: seed))
        func bounds(_ key: String) throws -> (Double, Double)? {
            guard let b = json[key] else { return nil }
            guard case .array(let a) = b, a.count == 2, let lo = a[0].number, let hi = a[1].number, lo.isFinite, hi.isFinite, lo <= hi else {
                throw FormatError(path: "\(path).\(key)", message: "must be [lo, hi] with finite lo <= hi")
            }
            return (lo, hi)
        }
        if json["uniform"] != nil && json["randint"] != nil {
            throw FormatError(path: path, message: "has both 'uniform' and 'randint'")
        }
        if let (lo, hi) = try bounds("uniform") {
            guard dtype.isFloatingPoint else { throw FormatError(path: "\(path).uniform", message: "needs a floating point dtype, not \(dtype.rawValue)") }
            let v = (0..<count).map { _ in lo + (hi - lo) * rng.nextUnit() }
            return dtype == .float32 ? .float32(v.map { Float($0) }) : .float64(v)
        }
        if let (lo, hi) = try bounds("randint") {
            guard lo == lo.rounded(), hi == hi.rounded(), lo < hi, abs(lo) <= 0x1p53, abs(hi) <= 0x1p53 else {
                throw FormatError(path: "\(path).randint", message: "must be integers [lo, hi] with lo < hi, each within ±2^53")
            }
            let v = (0..<count).map { _ in Int64(lo) + Int64((rng.nextUnit() * (hi - lo)).rounded(.down)) }
            return TensorData.int64(v).converted(to: dtype)
        }
        throw FormatError(path: path, message: "needs 'uniform' or 'randint'")
    }
}

extension JSON {
    /// A compact JSON-like spelling of a value, for messages.
    var literal: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.prefix(8).map(\.literal).joined(separator: ", ") + (a.count > 8 ? ", ..." : "") + "]"
        case .object: return "{...}"
        }
    }
}
