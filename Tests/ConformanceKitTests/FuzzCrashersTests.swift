import Foundation
import NNCore
import Testing
@testable import ConformanceKit

/// Every input the fixture fuzzer found crashing the harness (`FuzzCrashers/*.json`, see
/// docs/fuzzing-and-sanitizers.md) must now load and run to a status: reaching the `#expect`s
/// at all is the regression check, and each case must end in something other than `pass`.
@Suite struct FuzzCrashersTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzCrashers")
    static let crashers: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".json") }.sorted()

    /// The limits the fuzzer ran with when it found them: huge numbers admitted.
    static var limits: FuzzHarness.Limits {
        var l = FuzzHarness.Limits()
        l.admitHugeNumbers = true
        return l
    }

    @Test func thereAreCrashersToReplay() {
        #expect(Self.crashers.contains("linear-huge-in-features.json"))
    }

    @Test(arguments: crashers) func crasherRunsToAStatus(_ name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name)))
        let results = FuzzHarness.run(bytes, limits: Self.limits)
        #expect(!results.isEmpty)
        for r in results { #expect(r.status != .pass, "\(name): \(r.id) \(r.status) \(r.message ?? "")") }
    }

    /// The error each crasher ends in now: PyTorch's own where it was cheap to match (torch 2.x
    /// gives these exact texts, except for `lp_pool2d`, where ATen refuses a kernel beyond int32
    /// first and the kit reports avg_pool's too-small output).
    static let expectedErrors: [(file: String, message: String)] = [
        // 3·10^18 float32 weights: c10's storage-size overflow check, as PyTorch says.
        ("linear-huge-in-features.json", "RuntimeError: Storage size calculation overflowed with sizes=[3, 999999999999999994]"),
        ("adapt-huge.json", "RuntimeError: numel: integer multiplication overflow"),
        ("affine-huge.json", "RuntimeError: Storage size calculation overflowed with sizes=[1, 4611686018427387904, 4611686018427387904, 3]"),
        ("conv3-huge.json", "RuntimeError: Given padding=4611686018427387904 at dimension 0 , expected padding to be at most 4611686018427387903"),
        ("conv-mod-huge.json", "RuntimeError: Storage size calculation overflowed with sizes=[1, 1, 4611686018427387904, 4611686018427387904]"),
        ("conv-mod2-huge.json", "RuntimeError: Given padding=4611686018427387904 at dimension 0 , expected padding to be at most 4611686018427387903"),
        ("convt-huge.json", "RuntimeError: Storage size calculation overflowed with sizes=[1, 1, 4611686018427387906, 4611686018427387906]"),
        ("fold-huge.json", "sliding blocks 4611686018427387903 * 4611686018427387903 = -9223372036854775807, but got input.size(2)=1."),
        ("interp-huge.json", "RuntimeError: Storage size calculation overflowed with sizes=[1, 1, 4611686018427387904, 4611686018427387904]"),
        ("lppool-huge.json", "RuntimeError: Given input size: (1x2x2). Calculated output size: (1x0x0). Output size is too small"),
        ("pad-huge.json", "RuntimeError: Storage size calculation overflowed with sizes=[1, 1, 2, 4611686018427387907]"),
        ("pixel-huge.json", "ValueError: upscale factor is too large, (upscale_factor)^2 overflowed: upscale_factor=4611686018427387904"),
        ("uf2-huge.json", "RuntimeError: unflatten: Provided sizes [4611686018427387904, 4611686018427387904] don't multiply up to the size of dim 1 (1) in the input tensor"),
    ]

    @Test func everyCrasherHasItsExpectedError() {
        let named = Set(Self.expectedErrors.map(\.file))
        #expect(named == Set(Self.crashers))
    }

    /// Each crasher is PyTorch's error now, on every case of it, and the program stops there.
    @Test(arguments: expectedErrors.map(\.file)) func crasherEndsInPyTorchsError(_ name: String) throws {
        let expected = try #require(Self.expectedErrors.first { $0.file == name }).message
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name)))
        let results = FuzzHarness.run(bytes, limits: Self.limits)
        #expect(!results.isEmpty)
        for r in results {
            #expect(r.status == .error)
            #expect(r.message?.contains(expected) == true, "\(name): \(r.message ?? "")")
        }
    }

    @Test func negativeModuleSizeIsPyTorchsRuntimeError() {
        let text = #"{"format":"nnconf/1","cases":[{"name":"a","program":[{"let":"m","module":"Linear","args":{"in_features":-2,"out_features":3}}]}]}"#
        let r = FuzzHarness.run(Array(text.utf8)).first
        #expect(r?.status == .error)
        #expect(r?.message?.contains("Trying to create tensor with negative dimension -2: [3, -2]") == true, "\(r?.message ?? "")")
    }

    @Test func hugeButRepresentableSizeIsTheAllocatorsError() {
        let error = #expect(throws: TorchError.self) { try checkedElementCount([1 << 20, 1 << 20], itemSize: 4) }
        #expect(error?.message == "DefaultCPUAllocator: can't allocate memory: you tried to allocate 4398046511104 bytes. Error code 12 (Cannot allocate memory)")
    }

    @Test func checkedSizeArithmeticThrowsInsteadOfTrapping() throws {
        #expect(throws: TorchError.self) { try sizeSum(Int.max, 1) }
        #expect(throws: TorchError.self) { try sizeDifference(Int.min, 1) }
        #expect(throws: TorchError.self) { try sizeProduct(1 << 62, 4) }
        #expect(throws: TorchError.self) { try sizeProduct([1 << 32, 1 << 32]) }
        #expect(throws: TorchError.self) {
            try convolutionOutputSize(input: 2, kernel: 2, stride: 1, padBefore: 1 << 62, padAfter: 1 << 62)
        }
        #expect(throws: TorchError.self) {
            try transposedConvolutionOutputSize(input: 3, kernel: 2, stride: 1 << 62, padding: 0, dilation: 1, outputPadding: 0)
        }
        // The formulas themselves: ⌊(5 + 1 + 1 − 2·2 − 1) / 2⌋ + 1 = 2, floored below zero, and (3 − 1)·2 − 2 + 2 + 1 + 1 = 6.
        let conv = try convolutionOutputSize(input: 5, kernel: 3, stride: 2, padBefore: 1, padAfter: 1, dilation: 2)
        let tooSmall = try convolutionOutputSize(input: 1, kernel: 4, stride: 2, padBefore: 0, padAfter: 0)
        let transposed = try transposedConvolutionOutputSize(input: 3, kernel: 3, stride: 2, padding: 1, dilation: 1, outputPadding: 1)
        #expect(conv == 2)
        #expect(tooSmall == -1)
        #expect(transposed == 6)
    }

    @Test func checkedElementCountRefusesOverflowAndNegativeSizes() {
        #expect(throws: TorchError.self) { try checkedElementCount([1 << 40, 1 << 40]) }
        #expect(throws: TorchError.self) { try checkedElementCount([3, -1]) }
        #expect((try? checkedElementCount([2, 3, 0])) == 0)
        #expect((try? checkedElementCount([])) == 1)
    }
}
