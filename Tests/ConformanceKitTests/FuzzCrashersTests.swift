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

    /// `nn.Linear(in_features=999999999999999994, out_features=3)` used to try to allocate its
    /// weight; it is PyTorch's allocation RuntimeError now, and the program stops there.
    @Test func hugeModuleSizeIsARuntimeError() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("linear-huge-in-features.json")))
        let r = try #require(FuzzHarness.run(bytes, limits: Self.limits).first)
        #expect(r.status == .error)
        #expect(r.message?.contains("RuntimeError: DefaultCPUAllocator: can't allocate memory") == true, "\(r.message ?? "")")
    }

    @Test func negativeModuleSizeIsPyTorchsRuntimeError() {
        let text = #"{"format":"nnconf/1","cases":[{"name":"a","program":[{"let":"m","module":"Linear","args":{"in_features":-2,"out_features":3}}]}]}"#
        let r = FuzzHarness.run(Array(text.utf8)).first
        #expect(r?.status == .error)
        #expect(r?.message?.contains("Trying to create tensor with negative dimension -2: [3, -2]") == true, "\(r?.message ?? "")")
    }

    @Test func checkedElementCountRefusesOverflowAndNegativeSizes() {
        #expect(throws: TorchError.self) { try checkedElementCount([1 << 40, 1 << 40]) }
        #expect(throws: TorchError.self) { try checkedElementCount([3, -1]) }
        #expect((try? checkedElementCount([2, 3, 0])) == 0)
        #expect((try? checkedElementCount([])) == 1)
    }
}
