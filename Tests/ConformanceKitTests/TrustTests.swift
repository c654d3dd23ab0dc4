import Foundation
import NNCore
import NNReference
import Testing
@testable import ConformanceKit

/// A fabricated no-op kernel: every op it has returns zeros of its input's shape and dtype.
let zerosBackend = OpTable(name: "zeros", ops: ["tanh": { args in
    let x = try args.tensor("input")
    return .tensor(Tensor.zeros(x.shape, dtype: x.dtype))
}, "relu": { args in
    let x = try args.tensor("input")
    return .tensor(Tensor.zeros(x.shape, dtype: x.dtype))
}])

@Suite struct TrustTests {
    func run(_ cases: String, backend: any Backend) throws -> [CaseResult] {
        var options = RunOptions()
        options.timeBudget = 0
        return Runner(backends: [backend], options: options).run(try load(file(cases)).cases)
    }

    func spec(_ values: [Double], dtype: DType = .float32) -> TensorSpec {
        TensorSpec(shape: [values.count], data: TensorData.float64(values).converted(to: dtype), requiresGrad: false)
    }

    let f32 = ToleranceRule.base(.float32)

    @Test func degenerateTensors() {
        let zeros = Trust.degenerate(spec([0, 0, 0]), tolerance: f32, allowed: [])
        #expect(zeros?.contains("all zeros") == true)
        let tiny = Trust.degenerate(spec([1e-7, -3e-6, 0, 2e-6]), tolerance: f32, allowed: [])
        #expect(tiny?.contains("within tolerance of zero") == true)
        let constant = Trust.degenerate(spec([0.5, 0.5, 0.5]), tolerance: f32, allowed: [])
        #expect(constant?.contains("one value") == true)
        let sparse = Trust.degenerate(spec([0, 0, 0, 1, 2, 3, 4, 5, 6, 0]), tolerance: f32, allowed: [])
        #expect(sparse?.contains("40% zeros") == true)
        // Healthy values, and the same sparse values where the op makes zeros by design.
        #expect(Trust.degenerate(spec([0.1, -2, 0, 3, 1, 1.5, 2, -1]), tolerance: f32, allowed: []) == nil)
        #expect(Trust.degenerate(spec([0, 0, 0, 1, 2, 3, 4, 5, 6, 0]), tolerance: f32, allowed: .sparse) == nil)
        // All zeros is waived only where the op makes nothing but zeros.
        #expect(Trust.degenerate(spec([0, 0, 0]), tolerance: f32, allowed: .sparse) != nil)
        #expect(Trust.degenerate(spec([0, 0, 0]), tolerance: f32, allowed: .all) == nil)
        // A single non-zero value is not degenerate; empty tensors never are.
        #expect(Trust.degenerate(spec([0.25]), tolerance: f32, allowed: []) == nil)
        #expect(Trust.degenerate(spec([]), tolerance: f32, allowed: []) == nil)
    }

    @Test func byDesignIsAPropertyOfTheOpAndItsArguments() {
        #expect(Trust.byDesign(op: "relu", subject: .output(0), args: [:]).contains(.sparse))
        #expect(Trust.byDesign(op: "relu_", subject: .grad("input"), args: [:]).contains(.sparse))
        #expect(Trust.byDesign(op: "tanh", subject: .output(0), args: [:]).isEmpty)
        #expect(Trust.byDesign(op: "pad", subject: .output(0), args: [:]).contains(.sparse))
        #expect(Trust.byDesign(op: "pad", subject: .output(0), args: ["mode": .string("reflect")]).isEmpty)
        #expect(Trust.byDesign(op: "div", subject: .grad("input"), args: ["rounding_mode": .string("floor")]) == .all)
        #expect(Trust.byDesign(op: "div", subject: .grad("input"), args: ["rounding_mode": .none]).isEmpty)
        #expect(Trust.byDesign(op: "max_pool2d", subject: .grad("input"), args: [:]).contains(.sparse))
        #expect(Trust.byDesign(op: "max_pool2d", subject: .output(0), args: [:]).isEmpty)
    }

    /// A degenerate fixture (tanh of zeros: expected output all zeros) cannot tell the no-op
    /// kernel from a correct one: mistrusted on both, never pass. A healthy fixture fails it.
    @Test func noOpKernelOnADegenerateFixtureIsMistrusted() throws {
        let cases = #"""
            {"name": "degenerate", "call": "tanh",
             "args": {"input": {"shape": [4], "dtype": "float32", "data": [0, 0, 0, 0]}},
             "expect": {"output": {"shape": [4], "dtype": "float32", "data": [0, 0, 0, 0]}}},
            {"name": "healthy", "call": "tanh",
             "args": {"input": {"shape": [3], "dtype": "float32", "data": [0.5, -1, 2]}},
             "expect": {"output": {"shape": [3], "dtype": "float32", "data": [0.46211716, -0.7615942, 0.9640276]}}},
            {"name": "relu_half_zero", "call": "relu",
             "args": {"input": {"shape": [8], "dtype": "float32", "data": [-1, 2, -3, 4, -5, 6, -7, 8]}},
             "expect": {"output": {"shape": [8], "dtype": "float32", "data": [0, 2, 0, 4, 0, 6, 0, 8]}}}
            """#
        let noop = try run(cases, backend: zerosBackend)
        #expect(noop.map(\.status) == [.mistrusted, .fail, .fail])
        #expect(noop[0].message?.hasPrefix("mistrusted: output is all zeros") == true)
        let reference = try run(cases, backend: Reference.backend)
        #expect(reference.map(\.status) == [.mistrusted, .pass, .pass])
        #expect(reference[2].mistrust == nil)
    }

    @Test func degenerateGradientIsMistrusted() throws {
        // sum's gradient is one value by design; tanh's gradient of a zero upstream gradient is not.
        let x = #"{"shape": [3], "dtype": "float64", "data": [0.5, -1, 2], "requires_grad": true}"#
        let r = try run(#"""
            {"name": "sum", "call": "sum", "args": {"input": \#(x)},
             "expect": {"output": {"shape": [], "dtype": "float64", "data": [1.5]}},
             "backward": {"grad_output": {"shape": [], "dtype": "float64", "data": [2]},
                          "grads": {"input": {"shape": [3], "dtype": "float64", "data": [2, 2, 2]}}}},
            {"name": "tanh_zero_grad", "call": "tanh", "args": {"input": \#(x)},
             "backward": {"grad_output": {"shape": [3], "dtype": "float64", "data": [0, 0, 0]},
                          "grads": {"input": {"shape": [3], "dtype": "float64", "data": [0, 0, 0]}}}}
            """#, backend: Reference.backend)
        #expect(r.map(\.status) == [.pass, .mistrusted])
        #expect(r[1].mistrust?.first?.hasPrefix("grad of input is all zeros") == true)
    }

    @Test func reportsCarryTheStatus() throws {
        var c = CaseResult(id: "f/degenerate", backend: "zeros", op: "tanh", status: .pass)
        c.mistrust(["output is all zeros (4 elements): a kernel returning zeros passes"])
        let report = Report(created: "t", machine: ciMachine, backends: [BackendInfo(name: "zeros", details: "")],
                            fixtures: ["f"], cases: [c], warnings: [])
        #expect(report.summary["zeros"]?.mistrusted == 1 && report.ok)
        let back = try Report.load(try report.jsonData())
        #expect(back.cases[0].status == .mistrusted && back.cases[0].mistrust == c.mistrust)
        // A report written before `mistrusted` existed still loads.
        let old = String(decoding: try report.jsonData(), as: UTF8.self).replacingOccurrences(of: "\"mistrusted\" : 1,", with: "")
        #expect(try Report.load(Data(old.utf8)).summary["zeros"]?.mistrusted == 0)
        let junit = JUnitReport.render(report)
        #expect(junit.contains("<skipped message=\"mistrusted: output is all zeros"))
        #expect(junit.contains("skipped=\"1\""))
        #expect(Terminal.summary(report, fixtureArgs: ["f"]).contains("MISTRUSTED f/degenerate [zeros]"))
        #expect(MarkdownReport.render(report).contains("| mistrusted |"))
        #expect(HTMLReport.render(report).contains("case fc mistrusted"))
        // The gate: a case that passed in the baseline and is mistrusted now is a regression.
        var base = c
        base.status = .pass
        let baseline = Report(created: "t", machine: report.machine, backends: report.backends, fixtures: ["f"], cases: [base], warnings: [])
        let gate = Gate.check(baseline: baseline, current: report)
        #expect(gate.violations.map(\.rule) == [.regression])
    }

    @Test func everyOpHasAToleranceRule() {
        #expect(ToleranceRule.opsWithoutRule == [])
        // K from the arguments: linear sums in_features, softmax the reduced dimension.
        let x = Tensor.zeros([4, 17], dtype: .float32), w = Tensor.zeros([5, 17], dtype: .float32)
        #expect(ToleranceRule.reductionLengths(op: "linear", args: ["input": .tensor(x), "weight": .tensor(w)], outputShape: [4, 5]).output == 17)
        let s = Tensor.zeros([33, 3], dtype: .float32)
        #expect(ToleranceRule.reductionLengths(op: "softmax", args: ["input": .tensor(s), "dim": .int(1)], outputShape: [33, 3]).output == 3)
        let a = Tensor.zeros([1, 2, 9, 9], dtype: .float32)
        #expect(ToleranceRule.reductionLengths(op: "avg_pool2d", args: ["input": .tensor(a), "kernel_size": .int(3)], outputShape: [1, 2, 3, 3]).output == 9)
        #expect(ToleranceRule.reductionLengths(op: "affine_grid", args: ["theta": .tensor(Tensor.zeros([1, 2, 3], dtype: .float32))], outputShape: [1, 4, 4, 2]).output == 3)
    }
}
