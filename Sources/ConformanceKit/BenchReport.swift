import Foundation

/// The JSON of one `conformance bench` run (format `nnconf-bench/1`), and of
/// `tools/torch_bench.py`, which writes the same shape with backend `torch`:
///
///     {"format": "nnconf-bench/1", "created": ISO 8601, "machine": {"cpu": ..., ...},
///      "threads": 2, "settings": {"warmup": 2, "repeats": 15, ...},
///      "sgemm_gflops": {"optimized": 410.0},
///      "results": [{"name": ..., "op": ..., "backend": ..., "forward_ms": ..., "backward_ms": ...,
///                   "forward_gflops": ..., "backward_gflops": ..., "gemm_bound": false, ...}]}
public struct BenchRun: Codable, Equatable {
    public var format = "nnconf-bench/1"
    public var created: String
    /// Free-form facts: cpu, cores, simd, openblas, torch version, ...
    public var machine: [String: String]
    public var threads: Int
    public var settings: BenchSettings
    /// The sgemm rate (2048³ through `linear`) per backend, in GFLOP/s.
    public var sgemmGflops: [String: Double]
    public var results: [BenchResult]

    enum CodingKeys: String, CodingKey {
        case format, created, machine, threads, settings, results
        case sgemmGflops = "sgemm_gflops"
    }

    public init(created: String, machine: [String: String], threads: Int, settings: BenchSettings,
                sgemmGflops: [String: Double] = [:], results: [BenchResult] = []) {
        self.created = created
        self.machine = machine
        self.threads = threads
        self.settings = settings
        self.sgemmGflops = sgemmGflops
        self.results = results
    }

    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }

    public static func load(_ data: Data) throws -> BenchRun {
        try JSONDecoder().decode(BenchRun.self, from: data)
    }

    /// The backend whose figures the tables show: the first that is not `reference`, if any.
    public var primaryBackend: String? {
        let names = results.map(\.backend)
        return names.first { $0 != "reference" } ?? names.first
    }

    public func result(_ name: String, backend: String?) -> BenchResult? {
        results.first { $0.name == name && $0.backend == backend }
    }

    /// `/proc/loadavg`'s 1-, 5- and 15-minute load averages: figures taken on a busy machine
    /// say so.
    public static var loadAverage: String? {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))
            .map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
    }

    /// The machine facts as `key: value` lines' content, in key order.
    public var machineLine: String {
        machine.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
    }
}

extension MachineInfo {
    /// The facts `BenchRun.machine` keeps.
    public var benchFacts: [String: String] {
        var m = ["cpu": cpu, "cores": String(cores), "simd": simd, "os": os, "openblas": openblas,
                 "openblas_core": openblasCore, "openblas_threads": String(openblasThreads)]
        if let gitCommit { m["git_commit"] = gitCommit }
        if let load = BenchRun.loadAverage { m["load_average"] = load }
        return m
    }
}

extension BenchSuite {
    /// The suite as JSON for `tools/torch_bench.py`: a list of cases with their arguments as
    /// `[name, value]` pairs (order kept); a tensor is `{"tensor": {"shape": [...], "fill":
    /// "uniform"|"positive"|"classes", "classes": n, "requires_grad": bool}}`.
    public static func json(_ cases: [BenchCase] = standard + [sgemm]) -> String {
        func str(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func value(_ a: BenchArg) -> String {
            switch a {
            case .int(let i): return String(i)
            case .double(let d): return String(d)
            case .bool(let b): return b ? "true" : "false"
            case .string(let s): return str(s)
            case .ints(let l): return "[" + l.map(String.init).joined(separator: ", ") + "]"
            case .tensor(let t):
                var fill = "\"fill\": "
                switch t.fill {
                case .uniform: fill += "\"uniform\""
                case .positive: fill += "\"positive\""
                case .classes(let k): fill += "\"classes\", \"classes\": \(k)"
                }
                return "{\"tensor\": {\"shape\": [\(t.shape.map(String.init).joined(separator: ", "))], \(fill), "
                    + "\"requires_grad\": \(t.requiresGrad)}}"
            }
        }
        let lines = cases.map { c in
            let args = c.args.map { "[\(str($0.0)), \(value($0.1))]" }.joined(separator: ", ")
            return "    {\"name\": \(str(c.name)), \"op\": \(str(c.op)), \"backward\": \(c.backward), "
                + "\"gemm_bound\": \(c.gemmBound),\n     \"args\": [\(args)]}"
        }
        return "{\"format\": \"nnconf-bench-suite/1\", \"cases\": [\n" + lines.joined(separator: ",\n") + "\n]}\n"
    }
}
