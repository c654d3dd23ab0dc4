import COpenBLAS
import Foundation

/// What a run ran on, for report headers: timings mean little without it.
public struct MachineInfo: Codable, Equatable {
    public var cpu: String
    public var cores: Int
    /// The widest x86 vector extension the CPU reports (`avx512f`, `avx2`, ...).
    public var simd: String
    public var os: String
    /// OpenBLAS's own description, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
    public var openblas: String
    public var openblasCore: String
    public var openblasThreads: Int
    public var gitCommit: String?

    enum CodingKeys: String, CodingKey {
        case cpu, cores, simd, os, openblas
        case openblasCore = "openblas_core", openblasThreads = "openblas_threads", gitCommit = "git_commit"
    }

    public static func current() -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String? {
            cpuinfo.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        let simd = ["avx512f", "avx2", "avx", "sse4_2"].first(where: flags.contains) ?? "baseline"
        let os = ((try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? "")
            .split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { $0.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
        return MachineInfo(
            cpu: field("model name") ?? "unknown", cores: ProcessInfo.processInfo.activeProcessorCount, simd: simd, os: os,
            openblas: String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces),
            openblasCore: String(cString: openblas_get_corename()), openblasThreads: Int(openblas_get_num_threads()),
            gitCommit: gitCommit())
    }

    static func gitCommit() -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["rev-parse", "--short", "HEAD"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        let s = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return p.terminationStatus == 0 && !s.isEmpty ? s : nil
    }
}
