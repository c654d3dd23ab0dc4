import Foundation
import Testing
import NNCore
import NNOptimized
import NNReference

/// The optimized shape and misc ops against the reference backend: pad, pixel shuffles,
/// one_hot, flatten/unflatten, embedding, max/min/argmax/argmin, cosine_similarity,
/// pairwise_distance, unfold/fold. Values, `grad_fn`, gradients and errors, on every mode and
/// argument branch, both float dtypes (and the integer/bool inputs the data movements take),
/// SIMD tails, and a few shapes large enough to split across threads.
@Suite struct SIMDShapeTests {
    private func ints(_ a: [Int]) -> Value { .list(a.map { .int($0) }) }
    private func floats(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(shape: shape, values, requiresGrad: true) }

    @Test func padConstant() throws {
        var r = Random(1)
        let cases: [([Int], [Int])] = [
            ([5], [1, 2]), ([3, 4], [1, 1, 2, 0]), ([2, 3, 4], [0, 0, 0, 0, 1, 1]), ([2, 3, 17], [-2, 3]),
            ([2, 3, 17], [3, -4, -1, 2]), ([2, 5, 6], [-6, 0]), ([1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 1, 1, 1]),
            ([3, 4], []), ([], []), ([2, 0, 3], [1, 1]), ([2, 3, 4], [-1, -1, -1, -1, -1, -1]),
        ]
        for (shape, pads) in cases {
            for dtype in [DType.float32, .float64] {
                try check("pad", ["input": .tensor(r.tensor(shape, dtype)), "pad": ints(pads), "value": .double(1.5)])
            }
            try check("pad", ["input": .tensor(r.tensor(shape)), "pad": ints(pads)])
        }
        try check("pad", ["input": .tensor(Tensor(shape: [2, 3], int64: [1, 2, 3, 4, 5, 6])), "pad": ints([1, 2, 0, 1]), "value": .double(-7.9)])
        try check("pad", ["input": .tensor(Tensor(shape: [3], data: .bool([true, false, true]))), "pad": ints([2, 1]), "value": .double(1)])
        try check("pad", ["input": .tensor(Tensor(shape: [3], int64: [1, 2, 3])), "pad": ints([-1, 0]), "value": .string("nan")])
        try check("pad", ["input": .tensor(r.tensor([3])), "pad": ints([1, 1]), "value": .string("-inf")])
        // Errors: odd length, too long, narrowing below zero, a value that overflows.
        try check("pad", ["input": .tensor(r.tensor([3])), "pad": ints([1])])
        try check("pad", ["input": .tensor(r.tensor([3])), "pad": ints([1, 1, 1, 1])])
        try check("pad", ["input": .tensor(r.tensor([3])), "pad": ints([-2, -2])])
        try check("pad", ["input": .tensor(Tensor(shape: [1], int64: [1])), "pad": ints([1, 1]), "value": .double(1e30)])
        // Large enough for threads, forward and backward.
        try check("pad", ["input": .tensor(r.tensor([4, 8, 40, 33])), "pad": ints([2, 3, 1, -1])])
    }

    @Test func padReflectReplicateCircular() throws {
        var r = Random(2)
        let cases: [([Int], [Int])] = [
            ([2, 5], [2, 3]), ([2, 3, 17], [4, 1]), ([2, 3, 17], [0, 0]), ([3, 4, 5], [1, 2, 3, 0]),
            ([2, 3, 4, 5], [2, 1, 1, 3]), ([2, 3, 4, 5], [0, 1, 2, 0]), ([2, 3, 4, 5], [1, 1, 1, 1, 2, 0]),
            ([1, 2, 3, 4, 18], [2, 2, 1, 0, 2, 1]), ([2, 6], [-2, 3]), ([2, 3, 6, 5], [-1, 2, 3, -2]),
        ]
        for mode in ["reflect", "replicate", "circular"] {
            for (shape, pads) in cases {
                try check("pad", ["input": .tensor(r.tensor(shape)), "pad": ints(pads), "mode": .string(mode)])
                try check("pad", ["input": .tensor(r.tensor(shape, .float64)), "pad": ints(pads), "mode": .string(mode)])
            }
            try check("pad", ["input": .tensor(Tensor(shape: [1, 4], int64: [1, 2, 3, 4])), "pad": ints([2, 1]), "mode": .string(mode)])
            try check("pad", ["input": .tensor(r.tensor([4, 8, 40, 33])), "pad": ints([3, 2, 2, 1]), "mode": .string(mode)])
            // Errors: a value with a non-constant mode, a 1-d input, a pad too large, bool input.
            try check("pad", ["input": .tensor(r.tensor([2, 5])), "pad": ints([1, 1]), "mode": .string(mode), "value": .double(2)])
            try check("pad", ["input": .tensor(r.tensor([5])), "pad": ints([1, 1]), "mode": .string(mode)])
            try check("pad", ["input": .tensor(r.tensor([2, 3])), "pad": ints([4, 7]), "mode": .string(mode)])
            try check("pad", ["input": .tensor(Tensor(shape: [1, 2], data: .bool([true, false]))), "pad": ints([1, 1]), "mode": .string(mode)])
        }
        try check("pad", ["input": .tensor(r.tensor([2, 3])), "pad": ints([1, 1]), "mode": .string("wrap")])
    }

    @Test func pixelShuffle() throws {
        var r = Random(3)
        for (shape, factor) in [([4, 2, 3], 2), ([2, 9, 3, 5], 3), ([2, 3, 4, 5], 1), ([2, 1, 8, 2, 17], 2), ([1, 4, 1, 1], 2)] {
            for dtype in [DType.float32, .float64] {
                try check("pixel_shuffle", ["input": .tensor(r.tensor(shape, dtype)), "upscale_factor": .int(factor)])
                var big = shape
                big[big.count - 2] *= factor
                big[big.count - 1] *= factor
                try check("pixel_unshuffle", ["input": .tensor(r.tensor(big, dtype)), "downscale_factor": .int(factor)])
            }
        }
        try check("pixel_shuffle", ["input": .tensor(Tensor(shape: [4, 1, 2], int64: [1, 2, 3, 4, 5, 6, 7, 8])), "upscale_factor": .int(2)])
        try check("pixel_unshuffle", ["input": .tensor(Tensor(shape: [1, 2, 2], data: .bool([true, false, false, true]))), "downscale_factor": .int(2)])
        try check("pixel_unshuffle", ["input": .tensor(r.tensor([0, 1, 4, 4])), "downscale_factor": .int(2)])
        try check("pixel_shuffle", ["input": .tensor(r.tensor([0, 4, 2, 2])), "upscale_factor": .int(2)])
        try check("pixel_shuffle", ["input": .tensor(r.tensor([2, 3, 5, 5])), "upscale_factor": .int(2)])  // error
        try check("pixel_unshuffle", ["input": .tensor(r.tensor([2, 3, 5])), "downscale_factor": .int(2)])  // error
        try check("pixel_shuffle", ["input": .tensor(r.tensor([2, 16, 40, 33])), "upscale_factor": .int(2)])
        try check("pixel_unshuffle", ["input": .tensor(r.tensor([2, 4, 80, 66])), "downscale_factor": .int(2)])
    }

    @Test func oneHotAndViews() throws {
        var r = Random(4)
        try check("one_hot", ["input": .tensor(Tensor(shape: [2, 3], int64: [0, 4, 2, 1, 1, 3]))])
        try check("one_hot", ["input": .tensor(Tensor(shape: [4], int64: [0, 4, 2, 1])), "num_classes": .int(7)])
        try check("one_hot", ["input": .tensor(Tensor(shape: [], int64: [2]))])
        try check("one_hot", ["input": .tensor(Tensor(shape: [0], int64: [])), "num_classes": .int(3)])
        try check("one_hot", ["input": .tensor(Tensor(shape: [2], int64: [0, 4])), "num_classes": .int(3)])  // error
        try check("one_hot", ["input": .tensor(r.tensor([2]))])  // error
        let many = (0..<3000).map { _ in Int64(r.int(0...19)) }
        try check("one_hot", ["input": .tensor(Tensor(shape: [3000], int64: many))])

        try check("flatten", ["input": .tensor(r.tensor([2, 3, 4, 5])), "start_dim": .int(1), "end_dim": .int(2)])
        try check("flatten", ["input": .tensor(r.tensor([2, 3])), "start_dim": .int(1)])
        try check("flatten", ["input": .tensor(r.tensor([]))])
        try check("flatten", ["input": .tensor(r.tensor([2, 3])), "start_dim": .int(1), "end_dim": .int(0)])  // error
        try check("unflatten", ["input": .tensor(r.tensor([2, 12])), "dim": .int(1), "sizes": ints([3, -1])])
        try check("unflatten", ["input": .tensor(r.tensor([2, 12])), "dim": .int(-1), "sizes": ints([5, -1])])  // error
        // A view shares storage: writing the input in place is seen through the result.
        for backend in [optimized, reference] {
            let x = r.tensor([2, 6], grad: false)
            let y = try backend.call("flatten", ["input": .tensor(x)]).tensor!
            _ = try backend.call("mul_", ["input": .tensor(x), "other": .double(2)])
            #expect(y.doubles == x.doubles && y.shape == [12])
        }
    }

    @Test func embedding() throws {
        var r = Random(5)
        let idx = Tensor(shape: [2, 4], int64: [1, 3, 3, 0, 4, 1, 3, 2])
        for dtype in [DType.float32, .float64] {
            for width in [1, 5, 17] {
                try check("embedding", ["input": .tensor(idx), "weight": .tensor(r.tensor([6, width], dtype))])
            }
            try check("embedding", ["input": .tensor(idx), "weight": .tensor(r.tensor([6, 5], dtype)), "padding_idx": .int(3)])
            try check("embedding", ["input": .tensor(idx), "weight": .tensor(r.tensor([6, 5], dtype)), "padding_idx": .int(-3)])
            try check("embedding", ["input": .tensor(idx), "weight": .tensor(r.tensor([6, 5], dtype)), "scale_grad_by_freq": .bool(true)])
            try check("embedding", ["input": .tensor(idx), "weight": .tensor(r.tensor([6, 5], dtype)), "scale_grad_by_freq": .bool(true),
                                    "padding_idx": .int(1)])
            for norm in [Value.double(2), .double(1), .double(3.5), .string("inf")] {
                // The renormalized table is compared too (a weight that needs no gradient).
                try check("embedding", ["input": .tensor(idx), "weight": .tensor(r.tensor([6, 17], dtype, scale: 2, grad: false)),
                                        "max_norm": .double(1.5), "norm_type": norm])
                try check("embedding", ["input": .tensor(idx), "weight": .tensor(r.tensor([6, 17], dtype, scale: 2)),
                                        "max_norm": .double(3), "norm_type": norm])
            }
        }
        try check("embedding", ["input": .tensor(Tensor(shape: [], int64: [2])), "weight": .tensor(r.tensor([3, 4]))])
        try check("embedding", ["input": .tensor(Tensor(shape: [0], int64: [])), "weight": .tensor(r.tensor([3, 4]))])
        try check("embedding", ["input": .tensor(Tensor(shape: [2], int64: [0, 2])), "weight": .tensor(Tensor(shape: [3, 1], int64: [7, 8, 9]))])
        // Errors: index out of range, float indices, padding_idx out of range, sparse.
        try check("embedding", ["input": .tensor(Tensor(shape: [2], int64: [0, 3])), "weight": .tensor(r.tensor([3, 4]))])
        try check("embedding", ["input": .tensor(r.tensor([2])), "weight": .tensor(r.tensor([3, 4]))])
        try check("embedding", ["input": .tensor(idx), "weight": .tensor(r.tensor([6, 4])), "padding_idx": .int(6)])
        try check("embedding", ["input": .tensor(idx), "weight": .tensor(r.tensor([6, 4])), "sparse": .bool(true)])
        // Many indices over few rows: rows accumulated across threads.
        let many = Tensor(shape: [40, 30], int64: (0..<1200).map { _ in Int64(r.int(0...49)) })
        try check("embedding", ["input": .tensor(many), "weight": .tensor(r.tensor([50, 40])), "scale_grad_by_freq": .bool(true)])
        try check("embedding", ["input": .tensor(many), "weight": .tensor(r.tensor([50, 40], grad: false)), "max_norm": .double(4)])

        // max_norm writes the weight in place: one version bump on each backend.
        let versions = try [optimized, reference].map { backend -> Int in
            let w = Tensor(shape: [3, 2], [3, 4, 0.1, 0.1, 1, 1] as [Float])
            _ = try backend.call("embedding", ["input": .tensor(Tensor(shape: [2], int64: [0, 1])), "weight": .tensor(w), "max_norm": .double(1)])
            #expect(abs(w.doubles[0] - 0.6) < 1e-6 && w.doubles[2] == Double(Float(0.1)))
            return w.version
        }
        #expect(versions == [1, 1])
    }

    @Test func selection() throws {
        var r = Random(6)
        let shapes: [[Int]] = [[], [7], [3, 5], [2, 33, 4], [4, 100], [3, 2, 40], [5, 17]]
        for op in ["max", "min", "argmax", "argmin"] {
            for shape in shapes {
                for dtype in [DType.float32, .float64] {
                    try check(op, ["input": .tensor(r.tensor(shape, dtype))])
                    for dim in shape.isEmpty ? [0, -1] : Array(-1..<shape.count) {
                        try check(op, ["input": .tensor(r.tensor(shape, dtype)), "dim": .int(dim)])
                        try check(op, ["input": .tensor(r.tensor(shape, dtype)), "dim": .int(dim), "keepdim": .bool(true)])
                    }
                }
            }
            // Ties (first index wins) and NaN (first NaN wins), in vector lanes and in tails.
            var tied = [Float](repeating: 1, count: 70)
            // Equal extremes in different lanes, the later lane holding the earlier index (and in the tail).
            tied[50] = 5; tied[21] = 5; tied[34] = -5; tied[3] = -5; tied[66] = -5
            var nans = tied
            nans[49] = .nan; nans[23] = .nan; nans[69] = .nan
            var tail = tied
            tail[68] = .nan
            for values in [tied, nans, tail] {
                try check(op, ["input": .tensor(floats([70], values))])
                try check(op, ["input": .tensor(floats([2, 35], values)), "dim": .int(1)])
                try check(op, ["input": .tensor(floats([2, 35], values)), "dim": .int(0)])
                try check(op, ["input": .tensor(floats([1, 70], values)), "dim": .int(1)])
                try check(op, ["input": .tensor(floats([35, 2], values)), "dim": .int(0), "keepdim": .bool(true)])
            }
            try check(op, ["input": .tensor(Tensor(shape: [2, 3], int64: [4, -1, 4, 0, 9, 9]))])
            try check(op, ["input": .tensor(Tensor(shape: [2, 3], int64: [4, -1, 4, 0, 9, 9])), "dim": .int(1)])
            try check(op, ["input": .tensor(Tensor(shape: [2, 3], data: .bool([false, true, true, false, false, false]))), "dim": .int(1)])
            try check(op, ["input": .tensor(Tensor(shape: [3], data: .bool([false, true, true])))])
            // Errors: empty reductions, a dim out of range.
            try check(op, ["input": .tensor(r.tensor([0, 3])), "dim": .int(0)])
            try check(op, ["input": .tensor(r.tensor([0, 3]))])
            try check(op, ["input": .tensor(r.tensor([2, 3])), "dim": .int(2)])
            try check(op, ["input": .tensor(r.tensor([0, 3])), "dim": .int(1)])
        }
        try check("max", ["input": .tensor(r.tensor([2, 3])), "keepdim": .bool(true)])  // no overload
        // Whole-tensor reductions split across threads: ties across chunks, a NaN late.
        var big = (0..<40_000).map { _ in Float(r.int(-1000...1000)) / 8 }
        big[39_000] = 125; big[30_001] = 125; big[5] = -125; big[20_000] = -125
        for op in ["max", "min", "argmax", "argmin"] {
            try check(op, ["input": .tensor(floats([40_000], big))])
            try check(op, ["input": .tensor(floats([200, 200], big)), "dim": .int(0)])
            try check(op, ["input": .tensor(floats([200, 200], big)), "dim": .int(1)])
        }
        big[35_000] = .nan
        try check("max", ["input": .tensor(floats([40_000], big))])
        try check("argmin", ["input": .tensor(floats([40_000], big))])
    }

    @Test func cosineSimilarity() throws {
        var r = Random(7)
        let cases: [([Int], [Int], Int)] = [([4, 5], [4, 5], 1), ([4, 5], [4, 5], 0), ([3, 17, 2], [17, 1], 1), ([2, 3, 33], [1, 33], -1),
                                            ([5], [5], 0), ([2, 0, 3], [2, 0, 3], 2), ([], [], 0)]
        for (s, t, dim) in cases {
            for dtype in [DType.float32, .float64] {
                try check("cosine_similarity", ["x1": .tensor(r.tensor(s, dtype)), "x2": .tensor(r.tensor(t, dtype)), "dim": .int(dim)])
            }
        }
        // Mixed dtypes (each normalized in its own), integers, a zero vector (clamped by eps), eps itself.
        try check("cosine_similarity", ["x1": .tensor(r.tensor([3, 4])), "x2": .tensor(r.tensor([3, 4], .float64))])
        try check("cosine_similarity", ["x1": .tensor(Tensor(shape: [2, 2], int64: [1, 2, 3, 0])), "x2": .tensor(r.tensor([2, 2]))])
        try check("cosine_similarity", ["x1": .tensor(floats([2, 3], [0, 0, 0, 1, 2, 3])), "x2": .tensor(r.tensor([2, 3]))])
        try check("cosine_similarity", ["x1": .tensor(r.tensor([2, 3], scale: 1e-3)), "x2": .tensor(r.tensor([2, 3])), "eps": .double(0.5)])
        try check("cosine_similarity", ["x1": .tensor(Tensor(shape: [2], int64: [1, 2])), "x2": .tensor(Tensor(shape: [2], int64: [1, 2])), "dim": .int(0)])
        try check("cosine_similarity", ["x1": .tensor(r.tensor([3, 4])), "x2": .tensor(r.tensor([2, 4]))])  // error
        try check("cosine_similarity", ["x1": .tensor(r.tensor([3, 4])), "x2": .tensor(r.tensor([3, 4])), "dim": .int(2)])  // error
        try check("cosine_similarity", ["x1": .tensor(r.tensor([40, 100, 10])), "x2": .tensor(r.tensor([40, 100, 10])), "dim": .int(1)], rtol: 1e-4, atol: 1e-5)
        try check("cosine_similarity", ["x1": .tensor(r.tensor([400, 100])), "x2": .tensor(r.tensor([100])), "dim": .int(1)], rtol: 1e-4, atol: 1e-5)
    }

    @Test func pairwiseDistance() throws {
        var r = Random(8)
        let ps: [Value] = [.double(2), .double(1), .double(3), .double(1.5), .double(0.5), .double(0), .string("inf"), .string("-inf")]
        for p in ps {
            for (s, t) in [([4, 5], [4, 5]), ([3, 33], [33]), ([2, 1, 17], [3, 1]), ([6], [6]), ([], []), ([3, 0], [3, 0])] as [([Int], [Int])] {
                for dtype in [DType.float32, .float64] {
                    try check("pairwise_distance", ["x1": .tensor(r.tensor(s, dtype)), "x2": .tensor(r.tensor(t, dtype)), "p": p], rtol: 1e-4, atol: 1e-5)
                }
            }
            try check("pairwise_distance", ["x1": .tensor(r.tensor([3, 5])), "x2": .tensor(r.tensor([3, 5])), "p": p, "keepdim": .bool(true)])
        }
        // Equal inputs (a zero distance but for eps), ties and NaN for ±∞, integers, mixed dtypes, eps.
        let x = r.tensor([2, 7])
        try check("pairwise_distance", ["x1": .tensor(x), "x2": .tensor(x.clone(requiresGrad: true)), "eps": .double(0)])
        try check("pairwise_distance", ["x1": .tensor(floats([2, 3], [1, -1, 0.5, .nan, 2, 2])), "x2": .tensor(floats([3], [0, 0, 0])), "p": .string("inf"), "eps": .double(0)])
        try check("pairwise_distance", ["x1": .tensor(floats([2, 3], [1, -1, 0.5, .nan, 2, 2])), "x2": .tensor(floats([3], [0, 0, 0])), "p": .string("-inf"), "eps": .double(0)])
        try check("pairwise_distance", ["x1": .tensor(Tensor(shape: [2, 2], int64: [1, 2, 3, 4])), "x2": .tensor(Tensor(shape: [2], int64: [0, 1]))])
        try check("pairwise_distance", ["x1": .tensor(r.tensor([3, 4])), "x2": .tensor(r.tensor([3, 4], .float64)), "p": .double(3)])
        try check("pairwise_distance", ["x1": .tensor(Tensor(shape: [1], data: .bool([true]))), "x2": .tensor(Tensor(shape: [1], data: .bool([true])))])  // error
        try check("pairwise_distance", ["x1": .tensor(r.tensor([300, 120])), "x2": .tensor(r.tensor([300, 120])), "p": .double(2)], rtol: 1e-4, atol: 1e-5)
    }

    @Test func unfoldFold() throws {
        var r = Random(9)
        let cases: [([Int], [String: Value])] = [
            ([2, 3, 5, 6], ["kernel_size": .int(2)]),
            ([1, 2, 7, 9], ["kernel_size": ints([3, 2]), "stride": ints([2, 1]), "padding": .int(1), "dilation": ints([1, 2])]),
            ([2, 7, 17], ["kernel_size": .int(3), "padding": ints([0, 2]), "stride": .int(2)]),
            ([1, 1, 4, 4], ["kernel_size": .int(1)]),
            ([0, 2, 4, 4], ["kernel_size": .int(2)]),
        ]
        for (shape, sizes) in cases {
            for dtype in [DType.float32, .float64] {
                let x = r.tensor(shape, dtype)
                try check("unfold", ["input": .tensor(x)].merging(sizes) { a, _ in a })
                // fold's input is unfold's output shape, back to the image size.
                let columns = try Reference.backend.call("unfold", ["input": .tensor(x)].merging(sizes) { a, _ in a }).tensor!
                let folded = r.tensor(columns.shape, dtype)
                try check("fold", ["input": .tensor(folded), "output_size": ints(Array(shape.suffix(2)))].merging(sizes) { a, _ in a })
            }
        }
        try check("unfold", ["input": .tensor(Tensor(shape: [1, 1, 3, 3], data: .bool([true, false, true, false, false, true, true, true, false]))),
                             "kernel_size": .int(2)])
        try check("fold", ["input": .tensor(Tensor(shape: [1, 4, 4], data: .bool([true, false, false, false, false, false, false, false,
                                                                                false, false, false, true, false, false, false, false]))),
                           "output_size": .int(3), "kernel_size": .int(2)])
        // Errors: a kernel larger than the padded image, int64 input, a wrong column count.
        try check("unfold", ["input": .tensor(r.tensor([1, 1, 2, 2])), "kernel_size": .int(3)])
        try check("unfold", ["input": .tensor(Tensor(shape: [1, 1, 1], int64: [1])), "kernel_size": .int(1)])
        try check("fold", ["input": .tensor(r.tensor([1, 4, 5])), "output_size": .int(3), "kernel_size": .int(2)])
        // Threads: planes split across cores, forward and backward.
        try check("unfold", ["input": .tensor(r.tensor([2, 8, 20, 21])), "kernel_size": .int(3), "padding": .int(1)])
        try check("fold", ["input": .tensor(r.tensor([2, 72, 420])), "output_size": ints([20, 21]), "kernel_size": .int(3), "padding": .int(1)])
    }
}
