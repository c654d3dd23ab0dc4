import Foundation
import NNCore

/// Draws `cases` random calls of each op, runs them on two backends, and shrinks and prints the
/// first disagreement of each op. Reproducible: case k of op `op` under seed S is seeded with
/// `AgreementCheck.caseSeed(S, op, k)` and nothing else.
public enum AgreementCheck {
    public struct Failure {
        public var op: String
        public var seed: UInt64
        /// The original disagreement, and the minimal case's.
        public var message: String
        public var minimal: AgreementCase
        public var minimalMessage: String
        public var shrinkRuns: Int
        /// The minimal case as an `nnconf/1` fixture.
        public var fixture: String
    }

    public struct Summary {
        /// Cases that agreed, per op.
        public var agreed: [String: Int] = [:]
        /// Ops skipped because a backend does not implement them (with the reason).
        public var unsupported: [String: String] = [:]
        /// Ops without a generator.
        public var ungenerated: [String] = []
        public var failures: [Failure] = []

        public var totalAgreed: Int { agreed.values.reduce(0, +) }
    }

    public static func caseSeed(_ seed: UInt64, _ op: String, _ k: Int) -> UInt64 {
        var g = SplitMix64(seed: seed ^ fnv1a(op) ^ (UInt64(k) &* 0xD1B5_4A32_D192_ED03))
        return g.next() & 0x1F_FFFF_FFFF_FFFF
    }

    /// Case k of `op` under `seed`, as generation draws it.
    public static func generate(_ op: String, seed: UInt64, k: Int, allowLarge: Bool = true,
                                generators: [String: CaseGenerator] = AgreementGenerators.all) -> AgreementCase? {
        guard let gen = generators[op] else { return nil }
        let s = caseSeed(seed, op, k)
        var d = Draw(seed: s, allowLarge: allowLarge)
        var c = gen(&d)
        c.choices = d.choices
        c.seed = s
        c.allowLarge = allowLarge
        return c
    }

    public static func run(_ runner: AgreementRunner, ops: [String], cases: Int, seed: UInt64, allowLarge: Bool = true,
                           shrinkBudget: Int = 300, generators: [String: CaseGenerator] = AgreementGenerators.all,
                           progress: ((String, Int) -> Void)? = nil) -> Summary {
        var summary = Summary()
        for op in ops {
            guard let gen = generators[op] else { summary.ungenerated.append(op); continue }
            for k in 0..<cases {
                let c = generate(op, seed: seed, k: k, allowLarge: allowLarge, generators: generators)!
                let (verdict, _) = runner.run(c)
                progress?(op, k)
                switch verdict {
                case .agree: summary.agreed[op, default: 0] += 1
                case .unsupported(let why):
                    // A missing kernel skips the op; an unsupported argument value only the case.
                    if why.contains("does not implement") || why.contains("unknown op") {
                        summary.unsupported[op] = why
                    }
                case .disagree(let message):
                    let shrinker = AgreementShrinker(runner: runner, generator: gen, budget: shrinkBudget)
                    let (minimal, runs) = shrinker.shrink(c)
                    let (v, g) = runner.run(minimal)
                    let minimalMessage: String = { if case .disagree(let m) = v { m } else { message } }()
                    let fixture = AgreementFixture.json(
                        minimal, gradOutput: g, name: "\(op)_seed\(c.seed)",
                        description: "conformance agree --op \(op) --seed \(seed): case \(k) (seed \(c.seed)), shrunk in \(runs) runs; "
                            + "\(runner.first.name) vs \(runner.second.name): \(minimalMessage)")
                    summary.failures.append(Failure(op: op, seed: c.seed, message: message, minimal: minimal,
                                                    minimalMessage: minimalMessage, shrinkRuns: runs, fixture: fixture))
                }
                if summary.unsupported[op] != nil || summary.failures.last?.op == op { break }
            }
        }
        return summary
    }
}
