import Foundation

/// The plain-text summary `conformance run` prints: a table by op and backend, totals, and a
/// reproduction command for every case that did not pass.
public enum Terminal {
    public static func summary(_ report: Report, fixtureArgs: [String]) -> String {
        var lines: [String] = []
        // The mistrusted column appears only when some case is mistrusted.
        let anyMistrusted = report.cases.contains { $0.status == .mistrusted }
        var header = ["op", "backend", "cases", "pass", "fail", "error", "unsup", "invalid", "max ulp", "tol use", "fwd ms", "bwd ms"]
        if anyMistrusted { header.insert("mistr", at: 8) }
        var rows: [[String]] = []
        let groups = Dictionary(grouping: report.cases) { "\($0.op)\u{0}\($0.backend)" }
        for key in groups.keys.sorted() {
            let cases = groups[key]!
            var counts = Counts()
            cases.forEach { counts[$0.status] += 1 }
            func worst(_ f: (CaseResult) -> Double?) -> String {
                cases.compactMap(f).max().map { format($0) } ?? "-"
            }
            func median(_ f: (CaseResult) -> Double?) -> String {
                let v = cases.compactMap(f).sorted()
                return v.isEmpty ? "-" : format(v[v.count / 2])
            }
            var row = [cases[0].op, cases[0].backend, "\(counts.total)", "\(counts.pass)", "\(counts.fail)", "\(counts.error)",
                       "\(counts.unsupported)", "\(counts.invalid)", worst { $0.maxULP }, worst { $0.toleranceUse },
                       median { $0.forwardMs }, median { $0.backwardMs }]
            if anyMistrusted { row.insert("\(counts.mistrusted)", at: 8) }
            rows.append(row)
        }
        lines += table([header] + rows)
        lines.append("")
        for (backend, c) in report.summary.sorted(by: { $0.key < $1.key }) {
            lines.append("\(backend): \(c.total) cases: \(c.pass) pass, \(c.fail) fail, \(c.error) error, \(c.unsupported) unsupported, \(c.invalid) invalid"
                         + (c.mistrusted > 0 ? ", \(c.mistrusted) mistrusted" : ""))
        }
        let checked = report.cases.compactMap { c in c.gradcheck.map { (c.id, $0) } }
        if !checked.isEmpty {
            let count = { (s: String) in checked.filter { $0.1.status == s }.count }
            lines.append("gradcheck (reference backward vs float64 finite differences): \(count("pass")) pass, \(count("fail")) fail, \(count("skipped")) skipped")
            for (id, g) in checked where g.status == "fail" { lines.append("  gradcheck FAIL \(id): \(g.message ?? "")") }
        }
        let bad = report.cases.filter { $0.status != .pass && $0.status != .unsupported }
        if !bad.isEmpty {
            lines.append("")
            lines.append("Not passing:")
            let fixtures = fixtureArgs.map(shellQuote).joined(separator: " ")
            for c in bad {
                lines.append("  \(c.status.rawValue.uppercased()) \(c.id) [\(c.backend)]: \(c.message ?? "")")
                if c.status != .invalid {
                    let pattern = "^" + regexEscape(c.id) + "$"
                    lines.append("    repro: conformance run \(fixtures) --backend \(c.backend) --filter \(shellQuote(pattern))")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Columns padded to their widest cell; the first two left-aligned, numbers right-aligned.
    static func table(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        let widths = first.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i < 2 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
    }

    static func format(_ x: Double) -> String {
        if x.isInfinite { return "inf" }
        if x == 0 { return "0" }
        if x >= 1000 || x == x.rounded() { return String(format: "%.0f", x) }
        return x >= 0.01 ? String(format: "%.3g", x) : String(format: "%.2e", x)
    }

    /// Escapes the characters a regular expression treats specially.
    static func regexEscape(_ s: String) -> String {
        String(s.flatMap { #"\.^$|?*+()[]{}"#.contains($0) ? ["\\", $0] : [$0] })
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "/._-".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
