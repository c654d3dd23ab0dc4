import ArgumentParser
import ConformanceKit
import Foundation
import NNCore
import NNModules
import NNReference

@main
struct Conformance: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Check neural-network ops against PyTorch-generated fixtures (nnconf/1).",
        subcommands: [Run.self, List.self],
        defaultSubcommand: Run.self)
}

/// The backends a run can use, by name.
enum BackendChoice: String, ExpressibleByArgument, CaseIterable {
    case reference, optimized, all

    func backends() throws -> [any Backend] {
        switch self {
        case .reference: return [Reference.backend]
        case .optimized, .all:
            throw ValidationError("the optimized backend does not exist yet; use --backend reference")
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run fixtures and report agreement and timings.")

    @Argument(help: "Fixture files or directories (searched recursively for *.json).")
    var paths: [String] = ["Fixtures"]

    @Option(help: "Which backend(s) to run.")
    var backend: BackendChoice = .reference

    @Option(help: "Run only cases whose id matches this regular expression.")
    var filter: String?

    @Option(help: "Where to write the JSON report.")
    var json: String = "Reports/report.json"

    @Flag(help: "Also check the reference backward against float64 finite differences.")
    var gradcheck = false

    @Option(help: "Seconds of timing per case and phase after the checked run (0: time only the checked run).")
    var timeBudget: Double = 0.02

    @Option(help: "Largest tensor a fixture may ask for, in elements.")
    var maxElements: Int = FixtureLoader.defaultMaxElements

    @Flag(name: .shortAndLong, help: "Print only the totals and the cases that do not pass.")
    var quiet = false

    @Option(help: "Run only shard K of N (K/N, 1-based; a deterministic split by case id).")
    var shard: String?

    var shardNumbers: (Int, Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    func validate() throws {
        if shard != nil {
            guard let (k, n) = shardNumbers, n >= 1, (1...n).contains(k) else {
                throw ValidationError("--shard takes K/N with 1 <= K <= N, e.g. --shard 2/4")
            }
        }
        if let f = filter, (try? NSRegularExpression(pattern: f)) == nil {
            throw ValidationError("--filter '\(f)' is not a valid regular expression")
        }
        guard timeBudget >= 0 else { throw ValidationError("--time-budget must be >= 0") }
    }

    func run() throws {
        var options = RunOptions()
        options.filter = try filter.map { try NSRegularExpression(pattern: $0) }
        options.gradcheck = gradcheck
        options.timeBudget = timeBudget
        options.shard = shardNumbers
        let runner = Runner(backends: try backend.backends(), options: options)
        let files: [FixtureFile]
        do { files = try FixtureLoader.load(paths: paths, maxElements: maxElements) } catch let e as TorchError {
            throw ValidationError(e.message)
        }
        let cases = runner.selected(files)
        let showProgress = isatty(STDERR_FILENO) != 0
        let results = runner.run(cases) { done, total, id in
            guard showProgress else { return }
            let line = "[\(done)/\(total)] \(id)"
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line.prefix(100)).utf8))
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let report = Report(
            created: ISO8601DateFormatter().string(from: Date()), machine: .current(),
            backends: runner.backends.map { BackendInfo(name: $0.name, details: $0.details) },
            fixtures: paths, cases: results, warnings: files.flatMap(\.warnings),
            calibrationMs: timeBudget > 0 ? Calibration.measure() : nil, shard: shard)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: json).deletingLastPathComponent(), withIntermediateDirectories: true)
        try report.jsonData().write(to: URL(fileURLWithPath: json))
        var text = Terminal.summary(report, fixtureArgs: paths)
        if quiet, let cut = text.range(of: "\n\n") { text = String(text[cut.upperBound...]) }
        print(text)
        for w in report.warnings.prefix(20) { print("warning: \(w)") }
        print("\nJSON report: \(json)")
        if !report.ok { throw ExitCode.failure }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the ops and modules, which backends implement the ops, and how many fixture cases cover each.")

    @Argument(help: "Fixture files or directories to count cases in.")
    var paths: [String] = ["Fixtures"]

    func run() throws {
        let cases = ((try? FixtureLoader.load(paths: paths)) ?? []).flatMap(\.cases)
        var ops: [String: Int] = [:], modules: [String: Int] = [:]
        for c in cases {
            switch c.body {
            case .call(let spec): ops[spec.op, default: 0] += 1
            case .program(let steps):
                for op in Set(steps.flatMap(\.ops)) { ops[op, default: 0] += 1 }
                for m in Set(steps.flatMap(\.moduleClasses)) { modules[m, default: 0] += 1 }
            case .invalid: break
            }
        }
        let backends: [any Backend] = [Reference.backend]
        let column = { (s: String) in s.padding(toLength: 26, withPad: " ", startingAt: 0) }
        print(column("op") + backends.map { column($0.name) }.joined() + "fixture cases")
        for op in Signatures.all.keys.sorted() {
            print(column(op) + backends.map { column($0.implementation(of: op) == nil ? "-" : "yes") }.joined() + "\(ops[op] ?? 0)")
        }
        print("\n" + column("module (torch.nn)") + "fixture cases")
        for m in Modules.classNames { print(column(m) + "\(modules[m] ?? 0)") }
        let unknownOps = ops.keys.filter { Signatures.all[$0] == nil }.sorted()
        let unknownModules = modules.keys.filter { !Modules.classNames.contains($0) }.sorted()
        if !unknownOps.isEmpty { print("\nops in fixtures that nnconf does not know: " + unknownOps.joined(separator: ", ")) }
        if !unknownModules.isEmpty { print("modules in fixtures that nnconf does not know: " + unknownModules.joined(separator: ", ")) }
    }
}
