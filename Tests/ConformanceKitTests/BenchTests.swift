import Foundation
import NNCore
import NNReference
import Testing
@testable import ConformanceKit

/// The bench machinery on tiny shapes: the statistics, the timing loop's rules, the JSON and the
/// combined table. Never asserts a speed.
@Suite struct BenchTests {
    @Test func medianOfOddAndEvenCounts() {
        #expect(Bench.median([]) == nil)
        #expect(Bench.median([3, 1, 2]) == 2)
        #expect(Bench.median([4, 1, 3, 2]) == 2.5)
        #expect(Bench.median([7]) == 7)
    }

    @Test func geometricMean() throws {
        let g = try #require(Bench.geometricMean([2, 8]))
        #expect(abs(g - 4) < 1e-12)
        let one = try #require(Bench.geometricMean([0.5, 2, 1]))
        #expect(abs(one - 1) < 1e-12)
        #expect(Bench.geometricMean([]) == nil)
        #expect(Bench.geometricMean([1, 0]) == nil)
    }

    @Test func samplingHonoursWarmupRepeatsAndBudget() {
        var settings = BenchSettings()
        (settings.warmup, settings.repeats, settings.minimumRepeats, settings.budget) = (2, 5, 3, 100)
        var calls = 0
        let a = Bench.samples(settings) { calls += 1; return 0.001 }
        #expect(a.count == 5)
        #expect(calls == 7)
        // Over budget already after warm-up: stop at the minimum.
        settings.budget = 0.5
        calls = 0
        let b = Bench.samples(settings) { calls += 1; return 1 }
        #expect(b.count == 3)
        #expect(calls == 4)  // one warm-up call spent the budget, then the 3 samples
    }

    static let tinyConv = BenchCase("tiny_conv", "conv2d", [
        ("input", .tensor(BenchTensor([2, 3, 5, 5]))), ("weight", .tensor(BenchTensor([4, 3, 3, 3]))),
        ("bias", .tensor(BenchTensor([4]))), ("padding", .int(1)),
    ], reference: true, gemmBound: true)

    @Test func argumentsAreReproducible() throws {
        let a = try #require(Self.tinyConv.arguments()["input"]?.tensor)
        let b = try #require(Self.tinyConv.arguments()["input"]?.tensor)
        #expect(a.values(Float.self) == b.values(Float.self))
        #expect(a.requiresGrad)
        let classes = BenchTensor([50], fill: .classes(7), grad: false).make(seed: 1).int64s
        #expect(classes.allSatisfy { (0..<7).contains($0) })
    }

    @Test func measuresForwardBackwardAndRates() throws {
        var settings = BenchSettings()
        (settings.warmup, settings.repeats, settings.budget) = (1, 3, 0)
        let r = Bench.measure(Self.tinyConv, on: Reference.backend, settings: settings)
        #expect(r.error == nil)
        #expect(r.forwardRepeats == 3)
        #expect(r.backwardRepeats == 3)
        let (fwd, bwd) = (try #require(r.forwardMs), try #require(r.backwardMs))
        // 2·outputs·(Cin·3·3) flops forward; input and weight gradients: twice that backward.
        let flops = 2.0 * (2 * 4 * 5 * 5) * 27
        let fg = try #require(r.forwardGflops), bg = try #require(r.backwardGflops)
        #expect(abs(fg - flops / (fwd * 1e6)) < 1e-9 * fg)
        #expect(abs(bg - 2 * flops / (bwd * 1e6)) < 1e-9 * bg)
        // Bytes: input 150, weight 108, bias 4, output 200 floats forward; backward adds ∂output
        // and the three gradients to the arguments.
        let (image, weight, bias, output) = (150.0, 108.0, 4.0, 200.0)
        let fb = try #require(r.forwardGBps), bb = try #require(r.backwardGBps)
        #expect(abs(fb - 4 * (image + weight + bias + output) / (fwd * 1e6)) < 1e-9 * fb)
        #expect(abs(bb - 4 * (output + 2 * (image + weight + bias)) / (bwd * 1e6)) < 1e-9 * bb)
        // A scalar loss is seeded with ones; an unsupported op is reported, not thrown.
        let loss = BenchCase("tiny_ce", "cross_entropy", [
            ("input", .tensor(BenchTensor([3, 5]))), ("target", .tensor(BenchTensor([3], fill: .classes(5), grad: false))),
        ])
        #expect(Bench.measure(loss, on: Reference.backend, settings: settings).backwardMs != nil)
        let missing = Bench.measure(loss, on: OpTable(name: "empty", ops: [:]), settings: settings)
        #expect(missing.forwardMs == nil)
        #expect(missing.error?.contains("does not implement") == true)
    }

    func result(_ name: String, _ backend: String, _ f: Double, _ b: Double, gemm: Bool = false) -> BenchResult {
        var r = BenchResult(name: name, op: "conv2d", backend: backend)
        (r.forwardMs, r.backwardMs, r.gemmBound) = (f, b, gemm)
        (r.forwardGflops, r.backwardGflops) = (100 / f, 200 / b)
        (r.forwardGBps, r.backwardGBps) = (10 / f, 30 / b)
        return r
    }

    @Test func combinedTableRatiosAndGeomeans() throws {
        let ours = BenchRun(created: "now", machine: ["cpu": "x"], threads: 2, settings: BenchSettings(),
                            sgemmGflops: ["optimized": 200],
                            results: [result("a", "optimized", 1, 4, gemm: true), result("b", "optimized", 4, 1),
                                      result("a", "reference", 100, 800)])
        let torch = BenchRun(created: "now", machine: ["torch": "2"], threads: 2, settings: BenchSettings(),
                             sgemmGflops: ["torch": 300],
                             results: [result("a", "torch", 2, 2), result("b", "torch", 1, 2)])
        // JSON round trip keeps everything.
        let back = try BenchRun.load(try ours.jsonData())
        #expect(back == ours)
        #expect(back.primaryBackend == "optimized")

        let table = BenchTable(back, torch: torch)
        #expect(table.rows.count == 2)
        let s = table.summary
        // Speeds t_torch / t_ours: a 2, 0.5; b 0.25, 2 → geomeans √(2·0.25), √(0.5·2).
        let f = try #require(s.forwardGeomean), b = try #require(s.backwardGeomean)
        #expect(abs(f - (0.5).squareRoot()) < 1e-12)
        #expect(abs(b - 1) < 1e-12)
        #expect(s.belowHalf == ["b fwd 0.25"])
        // a: 100 GFLOP/s forward over sgemm 200 → 50%; 50 GFLOP/s backward → 25%.
        let share = try #require(s.gemmBoundShare.first)
        #expect(share.0 == "a" && share.1 == 0.5 && share.2 == 0.25)
        let ref = try #require(s.referenceSpeedups.first)
        #expect(ref.1 == 100 && ref.2 == 200)
        #expect(table.text().contains("geometric mean speed vs PyTorch: forward 0.71"))
        let md = table.markdown()
        #expect(md.hasPrefix("| case | fwd ms | torch fwd ms | fwd speed |"))
        #expect(md.contains("| a (gemm) | 1.00 | 2.00 | 2.00 | 4.00 | 2.00 | 0.50 | 100 / 50.0 | 50% / 25% | 10 / 8 | 100× / 200× |"))
    }

    /// A GEMM-bound case's share of sgemm is over the sgemm measured next to it when the run has
    /// one, which survives the JSON round trip.
    @Test func gemmBoundShareUsesTheAdjacentSgemm() throws {
        var a = result("a", "optimized", 1, 4, gemm: true)
        a.sgemmGflops = 400
        let run = BenchRun(created: "now", machine: [:], threads: 2, settings: BenchSettings(),
                           sgemmGflops: ["optimized": 200], results: [a, result("b", "optimized", 1, 1, gemm: true)])
        let back = try BenchRun.load(try run.jsonData())
        #expect(back.result("a", backend: "optimized")?.sgemmGflops == 400)
        let shares = BenchTable(back).summary.gemmBoundShare
        // a: 100 and 50 GFLOP/s over 400; b: 100 and 200 over the run's 200.
        #expect(shares.map(\.0) == ["a", "b"])
        #expect(shares[0].1 == 0.25 && shares[0].2 == 0.125)
        #expect(shares[1].1 == 0.5 && shares[1].2 == 1)
    }

    @Test func suiteMatchesSignaturesAndTheCommittedJSON() throws {
        for c in BenchSuite.standard + [BenchSuite.sgemm] {
            let signature = try #require(Signatures.all[c.op])
            for (key, _) in c.args { #expect(signature.parameters.contains(key), "\(c.name): \(key)") }
        }
        #expect(Set(BenchSuite.standard.map(\.name)).count == BenchSuite.standard.count)
        // tools/torch_bench.py reads tools/bench_suite.json: it must be the suite's current dump.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/bench_suite.json")
        let committed = try String(contentsOf: url, encoding: .utf8)
        #expect(committed == BenchSuite.json(), "regenerate with: conformance bench --dump-suite tools/bench_suite.json")
    }
}
