import Foundation

public struct MergeError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Joins the reports of a sharded run (`conformance run --shard K/N` in N CI jobs) into the
/// report of the whole run (docs/reports.md, "Sharding and merging").
public enum Merge {
    /// The reports must share a format and a backend list, and no case may appear on the same
    /// backend in two of them. When every input names its shard, the shards must be `1/N` ...
    /// `N/N` of one N, each once. The result: cases sorted by id then backend, summary
    /// recomputed, the first report's machine, created and backend details, fixtures and
    /// warnings in first-seen order without repeats, calibration the median of the reports'
    /// calibrations, no shard.
    public static func merge(_ reports: [Report]) throws -> Report {
        guard let first = reports.first else { throw MergeError("merge: no reports given") }
        for (i, r) in reports.enumerated().dropFirst() {
            if r.format != first.format {
                throw MergeError("merge: report \(i + 1) has format \(r.format), report 1 has \(first.format)")
            }
            let names = r.backends.map(\.name).sorted(), firstNames = first.backends.map(\.name).sorted()
            if names != firstNames {
                throw MergeError("merge: report \(i + 1) has backends [\(names.joined(separator: ", "))], report 1 has [\(firstNames.joined(separator: ", "))]")
            }
        }
        try checkShards(reports)

        var seen: [String: Int] = [:]   // "id\0backend" → report number
        var cases: [CaseResult] = []
        for (i, r) in reports.enumerated() {
            for c in r.cases {
                let key = c.id + "\u{0}" + c.backend
                if let j = seen[key] {
                    throw MergeError("merge: case \(c.id) on backend \(c.backend) appears in report \(j + 1) and report \(i + 1)"
                                     + (j == i ? " (twice in the same report)" : ""))
                }
                seen[key] = i
                cases.append(c)
            }
        }
        cases.sort { ($0.id, $0.backend) < ($1.id, $1.backend) }

        let calibrations = reports.compactMap(\.calibrationMs).filter { $0.isFinite && $0 > 0 }
        var merged = Report(
            created: first.created, machine: first.machine, backends: first.backends,
            fixtures: unique(reports.flatMap(\.fixtures)), cases: cases, warnings: unique(reports.flatMap(\.warnings)),
            calibrationMs: calibrations.isEmpty ? nil : Gate.median(calibrations), shard: nil)
        merged.format = first.format
        return merged
    }

    /// With every report labelled `K/N`: one N, each K from 1 to N exactly once.
    static func checkShards(_ reports: [Report]) throws {
        let labels = reports.compactMap(\.shard)
        guard labels.count == reports.count, !labels.isEmpty else { return }
        var ns = Set<Int>(), ks: [Int: Int] = [:]
        for (i, label) in labels.enumerated() {
            let parts = label.split(separator: "/").map { Int($0) }
            guard parts.count == 2, let k = parts[0], let n = parts[1], n >= 1, (1...n).contains(k) else {
                throw MergeError("merge: report \(i + 1) has shard '\(label)', expected K/N")
            }
            ns.insert(n)
            if let j = ks[k] { throw MergeError("merge: shard \(label) given twice (reports \(j + 1) and \(i + 1))") }
            ks[k] = i
        }
        guard ns.count == 1, let n = ns.first else {
            throw MergeError("merge: shards of different splits: \(labels.sorted().joined(separator: ", "))")
        }
        let missing = (1...n).filter { ks[$0] == nil }
        if !missing.isEmpty {
            throw MergeError("merge: missing shard\(missing.count == 1 ? "" : "s") " + missing.map { "\($0)/\(n)" }.joined(separator: ", "))
        }
    }

    static func unique(_ xs: [String]) -> [String] {
        var seen = Set<String>()
        return xs.filter { seen.insert($0).inserted }
    }
}
