import Foundation
import NNCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs cases in a worker process, so that a case that traps (a failed precondition, an index
/// out of range, a stack overflow) becomes that case's `error` instead of ending the run
/// (docs/isolation.md).
///
/// The supervisor (`conformance run`) starts the worker (`conformance run --worker ...`, the
/// same fixtures and options) and writes it the indices of the selected cases to run. The worker
/// runs them exactly as an in-process run would, and streams JSON lines on a pipe: `hello` (its
/// backends), `start` before each case on each backend, `result` with each final `CaseResult`,
/// `done`. When the worker dies, the case it announced last gets an `error` naming the signal
/// and the worker's last words on stderr; the backends that case had not reached yet get an
/// `error` saying they did not run; and a new worker takes the cases after it. Results arrive in
/// the order an in-process run makes them, so the reports are the same.
public struct IsolatedRun {
    /// The worker program and its arguments.
    public var executable: String
    public var arguments: [String]
    /// Added to the inherited environment of each worker.
    public var environment: [String: String] = [:]

    public init(executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }

    public struct Outcome {
        public var backends: [BackendInfo]
        public var results: [CaseResult]
        /// How many workers died (each one's case is an `error` in `results`).
        public var crashes: Int
    }

    /// Runs `cases` (the same list, in the same order, as the worker selects) in workers;
    /// `progress(done, total, id)` after each result. Throws when a worker cannot start or dies
    /// twice in a row before running anything.
    public func run(_ cases: [FixtureCase], progress: ((Int, Int, String) -> Void)? = nil) throws -> Outcome {
        _ = IsolatedRun.ignoreSIGPIPE
        var outcome = Outcome(backends: [], results: [], crashes: 0)
        var order: [String] = []
        var remaining = Array(cases.indices)
        var fruitless = 0
        // At least one worker, even for no cases: its hello names the backends for the report.
        repeat {
            let worker = try WorkerProcess(executable: executable, arguments: arguments, environment: environment,
                                           input: remaining.map { "\($0)\t\(cases[$0].id)\n" }.joined())
            var current: (index: Int, backend: String)?
            var finished = false, progressed = false
            while !finished, let line = worker.nextLine() {
                let m: WorkerMessage
                do { m = try WorkerMessage.decode(line) } catch {
                    worker.kill()
                    throw TorchError("WorkerError", "the worker wrote a line that is not its protocol: \(String(decoding: line.prefix(200), as: UTF8.self))")
                }
                if let hello = m.hello {
                    if outcome.backends.isEmpty { outcome.backends = hello.backends }
                    order = hello.order
                } else if let i = m.start, let b = m.backend {
                    current = (i, b)
                } else if let i = m.result, let r = m.caseResult {
                    guard cases.indices.contains(i), r.id == cases[i].id else {
                        worker.kill()
                        throw TorchError("WorkerError", "the worker reported case \(i) as '\(r.id)'; did the fixtures change during the run?")
                    }
                    outcome.results.append(r)
                    progressed = true
                    current = nil
                    if let last = order.last, r.backend == last { remaining.removeAll { $0 == i } }
                    progress?(outcome.results.count, cases.count * max(order.count, 1), r.id)
                } else if let e = m.error {
                    worker.kill()
                    throw TorchError("WorkerError", e)
                } else if m.done == true {
                    finished = true
                }
            }
            let death = worker.wait()
            if finished && death == nil { break }
            let how = death ?? "exited before finishing"
            guard let (i, backend) = current else {
                fruitless = progressed ? 0 : fruitless + 1
                if fruitless >= 2 || order.isEmpty {
                    throw TorchError("WorkerError", "the worker \(how) before running a case" + worker.stderrSection())
                }
                continue
            }
            outcome.crashes += 1
            fruitless = 0
            let c = cases[i]
            var crashed = CaseResult(id: c.id, backend: backend, op: c.op, status: .error,
                                     message: "crashed: the worker \(how) while running this case on \(backend)" + worker.stderrSection())
            crashed.tags = c.tags.isEmpty ? nil : c.tags
            outcome.results.append(crashed)
            for later in order.drop(while: { $0 != backend }).dropFirst() {
                var skipped = CaseResult(id: c.id, backend: later, op: c.op, status: .error,
                                         message: "not run: the worker crashed on this case's \(backend) run (\(how))")
                skipped.tags = crashed.tags
                outcome.results.append(skipped)
            }
            progress?(outcome.results.count, cases.count * max(order.count, 1), c.id)
            remaining.removeAll { $0 <= i }
        } while !remaining.isEmpty
        return outcome
    }

    static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()
}

/// One line of the worker's protocol.
struct WorkerMessage: Codable {
    struct Hello: Codable {
        var backends: [BackendInfo]
        /// Backend names in the order each case runs on them.
        var order: [String]
    }
    var hello: Hello?
    var start: Int?
    var backend: String?
    var result: Int?
    var caseResult: CaseResult?
    var done: Bool?
    var error: String?

    enum CodingKeys: String, CodingKey { case hello, start, backend, result, caseResult = "case", done, error }

    func encoded() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var data = (try? e.encode(self)) ?? Data("{\"error\":\"cannot encode a message\"}".utf8)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    static func decode(_ line: [UInt8]) throws -> WorkerMessage {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try d.decode(WorkerMessage.self, from: Data(line))
    }
}

/// The worker's side: runs the cases its supervisor asks for and reports on the pipe that was
/// its stdout (stdout itself is pointed at stderr, so nothing else can garble the protocol).
public enum IsolatedWorker {
    /// Test hook: `NNCONF_TEST_TRAP_CASE=<case id>` (or `<case id>@<backend>`) makes the worker
    /// trap when it starts that case; `NNCONF_TEST_TRAP_KIND=stack` overflows the stack instead.
    static let trapVariable = "NNCONF_TEST_TRAP_CASE"

    /// Tells the supervisor why the worker cannot run (e.g. an exec backend that does not
    /// start), which it reports as the run's error, and exits.
    public static func fail(_ message: String) -> Never {
        FileHandle.standardOutput.write(WorkerMessage(error: message).encoded())
        exit(2)
    }

    public static func serve(backends: [any Backend], options: RunOptions, cases: [FixtureCase]) -> Never {
        let out = dup(STDOUT_FILENO)
        dup2(STDERR_FILENO, STDOUT_FILENO)
        func send(_ m: WorkerMessage) {
            let data = m.encoded()
            data.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let k = write(out, raw.baseAddress! + done, raw.count - done)
                    if k < 0 && errno == EINTR { continue }
                    if k <= 0 { exit(3) }  // the supervisor is gone
                    done += k
                }
            }
        }
        let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        var wanted: [Int] = []
        for line in input.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard let i = Int(parts[0]), cases.indices.contains(i), parts.count == 2, cases[i].id == parts[1] else {
                send(WorkerMessage(error: "the worker has no case '\(line)' (\(cases.count) selected); did the fixtures change during the run?"))
                exit(2)
            }
            wanted.append(i)
        }
        var runOptions = options
        let runner0 = Runner(backends: backends, options: options)
        send(WorkerMessage(hello: .init(backends: backends.map { BackendInfo(name: $0.name, details: $0.details) },
                                        order: runner0.runOrder.map { $0.name })))
        let trap = ProcessInfo.processInfo.environment[trapVariable]
        let trapKind = ProcessInfo.processInfo.environment["NNCONF_TEST_TRAP_KIND"]
        var current = 0
        runOptions.willRun = { id, backend in
            send(WorkerMessage(start: current, backend: backend))
            if let trap, trap == id || trap == "\(id)@\(backend)" {
                if trapKind == "stack" { _ = overflowStack(1) }
                fatalError("\(trapVariable): trapping on case \(id) as asked")
            }
        }
        runOptions.didRun = { r in send(WorkerMessage(result: current, caseResult: r)) }
        let runner = Runner(backends: backends, options: runOptions)
        for i in wanted {
            current = i
            _ = runner.run([cases[i]])
        }
        send(WorkerMessage(done: true))
        exit(0)
    }

    /// Unbounded recursion that the optimizer cannot turn into a loop (test hook only).
    @inline(never) static func overflowStack(_ depth: Int) -> Int {
        var frame = [Int](repeating: depth, count: 1)
        return withUnsafeMutablePointer(to: &frame) { p in overflowStack(depth + 1) + p.pointee.count }
    }
}

/// A running worker: its protocol pipe read line by line, its stderr kept (the last 16 KiB) by
/// a thread, for the message of a crash.
final class WorkerProcess: @unchecked Sendable {
    private let process = Process()
    private let stdoutPipe = Pipe(), stderrPipe = Pipe(), stdinPipe = Pipe()
    private var pending: [UInt8] = []
    private let lock = NSLock()
    private var tail: [UInt8] = []
    private let stderrDone = DispatchSemaphore(value: 0)

    init(executable: String, arguments: [String], environment: [String: String], input: String) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Swift's backtracer would spend seconds symbolicating each crash; the supervisor keeps
        // the runtime's own message ("Fatal error: Index out of range") either way.
        if env["SWIFT_BACKTRACE"] == nil { env["SWIFT_BACKTRACE"] = "enable=no" }
        process.environment = env
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        do { try process.run() } catch {
            throw TorchError("WorkerError", "cannot start the worker \(executable): \(error)")
        }
        let handle = stderrPipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock {
                    tail.append(contentsOf: chunk)
                    if tail.count > 1 << 14 { tail.removeFirst(tail.count - (1 << 14)) }
                }
            }
            stderrDone.signal()
        }
        // The worker reads all of its input before it writes anything, so this cannot block for
        // long; a worker that died already makes it fail (EPIPE), which the exit then explains.
        try? stdinPipe.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        try? stdinPipe.fileHandleForWriting.close()
    }

    /// The next protocol line, or nil when the worker closed the pipe (it ended or died).
    func nextLine() -> [UInt8]? {
        while true {
            if let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<nl])
                pending.removeFirst(nl + 1)
                return line
            }
            let chunk = stdoutPipe.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            pending.append(contentsOf: chunk)
        }
    }

    /// Waits for the exit; nil for a clean exit (status 0), else how the worker ended.
    func wait() -> String? {
        process.waitUntilExit()
        _ = stderrDone.wait(timeout: .now() + 2)
        try? stdoutPipe.fileHandleForReading.close()
        let status = process.terminationStatus
        switch process.terminationReason {
        case .uncaughtSignal: return "died of signal \(status) (\(IsolatedRun.signalName(status)))"
        default: return status == 0 ? nil : "exited with status \(status)"
        }
    }

    func kill() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// The runtime's fatal-error line if the worker's stderr has one, else its last lines.
    func stderrSection() -> String {
        _ = stderrDone.wait(timeout: .now() + 2)
        stderrDone.signal()
        let text = lock.withLock { String(decoding: tail, as: UTF8.self) }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let fatal = lines.filter { $0.contains("Fatal error") || $0.contains("Precondition failed") || $0.contains("Assertion failed") }
        let shown = (fatal.isEmpty ? Array(lines.suffix(5)) : Array(fatal.suffix(3))).joined(separator: "\n")
        guard !shown.isEmpty else { return " (nothing on its stderr)" }
        return ": " + (shown.count > 1500 ? "..." + shown.suffix(1500) : shown)
    }
}

extension IsolatedRun {
    /// `SIGILL, illegal instruction` for 4, and so on.
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
                                      SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGTERM: "SIGTERM", SIGPIPE: "SIGPIPE"]
        let text = strsignal(signal).map { String(cString: $0).lowercased() } ?? "unknown signal"
        return (names[signal].map { $0 + ", " } ?? "") + text
    }
}
