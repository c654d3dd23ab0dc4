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
    }
}
