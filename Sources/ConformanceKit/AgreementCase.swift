import Foundation
import NNCore

/// Randomized agreement between two backends: random calls of every op, drawn from each op's
/// valid domain, run on both, compared; a failing call is shrunk to a minimal one and printed as
/// an `nnconf/1` fixture (`AgreementRunner`, `AgreementShrinker`, `AgreementGenerators*`).
///
/// A generator is a function of a `Draw`: every random decision it makes (a dimension, a
/// stride, whether to pass a bias) is one `Draw` choice, an integer in `0..<count` where 0 is the
/// simplest option (size 1, the default argument, float32). A case is therefore its list of
/// choices, which is what the shrinker edits (Hypothesis's choice sequences, MacIver 2019):
/// replaying a smaller list makes a smaller, still valid case, because the generator maps every
/// list to a valid call. Tensor values come from SplitMix64 seeds fixed per argument name, so
/// shrinking a shape does not reshuffle unrelated decisions.
public struct Draw {
    /// Sizes a dimension is drawn from: small ones, SIMD-tail and thread-split sizes (15, 17, 33).
    public static let sizes = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33]

    public let seed: UInt64
    var rng: SplitMix64
    let replay: [Int]
    /// Past the replayed prefix: draw at random (generation) or take 0 (shrinking).
    let fresh: Bool
    /// Whether a generator may make a tensor of more than `SIMDParallel.minimumParallelWork`
    /// (1<<15) elements, which crosses the optimized backend's thread split.
    public var allowLarge: Bool
    public private(set) var choices: [Int] = []

    public init(seed: UInt64, replay: [Int] = [], fresh: Bool = true, allowLarge: Bool = true) {
        self.seed = seed
        self.rng = SplitMix64(seed: seed ^ 0xA5A5_5A5A_C3C3_3C3C)
        self.replay = replay
        self.fresh = fresh
        self.allowLarge = allowLarge
    }

    /// One choice in `0..<count`; replayed values are clamped into range.
    public mutating func raw(_ count: Int) -> Int {
        precondition(count > 0)
        let i = choices.count
        let v: Int
        if i < replay.count { v = min(max(replay[i], 0), count - 1) }
        else if fresh { v = Int(rng.next() % UInt64(count)) }
        else { v = 0 }
        choices.append(v)
        return v
    }

    public mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + raw(r.count) }
    /// One of `options`; the first is the simplest (usually PyTorch's default).
    public mutating func pick<T>(_ options: [T]) -> T { options[raw(options.count)] }
    public mutating func bool() -> Bool { raw(2) == 1 }
    public mutating func dim() -> Int { pick(Draw.sizes) }
    /// A dimension no larger than `limit`.
    public mutating func dim(upTo limit: Int) -> Int { pick(Draw.sizes.filter { $0 <= max(limit, 1) }) }
    public mutating func dims(_ n: Int) -> [Int] { (0..<n).map { _ in dim() } }
    public mutating func dtype() -> DType { pick([.float32, .float64]) }
    /// Rarely (1 in 12) true: make this case large enough to cross the thread split.
    /// (The choice is drawn either way, so `allowLarge` does not shift later choices.)
    public mutating func large() -> Bool {
        let v = raw(12)
        return allowLarge && v == 11
    }

    /// A tensor of `shape` filled from a seed fixed by `name` (so shrinking keeps values stable).
    public func tensor(_ name: String, _ shape: [Int], _ dtype: DType, _ lo: Double = -2, _ hi: Double = 2,
                       grad: Bool = true) -> GenValue {
        .tensor(GenTensor(shape: shape, dtype: dtype, fill: .uniform(lo, hi), seed: seed(for: name),
                          requiresGrad: grad && dtype.isFloatingPoint))
    }
    /// An int64 tensor with values in `lo..<hi`.
    public func indices(_ name: String, _ shape: [Int], _ lo: Int, _ hi: Int) -> GenValue {
        .tensor(GenTensor(shape: shape, dtype: .int64, fill: .randint(lo, max(hi, lo + 1)), seed: seed(for: name), requiresGrad: false))
    }
    /// A tensor with explicit values (indices that must be distinct, targets padded with −1, ...).
    public func data(_ shape: [Int], _ dtype: DType, _ values: [Double], grad: Bool = false) -> GenValue {
        .tensor(GenTensor(shape: shape, dtype: dtype, fill: .data(values), seed: 0, requiresGrad: grad && dtype.isFloatingPoint))
    }
    /// 53 bits, so every JSON reader keeps the seed exact.
    public func seed(for name: String) -> UInt64 { (fnv1a(name) ^ (seed &* 0x9E37_79B9_7F4A_7C15)) & 0x1F_FFFF_FFFF_FFFF }
    /// A generator seeded for `name`, for values a generator computes itself (distinct indices).
    public func rng(for name: String) -> SplitMix64 { SplitMix64(seed: seed(for: name) ^ 0x5EED) }
}

/// A tensor argument as a generator describes it: an `nnconf/1` `init` (uniform or randint with
/// a seed) or explicit data.
public struct GenTensor {
    public enum Fill { case uniform(Double, Double), randint(Int, Int), data([Double]) }
    public var shape: [Int]
    public var dtype: DType
    public var fill: Fill
    public var seed: UInt64
    public var requiresGrad: Bool

    /// The values, as the format's `init` defines them (uniform in float64 then rounded to the
    /// dtype; randint `lo + floor(u·(hi − lo))`).
    public var tensorData: TensorData {
        let n = shape.reduce(1, *)
        switch fill {
        case .data(let v): return TensorData.float64(v).converted(to: dtype)
        case .uniform(let lo, let hi):
            var g = SplitMix64(seed: seed)
            let v = (0..<n).map { _ in lo + (hi - lo) * g.nextUnit() }
            return TensorData.float64(v).converted(to: dtype)
        case .randint(let lo, let hi):
            var g = SplitMix64(seed: seed)
            let v = (0..<n).map { _ in Double(lo) + (g.nextUnit() * Double(hi - lo)).rounded(.down) }
            return TensorData.float64(v).converted(to: dtype)
        }
    }

    public var spec: TensorSpec { TensorSpec(shape: shape, data: tensorData, requiresGrad: requiresGrad) }
}

/// An argument: a Python literal, a tensor, or a list of either.
public indirect enum GenValue {
    case value(Value)
    case tensor(GenTensor)
    case list([GenValue])

    public static func int(_ i: Int) -> GenValue { .value(.int(i)) }
    public static func double(_ d: Double) -> GenValue { .value(.double(d)) }
    public static func string(_ s: String) -> GenValue { .value(.string(s)) }
    public static func bool(_ b: Bool) -> GenValue { .value(.bool(b)) }
    public static var none: GenValue { .value(.none) }
    public static func ints(_ l: [Int]) -> GenValue { .list(l.map { .value(.int($0)) }) }

    var spec: ValueSpec {
        switch self {
        case .value(let v): return .literal(v)
        case .tensor(let t): return .tensor(t.spec)
        case .list(let l): return .list(l.map(\.spec))
        }
    }
}

/// One random call: an op and its keyword arguments in order.
public struct AgreementCase {
    public var op: String
    public var args: [(String, GenValue)] = []
    /// The choices that made it (what the shrinker edits) and the seed of its values.
    public var choices: [Int] = []
    public var seed: UInt64 = 0
    /// Whether its generator could make large tensors (replays keep the same setting).
    public var allowLarge = true

    public init(_ op: String) { self.op = op }

    public subscript(_ name: String) -> GenValue? {
        get { args.first { $0.0 == name }?.1 }
        set {
            args.removeAll { $0.0 == name }
            if let newValue { args.append((name, newValue)) }
        }
    }

    /// Fresh argument values (new leaf tensors every time).
    public func materialize() throws -> [String: Value] {
        try ConformanceKit.materialize(args.map { ($0.0, $0.1.spec) })
    }

    /// Elements over every tensor argument: the size the shrinker minimizes after the choices.
    public var elements: Int {
        func count(_ v: GenValue) -> Int {
            switch v {
            case .tensor(let t): return t.shape.reduce(1, *)
            case .list(let l): return l.map(count).reduce(0, +)
            case .value: return 0
            }
        }
        return args.map { count($0.1) }.reduce(0, +)
    }
}

/// A generator of random calls of one op.
public typealias CaseGenerator = (inout Draw) -> AgreementCase
