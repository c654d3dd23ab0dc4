import ArgumentParser
import ConformanceKit
import Foundation
import NNCore

/// `conformance validate PATH...`: loads fixtures and checks them without running anything.
/// One line per problem, `file: case 'name': json.path: message`; exit status 1 when any case
/// is invalid (unsupported ops are listed but are no fault of the file).
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check fixture files against nnconf/1 without running them: one line per problem (file: case: json.path: message).")

    @Argument(help: "Fixture files or directories (searched recursively for *.json).")
    var paths: [String] = ["Fixtures"]

    @Option(help: "Largest number of elements one case's tensors may hold together.")
    var maxElements: Int = FixtureLoader.defaultMaxElements

    @Flag(help: "Print the problems and warnings as one JSON document instead of lines.")
    var json = false

    @Flag(help: "Leave out the warnings (unknown keys, ignored).")
    var noWarnings = false

    struct Output: Encodable {
        var files: Int
        var cases: Int
        var invalid: Int
        var unsupported: Int
        var problems: [FixtureProblem]
        var warnings: [String]
    }

    func run() throws {
        let files: [FixtureFile]
        do { files = try FixtureLoader.load(paths: paths, maxElements: maxElements) } catch let e as TorchError {
            throw ValidationError(e.message)
        }
        let problems = FixtureValidator.problems(in: files)
        let warnings = noWarnings ? [] : files.flatMap(\.warnings)
        let invalid = problems.filter { $0.kind == .invalid }.count
        let output = Output(files: files.count, cases: files.reduce(0) { $0 + $1.cases.count }, invalid: invalid,
                            unsupported: problems.count - invalid, problems: problems, warnings: warnings)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(output), as: UTF8.self))
        } else {
            for p in problems { print(p.description) }
            for w in warnings { print("warning: \(w)") }
            print("\(output.files) files, \(output.cases) cases: \(invalid) invalid, \(output.unsupported) unsupported"
                  + (warnings.isEmpty ? "" : ", \(warnings.count) warnings"))
        }
        if invalid > 0 { throw ExitCode.failure }
    }
}
