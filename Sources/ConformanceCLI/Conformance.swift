import ArgumentParser
import ConformanceKit
import Foundation
import NNCore
import NNModules
import NNOptimized
import NNReference

@main
struct Conformance: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Check neural-network ops against PyTorch-generated fixtures (nnconf/1).",
        subcommands: [Run.self, ValidateCommand.self, ReportCommand.self, GateCommand.self, MergeCommand.self, List.self, BenchCommand.self, Agree.self],
        defaultSubcommand: Run.self)

    /// Before anything loads OpenBLAS's kernels, start again with `BLAS.preferredEnvironment()`:
    /// on an AVX-512 CPU that OpenBLAS 0.3.21 would run with its AVX2 kernels,
    /// `OPENBLAS_CORETYPE=SkylakeX` (about 2× sgemm), and a short thread timeout so its idle
    /// workers stop spinning beside ours. The variables must be in the environment when the
    /// library loads, hence the exec.
    static func main() {
        if let extra = BLAS.preferredEnvironment(), ProcessInfo.processInfo.environment["NNCONF_REEXECUTED"] == nil {
            let env = ProcessInfo.processInfo.environment.merging(extra) { $1 }.merging(["NNCONF_REEXECUTED": "1"]) { $1 }
            var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0)=\($1)") }
            envp.append(nil)
            execve("/proc/self/exe", CommandLine.unsafeArgv, envp)  // returns only on failure: carry on
        }
        MallocPolicy.keepLargeBlocks()
        Self.main(nil)
    }
}

/// The backends a run can use: `reference`, `optimized`, `all` (both, compared), or
/// `exec:'CMD ARGS'`, an external process speaking nnconf-exec/1 (docs/external-backends.md).
struct BackendChoice: ExpressibleByArgument {
    let spec: String

    init?(argument: String) {
        guard ["reference", "optimized", "all"].contains(argument) || argument.hasPrefix("exec:") else { return nil }
        spec = argument
    }

    /// How `--help` shows a default: the spec itself (`optimized`), not the struct.
    var defaultValueDescription: String { spec }

    static let reference = BackendChoice(argument: "reference")!

    func backends() throws -> [any Backend] {
        switch spec {
        case "reference": return [Reference.backend]
        case "optimized": return [Optimized.backend]
        case "all": return [Reference.backend, Optimized.backend]
        default:
            do { return [Reference.backend, try ExecBackend(commandLine: String(spec.dropFirst(5)))] } catch {
                throw ValidationError("cannot start the external backend '\(spec.dropFirst(5))': \(error)")
            }
        }
    }
}
