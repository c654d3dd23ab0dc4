import Foundation
import NNReference
import Testing
@testable import ConformanceKit

/// Every case in `Fixtures/` must pass on the reference backend: the acceptance test of the kit.
@Suite struct BundledFixturesTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    @Test func everyBundledFixturePassesOnTheReferenceBackend() throws {
        let files = try FixtureLoader.load(paths: [Self.fixtures])
        var options = RunOptions()
        options.timeBudget = 0
        let runner = Runner(backends: [Reference.backend], options: options)
        let cases = runner.selected(files)
        #expect(cases.count >= 300, "the bundled fixtures hold \(cases.count) cases")
        let results = runner.run(cases)
        for r in results where r.status != .pass {
            Issue.record("\(r.status.rawValue) \(r.id): \(r.message ?? "")")
        }
        // CI's regression gate: the committed baseline (refresh it on purpose with
        // `swift run -c release conformance run Fixtures --save-baseline Reports/baseline.json`).
        // Speed is not judged here: this is a debug build, the baseline a release one.
        let baselinePath = URL(fileURLWithPath: Self.fixtures).deletingLastPathComponent().appendingPathComponent("Reports/baseline.json").path
        let baseline = try Report.load(try #require(FileManager.default.contents(atPath: baselinePath)))
        let current = Report(created: "", machine: baseline.machine, backends: baseline.backends, fixtures: [], cases: results, warnings: [])
        var gateOptions = GateOptions()
        gateOptions.slowdownThreshold = .infinity
        let gate = Gate.check(baseline: baseline, current: current, options: gateOptions)
        #expect(gate.passed, "\(gate.summary())")
    }
}
