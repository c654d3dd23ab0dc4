import Synchronization

/// Where dropout masks come from, for every backend. PyTorch draws them from its global generator
/// (`torch.manual_seed`); here each unit is kept when u < 1 − p, with u the next SplitMix64
/// uniform, units in row-major order, so a seed fixes every mask. Kernels draw from
/// `DropoutGenerator.current`: a process-wide generator (seed 0, reseed it with `manualSeed`),
/// or one bound for a task with `DropoutGenerator.$current.withValue(DropoutGenerator(seed: 7)) { ... }`.
///
/// SplitMix64 is counter-based: its i-th output (i = 0, 1, ...) from state s is `mix(s + (i + 1)·γ)`.
/// So a kernel may take a block of draws with `reserve` and compute draw i of the block directly,
/// in any order and on any thread, and get exactly the masks `keeps` would have drawn.
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

    /// Takes the next `count` draws: returns the state they start from (draw i is
    /// `SplitMix64.mix(start &+ (i + 1)·SplitMix64.gamma)`) and advances past them.
    public func reserve(_ count: Int) -> UInt64 {
        state.withLock { rng in
            let start = rng.state
            rng = SplitMix64(seed: start &+ UInt64(truncatingIfNeeded: count) &* SplitMix64.gamma)
            return start
        }
    }
}

extension SplitMix64 {
    /// The increment of the state per draw, γ = 0x9E3779B97F4A7C15.
    public static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The output function: the draw for state `z` (already advanced by γ).
    @inlinable
    public static func mix(_ state: UInt64) -> UInt64 {
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
