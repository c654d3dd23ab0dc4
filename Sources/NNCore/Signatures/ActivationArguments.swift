import Foundation

// How the activations of `Activation.swift` read their arguments: the dtypes a kernel accepts,
// and PyTorch's argument parsers with their TypeError texts.

/// Which input dtypes an activation's kernel accepts, and what it computes in.
enum DTypeRule: Sendable {
    /// Floating point only; otherwise ATen's dispatch error naming `kernel`.
    case floating(kernel: String)
    /// Integers too (computed in int64 with the parameters truncated); bool is `boolError`.
    case integersToo(boolError: TorchError)
    /// Integers are promoted to float32 (tensor arithmetic in Python); bool is `boolError`.
    case promotesIntegers(boolError: TorchError)

    func check(_ d: DType) throws -> DType {
        switch self {
        case .floating(let kernel):
            guard d.isFloatingPoint else {
                throw TorchError.notImplemented("\"\(kernel)\" not implemented for '\(d.scalarTypeName)'")
            }
            return d
        case .integersToo(let boolError), .promotesIntegers(let boolError):
            if d == .bool { throw boolError }
            if case .promotesIntegers = self { return Pointwise.floatingResultType(d) }
            return d
        }
    }
}

/// A validated `prelu(input, weight)`: y = x > 0 ? x : w·x, with w a scalar or one slope per
/// channel (dim 1; a 1-d input has one channel).
public struct PreluCall {
    public let input: Tensor
    public let weight: Tensor
    /// The weight's shape broadcast against the input: `[1, C, 1, ...]`, or the weight's own.
    public let weightShape: [Int]

    /// Checks in ATen's order: same dtype, weight count against channels, weight rank, dtype.
    public init(_ args: Arguments) throws {
        let p = PythonArguments(args, function: "prelu", wrapper: false, pythonName: "prelu")
        try p.requireAll(["input", "weight"])
        input = try p.tensor("input", position: 1)
        weight = try p.tensor("weight", position: 2)
        guard input.dtype == weight.dtype else {
            throw TorchError.runtime("prelu: Type promoting not supported. Got \(input.dtype.scalarTypeName) and \(weight.dtype.scalarTypeName)")
        }
        if weight.numel != 1 {
            guard input.dim > 0 else { throw TorchError.runtime("Not allow zero-dim input tensor.") }
            let channels = input.dim > 1 ? input.shape[1] : 1
            guard channels == weight.numel else {
                throw TorchError.runtime("Mismatch of parameter numbers and input channel size. Found parameter numbers = \(weight.numel) and channel size = \(channels).")
            }
        }
        guard weight.dim <= 1 else {
            throw TorchError.runtime("prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = \(weight.dim)")
        }
        _ = try DTypeRule.floating(kernel: "prelu_cpu").check(input.dtype)
        let (rank, channels) = (input.dim, weight.numel)
        weightShape = rank == weight.dim ? weight.shape : (0..<rank).map { $0 == 1 ? channels : 1 }
    }
}

/// A validated `glu(input, dim=-1)`: with a, b the two halves of `dim`, y = a·σ(b).
public struct GluCall {
    public let input: Tensor
    /// The halved dim, wrapped.
    public let dim: Int

    /// Checks in F's order: 0-dim input, dim range, an even size, then the dtype.
    public init(_ args: Arguments) throws {
        let p = PythonArguments(args, function: "glu", wrapper: true, pythonName: "glu")
        try p.requireAll(["input"])
        guard case .tensor(let x) = args["input"]! else { throw attributeError(args["input"]!, "dim") }  // F's `input.dim()`
        input = x
        let requested = try p.int("dim", position: 2, default: -1)
        guard x.dim > 0 else { throw TorchError.runtime("glu does not support scalars because halving size must be even") }
        dim = try wrapDim(requested, rank: x.dim)
        guard x.shape[dim] % 2 == 0 else {
            throw TorchError.runtime("Halving dimension must be even, but dimension \(dim) is size \(x.shape[dim])")
        }
        _ = try DTypeRule.floating(kernel: "glu_cpu").check(x.dtype)
    }

    /// The slices along `dim`: element j of slice (o, i) is at `(o · size + j) · inner + i`;
    /// `size` is the full length, a runs over j < size/2 and b over the rest.
    public var slices: (outer: Int, size: Int, inner: Int) {
        let s = input.shape
        return (s[..<dim].reduce(1, *), s[dim], s[(dim + 1)...].reduce(1, *))
    }
}

/// Python's truth value of an argument (`if inplace:` in F).
func truthValue(_ v: Value) throws -> Bool {
    switch v {
    case .none: return false
    case .bool(let b): return b
    case .int(let i): return i != 0
    case .double(let d): return d != 0
    case .string(let s): return !s.isEmpty
    case .list(let l): return !l.isEmpty
    case .tensor(let t):
        guard t.numel == 1 else { throw TorchError.runtime("Boolean value of Tensor with more than one value is ambiguous") }
        return t.item != 0
    }
}

/// Python's error for `input.abs()` (or `.dim()`, ...) on an argument that is not a tensor.
func attributeError(_ v: Value, _ attribute: String) -> TorchError {
    TorchError("AttributeError", "'\(v.pythonTypeName)' object has no attribute '\(attribute)'")
}

/// A double as C++'s `ostream << double` prints it: six significant digits (`3.40282e+38`, `-0.5`).
func cDouble(_ d: Double) -> String {
    d.isNaN ? "nan" : d.isInfinite ? (d < 0 ? "-inf" : "inf") : String(format: "%g", d)
}

/// Reads arguments as PyTorch's parsers do and words their TypeErrors: the Python argument
/// parser of C++ `function` (with the argument's position when F passes it positionally), or,
/// for a missing argument of a Python wrapper, Python's own message about `pythonName`.
struct PythonArguments {
    let args: Arguments
    let function: String
    let wrapper: Bool
    let pythonName: String

    init(_ args: Arguments, function: String, wrapper: Bool, pythonName: String) {
        self.args = args
        self.function = function
        self.wrapper = wrapper
        self.pythonName = pythonName
    }

    /// Python: `f() missing 2 required positional arguments: 'threshold' and 'value'`;
    /// the C++ parser: `f() missing 1 required positional arguments: "weight"` (sic).
    func requireAll(_ names: [String]) throws {
        let missing = names.filter { args[$0] == nil }
        guard !missing.isEmpty else { return }
        let n = missing.count
        if wrapper {
            let quoted = missing.map { "'\($0)'" }
            let list = n == 1 ? quoted[0] : n == 2 ? quoted.joined(separator: " and ")
                : quoted.dropLast().joined(separator: ", ") + ", and " + quoted.last!
            throw TorchError.type("\(pythonName)() missing \(n) required positional argument\(n == 1 ? "" : "s"): \(list)")
        }
        throw TorchError.type("\(function)() missing \(n) required positional argument\(n == 1 ? "s" : ""): "
                              + missing.map { "\"\($0)\"" }.joined(separator: ", "))
    }

    private func typeError(_ name: String, _ position: Int, _ expected: String, _ got: Value) -> TorchError {
        .type("\(function)(): argument '\(name)'\(wrapper ? " (position \(position))" : "") must be \(expected), not \(got.pythonTypeName)")
    }

    /// A required tensor argument (`requireAll` has checked it is there).
    func tensor(_ name: String, position: Int) throws -> Tensor {
        let v = args[name]!
        guard case .tensor(let t) = v else { throw typeError(name, position, "Tensor", v) }
        return t
    }

    /// A `Number` (C++ `Scalar`): a bool, int, float or 0-dim tensor; `None` is refused.
    /// `default` is nil for a required argument, which `requireAll` has checked is there.
    func number(_ name: String, position: Int, default d: Double?) throws -> Double {
        guard let v = args[name] else { return d! }
        switch v {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .double(let x): return x
        case .tensor(let t) where t.dim == 0: return t.item
        default: throw typeError(name, position, "Number", v)
        }
    }

    func int(_ name: String, position: Int, default d: Int) throws -> Int {
        guard let v = args[name] else { return d }
        guard case .int(let i) = v else { throw typeError(name, position, "int", v) }
        return i
    }

    func bool(_ name: String, position: Int, default d: Bool) throws -> Bool {
        guard let v = args[name] else { return d }
        guard case .bool(let b) = v else { throw typeError(name, position, "bool", v) }
        return b
    }

    func string(_ name: String, default d: String) throws -> String {
        guard let v = args[name] else { return d }
        guard case .string(let s) = v else { throw typeError(name, 0, "str", v) }
        return s
    }
}
