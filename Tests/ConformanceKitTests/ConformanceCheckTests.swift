import Foundation
import NNCore
import NNReference
import Synchronization
import Testing
import XCTest
@testable import ConformanceKit

/// `relu` is the reference kernel (right), `sigmoid` returns input + 1 (wrong), nothing else.
private let halfRightBackend = OpTable(name: "half-right", ops: [
    "relu": Reference.backend.implementation(of: "relu")!,
    "sigmoid": { args in
        let x = try args.tensor("input")
        return .tensor(Tensor(shape: x.shape, x.values(Float.self).map { $0 + 1 }))
    },
])

private let rightBackend = OpTable(name: "right", ops: ["relu": Reference.backend.implementation(of: "relu")!])

/// Three cases: `relu` (passes on both toys), `sigmoid` (fails on half-right, unsupported on
/// right), `tanh` (unsupported on both).
private let toyCases = #"""
    {"format": "nnconf/1", "generator": {"name": "test", "version": "0"}, "cases": [
     {"name": "relu_ok", "call": "relu",
      "args": {"input": {"shape": [2], "dtype": "float32", "data": [1, -2], "requires_grad": true}},
      "expect": {"output": {"shape": [2], "dtype": "float32", "data": [1, 0]}},
      "backward": {"grad_output": {"shape": [2], "dtype": "float32", "data": [1, 1]},
                   "grads": {"input": {"shape": [2], "dtype": "float32", "data": [1, 0]}}}},
     {"name": "sigmoid_zero", "call": "sigmoid",
      "args": {"input": {"shape": [1], "dtype": "float32", "data": [0]}},
      "expect": {"output": {"shape": [1], "dtype": "float32", "data": [0.5]}}},
     {"name": "tanh_zero", "call": "tanh",
      "args": {"input": {"shape": [1], "dtype": "float32", "data": [0]}},
      "expect": {"output": {"shape": [1], "dtype": "float32", "data": [0]}}}]}
    """#

/// A fresh directory holding `toy.json` (case ids `toy/<name>`).
private func toyFixtures() throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory("nnconf-check")
    try toyCases.write(to: dir.appendingPathComponent("toy.json"), atomically: true, encoding: .utf8)
    return dir
}

/// The comments of the issues a `withKnownIssue` block recorded, with their lines.
private final class IssueLog: Sendable {
    let entries = Mutex<[(message: String, line: Int?)]>([])
    func matcher(_ issue: Issue) -> Bool {
        entries.withLock { $0.append((issue.comments.map(\.rawValue).joined(separator: "\n"), issue.sourceLocation?.line)) }
        return true
    }
    var all: [(message: String, line: Int?)] { entries.withLock { $0 } }
}

@Suite struct ConformanceCheckTests {
    static let repoFixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    @Test func recordsOneIssuePerFailingCaseAtTheCallersLine() throws {
        let scratch = try toyFixtures(), dir = scratch.path
        defer { scratch.remove() }
        let log = IssueLog()
        var summary: ConformanceSummary?
        var callLine = 0
        try withKnownIssue {
            callLine = #line; summary = try checkConformance(of: halfRightBackend, fixtures: dir)
        } matching: { log.matcher($0) }
        let s = try #require(summary)
        #expect(log.all.count == 1)
        #expect(log.all.first?.message.hasPrefix("fail toy/sigmoid_zero: output at [0]: got 1.0, expected 0.5 (|diff| 0.5 > allowed") == true)
        #expect(log.all.first?.message.hasSuffix(")\nsigmoid input=float32[1]") == true)
        #expect(log.all.first?.line == callLine)
        #expect(s.counts.pass == 1 && s.counts.fail == 1 && s.counts.unsupported == 1)
        #expect(s.problems.map(\.id) == ["toy/sigmoid_zero"])
        #expect(s.result("toy/relu_ok")?.status == .pass)
        #expect(!s.passed)
    }

    @Test func aCorrectBackendPassesWithUnsupportedCountedNotFailed() throws {
        let scratch = try toyFixtures()
        defer { scratch.remove() }
        let s = try checkConformance(of: rightBackend, fixtures: scratch.path)
        #expect(s.passed)
        #expect(s.counts.pass == 1 && s.counts.unsupported == 2 && s.problems.isEmpty)
        #expect(s.unsupportedOps.map(\.op) == ["sigmoid", "tanh"])
        #expect(s.headline.hasSuffix("1 passed, 0 failed, 0 errors, 2 unsupported, 0 invalid (unsupported: sigmoid ×1, tanh ×1)"))
        #expect(s.result("toy/tanh_zero")?.message == "the right backend does not implement 'tanh'")
    }

    @Test func unsupportedFailsWhenNotAllowed() throws {
        let scratch = try toyFixtures(), dir = scratch.path
        defer { scratch.remove() }
        let log = IssueLog()
        try withKnownIssue {
            try checkConformance(of: rightBackend, fixtures: dir, allowUnsupported: false)
        } matching: { log.matcher($0) }
        #expect(log.all.map(\.message).sorted() == [
            "unsupported toy/sigmoid_zero: the right backend does not implement 'sigmoid'\nsigmoid input=float32[1]",
            "unsupported toy/tanh_zero: the right backend does not implement 'tanh'\ntanh input=float32[1]",
        ])
    }

    @Test func aRunWhereNothingPassesIsAnIssue() throws {
        let scratch = try toyFixtures(), dir = scratch.path
        defer { scratch.remove() }
        let log = IssueLog()
        try withKnownIssue {
            try checkConformance(of: rightBackend, fixtures: dir, filter: "tanh")
        } matching: { log.matcher($0) }
        #expect(log.all.count == 1)
        #expect(log.all.first?.message.hasPrefix("no case passed on right: 0 passed, 0 failed, 0 errors, 1 unsupported") == true)

        // Failures are reported already: no extra "nothing passed" issue on top of them.
        let failures = IssueLog()
        try withKnownIssue {
            try checkConformance(of: halfRightBackend, fixtures: dir, filter: "sigmoid")
        } matching: { failures.matcher($0) }
        #expect(failures.all.count == 1 && failures.all.first?.message.hasPrefix("fail toy/sigmoid_zero") == true)
    }

    @Test func filterSelectsCasesAndSetupMistakesThrow() throws {
        let scratch = try toyFixtures(), dir = scratch.path
        defer { scratch.remove() }
        let s = try checkConformance(of: halfRightBackend, fixtures: dir, filter: "^toy/relu")
        #expect(s.results.map(\.id) == ["toy/relu_ok"] && s.passed)
        #expect(throws: ConformanceCheckError.noCases(fixtures: dir, filter: "conv")) {
            try checkConformance(of: halfRightBackend, fixtures: dir, filter: "conv")
        }
        #expect(throws: ConformanceCheckError.self) { try checkConformance(of: halfRightBackend, fixtures: dir, filter: "(") }
        #expect(throws: ConformanceCheckError.self) { try checkConformance(of: halfRightBackend, fixtures: "no/such/dir") }
    }

    /// `../../Fixtures/...` is relative to this file's directory (Tests/ConformanceKitTests), not
    /// to the working directory, so it resolves through the second candidate.
    @Test func relativePathsResolveAgainstTheCallingFile() throws {
        let s = try checkConformance(of: Reference.backend, fixtures: "../../Fixtures/elementwise/unary.json", filter: "relu_vector")
        #expect(s.passed && s.counts.pass == 1)
        #expect(s.fixtures == Self.repoFixtures + "/elementwise/unary.json")
    }

    @Test func resolutionOrderWorkingDirectoryFileDirectoryPackageRoot() throws {
        let fm = FileManager.default
        let scratch = try TemporaryDirectory("nnconf-pkg"), pkg = scratch.path
        defer { scratch.remove() }
        try fm.createDirectory(atPath: pkg + "/Tests/MyTests", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: pkg + "/fixtures-in-root", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: pkg + "/Tests/MyTests/fixtures-by-test", withIntermediateDirectories: true)
        try "// swift-tools-version:6.0".write(toFile: pkg + "/Package.swift", atomically: true, encoding: .utf8)
        let caller = pkg + "/Tests/MyTests/MyTests.swift"

        #expect(try resolveFixturePath("fixtures-in-root", callerFile: caller) == pkg + "/fixtures-in-root")
        #expect(try resolveFixturePath("fixtures-by-test", callerFile: caller) == pkg + "/Tests/MyTests/fixtures-by-test")
        #expect(try resolveFixturePath("Fixtures-In-Root", callerFile: caller) == pkg + "/fixtures-in-root")
        #expect(try resolveFixturePath(pkg + "/fixtures-in-root", callerFile: "/elsewhere/x.swift") == pkg + "/fixtures-in-root")
        #expect(try resolveFixturePath("Sources/ConformanceKit", callerFile: caller) == fm.currentDirectoryPath + "/Sources/ConformanceKit"
                || !fm.fileExists(atPath: "Sources/ConformanceKit"))  // the working directory first, when it holds the path
        let error = #expect(throws: ConformanceCheckError.self) { try resolveFixturePath("missing", callerFile: caller) }
        #expect(error?.description.contains(pkg + "/Tests/MyTests/missing") == true)
    }
}

/// Under XCTest there is no Swift Testing test running: failures go through `XCTFail`, here
/// captured instead of failing this test.
final class ConformanceCheckXCTests: XCTestCase {
    var failures: [(description: String, file: String, line: Int)] = []
    var capturing = false

    override func recordFailure(withDescription description: String, inFile filePath: String, atLine lineNumber: Int, expected: Bool) {
        guard capturing else {
            return super.recordFailure(withDescription: description, inFile: filePath, atLine: lineNumber, expected: expected)
        }
        failures.append((description, filePath, lineNumber))
    }

    func testFailingCasesAreXCTestFailuresAtTheCallersLine() throws {
        let scratch = try toyFixtures(), dir = scratch.path
        defer { scratch.remove() }
        capturing = true
        let line = #line; let summary = try checkConformance(of: halfRightBackend, fixtures: dir)
        capturing = false
        XCTAssertEqual(summary.counts.fail, 1)
        XCTAssertEqual(failures.count, 1)
        XCTAssertEqual(failures.first?.line, line)
        XCTAssertEqual(failures.first?.file, #filePath)
        XCTAssertTrue(failures.first?.description.contains("fail toy/sigmoid_zero: output at [0]") == true, "\(failures)")
    }
}
