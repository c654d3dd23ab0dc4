import NNCore

/// The performance suite of `conformance bench`, as data: each case is an op name and keyword
/// arguments, called through `Backend.call` like any fixture, so the timing code never knows which
/// backend it measures. `tools/torch_bench.py` reads the same cases (`tools/bench_suite.json`,
/// written by `conformance bench --dump-suite`) and calls `torch.nn.functional.<op>(**args)`.
///
/// Tensors are described, not stored: a shape, a fill and whether they require grad. Values are
/// drawn from SplitMix64 seeded by the case and argument position, so every run times the same
/// numbers.
public struct BenchTensor: Equatable, Sendable {
    public enum Fill: Equatable, Sendable {
        /// Uniform in [-1, 1).
        case uniform
        /// Uniform in [0.1, 1.1): variances, probabilities, anything that must be positive.
        case positive
        /// int64 class indices uniform in 0..<n.
        case classes(Int)
    }

    public var shape: [Int]
    public var fill: Fill
    public var requiresGrad: Bool

    public init(_ shape: [Int], fill: Fill = .uniform, grad: Bool = true) {
        self.shape = shape
        self.fill = fill
        self.requiresGrad = grad
    }

    /// The tensor, with values from SplitMix64(seed).
    public func make(seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        let n = shape.reduce(1, *)
        switch fill {
        case .uniform:
            return Tensor(shape: shape, (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) }, requiresGrad: requiresGrad)
        case .positive:
            return Tensor(shape: shape, (0..<n).map { _ in Float(rng.nextUnit() + 0.1) }, requiresGrad: requiresGrad)
        case .classes(let k):
            return Tensor(shape: shape, int64: (0..<n).map { _ in Int64(rng.next() % UInt64(max(k, 1))) })
        }
    }
}

/// One keyword argument of a bench case.
public enum BenchArg: Equatable, Sendable {
    case tensor(BenchTensor)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case ints([Int])

    func value(seed: UInt64) -> Value {
        switch self {
        case .tensor(let t): return .tensor(t.make(seed: seed))
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .ints(let l): return .list(l.map { .int($0) })
        }
    }
}

public struct BenchCase: Equatable, Sendable {
    /// Unique, stable name: the key that joins our results with PyTorch's.
    public var name: String
    public var op: String
    public var args: [(String, BenchArg)]
    /// Time `backward(gradient:)` too.
    public var backward: Bool
    /// Also time the reference backend on this case (slow: the convolutions, for the speed-up).
    public var reference: Bool
    /// A convolution that is mostly one large GEMM: its GFLOP/s is compared with sgemm's.
    public var gemmBound: Bool

    public init(_ name: String, _ op: String, _ args: [(String, BenchArg)], backward: Bool = true,
                reference: Bool = false, gemmBound: Bool = false) {
        self.name = name
        self.op = op
        self.args = args
        self.backward = backward
        self.reference = reference
        self.gemmBound = gemmBound
    }

    public static func == (a: BenchCase, b: BenchCase) -> Bool {
        a.name == b.name && a.op == b.op && a.backward == b.backward && a.reference == b.reference
            && a.gemmBound == b.gemmBound && a.args.map(\.0) == b.args.map(\.0) && a.args.map(\.1) == b.args.map(\.1)
    }

    /// Fresh argument values, the same numbers on every call: tensor `i` is seeded by the case
    /// name and `i`.
    public func arguments() -> [String: Value] {
        var seed: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a of the name
        for byte in name.utf8 { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01B3 }
        var values: [String: Value] = [:]
        for (i, (key, arg)) in args.enumerated() { values[key] = arg.value(seed: seed &+ UInt64(i)) }
        return values
    }
}

public enum BenchSuite {
    private static func t(_ shape: Int..., fill: BenchTensor.Fill = .uniform, grad: Bool = true) -> BenchArg {
        .tensor(BenchTensor(shape, fill: fill, grad: grad))
    }

    /// Project issue 4's shapes (float32).
    public static let standard: [BenchCase] = [
        BenchCase("conv2d_64x56x56_k3", "conv2d",
                  [("input", t(8, 64, 56, 56)), ("weight", t(64, 64, 3, 3)), ("bias", t(64)), ("padding", .int(1))],
                  reference: true, gemmBound: true),
        BenchCase("conv2d_256x14x14_k3", "conv2d",
                  [("input", t(8, 256, 14, 14)), ("weight", t(256, 256, 3, 3)), ("bias", t(256)), ("padding", .int(1))],
                  reference: true, gemmBound: true),
        BenchCase("conv2d_3x224x224_k7s2", "conv2d",
                  [("input", t(8, 3, 224, 224)), ("weight", t(64, 3, 7, 7)), ("stride", .int(2)), ("padding", .int(3))],
                  reference: true),
        BenchCase("conv2d_depthwise_128x56x56", "conv2d",
                  [("input", t(8, 128, 56, 56)), ("weight", t(128, 1, 3, 3)), ("padding", .int(1)), ("groups", .int(128))],
                  reference: true),
        BenchCase("conv2d_1x1_256to512", "conv2d",
                  [("input", t(8, 256, 28, 28)), ("weight", t(512, 256, 1, 1))],
                  reference: true, gemmBound: true),
        BenchCase("linear_256x1024to1024", "linear",
                  [("input", t(256, 1024)), ("weight", t(1024, 1024)), ("bias", t(1024))]),
        BenchCase("softmax_256x10000", "softmax", [("input", t(256, 10000)), ("dim", .int(-1))]),
        BenchCase("log_softmax_256x10000", "log_softmax", [("input", t(256, 10000)), ("dim", .int(1))]),
        BenchCase("interpolate_bilinear_x2", "interpolate",
                  [("input", t(8, 64, 56, 56)), ("scale_factor", .double(2)), ("mode", .string("bilinear")),
                   ("align_corners", .bool(false))]),
        BenchCase("interpolate_nearest_x2", "interpolate",
                  [("input", t(8, 64, 56, 56)), ("scale_factor", .double(2)), ("mode", .string("nearest"))]),
        BenchCase("max_pool2d_k3s2p1", "max_pool2d",
                  [("input", t(8, 64, 112, 112)), ("kernel_size", .int(3)), ("stride", .int(2)), ("padding", .int(1))]),
        BenchCase("avg_pool2d_k2", "avg_pool2d", [("input", t(8, 64, 112, 112)), ("kernel_size", .int(2))]),
        BenchCase("batch_norm_train_64x56x56", "batch_norm",
                  [("input", t(8, 64, 56, 56)), ("running_mean", t(64, grad: false)),
                   ("running_var", t(64, fill: .positive, grad: false)), ("weight", t(64)), ("bias", t(64)),
                   ("training", .bool(true))]),
        BenchCase("kl_div_batchmean_256x10000", "kl_div",
                  [("input", t(256, 10000)), ("target", t(256, 10000, fill: .positive, grad: false)),
                   ("reduction", .string("batchmean"))]),
        BenchCase("cross_entropy_256x1000", "cross_entropy",
                  [("input", t(256, 1000)), ("target", t(256, fill: .classes(1000), grad: false))]),
        BenchCase("relu_64x112x112", "relu", [("input", t(8, 64, 112, 112))]),
    ]

    /// The GEMM rate conv efficiency is expressed against: `linear` of 2048×2048 by a 2048×2048
    /// weight, 2·2048³ flops, through the same backend.
    public static let sgemm = BenchCase("sgemm_2048", "linear",
                                        [("input", t(2048, 2048, grad: false)), ("weight", t(2048, 2048, grad: false))],
                                        backward: false)
}
