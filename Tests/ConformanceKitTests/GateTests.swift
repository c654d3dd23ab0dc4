import Foundation
import Testing
@testable import ConformanceKit

// Fabricated reports for the CI-output tests (Gate, JUnit, Markdown, Merge).

var ciMachine: MachineInfo { MachineInfo(cpu: "Test CPU", cores: 2, simd: "avx2", os: "Debian", openblas: "OpenBLAS 0.3.21",
                            openblasCore: "Haswell", openblasThreads: 2, gitCommit: "abc1234") }

func ciCase(_ id: String, op: String = "relu", _ status: Status = .pass,
            message: String? = nil, use: Double? = 0.01, grads: [String: Double] = [:],
            forward: Double? = 1.0, backward: Double? = nil) -> CaseResult {
    ciCase(id, "reference", op: op, status, message: message, use: use, grads: grads, forward: forward, backward: backward)
}

func ciCase(_ id: String, _ backend: String, op: String = "relu", _ status: Status = .pass,
            message: String? = nil, use: Double? = 0.01, grads: [String: Double] = [:],
            forward: Double? = 1.0, backward: Double? = nil) -> CaseResult {
    var c = CaseResult(id: id, backend: backend, op: op, status: status, message: message)
    c.toleranceUse = use
    c.maxAbsErr = use.map { $0 * 1e-6 }
    c.maxRelErr = use.map { $0 * 1e-5 }
    c.maxULP = use.map { $0 * 10 }
    c.forwardMs = forward
    c.backwardMs = backward
    let t = Tolerance(rtol: 1e-5, atol: 1e-6)
    if !grads.isEmpty {
        c.grads = grads.keys.sorted().map { name in
            GradResult(name: name, agreement: Agreement(maxAbsErr: 0, maxRelErr: 0, maxULP: 0, toleranceUse: grads[name]!), tolerance: t)
        }
    }
    return c
}

func ciReport(_ cases: [CaseResult], backends: [String] = ["reference"], calibration: Double? = 10,
              shard: String? = nil, warnings: [String] = []) -> Report {
    Report(created: "2026-01-01T00:00:00Z", machine: ciMachine,
           backends: backends.map { BackendInfo(name: $0, details: "\($0) backend") }, fixtures: ["Fixtures"],
           cases: cases, warnings: warnings, calibrationMs: calibration, shard: shard)
}

@Suite struct GateTests {
    let base = ciReport([
        ciCase("act/relu/a", op: "relu", use: 0.1, grads: ["input": 0.1]),
        ciCase("act/relu/b", op: "relu", use: 1e-9),
        ciCase("conv/conv2d/a", op: "conv2d", forward: 2.0),
        ciCase("conv/conv2d/b", op: "conv2d", forward: 4.0),
        ciCase("loss/mse/a", op: "mse_loss", .fail, message: "output at [0]: got 1, expected 2", use: 3),
    ])

    func rules(_ r: GateResult) -> [String] { r.violations.map(\.rule.rawValue) }

    @Test func unchangedReportPasses() {
        let r = Gate.check(baseline: base, current: base, options: GateOptions())
        #expect(r.passed)
        #expect(r.violations.isEmpty)
        #expect(r.newCases.isEmpty)
        #expect(r.summary().hasPrefix("gate: passed"))
    }

    @Test func regressionFires() {
        var cur = base
        cur.cases[2].status = .error
        cur.cases[2].message = "RuntimeError: boom"
        let r = Gate.check(baseline: base, current: cur, options: GateOptions())
        #expect(!r.passed)
        #expect(rules(r) == ["regression"])
        #expect(r.violations[0].caseId == "conv/conv2d/a" && r.violations[0].backend == "reference")
        #expect(r.violations[0].detail.contains("now error: RuntimeError: boom"))
        #expect(r.summary().contains("rule regression fired 1 time"))
        #expect(r.summary().contains("regression: conv/conv2d/a [reference]"))
    }

    @Test func everyNonPassingStatusIsARegression() {
        for s in [Status.fail, .error, .invalid, .unsupported] {
            var cur = base
            cur.cases[1].status = s
            #expect(rules(Gate.check(baseline: base, current: cur, options: GateOptions())) == ["regression"], "\(s)")
        }
        // A case that already failed in the baseline and still fails is not a regression.
        var cur = base
        cur.cases[4].message = "worse"
        #expect(Gate.check(baseline: base, current: cur, options: GateOptions()).passed)
    }

    @Test func missingCaseFiresUnlessAllowed() {
        let cur = ciReport(base.cases.filter { $0.id != "act/relu/b" })
        let r = Gate.check(baseline: base, current: cur, options: GateOptions())
        #expect(rules(r) == ["missing"])
        #expect(r.violations[0].caseId == "act/relu/b")
        #expect(r.summary().contains("rule missing fired"))
        var o = GateOptions()
        o.failOnMissing = false
        #expect(Gate.check(baseline: base, current: cur, options: o).passed)
    }

    @Test func errorGrowthFiresAboveFactorAndFloor() {
        var cur = base
        cur.cases[0].toleranceUse = 0.25            // 0.1 → 0.25: 2.5× and above 0.05
        let r = Gate.check(baseline: base, current: cur, options: GateOptions())
        #expect(rules(r) == ["error_growth"])
        #expect(r.violations[0].caseId == "act/relu/a")
        #expect(r.violations[0].detail.hasPrefix("output tolerance_use 0.1 → 0.25 (2.5×"))
        #expect(r.summary().contains("rule error_growth fired 1 time"))

        cur.cases[0].toleranceUse = 0.19            // 1.9×: under the factor
        #expect(Gate.check(baseline: base, current: cur, options: GateOptions()).passed)
    }

    @Test func errorGrowthPerGradient() {
        var cur = base
        cur.cases[0].grads![0].agreement.toleranceUse = 0.9
        let r = Gate.check(baseline: base, current: cur, options: GateOptions())
        #expect(rules(r) == ["error_growth"])
        #expect(r.violations[0].detail.hasPrefix("grad of input tolerance_use 0.1 → 0.9"))
    }

    @Test func subFloorNoiseIsIgnored() {
        var cur = base
        cur.cases[1].toleranceUse = 1e-6            // 1000× of 1e-9, but far below the 0.05 floor
        #expect(Gate.check(baseline: base, current: cur, options: GateOptions()).passed)
        cur.cases[1].toleranceUse = 0.06            // from ~0 to above the floor: fires
        #expect(rules(Gate.check(baseline: base, current: cur, options: GateOptions())) == ["error_growth"])
    }

    @Test func newCasesAreInfoNotViolations() {
        let cur = ciReport(base.cases + [ciCase("new/thing/a", op: "gelu", .fail, message: "nope")])
        let r = Gate.check(baseline: base, current: cur, options: GateOptions())
        #expect(r.passed)
        #expect(r.newCases == ["new/thing/a [reference]"])
        #expect(r.summary().contains("info: 1 new case not in the baseline"))
    }

    @Test func slowdownOnCalibratedTimes() {
        var cur = base
        cur.cases[2].forwardMs = 4.0                // conv2d median 3 → 5 ms, same calibration: 1.67×
        cur.cases[3].forwardMs = 6.0
        let r = Gate.check(baseline: base, current: cur, options: GateOptions())
        #expect(rules(r) == ["slowdown"])
        #expect(r.violations[0].op == "conv2d" && r.violations[0].caseId == nil)
        #expect(r.violations[0].detail.hasPrefix("forward 1.67× slower"))
        #expect(r.summary().contains("rule slowdown fired 1 time"))
        #expect(r.summary().contains("op conv2d [reference]"))

        // The same milliseconds on a machine whose calibration kernel is twice as slow: not slower.
        cur.calibrationMs = 20
        #expect(Gate.check(baseline: base, current: cur, options: GateOptions()).passed)
        // And the unchanged milliseconds on a machine twice as fast: 2× slower per calibration.
        var fast = base
        fast.calibrationMs = 5
        let r2 = Gate.check(baseline: base, current: fast, options: GateOptions())
        #expect(r2.violations.map(\.op) == ["conv2d", "mse_loss", "relu"])
        #expect(r2.violations.allSatisfy { $0.rule == .slowdown && $0.detail.hasPrefix("forward 2× slower") })
        #expect(r2.notes.contains { $0.hasPrefix("calibration_ms differs 2× between the reports (10 → 5 ms)") })
        #expect(r2.summary().contains("info: calibration_ms differs 2×"))
    }

    @Test func slowdownSkippedWithoutCalibration() {
        var cur = base
        cur.cases[2].forwardMs = 40
        cur.calibrationMs = nil
        let r = Gate.check(baseline: base, current: cur, options: GateOptions())
        #expect(r.passed)
        #expect(r.notes.contains { $0.contains("lacks calibration_ms") })
    }

    @Test func timesBelowTheNoiseFloorAreIgnored() {
        let b = ciReport([ciCase("a/x/1", op: "add", forward: 0.01)])
        var c = b
        c.cases[0].forwardMs = 0.04                 // 4×, but still under 0.05 ms
        #expect(Gate.check(baseline: b, current: c, options: GateOptions()).passed)
        c.cases[0].forwardMs = 0.06                 // over the floor; the baseline counts as 0.05: 1.2×
        #expect(Gate.check(baseline: b, current: c, options: GateOptions()).passed)
        c.cases[0].forwardMs = 10                   // a real slowdown from a tiny baseline
        #expect(rules(Gate.check(baseline: b, current: c, options: GateOptions())) == ["slowdown"])
    }

    @Test func backendsTimedRelativeToTheReference() {
        let b = ciReport([ciCase("m/mm/1", "optimized", op: "mm", forward: 1), ciCase("m/mm/1", "reference", op: "mm", forward: 10)],
                         backends: ["reference", "optimized"], calibration: nil)
        var c = b
        c.cases[0].forwardMs = 2; c.cases[1].forwardMs = 20     // everything twice slower: a slower machine
        #expect(Gate.check(baseline: b, current: c, options: GateOptions()).passed)
        c.cases[1].forwardMs = 10                               // only optimized slower
        let r = Gate.check(baseline: b, current: c, options: GateOptions())
        #expect(rules(r) == ["slowdown"])
        #expect(r.violations[0].backend == "optimized")
        #expect(r.violations[0].detail.contains("/ reference"))
    }

    @Test func backwardTimesWhenAsked() {
        let b = ciReport([ciCase("a/x/1", forward: 1, backward: 1)])
        var c = b
        c.cases[0].backwardMs = 3
        #expect(Gate.check(baseline: b, current: c, options: GateOptions()).passed)
        var o = GateOptions()
        o.checkBackward = true
        let r = Gate.check(baseline: b, current: c, options: o)
        #expect(rules(r) == ["slowdown"])
        #expect(r.violations[0].detail.hasPrefix("backward 3× slower"))
    }

    @Test func violationsAreDeterministicAndOrderedByRule() {
        var cur = ciReport(Array(base.cases.reversed()))
        cur.cases.removeAll { $0.id == "act/relu/b" }
        cur.cases[0].status = .fail                  // loss/mse/a (already failing): nothing
        cur.cases[1].forwardMs = 40                  // conv2d slower
        cur.cases[3].toleranceUse = 0.5              // act/relu/a grows
        let a = Gate.check(baseline: base, current: cur, options: GateOptions())
        let b = Gate.check(baseline: base, current: cur, options: GateOptions())
        #expect(a == b)
        #expect(rules(a) == ["missing", "error_growth", "slowdown"])
        #expect(a.summary() == b.summary())
    }

    @Test func medianOfEvenAndOdd() {
        #expect(Gate.median([3, 1, 2]) == 2)
        #expect(Gate.median([4, 1, 2, 3]) == 2.5)
        #expect(Gate.median([]) == 0)
    }
}
