import Foundation

/// The table of a bench run, alone or against PyTorch's run of the same suite, as aligned text
/// (terminal) or Markdown (docs/performance.md).
///
/// - speed vs PyTorch of a phase: `t_torch / t_ours` (above 1: we are faster); summarized by the
///   geometric mean over the cases both ran;
/// - % sgemm: a case's GFLOP/s over the sgemm rate (2048³ `linear`) of the same backend and run,
///   measured just before the case where the run has that (`BenchResult.sgemmGflops`);
/// - GB/s: the least bytes the phase must move (`ByteCount`) over its time;
/// - × reference: `t_reference / t_ours`, on the cases the reference was timed on.
public struct BenchTable: Equatable {
    public var headers: [String]
    public var rows: [[String]]
    public var summary: BenchSummary

    public init(_ run: BenchRun, torch: BenchRun? = nil) {
        let ours = run.primaryBackend
        let theirs = torch?.primaryBackend
        let names = run.results.filter { $0.backend == ours }.map(\.name)
        let sgemm = ours.flatMap { run.sgemmGflops[$0] }
        var summary = BenchSummary(sgemmGflops: sgemm, torchSgemmGflops: theirs.flatMap { torch?.sgemmGflops[$0] })
        headers = ["case", "fwd ms"] + (torch != nil ? ["torch fwd ms", "fwd speed"] : [])
            + ["bwd ms"] + (torch != nil ? ["torch bwd ms", "bwd speed"] : [])
            + ["GFLOP/s fwd/bwd", "% sgemm fwd/bwd", "GB/s fwd/bwd", "× reference fwd/bwd"]
        rows = names.map { name in
            let r = run.result(name, backend: ours)!
            let t = torch?.result(name, backend: theirs)
            let ref = ours == "reference" ? nil : run.result(name, backend: "reference")
            let fwdSpeed = Self.ratio(t?.forwardMs, r.forwardMs), bwdSpeed = Self.ratio(t?.backwardMs, r.backwardMs)
            if let s = fwdSpeed { summary.forwardSpeeds.append((name, s)) }
            if let s = bwdSpeed { summary.backwardSpeeds.append((name, s)) }
            let rate = r.sgemmGflops ?? sgemm
            let pct = (Self.ratio(r.forwardGflops, rate), Self.ratio(r.backwardGflops, rate))
            if r.gemmBound { summary.gemmBoundShare.append((name, pct.0, pct.1)) }
            let refSpeed = (Self.ratio(ref?.forwardMs, r.forwardMs), Self.ratio(ref?.backwardMs, r.backwardMs))
            if ref != nil { summary.referenceSpeedups.append((name, refSpeed.0, refSpeed.1)) }
            var row = [name + (r.gemmBound ? " (gemm)" : ""), Self.ms(r.forwardMs)]
            if torch != nil { row += [Self.ms(t?.forwardMs), Self.times(fwdSpeed)] }
            row.append(r.error.map { _ in Self.ms(r.backwardMs) + " !" } ?? Self.ms(r.backwardMs))
            if torch != nil { row += [Self.ms(t?.backwardMs), Self.times(bwdSpeed)] }
            row.append(Self.pair(r.forwardGflops, r.backwardGflops, Self.ms))
            row.append(r.forwardGflops == nil ? "" : Self.pair(pct.0, pct.1) { $0.map { String(format: "%.0f%%", $0 * 100) } ?? "–" })
            row.append(Self.pair(r.forwardGBps, r.backwardGBps) { $0.map { String(format: "%.0f", $0) } ?? "–" })
            row.append(ref == nil ? "" : Self.pair(refSpeed.0, refSpeed.1) { $0.map { String(format: "%.0f×", $0) } ?? "–" })
            return row
        }
        self.summary = summary
    }

    static func ratio(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b, a > 0, b > 0 else { return nil }
        return a / b
    }

    /// Three significant digits, no exponent.
    static func ms(_ x: Double?) -> String {
        guard let x else { return "–" }
        switch abs(x) {
        case 100...: return String(format: "%.0f", x)
        case 10...: return String(format: "%.1f", x)
        case 1...: return String(format: "%.2f", x)
        default: return String(format: "%.3f", x)
        }
    }

    static func times(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "–" }

    static func pair(_ a: Double?, _ b: Double?, _ f: (Double?) -> String) -> String {
        a == nil && b == nil ? "" : f(a) + " / " + f(b)
    }

    /// Columns padded to their widest cell, numbers right-aligned.
    public func text() -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        return ([line(headers), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line))
            .joined(separator: "\n") + "\n\n" + summary.lines().joined(separator: "\n") + "\n"
    }

    public func markdown() -> String {
        let head = "| " + headers.joined(separator: " | ") + " |\n|" + headers.indices.map { $0 == 0 ? ":---|" : "---:|" }.joined()
        let body = rows.map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n")
        return head + "\n" + body + "\n\n" + summary.lines().map { "- " + $0 }.joined(separator: "\n") + "\n"
    }
}

/// What the targets are judged on.
public struct BenchSummary: Equatable {
    public var sgemmGflops: Double?
    public var torchSgemmGflops: Double?
    public var forwardSpeeds: [(String, Double)] = []
    public var backwardSpeeds: [(String, Double)] = []
    public var gemmBoundShare: [(String, Double?, Double?)] = []
    public var referenceSpeedups: [(String, Double?, Double?)] = []

    public var forwardGeomean: Double? { Bench.geometricMean(forwardSpeeds.map(\.1)) }
    public var backwardGeomean: Double? { Bench.geometricMean(backwardSpeeds.map(\.1)) }

    /// Phases slower than half PyTorch's speed.
    public var belowHalf: [String] {
        forwardSpeeds.filter { $0.1 < 0.5 }.map { "\($0.0) fwd \(BenchTable.times($0.1))" }
            + backwardSpeeds.filter { $0.1 < 0.5 }.map { "\($0.0) bwd \(BenchTable.times($0.1))" }
    }

    public static func == (a: BenchSummary, b: BenchSummary) -> Bool { a.lines() == b.lines() }

    public func lines() -> [String] {
        var out: [String] = []
        if let s = sgemmGflops {
            out.append(String(format: "sgemm 2048³ (linear): %.0f GFLOP/s", s)
                + (torchSgemmGflops.map { String(format: "; PyTorch %.0f GFLOP/s", $0) } ?? ""))
        }
        if let f = forwardGeomean, let b = backwardGeomean {
            out.append(String(format: "geometric mean speed vs PyTorch: forward %.2f (target ≥ 1.0), backward %.2f (target ≥ 0.8)", f, b))
            let below = belowHalf
            out.append("below 0.5× PyTorch: " + (below.isEmpty ? "none" : below.joined(separator: ", ")))
        }
        if !gemmBoundShare.isEmpty {
            let pct = { (x: Double?) in x.map { String(format: "%.0f%%", $0 * 100) } ?? "–" }
            out.append("GEMM-bound convolutions, share of the sgemm rate (target ≥ 70%): "
                + gemmBoundShare.map { "\($0.0) \(pct($0.1)) fwd / \(pct($0.2)) bwd" }.joined(separator: ", "))
        }
        let speedups = referenceSpeedups.flatMap { [$0.1, $0.2] }.compactMap { $0 }
        if let lo = speedups.min() {
            out.append(String(format: "speed-up over the reference backend (target ≥ 50×): lowest %.0f×, geometric mean %.0f×",
                              lo, Bench.geometricMean(speedups) ?? 0))
        }
        return out
    }
}
