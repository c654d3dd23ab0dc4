/// Affine maps: `linear` (y = x·Wᵀ + b) and `bilinear` (y = x₁ᵀ·A·x₂ + b).
extension Signatures {
    static let linear: [OpSignature] = [
        OpSignature("linear", ["input", "weight", "bias"]),
        OpSignature("bilinear", ["input1", "input2", "weight", "bias"]),
    ]
}

/// A validated `linear(input, weight, bias)`.
///
/// `input` is (*, in) and `weight` is (out, in), giving (*, out); a 1-D `weight` (in) gives (*).
/// `bias` broadcasts to the output. Errors are ATen's, phrased in terms of the matrix product
/// it computes: `input` flattened to (rows, in) against `weightᵀ`.
public struct LinearCall {
    public let input: Tensor
    public let weight: Tensor
    public let bias: Tensor?
    /// Product of the input's leading dimensions (1 for a 1-D input).
    public let rows: Int
    public let inFeatures: Int
    /// Output features per row; nil for a 1-D weight (a matrix-vector product).
    public let outFeatures: Int?
    public let outputShape: [Int]
    /// PyTorch's `grad_fn` for this combination of ranks (the ATen route `linear` takes).
    public let backwardName: String

    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        weight = try args.tensor("weight")
        bias = try args.optionalTensor("bias")
        guard input.dim >= 1 && weight.dim >= 1 else {
            throw TorchError.runtime("both arguments to linear need to be at least 1D, but they are \(input.dim)D and \(weight.dim)D")
        }
        guard weight.dim <= 2 else {
            throw TorchError.runtime("t() expects a tensor with <= 2 dimensions, but self is \(weight.dim)D")
        }
        guard input.dtype == weight.dtype else {
            throw TorchError.runtime("expected m1 and m2 to have the same dtype, but got: \(input.dtype.cName) != \(weight.dtype.cName)")
        }
        guard input.dtype.isFloatingPoint else { throw Unsupported("linear of \(input.dtype.rawValue) tensors") }
        inFeatures = input.shape.last!
        rows = input.numel / max(inFeatures, 1)
        outFeatures = weight.dim == 2 ? weight.shape[0] : nil
        let weightIn = weight.shape.last!
        guard weightIn == inFeatures else {
            let mat1 = input.dim == 1 ? "1x\(inFeatures)" : "\(rows)x\(inFeatures)"
            let mat2 = weight.dim == 2 ? "\(weightIn)x\(weight.shape[0])" : "\(weightIn)x1"
            throw TorchError.runtime("mm: mat1 and mat2 shapes cannot be multiplied (\(mat1) and \(mat2))")
        }
        outputShape = Array(input.shape.dropLast()) + (outFeatures.map { [$0] } ?? [])
        if let b = bias {
            guard b.dtype == input.dtype else {
                throw TorchError.runtime("self and mat2 must have the same dtype, but got \(b.dtype.scalarTypeName) and \(input.dtype.scalarTypeName)")
            }
            if (try? broadcastShapes(b.shape, outputShape)) != outputShape {
                let target = input.dim == 1 ? [1] + outputShape : [rows] + outputShape.suffix(1)
                let dim = target.count - 1
                let existing = b.shape.last ?? 1
                throw TorchError.runtime("The expanded size of the tensor (\(target[dim])) must match the existing size (\(existing)) at non-singleton dimension \(dim).  Target sizes: \(shapeString(target)).  Tensor sizes: \(shapeString(b.shape))")
            }
        }
        switch (input.dim, weight.dim, bias?.dim) {
        case (2, 2, .some): backwardName = "AddmmBackward0"
        case (2, 2, nil): backwardName = "MmBackward0"
        case (2, 1, nil): backwardName = "MvBackward0"
        case (1, 1, nil): backwardName = "DotBackward0"
        case (1, 2, nil): backwardName = "SqueezeBackward4"
        case (_, _, .some(0)): backwardName = "AddBackward0"
        default: backwardName = "UnsafeViewBackward0"
        }
    }
}

/// A validated `bilinear(input1, input2, weight, bias)`: inputs (*, in1) and (*, in2) with the
/// same leading dimensions, weight (out, in1, in2), bias (out); output (*, out).
public struct BilinearCall {
    public let input1: Tensor
    public let input2: Tensor
    public let weight: Tensor
    public let bias: Tensor?
    public let rows: Int
    public let in1: Int, in2: Int, out: Int
    public let outputShape: [Int]
    public var backwardName: String { input1.dim == 2 && bias != nil ? "AddBackward0" : "ViewBackward0" }

    public init(_ args: Arguments) throws {
        input1 = try args.tensor("input1")
        input2 = try args.tensor("input2")
        weight = try args.tensor("weight")
        bias = try args.optionalTensor("bias")
        guard input1.dim == input2.dim else {
            throw TorchError.runtime("bilinear(): input dimensions do not match: got \(input1.dim) and \(input2.dim)")
        }
        for d in 0..<(input1.dim - 1) where input1.shape[d] != input2.shape[d] {
            throw TorchError.runtime("bilinear(): input batch dimensions do not match at dim \(d): got \(input1.shape[d]) and \(input2.shape[d])")
        }
        guard weight.dim == 3 else {
            throw TorchError.index("Dimension out of range (expected to be in range of [-\(weight.dim), \(weight.dim - 1)], but got 2)")
        }
        (in1, in2, out) = (input1.shape.last ?? 1, input2.shape.last ?? 1, weight.shape[0])
        guard in1 == weight.shape[1] else {
            throw TorchError.runtime("bilinear(): input1 size does not match weight size: got \(in1) but expected \(weight.shape[1])")
        }
        guard in2 == weight.shape[2] else {
            throw TorchError.runtime("bilinear(): input2 size does not match weight size: got \(in2) but expected \(weight.shape[2])")
        }
        if let b = bias, b.numel != out || b.dim != 1 {
            throw TorchError.runtime("bilinear(): bias size does not match weight size: got \(b.shape.last ?? 1) but expected \(out)")
        }
        let dtype = input1.dtype
        if input2.dtype != dtype || weight.dtype != dtype || (bias.map { $0.dtype != dtype } ?? false) {
            throw TorchError.runtime("All tensors must have the same dtype, got input1: \(dtype.cName), input2: \(input2.dtype.cName), weight: \(weight.dtype.cName)"
                                     + (bias.map { ", bias: \($0.dtype.cName)" } ?? ""))
        }
        guard dtype.isFloatingPoint else { throw Unsupported("bilinear of \(dtype.rawValue) tensors") }
        rows = input1.numel / max(in1, 1)
        outputShape = Array(input1.shape.dropLast()) + [out]
    }
}

extension DType {
    /// The C type name ATen prints in some dtype errors: `float`, `double`, `long int`, `bool`.
    public var cName: String {
        switch self {
        case .float32: return "float"
        case .float64: return "double"
        case .int64: return "long int"
        case .bool: return "bool"
        }
    }
}
