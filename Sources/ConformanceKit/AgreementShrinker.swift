import Foundation
import NNCore

/// Shrinks a disagreeing case to a minimal one. Each pass tries, for every choice v > 0, the
/// values 0 (the simplest: size 1, the default argument), ⌊v/2⌋ (halve) and v − 1, replays the
/// generator on the edited choices (0 past the end), and keeps the result when the backends
/// still disagree and it is smaller: fewer tensor elements, then shortlex-smaller choices. That
/// order is well-founded, so shrinking ends; it stops when a whole pass keeps nothing (a local
/// minimum: no single choice can be simplified) or after `budget` runs.
public struct AgreementShrinker {
    public let runner: AgreementRunner
    public let generator: CaseGenerator
    public var budget = 300

    public init(runner: AgreementRunner, generator: @escaping CaseGenerator, budget: Int = 300) {
        self.runner = runner
        self.generator = generator
        self.budget = budget
    }

    /// The case `choices` make with `seed` (0 past the end of `choices`).
    public static func replay(_ generator: CaseGenerator, seed: UInt64, choices: [Int], allowLarge: Bool = true) -> AgreementCase {
        var d = Draw(seed: seed, replay: choices, fresh: false, allowLarge: allowLarge)
        var c = generator(&d)
        c.choices = d.choices
        c.seed = seed
        c.allowLarge = allowLarge
        return c
    }

    static func smaller(_ a: AgreementCase, than b: AgreementCase) -> Bool {
        if a.elements != b.elements { return a.elements < b.elements }
        if a.choices.count != b.choices.count { return a.choices.count < b.choices.count }
        return a.choices.lexicographicallyPrecedes(b.choices)
    }

    /// The minimal disagreeing case found from `failing`, and how many runs it took.
    ///
    /// When no single choice can be simplified, a second pass tries decrementing one choice
    /// and deleting a later one together: that is how a count shrinks together with what it
    /// counts (rank 2 → 1 and one of the two dimensions gone, so `[1, 5]` becomes `[5]`).
    public func shrink(_ failing: AgreementCase) -> (AgreementCase, runs: Int) {
        var best = failing, runs = 0
        func attempt(_ choices: [Int]) -> Bool {
            let c = Self.replay(generator, seed: best.seed, choices: choices, allowLarge: best.allowLarge)
            guard Self.smaller(c, than: best), runs < budget else { return false }
            runs += 1
            guard runner.run(c).0.isDisagreement else { return false }
            best = c
            return true
        }
        var improved = true
        while improved && runs < budget {
            improved = false
            var i = 0
            while i < best.choices.count && runs < budget {
                let v = best.choices[i]
                for candidate in [0, v / 2, v - 1] where candidate < v {
                    var choices = best.choices
                    choices[i] = candidate
                    if attempt(choices) { improved = true; break }
                }
                i += 1
            }
            if improved { continue }
            search: for i in best.choices.indices where best.choices[i] > 0 {
                for j in (i + 1)..<best.choices.count {
                    var choices = best.choices
                    choices[i] -= 1
                    choices.remove(at: j)
                    if attempt(choices) { improved = true; break search }
                    if runs >= budget { break search }
                }
            }
        }
        return (best, runs)
    }
}

/// Prints a case as an `nnconf/1` fixture: tensors as `init` (uniform / randint with their
/// seeds) or `data`, no expected values (the case asks the backends to agree with each other:
/// `conformance run FILE --backend all`), and the `grad_output` the comparison used.
public enum AgreementFixture {
    public static func json(_ c: AgreementCase, gradOutput: GenTensor?, name: String, description: String) -> String {
        var fields = ["\"name\": \(quote(name))", "\"description\": \(quote(description))", "\"call\": \(quote(c.op))",
                      "\"args\": {" + c.args.map { "\(quote($0.0)): \(value($0.1))" }.joined(separator: ", ") + "}"]
        if let g = gradOutput { fields.append("\"backward\": {\"grad_output\": \(tensor(g))}") }
        fields.append("\"tags\": [\"agreement\"]")
        return """
        {"format": "nnconf/1", "generator": {"name": "nnconf-agree", "version": "1"},
         "cases": [{\(fields.joined(separator: ",\n   "))}]}

        """
    }

    static func value(_ v: GenValue) -> String {
        switch v {
        case .tensor(let t): return tensor(t)
        case .list(let l): return "[" + l.map(value).joined(separator: ", ") + "]"
        case .value(let x): return literal(x)
        }
    }

    static func literal(_ v: Value) -> String {
        switch v {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return number(d, float: true)
        case .string(let s): return quote(s)
        case .list(let l): return "[" + l.map(literal).joined(separator: ", ") + "]"
        case .tensor: return "null"
        }
    }

    static func tensor(_ t: GenTensor) -> String {
        var s = "{\"shape\": [\(t.shape.map(String.init).joined(separator: ", "))], \"dtype\": \"\(t.dtype.rawValue)\", "
        switch t.fill {
        case .uniform(let lo, let hi): s += "\"init\": {\"uniform\": [\(number(lo, float: true)), \(number(hi, float: true))], \"seed\": \(t.seed)}"
        case .randint(let lo, let hi): s += "\"init\": {\"randint\": [\(lo), \(hi)], \"seed\": \(t.seed)}"
        case .data(let v):
            let isFloat = t.dtype.isFloatingPoint
            s += "\"data\": [" + v.map { t.dtype == .bool ? ($0 != 0 ? "true" : "false") : number($0, float: isFloat) }.joined(separator: ", ") + "]"
        }
        if t.requiresGrad { s += ", \"requires_grad\": true" }
        return s + "}"
    }

    /// A JSON number (a float keeps its point: `2.0`, so it reads back as a Python float);
    /// NaN and infinities as the format's strings.
    static func number(_ d: Double, float: Bool) -> String {
        if d.isNaN { return "\"nan\"" }
        if d.isInfinite { return d > 0 ? "\"inf\"" : "\"-inf\"" }
        if !float { return String(Int64(d)) }
        return "\(d)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
