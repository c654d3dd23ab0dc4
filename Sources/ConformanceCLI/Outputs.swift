import ArgumentParser
import ConformanceKit
import Foundation

/// Where a run, or `conformance report`, writes the report's forms. Every form is rendered from
/// the `Report` alone, so `conformance report r.json` reproduces a run's files byte for byte.
struct OutputOptions: ParsableArguments {
    @Option(help: "Self-contained HTML report (default with `run`: Reports/index.html; \"\" for none).")
    var html: String?

    @Option(help: "JUnit XML for CI test views (default with `run`: Reports/junit.xml; \"\" for none).")
    var junit: String?

    @Option(help: "Markdown summary for a pull-request comment (default with `run`: Reports/summary.md; \"\" for none).")
    var markdown: String?

    @Option(help: "A baseline report: the Markdown summary then shows deltas and regressions against it.")
    var baseline: String?

    /// Writes each form asked for, or its default in `directory` (nil: only those asked for).
    func write(_ report: Report, defaultsIn directory: String?) throws {
        let baselineReport = try baseline.map { try loadReport($0) }
        func path(_ given: String?, _ name: String) -> String? {
            let p = given ?? directory.map { "\($0)/\(name)" }
            return p?.isEmpty == false ? p : nil
        }
        if let p = path(html, "index.html") { try save(HTMLReport.render(report), to: p) }
        if let p = path(junit, "junit.xml") { try save(JUnitReport.render(report), to: p) }
        if let p = path(markdown, "summary.md") { try save(MarkdownReport.render(report, baseline: baselineReport), to: p) }
    }
}

func save(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(),
                                            withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

func loadReport(_ path: String) throws -> Report {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read report '\(path)'")
    }
    do { return try Report.load(data) } catch {
        throw ValidationError("'\(path)' is not an nnconf-report/1 JSON report: \(error)")
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Rebuild the HTML, JUnit and Markdown forms from a saved JSON report, without rerunning.")

    @Argument(help: "A JSON report written by `conformance run`.")
    var json: String

    @OptionGroup var outputs: OutputOptions

    func run() throws {
        let asked = outputs.html != nil || outputs.junit != nil || outputs.markdown != nil
        try outputs.write(try loadReport(json), defaultsIn: asked ? nil : "Reports")
    }
}

struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate", abstract: "Fail (exit 1) when CURRENT regressed against BASELINE: a case that passed no longer does, an error grew past its share of the tolerance, or an op got slower (as ratios measured within each run).")

    @Option(help: "The baseline JSON report (e.g. Reports/baseline.json).")
    var baseline: String

    @Argument(help: "The current JSON report.")
    var current: String

    @Option(help: "Error growth: fire when tolerance_use grows past this factor of the baseline's.")
    var errorGrowthFactor = GateOptions().errorGrowthFactor

    @Option(help: "Slowdown: fire when an op's normalized time grows past this factor.")
    var slowdownThreshold = GateOptions().slowdownThreshold

    @Flag(help: "Do not judge speed (e.g. when the two reports come from different build modes).")
    var ignoreSpeed = false

    func run() throws {
        var options = GateOptions()
        options.errorGrowthFactor = errorGrowthFactor
        options.slowdownThreshold = ignoreSpeed ? .infinity : slowdownThreshold
        let result = Gate.check(baseline: try loadReport(baseline), current: try loadReport(current), options: options)
        print(result.summary())
        if !result.passed { throw ExitCode.failure }
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Join the JSON reports of a sharded run (--shard K/N) into one.")

    @Argument(help: "The shard reports.")
    var reports: [String]

    @Option(name: .shortAndLong, help: "Where to write the merged JSON report.")
    var output: String

    func run() throws {
        let merged = try Merge.merge(try reports.map(loadReport))
        try save(String(decoding: try merged.jsonData(), as: UTF8.self), to: output)
        print("merged \(reports.count) reports: \(merged.cases.count) results → \(output)")
    }
}
