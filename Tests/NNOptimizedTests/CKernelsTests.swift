import CKernels
import NNCore
import Testing

/// The C row kernels (`Sources/CKernels`) at every ISA level this CPU supports (baseline, AVX2 +
/// FMA, AVX-512), through the float32 contiguous-row paths of `softmax`, `log_softmax` and
/// `cross_entropy` and the normalization backward's rows, against the reference backend: row
/// lengths around the 16-lane vectors (tails), rows split across threads, and edge values. The
/// level is restored afterwards.
@Suite(.serialized) struct CKernelsTests {
    @Test func levelsAgreeWithReference() throws {
        let chosen = ck_isa_level()
        defer { ck_set_isa_level(chosen) }
        #expect((0...2).contains(chosen))
        for level in 0...chosen {
            let used = ck_set_isa_level(Int32(level))
            #expect(used == Int32(level))
            var r = Random(UInt64(40 + level))
            for shape in [[1, 1], [3, 15], [3, 16], [2, 17], [4, 33], [2, 1000], [40, 1000]] {
                // log_softmax's (x − m) − log Σ cancels near the maximum: float32 rounding of |x| ≈ 6 is ~5e-7.
                for (op, atol) in [("softmax", 1e-6), ("log_softmax", 1e-5)] {
                    try check(op, ["input": .tensor(r.tensor(shape, scale: 6)), "dim": .int(1)], rtol: 1e-5, atol: atol)
                }
                let targets = (0..<shape[0]).map { _ in Int64(r.int(0...(shape[1] - 1))) }
                let ce: [String: Value] = ["input": .tensor(r.tensor(shape, scale: 4)),
                                           "target": .tensor(Tensor(shape: [shape[0]], int64: targets))]
                try check("cross_entropy", ce, rtol: 1e-5, atol: 1e-5)
            }
            // Normalization rows: batch norm's channels a plane apart (group at a time, and rows
            // shared out with few channels), group norm's contiguous blocks; planes around 16.
            for shape in [[2, 3, 5, 3], [4, 9, 4, 4], [3, 8, 17, 1], [2, 16, 33, 2]] {
                let c = shape[1]
                try check("batch_norm", ["input": .tensor(r.tensor(shape, scale: 3)), "running_mean": .none, "running_var": .none,
                                         "weight": .tensor(r.tensor([c])), "bias": .tensor(r.tensor([c])), "training": .bool(true)],
                          rtol: 1e-4, atol: 1e-5)
                try check("group_norm", ["input": .tensor(r.tensor(shape, scale: 3)), "num_groups": .int(c == 9 ? 3 : 1)],
                          rtol: 1e-4, atol: 1e-5)
            }
            let edges: [Float] = [1e4, -1e4, 0, .nan, -.infinity, 3, 2, 1, -.infinity, -.infinity, 5, .infinity,
                                  -200, -100, -90, -87, 0, 0.5, -0.5, 7, 7, 7, 7, 7, -.infinity, 1e-30, -1e-30, 30, 20, 10, 0, -10, -20, -30]
            for n in [17, 34] {
                let rows = edges.count / n
                let input = Tensor(shape: [rows, n], Array(edges[0..<rows * n]), requiresGrad: true)
                for op in ["softmax", "log_softmax"] { try check(op, ["input": .tensor(input), "dim": .int(1)]) }
            }
        }
    }
}
