import Foundation  // exp
import NNCore

/// A backend of your own: three PyTorch ops with forward and backward, everything else
/// `unsupported`. The kernels compute in Double and store the result in the input's dtype
/// (float32 or float64); other dtypes are declined with `Unsupported`, which the conformance
/// check counts but does not fail.
public struct MyBackend: Backend {
    public init() {}

    public var name: String { "my-backend" }
    public var details: String { "plain Swift loops (example)" }

    public func implementation(of op: String) -> OpFunction? {
        switch op {
        case "relu": return Self.relu
        case "sigmoid": return Self.sigmoid
        case "add": return Self.add
        default: return nil  // unsupported
        }
    }

    /// `torch.relu(input)`; dx = g where y > 0 (and where y is NaN), else 0.
    static func relu(_ args: Arguments) throws -> Value {
        let x = try args.tensor("input")
        if try args.bool("inplace", default: false) { throw Unsupported("relu(inplace=True)") }
        let y = try map(x) { $0 < 0 ? 0 : $0 }
        let saved = SavedTensor(output: y, of: "ReluBackward0")  // PyTorch saves the result
        return .tensor(y.recording("ReluBackward0", inputs: [x], saving: [saved]) { g in
            let ys = try saved.unpack().doubles
            return [tensor(zip(g.doubles, ys).map { $1 <= 0 ? 0 : $0 }, shape: g.shape, dtype: g.dtype)]
        })
    }

    /// `torch.sigmoid(input)`; dx = g·y·(1 − y).
    static func sigmoid(_ args: Arguments) throws -> Value {
        let x = try args.tensor("input")
        let y = try map(x) { 1 / (1 + exp(-$0)) }
        let saved = SavedTensor(output: y, of: "SigmoidBackward0")
        return .tensor(y.recording("SigmoidBackward0", inputs: [x], saving: [saved]) { g in
            let ys = try saved.unpack().doubles
            return [tensor(zip(g.doubles, ys).map { $0 * $1 * (1 - $1) }, shape: g.shape, dtype: g.dtype)]
        })
    }

    /// `torch.add(input, other, alpha=1)` with broadcasting; dx = g, dother = α·g, each summed
    /// back to its operand's shape. `BinaryPointwiseCall` (NNCore) does PyTorch's argument
    /// checks, type promotion and broadcasting, and throws PyTorch's errors, so error cases pass.
    static func add(_ args: Arguments) throws -> Value {
        let call = try BinaryPointwiseCall(.add, args, inplace: false)
        guard call.dtype.isFloatingPoint else { throw Unsupported("add of \(call.dtype) operands") }
        let x = call.input, y = call.other.tensor, alpha = call.alpha
        let ix = broadcastIndices(from: x.shape, to: call.shape)
        let iy = broadcastIndices(from: y.shape, to: call.shape)
        let xs = x.doubles, ys = y.doubles
        let z = tensor(ix.indices.map { xs[ix[$0]] + alpha * ys[iy[$0]] }, shape: call.shape, dtype: call.dtype)
        return .tensor(z.recording("AddBackward0", inputs: [x, y]) { g in
            let gs = g.doubles
            return [tensor(sumToShape(gs, from: call.shape, to: x.shape), shape: x.shape, dtype: x.dtype),
                    tensor(sumToShape(gs.map { alpha * $0 }, from: call.shape, to: y.shape), shape: y.shape, dtype: y.dtype)]
        })
    }
}

/// f applied to every element of a float32/float64 tensor, in Double, stored in x's dtype.
func map(_ x: Tensor, _ f: (Double) -> Double) throws -> Tensor {
    guard x.dtype.isFloatingPoint else { throw Unsupported("\(x.dtype) input") }
    return tensor(x.doubles.map(f), shape: x.shape, dtype: x.dtype)
}

func tensor(_ values: [Double], shape: [Int], dtype: DType) -> Tensor {
    Tensor(shape: shape, data: TensorData.float64(values).converted(to: dtype))
}
