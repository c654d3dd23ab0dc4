import Foundation
import NNCore
// The test libraries are imported only where the toolchain provides them, and `internal`ly, so
// nothing about them leaks into ConformanceKit's API. A build with `--static-swift-stdlib` has
// neither (there is no static libTesting/libXCTest), and then issues are only printed.
#if canImport(Testing)
internal import Testing
#endif
#if canImport(XCTest)
internal import XCTest
#endif

/// Runs a directory (or file) of `nnconf/1` fixtures against `backend` and fails the calling
/// test with one issue per case that does not pass, located at the call.
///
/// ```swift
/// @Test func conformsToPyTorch() throws {
///     try checkConformance(of: MyBackend(), fixtures: "../../Fixtures/elementwise")
/// }
/// ```
///
/// - Cases that `fail`, `error` or are `invalid` record an issue each, e.g.
///   `fail unary/relu_vector: output at [1]: got 2.0, expected 0.0 (|diff| 2 > allowed 1e-05)`
///   and, on a second line, the op and its arguments: `relu input=float32[7]∇`.
/// - `unsupported` cases (ops, dtypes or argument values the backend does not implement) are
///   counted and listed, and record issues only when `allowUnsupported` is false.
/// - A run in which nothing passed and nothing else was an issue (every case unsupported)
///   records one issue: it checked nothing.
/// - Issues go to Swift Testing (`Issue.record`) inside a `@Test`, to XCTest (`XCTFail`)
///   otherwise; one summary line is printed either way.
///
/// - Parameters:
///   - fixtures: a fixture directory (searched recursively) or `.json` file. A relative path is
///     tried from the working directory, then from the directory of the calling file, then from
///     the root of the package holding the calling file (the nearest directory up with a
///     `Package.swift`), so it works whatever directory `swift test` was started in.
///   - filter: a regular expression; only cases whose id (`unary/relu_vector`, relative to
///     `fixtures`) it matches anywhere run, as the CLI's `--filter`.
///   - allowUnsupported: whether `unsupported` cases pass the check (the default).
/// - Returns: the results, for further assertions.
/// - Throws: `ConformanceCheckError` when the fixtures cannot be found, the filter is not a
///   regular expression, or no case is selected; never for a case's result.
@discardableResult
public func checkConformance(
    of backend: some Backend,
    fixtures: String,
    filter: String? = nil,
    allowUnsupported: Bool = true,
    fileID: String = #fileID,
    filePath: StaticString = #filePath,
    line: UInt = #line,
    column: UInt = #column
) throws -> ConformanceSummary {
    let location = CallerLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    let root = try resolveFixturePath(fixtures, callerFile: "\(filePath)")
    var options = RunOptions()
    options.timeBudget = 0  // one timed run per phase: a conformance check, not a benchmark
    if let filter {
        do { options.filter = try NSRegularExpression(pattern: filter) } catch {
            throw ConformanceCheckError.badFilter(filter, "\(error)")
        }
    }
    let runner = Runner(backends: [backend], options: options)
    let cases = runner.selected(try FixtureLoader.load(paths: [root]))
    guard !cases.isEmpty else { throw ConformanceCheckError.noCases(fixtures: root, filter: filter) }

    let summary = ConformanceSummary(backend: backend.name, fixtures: root, filter: filter,
                                     allowUnsupported: allowUnsupported, results: runner.run(cases))
    print(summary.headline)
    for r in summary.problems { recordTestIssue(ConformanceSummary.issueMessage(r), at: location) }
    if summary.counts.pass == 0 && summary.problems.isEmpty {
        recordTestIssue("no case passed on \(backend.name): \(summary.countsLine) in \(root)"
                        + (filter.map { " matching /\($0)/" } ?? ""), at: location)
    }
    return summary
}

/// The outcome of `checkConformance`: every case's result and the counts by status.
public struct ConformanceSummary: CustomStringConvertible {
    public let backend: String
    /// The fixture directory or file that ran, as resolved.
    public let fixtures: String
    public let filter: String?
    public let allowUnsupported: Bool
    /// One result per selected case, in fixture order.
    public let results: [CaseResult]
    public let counts: Counts

    public init(backend: String, fixtures: String, filter: String?, allowUnsupported: Bool, results: [CaseResult]) {
        self.backend = backend
        self.fixtures = fixtures
        self.filter = filter
        self.allowUnsupported = allowUnsupported
        self.results = results
        var counts = Counts()
        for r in results { counts[r.status] += 1 }
        self.counts = counts
    }

    /// The cases that failed the check, each recorded as an issue: `fail`, `error`, `invalid`,
    /// and `unsupported` unless allowed.
    public var problems: [CaseResult] {
        results.filter { $0.status != .pass && ($0.status != .unsupported || !allowUnsupported) }
    }

    public var unsupported: [CaseResult] { results.filter { $0.status == .unsupported } }

    /// The ops with at least one unsupported case, and how many.
    public var unsupportedOps: [(op: String, cases: Int)] {
        Dictionary(grouping: unsupported, by: \.op).map { ($0.key, $0.value.count) }.sorted { $0.op < $1.op }
    }

    /// Whether the check passed: something passed and nothing counts as a problem.
    public var passed: Bool { problems.isEmpty && counts.pass > 0 }

    public func result(_ id: String) -> CaseResult? { results.first { $0.id == id } }

    var countsLine: String {
        "\(counts.pass) passed, \(counts.fail) failed, \(counts.error) errors, "
            + "\(counts.unsupported) unsupported, \(counts.invalid) invalid"
            + (counts.mistrusted > 0 ? ", \(counts.mistrusted) mistrusted" : "")
    }

    /// `nnconf: my-backend on …/Fixtures/elementwise: 43 passed, 0 failed, … (unsupported: exp ×9, …)`.
    public var headline: String {
        let ops = unsupportedOps.map { "\($0.op) ×\($0.cases)" }.joined(separator: ", ")
        return "nnconf: \(backend) on \(fixtures)" + (filter.map { " /\($0)/" } ?? "") + ": \(countsLine)"
            + (ops.isEmpty ? "" : " (unsupported: \(ops))")
    }

    /// The headline, then one line per case that is not a pass.
    public var description: String {
        ([headline] + results.filter { $0.status != .pass }.map {
            "  " + Self.issueMessage($0).replacingOccurrences(of: "\n", with: "\n    ")
        }).joined(separator: "\n")
    }

    /// The case, its verdict and the op with its arguments in brief:
    /// `fail unary/relu_vector: output at [1]: got 2.0, expected 0.0 (…)` / `relu input=float32[7]∇`.
    static func issueMessage(_ r: CaseResult) -> String {
        "\(r.status.rawValue) \(r.id): \(r.message ?? "no message")\n"
            + ([r.op, r.arguments].compactMap { $0 }.joined(separator: " "))
    }
}

/// Why `checkConformance` could not run at all (as opposed to cases not passing).
public enum ConformanceCheckError: Error, CustomStringConvertible, Equatable {
    case fixturesNotFound(String, tried: [String])
    case badFilter(String, String)
    case noCases(fixtures: String, filter: String?)

    public var description: String {
        switch self {
        case .fixturesNotFound(let path, let tried):
            return "no fixture file or directory '\(path)'; tried " + tried.joined(separator: ", ")
        case .badFilter(let filter, let why):
            return "filter /\(filter)/ is not a regular expression: \(why)"
        case .noCases(let fixtures, let filter):
            return "no fixture cases in \(fixtures)" + (filter.map { " match /\($0)/" } ?? "")
        }
    }
}

/// An absolute path as given; a relative one from the working directory, the calling file's
/// directory, then the calling file's package root. The first that exists wins (letter case of
/// the last component forgiven, as the CLI does).
func resolveFixturePath(_ path: String, callerFile: String) throws -> String {
    let fm = FileManager.default
    var candidates = [path]
    if !path.hasPrefix("/") {
        let cwd = fm.currentDirectoryPath
        var dir = URL(fileURLWithPath: callerFile).deletingLastPathComponent()
        var bases = [cwd, dir.path]
        while dir.path != "/" && !dir.path.isEmpty {
            if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                bases.append(dir.path)
                break
            }
            dir = dir.deletingLastPathComponent()
        }
        candidates = bases.map { URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: $0 + "/")).standardizedFileURL.path }
    }
    var tried: [String] = []
    for c in candidates where !tried.contains(c) {
        if let found = try? FixtureLoader.resolve(c) { return found }
        tried.append(c)
    }
    throw ConformanceCheckError.fixturesNotFound(path, tried: tried)
}

struct CallerLocation {
    var fileID: String
    var filePath: StaticString
    var line: UInt
    var column: UInt
}

/// Fails the running test: Swift Testing's when a `@Test` is running, else XCTest's. (Outside
/// any test XCTFail records nothing; the printed headline and the returned summary remain.)
func recordTestIssue(_ message: String, at location: CallerLocation) {
    #if canImport(Testing)
    if Test.current != nil {
        Issue.record(Comment(rawValue: message), sourceLocation: SourceLocation(
            fileID: location.fileID, filePath: "\(location.filePath)",
            line: Int(location.line), column: Int(location.column)))
        return
    }
    #endif
    #if canImport(XCTest)
    XCTFail(message, file: location.filePath, line: location.line)
    #else
    FileHandle.standardError.write(Data("\(location.fileID):\(location.line): \(message)\n".utf8))
    #endif
}
