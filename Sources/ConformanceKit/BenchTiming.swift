import Foundation
import NNCore

/// How `conformance bench` times a case: `warmup` untimed calls, then timed calls until
/// `repeats` samples, or until `budget` seconds were spent and at least `minimumRepeats` samples
/// were taken; the figure is the median sample. `tools/torch_bench.py` follows the same rule.
public struct BenchSettings: Codable, Equatable, Sendable {
    public var warmup = 2
    public var repeats = 15
    public var minimumRepeats = 3
    /// Seconds of timing per case and phase (forward, backward), warm-up included.
    public var budget = 2.0

    enum CodingKeys: String, CodingKey {
        case warmup, repeats, budget
        case minimumRepeats = "minimum_repeats"
    }

    public init() {}

    /// The reduced setting for the reference backend, whose convolutions take seconds: one
    /// timed call, no warm-up.
    public static var reference: BenchSettings {
        var s = BenchSettings()
        (s.warmup, s.repeats, s.minimumRepeats, s.budget) = (0, 1, 1, 0)
        return s
    }
}

/// One case's figures on one backend.
public struct BenchResult: Codable, Equatable, Sendable {
    public var name: String
    public var op: String
    public var backend: String
    public var forwardMs: Double?
    public var backwardMs: Double?
    public var forwardGflops: Double?
    public var backwardGflops: Double?
    /// The least traffic of the phase (`ByteCount`) over its median time.
    public var forwardGBps: Double?
    public var backwardGBps: Double?
    /// The fastest sample of each phase: on a loaded machine, less noisy than the median.
    public var forwardMinMs: Double?
    public var backwardMinMs: Double?
    /// Median CPU time of the process (all threads) per sample: the work done, which other
    /// processes' load hardly changes (spin-waiting threads count too).
    public var forwardCpuMs: Double?
    public var backwardCpuMs: Double?
    public var forwardRepeats = 0
    public var backwardRepeats = 0
    public var gemmBound = false
    /// For a GEMM-bound case, the sgemm rate measured just before it: its "% sgemm" divides by
    /// this, so that the host's load drifting during a run moves both alike (nil: the run's).
    public var sgemmGflops: Double?
    /// Why a phase has no figure (unsupported op, error), if it has none.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case name, op, backend, error
        case forwardMs = "forward_ms", backwardMs = "backward_ms", forwardGflops = "forward_gflops"
        case backwardGflops = "backward_gflops", forwardRepeats = "forward_repeats"
        case backwardRepeats = "backward_repeats", gemmBound = "gemm_bound"
        case forwardMinMs = "forward_min_ms", backwardMinMs = "backward_min_ms"
        case forwardCpuMs = "forward_cpu_ms", backwardCpuMs = "backward_cpu_ms"
        case forwardGBps = "forward_gbps", backwardGBps = "backward_gbps"
        case sgemmGflops = "sgemm_gflops"
    }

    public init(name: String, op: String, backend: String) {
        self.name = name
        self.op = op
        self.backend = backend
    }
}

public enum Bench {
    /// The median: the middle sample, or the mean of the two middle ones.
    public static func median(_ samples: [Double]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let s = samples.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// `(∏ xᵢ)^(1/n)`, computed as `exp(mean(log xᵢ))`; nil when empty or any value is not > 0.
    public static func geometricMean(_ values: [Double]) -> Double? {
        guard !values.isEmpty, values.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        return exp(values.map { log($0) }.reduce(0, +) / Double(values.count))
    }

    /// Samples (seconds) of `body`, which returns the seconds it measured, under `settings`.
    public static func samples(_ settings: BenchSettings, _ body: () throws -> Double) rethrows -> [Double] {
        var spent = 0.0
        for _ in 0..<settings.warmup where spent < settings.budget { spent += try body() }
        var samples: [Double] = []
        while samples.count < max(settings.repeats, 1) {
            if spent >= settings.budget && samples.count >= settings.minimumRepeats { break }
            let s = try body()
            samples.append(s)
            spent += s
        }
        return samples
    }

    /// Times `c` on `backend`: the forward call alone, then `backward(gradient:)` on a fresh graph
    /// per sample (the forward that builds it is not timed; leaf gradients are reset first, so
    /// every sample writes them anew rather than accumulating).
    public static func measure(_ c: BenchCase, on backend: any Backend, settings: BenchSettings) -> BenchResult {
        var r = BenchResult(name: c.name, op: c.op, backend: backend.name)
        r.gemmBound = c.gemmBound
        let args = c.arguments()
        func call() throws -> Tensor? {
            flatten(try backend.call(c.op, Arguments(op: c.op, args))).first ?? nil
        }
        var kept: Tensor?
        do {
            let first = try call()
            let outputShape = first?.shape
            r.forwardGflops = FlopCount.forward(op: c.op, args: args, outputShape: outputShape)
            r.backwardGflops = FlopCount.backward(op: c.op, args: args, outputShape: outputShape)
            r.forwardGBps = ByteCount.forward(args: args, output: first)
            r.backwardGBps = ByteCount.backward(args: args, output: first)
            kept = first
            var cpu: [Double] = []
            let forward = try samples(settings) {
                kept = nil
                let (start, cpuStart) = (DispatchTime.now(), processCPUSeconds())
                let y = try call()
                let s = seconds(since: start)
                cpu.append(processCPUSeconds() - cpuStart)
                kept = y
                return s
            }
            r.forwardCpuMs = median(Array(cpu.suffix(forward.count))).map { $0 * 1000 }
            r.forwardMs = median(forward).map { $0 * 1000 }
            r.forwardMinMs = forward.min().map { $0 * 1000 }
            r.forwardRepeats = forward.count
        } catch {
            r.error = "forward: \(error)"
            return rates(r)
        }
        guard c.backward else { return rates(r) }
        let leaves = args.values.compactMap { v -> Tensor? in v.tensor.flatMap { $0.requiresGrad ? $0 : nil } }
        let gradient = kept.flatMap { $0.numel == 1 ? nil : BenchTensor($0.shape, grad: false).make(seed: 0x5EED) }
        kept = nil
        do {
            var cpu: [Double] = []
            let backward = try samples(settings) {
                for t in leaves { t.grad = nil }
                guard let root = try call() else { throw TorchError("BenchError", "the op returned no tensor") }
                let (start, cpuStart) = (DispatchTime.now(), processCPUSeconds())
                try root.backward(gradient: gradient)
                let s = seconds(since: start)
                cpu.append(processCPUSeconds() - cpuStart)
                return s
            }
            r.backwardCpuMs = median(Array(cpu.suffix(backward.count))).map { $0 * 1000 }
            r.backwardMs = median(backward).map { $0 * 1000 }
            r.backwardMinMs = backward.min().map { $0 * 1000 }
            r.backwardRepeats = backward.count
        } catch {
            r.error = "backward: \(error)"
        }
        return rates(r)
    }

    /// Turns the flop and byte counts `measure` stored in the rate fields into rates.
    private static func rates(_ r: BenchResult) -> BenchResult {
        var r = r
        r.forwardGflops = rate(r.forwardGflops, ms: r.forwardMs)
        r.backwardGflops = rate(r.backwardGflops, ms: r.backwardMs)
        r.forwardGBps = rate(r.forwardGBps, ms: r.forwardMs)
        r.backwardGBps = rate(r.backwardGBps, ms: r.backwardMs)
        return r
    }

    /// GFLOP/s of `BenchSuite.sgemm` on `backend` (nil if it cannot run it).
    public static func sgemmRate(on backend: any Backend, settings: BenchSettings) -> Double? {
        var s = settings
        s.repeats = min(s.repeats, 7)
        return measure(BenchSuite.sgemm, on: backend, settings: s).forwardGflops
    }
}

/// CPU seconds used by every thread of the process so far.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Billions per second (GFLOP/s of flops, GB/s of bytes) of `count` in `ms` milliseconds.
private func rate(_ count: Double?, ms: Double?) -> Double? {
    guard let count, let ms, ms > 0 else { return nil }
    return count / (ms * 1e6)
}
