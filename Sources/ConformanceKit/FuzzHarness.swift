import Foundation
import NNCore
import NNReference

/// What the fuzzer (`Sources/FixtureFuzzer`, `tools/fuzz.sh`) does with one input: load the bytes
/// as a fixture file, then run every case it yields, single calls and programs alike, on the
/// reference backend, as `conformance run` would. Any input must end in results (`invalid`,
/// `error`, `unsupported`, ...), never in a trap.
///
/// Sizes are bounded so that the fuzzer looks for crashes rather than for large computations:
/// a fixture tensor holds at most `maxElements` elements; one op call receives at most
/// `maxCallElements` tensor elements in all and numbers whose magnitudes multiply, as
/// ∏ max(1, |x|), to at most `maxLiteralProduct` (a padding, stride, size or scale factor is how
/// a small input asks for a huge output); a module is built only from arguments within the same
/// product. A call beyond the limits is `unsupported`; a case whose module is, is skipped. With
/// `admitHugeNumbers` (the fuzzer's default; `NNCONF_FUZZ_HUGE=0` turns it off) numbers of 2^40 or more pass too.
/// Only the in-process reference backend runs: external (`exec:`) backends are not reachable.
public enum FuzzHarness {
    public struct Limits: Sendable {
        public var maxElements = 1024
        public var maxCallElements = 1 << 16
        public var maxLiteralProduct = 65536.0
        /// Let numbers of 2^40 or more (no real size: a tensor that large needs terabytes) reach
        /// the ops, whose checks must refuse them; several ops still overflow on them
        /// (docs/fuzzing-and-sanitizers.md, "Open findings"), so this is off by default.
        public var admitHugeNumbers = false
        public init() {}
    }

    /// Loads `bytes` as a fixture file named `fuzz.json` and runs its cases within `limits`.
    @discardableResult
    public static func run(_ bytes: [UInt8], limits: Limits = Limits()) -> [CaseResult] {
        let file = FixtureLoader.loadFile(bytes: bytes, path: "fuzz.json", relativeName: "fuzz", maxElements: limits.maxElements)
        var options = RunOptions()
        options.timeBudget = 0  // one run per case, no timing repetitions
        let runner = Runner(backends: [BoundedBackend(limits: limits)], options: options)
        let results = runner.run(file.cases.filter { limits.admits($0) })
        // Render what a report would show, so message building runs too.
        for r in results { _ = r.message.map { $0.utf8.count } }
        return results
    }

    /// The reference backend behind a check of every call's sizes.
    struct BoundedBackend: Backend {
        let limits: Limits
        var name: String { "reference" }
        var details: String { "reference backend within fuzzing limits" }

        func implementation(of op: String) -> OpFunction? {
            guard let kernel = Reference.backend.implementation(of: op) else { return nil }
            let limits = self.limits
            return { args in
                try limits.check(args.values.values, op: op)
                return try kernel(args)
            }
        }
    }
}

extension FuzzHarness.Limits {
    /// Throws `Unsupported` when a call's tensors or numbers exceed the limits.
    func check<S: Sequence>(_ values: S, op: String) throws where S.Element == Value {
        var elements = 0, product = 1.0
        func visit(_ v: Value) {
            switch v {
            case .tensor(let t): elements += t.numel
            case .int(let i): product *= factor(Double(i.magnitude))
            case .double(let d): product *= factor(d.magnitude)
            case .list(let l): l.forEach(visit)
            case .none, .bool, .string: break
            }
        }
        values.forEach(visit)
        guard elements <= maxCallElements, product <= maxLiteralProduct else {
            throw Unsupported("'\(op)' is beyond the fuzzing limits (\(elements) tensor elements, number product \(product))")
        }
    }

    /// A number's factor in the product: its magnitude, at least 1; a huge one counts 1 when
    /// `admitHugeNumbers`, so that it reaches the op (an overflow there is a crash).
    func factor(_ magnitude: Double) -> Double {
        admitHugeNumbers && magnitude >= 0x1p40 ? 1 : max(1, magnitude)
    }

    /// Whether every module a case builds has arguments within the number product.
    func admits(_ c: FixtureCase) -> Bool {
        func literalProduct(_ v: ValueSpec) -> Double {
            switch v {
            case .literal(.int(let i)): return factor(Double(i.magnitude))
            case .literal(.double(let d)): return factor(d.magnitude)
            case .list(let l): return l.map(literalProduct).reduce(1, *)
            default: return 1
            }
        }
        func ok(_ m: ModuleSpec) -> Bool {
            m.args.map { literalProduct($0.1) }.reduce(1, *) <= maxLiteralProduct && m.children.allSatisfy { ok($0.1) }
        }
        func ok(_ s: Step) -> Bool {
            switch s.action {
            case .module(let m): return ok(m)
            case .noGrad(let steps): return steps.allSatisfy(ok)
            default: return true
            }
        }
        guard case .program(let steps) = c.body else { return true }
        return steps.allSatisfy(ok)
    }
}
