/// Pointwise ops: `relu`, `sigmoid`, `tanh`, `exp`, `neg` (y = f(x) per element) and
/// `add`, `sub`, `mul`, `div` (z = x ∘ y after broadcasting), each with its in-place `_` form.
///
/// This file holds what every backend shares: the signatures, PyTorch's type promotion
/// (`torch.result_type`), and the validated calls `UnaryPointwiseCall` / `BinaryPointwiseCall`,
/// which raise PyTorch's errors in PyTorch's order.

extension Signatures {
    static let elementwise: [OpSignature] = [
        OpSignature("relu", ["input", "inplace"]),
        OpSignature("relu_", ["input"]),
        OpSignature("sigmoid", ["input"]),
        OpSignature("sigmoid_", ["input"]),
        OpSignature("tanh", ["input"]),
        OpSignature("tanh_", ["input"]),
        OpSignature("exp", ["input"]),
        OpSignature("exp_", ["input"]),
        OpSignature("neg", ["input"]),
        OpSignature("neg_", ["input"]),
        OpSignature("add", ["input", "other", "alpha"]),
        OpSignature("add_", ["input", "other", "alpha"]),
        OpSignature("sub", ["input", "other", "alpha"]),
        OpSignature("sub_", ["input", "other", "alpha"]),
        OpSignature("mul", ["input", "other"]),
        OpSignature("mul_", ["input", "other"]),
        OpSignature("div", ["input", "other", "rounding_mode"]),
        OpSignature("div_", ["input", "other", "rounding_mode"]),
    ]
}

/// An operand of a pointwise op as PyTorch's TensorIterator sees it: a tensor, or a Python
/// number wrapped as a 0-dim tensor (int → int64, float → float64, bool → bool) that takes
/// part in type promotion at the lowest priority.
public struct PointwiseOperand {
    public let tensor: Tensor
    public let isWrappedNumber: Bool

    public init(_ tensor: Tensor) {
        self.tensor = tensor
        self.isWrappedNumber = false
    }

    /// `value` is a tensor or a Python number; anything else is PyTorch's TypeError.
    public init(_ value: Value, op: String, name: String, position: Int) throws {
        switch value {
        case .tensor(let t): tensor = t
        case .int(let i): tensor = Tensor(shape: [], data: .int64([Int64(i)]))
        case .double(let d): tensor = Tensor(shape: [], data: .float64([d]))
        case .bool(let b): tensor = Tensor(shape: [], data: .bool([b]))
        default:
            throw TorchError.type("\(op)(): argument '\(name)' (position \(position)) must be Tensor, not \(value.pythonTypeName)")
        }
        isWrappedNumber = value.tensor == nil
    }
}

/// PyTorch's type promotion for pointwise ops.
public enum Pointwise {
    /// `torch.result_type`: operands fall into three priority levels — tensors with dimensions,
    /// 0-dim tensors, wrapped Python numbers (a Python float counts as the default dtype,
    /// float32). Each level promotes within itself; a lower level only changes the result when
    /// it is of a higher category (bool < integer < floating point), or when the higher
    /// level is bool.
    public static func resultType(_ operands: [PointwiseOperand]) -> DType {
        var dimensioned: DType?, zeroDim: DType?, wrapped: DType?
        for op in operands {
            let d = op.tensor.dtype
            if op.isWrappedNumber {
                wrapped = promote(wrapped, d.isFloatingPoint ? .float32 : d)
            } else if op.tensor.dim == 0 {
                zeroDim = promote(zeroDim, d)
            } else {
                dimensioned = promote(dimensioned, d)
            }
        }
        return combineCategories(dimensioned, combineCategories(zeroDim, wrapped))!
    }

    private static func promote(_ a: DType?, _ b: DType) -> DType {
        a.map { DType.promote($0, b) } ?? b
    }

    private static func combineCategories(_ higher: DType?, _ lower: DType?) -> DType? {
        guard let higher else { return lower }
        guard let lower else { return higher }
        if higher.isFloatingPoint { return higher }
        if higher == .bool || lower.isFloatingPoint { return DType.promote(higher, lower) }
        return higher
    }

    /// The dtype a floating-point function (`sigmoid`, `exp`, `/`) computes in: integers and
    /// bools go to the default dtype, float32.
    public static func floatingResultType(_ d: DType) -> DType { d.isFloatingPoint ? d : .float32 }

    /// `torch.can_cast`: no floating point to integer, nothing but bool to bool.
    public static func canCast(_ from: DType, to: DType) -> Bool {
        if from.isFloatingPoint && !to.isFloatingPoint && to != .bool { return false }
        if from != .bool && to == .bool { return false }
        return true
    }

    /// The check an in-place op makes before writing a `result`-typed value into `output`.
    public static func checkCast(_ result: DType, into output: DType) throws {
        guard canCast(result, to: output) else {
            throw TorchError.runtime("result type \(result.scalarTypeName) can't be cast to the desired output type \(output.scalarTypeName)")
        }
    }

    public static let boolNegationError = TorchError.notImplemented(
        "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
}

/// y = f(x) elementwise.
public enum UnaryFunction: String, Sendable {
    case relu, sigmoid, tanh, exp, neg

    /// PyTorch's `grad_fn` name (the in-place form records the same node).
    public var backwardName: String {
        switch self {
        case .relu: return "ReluBackward0"
        case .sigmoid: return "SigmoidBackward0"
        case .tanh: return "TanhBackward0"
        case .exp: return "ExpBackward0"
        case .neg: return "NegBackward0"
        }
    }

    /// Whether the backward needs the output y (σ' = y(1 − y), tanh' = 1 − y², exp' = y,
    /// relu' = [y ≤ 0 ? 0 : 1], NaN passing); PyTorch saves it, so writing y in place breaks the backward.
    public var savesOutput: Bool { self != .neg }
}

/// A validated call of a unary pointwise op.
public struct UnaryPointwiseCall {
    public let function: UnaryFunction
    public let input: Tensor
    public let inplace: Bool
    /// The dtype f is computed in and returned in: the input's, or float32 for an integer
    /// input to `sigmoid`/`tanh`/`exp`.
    public let dtype: DType

    /// Checks in PyTorch's order: leaf written in place, bool input, result not castable.
    public init(_ function: UnaryFunction, _ args: Arguments, inplace: Bool) throws {
        self.function = function
        self.inplace = inplace
        input = try args.tensor("input")
        if inplace { try input.checkInplace() }
        switch function {
        case .relu:
            if input.dtype == .bool { throw TorchError.notImplemented("Boolean inputs not supported for relu") }
            dtype = input.dtype
        case .neg:
            if input.dtype == .bool { throw Pointwise.boolNegationError }
            dtype = input.dtype
        case .sigmoid, .tanh, .exp:
            dtype = Pointwise.floatingResultType(input.dtype)
        }
        if inplace { try Pointwise.checkCast(dtype, into: input.dtype) }
    }
}

/// How `div` rounds its quotient: toward zero (C's `trunc(a / b)`), or down (Python's `//`).
public enum RoundingMode: String, Sendable {
    case trunc, floor
}

extension UnaryPointwiseCall {
    /// f(x) = `data` as PyTorch records it, for any backend: a new tensor whose node saves the
    /// output when f's derivative needs it, or, in place, x itself overwritten and rebased (the
    /// result saved after the write). `gradient(g, y)` is f'·g from the saved output y.
    public func record(_ data: TensorData, gradient: @escaping (Tensor, Tensor?) throws -> Tensor) -> Tensor {
        let (x, f) = (input, function)
        guard inplace else {
            let y = Tensor(shape: x.shape, data: data)
            let saved = f.savesOutput ? SavedTensor(output: y, of: f.backwardName) : nil
            return y.recording(f.backwardName, inputs: [x], saving: saved.map { [$0] } ?? []) { g in
                [try gradient(g, saved?.unpack())]
            }
        }
        if f.savesOutput {
            x.commitInplace(data, name: f.backwardName, pullbackWithOutput: { g, y in [try gradient(g, y)] })
        } else {
            x.commitInplace(data, name: f.backwardName) { g in [try gradient(g, nil)] }
        }
        return x
    }
}

/// z = x ∘ y elementwise after broadcasting: x + αy, x − αy, x·y, x / y (true division).
public enum BinaryFunction: String, Sendable {
    case add, sub, mul, div

    public var backwardName: String {
        switch self {
        case .add: return "AddBackward0"
        case .sub: return "SubBackward0"
        case .mul: return "MulBackward0"
        case .div: return "DivBackward0"
        }
    }
}

/// A validated call of a binary pointwise op.
public struct BinaryPointwiseCall {
    public let function: BinaryFunction
    public let input: Tensor
    public let other: PointwiseOperand
    /// α of `add`/`sub` (1 otherwise); for an integer result it is a whole number.
    public let alpha: Double
    public let inplace: Bool
    /// The broadcast shape of input and other (for in-place ops, the input's own shape).
    public let shape: [Int]
    /// The common dtype the op computes in (`torch.result_type`; `div` of integers: float32).
    public let dtype: DType
    /// `div`'s `rounding_mode` ('trunc' or 'floor'); nil for true division and other ops.
    public let roundingMode: RoundingMode?
    /// `DivBackward2` for a rounding division (whose gradient is zero), else the function's.
    public var backwardName: String { roundingMode == nil ? function.backwardName : "DivBackward2" }
    /// The dtype of the result: `dtype`, or the input's own for in-place ops.
    public var outputDType: DType { inplace ? input.dtype : dtype }

    /// Checks in PyTorch's order: leaf written in place, `rounding_mode`, bool subtraction,
    /// broadcasting, in-place shape and cast, then `alpha`.
    public init(_ function: BinaryFunction, _ args: Arguments, inplace: Bool) throws {
        self.function = function
        self.inplace = inplace
        input = try args.tensor("input")
        guard let otherValue = args["other"] else {
            throw TorchError.type("\(args.op)() missing required argument 'other'")
        }
        other = try PointwiseOperand(otherValue, op: args.op, name: "other", position: 2)
        if inplace { try input.checkInplace() }

        if function == .div, let mode = try args.optionalString("rounding_mode") {
            guard let m = RoundingMode(rawValue: mode) else {
                throw TorchError.runtime("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '\(mode)'")
            }
            roundingMode = m
        } else {
            roundingMode = nil
        }
        if function == .sub {
            let (a, b) = (input.dtype, other.tensor.dtype)
            if a == .bool && b == .bool {
                throw TorchError.notImplemented("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.")
            }
            if a == .bool || b == .bool {
                throw TorchError.notImplemented("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
            }
        }

        shape = try broadcastShapes(input.shape, other.tensor.shape)
        if inplace && shape != input.shape {
            throw TorchError.runtime("output with shape \(shapeString(input.shape)) doesn't match the broadcast shape \(shapeString(shape))")
        }
        let common = Pointwise.resultType([PointwiseOperand(input), other])
        dtype = function == .div && roundingMode == nil ? Pointwise.floatingResultType(common) : common
        if inplace { try Pointwise.checkCast(dtype, into: input.dtype) }
        if roundingMode != nil && !dtype.isFloatingPoint && other.tensor.data.doubles.contains(0) {
            throw TorchError.runtime("ZeroDivisionError")
        }

        alpha = try BinaryPointwiseCall.alpha(args, function: function, resultType: inplace ? input.dtype : dtype)
    }

    /// PyTorch's `alpha_check`: a bool α only for a bool result, a float α only for a
    /// floating-point result.
    private static func alpha(_ args: Arguments, function: BinaryFunction, resultType: DType) throws -> Double {
        guard function == .add || function == .sub, let value = args["alpha"] else { return 1 }
        switch value {
        case .bool(let b):
            guard resultType == .bool else { throw TorchError.runtime("Boolean alpha only supported for Boolean results.") }
            return b ? 1 : 0
        case .int(let i):
            return Double(i)
        case .double(let d):
            guard resultType.isFloatingPoint else {
                throw TorchError.runtime("For integral input tensors, argument alpha must not be a floating point number.")
            }
            return d
        default:
            throw TorchError.type("\(args.op)(): argument 'alpha' must be Number, not \(value.pythonTypeName)")
        }
    }
}
