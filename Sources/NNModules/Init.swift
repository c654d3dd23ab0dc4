import Foundation
import NNCore

/// Parameter initialization as `torch.nn.init` does it, from a seeded SplitMix64 stream so
/// runs are reproducible. Fixtures load weights through `state`, so only the distribution
/// matters: PyTorch's default for conv and linear layers is `kaiming_uniform_(a=√5)`, i.e.
/// U(−1/√fan_in, 1/√fan_in), and the bias is U(−1/√fan_in, 1/√fan_in).
public enum Init {
    nonisolated(unsafe) static var generator = SplitMix64(seed: 0x6E6E_636F_6E66)  // "nnconf"

    /// Restarts the stream, e.g. before building a model that must be reproducible.
    public static func seed(_ s: UInt64) { generator = SplitMix64(seed: s) }

    /// A tensor of `shape` with elements from U(−bound, bound). Like every initializer here, it
    /// throws PyTorch's RuntimeError for a negative or unallocatable size (`checkedElementCount`).
    public static func uniform(_ shape: [Int], bound: Double, dtype: DType) throws -> Tensor {
        let v = (0..<(try checkedElementCount(shape, itemSize: dtype.itemSize))).map { _ in (2 * generator.nextUnit() - 1) * bound }
        return Tensor(shape: shape, data: TensorData.float64(v).converted(to: dtype))
    }

    /// A tensor of `shape` with elements from N(mean, std²) (Box–Muller on the same stream).
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType) throws -> Tensor {
        let v = (0..<(try checkedElementCount(shape, itemSize: dtype.itemSize))).map { _ -> Double in
            let u1 = 1 - generator.nextUnit(), u2 = generator.nextUnit()  // u1 in (0, 1]
            return mean + std * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        }
        return Tensor(shape: shape, data: TensorData.float64(v).converted(to: dtype))
    }

    public static func filled(_ shape: [Int], _ value: Double, dtype: DType) throws -> Tensor {
        Tensor(shape: shape, data: TensorData.float64(Array(repeating: value, count: try checkedElementCount(shape, itemSize: dtype.itemSize))).converted(to: dtype))
    }

    /// PyTorch's default for weights of fan-in `fanIn`: bound 1/√fan_in (0 for an empty fan-in).
    public static func defaultBound(fanIn: Int) -> Double { fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0 }
}
