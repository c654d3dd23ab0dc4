import Foundation
import Plot

/// One self-contained HTML page for a `Report` (docs/reports.md, "HTML"): the run's machine and
/// totals, a sortable, filterable table by op and backend, tolerance-use histograms and
/// forward-time bars as inline SVG, and every case that does not pass with its diff and the
/// command that reproduces it. No network: CSS, script and pictures are inline, and the page
/// reads fully without script. The same report always gives the same bytes (no clock, no
/// randomness, sorted order), so `conformance report FILE.json` reproduces a run's page.
///
/// Built with Plot, which escapes text; attribute values, which Plot writes as given, go
/// through `H.attr`. Everything taken from the report is escaped.
public enum HTMLReport {
    /// Cases that do not pass shown in full (arguments, diff, repro); any more are listed one
    /// line each, which keeps the page small when a backend fails wholesale.
    public static let detailLimit = 300
    /// Ops in the always-visible timing chart; the chart of all ops sits in a closed `<details>`.
    public static let timingTop = 30

    public static func render(_ report: Report) -> String {
        let page = HTMLPage(report)
        let title = "nnconf conformance report, \(report.created)"
        let doc = HTML(
            .lang(.english),
            .head(
                .meta(.charset(.utf8)),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .element(named: "title", nodes: [H.text(title)]),
                .style(HTMLAssets.css)),
            .body(.group(page.body())))
        return doc.render() + "\n"
    }
}

/// The numbers of one op on one backend, as the op table shows them.
struct HTMLOpRow {
    var op: String, backend: String
    var counts = Counts()
    var tags: [String] = []
    var absErr: Double?, relErr: Double?, ulp: Double?, use: Double?, gradUse: Double?
    var fwd: Double?, bwd: Double?, gflops: Double?, speedup: Double?
    var histogram: [Int] = []
    var gradcheck = [0, 0, 0]           // pass, fail, skipped
    var firstBad: String?               // anchor of its first case that does not pass
}

/// The page being built, section by section (the case sections: `HTMLCaseSections.swift`).
struct HTMLPage {
    typealias N = Node<HTML.BodyContext>
    typealias R = Node<HTML.TableRowContext>

    let r: Report
    let backends: [String]
    let rows: [HTMLOpRow]
    let notPassing: [CaseResult]            // fail, error, invalid, mistrusted
    let unsupported: [CaseResult]
    let anchor: [String: String]
    let tags: [String]
    static let reference = "reference"
    let hasGrads, hasBackward, hasFlops, hasSpeedup, hasGradcheck: Bool

    init(_ r: Report) {
        self.r = r
        let named = r.backends.map(\.name)
        backends = named + Set(r.cases.map(\.backend)).subtracting(named).sorted()
        let order = Dictionary(backends.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        func byIdThenBackend(_ a: CaseResult, _ b: CaseResult) -> Bool {
            a.id != b.id ? a.id < b.id : (order[a.backend] ?? 0) < (order[b.backend] ?? 0)
        }
        notPassing = r.cases.filter { [.fail, .error, .invalid, .mistrusted].contains($0.status) }.sorted(by: byIdThenBackend)
        unsupported = r.cases.filter { $0.status == .unsupported }.sorted(by: byIdThenBackend)
        var anchor: [String: String] = [:]
        for (i, c) in notPassing.enumerated() { anchor[c.id + "\u{0}" + c.backend] = "case-\(i + 1)" }
        self.anchor = anchor
        tags = Set(r.cases.flatMap { $0.tags ?? [] }).sorted()
        hasGrads = r.cases.contains { !($0.grads ?? []).isEmpty }
        hasBackward = r.cases.contains { $0.backwardMs != nil }
        hasFlops = r.cases.contains { $0.flops != nil }
        hasSpeedup = backends.contains(HTMLPage.reference) && backends.count > 1
        hasGradcheck = r.cases.contains { $0.gradcheck != nil }

        var refForward: [String: Double] = [:]
        for c in r.cases where c.backend == HTMLPage.reference { refForward[c.id] = c.forwardMs }
        let groups = Dictionary(grouping: r.cases) { $0.op + "\u{0}" + $0.backend }
        rows = groups.values.map { cases in
            var row = HTMLOpRow(op: cases[0].op, backend: cases[0].backend)
            for c in cases { row.counts[c.status] += 1 }
            row.tags = Set(cases.flatMap { $0.tags ?? [] }).sorted()
            row.absErr = cases.compactMap(\.maxAbsErr).max()
            row.relErr = cases.compactMap(\.maxRelErr).max()
            row.ulp = cases.compactMap(\.maxULP).max()
            row.use = cases.compactMap(\.toleranceUse).max()
            row.gradUse = cases.flatMap { ($0.grads ?? []).map(\.agreement.toleranceUse) }.max()
            row.fwd = median(cases.compactMap(\.forwardMs))
            row.bwd = median(cases.compactMap(\.backwardMs))
            row.gflops = median(cases.compactMap { c in
                guard let fl = c.flops, let ms = c.forwardMs, ms > 0 else { return nil }
                return fl / (ms * 1e6)
            })
            if row.backend != HTMLPage.reference {
                let pairs = cases.compactMap { c -> (Double, Double)? in
                    guard let ms = c.forwardMs, ms > 0, let ref = refForward[c.id], ref > 0 else { return nil }
                    return (ref, ms)
                }
                if let a = median(pairs.map(\.0)), let b = median(pairs.map(\.1)) { row.speedup = a / b }
            }
            row.histogram = HTMLCharts.histogram(cases.filter { $0.status == .pass }.compactMap(\.toleranceUse))
            for c in cases {
                switch c.gradcheck?.status {
                case "pass": row.gradcheck[0] += 1
                case "fail": row.gradcheck[1] += 1
                case "skipped": row.gradcheck[2] += 1
                default: break
                }
            }
            row.firstBad = cases.compactMap { anchor[$0.id + "\u{0}" + $0.backend] }
                .min { Int($0.dropFirst(5))! < Int($1.dropFirst(5))! }
            return row
        }.sorted { $0.op != $1.op ? $0.op < $1.op : (order[$0.backend] ?? 0) < (order[$1.backend] ?? 0) }
    }

    func body() -> [N] {
        [header(), nav(), opsSection(), timingSection(), failuresSection(), unsupportedSection(), gradcheckSection(),
         warningsSection(),
         H.el("footer", H.text("Format \(r.format). Generated from the JSON report; "), .code(H.text("conformance report FILE.json")),
              H.text(" writes this page again, byte for byte.")),
         H.el("script", .raw(HTMLAssets.js))]
    }

    // MARK: Header

    func header() -> N {
        let bad = notPassing.count
        let verdict: String
        if bad == 0 {
            verdict = unsupported.isEmpty ? "All \(r.cases.count) cases pass." : "No failures: \(r.cases.count - unsupported.count) pass, \(unsupported.count) unsupported."
        } else {
            let by = [Status.fail, .error, .invalid, .mistrusted].map { s in (s, notPassing.filter { $0.status == s }.count) }
                .filter { $0.1 > 0 }.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
            verdict = "\(bad) of \(r.cases.count) cases do not pass (\(by))."
        }
        let m = r.machine
        var meta: [(String, N)] = [
            ("Created", H.text(r.created)),
            ("Git commit", .code(H.text(m.gitCommit ?? "unknown"))),
            ("CPU", H.text("\(m.cpu), \(m.cores) cores, SIMD \(m.simd)")),
            ("OS", H.text(m.os)),
            ("OpenBLAS", H.text("\(m.openblas) (core \(m.openblasCore), \(m.openblasThreads) threads)")),
            ("Fixtures", .code(H.text(r.fixtures.joined(separator: " ")))),
            ("Backends", .group(r.backends.map { b in .group(.code(H.text(b.name)), H.text(": " + b.details), .br()) })),
        ]
        if let s = r.shard { meta.append(("Shard", H.text(s))) }
        if let c = r.calibrationMs {
            meta.append(("Calibration", H.text("\(Terminal.format(c)) ms (a fixed kernel timed in the same run)")))
        }
        var out: [N] = [
            .h1(H.text("nnconf conformance report")),
            .p(H.cls("verdict " + (bad == 0 ? "ok" : "bad")), H.text(verdict)),
            H.el("dl", H.cls("meta"), .group(meta.map { H.el("dt", H.text($0.0)) + H.el("dd", $0.1) })),
            totalsTable(),
        ]
        let checks = r.cases.compactMap(\.gradcheck)
        if !checks.isEmpty {
            out.append(.p(H.text("Gradcheck (reference backward against float64 finite differences): "),
                          .group(["pass", "fail", "skipped"].map { s in
                              let n = checks.filter { $0.status == s }.count
                              return badge(s == "skipped" ? "unsupported" : s, "\(s) \(n)", zero: n == 0)
                          })))
        }
        let charts: [N] = backends.compactMap { b in
            let uses = r.cases.filter { $0.backend == b && $0.status == .pass }.compactMap(\.toleranceUse)
            guard !uses.isEmpty else { return nil }
            return HTMLCharts.histogramChart(HTMLCharts.histogram(uses), caption: "\(b): \(uses.count) passing cases with compared values")
        }
        if !charts.isEmpty { out.append(H.el("div", H.cls("charts"), .group(charts))) }
        return H.el("header", out)
    }

    func totalsTable() -> N {
        let head: [R] = ["backend", "cases"].map { .th(H.cls("t"), H.text($0)) } + Status.allCases.map { .th(H.text($0.rawValue)) } + [.th(H.text(""))]
        let body: [Node<HTML.TableContext>] = backends.map { b in
            let c = r.summary[b] ?? Counts()
            let cells: [R] = [.td(H.cls("t"), .code(H.text(b))), .td(.b(H.text("\(c.total)")))]
                + Status.allCases.map { s in .td(badge(s.rawValue, "\(c[s])", zero: c[s] == 0)) }
                + [.td(HTMLCharts.statusBar(c))]
            return .tr(.group(cells))
        }
        return H.el("div", H.cls("scroll"), .table(.thead(.tr(.group(head))), .tbody(.group(body))))
    }

    func nav() -> N {
        var links: [(String, String)] = [("ops", "By op"), ("timing", "Timing"), ("failures", "Not passing (\(notPassing.count))")]
        if !unsupported.isEmpty { links.append(("unsupported", "Unsupported (\(unsupported.count))")) }
        if r.cases.contains(where: { $0.gradcheck?.status == "fail" }) { links.append(("gradcheck", "Gradcheck failures")) }
        if !r.warnings.isEmpty { links.append(("warnings", "Warnings (\(r.warnings.count))")) }
        return .nav(.group(links.map { H.el("a", H.attr("href", "#" + $0.0), H.text($0.1)) }))
    }

    // MARK: Op table

    func opsSection() -> N {
        var cols: [(String, String, Bool)] = [   // header, tooltip, numeric
            ("op", "", false), ("backend", "", false), ("cases", "", true),
            ("pass", "", true), ("fail", "", true), ("err", "error", true), ("unsup", "unsupported", true), ("inv", "invalid", true),
            ("mistr", "mistrusted: expected values too degenerate to tell a no-op kernel from a correct one", true),
            ("max abs", "worst |actual − expected|", true), ("max rel", "worst |actual − expected| / |expected|", true),
            ("max ULP", "worst distance in units in the last place", true),
            ("tol use", "worst error ÷ allowed (≤ 1 conforms)", true)]
        if hasGrads { cols.append(("grad tol use", "worst tolerance use over the gradients", true)) }
        cols.append(("tol use histogram", "passing cases by log10(tolerance use)", false))
        cols.append(("fwd ms", "median forward time", true))
        if hasBackward { cols.append(("bwd ms", "median backward time", true)) }
        if hasFlops { cols.append(("GFLOP/s", "median of flops / forward time", true)) }
        if hasSpeedup { cols.append(("× ref", "speed-up over the reference backend: median reference forward ÷ median forward, same cases", true)) }
        if hasGradcheck { cols.append(("gradcheck", "pass / fail / skipped", false)) }
        let head: [R] = cols.enumerated().map { i, c in
            .th(i < 2 ? H.cls("t") : .empty, c.2 ? H.attr("data-type", "num") : .empty,
                c.0 == "tol use histogram" ? H.attr("data-nosort", "") : .empty,
                c.1.isEmpty ? .empty : H.attr("title", c.1), H.text(c.0))
        }
        let body: [Node<HTML.TableContext>] = rows.map(opRow)
        return .section(
            .id("ops"),
            .h2(H.text("By op and backend (\(rows.count) rows)")),
            filters(),
            H.el("div", H.cls("scroll"), .table(.id("optable"), .class("sortable"), .thead(.tr(.group(head))), .tbody(.group(body)))),
            .p(H.cls("legend"), H.text(
                "Worst values are over all the op's cases; tolerance use is |actual − expected| ÷ (atol + rtol·|expected|), "
                + "≤ 1 conforms. The histogram counts passing cases by tolerance use: exact (0), below 1e-6, then one bar per decade up to 1. "
                + "Times are medians over the op's cases" + (hasFlops ? "; GFLOP/s where the op has a flop count" : "")
                + (hasSpeedup ? "; × ref is the speed-up over the reference backend on the same cases" : "")
                + ". Click a header to sort; a count links to the first such case below.")))
    }

    func filters() -> N {
        func select(_ id: String, _ label: String, _ options: [(String, String)]) -> N {
            H.el("label", H.text(label + " "),
                 H.el("select", [H.attr("id", id)] + options.map { H.el("option", H.attr("value", $0.0), H.text($0.1)) }))
        }
        return H.el("div", H.attr("id", "filters"), H.cls("filters"), H.attr("hidden", "hidden"),
                    select("f-status", "Status", [("", "any"), ("notpass", "not passing")] + Status.allCases.map { ($0.rawValue, $0.rawValue) }),
                    select("f-backend", "Backend", [("", "all")] + backends.map { ($0, $0) }),
                    select("f-tag", "Tag", [("", "all")] + tags.map { ($0, $0) }),
                    H.el("label", H.text("Text "), H.el("input", H.attr("id", "f-text"), H.attr("type", "search"), H.attr("placeholder", "op, id, message…"))),
                    H.el("span", H.attr("id", "f-count"), H.cls("legend")))
    }

    func opRow(_ row: HTMLOpRow) -> Node<HTML.TableContext> {
        var cells: [R] = [.td(H.cls("t"), breakable(row.op)), .td(H.cls("t"), H.text(row.backend)), number(Double(row.counts.total))]
        for s in Status.allCases {
            let n = row.counts[s]
            let target = s == .unsupported ? "#unsupported" : (s == .pass ? nil : row.firstBad.map { "#" + $0 })
            let content: N = n > 0 && target != nil ? H.el("a", H.attr("href", target!), H.text("\(n)")) : H.text("\(n)")
            cells.append(.td(H.cls(n == 0 ? "n0" : s.rawValue), H.attr("data-v", "\(n)"), content))
        }
        cells += [number(row.absErr), number(row.relErr), number(row.ulp), number(row.use, use: true)]
        if hasGrads { cells.append(number(row.gradUse, use: true)) }
        cells.append(.td(HTMLCharts.miniHistogram(row.histogram)))
        cells.append(number(row.fwd))
        if hasBackward { cells.append(number(row.bwd)) }
        if hasFlops { cells.append(number(row.gflops)) }
        if hasSpeedup { cells.append(number(row.speedup, suffix: "×")) }
        if hasGradcheck {
            let g = row.gradcheck
            cells.append(.td(g.allSatisfy { $0 == 0 } ? H.text("-") : .group(
                H.el("span", H.cls(g[1] > 0 ? "" : "n0"), H.text("\(g[0]) / ")),
                H.el("span", H.attr("style", g[1] > 0 ? "color:#c62828;font-weight:700" : ""), H.text("\(g[1])")),
                H.text(" / \(g[2])"))))
        }
        let statuses = Status.allCases.filter { row.counts[$0] > 0 }.map(\.rawValue).joined(separator: " ")
        return .tr(H.attr("data-backend", row.backend), H.attr("data-status", statuses),
                   H.attr("data-tags", row.tags.joined(separator: "|")), .group(cells))
    }

    /// A numeric cell: its value for sorting in `data-v`, shown as the terminal summary shows it.
    func number(_ v: Double?, use: Bool = false, suffix: String = "") -> R {
        guard let v else { return .td(H.cls("n0"), H.text("-")) }
        let cls = use && (v > 1 || v.isNaN) ? "over" : (use && v > 0.5 ? "near" : "")
        return .td(cls.isEmpty ? .empty : H.cls(cls), H.attr("data-v", sortKey(v)), H.text(format(v) + suffix))
    }

    // MARK: Timing

    func timingSection() -> N {
        let ops = Dictionary(grouping: rows, by: \.op)
        let series = ops.keys.sorted().map { op in
            (op: op, ms: backends.map { b in ops[op]!.first { $0.backend == b }?.fwd })
        }.filter { $0.ms.contains { $0 != nil } }
        let sorted = series.sorted { a, b in
            let (x, y) = (a.ms.compactMap { $0 }.max()!, b.ms.compactMap { $0 }.max()!)
            return x != y ? x > y : a.op < b.op
        }
        guard !sorted.isEmpty else {
            return .section(.id("timing"), .h2(H.text("Forward time by op")), .p(H.text("No timings in this report.")))
        }
        let top = Array(sorted.prefix(HTMLReport.timingTop))
        var out: [N] = [.id("timing"), .h2(H.text("Forward time by op")),
                        HTMLCharts.timingChart(top, backends: backends,
                                               caption: "Median forward time, \(top.count) slowest of \(sorted.count) ops (log scale)")]
        if sorted.count > top.count {
            out.append(H.el("details", H.el("summary", H.text("All \(sorted.count) ops")),
                            HTMLCharts.timingChart(sorted, backends: backends, caption: "Median forward time, all \(sorted.count) ops (log scale)")))
        }
        return .section(.group(out))
    }

    // MARK: Formatting

    /// An op name that may wrap after its underscores, so long names do not widen the table.
    func breakable(_ name: String) -> N {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        return .group(parts.enumerated().map { i, p in
            i == parts.count - 1 ? H.text(String(p)) : .group(H.text(p + "_"), .selfClosedElement(named: "wbr"))
        })
    }

    func badge(_ cls: String, _ text: String, zero: Bool = false) -> N {
        H.el("span", H.cls("b " + (zero ? "zero" : cls)), H.text(text))
    }

    /// A number as the terminal summary writes it, except that large ones are written `3.02e+22`.
    func format(_ x: Double) -> String {
        x.isNaN ? "nan" : x == -.infinity ? "-inf" : x.isFinite && abs(x) >= 1e6 ? String(format: "%.3g", x) : Terminal.format(x)
    }

    /// A tolerance: six significant digits, `1e-05`, `2.44949e-05`.
    func short(_ x: Double) -> String { String(format: "%g", x) }

    /// A value as Swift prints it: the shortest text that reads back as the same Double.
    func exact(_ x: Double) -> String { x.isNaN ? "nan" : "\(x)" }

    func sortKey(_ x: Double) -> String { x.isNaN ? "Infinity" : x.isInfinite ? (x > 0 ? "Infinity" : "-Infinity") : "\(x)" }
}

/// The upper median, as the terminal summary takes it.
private func median(_ v: [Double]) -> Double? {
    v.isEmpty ? nil : v.sorted()[v.count / 2]
}

private func + (a: HTMLPage.N, b: HTMLPage.N) -> HTMLPage.N { .group(a, b) }
