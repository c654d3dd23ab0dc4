import Foundation
import Testing
@testable import ConformanceKit

/// `conformance run` with its worker: the built binary, on a small fixture directory, made to
/// trap on one case by the test hook `NNCONF_TEST_TRAP_CASE` (docs/isolation.md).
@Suite(.serialized) struct IsolationTests {
    /// The `conformance` executable built beside the tests.
    static let binary: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [Bundle.main.executableURL?.deletingLastPathComponent(),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          root.appendingPathComponent(".build/debug")]
        return candidates.compactMap { $0?.appendingPathComponent("conformance").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static func fixtures() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory("nnconf-isolation")
        let relu = { (name: String) in
            #"{"name": "\#(name)", "call": "relu", "args": {"input": {"shape": [3], "dtype": "float32", "data": [1, -2, 3], "requires_grad": true}}, "#
                + #""expect": {"output": {"shape": [3], "dtype": "float32", "data": [1, 0, 3]}}, "#
                + #""backward": {"grad_output": {"shape": [3], "dtype": "float32", "data": [1, 1, 1]}, "grads": {"input": {"shape": [3], "dtype": "float32", "data": [1, 0, 1]}}}}"#
        }
        try file(["a", "b", "c"].map(relu).joined(separator: ",\n")).write(to: dir.appendingPathComponent("t.json"), atomically: true, encoding: .utf8)
        try file(relu("d")).write(to: dir.appendingPathComponent("u.json"), atomically: true, encoding: .utf8)
        return dir
    }

    /// Runs the binary; returns its exit status and the report it wrote.
    static func run(_ dir: TemporaryDirectory, _ extra: [String], trap: String? = nil, kind: String? = nil) throws -> (Int32, Report) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(binary))
        let out = try TemporaryDirectory("nnconf-isolation-report")
        defer { out.remove() }
        let json = out.appendingPathComponent("report.json").path
        p.arguments = ["run", dir.path, "--json", json, "--html", "", "--junit", "", "--markdown", "", "--time-budget", "0", "--quiet"] + extra
        var env = ProcessInfo.processInfo.environment
        env["NNCONF_TEST_TRAP_CASE"] = trap
        env["NNCONF_TEST_TRAP_KIND"] = kind
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, try Report.load(Data(contentsOf: URL(fileURLWithPath: json))))
    }

    @Test(.enabled(if: binary != nil)) func aTrapBecomesThatCasesErrorAndTheOthersKeepTheirResults() throws {
        let dir = try Self.fixtures()
        defer { dir.remove() }
        let (status, report) = try Self.run(dir, ["--backend", "all"], trap: "t/b")
        #expect(status == 1)
        let rows = report.cases.map { "\($0.id) \($0.backend) \($0.status.rawValue)" }
        #expect(rows == ["t/a reference pass", "t/a optimized pass", "t/b reference error", "t/b optimized error",
                         "t/c reference pass", "t/c optimized pass", "u/d reference pass", "u/d optimized pass"])
        let crashed = report.cases[2].message ?? ""
        #expect(crashed.hasPrefix("crashed: the worker died of signal"), "\(crashed)")
        #expect(crashed.contains("while running this case on reference"))
        #expect(crashed.contains("Fatal error: NNCONF_TEST_TRAP_CASE: trapping on case t/b"), "\(crashed)")
        #expect(report.cases[3].message?.hasPrefix("not run: the worker crashed on this case's reference run") == true)
        #expect(report.backends.map(\.name) == ["reference", "optimized"])
        #expect(report.summary["optimized"]?.pass == 3)
    }

    @Test(.enabled(if: binary != nil)) func aStackOverflowOnOneBackendIsIsolatedToo() throws {
        let dir = try Self.fixtures()
        defer { dir.remove() }
        let (status, report) = try Self.run(dir, ["--backend", "all", "--filter", "t/"], trap: "t/c@optimized", kind: "stack")
        #expect(status == 1)
        let rows = report.cases.map { "\($0.id) \($0.backend) \($0.status.rawValue)" }
        #expect(rows == ["t/a reference pass", "t/a optimized pass", "t/b reference pass", "t/b optimized pass",
                         "t/c reference pass", "t/c optimized error"])
        let message = report.cases[5].message ?? ""
        #expect(message.hasPrefix("crashed: the worker"), "\(message)")
        #expect(message.contains("while running this case on optimized"), "\(message)")
        // A stack overflow is SIGSEGV; under a sanitizer runtime (tools/sanitize.sh) its SEGV
        // handler reports the overflow and exits with status 1 instead.
        #expect(message.contains("signal \(SIGSEGV) (SIGSEGV") || message.contains("exited with status 1"), "\(message)")
    }

    /// Without a trap, an isolated run and an in-process run report the same verdicts.
    @Test(.enabled(if: binary != nil)) func isolatedAndInProcessRunsAgree() throws {
        let dir = try Self.fixtures()
        defer { dir.remove() }
        let (s1, isolated) = try Self.run(dir, ["--shard", "1/1"])
        let (s2, inProcess) = try Self.run(dir, ["--shard", "1/1", "--no-isolation"], trap: "t/a")
        #expect(s1 == 0 && s2 == 0)
        #expect(isolated.cases.map(\.id) == ["t/a", "t/b", "t/c", "u/d"])
        #expect(isolated.cases.map { [$0.id, $0.status.rawValue, $0.message ?? ""] } == inProcess.cases.map { [$0.id, $0.status.rawValue, $0.message ?? ""] })
        #expect(isolated.cases.map(\.maxAbsErr) == inProcess.cases.map(\.maxAbsErr))
        #expect(isolated.backends == inProcess.backends)
    }
}
