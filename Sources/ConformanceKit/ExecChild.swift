import Foundation
import NNCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One running backend process: its pipes, the bytes it wrote, and the request/answer loop.
final class ExecChild {
    let process: Process
    let command: [String]
    private let pipes: (stdin: Pipe, stdout: Pipe, stderr: Pipe)
    private var inFD: Int32
    private var outFD: Int32
    private var errFD: Int32
    /// Bytes read from stdout that are not yet a whole line, and how far they were scanned.
    private var pending: [UInt8] = []
    private var scanned = 0
    /// The last `stderrLimit` bytes written to stderr.
    private(set) var stderrTail: [UInt8] = []
    static let stderrLimit = 1 << 16

    enum Failure: Error, CustomStringConvertible {
        case timeout(Double)
        case exited(String)
        case violation(String)

        var description: String {
            switch self {
            case .timeout(let s): return "no answer within \(s) s (hung?)"
            case .exited(let how): return how
            case .violation(let why): return "protocol violation: " + why
            }
        }
    }

    init(_ command: [String]) throws {
        self.command = command
        process = Process()
        process.executableURL = try ExecChild.executable(command[0])
        process.arguments = Array(command.dropFirst())
        pipes = (Pipe(), Pipe(), Pipe())
        for p in [pipes.stdin, pipes.stdout, pipes.stderr] {
            // Our ends must not leak into other children (another backend would then never see EOF).
            _ = fcntl(p.fileHandleForReading.fileDescriptor, F_SETFD, FD_CLOEXEC)
            _ = fcntl(p.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
        }
        process.standardInput = pipes.stdin
        process.standardOutput = pipes.stdout
        process.standardError = pipes.stderr
        inFD = pipes.stdin.fileHandleForWriting.fileDescriptor
        outFD = pipes.stdout.fileHandleForReading.fileDescriptor
        errFD = pipes.stderr.fileHandleForReading.fileDescriptor
        do { try process.run() } catch {
            throw TorchError("BackendError", "cannot start \(ExecBackend.display(command)): \(error)")
        }
        // Writes must not block on a backend that stopped reading: the deadline is enforced by poll.
        _ = fcntl(inFD, F_SETFL, fcntl(inFD, F_GETFL) | O_NONBLOCK)
    }

    static func executable(_ name: String) throws -> URL {
        if name.contains("/") { return URL(fileURLWithPath: name) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 {
            return URL(fileURLWithPath: "\(dir)/\(name)")
        }
        throw TorchError("BackendError", "cannot start \(name): not found in PATH")
    }

    /// Starts `command` and exchanges `hello`.
    static func launch(_ command: [String], timeout: Double) throws -> (ExecChild, ExecProtocol.Hello) {
        let child = try ExecChild(command)
        do {
            let line = try child.exchange(ExecProtocol.hello(ops: Signatures.all.keys.sorted()), timeout: timeout)
            guard let json = try? JSON.parse(line) else {
                throw Failure.violation("the first line is not JSON (is something printing to stdout?): \(preview(line))")
            }
            do { return (child, try ExecProtocol.parseHello(json)) } catch let v as ExecProtocol.Violation {
                throw Failure.violation(v.description)
            }
        } catch let f as Failure {
            child.kill()
            throw TorchError("BackendError", "\(ExecBackend.display(command)): hello failed: \(f.description)" + stderrSection(child.stderrTail))
        }
    }

    /// Writes `request` and a newline, then reads one answer line (without its newline), while
    /// collecting stderr; within `timeout` seconds.
    func exchange(_ request: String, timeout: Double) throws -> [UInt8] {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(timeout, 0) * 1e9)
        var out = Array(request.utf8)
        out.append(UInt8(ascii: "\n"))
        var written = 0
        while true {
            if written == out.count, let line = takeLine() { return line }
            var fds: [pollfd] = []
            if written < out.count { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
            fds.append(pollfd(fd: outFD, events: Int16(POLLIN), revents: 0))
            if errFD >= 0 { fds.append(pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)) }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { throw Failure.timeout(timeout) }
            let ms = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            let n = poll(&fds, nfds_t(fds.count), ms)
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure.violation("poll failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { continue }  // the deadline check above decides
            for p in fds where p.revents != 0 {
                if p.fd == inFD {
                    let k = out.withUnsafeBytes { write(inFD, $0.baseAddress! + written, $0.count - written) }
                    if k > 0 { written += k } else if k < 0 && errno != EAGAIN && errno != EINTR {
                        throw Failure.exited(exitDescription(prefix: "the process stopped reading its stdin (\(String(cString: strerror(errno))))"))
                    }
                } else if p.fd == outFD {
                    if try readStdout() == 0 {
                        throw Failure.exited(exitDescription(prefix: "the process closed its stdout"))
                    }
                } else if p.fd == errFD {
                    readStderr()
                }
            }
        }
    }

    /// Reads what stdout has; returns the byte count (0 at end of file).
    private func readStdout() throws -> Int {
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        let k = buf.withUnsafeMutableBytes { read(outFD, $0.baseAddress!, $0.count) }
        if k < 0 {
            if errno == EINTR || errno == EAGAIN { return -1 }
            throw Failure.exited(exitDescription(prefix: "reading its stdout failed (\(String(cString: strerror(errno))))"))
        }
        pending.append(contentsOf: buf[..<k])
        return k
    }

    private func readStderr() {
        guard errFD >= 0 else { return }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        let k = buf.withUnsafeMutableBytes { read(errFD, $0.baseAddress!, $0.count) }
        if k > 0 {
            stderrTail.append(contentsOf: buf[..<k])
            if stderrTail.count > ExecChild.stderrLimit { stderrTail.removeFirst(stderrTail.count - ExecChild.stderrLimit) }
        } else if k == 0 || (errno != EINTR && errno != EAGAIN) {
            errFD = -1  // closed; the FileHandle closes the descriptor
        }
    }

    private func takeLine() -> [UInt8]? {
        guard let nl = pending[scanned...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = pending.count
            return nil
        }
        var line = Array(pending[..<nl])
        pending.removeFirst(nl + 1)
        scanned = 0
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    /// After stdout closed: collects the rest of stderr and the exit status (waiting up to 2 s).
    private func exitDescription(prefix: String) -> String {
        let until = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
        while DispatchTime.now().uptimeNanoseconds < until {
            if errFD >= 0 {
                var p = pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 50) > 0 { readStderr(); continue }
            }
            if !process.isRunning { break }
            if errFD < 0 { usleep(10_000) }
        }
        guard !process.isRunning else { return prefix + " (still running)" }
        let status = process.terminationStatus
        switch process.terminationReason {
        case .uncaughtSignal:
            let sig = String(cString: strsignal(status))
            return prefix + "; it was killed by signal \(status) (\(sig))"
        default:
            return prefix + "; it exited with status \(status)"
        }
    }

    /// Kills the process (SIGKILL) and closes our pipe ends.
    func kill() {
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        // Collect anything left in stderr (the pipe may stay open if the process had children).
        if errFD >= 0 {
            var p = pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)
            for _ in 0..<64 where errFD >= 0 && poll(&p, 1, 0) > 0 { readStderr() }
        }
        closePipes()
    }

    /// The polite end: `bye`, close stdin, wait up to 2 s for the exit, then kill.
    func finish() {
        var bye = Array((ExecProtocol.bye + "\n").utf8)
        _ = bye.withUnsafeMutableBytes { write(inFD, $0.baseAddress!, $0.count) }
        try? pipes.stdin.fileHandleForWriting.close()
        let until = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
        while process.isRunning && DispatchTime.now().uptimeNanoseconds < until {
            if errFD >= 0 {
                var p = pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 10) > 0 { readStderr() }
            } else { usleep(10_000) }
        }
        kill()
    }

    private func closePipes() {
        try? pipes.stdin.fileHandleForWriting.close()
        try? pipes.stdout.fileHandleForReading.close()
        try? pipes.stderr.fileHandleForReading.close()
        errFD = -1
    }

    static func preview(_ line: [UInt8]) -> String {
        let s = String(decoding: line.prefix(200), as: UTF8.self)
        return (line.isEmpty ? "(an empty line)" : "'" + s + "'") + (line.count > 200 ? "... (\(line.count) bytes)" : "")
    }

    /// The last lines of stderr, for error messages.
    static func stderrSection(_ tail: [UInt8]) -> String {
        let text = String(decoding: tail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "\n(nothing on stderr)" }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(20).joined(separator: "\n")
        if lines.count > 2000 { lines = "..." + lines.suffix(2000) }
        return "\nstderr of the backend (last lines):\n" + lines
    }
}
