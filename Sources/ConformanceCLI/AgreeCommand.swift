import ArgumentParser
import ConformanceKit
import Foundation
import NNCore
import NNOptimized
import NNReference

/// `conformance agree`: randomized agreement of the optimized backend with the reference
/// (docs/agreement.md). Every disagreement is shrunk to a minimal case and written as an
/// `nnconf/1` fixture that `conformance run FILE --backend all` reproduces.
struct Agree: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run random calls of every op on the reference and optimized backends and compare them.")

    @Option(help: "Seed of the random cases (the same seed draws the same cases).")
    var seed: UInt64 = 20_261_121

    @Option(help: "Random cases per op.")
    var cases: Int = 20

    @Option(name: .customLong("op"), help: "Only these ops (repeatable); default: every op.")
    var ops: [String] = []

    @Flag(help: "Never draw tensors past the thread split (1<<15 elements).")
    var small = false

    @Option(help: "Most runs the shrinker may spend on one failure.")
    var shrinkBudget: Int = 300

    @Option(help: "Directory to write each minimal failing case to, as <op>_seed<S>.json.")
    var out: String = "Reports/agree"

    func run() throws {
        let all = Signatures.all.keys.sorted()
        for op in ops where Signatures.all[op] == nil { throw ValidationError("unknown op '\(op)'") }
        let runner = AgreementRunner(Reference.backend, Optimized.backend)
        let summary = AgreementCheck.run(runner, ops: ops.isEmpty ? all : ops, cases: cases, seed: seed,
                                         allowLarge: !small, shrinkBudget: shrinkBudget)
        print("agree: seed \(seed), \(cases) cases per op: \(summary.totalAgreed) agree over \(summary.agreed.count) ops, "
              + "\(summary.failures.count) ops disagree, \(summary.unsupported.count) unsupported on optimized")
        if !summary.unsupported.isEmpty { print("unsupported: " + summary.unsupported.keys.sorted().joined(separator: ", ")) }
        if !summary.ungenerated.isEmpty { print("no generator: " + summary.ungenerated.joined(separator: ", ")) }
        guard !summary.failures.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for f in summary.failures {
            let path = "\(out)/\(f.op)_seed\(f.seed).json"
            try f.fixture.write(toFile: path, atomically: true, encoding: .utf8)
            print("\nDISAGREE \(f.op): \(f.message)")
            print("  minimal (\(f.shrinkRuns) shrink runs): \(f.minimalMessage)")
            print("  written to \(path); repro: conformance run \(path) --backend all")
        }
        throw ExitCode.failure
    }
}
