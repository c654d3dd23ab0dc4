/// One op of a backend: PyTorch keyword arguments in, a tensor (or a tuple as `.list`) out.
public typealias OpFunction = @Sendable (Arguments) throws -> Value

/// The parameter names of a PyTorch op, in PyTorch's order. Shared by every backend: the
/// signature decides which keywords a call accepts; a backend only supplies the kernels.
public struct OpSignature: Sendable {
    public let name: String
    public let parameters: [String]
    public init(_ name: String, _ parameters: [String]) {
        self.name = name
        self.parameters = parameters
    }
}

/// An implementation of the op table: the reference backend, the optimized one, or a user's.
/// A backend implements any subset of `Signatures.all`; the rest is `unsupported`.
public protocol Backend {
    /// Short name used in reports and on the command line (`reference`, `optimized`).
    var name: String { get }
    /// What the backend runs on, for report headers (e.g. `OpenBLAS 0.3.21 SkylakeX, 2 threads`).
    var details: String { get }
    /// The kernel for PyTorch op `op`, or nil when this backend does not implement it.
    func implementation(of op: String) -> OpFunction?
    /// Whether program cases (in-place rules, modules, autograd attributes) can run on it:
    /// they need tensors that live in this process (an external process's cannot).
    var supportsPrograms: Bool { get }
}

extension Backend {
    public var details: String { "" }
    public var supportsPrograms: Bool { true }

    /// Calls `op` as Python would: unknown ops and unimplemented kernels are `Unsupported`,
    /// an unexpected keyword is PyTorch's TypeError.
    public func call(_ op: String, _ args: Arguments) throws -> Value {
        guard let signature = Signatures.all[op] else { throw Unsupported("unknown op '\(op)'") }
        guard let kernel = implementation(of: op) else {
            throw Unsupported("the \(name) backend does not implement '\(op)'")
        }
        for key in args.values.keys.sorted() where !signature.parameters.contains(key) {
            throw TorchError.type("\(op)() got an unexpected keyword argument '\(key)'")
        }
        return try kernel(args)
    }

    public func call(_ op: String, _ values: [String: Value]) throws -> Value {
        try call(op, Arguments(op: op, values))
    }
}

/// A backend made of a dictionary of kernels keyed by PyTorch op name.
public struct OpTable: Backend, Sendable {
    public let name: String
    public let details: String
    public let ops: [String: OpFunction]

    public init(name: String, details: String = "", ops: [String: OpFunction]) {
        self.name = name
        self.details = details
        self.ops = ops
    }

    public func implementation(of op: String) -> OpFunction? { ops[op] }
}

/// Every op nnconf knows, by family; each family's signatures and argument checks live in
/// `Signatures/<Family>.swift`.
public enum Signatures {
    public static let all: [String: OpSignature] = {
        let families = [convolution, convolutionTranspose, linear, elementwise, reduction, softmax, losses, interpolate, activation, pooling, normalization, shape, sampling, dropout]
        return Dictionary(families.joined().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }()
}
