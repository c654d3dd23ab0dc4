import Foundation
import NNCore

/// The verdict of one case on one backend (see fixture-format.md, "Results").
public enum Status: String, Codable, CaseIterable, Sendable {
    case pass, fail, error, unsupported, invalid
    /// Would pass, but the expected values cannot tell a correct kernel from a no-op one
    /// (all zeros, one value, mostly zeros where the op makes none: `Trust.swift`). Never a pass.
    case mistrusted
}

/// A gradient's agreement with the fixture.
public struct GradResult: Codable, Equatable {
    public var name: String
    public var agreement: Agreement
    public var tolerance: Tolerance
    /// Where `tolerance` came from (`fixture`, or the default rule with its K).
    public var toleranceSource: String?

    public init(name: String, agreement: Agreement, tolerance: Tolerance, toleranceSource: String? = nil) {
        self.name = name
        self.agreement = agreement
        self.tolerance = tolerance
        self.toleranceSource = toleranceSource
    }

    enum CodingKeys: String, CodingKey { case name, agreement, tolerance, toleranceSource = "tolerance_source" }
}

/// `--gradcheck`: the reference backward against central finite differences in float64.
public struct GradcheckResult: Codable, Equatable {
    public var status: String           // pass, fail, skipped
    public var maxAbsErr: Double?
    public var message: String?

    enum CodingKeys: String, CodingKey { case status, maxAbsErr = "max_abs_err", message }
}

public struct CaseResult: Codable, Equatable {
    public var id: String
    public var backend: String
    public var op: String
    public var status: Status
    public var message: String?
    /// Outputs' agreement (the worst over a tuple's tensors or a program's value checks).
    public var maxAbsErr: Double?
    public var maxRelErr: Double?
    public var maxULP: Double?
    public var toleranceUse: Double?
    public var tolerance: Tolerance?
    public var toleranceSource: String?
    public var grads: [GradResult]?
    public var forwardMs: Double?
    public var backwardMs: Double?
    public var gradcheck: GradcheckResult?
    public var tags: [String]?
    /// The call's arguments in brief (`input=float32[2, 3, 5, 5] stride=2`), for reports.
    public var arguments: String?
    /// First elements outside tolerance (outputs, then gradients), for reports' diffs.
    public var mismatches: [ElementMismatch]?
    /// Floating-point operations of the forward, where a count is defined (conv, linear, ...).
    public var flops: Double?
    /// With several backends: this backend's agreement with the reference's outputs and gradients.
    public var vsReference: Agreement?
    public var vsReferenceGrads: [GradResult]?
    /// The reference's forward time divided by this backend's.
    public var speedup: Double?
    /// Why the case's expected values are degenerate (`Trust`): the reasons it is `mistrusted`,
    /// or, on a case that failed anyway, why its fixture is weak.
    public var mistrust: [String]?

    public init(id: String, backend: String, op: String, status: Status, message: String? = nil) {
        self.id = id
        self.backend = backend
        self.op = op
        self.status = status
        self.message = message
    }

    /// Marks the case failed with `message`, keeping the first failure's message and diff.
    mutating func fail(_ message: String, _ a: Agreement) {
        guard status == .pass else { return }
        status = .fail
        self.message = message
        mismatches = a.mismatches
    }

    /// Records why the expected values are degenerate; a passing case becomes `mistrusted`.
    mutating func mistrust(_ reasons: [String]) {
        guard !reasons.isEmpty else { return }
        mistrust = reasons
        guard status == .pass else { return }
        status = .mistrusted
        message = "mistrusted: " + reasons.joined(separator: "; ")
    }

    mutating func record(_ a: Agreement) {
        maxAbsErr = max(maxAbsErr ?? 0, a.maxAbsErr)
        maxRelErr = max(maxRelErr ?? 0, a.maxRelErr)
        maxULP = max(maxULP ?? 0, a.maxULP)
        toleranceUse = max(toleranceUse ?? 0, a.toleranceUse)
    }

    enum CodingKeys: String, CodingKey {
        case id, backend, op, status, message, tolerance, grads, gradcheck, tags
        case maxAbsErr = "max_abs_err", maxRelErr = "max_rel_err", maxULP = "max_ulp"
        case toleranceUse = "tolerance_use", toleranceSource = "tolerance_source"
        case forwardMs = "forward_ms", backwardMs = "backward_ms", arguments, mismatches, flops, speedup
        case vsReference = "vs_reference", vsReferenceGrads = "vs_reference_grads", mistrust
    }
}

public struct Counts: Codable, Equatable {
    public var pass = 0, fail = 0, error = 0, unsupported = 0, invalid = 0, mistrusted = 0

    public init() {}

    /// Reports written before `mistrusted` existed have no such key: 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pass = try c.decode(Int.self, forKey: .pass)
        fail = try c.decode(Int.self, forKey: .fail)
        error = try c.decode(Int.self, forKey: .error)
        unsupported = try c.decode(Int.self, forKey: .unsupported)
        invalid = try c.decode(Int.self, forKey: .invalid)
        mistrusted = try c.decodeIfPresent(Int.self, forKey: .mistrusted) ?? 0
    }

    public subscript(s: Status) -> Int {
        get {
            switch s {
            case .pass: return pass
            case .fail: return fail
            case .error: return error
            case .unsupported: return unsupported
            case .invalid: return invalid
            case .mistrusted: return mistrusted
            }
        }
        set {
            switch s {
            case .pass: pass = newValue
            case .fail: fail = newValue
            case .error: error = newValue
            case .unsupported: unsupported = newValue
            case .invalid: invalid = newValue
            case .mistrusted: mistrusted = newValue
            }
        }
    }

    public var total: Int { pass + fail + error + unsupported + invalid + mistrusted }
    /// Whether a run with these counts succeeds: nothing failed, errored or was invalid.
    /// `mistrusted`, like `unsupported`, is never a pass but does not fail a run by itself: the
    /// backend may be right, the fixture cannot tell (the gate does count it as not passing).
    public var ok: Bool { fail == 0 && error == 0 && invalid == 0 }
}

public struct BackendInfo: Codable, Equatable {
    public var name: String
    public var details: String
    public init(name: String, details: String) {
        self.name = name
        self.details = details
    }
}

/// The JSON report, format `nnconf-report/1` (docs/report-format.md).
public struct Report: Codable, Equatable {
    public var format = "nnconf-report/1"
    public var created: String
    public var machine: MachineInfo
    public var backends: [BackendInfo]
    public var fixtures: [String]
    public var summary: [String: Counts]
    public var cases: [CaseResult]
    public var warnings: [String]
    /// Median milliseconds of a fixed calibration kernel timed in the same run: timings divided
    /// by it compare across machines and loads better than raw milliseconds (the gate uses it).
    public var calibrationMs: Double?
    /// `K/N` when this report holds one shard of a larger run.
    public var shard: String?

    enum CodingKeys: String, CodingKey {
        case format, created, machine, backends, fixtures, summary, cases, warnings, shard
        case calibrationMs = "calibration_ms"
    }

    public init(created: String, machine: MachineInfo, backends: [BackendInfo], fixtures: [String],
                cases: [CaseResult], warnings: [String], calibrationMs: Double? = nil, shard: String? = nil) {
        self.calibrationMs = calibrationMs
        self.shard = shard
        self.created = created
        self.machine = machine
        self.backends = backends
        self.fixtures = fixtures
        self.cases = cases
        self.warnings = warnings
        var summary: [String: Counts] = [:]
        for b in backends { summary[b.name] = Counts() }
        for c in cases { summary[c.backend, default: Counts()][c.status] += 1 }
        self.summary = summary
    }

    public var ok: Bool { summary.values.allSatisfy(\.ok) }

    /// Deterministic JSON: sorted keys, non-finite numbers as "inf"/"-inf"/"nan".
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(self)
    }

    /// The report as a committed baseline keeps it: only what `Gate` reads (status, worst
    /// tolerance use of outputs and gradients, timings, calibration), as compact JSON.
    public func baselineData() throws -> Data {
        var slim = self
        slim.warnings = []
        slim.cases = cases.map { c in
            var b = CaseResult(id: c.id, backend: c.backend, op: c.op, status: c.status)
            b.toleranceUse = c.toleranceUse
            b.grads = c.grads?.map { g in
                GradResult(name: g.name, agreement: Agreement(toleranceUse: g.agreement.toleranceUse), tolerance: g.tolerance)
            }
            b.forwardMs = c.forwardMs
            b.backwardMs = c.backwardMs
            return b
        }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(slim)
    }

    public static func load(_ data: Data) throws -> Report {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try d.decode(Report.self, from: data)
    }
}
