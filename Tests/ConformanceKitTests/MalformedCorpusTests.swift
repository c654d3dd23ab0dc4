import Foundation
import NNCore
import NNReference
import Testing
@testable import ConformanceKit

/// The corpus in `Tests/Malformed/`: one file per way a fixture can be wrong, and `valid.json` beside
/// them. `Malformed/expected.txt` holds the exact line `conformance validate` prints for each
/// problem, with file names relative to the corpus. (The corpus lives in `Tests/Malformed/`, outside the test target, so SwiftPM does not ask to declare it as resources.)
@Suite struct MalformedCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Malformed").path

    static func line(_ p: FixtureProblem) -> String {
        var p = p
        p.file = String(p.file.dropFirst(directory.count + 1))
        return p.description
    }

    static func expectedLines() throws -> [String] {
        try String(contentsOfFile: directory + "/expected.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    @Test func everyFileGivesItsExactMessages() throws {
        let files = try FixtureLoader.load(paths: [Self.directory])
        let got = FixtureValidator.problems(in: files).map(Self.line)
        let expected = try Self.expectedLines()
        for (g, e) in zip(got, expected) { #expect(g == e) }
        #expect(got.count == expected.count, "got \(got.count) problems, expected.txt has \(expected.count)")
        for missing in Set(expected).subtracting(got).sorted() { Issue.record("not produced: \(missing)") }
        for extra in Set(got).subtracting(expected).sorted() { Issue.record("not in expected.txt: \(extra)") }
    }

    @Test func everyMalformedFileHasAProblemAndUnknownNamesAreUnsupported() throws {
        let files = try FixtureLoader.load(paths: [Self.directory])
        for f in files {
            let problems = f.cases.flatMap { FixtureValidator.problems(in: $0) }
            let name = f.relativeName
            #expect(problems.isEmpty == (name == "valid"), "\(name): \(problems)")
            let expectUnsupported = name.hasPrefix("unknown_")
            #expect(problems.allSatisfy { ($0.kind == .unsupported) == expectUnsupported }, "\(name): \(problems.map(\.kind))")
            // Every problem says where: the file, and a case or a JSON path (or json-c's position).
            for p in problems {
                #expect(p.description.hasPrefix(f.path + ": "))
                #expect(!p.caseLabel.isEmpty || !p.path.isEmpty || p.message.contains(" at line ") || p.message.hasPrefix("the top level"), "\(p)")
            }
        }
    }

    /// Loading and running the whole directory: no crash, the valid file's cases pass, every
    /// other case is `invalid` (with the validator's message) or `unsupported`.
    @Test func validFilesBesideMalformedOnesStillPass() throws {
        let files = try FixtureLoader.load(paths: [Self.directory])
        var options = RunOptions()
        options.timeBudget = 0
        let runner = Runner(backends: [Reference.backend], options: options)
        let cases = runner.selected(files)
        let results = runner.run(cases)
        #expect(results.count == cases.count)
        let problems = Dictionary(FixtureValidator.problems(in: files).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var passed = 0
        for (c, r) in zip(cases, results) {
            if c.file.hasSuffix("/valid.json") {
                #expect(r.status == .pass, "\(r.id): \(r.message ?? "")")
                passed += 1
            } else if let p = problems[c.id] {
                #expect(r.status == (p.kind == .invalid ? .invalid : .unsupported), "\(r.id): \(r.status)")
                if p.kind == .invalid { #expect(r.message == p.description) }
            } else {
                // The first of two cases with the same name is fine on its own.
                #expect(c.id == "duplicate_name/a", "\(c.id) has no problem but is not in valid.json")
            }
        }
        #expect(passed == 6)
    }
}
