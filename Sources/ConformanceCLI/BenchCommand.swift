import ArgumentParser
import ConformanceKit
import Foundation
import NNCore

/// `conformance bench`: times the performance suite (`BenchSuite.standard`) forward and backward
/// on a backend, with the sgemm rate of the same run, and optionally compares with PyTorch's run
/// of the same suite (`tools/torch_bench.py`). See docs/performance.md.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the performance suite forward and backward (median of repeats after warm-up).")

    @Option(help: "optimized, reference, all (optimized, plus the reference on the convolutions for the speed-up), or exec:'CMD ARGS'.")
    var backend: BackendChoice = BackendChoice(argument: "optimized")!

    @Option(help: "Run only cases whose name matches this regular expression.")
    var filter: String?

    @Option(help: "Timed repetitions per case and phase (at most; the median is reported).")
    var repeats: Int = BenchSettings().repeats

    @Option(help: "Untimed calls before timing.")
    var warmup: Int = BenchSettings().warmup

    @Option(help: "Seconds of timing per case and phase; stops repeating after it (with at least 3 samples).")
    var budget: Double = BenchSettings().budget

    @Option(help: "Timed repetitions for the reference backend (its convolutions take seconds).")
    var referenceRepeats: Int = 1

    @Option(help: "Where to write this run's JSON.")
    var json: String = "Reports/bench.json"

    @Option(help: "A JSON of the same suite from tools/torch_bench.py: print the combined table.")
    var compare: String?

    @Option(help: "Also write the table as Markdown to this file.")
    var markdown: String?

    @Option(help: "Write the suite as JSON (what tools/torch_bench.py reads) to this file and exit.")
    var dumpSuite: String?

    func validate() throws {
        if let f = filter, (try? NSRegularExpression(pattern: f)) == nil {
            throw ValidationError("--filter '\(f)' is not a valid regular expression")
        }
        guard repeats >= 1, warmup >= 0, budget >= 0, referenceRepeats >= 1 else {
            throw ValidationError("--repeats and --reference-repeats must be >= 1, --warmup and --budget >= 0")
        }
    }

    func run() throws {
        if let path = dumpSuite {
            try save(BenchSuite.json(), to: path)
            print("Suite: \(path)")
            return
        }
        let torch = try compare.map { path -> BenchRun in
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            return try BenchRun.load(data)
        }
        var settings = BenchSettings()
        (settings.repeats, settings.warmup, settings.budget) = (repeats, warmup, budget)
        var referenceSettings = BenchSettings.reference
        referenceSettings.repeats = referenceRepeats
        referenceSettings.minimumRepeats = referenceRepeats

        let regex = try filter.map { try NSRegularExpression(pattern: $0) }
        let cases = BenchSuite.standard.filter { c in
            regex.map { $0.firstMatch(in: c.name, range: NSRange(c.name.startIndex..., in: c.name)) != nil } ?? true
        }
        let all = try backend.backends()
        // Alone, a backend runs every case; the reference next to another runs only its cases.
        let main = all.count > 1 ? all.filter { $0.name != "reference" } : all
        let reference = all.count > 1 ? all.first { $0.name == "reference" } : nil

        let machine = MachineInfo.current()
        var run = BenchRun(created: ISO8601DateFormatter().string(from: Date()), machine: machine.benchFacts,
                           threads: ProcessInfo.processInfo.activeProcessorCount, settings: settings)
        let progress = isatty(STDERR_FILENO) != 0
        func note(_ s: String) { if progress { FileHandle.standardError.write(Data(("\r\u{1B}[K" + s.prefix(100)).utf8)) } }
        for b in main {
            note("[\(b.name)] sgemm 2048³")
            if let g = Bench.sgemmRate(on: b, settings: settings) { run.sgemmGflops[b.name] = g }
            for (i, c) in cases.enumerated() {
                note("[\(b.name) \(i + 1)/\(cases.count)] \(c.name)")
                let sgemm = c.gemmBound ? Bench.sgemmRate(on: b, settings: settings) : nil
                var r = Bench.measure(c, on: b, settings: settings)
                r.sgemmGflops = sgemm
                run.results.append(r)
            }
        }
        if let reference {
            let refCases = cases.filter(\.reference)
            for (i, c) in refCases.enumerated() {
                note("[reference \(i + 1)/\(refCases.count)] \(c.name)")
                run.results.append(Bench.measure(c, on: reference, settings: referenceSettings))
            }
        }
        note("")
        try save(String(decoding: try run.jsonData(), as: UTF8.self), to: json)

        let table = BenchTable(run, torch: torch)
        print("conformance bench: \(run.primaryBackend ?? "?"), \(run.created)")
        print(run.machineLine)
        if let torch { print("compared with \(compare!): " + torch.machineLine) }
        print("")
        print(table.text())
        for r in run.results where r.error != nil { print("\(r.backend) \(r.name): \(r.error!)") }
        if let path = markdown { try save(table.markdown(), to: path) }
        print("JSON: \(json)" + (markdown.map { ", Markdown: \($0)" } ?? ""))
    }
}
