import NNCore
import Testing
@testable import ConformanceKit

@Suite struct CompareTests {
    func spec(_ v: [Float]) -> TensorSpec { TensorSpec(shape: [v.count], data: .float32(v), requiresGrad: false) }

    @Test func ulpDistanceCountsRepresentableFloats() {
        let one: Float = 1
        #expect(ulpDistance(Double(one), Double(one.nextUp), dtype: .float32) == 1)
        #expect(ulpDistance(Double(-Float.leastNonzeroMagnitude), Double(Float.leastNonzeroMagnitude), dtype: .float32) == 2)
        #expect(ulpDistance(1, 1.0.nextUp.nextUp, dtype: .float64) == 2)
        #expect(ulpDistance(.nan, .nan, dtype: .float32) == 0)
        #expect(ulpDistance(.nan, 1, dtype: .float32) == .infinity)
    }

    @Test func toleranceIsAtolPlusRtolTimesExpected() {
        let t = Tolerance(rtol: 0.1, atol: 0.01)
        let ok = compare(Tensor(shape: [2], [Float(1.1), 10.5]), spec([1, 10]), tolerance: t)
        #expect(ok.passed)
        #expect(abs(ok.maxAbsErr - 0.5) < 1e-6)
        let bad = compare(Tensor(shape: [2], [Float(1.2), 10]), spec([1, 10]), tolerance: t)
        #expect(!bad.passed)
        #expect(bad.mismatch?.hasPrefix("at [0]") == true)
    }

    @Test func nanMatchesNanAndInfinitiesMustBeExact() {
        let t = Tolerance(rtol: 1, atol: 1)
        #expect(compare(Tensor(shape: [2], [Float.nan, .infinity]), spec([.nan, .infinity]), tolerance: t).passed)
        #expect(!compare(Tensor(shape: [1], [Float.greatestFiniteMagnitude]), spec([.infinity]), tolerance: t).passed)
        #expect(!compare(Tensor(shape: [1], [Float(1)]), spec([.nan]), tolerance: t).passed)
    }

    @Test func shapesDtypesAndIntegersCompareExactly() {
        let t = Tolerance(rtol: 1, atol: 1)
        #expect(compare(Tensor(shape: [1, 2], [Float(1), 2]), spec([1, 2]), tolerance: t).mismatch?.contains("shape") == true)
        #expect(compare(Tensor(shape: [2], [Double(1), 2]), spec([1, 2]), tolerance: t).mismatch?.contains("dtype") == true)
        let ints = TensorSpec(shape: [1], data: .int64([3]), requiresGrad: false)
        #expect(!compare(Tensor(shape: [1], int64: [4]), ints, tolerance: t).passed)
    }

    @Test func defaultToleranceWidensBySquareRootOfReductionLength() {
        let (t, source) = ToleranceRule.tolerance(.float32, terms: 100)
        #expect(abs(t.rtol - 1.3e-5) < 1e-18 && abs(t.atol - 1e-4) < 1e-18)
        #expect(source.contains("√100"))
        #expect(ToleranceRule.tolerance(.int64, terms: 100).0 == Tolerance(rtol: 0, atol: 0))
        let w = Tensor.zeros([8, 3, 3, 3], dtype: .float32)
        let k = ToleranceRule.reductionLengths(op: "conv2d", args: ["weight": .tensor(w)], outputShape: [2, 8, 5, 5])
        #expect(k.output == 27)
    }
}
