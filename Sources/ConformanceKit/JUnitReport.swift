import Foundation

/// JUnit XML for CI test views (Jenkins, GitLab, GitHub actions that read JUnit), validated
/// against the Jenkins xunit-plugin `junit-10.xsd` (docs/reports.md, "JUnit").
///
/// One `<testsuite>` per backend, one `<testcase>` per case on that backend:
/// `classname` is `<backend>.<fixture file, / as .>` (Jenkins builds its package tree from the
/// dots), `name` the case name, `time` the case's median forward + backward in seconds.
/// `fail` → `<failure>`, `error` and `invalid` → `<error>`, `unsupported` and `mistrusted` →
/// `<skipped>` with the reason as its message (mistrusted: the fixture's expected values cannot
/// tell a no-op kernel from a correct one, so the case proves nothing either way: not a pass,
/// and not a failure of the backend, whose fix would be in the fixture); the
/// element's text has the details a reader needs (arguments, errors, first mismatching
/// elements, a command that reruns the case).
///
/// Written by a small writer rather than XMLCoder: the document is flat, attributes and text go
/// through one tested escape function (`JUnitReport.escape`), and the package needs no new
/// dependency. Output is deterministic: the same report gives byte-identical XML.
public enum JUnitReport {
    public static func render(_ report: Report) -> String {
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        let byBackend = Dictionary(grouping: report.cases, by: \.backend)
        // Backends in the report's order, then any that only appear in cases.
        var names = report.backends.map(\.name)
        names += byBackend.keys.filter { !names.contains($0) }.sorted()

        var totals = Counts(), totalTime = 0.0
        var suites: [String] = []
        for name in names {
            let cases = (byBackend[name] ?? []).sorted { ($0.id, $0.op) < ($1.id, $1.op) }
            var counts = Counts()
            cases.forEach { counts[$0.status] += 1 }
            let time = cases.reduce(0) { $0 + seconds($1) }
            totals.pass += counts.pass; totals.fail += counts.fail; totals.error += counts.error
            totals.unsupported += counts.unsupported; totals.invalid += counts.invalid
            totals.mistrusted += counts.mistrusted
            totalTime += time
            var s = "  <testsuite" + attributes([
                ("name", name), ("tests", "\(counts.total)"), ("failures", "\(counts.fail)"),
                ("errors", "\(counts.error + counts.invalid)"), ("skipped", "\(counts.unsupported + counts.mistrusted)"),
                ("time", decimal(time)), ("timestamp", report.created),
            ]) + ">\n"
            s += "    <properties>\n"
            for (k, v) in properties(report, backend: name) {
                s += "      <property" + attributes([("name", k), ("value", v)]) + "/>\n"
            }
            s += "    </properties>\n"
            for c in cases { s += testcase(c, report: report) }
            s += "  </testsuite>\n"
            suites.append(s)
        }
        // The Jenkins XSD allows no `skipped` attribute on <testsuites>.
        out += "<testsuites" + attributes([
            ("name", "nnconf"), ("tests", "\(totals.total)"), ("failures", "\(totals.fail)"),
            ("errors", "\(totals.error + totals.invalid)"), ("time", decimal(totalTime)),
        ]) + ">\n"
        out += suites.joined()
        out += "</testsuites>\n"
        return out
    }

    // MARK: pieces

    static func testcase(_ c: CaseResult, report: Report) -> String {
        let (file, name) = split(c.id)
        let classname = c.backend + (file.isEmpty ? "" : "." + file.replacingOccurrences(of: "/", with: "."))
        var s = "    <testcase" + attributes([("classname", classname), ("name", name), ("time", decimal(seconds(c)))])
        let firstLine = (c.message ?? c.status.rawValue).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let message = firstLine.count > 300 ? String(firstLine.prefix(300)) + "…" : firstLine
        switch c.status {
        case .pass:
            return s + "/>\n"
        case .fail:
            s += ">\n      <failure" + attributes([("message", message), ("type", "fail")]) + ">"
            s += escape(details(c, report: report), attribute: false) + "</failure>\n"
        case .error, .invalid:
            s += ">\n      <error" + attributes([("message", message), ("type", c.status.rawValue)]) + ">"
            s += escape(details(c, report: report), attribute: false) + "</error>\n"
        case .unsupported, .mistrusted:
            s += ">\n      <skipped" + attributes([("message", message)]) + "/>\n"
        }
        return s + "    </testcase>\n"
    }

    /// The failure text: what was called, why it failed, by how much, how to rerun it.
    static func details(_ c: CaseResult, report: Report) -> String {
        var lines = ["\(c.status.rawValue): \(c.id) [\(c.backend)]", "op: \(c.op)"]
        if let a = c.arguments { lines.append("arguments: \(a)") }
        if let m = c.message { lines.append("message: \(m)") }
        if let t = c.tolerance {
            lines.append("tolerance: rtol=\(num(t.rtol)) atol=\(num(t.atol))" + (c.toleranceSource.map { " (\($0))" } ?? ""))
        }
        if let use = c.toleranceUse {
            lines.append("errors: max_abs_err=\(num(c.maxAbsErr)) max_rel_err=\(num(c.maxRelErr)) max_ulp=\(num(c.maxULP)) tolerance_use=\(num(use))")
        }
        for g in c.grads ?? [] where !g.agreement.passed {
            lines.append("grad \(g.name): tolerance_use=\(num(g.agreement.toleranceUse)) max_abs_err=\(num(g.agreement.maxAbsErr)): \(g.agreement.mismatch ?? "")")
        }
        if let ms = c.mismatches, !ms.isEmpty {
            lines.append("first mismatching elements (index: actual, expected, allowed |diff|):")
            for m in ms { lines.append("  \(m.index): \(num(m.actual)), \(num(m.expected)), \(num(m.allowed))") }
        }
        if c.status != .invalid {
            let fixtures = (report.fixtures.isEmpty ? ["Fixtures"] : report.fixtures).map(Terminal.shellQuote).joined(separator: " ")
            let pattern = "^" + Terminal.regexEscape(c.id) + "$"
            lines.append("repro: conformance run \(fixtures) --backend \(c.backend) --filter \(Terminal.shellQuote(pattern))")
        }
        return lines.joined(separator: "\n")
    }

    static func properties(_ report: Report, backend: String) -> [(String, String)] {
        var p: [(String, String)] = [("format", report.format)]
        if let d = report.backends.first(where: { $0.name == backend })?.details { p.append(("backend.details", d)) }
        let m = report.machine
        p += [("machine.cpu", m.cpu), ("machine.cores", "\(m.cores)"), ("machine.simd", m.simd), ("machine.os", m.os),
              ("machine.openblas", m.openblas), ("machine.openblas_core", m.openblasCore),
              ("machine.openblas_threads", "\(m.openblasThreads)")]
        if let g = m.gitCommit { p.append(("machine.git_commit", g)) }
        if let cal = report.calibrationMs { p.append(("calibration_ms", num(cal))) }
        if let shard = report.shard { p.append(("shard", shard)) }
        p.append(("fixtures", report.fixtures.joined(separator: " ")))
        return p
    }

    /// `(fixture file, case name)` from an id `<file>/<name>`: split at the last `/`. (A case
    /// name that itself holds `/` moves its head into the file part; ids stay unique.)
    static func split(_ id: String) -> (String, String) {
        guard let slash = id.lastIndex(of: "/") else { return ("", id) }
        return (String(id[..<slash]), String(id[id.index(after: slash)...]))
    }

    static func seconds(_ c: CaseResult) -> Double {
        let ms = (c.forwardMs ?? 0) + (c.backwardMs ?? 0)
        return ms.isFinite && ms > 0 ? ms / 1000 : 0
    }

    /// Seconds as the XSD's SUREFIRE_TIME wants them: plain digits, a point, no exponent.
    static func decimal(_ seconds: Double) -> String {
        String(format: "%.6f", seconds.isFinite && seconds > 0 ? seconds : 0)
    }

    static func num(_ x: Double?) -> String {
        guard let x else { return "-" }
        return String(format: "%.6g", x)
    }

    static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(escape($0.1, attribute: true))\"" }.joined()
    }

    // MARK: escaping

    /// Text safe inside an XML 1.0 element (`attribute: false`) or a double-quoted attribute:
    /// `& < > " '` as entities; in attributes also tab, newline and carriage return as character
    /// references so parsers do not normalise them to spaces; a carriage return in text as
    /// `&#13;` for the same reason. Characters XML 1.0 cannot carry at all (C0 controls other
    /// than tab/LF/CR, U+FFFE, U+FFFF) are replaced by a visible `\u{XX}` so a reader still sees
    /// something was there.
    public static func escape(_ s: String, attribute: Bool) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            case "\n": out += attribute ? "&#10;" : "\n"
            case "\t": out += attribute ? "&#9;" : "\t"
            default:
                if isXMLChar(u) {
                    out.unicodeScalars.append(u)
                } else {
                    out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
                }
            }
        }
        return out
    }

    /// XML 1.0's `Char` production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
    static func isXMLChar(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }
}
