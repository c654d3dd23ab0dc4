import RealModule

/// The element types of `nnconf/1` tensors, spelled as PyTorch spells them.
public enum DType: String, Sendable, CaseIterable {
    case float32, float64, int64, bool

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// PyTorch's legacy type name, as it appears in autograd messages: `torch.FloatTensor`.
    public var legacyTypeName: String {
        switch self {
        case .float32: return "torch.FloatTensor"
        case .float64: return "torch.DoubleTensor"
        case .int64: return "torch.LongTensor"
        case .bool: return "torch.BoolTensor"
        }
    }

    /// The scalar type name PyTorch uses in dtype errors: `Float`, `Double`, `Long`, `Bool`.
    public var scalarTypeName: String {
        switch self {
        case .float32: return "Float"
        case .float64: return "Double"
        case .int64: return "Long"
        case .bool: return "Bool"
        }
    }

    /// Type promotion between two tensors of the same category level (PyTorch's `promote_types`).
    public static func promote(_ a: DType, _ b: DType) -> DType {
        let order: [DType] = [.bool, .int64, .float32, .float64]
        return order[max(order.firstIndex(of: a)!, order.firstIndex(of: b)!)]
    }
}

/// The floating-point element types the reference kernels are generic over: `Float` and `Double`.
///
/// `Real` (swift-numerics) supplies `exp`, `log`, `tanh`, `pow`, ... generically, so one kernel
/// written once serves both dtypes and rounds exactly as the dtype does.
public protocol FloatScalar: BinaryFloatingPoint, Real, Sendable where Self.RawSignificand: FixedWidthInteger {
    static var dtype: DType { get }
    static func unwrap(_ data: TensorData) -> [Self]?
    static func wrap(_ values: [Self]) -> TensorData
}

extension Float: FloatScalar {
    public static var dtype: DType { .float32 }
    public static func unwrap(_ data: TensorData) -> [Float]? {
        if case .float32(let a) = data { return a }
        return nil
    }
    public static func wrap(_ values: [Float]) -> TensorData { .float32(values) }
}

extension Double: FloatScalar {
    public static var dtype: DType { .float64 }
    public static func unwrap(_ data: TensorData) -> [Double]? {
        if case .float64(let a) = data { return a }
        return nil
    }
    public static func wrap(_ values: [Double]) -> TensorData { .float64(values) }
}
