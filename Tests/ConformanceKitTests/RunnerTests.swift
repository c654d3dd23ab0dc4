import Foundation
import NNCore
import Testing
@testable import ConformanceKit

/// A backend made for tests: `double` returns 2·input with a working backward; `broken`
/// returns input + 1; `fails` throws PyTorch's error; `warns` warns.
let toyBackend = OpTable(name: "toy", ops: [
    "relu": { args in
        let x = try args.tensor("input")
        let y = Tensor(shape: x.shape, x.doubles.map { 2 * $0 }.map(Float.init))
        return .tensor(y.recording("MulBackward0", inputs: [x]) { g in [Tensor(shape: g.shape, g.values(Float.self).map { 2 * $0 })] })
    },
    "sigmoid": { args in .tensor(Tensor(shape: try args.tensor("input").shape, try args.tensor("input").values(Float.self).map { $0 + 1 })) },
    "tanh": { _ in throw TorchError.value("bad value for tanh") },
    "exp": { args in
        Warnings.warn("exp is deprecated here")
        return .tensor(try args.tensor("input"))
    },
])

@Suite struct RunnerTests {
    func run(_ cases: String, backend: any Backend = toyBackend) throws -> [CaseResult] {
        var options = RunOptions()
        options.timeBudget = 0
        return Runner(backends: [backend], options: options).run(try load(file(cases)).cases)
    }

    let input = #"{"shape": [2], "dtype": "float32", "data": [1, -2], "requires_grad": true}"#

    @Test func passAndFailOnValuesAndGradients() throws {
        let r = try run(#"""
            {"name": "ok", "call": "relu", "args": {"input": \#(input)},
             "expect": {"output": {"shape": [2], "dtype": "float32", "data": [2, -4]}},
             "backward": {"grad_output": {"shape": [2], "dtype": "float32", "data": [1, 0.5]},
                          "grads": {"input": {"shape": [2], "dtype": "float32", "data": [2, 1]}}}},
            {"name": "badgrad", "call": "relu", "args": {"input": \#(input)},
             "backward": {"grad_output": {"shape": [2], "dtype": "float32", "data": [1, 1]},
                          "grads": {"input": {"shape": [2], "dtype": "float32", "data": [2, 3]}}}},
            {"name": "badvalue", "call": "sigmoid", "args": {"input": \#(input)},
             "expect": {"output": {"shape": [2], "dtype": "float32", "data": [1, -2]}}}
            """#)
        #expect(r.map(\.status) == [.pass, .fail, .fail])
        #expect(r[0].grads?.first?.agreement.passed == true && r[0].forwardMs != nil && r[0].backwardMs != nil)
        #expect(r[1].message?.hasPrefix("grad of input at [1]: got 2.0, expected 3.0") == true)
        #expect(r[2].message?.hasPrefix("output at [0]: got 2.0, expected 1.0") == true)
        #expect(r[2].maxULP == Double(Float(2).bitPattern - Float(1).bitPattern))
    }

    @Test func expectedErrorsAndWarnings() throws {
        let r = try run(#"""
            {"name": "right", "call": "tanh", "args": {}, "expect": {"error": {"type": "ValueError", "match": "bad value"}}},
            {"name": "wrongtype", "call": "tanh", "args": {}, "expect": {"error": {"type": "RuntimeError"}}},
            {"name": "missing", "call": "relu", "args": {"input": \#(input)}, "expect": {"error": {"type": "RuntimeError"}}},
            {"name": "warned", "call": "exp", "args": {"input": \#(input)}, "expect": {"warning": {"match": "deprecated"}}},
            {"name": "nowarning", "call": "relu", "args": {"input": \#(input)}, "expect": {"warning": {"match": "deprecated"}}},
            {"name": "unexpected", "call": "tanh", "args": {}},
            {"name": "unknown", "call": "frobnicate", "args": {}},
            {"name": "notimplemented", "call": "softmax", "args": {}},
            {"name": "keyword", "call": "relu", "args": {"input": \#(input), "colour": 1}, "expect": {"error": {"type": "TypeError", "match": "unexpected keyword argument 'colour'"}}}
            """#)
        #expect(r.map(\.status) == [.pass, .error, .error, .pass, .fail, .error, .unsupported, .unsupported, .pass])
        #expect(r[1].message == "expected RuntimeError, got ValueError: bad value for tanh")
        #expect(r[2].message == "expected RuntimeError, but the call succeeded")
    }

    @Test func casesWithoutExpectedValuesAreJudgedByAgreementWithTheReference() throws {
        let reference = OpTable(name: "reference", ops: ["relu": toyBackend.ops["relu"]!])
        let off = OpTable(name: "other", ops: ["relu": toyBackend.ops["sigmoid"]!])  // x + 1 instead of 2x
        let same = OpTable(name: "same", ops: ["relu": toyBackend.ops["relu"]!])
        var options = RunOptions()
        options.timeBudget = 0
        let cases = try load(file(#"{"name": "bench", "call": "relu", "args": {"input": \#(input)}}"#)).cases
        let r = Runner(backends: [off, same, reference], options: options).run(cases)
        #expect(r.map(\.backend) == ["reference", "other", "same"])
        #expect(r.map(\.status) == [.pass, .fail, .pass])
        #expect(r[1].message?.hasPrefix("disagrees with reference: output at [1]: got -1.0, expected -4.0") == true)  // 1 + 1 == 2·1 at [0]
        #expect(r[2].vsReference?.passed == true && r[2].speedup != nil)
    }

    @Test func programsRunStepsAndKeepGoingAfterExpectedErrors() throws {
        let r = try run(#"""
            {"name": "p", "program": [
              {"let": "x", "tensor": \#(input)},
              {"let": "y", "call": "relu", "args": {"input": {"ref": "x"}}},
              {"check": "y", "attrs": {"requires_grad": true, "is_leaf": false, "grad_fn": "MulBackward0"}},
              {"backward": "y", "expect": {"error": {"type": "RuntimeError", "match": "only for scalar outputs"}}},
              {"backward": "y", "gradient": {"shape": [2], "dtype": "float32", "data": [1, 0.5]}},
              {"check": "x", "grad": {"shape": [2], "dtype": "float32", "data": [2, 1]}},
              {"check": "y", "value": {"shape": [2], "dtype": "float32", "data": [2, -4]}}]},
            {"name": "q", "program": [
              {"let": "x", "tensor": \#(input)},
              {"check": "x", "grad": {"shape": [2], "dtype": "float32", "data": [2, 1]}}]},
            {"name": "m", "program": [{"let": "net", "module": "Transformer", "args": {}}]}
            """#)
        #expect(r.map(\.status) == [.pass, .fail, .unsupported])
        #expect(r[1].message == "program[1]: x.grad is None, expected a tensor")
    }
}
