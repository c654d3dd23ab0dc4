import Foundation
import Plot

/// The HTML report's case-level sections (`HTMLReport.swift` builds the page): every case that
/// does not pass with its arguments, diff, tolerance and repro command; the unsupported cases;
/// gradcheck results; fixture warnings.
extension HTMLPage {
    // MARK: Cases that do not pass

    func failuresSection() -> N {
        var out: [N] = [.id("failures"), .h2(H.text("Cases that do not pass (\(notPassing.count))"))]
        if notPassing.isEmpty {
            out.append(.p(H.text("Every case passes or is unsupported.")))
        }
        out += notPassing.prefix(HTMLReport.detailLimit).map(caseArticle)
        let rest = notPassing.dropFirst(HTMLReport.detailLimit)
        if !rest.isEmpty {
            out.append(.p(H.text("\(rest.count) more, one line each (the JSON report has their details):")))
            let rows: [Node<HTML.TableContext>] = rest.map { c in
                .tr(filterData(c), H.attr("id", anchor[c.id + "\u{0}" + c.backend] ?? ""),
                    .td(badge(c.status.rawValue, c.status.rawValue)), .td(H.cls("t"), .code(H.text(c.id))),
                    .td(H.cls("t"), H.text(c.backend)), .td(H.cls("t w"), H.text(c.message ?? "")),
                    .td(H.cls("t"), .code(H.text(repro(c) ?? ""))))
            }
            out.append(H.el("div", H.cls("scroll"), .table(.tbody(.group(rows)))))
        }
        return .section(.group(out))
    }

    func caseArticle(_ c: CaseResult) -> N {
        var info: [(String, N)] = [("op", .code(H.text(c.op)))]
        if let a = c.arguments { info.append(("arguments", .code(H.text(a)))) }
        if let t = c.tolerance {
            info.append(("tolerance", H.text("rtol \(short(t.rtol)), atol \(short(t.atol))" + (c.toleranceSource.map { " (from \($0))" } ?? ""))))
        }
        for g in c.grads ?? [] {
            let a = g.agreement
            info.append(("grad of \(g.name)", H.text("tolerance use \(format(a.toleranceUse)), abs \(format(a.maxAbsErr)); rtol \(short(g.tolerance.rtol)), atol \(short(g.tolerance.atol))"
                + (g.toleranceSource.map { " (from \($0))" } ?? ""))))
        }
        let worst = [("abs", c.maxAbsErr), ("rel", c.maxRelErr), ("ULP", c.maxULP), ("tolerance use", c.toleranceUse)]
            .compactMap { n, v in v.map { "\(n) \(format($0))" } }
        if !worst.isEmpty { info.append(("worst", H.text(worst.joined(separator: ", ")))) }
        let times = [("forward", c.forwardMs), ("backward", c.backwardMs)].compactMap { n, v in v.map { "\(n) \(format($0)) ms" } }
        if !times.isEmpty { info.append(("time", H.text(times.joined(separator: ", ")))) }
        if let g = c.gradcheck {
            info.append(("gradcheck", H.text(g.status + (g.maxAbsErr.map { ", max abs \(format($0))" } ?? "") + (g.message.map { ": " + $0 } ?? ""))))
        }
        if let t = c.tags, !t.isEmpty { info.append(("tags", H.text(t.joined(separator: ", ")))) }
        var out: [N] = [
            filterData(c), H.attr("id", anchor[c.id + "\u{0}" + c.backend] ?? ""), H.cls("case fc " + c.status.rawValue),
            .h3(badge(c.status.rawValue, c.status.rawValue), .code(H.text(c.id)), H.text(" "), H.el("span", H.cls("be"), H.text(c.backend))),
        ]
        if let m = c.message, !m.isEmpty { out.append(.pre(H.text(m))) }
        out.append(H.el("dl", .group(info.map { .group(H.el("dt", H.text($0.0)), H.el("dd", $0.1)) })))
        if let ms = c.mismatches, !ms.isEmpty {
            let head: [R] = ["index", "expected", "actual", "|diff|", "allowed", "÷ allowed"].enumerated().map { i, h in .th(i == 0 ? H.cls("t") : .empty, H.text(h)) }
            let body: [Node<HTML.TableContext>] = ms.map { e in
                let d = abs(e.actual - e.expected), diff = d.isNaN ? Double.infinity : d
                return .tr(.td(H.cls("t"), .code(H.text(e.index))), .td(H.text(exact(e.expected))), .td(H.text(exact(e.actual))),
                           .td(H.text(format(diff))), .td(H.text(format(e.allowed))),
                           .td(H.cls("over"), H.text(e.allowed > 0 ? format(diff / e.allowed) : "inf")))
            }
            out.append(H.el("div", H.cls("label"), H.text("First elements outside tolerance (outputs, then gradients):")))
            out.append(H.el("div", H.cls("scroll"), .table(.thead(.tr(.group(head))), .tbody(.group(body)))))
        }
        if let grads = c.grads, !grads.isEmpty {
            let head: [R] = ["gradient", "tol use", "max abs", "max rel", "rtol", "atol", "first mismatch"].enumerated()
                .map { i, h in .th(i == 0 || i == 6 ? H.cls("t") : .empty, H.text(h)) }
            let body: [Node<HTML.TableContext>] = grads.map { g in
                let a = g.agreement
                return .tr(.td(H.cls("t"), .code(H.text(g.name))),
                           .td(a.toleranceUse > 1 ? H.cls("over") : .empty, H.text(format(a.toleranceUse))),
                           .td(H.text(format(a.maxAbsErr))), .td(H.text(format(a.maxRelErr))),
                           .td(H.text(short(g.tolerance.rtol))), .td(H.text(short(g.tolerance.atol))),
                           .td(H.cls("t"), H.text(a.mismatch ?? "")))
            }
            out.append(H.el("div", H.cls("label"), H.text("Gradients:")))
            out.append(H.el("div", H.cls("scroll"), .table(.thead(.tr(.group(head))), .tbody(.group(body)))))
        }
        if let cmd = repro(c) {
            out.append(H.el("div", H.cls("label"), H.text("Reproduce:")))
            out.append(.pre(.code(H.text(cmd))))
        }
        return H.el("article", out)
    }

    /// The command that runs just this case, as the terminal summary prints it.
    func repro(_ c: CaseResult) -> String? {
        guard c.status != .invalid else { return nil }
        let fixtures = r.fixtures.map(Terminal.shellQuote).joined(separator: " ")
        let pattern = "^" + Terminal.regexEscape(c.id) + "$"
        return "conformance run \(fixtures) --backend \(Terminal.shellQuote(c.backend)) --filter \(Terminal.shellQuote(pattern))"
    }

    func filterData<C>(_ c: CaseResult) -> Node<C> {
        .group(H.attr("data-backend", c.backend), H.attr("data-status", c.status.rawValue),
               H.attr("data-tags", (c.tags ?? []).joined(separator: "|")))
    }

    // MARK: Unsupported, gradcheck, warnings

    func unsupportedSection() -> N {
        guard !unsupported.isEmpty else { return .empty }
        let groups = Dictionary(grouping: unsupported) { $0.backend + "\u{0}" + $0.op }
        let order = Dictionary(backends.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let keys = groups.keys.sorted { a, b in
            let (x, y) = (groups[a]![0], groups[b]![0])
            return x.backend != y.backend ? (order[x.backend] ?? 0) < (order[y.backend] ?? 0) : x.op < y.op
        }
        let rows: [Node<HTML.TableContext>] = keys.map { k in
            let cs = groups[k]!
            let messages = Set(cs.compactMap(\.message)).sorted()
            let shown = messages.prefix(3).joined(separator: "\n") + (messages.count > 3 ? "\n… \(messages.count - 3) more" : "")
            return .tr(H.attr("data-backend", cs[0].backend), H.attr("data-status", "unsupported"),
                       H.attr("data-tags", Set(cs.flatMap { $0.tags ?? [] }).sorted().joined(separator: "|")), H.attr("class", "fc"),
                       .td(H.cls("t"), H.text(cs[0].backend)), .td(H.cls("t"), .code(H.text(cs[0].op))), .td(H.text("\(cs.count)")),
                       .td(H.cls("t"), H.attr("style", "white-space:pre-wrap"), H.text(shown)),
                       .td(H.cls("t"), H.el("details", H.el("summary", H.text("ids")),
                                            H.el("pre", H.text(cs.map(\.id).joined(separator: "\n"))))))
        }
        let head: [R] = ["backend", "op", "cases", "message", "case ids"].map { .th(H.cls("t"), H.text($0)) }
        return .section(.id("unsupported"), .h2(H.text("Unsupported (\(unsupported.count) cases)")),
                        .p(H.cls("legend"), H.text("The backend does not implement the op or an argument; these do not fail a run.")),
                        H.el("div", H.cls("scroll"), .table(.thead(.tr(.group(head))), .tbody(.group(rows)))))
    }

    func gradcheckSection() -> N {
        let failed = r.cases.filter { $0.gradcheck?.status == "fail" }.sorted { $0.id < $1.id }
        guard !failed.isEmpty else { return .empty }
        let rows: [Node<HTML.TableContext>] = failed.map { c in
            .tr(.td(H.cls("t"), .code(H.text(c.id))), .td(H.text(c.gradcheck?.maxAbsErr.map(format) ?? "-")),
                .td(H.cls("t w"), H.text(c.gradcheck?.message ?? "")))
        }
        return .section(.id("gradcheck"), .h2(H.text("Gradcheck failures (\(failed.count))")),
                        H.el("div", H.cls("scroll"), .table(.thead(.tr(.th(H.cls("t"), H.text("case")), .th(H.text("max abs")),
                                                                       .th(H.cls("t"), H.text("message")))), .tbody(.group(rows)))))
    }

    func warningsSection() -> N {
        guard !r.warnings.isEmpty else { return .empty }
        let shown = r.warnings.prefix(500)
        return .section(.id("warnings"), .h2(H.text("Warnings (\(r.warnings.count))")),
                        H.el("details", H.el("summary", H.text("Fixture warnings" + (r.warnings.count > shown.count ? " (first \(shown.count))" : ""))),
                             .ul(.group(shown.map { .li(H.text($0)) }))))
    }
}
