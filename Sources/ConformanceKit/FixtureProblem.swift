import Foundation
import NNCore
import NNModules

/// One thing wrong with a fixture, located as `file: case: json.path: message`
/// (docs/fixture-format.md, "Validation messages").
///
/// `invalid`: the file breaks `nnconf/1` (the case cannot mean anything). `unsupported`: the case
/// is well formed but names an op, module or attribute nnconf does not know, so no backend of
/// this harness can run it; that is reported, never a pass, and not the fixture's fault.
public struct FixtureProblem: Codable, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable { case invalid, unsupported }

    public var kind: Kind
    /// The fixture file, as found under the path given to the loader.
    public var file: String
    /// `case 'name'`, `case 3` (no usable name) or `case 9 'dup'`; empty for the whole file.
    public var caseLabel: String
    /// The case id the problem is reported under (a file-level problem: the file's relative name).
    public var id: String
    /// Where in the case (or, for a file-level problem, the file): `args.input.data[3]`.
    public var path: String
    public var message: String

    public init(_ kind: Kind = .invalid, file: String, caseLabel: String = "", id: String, path: String, message: String) {
        self.kind = kind
        self.file = file
        self.caseLabel = caseLabel
        self.id = id
        self.path = path
        self.message = message
    }

    /// `file: case 'name': json.path: message`, leaving out the parts that are empty.
    public var description: String {
        [file, caseLabel, path, message].filter { !$0.isEmpty }.joined(separator: ": ")
    }

    enum CodingKeys: String, CodingKey { case kind = "status", file, caseLabel = "case", id, path, message }
}

/// Checks fixtures without running them: every `invalid` case the loader produced, plus what no
/// backend here can run (ops not in `Signatures.all`, `torch.nn` classes nnconf lacks, `attrs`
/// the harness does not check). Used by `conformance validate`.
public enum FixtureValidator {
    public static func problems(in files: [FixtureFile]) -> [FixtureProblem] {
        files.flatMap { file in file.cases.flatMap { problems(in: $0) } }
    }

    public static func problems(in c: FixtureCase) -> [FixtureProblem] {
        let label = c.name.isEmpty ? "" : "case '\(c.name)'"
        func unsupported(_ path: String, _ message: String) -> FixtureProblem {
            FixtureProblem(.unsupported, file: c.file, caseLabel: label, id: c.id, path: path, message: message)
        }
        switch c.body {
        case .invalid(let why):
            return [c.problem ?? FixtureProblem(file: c.file, id: c.id, path: "", message: why)]
        case .call(let spec):
            return knownOp(spec.op) ? [] : [unsupported("call", unknownOp(spec.op))]
        case .program(let steps):
            return steps.flatMap { unsupportedParts(of: $0) }.map { unsupported($0.0, $0.1) }
        }
    }

    static func knownOp(_ op: String) -> Bool { Signatures.all[op] != nil }
    static func unknownOp(_ op: String) -> String { "unsupported: '\(op)' is not an op nnconf knows" }
    static let checkedAttrs: Set = ["requires_grad", "is_leaf", "grad_fn", "shape", "dtype", "_version", "version"]

    /// (JSON path, message) for each op, class or attribute of a step nnconf cannot run.
    static func unsupportedParts(of step: Step) -> [(String, String)] {
        switch step.action {
        case .call(let op, _):
            return knownOp(op) ? [] : [("\(step.path).call", unknownOp(op))]
        case .module(let m):
            func walk(_ m: ModuleSpec, _ path: String) -> [(String, String)] {
                (Modules.classNames.contains(m.cls) ? [] : [("\(path).module", "unsupported: nn.\(m.cls) is not a module nnconf knows")])
                    + m.children.enumerated().flatMap { walk($1.1, "\(path).children[\($0)][1]") }
            }
            return walk(m, step.path)
        case .checkAttrs(_, let attrs):
            return attrs.map(\.0).filter { !checkedAttrs.contains($0) }
                .map { ("\(step.path).attrs.\($0)", "unsupported: attribute '\($0)' is not checked by this harness") }
        case .noGrad(let inner):
            return inner.flatMap { unsupportedParts(of: $0) }
        default:
            return []
        }
    }
}
