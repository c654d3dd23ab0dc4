import ConformanceKit
import MyBackend
import NNCore
import Testing
import XCTest

/// The whole elementwise directory: relu, sigmoid and add must pass; every other op there
/// (sub, mul, exp, sum, the in-place forms, ...) is counted as unsupported.
@Test func myBackendMatchesPyTorchOnElementwiseFixtures() throws {
    let summary = try checkConformance(of: MyBackend(), fixtures: "../../Fixtures/elementwise")
    #expect(summary.counts.pass >= 40)  // the summary is there for assertions of your own
}

/// What a bug looks like: a sigmoid whose backward forgot the (1 − y) factor. Each case whose
/// gradient is checked becomes one issue at the `checkConformance` line (expected here, so
/// `withKnownIssue`; remove it to see the test fail).
@Test func aWrongGradientFailsCaseByCase() throws {
    withKnownIssue {
        try checkConformance(of: BuggySigmoid(), fixtures: "../../Fixtures/elementwise", filter: "^unary/sigmoid_")
    }
}

/// The same call from XCTest: failures become `XCTFail`s at the call.
final class MyBackendXCTests: XCTestCase {
    func testReluConforms() throws {
        try checkConformance(of: MyBackend(), fixtures: "../../Fixtures/elementwise/unary.json", filter: "^unary/relu")
    }
}

/// MyBackend with a broken sigmoid backward: dx = g·y.
struct BuggySigmoid: Backend {
    var name: String { "buggy-sigmoid" }

    func implementation(of op: String) -> OpFunction? {
        guard op == "sigmoid" else { return MyBackend().implementation(of: op) }
        return { args in
            let x = try args.tensor("input")
            let y = Tensor(shape: x.shape, data: TensorData.float64(x.doubles.map { 1 / (1 + exp(-$0)) }).converted(to: x.dtype))
            return .tensor(y.recording("SigmoidBackward0", inputs: [x]) { g in
                [Tensor(shape: g.shape, data: TensorData.float64(zip(g.doubles, y.doubles).map(*)).converted(to: g.dtype))]
            })
        }
    }
}
