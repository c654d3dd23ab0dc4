import NNCore
import NNReference
import Testing
@testable import ConformanceKit

/// The faults a dropout kernel can have, for fake backends that must fail the property checks.
private struct Fault {
    var scaleByOne = false
    var keepWithProbabilityP = false
    var freshMaskInBackward = false
}

/// An element-wise float32 `dropout` with `fault`, registered under `op`. It never writes its
/// input, so an in-place call of it is wrong too.
private func fakeBackend(_ fault: Fault, as op: String = "dropout") -> OpTable {
    OpTable(name: "fake", ops: [op: { args in
        let x = try args.tensor("input")
        let p = try args.double("p", default: 0.5)
        func noise(seed: UInt64) -> [Float] {
            var rng = SplitMix64(seed: seed)
            let q = fault.keepWithProbabilityP ? p : 1 - p
            let scale: Float = fault.scaleByOne ? 1 : 1 / Float(1 - p)
            return (0..<x.numel).map { _ in rng.nextUnit() < q ? scale : 0 }
        }
        let forward = noise(seed: 11), backward = noise(seed: fault.freshMaskInBackward ? 12 : 11)
        let y = Tensor(shape: x.shape, zip(x.values(Float.self), forward).map(*))
        return .tensor(y.recording("MulBackward0", inputs: [x]) { g in
            [Tensor(shape: g.shape, zip(g.values(Float.self), backward).map(*))]
        })
    }])
}

private func tensor(_ shape: [Int], seed: Int, requiresGrad: Bool = false) -> String {
    #"{"shape": \#(shape), "dtype": "float32", "init": {"uniform": [-1, 1], "seed": \#(seed)}, "requires_grad": \#(requiresGrad)}"#
}

/// A training case of `op` judged by `expect.dropout`, with a backward unless in place.
private func dropoutCase(_ op: String = "dropout", shape: [Int] = [64, 64], p: Double = 0.3, extra: String = "",
                         property: String = "", inplace: Bool = false) -> String {
    let backward = inplace ? "" : #", "backward": {"grad_output": \#(tensor(shape, seed: 6))}"#
    return #"""
        {"name": "c", "call": "\#(op)", "args": {"input": \#(tensor(shape, seed: 5, requiresGrad: !inplace)), "p": \#(p),
         "training": true, "inplace": \#(inplace)\#(extra)},
         "expect": {"dropout": {"p": \#(p)\#(property)}}\#(backward)}
        """#
}

private func run(_ c: String, on backend: any Backend, gradcheck: Bool = false) throws -> CaseResult {
    var options = RunOptions()
    options.timeBudget = 0
    options.gradcheck = gradcheck
    let cases = try load(file(c)).cases
    return Runner(backends: [backend], options: options).run(try #require(cases.first), on: backend)
}

@Suite struct RandomOpsTests {
    @Test func theReferenceAndACorrectFakePass() throws {
        for backend in [Reference.backend, fakeBackend(Fault())] {
            let r = try run(dropoutCase(), on: backend)
            #expect(r.status == .pass, "\(backend.name): \(r.message ?? "")")
        }
    }

    @Test func brokenKernelsFailWithTheProperty() throws {
        let faults: [(Fault, String)] = [
            (Fault(scaleByOne: true), "neither dropped (0.0) nor kept"),
            (Fault(keepWithProbabilityP: true), "of 4096 elements; 1 − p = 0.7 allows"),
            (Fault(freshMaskInBackward: true), "the backward must use the same mask"),
        ]
        for (fault, message) in faults {
            let r = try run(dropoutCase(), on: fakeBackend(fault))
            #expect(r.status == .fail)
            #expect(r.message?.contains(message) == true, "\(r.message ?? "")")
        }
    }

    @Test func channelDropoutMustDropWholeChannels() throws {
        let c = dropoutCase("dropout2d", shape: [8, 16, 3, 3], property: #", "mask_dims": 2"#)
        #expect(try run(c, on: Reference.backend).status == .pass)
        let r = try run(c, on: fakeBackend(Fault(), as: "dropout2d"))
        #expect(r.status == .fail && r.message?.contains("is partly dropped") == true, "\(r.message ?? "")")
        #expect(r.message?.hasPrefix("dropout: channel [0, ") == true)
    }

    @Test func alphaDropoutHasItsOwnValues() throws {
        let c = dropoutCase("alpha_dropout", property: #", "alpha": true"#)
        #expect(try run(c, on: Reference.backend).status == .pass)
        let r = try run(c, on: fakeBackend(Fault(), as: "alpha_dropout"))
        #expect(r.status == .fail && r.message?.contains("neither dropped (-1.") == true, "\(r.message ?? "")")
    }

    @Test func inplaceMustWriteTheInput() throws {
        let c = dropoutCase(inplace: true)
        #expect(try run(c, on: Reference.backend).status == .pass)
        let r = try run(c, on: fakeBackend(Fault()))
        #expect(r.message == "dropout: inplace=True, but the input does not hold the output afterwards")
    }

    @Test func pZeroAndOneAreExact() throws {
        for p in [0.0, 1.0] {
            #expect(try run(dropoutCase(p: p), on: Reference.backend).status == .pass)
        }
        // A kernel that keeps anything at p = 1 fails: σ = 0 there, so K must be 0.
        let r = try run(dropoutCase(p: 1), on: fakeBackend(Fault(keepWithProbabilityP: true)))
        #expect(r.status == .fail && r.message?.contains("not dropped (0.0), though p = 1") == true, "\(r.message ?? "")")
    }

    @Test func theKeptFractionBound() {
        // n = 4096, q = 0.7: nq = 2867.2, σ = √(4096 · 0.7 · 0.3) ≈ 29.33, so 5σ ≈ 146.64.
        #expect(DropoutCheck.fractionFailure(kept: 3013, of: 4096, p: 0.3, k: 5, what: "elements") == nil)
        #expect(DropoutCheck.fractionFailure(kept: 3014, of: 4096, p: 0.3, k: 5, what: "elements") != nil)
        #expect(DropoutCheck.fractionFailure(kept: 2721, of: 4096, p: 0.3, k: 5, what: "elements") == nil)
        #expect(DropoutCheck.fractionFailure(kept: 2720, of: 4096, p: 0.3, k: 5, what: "elements") != nil)
        #expect(DropoutCheck.fractionFailure(kept: 99, of: 100, p: 0, k: 5, what: "elements") != nil)
    }

    @Test func gradcheckIsSkippedForRandomOps() throws {
        let r = try run(dropoutCase(), on: Reference.backend, gradcheck: true)
        #expect(r.status == .pass && r.gradcheck?.status == "skipped")
    }

    @Test func theExtensionIsValidatedWhenLoaded() throws {
        // Only a property, no output: valid nnconf/1 (an `expect` without `output`).
        let valid = try load(file(dropoutCase())).cases[0]
        guard case .call(let spec) = valid.body else { Issue.record("not a call"); return }
        #expect(spec.expect?.dropout == DropoutExpectation(p: 0.3) && spec.expect?.outputs == nil)

        let input = tensor([4], seed: 1)
        let invalid = [
            (#"{"dropout": {"p": 1.5}}"#, "expect.dropout.p: must be a number in [0, 1]"),
            (#"{"dropout": {"p": 0.5, "mask_dims": -1}}"#, "expect.dropout.mask_dims: must be a non-negative integer"),
            (#"{"dropout": {"p": 0.5, "sigma": 0}}"#, "expect.dropout.sigma: must be a positive number"),
            (#"{"dropout": {"p": 0.5}, "error": {"type": "ValueError"}}"#, "expect: has both 'dropout' and 'error'"),
        ]
        for (expect, message) in invalid {
            let c = try load(file(#"{"name": "c", "call": "dropout", "args": {"input": \#(input)}, "expect": \#(expect)}"#)).cases[0]
            #expect(invalidMessage(c)?.hasSuffix(message) == true, "\(invalidMessage(c) ?? "valid")")
        }
        let step = try load(file(#"""
            {"name": "c", "program": [{"let": "x", "tensor": \#(input)},
             {"call": "dropout", "args": {"input": {"ref": "x"}}, "expect": {"dropout": {"p": 0.5}}}]}
            """#)).cases[0]
        #expect(invalidMessage(step)?.hasSuffix("program[1].expect.dropout: is checked on single-call cases only") == true)
        let tooDeep = try run(dropoutCase(property: #", "mask_dims": 3"#), on: Reference.backend)
        #expect(tooDeep.status == .invalid && tooDeep.message == "expect.dropout.mask_dims 3 exceeds the input's rank 2")
    }
}
