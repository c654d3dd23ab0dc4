import Foundation

/// A GitHub/GitLab-flavoured Markdown summary for a pull-request comment (docs/reports.md,
/// "Markdown"): totals per backend (with deltas against a baseline), regressions, the cases that
/// do not pass (the first `limit`), the slowest ops. Text from fixtures is escaped; the same
/// inputs give byte-identical output.
public enum MarkdownReport {
    /// A marker on the first line, so a CI step can find and update its earlier comment.
    public static let marker = "<!-- nnconf-report -->"

    public static func render(_ report: Report, baseline: Report? = nil, limit: Int = 50, slowest: Int = 10) -> String {
        var out: [String] = [marker]
        let notPassing = report.cases.filter { $0.status != .pass }.sorted(by: caseOrder)
        let regressions = baseline.map { regressionsOf(report, since: $0) } ?? []
        let verdict: String
        if report.ok && regressions.isEmpty {
            let mistrusted = notPassing.filter { $0.status == .mistrusted }.count
            let unsupported = notPassing.count - mistrusted
            verdict = notPassing.isEmpty ? "all \(report.cases.count) pass"
                : "no failures (" + [unsupported > 0 ? "\(unsupported) unsupported" : nil, mistrusted > 0 ? "\(mistrusted) mistrusted" : nil]
                    .compactMap { $0 }.joined(separator: ", ") + ")"
        } else {
            let bad = report.cases.filter { $0.status == .fail || $0.status == .error || $0.status == .invalid }.count
            verdict = "\(bad) not passing" + (regressions.isEmpty ? "" : ", \(regressions.count) regression\(regressions.count == 1 ? "" : "s")")
        }
        out.append("## nnconf conformance: \(verdict)")
        out.append("")
        out.append(header(report, baseline: baseline))
        out.append("")
        out += totals(report, baseline: baseline)

        if let baseline {
            out.append("")
            out.append("### Regressions (\(regressions.count))")
            out.append("")
            let new = Set(report.cases.map(key)).subtracting(baseline.cases.map(key)).count
            let baseFailing = Set(baseline.cases.filter { $0.status != .pass }.map(key))
            let fixed = report.cases.filter { $0.status == .pass && baseFailing.contains(key($0)) }.count
            out.append("Cases that passed in the baseline and do not now. \(new) new case\(new == 1 ? "" : "s") since the baseline; \(fixed) fixed.")
            if !regressions.isEmpty {
                out.append("")
                out.append("| case | backend | now | message |")
                out.append("| --- | --- | --- | --- |")
                for (id, backend, status, message) in regressions.prefix(limit) {
                    out.append("| \(code(id)) | \(code(backend)) | \(status) | \(text(message)) |")
                }
                if regressions.count > limit { out.append(""); out.append("… and \(regressions.count - limit) more.") }
            }
        }

        out.append("")
        out.append("### Not passing (\(notPassing.count))")
        out.append("")
        if notPassing.isEmpty {
            out.append("Every case passes.")
        } else {
            out.append("| status | case | backend | message |")
            out.append("| --- | --- | --- | --- |")
            for c in notPassing.prefix(limit) {
                out.append("| \(c.status.rawValue) | \(code(c.id)) | \(code(c.backend)) | \(text(c.message ?? "")) |")
            }
            if notPassing.count > limit {
                out.append("")
                out.append("… and \(notPassing.count - limit) more (the JSON and JUnit reports list them all).")
            }
        }
        out.append("")
        out += slowestOps(report, baseline: baseline, count: slowest)
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: sections

    static func header(_ r: Report, baseline: Report?) -> String {
        let m = r.machine
        var parts = ["\(r.created)", "\(text(m.cpu)), \(m.cores) cores, \(m.simd)", text(m.os),
                     "OpenBLAS \(text(m.openblasCore)) × \(m.openblasThreads)"]
        if let g = m.gitCommit { parts.append("commit \(code(g))") }
        if let c = r.calibrationMs { parts.append("calibration \(num(c)) ms") }
        if let s = r.shard { parts.append("shard \(text(s))") }
        if let b = baseline {
            parts.append("baseline " + (b.machine.gitCommit.map { "commit \(code($0)), " } ?? "") + b.created)
        }
        return parts.joined(separator: " · ")
    }

    static func totals(_ r: Report, baseline: Report?) -> [String] {
        let current = counts(r), base = baseline.map(counts)
        var names = r.backends.map(\.name)
        names += current.keys.filter { !names.contains($0) }.sorted()
        if let base { names += Set(base.keys).subtracting(names).sorted() }
        // A mistrusted column only when some case is (or was) mistrusted.
        let mistrust = (Array(current.values) + Array((base ?? [:]).values)).contains { $0.mistrusted > 0 }
        var lines = ["| backend | cases | pass | fail | error | unsupported | invalid |" + (mistrust ? " mistrusted |" : ""),
                     "| --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (mistrust ? " ---: |" : "")]
        for name in names {
            let now = current[name], before = base?[name]
            func cell(_ f: (Counts) -> Int) -> String {
                guard let now else { return "–" }
                let v = f(now)
                guard let before, baseline != nil else { return "\(v)" }
                let d = v - f(before)
                return d == 0 ? "\(v)" : "\(v) (\(d > 0 ? "+" : "−")\(abs(d)))"
            }
            var row = "| \(code(name))"
            if now == nil { row += " (not in this run)" } else if baseline != nil && before == nil { row += " (new)" }
            let cells = [cell(\.total), cell(\.pass), cell(\.fail), cell(\.error), cell(\.unsupported), cell(\.invalid)]
                + (mistrust ? [cell(\.mistrusted)] : [])
            row += " | " + cells.joined(separator: " | ") + " |"
            lines.append(row)
        }
        return lines
    }

    /// Counts per backend from the cases themselves (every declared backend, even without cases).
    static func counts(_ r: Report) -> [String: Counts] {
        var d = Dictionary(r.backends.map { ($0.name, Counts()) }, uniquingKeysWith: { a, _ in a })
        for c in r.cases { d[c.backend, default: Counts()][c.status] += 1 }
        return d
    }

    /// `(id, backend, now, message)` for each case that passed in `baseline` and does not in `r`.
    static func regressionsOf(_ r: Report, since baseline: Report) -> [(String, String, String, String)] {
        var now: [String: CaseResult] = [:]
        for c in r.cases { now[key(c)] = now[key(c)] ?? c }
        return baseline.cases.filter { $0.status == .pass }.sorted(by: caseOrder).compactMap { b in
            guard let c = now[key(b)] else { return (b.id, b.backend, "missing", "not in this run") }
            return c.status == .pass ? nil : (c.id, c.backend, c.status.rawValue, c.message ?? "")
        }
    }

    /// Ops by median forward time over their cases, divided by the calibration kernel's time
    /// when the report has it (then the baseline's figure, likewise divided, beside it).
    static func slowestOps(_ r: Report, baseline: Report?, count: Int) -> [String] {
        let cal = r.calibrationMs.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        let baseCal = baseline?.calibrationMs.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        func medians(_ rep: Report) -> [String: (op: String, backend: String, n: Int, ms: Double)] {
            var d: [String: (String, String, [Double])] = [:]
            for c in rep.cases {
                guard let ms = c.forwardMs, ms.isFinite, ms >= 0 else { continue }
                d["\(c.op)\u{0}\(c.backend)", default: (c.op, c.backend, [])].2.append(ms)
            }
            return d.mapValues { ($0.0, $0.1, $0.2.count, Gate.median($0.2)) }
        }
        let current = medians(r)
        guard !current.isEmpty else { return ["### Slowest ops", "", "No forward times in this report."] }
        let norm = { (ms: Double) in cal.map { ms / $0 } ?? ms }
        let ranked = current.sorted { a, b in
            norm(a.value.ms) != norm(b.value.ms) ? norm(a.value.ms) > norm(b.value.ms) : a.key < b.key
        }
        let base = baseline.map(medians)
        let compare = base != nil && (cal == nil) == (baseCal == nil)
        var lines = ["### Slowest ops", ""]
        if let cal {
            lines.append("Median forward time over each op's cases, and that time divided by the calibration kernel's (\(num(cal)) ms in this run), which compares across machines.")
        } else {
            lines.append("Median forward time over each op's cases (no calibration in this report, so raw milliseconds).")
        }
        lines.append("")
        var head = "| op | backend | cases | median forward ms |"
        var rule = "| --- | --- | ---: | ---: |"
        if cal != nil { head += " ÷ calibration |"; rule += " ---: |" }
        if compare { head += " baseline | change |"; rule += " ---: | ---: |" }
        lines += [head, rule]
        for (k, v) in ranked.prefix(count) {
            var row = "| \(code(v.op)) | \(code(v.backend)) | \(v.n) | \(num(v.ms)) |"
            if let cal { row += " \(num(v.ms / cal)) |" }
            if compare {
                if let b = base?[k] {
                    let bn = baseCal.map { b.ms / $0 } ?? b.ms, cn = norm(v.ms)
                    row += " \(num(bn)) | \(bn > 0 ? num(cn / bn) + "×" : "–") |"
                } else {
                    row += " – | new |"
                }
            }
            lines.append(row)
        }
        if ranked.count > count { lines += ["", "\(ranked.count - count) more ops not shown."] }
        return lines
    }

    // MARK: helpers

    static func key(_ c: CaseResult) -> String { c.id + "\u{0}" + c.backend }

    static func caseOrder(_ a: CaseResult, _ b: CaseResult) -> Bool { (a.id, a.backend) < (b.id, b.backend) }

    static func num(_ x: Double) -> String { String(format: "%.3g", x) }

    /// Plain text for a table cell: one line, at most 200 characters, control characters shown
    /// as `\u{XX}`, and every character Markdown or HTML could act on backslash-escaped.
    static func text(_ s: String, max: Int = 200) -> String {
        var t = visible(s)
        if t.count > max { t = String(t.prefix(max)) + "…" }
        var out = ""
        for ch in t {
            if "\\`*_{}[]<>()#+!|~&@:-".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// A code span that holds any text: a fence longer than the text's longest run of
    /// backticks, `|` escaped for tables, one line.
    static func code(_ s: String) -> String {
        var t = visible(s).replacingOccurrences(of: "|", with: "\\|")
        var longest = 0, run = 0
        for ch in t { run = ch == "`" ? run + 1 : 0; longest = max(longest, run) }
        if t.hasPrefix("`") || t.hasSuffix("`") || t.isEmpty { t = " " + t + " " }
        let fence = String(repeating: "`", count: longest + 1)
        return fence + t + fence
    }

    /// One line: newlines and tabs as spaces, other control characters as `\u{XX}`.
    static func visible(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x9, 0xA, 0xD: out += " "
            case 0..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029, 0xFFFE, 0xFFFF:
                out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
