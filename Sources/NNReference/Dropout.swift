import NNCore
import Synchronization

/// Where the reference's dropout masks come from. PyTorch draws them from its global generator
/// (`torch.manual_seed`); here each unit is kept when u < 1 − p, with u the next SplitMix64
/// uniform, units in row-major order, so a seed fixes every mask. Kernels draw from
/// `DropoutGenerator.current`: a process-wide generator (seed 0, reseed it with `manualSeed`),
/// or one bound for a task with `DropoutGenerator.$current.withValue(DropoutGenerator(seed: 7)) { ... }`.
public final class DropoutGenerator: Sendable {
    private let state: Mutex<SplitMix64>

    public init(seed: UInt64 = 0) { state = Mutex(SplitMix64(seed: seed)) }

    @TaskLocal public static var current = DropoutGenerator()

    /// Restarts the generator, as `torch.manual_seed(seed)` does.
    public func manualSeed(_ seed: UInt64) { state.withLock { $0 = SplitMix64(seed: seed) } }

    /// `count` Bernoulli(q) draws, true meaning kept.
    public func keeps(_ count: Int, probability q: Double) -> [Bool] {
        state.withLock { rng in (0..<count).map { _ in rng.nextUnit() < q } }
    }
}

/// `dropout`, `alpha_dropout`, `feature_alpha_dropout`, `dropout1d/2d/3d` as ATen computes them
/// on the CPU, rounding included: with every factor rounded to the dtype T first,
///   dropout: y = x · n,  n = m · (1 / T(q))            (`MulBackward0` saving n)
///   alpha:   y = x · n + c,  n = m · T(a),  c = m ? T(b) : −T(a·α) + T(b)   (then `AddBackward0`)
/// and the backward multiplies the gradient by the same n. p = 1 is y = x · 0 for every kind.
extension Reference {
    static let dropoutOps: [String: OpFunction] = Dictionary(uniqueKeysWithValues: DropoutFunction.allCases.map { f in
        (f.rawValue, { args in .tensor(try dropout(DropoutCall(f, args))) } as OpFunction)
    })

    /// An unbatched `dropout1d`/`dropout3d` input gets a leading batch dimension first, as in
    /// PyTorch: out of place `unsqueeze(0)` … `squeeze(0)` (so even the identity is a view,
    /// `SqueezeBackward1`); in place `unsqueeze_(0)` … `squeeze_(0)`, each bumping the version and
    /// recorded (`UnsqueezeBackward1`, `SqueezeBackward4`). Tensors here cannot change shape, so
    /// the in-place pair is recorded without one; the data and gradients are the same.
    static func dropout(_ call: DropoutCall) throws -> Tensor {
        let x = call.input
        guard call.addsBatchDim else { return try apply(call, to: x) }
        guard call.inplace else { return try squeezed(apply(call, to: unsqueezed(x, at: 0)), at: 0) }
        x.commitInplace(x.data, name: "UnsqueezeBackward1") { g in [g] }
        _ = try apply(call, to: x)
        x.commitInplace(x.data, name: "SqueezeBackward4") { g in [g] }
        return x
    }

    /// The call's action on `x` (the input, or its batched view), in place when asked.
    private static func apply(_ call: DropoutCall, to x: Tensor) throws -> Tensor {
        let keep: [Bool]
        switch call.action {
        case .identity: return x
        case .zero: keep = Array(repeating: false, count: call.units)
        case .mask: keep = DropoutGenerator.current.keeps(call.units, probability: 1 - call.p)
        }
        let alpha = call.function.isAlpha && call.action == .mask
        let (noise, shift): (TensorData, TensorData?)
        switch x.dtype {
        case .float32: (noise, shift) = factors(Float.self, call, keep, alpha: alpha, count: x.numel)
        case .float64: (noise, shift) = factors(Double.self, call, keep, alpha: alpha, count: x.numel)
        default: (noise, shift) = (.zeros(x.dtype, count: x.numel), nil)  // only p = 1 gets here
        }
        let y = try multiply(x, by: Tensor(shape: x.shape, data: noise), inplace: call.inplace)
        guard let shift else { return y }
        // `multiply(...).add_(c)`: in place on the product, so a fresh output is at version 1.
        y.commitInplace(elementwise(y.data, shift, +, +), name: "AddBackward0") { g in [g] }
        return y
    }

    /// x · n, recorded as `MulBackward0` saving n; written into x when `inplace`.
    private static func multiply(_ x: Tensor, by n: Tensor, inplace: Bool) throws -> Tensor {
        let product = elementwise(x.data, n.data, *, *)
        let saved = SavedTensor(n)
        let pullback = { (g: Tensor) throws -> [Tensor?] in
            let n = try saved.unpack()
            return [Tensor(shape: g.shape, data: elementwise(g.data, n.data, *, *))]
        }
        guard inplace else {
            return Tensor(shape: x.shape, data: product).recording("MulBackward0", inputs: [x], saving: [saved], pullback: pullback)
        }
        x.commitInplace(product, name: "MulBackward0", saving: [saved], pullback: pullback)
        return x
    }

    /// Per element: the factor n (0 where dropped) and, for alpha dropout, the shift c; each
    /// unit's value repeated over its `count / keep.count` elements.
    private static func factors<T: FloatScalar>(_: T.Type, _ call: DropoutCall, _ keep: [Bool], alpha: Bool,
                                                count: Int) -> (TensorData, TensorData?) {
        let perUnit = count / keep.count
        func expand(_ kept: T, _ dropped: T) -> TensorData {
            T.wrap(keep.flatMap { Array(repeating: $0 ? kept : dropped, count: perUnit) })
        }
        guard alpha else { return (expand(1 / T(1 - call.p), 0), nil) }
        let k = AlphaDropoutConstants(p: call.p)
        let b = T(k.b)
        return (expand(T(k.a), 0), expand(b, -T(k.a * AlphaDropoutConstants.alpha) + b))
    }

    /// `op` element by element on two tensors' data of the same dtype and size, in that dtype.
    /// Integers and bools only get here for p = 1, as x · 0 = 0.
    private static func elementwise(_ u: TensorData, _ v: TensorData,
                                    _ op32: (Float, Float) -> Float, _ op64: (Double, Double) -> Double) -> TensorData {
        switch (u, v) {
        case (.float32(let a), .float32(let b)): return .float32(zip(a, b).map(op32))
        case (.float64(let a), .float64(let b)): return .float64(zip(a, b).map(op64))
        default: return .zeros(u.dtype, count: u.count)
        }
    }
}
