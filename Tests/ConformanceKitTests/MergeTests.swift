import Foundation
import Testing
@testable import ConformanceKit

@Suite struct MergeTests {
    let whole = ciReport([
        ciCase("a/x/1"), ciCase("a/x/1", "optimized"), ciCase("a/x/2", .fail, message: "m"),
        ciCase("a/x/2", "optimized"), ciCase("b/y/1", .error, message: "e"), ciCase("b/y/1", "optimized", .unsupported),
        ciCase("c/z/1"), ciCase("c/z/1", "optimized"),
    ], backends: ["reference", "optimized"], calibration: 12, warnings: ["w1", "w2"])

    /// The whole split the way `--shard` splits it (FNV-1a of the id), each shard labelled.
    func shards(_ n: Int, calibrations: [Double?]) -> [Report] {
        (1...n).map { k in
            ciReport(whole.cases.filter { Int(fnv1a($0.id) % UInt64(n)) == k - 1 }, backends: ["reference", "optimized"],
                     calibration: calibrations[k - 1], shard: "\(k)/\(n)", warnings: ["w1", "w2"])
        }
    }

    @Test func twoShardsGiveTheWhole() throws {
        let parts = shards(2, calibrations: [10, 14])
        #expect(parts.allSatisfy { !$0.cases.isEmpty && $0.cases.count < whole.cases.count })
        let merged = try Merge.merge(parts.reversed())
        #expect(merged.cases == whole.cases.sorted { ($0.id, $0.backend) < ($1.id, $1.backend) })
        #expect(merged.summary == whole.summary)
        #expect(merged.summary["reference"]?.pass == 2 && merged.summary["optimized"]?.unsupported == 1)
        #expect(merged.shard == nil)
        #expect(merged.calibrationMs == 12)
        #expect(merged.warnings == ["w1", "w2"])
        #expect(merged.backends.map(\.name) == ["reference", "optimized"])
        #expect(merged.format == "nnconf-report/1")
        // Same shards in any order: the same JSON.
        #expect(try merged.jsonData() == Merge.merge(parts).jsonData())
        // And it round-trips through the JSON format.
        #expect(try Report.load(merged.jsonData()) == merged)
    }

    @Test func calibrationIsTheMedian() throws {
        let merged = try Merge.merge(shards(3, calibrations: [10, 30, 11]))
        #expect(merged.calibrationMs == 11)
        #expect(try Merge.merge(shards(3, calibrations: [nil, nil, nil])).calibrationMs == nil)
    }

    @Test func duplicateCaseIsAnErrorNamingIt() {
        let a = ciReport([ciCase("a/x/1"), ciCase("a/x/2")]), b = ciReport([ciCase("a/x/3"), ciCase("a/x/2")])
        #expect(throws: MergeError("merge: case a/x/2 on backend reference appears in report 1 and report 2")) {
            try Merge.merge([a, b])
        }
        // The same id on another backend is no duplicate.
        let c = ciReport([ciCase("a/x/2", "optimized")], backends: ["optimized"])
        #expect(throws: MergeError.self) { try Merge.merge([a, c]) }          // but the backend lists must agree
        let d = ciReport([ciCase("a/x/2", "optimized")], backends: ["optimized", "reference"])
        let e = ciReport([ciCase("a/x/1")], backends: ["reference", "optimized"])
        #expect(throws: Never.self) { try Merge.merge([d, e]) }
    }

    @Test func mismatchedInputsAreErrors() {
        let a = ciReport([ciCase("a/x/1")]), b = ciReport([ciCase("a/x/2", "optimized")], backends: ["optimized"])
        #expect(throws: MergeError("merge: report 2 has backends [optimized], report 1 has [reference]")) { try Merge.merge([a, b]) }
        var f = ciReport([ciCase("a/x/2")])
        f.format = "nnconf-report/2"
        #expect(throws: MergeError("merge: report 2 has format nnconf-report/2, report 1 has nnconf-report/1")) { try Merge.merge([a, f]) }
        #expect(throws: MergeError("merge: no reports given")) { try Merge.merge([]) }
    }

    @Test func shardsMustBeComplete() {
        let parts = shards(3, calibrations: [1, 2, 3])
        #expect(throws: MergeError("merge: missing shard 2/3")) { try Merge.merge([parts[0], parts[2]]) }
        #expect(throws: MergeError("merge: shard 1/3 given twice (reports 1 and 2)")) { try Merge.merge([parts[0], parts[0]]) }
        var other = parts[1]
        other.shard = "2/4"
        #expect(throws: MergeError.self) { try Merge.merge([parts[0], other, parts[2]]) }
    }
}
