import Foundation
import Testing
@testable import ConformanceKit

@Suite struct MarkdownReportTests {
    let baseline = ciReport([
        ciCase("act/relu/a"), ciCase("act/relu/b"), ciCase("act/relu/c", .fail, message: "was broken"),
        ciCase("conv/conv2d/a", op: "conv2d", forward: 8),
    ])

    func lines(_ s: String) -> [String] { s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    @Test func totalsTable() {
        let r = ciReport([ciCase("a/x/1"), ciCase("a/x/2", .fail, message: "m"), ciCase("a/x/3", .error, message: "e"),
                          ciCase("a/x/1", "optimized", .unsupported, message: "no")],
                         backends: ["reference", "optimized"])
        let md = MarkdownReport.render(r)
        #expect(md.hasPrefix(MarkdownReport.marker + "\n## nnconf conformance: 2 not passing"))
        #expect(lines(md).contains("| `reference` | 3 | 1 | 1 | 1 | 0 | 0 |"))
        #expect(lines(md).contains("| `optimized` | 1 | 0 | 0 | 0 | 1 | 0 |"))
        #expect(!md.contains("### Regressions"))
    }

    @Test func deltasAndRegressionsAgainstABaseline() {
        let current = ciReport([
            ciCase("act/relu/a"), ciCase("act/relu/b", .fail, message: "output at [0]: got 1, expected 2"),
            ciCase("act/relu/c"), ciCase("new/op/x"),
        ])
        let md = MarkdownReport.render(current, baseline: baseline)
        // 4 cases (=), 3 pass (=), fail 1 (=): conv2d/a went missing, relu/b regressed, relu/c fixed, one new.
        #expect(lines(md).contains("| `reference` | 4 | 3 | 1 | 0 | 0 | 0 |"))
        #expect(md.contains("### Regressions (2)"))
        #expect(md.contains("1 new case since the baseline; 1 fixed."))
        #expect(lines(md).contains("| `act/relu/b` | `reference` | fail | output at \\[0\\]\\: got 1, expected 2 |"))
        #expect(lines(md).contains("| `conv/conv2d/a` | `reference` | missing | not in this run |"))
        #expect(md.contains("## nnconf conformance: 1 not passing, 2 regressions"))

        let worse = ciReport(current.cases + [ciCase("z/z/1", .error, message: "x"), ciCase("z/z/2", .error, message: "y")])
        #expect(lines(MarkdownReport.render(worse, baseline: baseline)).contains("| `reference` | 6 (+2) | 3 | 1 | 2 (+2) | 0 | 0 |"))
        let better = ciReport([ciCase("act/relu/a")])
        #expect(lines(MarkdownReport.render(better, baseline: baseline)).contains("| `reference` | 1 (−3) | 1 (−2) | 0 (−1) | 0 | 0 | 0 |"))
    }

    @Test func nonPassingListIsCapped() {
        let failing = (0..<60).map { ciCase(String(format: "f/x/%02d", $0), .fail, message: "bad \($0)") }
        let md = MarkdownReport.render(ciReport(failing + [ciCase("ok/x/1")]))
        let rows = lines(md).filter { $0.hasPrefix("| fail |") }
        #expect(rows.count == 50)
        #expect(rows.first == "| fail | `f/x/00` | `reference` | bad 0 |")
        #expect(rows.last == "| fail | `f/x/49` | `reference` | bad 49 |")
        #expect(md.contains("### Not passing (60)"))
        #expect(md.contains("… and 10 more"))
        let small = MarkdownReport.render(ciReport(failing), limit: 5)
        #expect(lines(small).filter { $0.hasPrefix("| fail |") }.count == 5)
        #expect(small.contains("… and 55 more"))
    }

    @Test func slowestOpsByCalibratedMedian() throws {
        let r = ciReport([ciCase("a/1", op: "add", forward: 0.1), ciCase("c/1", op: "conv2d", forward: 2),
                          ciCase("c/2", op: "conv2d", forward: 4), ciCase("c/3", op: "conv2d", forward: 30),
                          ciCase("m/1", op: "mm", forward: 1)], calibration: 20)
        let md = MarkdownReport.render(r, baseline: baseline)
        let table = lines(md).drop { !$0.hasPrefix("| op |") }
        #expect(table.first == "| op | backend | cases | median forward ms | ÷ calibration | baseline | change |")
        let rows = Array(table.dropFirst(2).prefix(3))
        #expect(rows == ["| `conv2d` | `reference` | 3 | 4 | 0.2 | 0.8 | 0.25× |",
                         "| `mm` | `reference` | 1 | 1 | 0.05 | – | new |",
                         "| `add` | `reference` | 1 | 0.1 | 0.005 | – | new |"])
        #expect(md.contains("calibration kernel's (20 ms in this run)"))
        let raw = MarkdownReport.render(ciReport(r.cases, calibration: nil))
        #expect(raw.contains("no calibration in this report, so raw milliseconds"))
        #expect(lines(raw).contains("| `conv2d` | `reference` | 3 | 4 |"))
    }

    @Test func hostileTextIsEscaped() {
        let r = ciReport([ciCase("x/a|b`c/d", .fail, message: "<img src=x onerror=alert(1)> *bold* | pipe\nnext [link](http://x) @team\u{1B}")])
        let md = MarkdownReport.render(r)
        let row = lines(md).first { $0.hasPrefix("| fail |") }
        #expect(row == #"| fail | ``x/a\|b`c/d`` | `reference` | \<img src=x onerror=alert\(1\)\> \*bold\* \| pipe next \[link\]\(http\://x\) \@team\\u\{1B\} |"#)
        #expect(lines(md).filter { $0.hasPrefix("| fail |") }.count == 1)
    }

    @Test func deterministic() {
        let a = MarkdownReport.render(baseline, baseline: baseline)
        var shuffled = baseline
        shuffled.cases.reverse()
        #expect(a == MarkdownReport.render(shuffled, baseline: baseline))
        #expect(a.contains("## nnconf conformance: 1 not passing"))
        #expect(a.contains("### Regressions (0)"))
    }
}
