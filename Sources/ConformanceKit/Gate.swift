import Foundation

/// What `Gate.check` tolerates (docs/reports.md, "Gate"). Defaults are the documented ones.
public struct GateOptions: Equatable, Sendable {
    /// `error_growth` fires when a case's `tolerance_use` (or a gradient's) exceeds this times
    /// its baseline value ...
    public var errorGrowthFactor = 2.0
    /// ... and is above this floor, so growth from 1e-9 to 1e-7 (noise, far inside the
    /// tolerance) does not fire. `tolerance_use` 1 is the edge of the tolerance.
    public var errorGrowthFloor = 0.05
    /// `slowdown` fires when an op's normalized median forward time exceeds this times the
    /// baseline's.
    public var slowdownThreshold = 1.5
    /// Ops whose current median forward time is below this many milliseconds are not timed
    /// against the baseline; a baseline median below it counts as this floor (so 0.01 ms →
    /// 0.06 ms is noise, 0.01 ms → 10 ms is not).
    public var timeNoiseFloorMs = 0.05
    /// Backends other than this one are timed relative to it, case by case (their forward over
    /// its forward in the same run), when both reports have it; this backend itself, and all
    /// backends when it is absent, are timed relative to the report's `calibration_ms`.
    /// `nil`: calibration always.
    public var relativeToBackend: String? = "reference"
    /// Also compare backward times (same rule, same floor).
    public var checkBackward = false
    /// Whether a case of the baseline that the current report lacks is a violation (`missing`).
    /// Turn off only when the current run is deliberately filtered.
    public var failOnMissing = true

    public init() {}
}

public struct GateViolation: Equatable, Sendable {
    public enum Rule: String, Sendable, CaseIterable {
        case regression, missing, errorGrowth = "error_growth", slowdown
    }
    public var rule: Rule
    /// The case; for `slowdown`, which is judged per op, nil.
    public var caseId: String?
    public var op: String
    public var backend: String
    public var detail: String

    public init(rule: Rule, caseId: String?, op: String, backend: String, detail: String) {
        self.rule = rule
        self.caseId = caseId
        self.op = op
        self.backend = backend
        self.detail = detail
    }
}

public struct GateResult: Equatable, Sendable {
    public var violations: [GateViolation]
    /// Things worth saying that do not fail the gate: new cases, skipped speed checks.
    public var notes: [String]
    /// Case ids × backends that the current report has and the baseline does not.
    public var newCases: [String]

    public var passed: Bool { violations.isEmpty }

    /// A readable verdict: each rule that fired with its violations (at most `limit` per rule),
    /// then the notes.
    public func summary(limit: Int) -> String {
        var lines: [String] = []
        lines.append(passed ? "gate: passed" : "gate: FAILED, \(violations.count) violation\(violations.count == 1 ? "" : "s")")
        for rule in GateViolation.Rule.allCases {
            let vs = violations.filter { $0.rule == rule }
            guard !vs.isEmpty else { continue }
            lines.append("")
            lines.append("rule \(rule.rawValue) fired \(vs.count) time\(vs.count == 1 ? "" : "s") (\(Gate.ruleDescription(rule))):")
            for v in vs.prefix(limit) {
                let subject = v.caseId.map { "\($0) [\(v.backend)]" } ?? "op \(v.op) [\(v.backend)]"
                lines.append("  \(rule.rawValue): \(subject): \(v.detail)")
            }
            if vs.count > limit { lines.append("  ... and \(vs.count - limit) more") }
        }
        if !newCases.isEmpty {
            lines.append("")
            lines.append("info: \(newCases.count) new case\(newCases.count == 1 ? "" : "s") not in the baseline (not judged)")
            for n in newCases.prefix(10) { lines.append("  new: \(n)") }
            if newCases.count > 10 { lines.append("  ... and \(newCases.count - 10) more") }
        }
        for n in notes { lines.append("info: \(n)") }
        return lines.joined(separator: "\n")
    }

    public func summary() -> String { summary(limit: 50) }
}

/// Compares a run with a baseline run (docs/reports.md, "Gate"): regressions, missing cases,
/// error growth, slowdowns. Deterministic: violations come sorted by rule, then case/op, then
/// backend.
public enum Gate {
    public static func check(baseline: Report, current: Report, options: GateOptions = GateOptions()) -> GateResult {
        var violations: [GateViolation] = []
        var notes: [String] = []
        let now = index(current), before = index(baseline)

        // 1. regression / missing, 2. error growth — case by case.
        for key in before.keys.sorted(by: keyOrder) {
            let b = before[key]!
            guard let c = now[key] else {
                if options.failOnMissing && b.status == .pass {
                    violations.append(.init(rule: .missing, caseId: b.id, op: b.op, backend: b.backend,
                                            detail: "passed in the baseline, absent from this run"))
                }
                continue
            }
            if b.status == .pass && c.status != .pass {
                let why = c.message.map { ": " + oneLine($0) } ?? ""
                violations.append(.init(rule: .regression, caseId: c.id, op: c.op, backend: c.backend,
                                        detail: "passed in the baseline, now \(c.status.rawValue)\(why)"))
                continue
            }
            guard c.status == .pass else { continue }
            if let growth = grew(b.toleranceUse, c.toleranceUse, options) {
                violations.append(.init(rule: .errorGrowth, caseId: c.id, op: c.op, backend: c.backend,
                                        detail: "output tolerance_use \(growth)"))
            }
            let baseGrads = Dictionary((b.grads ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for g in (c.grads ?? []).sorted(by: { $0.name < $1.name }) {
                guard let bg = baseGrads[g.name] else { continue }
                if let growth = grew(bg.agreement.toleranceUse, g.agreement.toleranceUse, options) {
                    violations.append(.init(rule: .errorGrowth, caseId: c.id, op: c.op, backend: c.backend,
                                            detail: "grad of \(g.name) tolerance_use \(growth)"))
                }
            }
        }
        let newCases = now.keys.filter { before[$0] == nil }.sorted(by: keyOrder).map { "\($0.id) [\($0.backend)]" }

        // 3. slowdown — per op and backend, on normalized times.
        var phases: [(String, KeyPath<CaseResult, Double?>)] = [("forward", \.forwardMs)]
        if options.checkBackward { phases.append(("backward", \.backwardMs)) }
        for (phase, time) in phases {
            let (v, n) = slowdowns(before: before, now: now, baseline: baseline, current: current, phase: phase, time: time, options)
            violations += v
            notes += n
        }

        let order = Dictionary(uniqueKeysWithValues: GateViolation.Rule.allCases.enumerated().map { ($1, $0) })
        violations.sort {
            (order[$0.rule]!, $0.caseId ?? $0.op, $0.backend, $0.detail) < (order[$1.rule]!, $1.caseId ?? $1.op, $1.backend, $1.detail)
        }
        return GateResult(violations: violations, notes: Array(Set(notes)).sorted(), newCases: newCases)
    }

    static func ruleDescription(_ rule: GateViolation.Rule) -> String {
        switch rule {
        case .regression: return "passed in the baseline, does not pass now"
        case .missing: return "passed in the baseline, not run now"
        case .errorGrowth: return "tolerance_use grew past the factor and above the floor"
        case .slowdown: return "normalized median time grew past the threshold"
        }
    }

    struct Key: Hashable { var id: String; var backend: String }

    static func keyOrder(_ a: Key, _ b: Key) -> Bool { (a.id, a.backend) < (b.id, b.backend) }

    static func index(_ r: Report) -> [Key: CaseResult] {
        var d: [Key: CaseResult] = [:]
        for c in r.cases { d[Key(id: c.id, backend: c.backend)] = d[Key(id: c.id, backend: c.backend)] ?? c }
        return d
    }

    /// "0.02 → 0.31 (15.5×; factor 2, floor 0.05)" when `now` grew past the factor and the floor.
    static func grew(_ base: Double?, _ now: Double?, _ o: GateOptions) -> String? {
        guard let now, let base, !now.isNaN, !base.isNaN else { return nil }
        guard now > o.errorGrowthFloor, now > o.errorGrowthFactor * base else { return nil }
        let ratio = base > 0 ? "\(fmt(now / base))×" : "from 0"
        return "\(fmt(base)) → \(fmt(now)) (\(ratio); limit \(fmt(o.errorGrowthFactor))× and > \(fmt(o.errorGrowthFloor)))"
    }

    /// Per op and backend: the median over the cases both reports timed of (time / norm), where
    /// norm is the same case's time on `relativeToBackend` in the same report, or the report's
    /// calibration.
    static func slowdowns(before: [Key: CaseResult], now: [Key: CaseResult], baseline: Report, current: Report,
                          phase: String, time: KeyPath<CaseResult, Double?>, _ o: GateOptions)
        -> ([GateViolation], [String]) {
        var violations: [GateViolation] = [], notes: [String] = []
        let backendsInBoth = Set(before.keys.map(\.backend)).intersection(now.keys.map(\.backend))
        let relative = o.relativeToBackend.flatMap { backendsInBoth.contains($0) ? $0 : nil }
        let calibrated: Bool = {
            guard let a = baseline.calibrationMs, let b = current.calibrationMs else { return false }
            return a > 0 && b > 0 && a.isFinite && b.isFinite
        }()

        if calibrated, let a = baseline.calibrationMs, let b = current.calibrationMs, max(a, b) / min(a, b) > o.slowdownThreshold {
            notes.append("calibration_ms differs \(fmt(max(a, b) / min(a, b)))× between the reports (\(fmt(a)) → \(fmt(b)) ms): "
                         + "different machines or a loaded one; slowdowns measured against it are less reliable")
        }
        struct Sample { var base: Double; var cur: Double; var baseMs: Double; var curMs: Double }
        var groups: [String: (op: String, backend: String, mode: String, samples: [Sample])] = [:]
        for key in now.keys.sorted(by: keyOrder) {
            guard let c = now[key], let b = before[key],
                  let cMs = c[keyPath: time], let bMs = b[keyPath: time],
                  cMs.isFinite, bMs.isFinite, cMs > 0, bMs > 0 else { continue }
            let baseNorm: Double, curNorm: Double, mode: String
            if let rel = relative, key.backend != rel {
                guard let cr = now[Key(id: key.id, backend: rel)]?[keyPath: time],
                      let br = before[Key(id: key.id, backend: rel)]?[keyPath: time],
                      cr > 0, br > 0, cr.isFinite, br.isFinite else { continue }
                (baseNorm, curNorm, mode) = (br, cr, "/ \(rel)")
            } else if calibrated {
                (baseNorm, curNorm, mode) = (baseline.calibrationMs!, current.calibrationMs!, "/ calibration")
            } else {
                notes.append("\(phase) times of backend \(key.backend) not compared: a report lacks calibration_ms")
                continue
            }
            let g = "\(c.op)\u{0}\(key.backend)"
            groups[g, default: (c.op, key.backend, mode, [])].samples.append(
                Sample(base: bMs / baseNorm, cur: cMs / curNorm, baseMs: bMs, curMs: cMs))
        }
        for g in groups.keys.sorted() {
            let (op, backend, mode, samples) = groups[g]!
            let curMs = median(samples.map(\.curMs)), baseMs = median(samples.map(\.baseMs))
            guard curMs >= o.timeNoiseFloorMs else { continue }
            var base = median(samples.map(\.base))
            let cur = median(samples.map(\.cur))
            // A baseline below the floor counts as the floor: its ratio is mostly timer noise.
            if baseMs < o.timeNoiseFloorMs { base *= o.timeNoiseFloorMs / baseMs }
            guard base > 0, cur > o.slowdownThreshold * base else { continue }
            violations.append(.init(
                rule: .slowdown, caseId: nil, op: op, backend: backend,
                detail: "\(phase) \(fmt(cur / base))× slower than the baseline (median over \(samples.count) case\(samples.count == 1 ? "" : "s") of time \(mode): \(fmt(base)) → \(fmt(cur)); \(fmt(baseMs)) → \(fmt(curMs)) ms; threshold \(fmt(o.slowdownThreshold))×)"))
        }
        return (violations, notes)
    }

    static func oneLine(_ s: String) -> String {
        let l = s.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return l.count > 200 ? String(l.prefix(200)) + "…" : l
    }

    static func fmt(_ x: Double) -> String { String(format: "%.3g", x) }
}

extension Gate {
    /// The median (mean of the middle two for an even count); 0 for no values.
    static func median(_ values: [Double]) -> Double {
        let v = values.sorted()
        guard !v.isEmpty else { return 0 }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }
}
