import Foundation
import Testing
import NNCore
import NNReference

private func call(_ op: String, _ args: [String: Value]) throws -> Tensor { try RefCheck.call(op, args) }
private func f64(_ v: [Double], _ shape: [Int]) -> Tensor { Tensor(shape: shape, v) }
private func f32(_ v: [Float], _ shape: [Int]) -> Tensor { Tensor(shape: shape, v) }
/// Deterministic, unevenly spread values for gradient checks.
private func ramp(_ shape: [Int], scale: Double = 0.37) -> Tensor {
    let values = (0..<shape.reduce(1, *)).map { (k: Int) -> Double in
        let step = Double((k * 7) % 11), wobble = Double(k % 3)
        return step * scale - 1.6 + wobble * 0.05
    }
    return f64(values, shape)
}
private func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

@Suite struct NormalizationTests {
    // MARK: values by hand

    @Test func batchNormTrainingValuesAndRunningStats() throws {
        // Channel 0 holds 1, 3 (μ 2, biased var 1, unbiased 2); channel 1 holds 2, 6 (μ 4, var 4, unbiased 8).
        let x = f64([1, 2, 3, 6], [2, 2])
        let mean = f64([0, 0], [2]), variance = f64([1, 1], [2])
        let y = try call("batch_norm", ["input": .tensor(x), "running_mean": .tensor(mean), "running_var": .tensor(variance),
                                        "training": .bool(true)])
        let one: Double = 1 / (1 + 1e-5).squareRoot(), two: Double = 2 / (4 + 1e-5).squareRoot()
        #expect(close(y.doubles, [-one, -two, one, two]))
        // running ← 0.9·running + 0.1·batch, with the unbiased variance; written without a version bump.
        #expect(close(mean.doubles, [0.2, 0.4]) && close(variance.doubles, [1.1, 1.7]))
        #expect(mean.version == 0 && variance.version == 0)
        _ = try call("batch_norm", ["input": .tensor(x), "running_mean": .tensor(mean), "running_var": .tensor(variance),
                                    "training": .bool(true), "momentum": .double(1)])
        #expect(close(mean.doubles, [2, 4]) && close(variance.doubles, [2, 8]))
    }

    @Test func batchNormEvalUsesRunningStats() throws {
        let x = f64([1, 2, 3, 6, 0, -1], [3, 2])
        let w = f64([2, -1], [2]), b = f64([0.5, 0], [2])
        let y = try call("batch_norm", ["input": .tensor(x), "running_mean": .tensor(f64([1, 2], [2])),
                                        "running_var": .tensor(f64([4, 0.25], [2])), "weight": .tensor(w), "bias": .tensor(b),
                                        "eps": .double(0)])
        // (x − μ)/σ·w + b with σ = 2 and 0.5.
        #expect(close(y.doubles, [0.5, 0, 2.5, -8, -0.5, 6]))
    }

    @Test func layerAndGroupNormValues() throws {
        // One row 1…4: μ 2.5, var 1.25.
        let ln = try call("layer_norm", ["input": .tensor(f64([1, 2, 3, 4], [1, 4])), "normalized_shape": .list([.int(4)]),
                                         "eps": .double(0)])
        #expect(close(ln.doubles, [-1.5, -0.5, 0.5, 1.5].map { $0 / 1.25.squareRoot() }))
        // Over two dims, with an elementwise weight and bias.
        let ln2 = try call("layer_norm", ["input": .tensor(f64([0, 2, 0, 2], [1, 2, 2])), "normalized_shape": .list([.int(2), .int(2)]),
                                          "weight": .tensor(f64([1, 2, 3, 4], [2, 2])), "bias": .tensor(f64([0, 0, 1, 1], [2, 2])),
                                          "eps": .double(0)])
        #expect(close(ln2.doubles, [-1, 2, -2, 5]))
        // Groups (1, 3) and (5, 9) of one sample: ±1 and ±2 around their means; weight per channel.
        let gn = try call("group_norm", ["input": .tensor(f64([1, 3, 5, 9], [1, 4, 1])), "num_groups": .int(2),
                                         "weight": .tensor(f64([1, 1, 3, 3], [4])), "eps": .double(0)])
        #expect(close(gn.doubles, [-1, 1, -3, 3]))
        // num_groups = C is instance norm; num_groups = 1 is layer norm over (C, spatial).
        let x = ramp([2, 4, 3])
        let perChannel = try call("group_norm", ["input": .tensor(x), "num_groups": .int(4)])
        #expect(close(perChannel.doubles, try call("instance_norm", ["input": .tensor(x)]).doubles, 1e-12))
        let oneGroup = try call("group_norm", ["input": .tensor(x), "num_groups": .int(1)])
        let layer = try call("layer_norm", ["input": .tensor(x), "normalized_shape": .list([.int(4), .int(3)])])
        #expect(close(oneGroup.doubles, layer.doubles, 1e-12))
    }

    @Test func instanceNormAveragesRunningStatsOverTheBatch() throws {
        // Two samples of one channel: (0, 2) and (4, 8), means 1 and 6, unbiased variances 2 and 8.
        let x = f64([0, 2, 4, 8], [2, 1, 2])
        let mean = f64([0], [1]), variance = f64([1], [1])
        let y = try call("instance_norm", ["input": .tensor(x), "running_mean": .tensor(mean), "running_var": .tensor(variance)])
        let one: Double = 1 / (1 + 1e-5).squareRoot(), two: Double = 2 / (4 + 1e-5).squareRoot()
        #expect(close(y.doubles, [-one, one, -two, two]))
        #expect(close(mean.doubles, [(0.1 + 0.6) / 2]) && close(variance.doubles, [(1.1 + 1.7) / 2]))
        #expect(mean.version == 1 && variance.version == 1)  // copied back with copy_
        _ = try call("instance_norm", ["input": .tensor(x), "running_mean": .tensor(mean), "running_var": .tensor(variance),
                                       "use_input_stats": .bool(false)])
        #expect(close(mean.doubles, [0.35]) && mean.version == 1)  // left alone without the input's statistics
    }

    @Test func localResponseNormValues() throws {
        // size 2: W(c) = [c − 1, c], zero beyond the edge; α = β = k = 1: y = x / (1 + Σx²/2).
        let y = try call("local_response_norm", ["input": .tensor(f64([1, 2, 3], [1, 3, 1])), "size": .int(2),
                                                 "alpha": .double(1), "beta": .double(1), "k": .double(1)])
        #expect(close(y.doubles, [1 / 1.5, 2 / 3.5, 3 / 7.5]))
        // size larger than C covers every channel; β = 0.5 takes a square root.
        let z = try call("local_response_norm", ["input": .tensor(f64([3, 4], [1, 2, 1])), "size": .int(5),
                                                 "alpha": .double(5), "beta": .double(0.5), "k": .double(0)])
        #expect(close(z.doubles, [3 / 5, 4 / 5]))
    }

    @Test func normalizeValues() throws {
        let x = f64([3, -4, 0, 0], [2, 2])
        #expect(close(try call("normalize", ["input": .tensor(x)]).doubles, [0.6, -0.8, 0, 0]))
        #expect(close(try call("normalize", ["input": .tensor(x), "p": .double(1)]).doubles, [3.0 / 7, -4.0 / 7, 0, 0]))
        #expect(close(try call("normalize", ["input": .tensor(x), "p": .string("inf")]).doubles, [0.75, -1, 0, 0]))
        // Column minima of [[3, −4], [1, 2]]: 1 and 2.
        #expect(close(try call("normalize", ["input": .tensor(f64([3, -4, 1, 2], [2, 2])), "p": .string("-inf"), "dim": .int(0)]).doubles, [3, -2, 1, 1]))
        #expect(close(try call("normalize", ["input": .tensor(x), "p": .double(0)]).doubles, [1.5, -2, 0, 0]))
        #expect(close(try call("normalize", ["input": .tensor(x), "eps": .double(10)]).doubles, [0.3, -0.4, 0, 0]))
        #expect(close(try call("normalize", ["input": .tensor(x), "dim": .list([])]).doubles, [0.6, -0.8, 0, 0]))
    }

    @Test func float32StatisticsMatchATenBits() throws {
        // Channel 1 sits near 1e4: ATen sums in double, rounds the mean to float, then sums the
        // float squares in double. torch 2.15's output bits for this input:
        let x = f32([0.1, 0.7, 1e4, 1e4 + 1, 0.3, 0.2, 1e4 + 3, 1e4 - 1, 2.5, -3.25, 1e4 + 2, 1e4 - 0.5], [3, 2, 2])
        let y = try call("batch_norm", ["input": .tensor(x), "running_mean": .none, "running_var": .none, "training": .bool(true)])
        let torchBits: [UInt32] = [0x3ba062f2, 0x3eb6f0da, 0xbf087680, 0x3e360660, 0x3dfa9a98, 0x3d825063,
                                   0x3fccb8e4, 0xbf9f374c, 0x3fb50fb1, 0xbffb3afa, 0x3f6379b0, 0xbf63728c]
        #expect(y.values(Float.self).map(\.bitPattern) == torchBits)
    }

    // MARK: gradients against central differences

    @Test func batchNormGradients() throws {
        let x = ramp([3, 2, 4]), w = f64([0.7, -1.3], [2]), b = f64([0.2, 0.1], [2])
        for training in [true, false] {
            #expect(try RefCheck.gradientError([x, w, b]) { v in
                try call("batch_norm", ["input": .tensor(v[0]), "running_mean": .tensor(f64([0.1, -0.2], [2])),
                                        "running_var": .tensor(f64([0.8, 1.5], [2])), "weight": .tensor(v[1]), "bias": .tensor(v[2]),
                                        "training": .bool(training)])
            } < 1e-7)
        }
        #expect(try RefCheck.gradientError([ramp([5, 3])]) { v in
            try call("batch_norm", ["input": .tensor(v[0]), "running_mean": .none, "running_var": .none, "training": .bool(true)])
        } < 1e-7)
    }

    @Test func instanceLayerGroupNormGradients() throws {
        let x = ramp([2, 4, 3])
        #expect(try RefCheck.gradientError([x, f64([1, 2, -1, 0.5], [4]), f64([0, 1, 0, -1], [4])]) { v in
            try call("instance_norm", ["input": .tensor(v[0]), "weight": .tensor(v[1]), "bias": .tensor(v[2])])
        } < 1e-7)
        #expect(try RefCheck.gradientError([x]) { v in
            try call("instance_norm", ["input": .tensor(v[0]), "running_mean": .tensor(f64([0, 1, 0, -1], [4])),
                                       "running_var": .tensor(f64([1, 2, 3, 4], [4])), "use_input_stats": .bool(false)])
        } < 1e-7)
        let shape = Value.list([.int(4), .int(3)])
        #expect(try RefCheck.gradientError([x, ramp([4, 3], scale: 0.2), ramp([4, 3], scale: 0.1)]) { v in
            try call("layer_norm", ["input": .tensor(v[0]), "normalized_shape": shape, "weight": .tensor(v[1]), "bias": .tensor(v[2])])
        } < 1e-7)
        #expect(try RefCheck.gradientError([x, f64([1, 2, -1, 0.5], [4]), f64([0, 1, 0, -1], [4])]) { v in
            try call("group_norm", ["input": .tensor(v[0]), "num_groups": .int(2), "weight": .tensor(v[1]), "bias": .tensor(v[2])])
        } < 1e-7)
    }

    @Test func rescalingGradients() throws {
        let x = ramp([2, 5, 3])
        for size in [1, 2, 3, 6] {
            #expect(try RefCheck.gradientError([x]) { v in
                try call("local_response_norm", ["input": .tensor(v[0]), "size": .int(size), "alpha": .double(0.7),
                                                  "beta": .double(0.8), "k": .double(1.5)])
            } < 1e-7)
        }
        // p = −∞ divides by the smallest |x| (0.07): gradients near 10², so a looser bound.
        for p in [Value.double(2), .double(1), .double(3), .double(0.5), .double(1.5), .double(0), .string("inf"), .string("-inf")] {
            #expect(try RefCheck.gradientError([x]) { v in
                try call("normalize", ["input": .tensor(v[0]), "p": p, "dim": .list([.int(1), .int(-1)])])
            } < 1e-6, "p = \(p.pythonDescription)")
        }
        // Below eps the denominator is the constant eps.
        #expect(try RefCheck.gradientError([ramp([3, 4], scale: 0.01)]) { v in
            try call("normalize", ["input": .tensor(v[0]), "eps": .double(1)])
        } < 1e-7)
    }

    // MARK: autograd

    @Test func gradFnNamesAndSavedTensors() throws {
        let x = Tensor(shape: [2, 3, 4], ramp([2, 3, 4]).doubles.map(Float.init), requiresGrad: true)
        let names: [(String, [String: Value], String)] = [
            ("batch_norm", ["running_mean": .none, "running_var": .none, "training": .bool(true)], "NativeBatchNormBackward0"),
            ("instance_norm", [:], "ViewBackward0"),
            ("layer_norm", ["normalized_shape": .list([.int(4)])], "NativeLayerNormBackward0"),
            ("group_norm", ["num_groups": .int(3)], "NativeGroupNormBackward0"),
            ("local_response_norm", ["size": .int(2)], "DivBackward0"),
            ("normalize", [:], "DivBackward0"),
        ]
        for (op, args, name) in names {
            #expect(try call(op, args.merging(["input": .tensor(x)]) { a, _ in a }).gradFn?.name == name)
        }
        #expect(try GradMode.noGrad { try call("layer_norm", ["input": .tensor(x), "normalized_shape": .list([.int(4)])]) }.gradFn == nil)

        // Eval-mode batch norm saves the running variance: modifying it breaks the backward.
        let variance = f32([1, 2, 3], [3])
        let y = try call("batch_norm", ["input": .tensor(x), "running_mean": .tensor(f32([0, 0, 0], [3])), "running_var": .tensor(variance)])
        _ = try call("add_", ["input": .tensor(variance), "other": .double(1)])
        #expect(RefCheck.error { try y.backward(gradient: Tensor(shape: [2, 3, 4], [Float](repeating: 1, count: 24))) }
                == RefCheck.versionError("[torch.FloatTensor [3]]", version: 1, expected: 0))
        let z = try call("group_norm", ["input": .tensor(x), "num_groups": .int(1)])
        let g = Tensor(shape: [2, 3, 4], [Float](repeating: 1, count: 24))
        try z.backward(gradient: g)
        #expect(RefCheck.error { try z.backward(gradient: g) }?.message.hasPrefix("Trying to backward through the graph a second time") == true)
    }

    // MARK: errors

    private func error(_ op: String, _ args: [String: Value]) -> TorchError? { RefCheck.error { _ = try call(op, args) } }

    @Test func batchAndInstanceNormErrors() throws {
        let x = ramp([4, 3, 5]), stats = f64([0, 0, 0], [3]), variance = f64([1, 1, 1], [3])
        func bn(_ extra: [String: Value]) -> TorchError? {
            error("batch_norm", ["input": .tensor(x), "running_mean": .tensor(stats), "running_var": .tensor(variance)].merging(extra) { _, b in b })
        }
        #expect(bn(["input": .tensor(ramp([1, 3])), "training": .bool(true)])
                == .value("Expected more than 1 value per channel when training, got input size torch.Size([1, 3])"))
        #expect(bn(["training": .bool(true), "eps": .double(0)]) == .value("batch_norm eps must be positive during training, but got 0.0"))
        #expect(bn(["eps": .double(-1)]) == .value("batch_norm eps must be non-negative, but got -1.0"))
        #expect(bn(["momentum": .none]) == .type("batch_norm(): argument 'momentum' (position 7) must be float, not NoneType"))
        #expect(bn(["training": .int(1)]) == .type("batch_norm(): argument 'training' (position 6) must be bool, not int"))
        #expect(bn(["running_mean": .tensor(f64([0, 0], [2]))]) == .runtime("running_mean should contain 3 elements not 2"))
        #expect(bn(["bias": .tensor(f64([0, 0, 0, 0], [4]))]) == .runtime("bias should contain 3 elements not 4"))
        #expect(bn(["running_var": .none]) == .runtime("running_var must be defined in evaluation mode"))
        #expect(bn(["running_mean": .none, "training": .bool(true)])
                == .value("running_mean and running_var must either both be None or neither be None"))
        #expect(bn(["input": .tensor(Tensor(shape: [2, 3], int64: [1, 2, 3, 4, 5, 6]))]) == .notImplemented("\"batch_norm\" not implemented for 'Long'"))
        #expect(bn(["weight": .tensor(f32([1, 1, 1], [3])), "running_mean": .none, "running_var": .none, "training": .bool(true)])
                == .runtime("mixed dtype (CPU): all inputs must share same datatype."))
        #expect(bn(["input": .tensor(f32([1, 2, 3, 4, 5, 6], [2, 3])), "running_mean": .none, "running_var": .none, "training": .bool(true),
                    "weight": .tensor(stats)]) == .runtime("mixed dtype (CPU): expect parameter to have scalar type of Float"))
        #expect(bn(["bias": .tensor(f32([1, 1, 1], [3])), "weight": .tensor(stats)]) == .runtime("expected scalar type Double but found Float"))
        #expect(bn(["running_mean": .tensor(stats.clone(requiresGrad: true))])
                == .runtime("The function 'native_batch_norm' is not differentiable with respect to argument 'running_mean'. This input cannot have requires_grad True."))
        #expect(bn(["input": .tensor(ramp([5])), "running_mean": .none, "running_var": .none, "training": .bool(true)])
                == .index("Dimension out of range (expected to be in range of [-1, 0], but got 1)"))

        func instance(_ extra: [String: Value]) -> TorchError? { error("instance_norm", ["input": .tensor(x)].merging(extra) { _, b in b }) }
        #expect(instance(["input": .tensor(ramp([2, 3, 1]))])
                == .value("Expected more than 1 spatial element when training, got input size torch.Size([2, 3, 1])"))
        #expect(instance(["use_input_stats": .bool(false)])
                == .runtime("Expected running_mean and running_var to be defined when use_input_stats is false"))
        #expect(instance(["running_mean": .tensor(f64([0, 0, 0, 0], [4])), "running_var": .tensor(f64([1, 1, 1, 1], [4]))])
                == .runtime("running_mean should contain 12 elements not 16"))
        #expect(instance(["weight": .tensor(f64([1, 1, 1], [1, 3]))])
                == .runtime("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"))
    }

    @Test func layerGroupAndRescalingErrors() throws {
        let x = ramp([2, 3, 4])
        func ln(_ shape: Value, _ extra: [String: Value] = [:]) -> TorchError? {
            error("layer_norm", ["input": .tensor(x), "normalized_shape": shape].merging(extra) { _, b in b })
        }
        #expect(ln(.int(4)) == .type("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int"))
        #expect(ln(.list([.double(4)]))
                == .type("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, but found element of type float at pos 0"))
        #expect(ln(.list([])) == .runtime("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = []"))
        #expect(ln(.list([.int(3)])) == .runtime("Given normalized_shape=[3], expected input with shape [*, 3], but got input of size[2, 3, 4]"))
        #expect(ln(.list([.int(4)]), ["weight": .tensor(f64([1, 1], [2]))])
                == .runtime("Expected weight to be of same shape as normalized_shape, but got weight of shape [2] and normalized_shape = [4]"))
        #expect(ln(.list([.int(4)]), ["eps": .none]) == .type("layer_norm(): argument 'eps' (position 5) must be float, not NoneType"))
        #expect(error("layer_norm", ["input": .tensor(Tensor(shape: [2], int64: [1, 2])), "normalized_shape": .list([.int(2)])])
                == .notImplemented("\"LayerNormKernelImpl\" not implemented for 'Long'"))

        func gn(_ groups: Value, _ input: Tensor = ramp([2, 4, 3]), _ extra: [String: Value] = [:]) -> TorchError? {
            error("group_norm", ["input": .tensor(input), "num_groups": groups].merging(extra) { _, b in b })
        }
        #expect(gn(.int(1), ramp([4])) == .runtime("Expected at least 2 dimensions for input tensor but received 1"))
        #expect(gn(.int(0)) == TorchError("ZeroDivisionError", "integer division or modulo by zero"))
        #expect(gn(.int(-2)) == .runtime("Expected num groups to be greater than 0, got -2"))
        #expect(gn(.int(3)) == .runtime("Expected number of channels in input to be divisible by num_groups, but got input of shape [2, 4, 3] and num_groups=3"))
        #expect(gn(.int(4), ramp([1, 4])) == .value("Expected more than 1 value per channel when training, got input size [1, 4]"))
        #expect(gn(.int(2), ramp([2, 4, 3]), ["bias": .tensor(f64([1, 1], [2]))])
                == .runtime("Expected bias to be a vector of size equal to the number of channels in input, but got bias of shape [2] and input of shape [2, 4, 3]"))
        #expect(gn(.double(2)) == .type("group_norm(): argument 'num_groups' (position 2) must be int, not float"))

        #expect(error("local_response_norm", ["input": .tensor(ramp([2, 3])), "size": .int(2)])
                == .value("Expected 3D or higher dimensionality                          input (got 2 dimensions)"))
        #expect(error("local_response_norm", ["input": .tensor(x), "size": .int(0)])
                == .runtime("kernel size should be greater than zero, but got kH: 0 kW: 1"))
        #expect(error("local_response_norm", ["input": .tensor(ramp([2, 3, 2, 2])), "size": .int(0)])
                == .runtime("kernel size should be greater than zero, but got kT: 0 kH: 1 kW: 1"))
        #expect(error("normalize", ["input": .tensor(ramp([3]))]) == .index("Dimension out of range (expected to be in range of [-1, 0], but got 1)"))
        #expect(error("normalize", ["input": .tensor(x), "dim": .list([.int(1), .int(-2)])]) == .runtime("dim 1 appears multiple times in the list of dims"))
        #expect(error("normalize", ["input": .tensor(Tensor(shape: [2], int64: [1, 2])), "dim": .int(5)])
                == .notImplemented("linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"))
    }
}
