import Foundation
import Testing
@testable import ConformanceKit

@Suite struct HTMLReportTests {
    static var machine: MachineInfo { MachineInfo(cpu: "Test CPU", cores: 2, simd: "avx2", os: "Debian", openblas: "OpenBLAS 0.3.21",
                                     openblasCore: "Haswell", openblasThreads: 2, gitCommit: "abc1234") }

    /// Two backends; one failing case with a diff, one error, one unsupported, one hostile id.
    static func report() -> Report {
        var pass = CaseResult(id: "conv/conv2d/basic", backend: "reference", op: "conv2d", status: .pass)
        pass.maxAbsErr = 1e-7
        pass.toleranceUse = 3e-4
        pass.forwardMs = 2
        pass.backwardMs = 4
        pass.flops = 4e6
        pass.tags = ["conv"]
        var fast = pass
        fast.backend = "optimized"
        fast.forwardMs = 0.5
        var exact = CaseResult(id: "activation/relu/basic", backend: "reference", op: "relu", status: .pass)
        exact.toleranceUse = 0
        exact.forwardMs = 0.01
        var fail = CaseResult(id: "activation/relu/big", backend: "optimized", op: "relu", status: .fail,
                              message: "at [0, 1]: got 1.5, expected 1.0 (|diff| 0.5 > allowed 1e-05)")
        fail.maxAbsErr = 0.5
        fail.toleranceUse = 5e4
        fail.tolerance = Tolerance(rtol: 1e-5, atol: 1e-8)
        fail.toleranceSource = "tolerance.md K=1"
        fail.arguments = "input=float32[2, 3]"
        fail.mismatches = [ElementMismatch(index: "[0, 1]", actual: 1.5, expected: 1.0, allowed: 1.001e-5),
                           ElementMismatch(index: "[1, 2]", actual: -3.25, expected: -3.0, allowed: 3.001e-5)]
        fail.grads = [GradResult(name: "input", agreement: Agreement(maxAbsErr: 0.25, toleranceUse: 2.5e4, mismatch: "at [0]: got 1, expected 0.75"),
                                 tolerance: Tolerance(rtol: 1e-4, atol: 1e-6))]
        fail.forwardMs = 0.02
        var hostile = CaseResult(id: "evil/<script>alert(1)</script>&x", backend: "reference", op: "relu", status: .error,
                                 message: "bad <b>value</b> & \"quotes\" 'too' &lt;not an entity&gt;")
        hostile.tags = ["x\"><script>alert(2)</script>"]
        hostile.arguments = "input=<img src=x onerror=alert(3)>"
        let unsupported = CaseResult(id: "pool/max_unpool1d/a", backend: "optimized", op: "max_unpool1d", status: .unsupported,
                                     message: "optimized does not implement max_unpool1d")
        return Report(created: "2026-11-21T18:00:00Z", machine: machine,
                      backends: [BackendInfo(name: "reference", details: "plain loops"), BackendInfo(name: "optimized", details: "BLAS")],
                      fixtures: ["Fixtures"], cases: [pass, fast, exact, fail, hostile, unsupported],
                      warnings: ["conv/x: unknown key 'colour' <ignored>"], calibrationMs: 1.5)
    }

    @Test func deterministic() {
        let r = Self.report()
        let a = HTMLReport.render(r), b = HTMLReport.render(r)
        #expect(a == b)
        // A round trip through the JSON report gives the same page.
        let again = try! Report.load(try! r.jsonData())
        #expect(HTMLReport.render(again) == a)
    }

    @Test func escapesReportText() {
        let html = HTMLReport.render(Self.report())
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<img src=x"))
        #expect(!html.contains("<b>value</b>"))
        #expect(html.contains("evil/&lt;script&gt;alert(1)&lt;/script&gt;&amp;x"))
        #expect(html.contains("&amp;lt;not an entity&amp;gt;"))       // shown exactly as written
        #expect(html.contains("data-tags=\"x&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;\""))
        #expect(html.contains("input=&lt;img src=x onerror=alert(3)&gt;"))
        // The only script element is the page's own.
        #expect(html.components(separatedBy: "<script").count == 2)
    }

    @Test func summaryCounts() {
        let html = HTMLReport.render(Self.report())
        #expect(html.contains("2 of 6 cases do not pass (1 fail, 1 error)."))
        #expect(html.contains("Test CPU, 2 cores, SIMD avx2"))
        #expect(html.contains("abc1234"))
        #expect(html.contains("OpenBLAS 0.3.21 (core Haswell, 2 threads)"))
        // Totals: reference 3 cases (2 pass, 1 error), optimized 3 (1 pass, 1 fail, 1 unsupported).
        #expect(html.contains(#"<code>reference</code></td><td><b>3</b></td><td><span class="b pass">2</span></td><td><span class="b zero">0</span></td><td><span class="b error">1</span></td>"#))
        #expect(html.contains(#"<code>optimized</code></td><td><b>3</b></td><td><span class="b pass">1</span></td><td><span class="b fail">1</span></td><td><span class="b zero">0</span></td><td><span class="b unsupported">1</span></td>"#))
        // Op table: GFLOP/s = 4e6 / (0.5 ms · 1e6) = 8 on optimized, speed-up 2 / 0.5 = 4.
        #expect(html.contains(#"<td data-v="8.0">8</td>"#))
        #expect(html.contains(#"<td data-v="4.0">4×</td>"#))
        #expect(html.contains(#"<td data-v="2.0">2</td><td data-v="4.0">4</td><td data-v="2.0">2</td>"#))   // reference fwd, bwd, GFLOP/s
    }

    @Test func failingCaseDetails() {
        let html = HTMLReport.render(Self.report())
        #expect(html.contains(#"<td class="t"><code>[0, 1]</code></td><td>1.0</td><td>1.5</td><td>0.5</td><td>1.00e-05</td>"#))
        #expect(html.contains(#"<td class="t"><code>[1, 2]</code></td><td>-3.0</td><td>-3.25</td><td>0.25</td>"#))
        #expect(html.contains("rtol 1e-05, atol 1e-08 (from tolerance.md K=1)"))
        #expect(html.contains("input=float32[2, 3]"))
        #expect(html.contains("<code>conformance run Fixtures --backend optimized --filter '^activation/relu/big$'</code>"))
        // The hostile id's repro escapes the regex and the shell quoting, then the HTML.
        let hostileRepro = "--filter '^evil/&lt;script&gt;alert\\(1\\)&lt;/script&gt;&amp;x$'"
        #expect(html.contains(hostileRepro))
        #expect(html.contains("at [0]: got 1, expected 0.75"))                // gradient mismatch
        #expect(html.contains(#"id="case-1""#) && html.contains(##"href="#case-1""##))
        #expect(html.contains("optimized does not implement max_unpool1d"))  // unsupported group
    }

    @Test func picturesAndNoNetwork() {
        let html = HTMLReport.render(Self.report())
        #expect(html.contains("<svg"))
        #expect(html.contains("reference: 2 passing cases with compared values"))
        #expect(html.contains("Median forward time"))
        for scheme in ["http://", "https://", "//cdn", "src=\"", "@import", "url("] { #expect(!html.contains(scheme), "\(scheme)") }
        #expect(html.hasPrefix("<!DOCTYPE html>"))
    }

    @Test func histogramBins() {
        #expect(HTMLCharts.bin(0) == 0)
        #expect(HTMLCharts.bin(1e-9) == 1)
        #expect(HTMLCharts.bin(1e-6) == 2)
        #expect(HTMLCharts.bin(3e-4) == 4)
        #expect(HTMLCharts.bin(0.5) == 7)
        #expect(HTMLCharts.bin(1) == 7)
        #expect(HTMLCharts.bin(.nan) == 7)
    }

    @Test func manyFailuresStayCompact() {
        var cases: [CaseResult] = []
        for i in 0..<(HTMLReport.detailLimit + 50) {
            var c = CaseResult(id: "x/op/\(i)", backend: "reference", op: "op", status: .fail, message: "m\(i)")
            c.mismatches = [ElementMismatch(index: "[0]", actual: 1, expected: 0, allowed: 0.1)]
            cases.append(c)
        }
        let r = Report(created: "t", machine: Self.machine, backends: [BackendInfo(name: "reference", details: "")],
                       fixtures: ["Fixtures"], cases: cases, warnings: [])
        let html = HTMLReport.render(r)
        #expect(html.components(separatedBy: "<article").count == HTMLReport.detailLimit + 1)
        #expect(html.contains("50 more, one line each"))
    }
}
