import Testing
import NNCore
import NNOptimized
import NNReference

/// Runs `op` on `backend` with a generator of its own seeded with `seed`.
private func run(_ backend: OpTable, _ op: String, seed: UInt64 = 1, _ args: [String: Value]) throws -> Tensor {
    try DropoutGenerator.$current.withValue(DropoutGenerator(seed: seed)) { try backend.call(op, args).tensor! }
}

private let channelOps: [(op: String, shape: [Int], units: Int)] = [
    ("dropout1d", [3, 5, 7], 15), ("dropout1d", [5, 17], 5), ("dropout2d", [2, 3, 4, 5], 6), ("dropout2d", [2, 3, 17], 6),
    ("dropout3d", [2, 3, 2, 3, 2], 6), ("dropout3d", [3, 2, 2, 3], 3), ("feature_alpha_dropout", [4, 3, 5], 12),
]

/// The optimized dropout family: the properties every dropout has (values, whole units, kept
/// fraction, backward through the forward's mask, eval and p = 0 identity, p = 1 zeros, errors),
/// and, with the generator seeded alike, exactly the reference's masks (both draw unit u from
/// the u-th SplitMix64 output).
@Suite struct SIMDDropoutTests {
    @Test func valuesAndKeptFraction() throws {
        var r = Random(1)
        for dtype in [DType.float32, .float64] {
            for (p, count) in [(0.2, 1), (0.5, 17), (0.3, 33), (0.7, 5000), (0.1, 70_000)] {
                let x = r.tensor([count], dtype, offset: 3)  // no zeros: every element shows its mask
                let y = try run(optimized, "dropout", seed: UInt64(count), ["input": .tensor(x), "p": .double(p)])
                let q = 1 - p
                let xs = x.doubles, ys = y.doubles
                let kept = ys.indices.filter { ys[$0] != 0 }
                let scaled = dtype == .float32 ? kept.allSatisfy { Float(ys[$0]) == Float(xs[$0]) * (1 / Float(q)) }
                    : kept.allSatisfy { ys[$0] == xs[$0] * (1 / q) }
                #expect(scaled)
                #expect(y.dtype == dtype && y.shape == x.shape)
                let sigma = (Double(count) * q * p).squareRoot()
                #expect(abs(Double(kept.count) - Double(count) * q) <= 5 * sigma + 1e-9, "kept \(kept.count) of \(count)")
            }
        }
    }

    @Test func alphaValues() throws {
        var r = Random(2)
        for dtype in [DType.float32, .float64] {
            let x = r.tensor([40_000], dtype)
            let y = try run(optimized, "alpha_dropout", ["input": .tensor(x), "p": .double(0.25), "training": .bool(true)])
            #expect(y.gradFn?.name == "AddBackward0")
            let k = AlphaDropoutConstants(p: 0.25)
            let xs = x.doubles, ys = y.doubles
            let tolerance = dtype == .float32 ? 1e-5 : 1e-12
            var kept = 0
            for i in xs.indices {
                if abs(ys[i] - (k.a * xs[i] + k.b)) <= tolerance * (1 + abs(ys[i])) { kept += 1 } else {
                    #expect(abs(ys[i] - k.dropped) <= tolerance, "element \(i)")
                }
            }
            let sigma = (40_000 * 0.75 * 0.25).squareRoot()
            #expect(abs(Double(kept) - 30_000) <= 5 * sigma)
        }
    }

    @Test func channelsAreDroppedWhole() throws {
        var r = Random(3)
        for (op, shape, units) in channelOps {
            let x = r.tensor(shape, offset: 4)
            let y = try run(optimized, op, ["input": .tensor(x), "p": .double(0.5), "training": .bool(true)])
            let size = x.numel / units, ys = y.doubles
            let dropped = op == "feature_alpha_dropout" ? ys.min()! : 0
            for u in 0..<units {
                let states = Set(ys[u * size ..< (u + 1) * size].map { $0 == dropped })
                #expect(states.count == 1, "\(op) unit \(u)")
            }
        }
    }

    @Test func backwardUsesTheForwardMask() throws {
        var r = Random(4)
        for dtype in [DType.float32, .float64] {
            for (op, shape) in [("dropout", [3, 50]), ("dropout2d", [2, 40, 3, 3]), ("alpha_dropout", [300]), ("feature_alpha_dropout", [5, 30, 2])] {
                let x = r.tensor(shape, dtype, offset: 5)
                let y = try run(optimized, op, ["input": .tensor(x), "p": .double(0.4), "training": .bool(true)])
                let g = r.tensor(shape, dtype, grad: false)
                try y.backward(gradient: g)
                let gx = try #require(x.grad).doubles, gs = g.doubles, ys = y.doubles
                let scale = op.contains("alpha") ? AlphaDropoutConstants(p: 0.4).a : 1 / 0.6
                let dropped = op.contains("alpha") ? AlphaDropoutConstants(p: 0.4).dropped : 0
                let tolerance = dtype == .float32 ? 1e-5 : 1e-12
                for i in gx.indices {
                    let wasDropped = abs(ys[i] - dropped) <= tolerance
                    let expected = wasDropped ? 0 : gs[i] * scale
                    #expect(abs(gx[i] - expected) <= tolerance * (1 + abs(expected)), "\(op) \(dtype) grad \(i)")
                }
            }
        }
    }

    /// Seeded alike, both backends draw the same masks: outputs, grad_fn, gradients, in-place
    /// results and version bumps agree exactly, for every op and dtype, batched and unbatched,
    /// and across the threading threshold.
    @Test func sameSeedSameMasksAsReference() throws {
        var r = Random(5)
        let cases: [(String, [Int])] = [("dropout", [1]), ("dropout", [15]), ("dropout", [2, 33]), ("dropout", [300, 257]),
                                        ("alpha_dropout", [17, 3]), ("alpha_dropout", [70_001])] + channelOps.map { ($0.op, $0.shape) }
            + [("dropout2d", [8, 64, 16, 16]), ("feature_alpha_dropout", [2, 300, 120])]
        for (op, shape) in cases {
            for dtype in [DType.float32, .float64] {
                for inplace in [false, true] {
                    let x = r.tensor(shape, dtype)
                    var outputs: [Tensor] = [], grads: [Tensor] = [], names: [String?] = [], versions: [Int] = []
                    for backend in [optimized, reference] {
                        let leaf = x.clone(requiresGrad: true)
                        // In place needs a non-leaf: leaf · 1.
                        let input = inplace ? try backend.call("mul", ["input": .tensor(leaf), "other": .double(1)]).tensor! : leaf
                        let before = input.version
                        let y = try run(backend, op, seed: 11, ["input": .tensor(input), "p": .double(0.35), "training": .bool(true),
                                                                "inplace": .bool(inplace)])
                        if inplace { #expect(y === input) }
                        try y.backward(gradient: Tensor(shape: shape, data: TensorData.float64((0..<y.numel).map { Double($0 % 7) - 3 }).converted(to: dtype)))
                        outputs.append(y); grads.append(try #require(leaf.grad)); names.append(y.gradFn?.name); versions.append(y.version - before)
                    }
                    #expect(outputs[0].doubles == outputs[1].doubles, "\(op) \(shape) \(dtype) inplace \(inplace)")
                    #expect(grads[0].doubles == grads[1].doubles, "\(op) \(shape) \(dtype) grad")
                    #expect(names[0] == names[1] && versions[0] == versions[1], "\(op) \(names) \(versions)")
                }
            }
        }
    }

    @Test func evalAndZeroPAreIdentityAndOneIsZero() throws {
        var r = Random(6)
        for (op, shape) in [("dropout", [3, 4]), ("alpha_dropout", [5]), ("feature_alpha_dropout", [2, 3, 4]), ("dropout1d", [3, 4]),
                            ("dropout1d", [2, 3, 4]), ("dropout2d", [2, 3, 4, 5]), ("dropout3d", [2, 3, 2, 2]), ("dropout3d", [1, 2, 2, 2, 2])] {
            for dtype in [DType.float32, .float64] {
                let x = r.tensor(shape, dtype)
                try check(op, ["input": .tensor(x), "training": .bool(false)])
                try check(op, ["input": .tensor(x), "p": .double(0), "training": .bool(true)])
                try check(op, ["input": .tensor(x), "p": .double(1), "training": .bool(true)])
                let y = try run(optimized, op, ["input": .tensor(x), "p": .double(1), "training": .bool(true)])
                #expect(y.doubles.allSatisfy { $0 == 0 })
                let e = try run(optimized, op, ["input": .tensor(x), "training": .bool(false)])
                #expect(e.doubles == x.doubles)
            }
        }
        // Identity is the input itself (not a copy), except for unbatched dropout1d/3d (a view).
        let x = r.tensor([4, 6])
        #expect(try run(optimized, "dropout", ["input": .tensor(x), "training": .bool(false)]) === x)
        #expect(try run(optimized, "dropout1d", ["input": .tensor(x), "training": .bool(false)]).gradFn?.name == "SqueezeBackward1")
        // p = 1 on an integer tensor: zeros; non-finite inputs give x · 0.
        try check("dropout", ["input": .tensor(Tensor(shape: [3], int64: [1, -2, 3])), "p": .double(1)])
        let edges = Tensor(shape: [4], [.nan, .infinity, -.infinity, -1] as [Float])
        try check("dropout", ["input": .tensor(edges), "p": .double(1)])
        try check("dropout", ["input": .tensor(Tensor.zeros([0, 3], dtype: .float32)), "p": .double(0.5)])
    }

    @Test func errorsMatchTheReference() throws {
        var r = Random(7)
        try check("dropout", ["input": .tensor(r.tensor([3])), "p": .double(1.5)])
        try check("dropout", ["input": .tensor(r.tensor([3])), "p": .double(-0.1)])
        try check("dropout1d", ["input": .tensor(r.tensor([2, 3, 4, 5]))])
        try check("feature_alpha_dropout", ["input": .tensor(r.tensor([5])), "p": .double(0.5), "training": .bool(true)])
        try check("dropout", ["input": .tensor(Tensor(shape: [3], int64: [1, 2, 3])), "p": .double(0.5)])
        try check("dropout", ["input": .tensor(r.tensor([3])), "inplace": .bool(true)])  // a leaf that requires grad
        try check("dropout1d", ["input": .tensor(r.tensor([3, 4])), "inplace": .bool(true), "training": .bool(false)])
        try check("dropout", ["input": .tensor(r.tensor([3])), "bogus": .int(1)])
    }
}
