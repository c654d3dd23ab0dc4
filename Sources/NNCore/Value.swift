/// An argument or result value: what a Python keyword argument or return value can be.
public indirect enum Value {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case tensor(Tensor)
    case list([Value])

    public var tensor: Tensor? {
        if case .tensor(let t) = self { return t }
        return nil
    }

    /// Python's `repr`-like spelling, for messages.
    public var pythonDescription: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return "'\(s)'"
        case .tensor(let t): return "Tensor\(shapeString(t.shape))"
        // A JSON array reads back in Python as a list, so lists are what messages quote.
        case .list(let l): return "[" + l.map(\.pythonDescription).joined(separator: ", ") + "]"
        }
    }

    /// Python's type name, for TypeErrors.
    public var pythonTypeName: String {
        switch self {
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .tensor: return "Tensor"
        case .list: return "list"
        }
    }
}

/// The keyword arguments of one call, with typed accessors that apply PyTorch's defaults and
/// raise Python's TypeError for a value of the wrong kind.
public struct Arguments {
    public let op: String
    public var values: [String: Value]

    public init(op: String, _ values: [String: Value]) {
        self.op = op
        self.values = values
    }

    public subscript(_ name: String) -> Value? { values[name] }

    /// Whether `name` was given and is not `None`.
    public func has(_ name: String) -> Bool {
        if let v = values[name], case .none = v { return false }
        return values[name] != nil
    }

    func typeError(_ name: String, _ expected: String, _ got: Value) -> TorchError {
        .type("\(op)(): argument '\(name)' must be \(expected), not \(got.pythonTypeName)")
    }

    public func tensor(_ name: String) throws -> Tensor {
        guard let v = values[name] else {
            throw TorchError.type("\(op)() missing required argument '\(name)'")
        }
        guard case .tensor(let t) = v else { throw typeError(name, "Tensor", v) }
        return t
    }

    public func optionalTensor(_ name: String) throws -> Tensor? {
        guard let v = values[name] else { return nil }
        switch v {
        case .none: return nil
        case .tensor(let t): return t
        default: throw typeError(name, "Tensor", v)
        }
    }

    public func int(_ name: String, default d: Int) throws -> Int {
        try optionalInt(name) ?? d
    }

    public func optionalInt(_ name: String) throws -> Int? {
        guard let v = values[name] else { return nil }
        switch v {
        case .none: return nil
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: throw typeError(name, "int", v)
        }
    }

    public func double(_ name: String, default d: Double) throws -> Double {
        try optionalDouble(name) ?? d
    }

    public func optionalDouble(_ name: String) throws -> Double? {
        guard let v = values[name] else { return nil }
        switch v {
        case .none: return nil
        case .int(let i): return Double(i)
        case .double(let x): return x
        case .bool(let b): return b ? 1 : 0
        default: throw typeError(name, "float", v)
        }
    }

    public func bool(_ name: String, default d: Bool) throws -> Bool {
        try optionalBool(name) ?? d
    }

    public func optionalBool(_ name: String) throws -> Bool? {
        guard let v = values[name] else { return nil }
        switch v {
        case .none: return nil
        case .bool(let b): return b
        case .int(let i): return i != 0
        default: throw typeError(name, "bool", v)
        }
    }

    public func string(_ name: String, default d: String) throws -> String {
        try optionalString(name) ?? d
    }

    public func optionalString(_ name: String) throws -> String? {
        guard let v = values[name] else { return nil }
        switch v {
        case .none: return nil
        case .string(let s): return s
        default: throw typeError(name, "str", v)
        }
    }

    /// An int or a list of `count` ints (`stride=2` or `stride=[2, 1]`), expanded to `count`.
    /// A list of the wrong length is PyTorch's RuntimeError, e.g.
    /// `expected stride to be a single integer value or a list of 2 values to match the convolution dimensions, but got stride=[1, 1, 1]`.
    public func ints(_ name: String, count: Int, default d: Int) throws -> [Int] {
        try optionalInts(name, count: count) ?? Array(repeating: d, count: count)
    }

    public func optionalInts(_ name: String, count: Int) throws -> [Int]? {
        guard let v = values[name] else { return nil }
        switch v {
        case .none: return nil
        case .int(let i): return Array(repeating: i, count: count)
        case .list(let l):
            let ints = try l.map { e -> Int in
                guard case .int(let i) = e else { throw typeError(name, "tuple of ints", e) }
                return i
            }
            if ints.count == 1 { return Array(repeating: ints[0], count: count) }
            guard ints.count == count else {
                throw TorchError.runtime("expected \(name) to be a single integer value or a list of \(count) values to match the convolution dimensions, but got \(name)=\(shapeString(ints))")
            }
            return ints
        default: throw typeError(name, "tuple of ints", v)
        }
    }

    /// A list of ints of any length (or one int as a one-element list), e.g. `dim=(0, 2)`.
    public func intList(_ name: String) throws -> [Int]? {
        guard let v = values[name] else { return nil }
        switch v {
        case .none: return nil
        case .int(let i): return [i]
        case .list(let l):
            return try l.map { e in
                guard case .int(let i) = e else { throw typeError(name, "tuple of ints", e) }
                return i
            }
        default: throw typeError(name, "tuple of ints", v)
        }
    }

    /// A float or a list of floats, e.g. `scale_factor=2.0` or `scale_factor=[1.5, 2]`.
    public func doubleList(_ name: String) throws -> [Double]? {
        guard let v = values[name] else { return nil }
        switch v {
        case .none: return nil
        case .int(let i): return [Double(i)]
        case .double(let d): return [d]
        case .list(let l):
            return try l.map { e in
                switch e {
                case .int(let i): return Double(i)
                case .double(let d): return d
                default: throw typeError(name, "tuple of floats", e)
                }
            }
        default: throw typeError(name, "float or tuple of floats", v)
        }
    }
}
