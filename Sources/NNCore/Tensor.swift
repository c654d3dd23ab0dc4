/// The elements of a tensor, row-major and contiguous, in their own dtype.
public enum TensorData: Sendable, Equatable {
    case float32([Float])
    case float64([Double])
    case int64([Int64])
    case bool([Bool])

    public var dtype: DType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        case .int64: return .int64
        case .bool: return .bool
        }
    }

    public var count: Int {
        switch self {
        case .float32(let a): return a.count
        case .float64(let a): return a.count
        case .int64(let a): return a.count
        case .bool(let a): return a.count
        }
    }

    /// Every element widened to Double (exact for float32, and for int64 up to 2^53).
    public var doubles: [Double] {
        switch self {
        case .float32(let a): return a.map(Double.init)
        case .float64(let a): return a
        case .int64(let a): return a.map(Double.init)
        case .bool(let a): return a.map { $0 ? 1 : 0 }
        }
    }

    /// `count` zeros of `dtype`.
    public static func zeros(_ dtype: DType, count: Int) -> TensorData {
        switch dtype {
        case .float32: return .float32(Array(repeating: 0, count: count))
        case .float64: return .float64(Array(repeating: 0, count: count))
        case .int64: return .int64(Array(repeating: 0, count: count))
        case .bool: return .bool(Array(repeating: false, count: count))
        }
    }

    /// The elements converted to `dtype` as PyTorch's `.to(dtype)` does (floats to int truncate).
    public func converted(to dtype: DType) -> TensorData {
        if dtype == self.dtype { return self }
        switch (self, dtype) {
        case (.int64(let a), .float32): return .float32(a.map(Float.init))
        case (.int64(let a), .float64): return .float64(a.map(Double.init))
        case (.float32(let a), .float64): return .float64(a.map(Double.init))
        case (.float64(let a), .float32): return .float32(a.map(Float.init))
        case (.bool(let a), .int64): return .int64(a.map { $0 ? 1 : 0 })
        case (_, .bool): return .bool(doubles.map { $0 != 0 })
        case (_, .int64): return .int64(doubles.map { Int64($0.rounded(.towardZero)) })
        default: return TensorData.zeros(dtype, count: 0).fromDoubles(doubles)
        }
    }

    private func fromDoubles(_ d: [Double]) -> TensorData {
        switch dtype {
        case .float32: return .float32(d.map(Float.init))
        case .float64: return .float64(d)
        case .int64: return .int64(d.map { Int64($0) })
        case .bool: return .bool(d.map { $0 != 0 })
        }
    }
}

/// A tensor's memory: shared by a tensor and its views, with PyTorch's version counter,
/// which every in-place write bumps and autograd checks before using a saved value.
public final class Storage {
    public internal(set) var data: TensorData
    public internal(set) var version = 0

    public init(_ data: TensorData) { self.data = data }
}

/// An n-dimensional array with PyTorch's autograd attributes.
///
/// Tensors are reference types, as in PyTorch: an in-place op changes the tensor every holder
/// sees. Storage is always contiguous and row-major; `view`/`reshape` share it.
public final class Tensor {
    public let storage: Storage
    public let shape: [Int]
    /// For a view, the tensor it views (PyTorch's `._base`).
    public let base: Tensor?
    /// Whether autograd records operations on this tensor.
    public internal(set) var requiresGrad: Bool
    /// The accumulated gradient of a leaf after `backward`.
    public var grad: Tensor?
    /// The node that made this tensor, or `nil` for a leaf.
    public internal(set) var gradFn: Node?

    public init(shape: [Int], data: TensorData, requiresGrad: Bool = false) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) elements")
        self.storage = Storage(data)
        self.shape = shape
        self.base = nil
        self.requiresGrad = requiresGrad
    }

    init(viewOf base: Tensor, shape: [Int]) {
        self.storage = base.storage
        self.shape = shape
        self.base = base.base ?? base
        self.requiresGrad = false
    }

    public convenience init<T: FloatScalar>(shape: [Int], _ values: [T], requiresGrad: Bool = false) {
        self.init(shape: shape, data: T.wrap(values), requiresGrad: requiresGrad)
    }

    public convenience init(shape: [Int], int64 values: [Int64]) {
        self.init(shape: shape, data: .int64(values))
    }

    /// A 0-dim tensor.
    public convenience init<T: FloatScalar>(scalar: T) {
        self.init(shape: [], [scalar])
    }

    public static func zeros(_ shape: [Int], dtype: DType) -> Tensor {
        Tensor(shape: shape, data: .zeros(dtype, count: shape.reduce(1, *)))
    }

    public var data: TensorData { storage.data }
    public var dtype: DType { storage.data.dtype }
    public var dim: Int { shape.count }
    public var numel: Int { shape.reduce(1, *) }
    public var isLeaf: Bool { gradFn == nil }
    public var version: Int { storage.version }

    /// The elements as `[T]`; the tensor must have dtype `T.dtype`.
    public func values<T: FloatScalar>(_: T.Type = T.self) -> [T] {
        guard let a = T.unwrap(storage.data) else {
            preconditionFailure("expected \(T.dtype) tensor, got \(dtype)")
        }
        return a
    }

    public var doubles: [Double] { storage.data.doubles }

    public var int64s: [Int64] {
        guard case .int64(let a) = storage.data.converted(to: .int64) else { preconditionFailure() }
        return a
    }

    /// The single element of a one-element tensor, as a Double.
    public var item: Double { doubles[0] }

    /// Size of dimension `d`, negative `d` counting from the end.
    public func size(_ d: Int) -> Int { shape[d < 0 ? d + dim : d] }

    /// A new leaf sharing nothing with this tensor.
    public func clone(requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, data: storage.data, requiresGrad: requiresGrad)
    }

    /// A tensor sharing storage, cut from the graph (`.detach()`).
    public func detach() -> Tensor { Tensor(viewOf: self, shape: shape) }

    /// PyTorch's `.view(shape)`: same storage, new shape; one entry may be -1.
    public func view(_ newShape: [Int]) throws -> Tensor {
        let resolved = try Tensor.inferShape(newShape, numel: numel)
        let v = Tensor(viewOf: self, shape: resolved)
        let inShape = shape
        return v.recording("ViewBackward0", inputs: [self]) { g in [try g.reshape(inShape)] }
    }

    /// PyTorch's `.reshape(shape)`; storage here is always contiguous, so this is `view`.
    public func reshape(_ newShape: [Int]) throws -> Tensor { try view(newShape) }

    static func inferShape(_ s: [Int], numel: Int) throws -> [Int] {
        let bad = TorchError.runtime("shape '\(shapeString(s))' is invalid for input of size \(numel)")
        var unknown: Int?
        for (i, d) in s.enumerated() {  // left to right, as ATen's infer_size
            if d == -1 {
                guard unknown == nil else { throw TorchError.runtime("only one dimension can be inferred") }
                unknown = i
            } else if d < 0 {
                throw TorchError.runtime("invalid shape dimension \(d) at index \(i) of shape \(shapeString(s))")
            }
        }
        guard let u = unknown else {
            if s.reduce(1, *) != numel { throw bad }
            return s
        }
        let known = s.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
        if known == 0 || numel % known != 0 { throw bad }
        var r = s
        r[u] = numel / known
        return r
    }
}

/// `[2, 3]`, as PyTorch prints sizes in messages.
public func shapeString(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

/// Strides (in elements) of a contiguous row-major tensor of shape `s`.
public func contiguousStrides(_ s: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: s.count)
    var acc = 1
    for i in stride(from: s.count - 1, through: 0, by: -1) {
        strides[i] = acc
        acc *= s[i]
    }
    return strides
}

/// Wraps a possibly negative dimension index into `0..<rank`, with PyTorch's IndexError.
public func wrapDim(_ d: Int, rank: Int) throws -> Int {
    let r = max(rank, 1)  // a 0-dim tensor accepts dims -1 and 0
    guard d >= -r && d < r else {
        throw TorchError.index("Dimension out of range (expected to be in range of [\(-r), \(r - 1)], but got \(d))")
    }
    return d < 0 ? d + r : d
}
