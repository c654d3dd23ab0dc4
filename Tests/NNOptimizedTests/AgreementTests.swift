import Foundation
import Testing
import NNCore
import NNOptimized
import NNReference
@testable import ConformanceKit

/// Randomized agreement of the optimized backend with the reference: every op of
/// `Signatures.all`, random shapes (odd sizes, SIMD tails, a few past the thread split) and
/// arguments, a fixed seed so a failure reproduces (`conformance agree --seed 20261121 --op OP`).
@Suite struct AgreementTests {
    static let seed: UInt64 = 20_261_121

    @Test func everyOpHasAGenerator() {
        #expect(AgreementGenerators.missing == [])
    }

    /// Eight cases per op in debug (large cases for the cheap elementwise ops only), each
    /// disagreement shrunk and printed as a fixture.
    @Test func optimizedAgreesWithReference() {
        let runner = AgreementRunner(Reference.backend, Optimized.backend)
        let ops = Signatures.all.keys.sorted()
        let cheap = Set(ops.filter { ["relu", "sigmoid", "tanh", "add", "mul", "softmax", "sum", "batch_norm"].contains($0) })
        var summary = AgreementCheck.run(runner, ops: ops.filter { !cheap.contains($0) }, cases: 8, seed: Self.seed,
                                         allowLarge: false, shrinkBudget: 60)
        let large = AgreementCheck.run(runner, ops: cheap.sorted(), cases: 12, seed: Self.seed, allowLarge: true, shrinkBudget: 60)
        summary.agreed.merge(large.agreed, uniquingKeysWith: +)
        summary.failures += large.failures
        for f in summary.failures {
            Issue.record("\(f.op) disagrees (seed \(f.seed)): \(f.minimalMessage)\nminimal case after \(f.shrinkRuns) runs:\n\(f.fixture)")
        }
        print("agreement: \(summary.totalAgreed) cases agree over \(summary.agreed.count) ops; "
              + "\(summary.unsupported.count + large.unsupported.count) ops unsupported on optimized")
        #expect(summary.totalAgreed > 100)
    }

    /// Sizes that cross `SIMDParallel.minimumParallelWork` really come out of the generators.
    @Test func largeCasesCrossTheThreadSplit() {
        var sizes: [Int] = []
        for k in 0..<60 {
            if let c = AgreementCheck.generate("relu", seed: Self.seed, k: k) { sizes.append(c.elements) }
        }
        #expect(sizes.contains { $0 > 1 << 15 })
        #expect(sizes.contains { $0 < 64 })
    }

    /// A deliberately wrong backend (tanh off by 1 on any tensor with a dimension ≥ 5) is
    /// caught, and the shrinker brings the case down to the minimal one: a float32 tensor of
    /// shape [5], printed as a fixture that loads and builds the same tensors.
    @Test func shrinkerFindsTheMinimalCase() throws {
        let wrong = OpTable(name: "wrong", ops: ["tanh": { args in
            let y = try Reference.backend.call("tanh", args)
            guard let t = y.tensor, (try args.tensor("input")).shape.contains(where: { $0 >= 5 }) else { return y }
            return .tensor(Tensor(shape: t.shape, data: TensorData.float64(t.doubles.map { $0 + 1 }).converted(to: t.dtype)))
        }])
        let runner = AgreementRunner(Reference.backend, wrong)
        let summary = AgreementCheck.run(runner, ops: ["tanh"], cases: 40, seed: 7, allowLarge: false)
        let failure = try #require(summary.failures.first)
        let minimal = failure.minimal
        guard case .tensor(let input)? = minimal["input"] else { Issue.record("no input"); return }
        #expect(input.shape == [5])
        #expect(input.dtype == .float32)
        #expect(minimal.args.count == 1)                    // no inplace: the default
        #expect(failure.minimalMessage.contains("output at [0]"))

        // The printed fixture loads and means the same call.
        let file = try loadFixture(failure.fixture)
        #expect(file.cases.count == 1)
        guard case .call(let spec) = file.cases[0].body else { Issue.record("not a call: \(file.cases[0].body)"); return }
        #expect(spec.op == "tanh" && spec.expect == nil)
        guard case .tensor(let loaded)? = spec.args.first(where: { $0.0 == "input" })?.1 else { Issue.record("no input"); return }
        #expect(loaded.shape == [5] && loaded.data == input.tensorData && loaded.requiresGrad)
        // Run as a fixture on both backends, it still shows the disagreement.
        var options = RunOptions()
        options.timeBudget = 0
        let results = Runner(backends: [Reference.backend, wrong], options: options).run(file.cases)
        #expect(results.map(\.status) == [.pass, .fail])
    }

    /// Every generator's cases print as fixtures that load with the same values.
    @Test func printedCasesRoundTrip() throws {
        for op in ["conv2d", "max_unpool2d", "multilabel_margin_loss", "interpolate", "pad", "cross_entropy"] {
            let c = try #require(AgreementCheck.generate(op, seed: Self.seed, k: 1, allowLarge: false))
            let (_, g) = AgreementRunner(Reference.backend, Reference.backend).run(c)
            let file = try loadFixture(AgreementFixture.json(c, gradOutput: g, name: op, description: "round trip"))
            guard case .call(let spec) = file.cases.first?.body else { Issue.record("\(op): \(String(describing: file.cases.first?.body))"); continue }
            #expect(spec.args.count == c.args.count, "\(op)")
            for ((name, loaded), (n2, gen)) in zip(spec.args, c.args) {
                #expect(name == n2)
                if case .tensor(let a) = loaded, case .tensor(let b) = gen {
                    #expect(a.shape == b.shape && a.data == b.tensorData, "\(op) \(name)")
                }
            }
        }
    }

    func loadFixture(_ text: String) throws -> FixtureFile {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nnconf-agree-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("case.json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return FixtureLoader.loadFile(path: url.path, relativeName: "case")
    }
}

extension AgreementTests {
    /// Generators draw inside each op's valid domain: on the reference alone, nearly every
    /// drawn call succeeds (errors would make agreement vacuous: both backends raise).
    @Test func generatorsStayInTheDomain() throws {
        var failing: [String] = []
        for op in Signatures.all.keys.sorted() {
            var errors: [String] = []
            for k in 0..<6 {
                let c = try #require(AgreementCheck.generate(op, seed: Self.seed, k: k, allowLarge: false))
                do { _ = try Reference.backend.call(op, Arguments(op: op, try c.materialize())) } catch {
                    errors.append("\(error)")
                }
            }
            if errors.count > 1 { failing.append("\(op): \(errors.count)/6 raise, e.g. \(errors[0])") }
        }
        #expect(failing == [], "\(failing.joined(separator: "\n"))")
    }
}
