import ArgumentParser
import ConformanceKit
import Foundation
import NNCore
import NNModules
import NNOptimized
import NNReference

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run fixtures and report agreement and timings.")

    @Argument(help: "Fixture files or directories (searched recursively for *.json).")
    var paths: [String] = ["Fixtures"]

    @Option(help: "reference, optimized, all (both, compared), or exec:'CMD ARGS' (an external backend, compared with the reference).")
    var backend: BackendChoice = .reference

    @Option(help: "Run only cases whose id matches this regular expression.")
    var filter: String?

    @Option(help: "Where to write the JSON report.")
    var json: String = "Reports/report.json"

    @Option(help: "Also write the run as a compact gate baseline (what `conformance gate` reads), e.g. Reports/baseline.json.")
    var saveBaseline: String?

    @Flag(help: "Also check the reference backward against float64 finite differences.")
    var gradcheck = false

    @Option(help: "Seconds of timing per case and phase after the checked run (0: time only the checked run).")
    var timeBudget: Double = 0.02

    @Option(help: "Largest tensor a fixture may ask for, in elements.")
    var maxElements: Int = FixtureLoader.defaultMaxElements

    @Flag(name: .shortAndLong, help: "Print only the totals and the cases that do not pass.")
    var quiet = false

    @OptionGroup var outputs: OutputOptions

    @Option(help: "Run only shard K of N (K/N, 1-based; a deterministic split by case id).")
    var shard: String?

    @Flag(help: "Run the cases in this process (a case that traps then ends the whole run); by default a worker process runs them and a crash becomes that case's error.")
    var noIsolation = false

    /// Internal: run as the worker of a supervising `conformance run` (Isolation.swift).
    @Flag(help: .hidden)
    var worker = false

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
        let files: [FixtureFile]
        do { files = try FixtureLoader.load(paths: paths, maxElements: maxElements) } catch let e as TorchError {
            throw ValidationError(e.message)
        }
        // Selection needs no backends; the supervisor of an isolated run starts none itself.
        let cases = Runner(backends: [], options: options).selected(files)
        if worker {
            let backends: [any Backend]
            do { backends = try backend.backends() } catch { IsolatedWorker.fail("\(error)") }
            IsolatedWorker.serve(backends: backends, options: options, cases: cases)
        }
        let showProgress = isatty(STDERR_FILENO) != 0
        let progress = { (done: Int, total: Int, id: String) in
            guard showProgress else { return }
            let line = "[\(done)/\(total)] \(id)"
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line.prefix(100)).utf8))
        }
        let backendInfo: [BackendInfo], results: [CaseResult]
        if noIsolation {
            let runner = Runner(backends: try backend.backends(), options: options)
            results = runner.run(cases, progress: progress)
            backendInfo = runner.backends.map { BackendInfo(name: $0.name, details: $0.details) }
        } else {
            let outcome: IsolatedRun.Outcome
            do { outcome = try isolatedRun().run(cases, progress: progress) } catch let e as TorchError {
                throw ValidationError(e.message)
            }
            (results, backendInfo) = (outcome.results, outcome.backends)
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let report = Report(
            created: ISO8601DateFormatter().string(from: Date()), machine: .current(),
            backends: backendInfo,
            fixtures: paths, cases: results, warnings: files.flatMap(\.warnings),
            calibrationMs: timeBudget > 0 ? Calibration.measure() : nil, shard: shard)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: json).deletingLastPathComponent(), withIntermediateDirectories: true)
        try report.jsonData().write(to: URL(fileURLWithPath: json))
        try outputs.write(report, defaultsIn: "Reports")
        if let path = saveBaseline { try save(String(decoding: try report.baselineData(), as: UTF8.self), to: path) }
        var text = Terminal.summary(report, fixtureArgs: paths)
        if quiet, let cut = text.range(of: "\n\n") { text = String(text[cut.upperBound...]) }
        print(text)
        for w in report.warnings.prefix(20) { print("warning: \(w)") }
        print("\nReports: \(json), HTML \(outputs.html ?? "Reports/index.html"), JUnit \(outputs.junit ?? "Reports/junit.xml"), Markdown \(outputs.markdown ?? "Reports/summary.md")")
        if !report.ok { throw ExitCode.failure }
    }

    /// This same program as a worker: the fixtures and options that decide what runs and how
    /// (the supervisor writes the reports, so their options stay here).
    func isolatedRun() -> IsolatedRun {
        var args = ["run", "--worker", "--backend=\(backend.spec)", "--time-budget=\(timeBudget)", "--max-elements=\(maxElements)"]
        if let filter { args.append("--filter=\(filter)") }
        if let shard { args.append("--shard=\(shard)") }
        if gradcheck { args.append("--gradcheck") }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return IsolatedRun(executable: executable, arguments: args + ["--"] + paths)
    }
}
