import COpenBLAS
import Foundation
import NNCore

/// The optimized ops built on OpenBLAS GEMM: `linear`, `bilinear` (`BLASLinear.swift`),
/// `conv{1,2,3}d` and `conv_transpose{1,2,3}d` (`ConvOps.swift`).
extension Optimized {
    static let blasOps: [String: OpFunction] = linearOps.merging(convolutionOps) { a, _ in a }
}

/// The OpenBLAS the optimized backend runs on.
public enum BLAS {
    /// E.g. `OpenBLAS 0.3.21 SkylakeX, 2 threads`: the version (from `openblas_get_config()`),
    /// the kernel set OpenBLAS picked at load time, and its thread count.
    public static var description: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS"
        let version = config.split(separator: " ").prefix(2).joined(separator: " ")
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        let threads = Int(openblas_get_num_threads())
        return "\(version) \(core), \(threads) thread\(threads == 1 ? "" : "s")"
    }

    /// The AVX-512 flags OpenBLAS's SkylakeX kernels need.
    static let avx512Flags: Set<Substring> = ["avx512f", "avx512bw", "avx512dq", "avx512vl"]

    /// The environment to re-execute this process with so that OpenBLAS uses its AVX-512
    /// (SkylakeX) kernels: `["OPENBLAS_CORETYPE": "SkylakeX"]` when the CPU has AVX-512 (F, BW,
    /// DQ, VL in `/proc/cpuinfo`) and `OPENBLAS_CORETYPE` is unset or names the AVX2 fallback
    /// (`Haswell`, which some images set); nil otherwise, and always when
    /// `NNCONF_KEEP_OPENBLAS_CORETYPE` is set (to keep whatever the environment chose).
    ///
    /// OpenBLAS 0.3.21 does not recognise newer AVX-512 CPUs (AMD Zen 4/5) and falls back to its
    /// Haswell (AVX2) kernels; the variable only takes effect if set before the library loads,
    /// hence a re-exec early in `main`.
    public static func preferredCoreTypeEnvironment() -> [String: String]? {
        let env = ProcessInfo.processInfo.environment
        guard env["NNCONF_KEEP_OPENBLAS_CORETYPE"] == nil, [nil, "Haswell"].contains(env["OPENBLAS_CORETYPE"]) else { return nil }
        guard let flags = cpuFlags() else { return nil }
        return avx512Flags.isSubset(of: flags) ? ["OPENBLAS_CORETYPE": "SkylakeX"] : nil
    }

    /// How long, in 2^n cycles, OpenBLAS's worker threads spin after a call before they sleep:
    /// its default, 2^28 (~70 ms at 4 GHz), has them competing with the Dispatch threads of the
    /// loops that follow a GEMM (on 2 cores, the first convolution after a `linear` ran its two
    /// halves one after the other in 4 of 6 runs). 2^4, the least it takes, costs a wake-up per
    /// call instead, which sgemm 2048³ does not measurably notice.
    static let threadTimeout = "4"

    /// The environment to re-execute this process with, for the OpenBLAS settings that only take
    /// effect when the library loads: `preferredCoreTypeEnvironment()`, and
    /// `OPENBLAS_THREAD_TIMEOUT` (`threadTimeout`) unless it or `GOTO_THREAD_TIMEOUT` is set;
    /// nil when there is nothing to add.
    public static func preferredEnvironment() -> [String: String]? {
        let env = ProcessInfo.processInfo.environment
        var extra = preferredCoreTypeEnvironment() ?? [:]
        if env["OPENBLAS_THREAD_TIMEOUT"] == nil && env["GOTO_THREAD_TIMEOUT"] == nil {
            extra["OPENBLAS_THREAD_TIMEOUT"] = threadTimeout
        }
        return extra.isEmpty ? nil : extra
    }

    /// The first `flags` line of `/proc/cpuinfo`, split into flags. Read line by line: procfs
    /// files report a size of 0, which whole-file readers may take at its word.
    static func cpuFlags() -> Set<Substring>? {
        guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard text.hasPrefix("flags") else { continue }
            return Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" || $0 == "\n" }))
        }
        return nil
    }
}
