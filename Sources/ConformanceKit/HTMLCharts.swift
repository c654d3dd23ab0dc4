import Foundation
import Plot

/// The HTML report's pictures, as inline SVG built with Plot: tolerance-use histograms, status
/// bars, forward-time bars on a log scale. Coordinates are formatted with a fixed number of
/// decimals so the same report always gives the same bytes.
enum HTMLCharts {
    typealias N = Node<HTML.BodyContext>

    // MARK: Tolerance use histogram

    /// Bins of log10(tolerance_use) for passing cases: exactly 0, below 1e-6, one per decade up to 1.
    static let binLabels = ["0", "<1e-6", "1e-6…1e-5", "1e-5…1e-4", "1e-4…1e-3", "1e-3…0.01", "0.01…0.1", "0.1…1"]
    /// Under the bars of the labelled chart: each decade's lower bound.
    static let binTicks = ["0", "<1e-6", "1e-6", "1e-5", "1e-4", "1e-3", "0.01", "0.1"]
    static let binColours = ["#1b5e20", "#2e7d32", "#43a047", "#7cb342", "#c0ca33", "#fdd835", "#ffb300", "#f57c00"]

    static func bin(_ use: Double) -> Int {
        if use <= 0 { return 0 }
        guard use.isFinite else { return binLabels.count - 1 }
        let l = log10(use)
        if l < -6 { return 1 }
        return min(binLabels.count - 1, 2 + Int((l + 6).rounded(.down)))
    }

    static func histogram(_ uses: [Double]) -> [Int] {
        var h = [Int](repeating: 0, count: binLabels.count)
        for u in uses where !u.isNaN { h[bin(u)] += 1 }
        return h
    }

    /// A histogram small enough for a table cell; each bar's tooltip gives its range and count.
    static func miniHistogram(_ h: [Int]) -> N {
        let top = h.max() ?? 0
        guard top > 0 else { return H.text("-") }
        let w = 7, height = 16.0
        var nodes: [N] = [svgAttrs(width: Double(h.count * w), height: height + 2),
                          H.attr("role", "img"),
                          H.attr("aria-label", "tolerance use: " + zip(binLabels, h).map { "\($0) \($1)" }.joined(separator: ", ")),
                          shape("rect", ["x": "0", "y": f(height + 1), "width": "\(h.count * w)", "height": "1", "fill": "#ccc"])]
        for (i, n) in h.enumerated() where n > 0 {
            let bh = max(1.5, height * Double(n) / Double(top))
            nodes.append(shape("rect", ["x": "\(i * w)", "y": f(height + 1 - bh), "width": "\(w - 1)", "height": f(bh),
                                        "fill": binColours[i]], title: "\(binLabels[i]): \(n) case\(n == 1 ? "" : "s")"))
        }
        return H.el("svg", nodes)
    }

    /// A labelled histogram: counts above the bars, bin ranges below.
    static func histogramChart(_ h: [Int], caption: String) -> N {
        let top = max(1, h.max() ?? 0)
        let bw = 52.0, left = 6.0, plotTop = 30.0, plotH = 90.0, width = left * 2 + bw * Double(h.count)
        var nodes: [N] = [svgAttrs(width: width, height: plotTop + plotH + 34), H.attr("role", "img"), H.attr("aria-label", caption),
                          label(caption, x: left, y: 14, anchor: "start", size: 12, weight: "600")]
        nodes.append(shape("rect", ["x": f(left), "y": f(plotTop + plotH), "width": f(bw * Double(h.count)), "height": "1", "fill": "#999"]))
        for (i, n) in h.enumerated() {
            let x = left + bw * Double(i)
            let bh = n == 0 ? 0 : max(1.5, plotH * Double(n) / Double(top))
            if n > 0 {
                nodes.append(shape("rect", ["x": f(x + 4), "y": f(plotTop + plotH - bh), "width": f(bw - 8), "height": f(bh),
                                            "fill": binColours[i]], title: "\(binLabels[i]): \(n)"))
            }
            nodes.append(label("\(n)", x: x + bw / 2, y: plotTop + plotH - bh - 4, anchor: "middle", size: 11))
            nodes.append(label(binTicks[i], x: x + bw / 2, y: plotTop + plotH + 14, anchor: "middle", size: 10))
        }
        nodes.append(label("tolerance use (error ÷ allowed), per decade", x: left, y: plotTop + plotH + 30, anchor: "start", size: 10, fill: "#666"))
        return H.el("div", H.cls("chart fit"), H.el("svg", nodes))
    }

    // MARK: Status bar

    /// One horizontal bar split by status in proportion to the counts.
    static func statusBar(_ c: Counts, width: Double = 160) -> N {
        let total = c.total
        guard total > 0 else { return .empty }
        var nodes: [N] = [svgAttrs(width: width, height: 10), H.attr("role", "img"),
                          H.attr("aria-label", Status.allCases.map { "\($0.rawValue) \(c[$0])" }.joined(separator: ", "))]
        var x = 0.0
        for s in Status.allCases where c[s] > 0 {
            let w = width * Double(c[s]) / Double(total)
            nodes.append(shape("rect", ["x": f(x), "y": "0", "width": f(max(w, 1)), "height": "10", "fill": statusColour[s]!],
                               title: "\(s.rawValue): \(c[s])"))
            x += w
        }
        return H.el("svg", nodes)
    }

    static let statusColour: [Status: String] = [.pass: "#2e7d32", .fail: "#c62828", .error: "#e65100", .unsupported: "#9e9e9e", .invalid: "#6a1b9a", .mistrusted: "#8d6e00"]

    // MARK: Timing bars

    static let backendColours = ["#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f"]

    /// Horizontal bars of each op's forward median per backend on a log-scaled axis, one group
    /// per op, in the order given.
    static func timingChart(_ rows: [(op: String, ms: [Double?])], backends: [String], caption: String) -> N {
        let values = rows.flatMap { $0.ms.compactMap { $0 } }.filter { $0 > 0 && $0.isFinite }
        guard let lo0 = values.min(), let hi0 = values.max() else { return .empty }
        var lo = (log10(lo0)).rounded(.down), hi = (log10(hi0)).rounded(.up)
        if hi <= lo { hi = lo + 1 }
        if hi - lo > 12 { lo = hi - 12 }
        let labelW = 190.0, x0 = 196.0, x1 = 640.0, width = 720.0, bar = 9.0, gap = 1.0, groupGap = 5.0
        let legendH = backends.count > 1 ? 16.0 : 0, axisY = 34.0 + legendH
        let groupH = Double(backends.count) * (bar + gap) + groupGap
        let height = axisY + 6 + groupH * Double(rows.count) + 4
        func x(_ v: Double) -> Double { x0 + (min(max(log10(v), lo), hi) - lo) / (hi - lo) * (x1 - x0) }
        var nodes: [N] = [svgAttrs(width: width, height: height), H.attr("role", "img"), H.attr("aria-label", caption),
                          label(caption, x: 0, y: 14, anchor: "start", size: 12, weight: "600")]
        if backends.count > 1 {
            var lx = 0.0
            for (i, b) in backends.enumerated() {
                nodes.append(shape("rect", ["x": f(lx), "y": "22", "width": "10", "height": "10", "fill": backendColours[i % backendColours.count]]))
                nodes.append(label(b, x: lx + 14, y: 31, anchor: "start", size: 11))
                lx += 24 + 7 * Double(min(b.count, 30))
            }
        }
        for d in Int(lo)...Int(hi) {
            let gx = x0 + Double(d - Int(lo)) / (hi - lo) * (x1 - x0)
            nodes.append(shape("rect", ["x": f(gx), "y": f(axisY), "width": "0.6", "height": f(height - axisY - 4), "fill": "#ddd"]))
            nodes.append(label(decade(d) + (d == Int(hi) ? " ms" : ""), x: gx, y: axisY - 3, anchor: "middle", size: 10, fill: "#666"))
        }
        var y = axisY + 6
        for row in rows {
            let name = row.op.count > 30 ? String(row.op.prefix(29)) + "…" : row.op
            nodes.append(H.el("text", H.attr("x", f(labelW)), H.attr("y", f(y + groupH / 2 + 1)), H.attr("text-anchor", "end"),
                              H.attr("font-size", "11"), H.el("title", H.text(row.op)), H.text(name)))
            for (i, v) in row.ms.enumerated() {
                if let v, v > 0, v.isFinite {
                    let colour = backendColours[i % backendColours.count]
                    nodes.append(shape("rect", ["x": f(x0), "y": f(y), "width": f(max(1, x(v) - x0)), "height": f(bar), "fill": colour],
                                       title: "\(row.op) [\(backends[i])]: \(Terminal.format(v)) ms"))
                    nodes.append(label(Terminal.format(v), x: x(v) + 3, y: y + bar - 1, anchor: "start", size: 9.5, fill: "#444"))
                }
                y += bar + gap
            }
            y += groupGap
        }
        return H.el("div", H.cls("chart"), H.el("svg", nodes))
    }

    /// 10^d as an axis label: `0.001`, `1`, `100`, `1e-5`.
    static func decade(_ d: Int) -> String {
        switch d {
        case ..<(-3), 5...: return "1e\(d)"
        case ..<0: return "0." + String(repeating: "0", count: -d - 1) + "1"
        default: return "1" + String(repeating: "0", count: d)
        }
    }

    // MARK: SVG helpers

    static func svgAttrs(width: Double, height: Double) -> N {
        .group(H.attr("width", f(width)), H.attr("height", f(height)), H.attr("viewBox", "0 0 \(f(width)) \(f(height))"))
    }

    static func shape(_ name: String, _ attrs: KeyValuePairs<String, String>, title: String? = nil) -> N {
        var nodes: [N] = attrs.map { H.attr($0.key, $0.value) }
        if let title { nodes.append(H.el("title", H.text(title))) }
        return H.el(name, nodes)
    }

    static func label(_ s: String, x: Double, y: Double, anchor: String, size: Double, weight: String? = nil, fill: String? = nil) -> N {
        var nodes: [N] = [H.attr("x", f(x)), H.attr("y", f(y)), H.attr("text-anchor", anchor), H.attr("font-size", f(size))]
        if let weight { nodes.append(H.attr("font-weight", weight)) }
        if let fill { nodes.append(H.attr("fill", fill)) }
        nodes.append(H.text(s))
        return H.el("text", nodes)
    }

    /// A coordinate with at most one decimal, without a trailing `.0`.
    static func f(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }
}

/// Small helpers over Plot for the HTML report.
enum H {
    typealias N = Node<HTML.BodyContext>

    /// Text from a report. Plot escapes `<` and `>` and turns a bare `&` into `&amp;`, but it
    /// passes `&name;` and `&#...;` through as character references; escaping every `&` first
    /// makes an id such as `a&lt;b` show exactly as written.
    static func text<C>(_ s: String) -> Node<C> {
        .text(s.replacingOccurrences(of: "&", with: "&amp;"))
    }

    /// An attribute. Plot writes attribute values as given, so they are escaped here.
    static func attr<C>(_ name: String, _ value: String) -> Node<C> {
        .attribute(named: name, value: attributeEscaped(value), ignoreIfValueIsEmpty: false)
    }

    static func attributeEscaped(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            default: out.append(u)
            }
        }
        return String(out)
    }

    static func el(_ name: String, _ nodes: [N]) -> N { .element(named: name, nodes: nodes) }
    static func el(_ name: String, _ nodes: N...) -> N { .element(named: name, nodes: nodes) }
    static func cls(_ c: String) -> N { attr("class", c) }
}
