import Foundation
import Testing
import NNCore
import NNOptimized
import NNReference

/// The SIMD kernels of the optimized backend against the reference backend: values, `grad_fn`
/// names, gradients and errors, on seeded random shapes and values, including shapes that take
/// the vector paths (long rows, 16-wide pooling blocks) and their scalar tails.
@Suite struct SIMDOpsTests {
    @Test func unary() throws {
        var r = Random(1)
        for op in ["relu", "sigmoid", "tanh", "exp", "neg"] {
            for shape in [[], [0], [5], [3, 17], [2, 3, 33], [r.int(1...4), r.int(1...40), r.int(1...40)]] {
                for dtype in [DType.float32, .float64] {
                    try check(op, ["input": .tensor(r.tensor(shape, dtype, scale: 3))])
                }
            }
            // Edge values: NaN, ±∞, ±0, large magnitudes; an int64 input (relu, neg) or its promotion.
            let edges: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, 88, 89, -87, -104, 1e-3, -1e-3, 0.6, 0.65, 20, -20, 1, -1]
            try check(op, ["input": .tensor(Tensor(shape: [edges.count], data: TensorData.float64(edges).converted(to: .float32)))])
            try check(op, ["input": .tensor(Tensor(shape: [4], int64: [-2, 0, 3, 7]))])
            try check(op, ["input": .tensor(Tensor(shape: [2], data: .bool([true, false])))])
        }
        try check("relu", ["input": .tensor(r.tensor([40])), "inplace": .bool(true)])  // a leaf: the in-place error
    }

    @Test func inplaceUnaryAndSavedOutputs() throws {
        var r = Random(2)
        for op in ["relu", "sigmoid", "tanh", "exp", "neg"] {
            // x·1 is not a leaf, so the in-place op may write it; then writing its output breaks the backward.
            func run(_ backend: OpTable) throws -> (Tensor, Tensor, Error?) {
                let x = r.tensor([3, 21])
                let y = try backend.call("mul", ["input": .tensor(x), "other": .double(1.5)]).tensor!
                let z = try backend.call(op + "_", ["input": .tensor(y)]).tensor!
                var err: Error?
                do {
                    try z.backward(gradient: Tensor(shape: z.shape, [Float](repeating: 0.5, count: z.numel)))
                } catch { err = error }
                return (x, z, err)
            }
            r = Random(3)
            let (x1, z1, e1) = try run(optimized)
            r = Random(3)
            let (x2, z2, e2) = try run(reference)
            #expect(z1.gradFn?.name == z2.gradFn?.name)
            #expect(close(z1, z2, rtol: 2e-6, atol: 1e-6) == nil, "\(op)_")
            #expect(e1 == nil && e2 == nil)
            #expect(close(x1.grad!, x2.grad!, rtol: 1e-5, atol: 1e-6) == nil, "\(op)_ grad")

            // A saved output modified in place: the same version error (none for `neg`, which saves nothing).
            let errors = try [optimized, reference].map { backend -> String in
                let x = Tensor(shape: [4], [0.5, -1, 2, 3] as [Float], requiresGrad: true)
                let y = try backend.call(op, ["input": .tensor(x)]).tensor!
                _ = try backend.call("mul_", ["input": .tensor(y), "other": .double(2)])
                do { try y.backward(gradient: Tensor(shape: [4], [1, 1, 1, 1] as [Float])) } catch { return "\(error)" }
                return "none"
            }
            #expect(errors[0] == errors[1])
            #expect((errors[0] == "none") == (op == "neg"))
        }
    }

    @Test func binary() throws {
        var r = Random(4)
        let pairs: [([Int], [Int])] = [([3, 4], [3, 4]), ([3, 4], [4]), ([2, 1, 5], [3, 1]), ([], [3]), ([6, 1], [1, 70]),
                                       ([2, 3, 40], [3, 1]), ([1], [5, 1, 2]), ([4, 0], [4, 1]), ([300], [300])]
        for op in ["add", "sub", "mul", "div"] {
            for (s, t) in pairs {
                for dtype in [DType.float32, .float64] {
                    try check(op, ["input": .tensor(r.tensor(s, dtype)), "other": .tensor(r.tensor(t, dtype, offset: op == "div" ? 3 : 0))])
                }
                try check(op, ["input": .tensor(r.tensor(s)), "other": .tensor(r.tensor(t, .float64))])
            }
            try check(op, ["input": .tensor(r.tensor([3, 5])), "other": .double(2.5)])
            try check(op, ["input": .tensor(r.tensor([3, 5])), "other": .int(3)])
            try check(op, ["input": .tensor(Tensor(shape: [3], int64: [4, -7, 9])), "other": .int(2)])
            try check(op, ["input": .tensor(Tensor(shape: [3], int64: [4, -7, 9])), "other": .tensor(Tensor(shape: [3], int64: [3, 2, -4]))])
            try check(op, ["input": .tensor(Tensor(shape: [2], data: .bool([true, false]))), "other": .bool(true)])
            try check(op, ["input": .tensor(r.tensor([3, 4])), "other": .tensor(r.tensor([5]))])  // broadcast error
        }
        for alpha in [Value.int(2), .double(-0.5)] {
            try check("add", ["input": .tensor(r.tensor([7, 9])), "other": .tensor(r.tensor([9])), "alpha": alpha])
            try check("sub", ["input": .tensor(r.tensor([7, 9])), "other": .tensor(r.tensor([7, 1])), "alpha": alpha])
        }
        for mode in ["trunc", "floor"] {
            try check("div", ["input": .tensor(r.tensor([50], scale: 10)), "other": .tensor(r.tensor([50])), "rounding_mode": .string(mode)])
            try check("div", ["input": .tensor(Tensor(shape: [4], int64: [7, -7, 7, -7])),
                              "other": .tensor(Tensor(shape: [4], int64: [2, 2, -2, -2])), "rounding_mode": .string(mode)])
        }
    }

    @Test func inplaceBinary() throws {
        for op in ["add_", "sub_", "mul_", "div_"] {
            var results: [(Tensor, Tensor, Tensor)] = []
            for backend in [optimized, reference] {
                var r = Random(5)
                let x = r.tensor([4, 19]), y = r.tensor([19], offset: 2)
                let base = try backend.call("mul", ["input": .tensor(x), "other": .double(1)]).tensor!
                let z = try backend.call(op, ["input": .tensor(base), "other": .tensor(y)]).tensor!
                try z.backward(gradient: Tensor(shape: z.shape, [Float](repeating: 0.25, count: z.numel)))
                results.append((z, x.grad!, y.grad!))
                #expect(z.gradFn?.name == (op.hasPrefix("div") ? "DivBackward0" : op.prefix(1).uppercased() + op.dropFirst().dropLast() + "Backward0"))
            }
            #expect(close(results[0].0, results[1].0, rtol: 1e-6, atol: 1e-6) == nil)
            #expect(close(results[0].1, results[1].1, rtol: 1e-5, atol: 1e-6) == nil)
            #expect(close(results[0].2, results[1].2, rtol: 1e-5, atol: 1e-5) == nil)
        }
    }

    @Test func softmaxFamily() throws {
        var r = Random(6)
        for op in ["softmax", "log_softmax", "softmin"] {
            for (shape, dims) in [([7], [0, -1]), ([5, 100], [0, 1]), ([3, 5, 40], [0, 1, 2, -1]), ([2, 600, 3], [1]),
                                  ([r.int(1...9), r.int(1...70)], [1]), ([], [0])] as [([Int], [Int])] {
                for dim in dims {
                    try check(op, ["input": .tensor(r.tensor(shape, scale: 4)), "dim": .int(dim)], rtol: 1e-5, atol: 1e-6)
                    try check(op, ["input": .tensor(r.tensor(shape, .float64, scale: 4)), "dim": .int(dim)], rtol: 1e-12, atol: 1e-12)
                }
            }
            try check(op, ["input": .tensor(r.tensor([4, 6], .float64)), "dim": .int(1), "dtype": .string("float32")])
            try check(op, ["input": .tensor(r.tensor([4, 6])), "dim": .int(2)])  // dim error
            let edges: [Float] = [1e4, -1e4, 0, .nan, -.infinity, 3, 2, 1, -.infinity, -.infinity, 5, .infinity]
            try check(op, ["input": .tensor(Tensor(shape: [3, 4], edges, requiresGrad: true)), "dim": .int(1)])
        }
    }

    @Test func pooling() throws {
        var r = Random(7)
        func input(_ shape: [Int]) -> Tensor { r.tensor(shape) }
        let cases: [(String, [Int], [String: Value])] = [
            ("max_pool2d", [2, 3, 40, 70], ["kernel_size": .int(3), "stride": .int(2), "padding": .int(1)]),
            ("max_pool2d", [3, 37, 41], ["kernel_size": .int(2)]),
            ("max_pool2d", [2, 2, 30, 50], ["kernel_size": .list([.int(3), .int(2)]), "stride": .int(1), "dilation": .int(2), "ceil_mode": .bool(true)]),
            ("max_pool2d", [1, 2, 33, 65], ["kernel_size": .int(3), "stride": .int(3), "padding": .int(1), "return_indices": .bool(true)]),
            ("max_pool2d_with_indices", [1, 1, 9, 40], ["kernel_size": .int(4), "stride": .int(2), "padding": .int(2), "ceil_mode": .bool(true)]),
            ("max_pool1d", [2, 3, 90], ["kernel_size": .int(3), "stride": .int(2), "padding": .int(1)]),
            ("max_pool3d", [1, 2, 5, 8, 40], ["kernel_size": .int(3), "stride": .int(2), "padding": .int(1)]),
            ("avg_pool2d", [2, 3, 40, 70], ["kernel_size": .int(2)]),
            ("avg_pool2d", [2, 3, 21, 69], ["kernel_size": .int(3), "stride": .int(2), "padding": .int(1)]),
            ("avg_pool2d", [2, 3, 21, 69], ["kernel_size": .int(3), "stride": .int(1), "padding": .int(1), "count_include_pad": .bool(false)]),
            ("avg_pool2d", [1, 2, 16, 40], ["kernel_size": .int(2), "stride": .int(2), "ceil_mode": .bool(true), "divisor_override": .int(3)]),
            ("avg_pool2d", [1, 2, 17, 41], ["kernel_size": .int(1), "stride": .int(1)]),
            ("avg_pool1d", [2, 3, 90], ["kernel_size": .int(4), "stride": .int(3), "padding": .int(2)]),
            ("avg_pool3d", [1, 2, 6, 8, 40], ["kernel_size": .int(2)]),
            ("adaptive_avg_pool2d", [2, 3, 40, 37], ["output_size": .list([.int(7), .int(5)])]),
            ("adaptive_avg_pool2d", [2, 3, 40, 37], ["output_size": .int(1)]),
            ("adaptive_avg_pool1d", [2, 3, 50], ["output_size": .int(7)]),
            ("adaptive_avg_pool3d", [1, 2, 5, 9, 13], ["output_size": .list([.int(2), .int(4), .int(3)])]),
            ("adaptive_max_pool2d", [2, 3, 40, 37], ["output_size": .list([.int(6), .int(9)]), "return_indices": .bool(true)]),
            ("adaptive_max_pool1d", [2, 3, 50], ["output_size": .int(8)]),
            ("max_pool2d", [1, 3, 4], ["kernel_size": .int(3), "padding": .int(2)]),  // padding error
        ]
        for (op, shape, extra) in cases {
            var args = extra
            args["input"] = .tensor(input(shape))
            try check(op, args, rtol: 1e-5, atol: 1e-6)
            var double = extra
            double["input"] = .tensor(r.tensor(shape, .float64))
            try check(op, double, rtol: 1e-12, atol: 1e-12)
        }
        // Ties and NaN: the first maximum in scan order, the last NaN.
        var values = [Float](repeating: 1, count: 2 * 40)
        values[5] = .nan; values[7] = .nan; values[50] = 3; values[52] = 3
        for op in ["max_pool2d", "max_pool1d"] {
            let x = Tensor(shape: op == "max_pool2d" ? [1, 2, 40] : [2, 40], values, requiresGrad: true)
            try check(op, ["input": .tensor(x), "kernel_size": .int(3), "stride": .int(1), "padding": .int(1), "return_indices": .bool(true)])
        }
        let wide = Tensor(shape: [1, 1, 3, 80], (0..<240).map { Float($0 % 7 == 3 ? .nan : Float($0 % 5)) }, requiresGrad: true)
        try check("max_pool2d", ["input": .tensor(wide), "kernel_size": .int(3), "stride": .int(2), "padding": .int(1),
                                 "return_indices": .bool(true)])
    }

    @Test func normalization() throws {
        var r = Random(8)
        for training in [true, false] {
            for (shape, affine) in [([4, 3, 10, 37], true), ([5, 4], false), ([2, 3, 40], true), ([3, 2, 1, 1], true)] as [([Int], Bool)] {
                let c = shape[1]
                var args: [String: Value] = ["input": .tensor(r.tensor(shape, offset: 0.5)),
                                             "running_mean": .tensor(r.tensor([c], grad: false)),
                                             "running_var": .tensor(r.tensor([c], scale: 0.1, offset: 1, grad: false)),
                                             "training": .bool(training), "momentum": .double(0.2)]
                if affine {
                    args["weight"] = .tensor(r.tensor([c]))
                    args["bias"] = .tensor(r.tensor([c]))
                }
                try check("batch_norm", args, rtol: 1e-4, atol: 1e-5)
            }
        }
        let x = r.tensor([2, 3, 60])
        try check("instance_norm", ["input": .tensor(x), "running_mean": .tensor(r.tensor([3], grad: false)),
                                    "running_var": .tensor(r.tensor([3], offset: 2, grad: false)),
                                    "weight": .tensor(r.tensor([3])), "bias": .tensor(r.tensor([3]))], rtol: 1e-4, atol: 1e-5)
        try check("group_norm", ["input": .tensor(r.tensor([2, 6, 5, 7])), "num_groups": .int(3),
                                 "weight": .tensor(r.tensor([6])), "bias": .tensor(r.tensor([6]))], rtol: 1e-4, atol: 1e-5)
        try check("group_norm", ["input": .tensor(r.tensor([3, 4, 9])), "num_groups": .int(2)], rtol: 1e-4, atol: 1e-5)
        for (shape, normalized) in [([4, 7, 50], [50]), ([3, 5, 6], [5, 6]), ([10, 300], [300])] {
            try check("layer_norm", ["input": .tensor(r.tensor(shape, scale: 2, offset: 1)), "normalized_shape": .list(normalized.map { .int($0) }),
                                     "weight": .tensor(r.tensor(normalized)), "bias": .tensor(r.tensor(normalized))], rtol: 1e-4, atol: 1e-5)
            try check("layer_norm", ["input": .tensor(r.tensor(shape, .float64)), "normalized_shape": .list(normalized.map { .int($0) })],
                      rtol: 1e-10, atol: 1e-10)
        }
        try check("layer_norm", ["input": .tensor(r.tensor([3, 4])), "normalized_shape": .list([.int(5)])])  // shape error
    }

    @Test func losses() throws {
        var r = Random(9)
        for reduction in ["none", "sum", "mean", "batchmean"] {
            for logTarget in [false, true] {
                let target = logTarget ? r.tensor([6, 70], scale: 0.5, offset: -2) : r.tensor([6, 70], scale: 0.1, offset: 0.2)
                try check("kl_div", ["input": .tensor(r.tensor([6, 70], offset: -3)), "target": .tensor(target),
                                     "reduction": .string(reduction), "log_target": .bool(logTarget)], rtol: 1e-5, atol: 1e-5)
            }
            try check("kl_div", ["input": .tensor(r.tensor([4, 30])), "target": .tensor(r.tensor([30], scale: 0.1, offset: 0.3)),
                                 "reduction": .string(reduction)], rtol: 1e-5, atol: 1e-5)
        }
        let zeros = Tensor(shape: [2, 20], (0..<40).map { $0 % 3 == 0 ? Float(0) : Float($0) / 40 }, requiresGrad: true)
        try check("kl_div", ["input": .tensor(r.tensor([2, 20])), "target": .tensor(zeros), "reduction": .string("sum")])
        for op in ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"] {
            for reduction in ["none", "sum", "mean"] {
                try check(op, ["input": .tensor(r.tensor([5, 41])), "target": .tensor(r.tensor([5, 41])), "reduction": .string(reduction)],
                          rtol: 1e-5, atol: 1e-5)
                try check(op, ["input": .tensor(r.tensor([3, 8], .float64)), "target": .tensor(r.tensor([8], .float64)),
                               "reduction": .string(reduction)], rtol: 1e-10, atol: 1e-10)
            }
        }
        try check("smooth_l1_loss", ["input": .tensor(r.tensor([30])), "target": .tensor(r.tensor([30])), "beta": .double(0.3)])
        try check("huber_loss", ["input": .tensor(r.tensor([30])), "target": .tensor(r.tensor([30])), "delta": .double(0.4)])
        for reduction in ["none", "sum", "mean"] {
            let n = 13, c = 37
            let target = Tensor(shape: [n], int64: (0..<n).map { Int64($0 * 7 % c) })
            try check("cross_entropy", ["input": .tensor(r.tensor([n, c], scale: 3)), "target": .tensor(target),
                                        "reduction": .string(reduction)], rtol: 1e-5, atol: 1e-5)
            try check("cross_entropy", ["input": .tensor(r.tensor([n, c])), "target": .tensor(target), "reduction": .string(reduction),
                                        "weight": .tensor(r.tensor([c], scale: 0.2, offset: 1, grad: false)), "ignore_index": .int(7)],
                      rtol: 1e-5, atol: 1e-5)
            let spatial = Tensor(shape: [2, 3, 4], int64: (0..<24).map { Int64($0 % 5) })
            try check("cross_entropy", ["input": .tensor(r.tensor([2, 5, 3, 4])), "target": .tensor(spatial), "reduction": .string(reduction)],
                      rtol: 1e-5, atol: 1e-5)
            try check("nll_loss", ["input": .tensor(r.tensor([n, c])), "target": .tensor(target), "reduction": .string(reduction)])
            try check("nll_loss", ["input": .tensor(r.tensor([2, 5, 6])), "target": .tensor(Tensor(shape: [2, 6], int64: (0..<12).map { Int64($0 % 5) })),
                                   "reduction": .string(reduction)])
        }
        try check("cross_entropy", ["input": .tensor(r.tensor([4, 5])), "target": .tensor(Tensor(shape: [4], int64: [0, 1, 9, 2]))])
        for reduction in ["none", "sum", "mean"] {
            let target = Tensor(shape: [6], int64: [0, 3, 2, 7, 1, 4])
            try check("cross_entropy", ["input": .tensor(r.tensor([6, 8])), "target": .tensor(target), "reduction": .string(reduction),
                                        "label_smoothing": .double(0.2), "weight": .tensor(r.tensor([8], offset: 1, grad: false)),
                                        "ignore_index": .int(3)], rtol: 1e-5, atol: 1e-5)
            try check("cross_entropy", ["input": .tensor(r.tensor([3, 5, 4])), "target": .tensor(r.tensor([3, 5, 4], scale: 0.2, offset: 0.3)),
                                        "reduction": .string(reduction), "label_smoothing": .double(0.1)], rtol: 1e-5, atol: 1e-5)
            for op in ["mse_loss", "l1_loss", "huber_loss"] {
                try check(op, ["input": .tensor(r.tensor([4, 9])), "target": .tensor(r.tensor([9])),
                               "weight": .tensor(r.tensor([4, 9], offset: 1)), "reduction": .string(reduction)], rtol: 1e-5, atol: 1e-5)
            }
        }
    }

    @Test func reductions() throws {
        var r = Random(11)
        for op in ["sum", "mean"] {
            for (shape, dims) in [([5, 300], [1]), ([5, 300], [0]), ([3, 4, 50], [0, 2]), ([7], []), ([], []), ([2, 0, 3], [1])] as [([Int], [Int])] {
                for keepdim in [false, true] {
                    var args: [String: Value] = ["input": .tensor(r.tensor(shape)), "keepdim": .bool(keepdim)]
                    if !dims.isEmpty { args["dim"] = .list(dims.map { .int($0) }) }
                    try check(op, args, rtol: 1e-5, atol: 1e-5)
                }
            }
            try check(op, ["input": .tensor(r.tensor([4, 6], .float64)), "dim": .int(-1), "dtype": .string("float32")])
            try check(op, ["input": .tensor(Tensor(shape: [2, 3], int64: [1, 2, 3, 4, 5, 6])), "dim": .int(1)])
        }
    }

    @Test func interpolate() throws {
        var r = Random(10)
        let cases: [([Int], [String: Value])] = [
            ([2, 3, 20, 28], ["scale_factor": .double(2), "mode": .string("bilinear"), "align_corners": .bool(false)]),
            ([2, 3, 20, 28], ["size": .list([.int(13), .int(50)]), "mode": .string("bilinear"), "align_corners": .bool(true)]),
            ([1, 2, 9, 70], ["size": .list([.int(30), .int(21)]), "mode": .string("bilinear")]),
            ([2, 3, 20, 28], ["scale_factor": .double(2), "mode": .string("nearest")]),
            ([2, 3, 20, 28], ["scale_factor": .list([.double(1.7), .double(0.6)]), "mode": .string("nearest")]),
            ([1, 2, 5, 7], ["size": .list([.int(9), .int(20)]), "mode": .string("nearest-exact")]),
            ([2, 3, 40], ["scale_factor": .double(2.5), "mode": .string("linear")]),
            ([2, 3, 40], ["size": .int(17), "mode": .string("nearest")]),
            ([1, 2, 4, 5, 6], ["scale_factor": .double(2), "mode": .string("trilinear")]),
            ([1, 2, 4, 5, 6], ["size": .list([.int(3), .int(7), .int(9)]), "mode": .string("nearest")]),
            ([2, 3, 20, 28], ["size": .list([.int(7), .int(9)]), "mode": .string("area")]),
            ([2, 3, 20, 28], ["scale_factor": .double(2), "mode": .string("bicubic")]),
            ([1, 2, 11, 13], ["size": .list([.int(5), .int(30)]), "mode": .string("bicubic"), "align_corners": .bool(true)]),
            ([1, 2, 20, 28], ["size": .list([.int(7), .int(9)]), "mode": .string("bilinear"), "antialias": .bool(true)]),
            ([1, 2, 20, 28], ["size": .list([.int(9), .int(40)]), "mode": .string("bicubic"), "antialias": .bool(true)]),
            ([1, 2, 8, 8], ["size": .list([.int(4), .int(4)]), "mode": .string("lanczos"), "antialias": .bool(true)]),
        ]
        for (shape, extra) in cases {
            var args = extra
            args["input"] = .tensor(r.tensor(shape))
            if case .string("lanczos")? = extra["mode"] {  // unsupported by both backends
                #expect(throws: Unsupported.self) { try optimized.call("interpolate", args) }
                continue
            }
            try check("interpolate", args, rtol: 1e-5, atol: 1e-5)
            var double = extra
            double["input"] = .tensor(r.tensor(shape, .float64))
            try check("interpolate", double, rtol: 1e-12, atol: 1e-12)
        }
    }
}
