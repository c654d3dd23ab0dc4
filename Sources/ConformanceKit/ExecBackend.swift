import Foundation
import NNCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A backend in another process, in any language, speaking `nnconf-exec/1` (JSON lines over
/// its stdin and stdout; docs/external-backends.md).
///
/// The process is started once and greeted (`hello`); its answer gives the backend's name, ops,
/// dtypes and whether it does backward. Each op call is one request and one answer, one at a
/// time. A crash, a hang past `timeout`, a line that is not JSON or any other protocol
/// violation becomes that call's `TorchError("BackendError", ...)` with the tail of the
/// process's stderr, and the process is started again for the next call.
///
/// Backward: a forward call returns plain tensors; the first output gets an autograd node whose
/// pullback sends the same call again with `grad_output` and the names of the inputs that need
/// a gradient. So `output.backward(gradient:)` in the runner works as with in-process backends.
///
/// Program cases (in-place rules, modules, no_grad) are not sent to exec backends: they are
/// `unsupported` (`supportsPrograms` is false; the runner checks it).
public final class ExecBackend: Backend, @unchecked Sendable {
    public let command: [String]
    /// Seconds one request (a forward or a backward call) may take before the process is killed.
    public let timeout: Double
    /// Seconds the process may take to start and answer `hello` (importing a framework is slow).
    public let startupTimeout: Double
    /// The backend's own description of itself, from its `hello` answer.
    public let hello: ExecProtocol.Hello
    public let name: String
    public let details: String
    /// nnconf-exec/1 has no way to run programs (in-place writes, modules, no_grad) yet.
    public var supportsPrograms: Bool { false }

    /// The backend's own `timing_ms` of the last forward and backward call, when it sent them
    /// (the runner's timings of an exec backend include the JSON and pipe round trip).
    public var lastTiming: (forwardMs: Double?, backwardMs: Double?) {
        lock.lock(); defer { lock.unlock() }
        return timing
    }
    /// How many times the process was started again after a failure.
    public var restarts: Int {
        lock.lock(); defer { lock.unlock() }
        return restartCount
    }
    /// The last bytes the process wrote to stderr (all its lives), for diagnostics.
    public var stderrTail: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: child?.stderrTail ?? lastStderr, as: UTF8.self)
    }

    private let lock = NSLock()
    private var child: ExecChild?
    private var nextID = 1
    private var timing: (forwardMs: Double?, backwardMs: Double?) = (nil, nil)
    private var restartCount = 0
    private var failedStarts = 0
    private var lastStartError: TorchError?
    private var lastStderr: [UInt8] = []
    /// After this many failed starts in a row, calls fail at once instead of starting again.
    static let maxFailedStarts = 3

    /// Starts `command` (argv; `command[0]` is searched in PATH) and greets it.
    /// Throws `TorchError("BackendError", ...)` when it cannot start or does not answer `hello`.
    /// `name` overrides the backend's own name in reports.
    public init(command: [String], timeout: Double = 10, startupTimeout: Double = 120, name: String? = nil) throws {
        guard !command.isEmpty else { throw TorchError("BackendError", "exec backend: empty command") }
        _ = ExecBackend.ignoreSIGPIPE
        self.command = command
        self.timeout = timeout
        self.startupTimeout = max(startupTimeout, timeout)
        let (child, hello) = try ExecChild.launch(command, timeout: self.startupTimeout)
        self.child = child
        self.hello = hello
        self.name = name ?? hello.name
        self.details = [hello.name + (hello.version.isEmpty ? "" : " " + hello.version), hello.details,
                        "nnconf-exec/\(ExecProtocol.version): " + ExecBackend.display(command)]
            .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "; ")
    }

    /// `ExecBackend(commandLine: "python3 tools/torch_backend.py")`: the command split into
    /// words as a POSIX shell would (quotes and backslashes; no expansion).
    public convenience init(commandLine: String, timeout: Double = 10, startupTimeout: Double = 120, name: String? = nil) throws {
        try self.init(command: try ExecBackend.words(commandLine), timeout: timeout, startupTimeout: startupTimeout, name: name)
    }

    deinit { close() }

    /// Says `bye`, closes the pipes and waits briefly for the process to exit (then kills it).
    public func close() {
        lock.lock(); defer { lock.unlock() }
        child?.finish()
        child = nil
    }

    public func implementation(of op: String) -> OpFunction? {
        guard hello.ops.contains(op) else { return nil }
        return { [self] args in try self.forward(op, args) }
    }

    // MARK: calls

    private func forward(_ op: String, _ args: Arguments) throws -> Value {
        for t in ExecBackend.tensors(in: Array(args.values.values)) where !hello.dtypes.contains(t.dtype) {
            throw Unsupported("the \(name) backend takes \(hello.dtypes.map(\.rawValue).sorted().joined(separator: ", ")) tensors, not \(t.dtype.rawValue)")
        }
        let argsText = ExecProtocol.arguments(args)
        let opText = ExecProtocol.quote(op)
        let (forwardID, answer) = try request(op) { id in
            "{\"type\":\"call\",\"id\":\(id),\"op\":\(opText),\"seed\":\(id),\"args\":\(argsText)}"
        }
        let result: ExecProtocol.Result, output: Value
        switch answer {
        case .error(let e): throw e
        case .unsupported(let reason): throw Unsupported(reason)
        case .result(let r):
            guard let o = r.output else {
                throw TorchError("BackendError", "\(name): the answer to call \(forwardID) (\(op)) has no \"output\"")
            }
            (result, output) = (r, o)
        }
        for w in result.warnings { Warnings.warn(w.message, category: w.category) }
        lock.withLock { timing = (result.forwardMs, nil) }

        let named: [(String, Tensor)] = ExecProtocol.orderedKeys(args).compactMap { k in args.values[k]?.tensor.map { (k, $0) } }
        let wanted = named.filter { $0.1.requiresGrad }.map(\.0)
        let gradFn = result.gradFn ?? "ExecBackward0"
        let pullback: (Tensor) throws -> [Tensor?] = { [self] g in
            try backward(op, opText, argsText, forwardID: forwardID, gradOutput: g, named: named, wanted: wanted)
        }

        // An in-place op (`relu_`, `dropout(inplace=True)`) returns its input, now holding the
        // result, with its history rebased as PyTorch does (the backward request still carries
        // the values from before the write).
        if op.hasSuffix("_") || (try? args.bool("inplace", default: false)) == true,
           case .tensor(let out) = output, let (_, input) = named.first(where: { $0.0 == "input" }),
           out.shape == input.shape, out.dtype == input.dtype {
            if (try? input.checkInplace()) == nil {
                // PyTorch refuses to write into this input (a leaf that requires grad); the
                // backend did not raise, so the op must have left it alone (`dropout` in eval
                // mode returns its input). Anything else is a write PyTorch forbids.
                guard ExecBackend.sameBits(out.data, input.data) else {
                    throw TorchError("BackendError", "\(name): \(op) changed an input that is a leaf requiring grad in place; PyTorch raises \"a leaf Variable that requires grad is being used in an in-place operation.\"")
                }
                return .tensor(input)
            }
            let others = named.filter { $0.0 != "input" }
            input.commitInplace(out.data, name: gradFn, others: others.map(\.1)) { g in
                let grads = try pullback(g)
                let byName = Dictionary(zip(named.map(\.0), grads), uniquingKeysWith: { a, _ in a })
                return [byName["input"] ?? nil] + others.map { byName[$0.0] ?? nil }
            }
            return .tensor(input)
        }

        // Backward flows from the first output (a tuple's others are not differentiable here).
        let first: Tensor?
        switch output {
        case .tensor(let t): first = t
        case .list(let l): first = l.first?.tensor
        default: first = nil
        }
        if let first, first.dtype.isFloatingPoint, !wanted.isEmpty {
            first.recording(gradFn, inputs: named.map(\.1), pullback: pullback)
        }
        return output
    }

    private func backward(_ op: String, _ opText: String, _ argsText: String, forwardID: Int, gradOutput: Tensor,
                          named: [(String, Tensor)], wanted: [String]) throws -> [Tensor?] {
        guard hello.backward else { throw Unsupported("the \(name) backend does not do backward (its hello says \"backward\": false)") }
        let gradText = ExecProtocol.tensor(gradOutput)
        let grads = "[" + wanted.map(ExecProtocol.quote).joined(separator: ",") + "]"
        let (id, answer) = try request(op) { id in
            "{\"type\":\"call\",\"id\":\(id),\"op\":\(opText),\"seed\":\(forwardID),\"forward_id\":\(forwardID),"
                + "\"args\":\(argsText),\"grad_output\":\(gradText),\"grads\":\(grads)}"
        }
        switch answer {
        case .error(let e): throw e
        case .unsupported(let reason): throw Unsupported(reason)
        case .result(let r):
            lock.withLock { timing = (r.forwardMs ?? timing.forwardMs, r.backwardMs) }
            func bad(_ why: String) -> TorchError {
                TorchError("BackendError", "\(name): answer to backward call \(id) (\(op)): \(why)")
            }
            guard let received = r.grads else { throw bad("no \"grads\" in the result") }
            return try named.map { argName, input in
                guard wanted.contains(argName) else { return nil }
                guard let entry = received[argName] else { throw bad("no gradient for '\(argName)' in \"grads\"") }
                guard let g = entry else { return nil }  // null: PyTorch's None
                guard g.shape == input.shape, g.dtype == input.dtype else {
                    throw bad("the gradient of '\(argName)' is \(g.dtype.rawValue)\(shapeString(g.shape)); the input is \(input.dtype.rawValue)\(shapeString(input.shape))")
                }
                return g
            }
        }
    }

    /// Sends one request (built from its id) and reads its answer. Any failure of the process
    /// or the protocol kills it (it is started again for the next request) and is thrown as
    /// `BackendError` with the tail of its stderr.
    private func request(_ op: String, _ build: (Int) -> String) throws -> (Int, ExecProtocol.Answer) {
        lock.lock(); defer { lock.unlock() }
        let id = nextID
        nextID += 1
        let child = try running()
        do {
            let line = try child.exchange(build(id), timeout: timeout)
            let json: JSON
            do { json = try JSON.parse(line) } catch {
                throw ExecChild.Failure.violation("the answer is not a JSON line (\(error)): \(ExecChild.preview(line))")
            }
            do { return (id, try ExecProtocol.parseAnswer(json, id: id)) } catch let v as ExecProtocol.Violation {
                throw ExecChild.Failure.violation(v.description)
            }
        } catch let f as ExecChild.Failure {
            child.kill()
            lastStderr = child.stderrTail
            self.child = nil
            throw TorchError("BackendError", "\(name): call \(id) (\(op)): \(f.description); the process was stopped and will be started again for the next call"
                             + ExecChild.stderrSection(child.stderrTail))
        }
    }

    /// The running process, started again if the last one failed.
    private func running() throws -> ExecChild {
        if let child { return child }
        if failedStarts >= ExecBackend.maxFailedStarts, let e = lastStartError {
            throw TorchError("BackendError", "\(name): not started again after \(failedStarts) failed starts; the last: \(e.message)")
        }
        do {
            let (c, h) = try ExecChild.launch(command, timeout: startupTimeout)
            guard h.name == hello.name else {
                c.finish()
                throw TorchError("BackendError", "after a restart the backend calls itself '\(h.name)', not '\(hello.name)'")
            }
            child = c
            restartCount += 1
            failedStarts = 0
            return c
        } catch let e as TorchError {
            failedStarts += 1
            lastStartError = e
            throw e
        }
    }

    // MARK: helpers

    private static let ignoreSIGPIPE: Void = {
        // A backend that dies while we write its stdin must not kill the harness with SIGPIPE;
        // the write fails with EPIPE instead, and the call reports the crash.
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    /// Whether two tensors' elements are bit for bit the same (NaN equals NaN).
    static func sameBits(_ a: TensorData, _ b: TensorData) -> Bool {
        switch (a, b) {
        case (.float32(let x), .float32(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
        case (.float64(let x), .float64(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
        default: return a == b
        }
    }

    static func tensors(in values: [Value]) -> [Tensor] {
        values.flatMap { v -> [Tensor] in
            switch v {
            case .tensor(let t): return [t]
            case .list(let l): return tensors(in: l)
            default: return []
            }
        }
    }

    static func display(_ command: [String]) -> String {
        command.map { w in
            w.isEmpty || w.contains(where: { " \t\n'\"\\$`".contains($0) }) ? "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'" : w
        }.joined(separator: " ")
    }

    /// Splits a command line into words as a POSIX shell does, without any expansion:
    /// whitespace separates words; '...' is literal; "..." allows \" \\ \$ \`; \x outside
    /// quotes is x. `python3 "my backend.py" --fast` → ["python3", "my backend.py", "--fast"].
    public static func words(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            switch c {
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                guard let end = chars.firstIndex(of: "'") else { throw TorchError("ValueError", "unterminated ' in command: \(line)") }
                current += String(chars[..<end])
                chars = chars[(end + 1)...]
            case "\"":
                inWord = true
                var closed = false
                while let d = chars.popFirst() {
                    if d == "\"" { closed = true; break }
                    if d == "\\", let e = chars.first, "\"\\$`".contains(e) {
                        current.append(chars.removeFirst())
                    } else { current.append(d) }
                }
                guard closed else { throw TorchError("ValueError", "unterminated \" in command: \(line)") }
            case "\\":
                inWord = true
                if let e = chars.popFirst(), e != "\n" { current.append(e) }
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        guard !words.isEmpty else { throw TorchError("ValueError", "empty command") }
        return words
    }
}
