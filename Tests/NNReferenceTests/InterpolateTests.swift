import Testing
import NNCore
import NNReference

/// `F.interpolate(input, **args)` on the reference backend.
private func interpolate(_ x: Tensor, _ args: [String: Value]) throws -> Tensor {
    var arguments = args
    arguments["input"] = .tensor(x)
    return try Reference.backend.call("interpolate", arguments).tensor!
}

private func doubles(_ shape: [Int], _ values: [Double]) -> Tensor { Tensor(shape: shape, values, requiresGrad: true) }

/// Deterministic values in [-1, 1) for inputs and output gradients.
private func wobble(_ count: Int, seed: Int) -> [Double] {
    (0..<count).map { i -> Double in
        let k: Int = (i * 7919 + seed * 104_729 + 13) % 101
        return Double(k) / 50.5 - 1
    }
}

/// The backward of `Σ r·y` against central differences in Double. Every mode is linear in the
/// input, so the differences are exact up to rounding and any misplaced weight shows.
private func expectGradientMatchesFiniteDifferences(_ shape: [Int], _ args: [String: Value]) throws {
    let x0 = wobble(shape.reduce(1, *), seed: 1)
    let x = Tensor(shape: shape, x0, requiresGrad: true)
    let y = try interpolate(x, args)
    let r = wobble(y.numel, seed: 2)
    try y.backward(gradient: Tensor(shape: y.shape, r))
    let analytic = x.grad!.doubles
    let h = 1e-6
    func loss(_ values: [Double]) throws -> Double {
        zip(try interpolate(Tensor(shape: shape, values), args).doubles, r).reduce(0) { $0 + $1.0 * $1.1 }
    }
    for i in x0.indices {
        var plus = x0, minus = x0
        plus[i] += h
        minus[i] -= h
        let numeric = (try loss(plus) - loss(minus)) / (2 * h)
        #expect(abs(numeric - analytic[i]) < 1e-7, "\(args) at \(i): \(numeric) vs \(analytic[i])")
    }
}

@Suite struct InterpolateTests {
    // MARK: values

    @Test func bilinearTwoByTwoToFourByFour() throws {
        let x = doubles([1, 1, 2, 2], [1, 2, 3, 4])
        // align_corners=False: output o samples input coordinate (o + 0.5)/2 − 0.5, clamped at 0,
        // so row and column coordinates are 0, 0.25, 0.75, 1 (by hand; torch agrees).
        let y = try interpolate(x, ["size": .int(4), "mode": .string("bilinear")])
        #expect(y.shape == [1, 1, 4, 4])
        #expect(y.doubles == [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4])
        // align_corners=True: coordinates o · (2 − 1)/(4 − 1) = 0, 1/3, 2/3, 1; values from torch 2.15.
        let aligned = try interpolate(x, ["size": .int(4), "mode": .string("bilinear"), "align_corners": .bool(true)])
        #expect(aligned.doubles == [1.0, 1.3333333333333335, 1.6666666666666665, 2.0, 1.6666666666666667, 2.0,
                                    2.333333333333333, 2.666666666666667, 2.333333333333333, 2.666666666666667, 3.0,
                                    3.333333333333333, 3.0, 3.3333333333333335, 3.6666666666666665, 4.0])
    }

    @Test func nearestAndNearestExact() throws {
        let x = doubles([1, 1, 3], [10, 20, 30])
        // 3 → 5: nearest takes floor(o · 3/5) = 0 0 1 1 2, nearest-exact floor((o + 0.5) · 3/5) = 0 0 1 2 2.
        #expect(try interpolate(x, ["size": .int(5)]).doubles == [10, 10, 20, 20, 30])
        #expect(try interpolate(x, ["size": .int(5), "mode": .string("nearest-exact")]).doubles == [10, 10, 20, 30, 30])
        #expect(try interpolate(x, ["scale_factor": .double(2)]).doubles == [10, 10, 20, 20, 30, 30])
    }

    @Test func nearestKernelChoiceMatters() throws {
        // 10 → 20 with scale_factor 2.05: the generic kernel takes floor(o / 2.05) (o = 2 → 0), the
        // channels-last kernel PyTorch picks for small 2-D outputs shortcuts o_size = 2s to o / 2.
        let x = (0..<10).map(Double.init)
        let line = try interpolate(doubles([1, 1, 10], x), ["scale_factor": .double(2.05)])
        #expect(Array(line.doubles.prefix(6)) == [0, 0, 0, 1, 1, 2])
        let image = try interpolate(doubles([1, 1, 1, 10], x), ["scale_factor": .list([.double(1), .double(2.05)])])
        #expect(Array(image.doubles.prefix(6)) == [0, 0, 1, 1, 2, 2])
    }

    @Test func linearAndNonIntegerScaleFactors() throws {
        let ramp = doubles([1, 1, 2], [0, 1])
        #expect(try interpolate(ramp, ["size": .int(4), "mode": .string("linear")]).doubles == [0, 0.25, 0.75, 1])
        #expect(try interpolate(ramp, ["size": .int(4), "mode": .string("linear"), "align_corners": .bool(true)]).doubles
                == [0, 0.3333333333333333, 0.6666666666666666, 1])
        // scale_factor 1.7 on 3 elements gives 5; the kernel maps with 1/1.7, and with
        // recompute_scale_factor=True with 3/5 instead (values from torch 2.15).
        let x = doubles([1, 1, 3], [1, 2, 4])
        let given = try interpolate(x, ["scale_factor": .double(1.7), "mode": .string("linear")])
        #expect(given.doubles == [1.0, 1.3823529411764706, 1.9705882352941178, 3.1176470588235294, 4.0])
        let recomputed = try interpolate(x, ["scale_factor": .double(1.7), "mode": .string("linear"),
                                             "recompute_scale_factor": .bool(true)])
        #expect(recomputed.doubles == [1.0, 1.4, 2.0, 3.1999999999999997, 4.0])
    }

    @Test func bicubic() throws {
        // Keys' kernel (A = −0.75) overshoots below 0 at the left edge; values from torch 2.15.
        let x = doubles([1, 1, 1, 4], [0, 1, 4, 9])
        let y = try interpolate(x, ["size": .list([.int(1), .int(6)]), "mode": .string("bicubic")])
        #expect(y.doubles == [-0.08680555555555536, 0.21875, 1.430555555555559, 3.1527777777777795, 6.78125, 9.43402777777778])
        let aligned = try interpolate(x, ["size": .list([.int(1), .int(6)]), "mode": .string("bicubic"), "align_corners": .bool(true)])
        #expect(aligned.doubles == [0.0, 0.2879999999999996, 1.5039999999999956, 3.015999999999995, 6.263999999999994, 9.0])
    }

    @Test func trilinearAlignedCorners() throws {
        // 2×2×2 → 3×3×3 with aligned corners: x = 4d + 2h + w, so y = 2d' + h' + w'/2 (by hand).
        let y = try interpolate(doubles([1, 1, 2, 2, 2], (0..<8).map(Double.init)),
                                ["size": .int(3), "mode": .string("trilinear"), "align_corners": .bool(true)])
        let expected = (0..<27).map { i -> Double in
            let (d, h, w) = (Double(i / 9), Double(i / 3 % 3), Double(i % 3))
            return 2 * d + h + w / 2
        }
        #expect(y.doubles == expected)
    }

    @Test func areaAveragesAdaptiveWindows() throws {
        // 5 → 3: windows [0, 2), [1, 4), [3, 5).
        let line = try interpolate(doubles([1, 1, 5], [1, 2, 3, 4, 5]), ["size": .int(3), "mode": .string("area")])
        #expect(line.doubles == [1.5, 3, 4.5])
        #expect(line.gradFn?.name == "SqueezeBackward1")
        let image = doubles([1, 1, 4, 4], (1...16).map(Double.init))
        #expect(try interpolate(image, ["size": .int(2), "mode": .string("area")]).doubles == [3.5, 5.5, 11.5, 13.5])
        #expect(try interpolate(image, ["scale_factor": .double(0.5), "mode": .string("area")]).doubles == [3.5, 5.5, 11.5, 13.5])
        let mean = try interpolate(image, ["size": .int(1), "mode": .string("area")])
        #expect(mean.doubles == [8.5])
        #expect(mean.gradFn?.name == "MeanBackward1")
    }

    @Test func antialias() throws {
        // 6 → 3 (scale 2): the triangle widens to support 2; output 0 (centre 1) weighs inputs
        // 0, 1, 2 by f(−0.25), f(0.25), f(0.75) = 0.75, 0.75, 0.25, normalized: (0·3 + 1·3 + 2)/7.
        // Output 1 (centre 3) weighs inputs 1…4 by 1, 3, 3, 1 (/8). By hand; torch agrees.
        let x = doubles([1, 1, 1, 6], (0..<6).map(Double.init))
        let y = try interpolate(x, ["size": .list([.int(1), .int(3)]), "mode": .string("bilinear"), "antialias": .bool(true)])
        #expect(y.doubles == [0.7142857142857142, 2.5, 4.285714285714286])
        #expect(y.gradFn?.name == "UpsampleBilinear2DAaBackward0")
        let cubic = try interpolate(x, ["size": .list([.int(1), .int(3)]), "mode": .string("bicubic"), "antialias": .bool(true)])
        #expect(cubic.doubles == [0.5439330543933054, 2.5, 4.456066945606695])  // torch 2.15
        // PyTorch 2.15 quirk, reproduced: with output width 1 every output row repeats row 0
        // (torch gives [1.714…, 3.285…] for the same column when the width is 2).
        let column = doubles([1, 1, 4, 1], [1, 2, 3, 4])
        let squeezed = try interpolate(column, ["size": .list([.int(2), .int(1)]), "mode": .string("bilinear"), "antialias": .bool(true)])
        #expect(squeezed.doubles == [1.7142857142857142, 1.7142857142857142])
    }

    // MARK: float32 rounding

    @Test func float32LinearMatchesTorchBitForBit() throws {
        // torch 2.15 (x86-64) rounds out[1] = fma(x0, w0, x1·w1); a plain x0·w0 + x1·w1 is 1 ulp off.
        let x = Tensor(shape: [1, 1, 7], [0.1, 0.7, 0.3, 1.9, -0.4, 2.2, 0.5] as [Float])
        let y: [Float] = try interpolate(x, ["size": .int(13), "mode": .string("linear")]).values()
        let torch: [UInt32] = [0x3dcc_cccd, 0x3e91_b91d, 0x3f1b_91ba, 0x3f0b_d0bd, 0x3ea9_5a94, 0x3f84_ec50, 0x3ff3_332e,
                               0x3f29_5a90, 0xbe4c_cc9a, 0x3f99_99a3, 0x3ff8_1f81, 0x3f82_f42c, 0x3f00_0000]
        #expect(y.map(\.bitPattern) == torch)
    }

    @Test func float32BilinearMatchesTorchBitForBit() throws {
        let x = Tensor(shape: [1, 1, 3, 3], [0.1, 0.7, 0.3, 1.9, -0.4, 2.2, 0.5, 1.3, -1.1] as [Float])
        let y: [Float] = try interpolate(x, ["size": .list([.int(5), .int(7)]), "mode": .string("bilinear")]).values()
        let torch: [UInt32] = [
            0x3dcc_cccd, 0x3e3e_2be3, 0x3ee2_be2c, 0x3f33_3333, 0x3f07_5075, 0x3eb6_db6e, 0x3e99_999a,
            0x3f51_eb86, 0x3f3d_70a5, 0x3f00_0000, 0x3e85_1eb6, 0x3f1a_54d9, 0x3f72_1a58, 0x3f87_ae15,
            0x3ff3_3333, 0x3fc9_2492, 0x3f15_f15e, 0xbecc_cccd, 0x3f36_db70, 0x3fea_0ea3, 0x400c_cccd,
            0x3f87_ae12, 0x3f7f_44c0, 0x3f4e_fe8a, 0x3f1e_b855, 0x3ee5_ab24, 0x3e8d_e59f, 0x3e61_478d,
            0x3f00_0000, 0x3f1d_41d4, 0x3f75_0751, 0x3fa6_6666, 0x3e8a_f8ab, 0xbf41_d420, 0xbf8c_cccd,
        ]
        #expect(y.map(\.bitPattern) == torch)
    }

    // MARK: gradients

    @Test func gradientsMatchFiniteDifferences() throws {
        let cases: [([Int], [String: Value])] = [
            ([1, 2, 3], ["scale_factor": .double(2.5)]),
            ([1, 1, 3, 4], ["size": .list([.int(5), .int(3)])]),
            ([1, 1, 2, 3, 2], ["size": .list([.int(3), .int(2), .int(5)])]),
            ([1, 2, 4], ["size": .int(7), "mode": .string("nearest-exact")]),
            ([1, 1, 3, 4], ["scale_factor": .double(1.7), "mode": .string("nearest-exact")]),
            ([1, 1, 2, 2, 3], ["scale_factor": .double(2), "mode": .string("nearest-exact")]),
            ([2, 1, 4], ["size": .int(7), "mode": .string("linear")]),
            ([1, 2, 5], ["scale_factor": .double(0.6), "mode": .string("linear"), "align_corners": .bool(true)]),
            ([1, 2, 3, 4], ["size": .list([.int(5), .int(3)]), "mode": .string("bilinear")]),
            ([1, 1, 3, 3], ["scale_factor": .double(1.5), "mode": .string("bilinear"), "align_corners": .bool(true)]),
            ([1, 1, 3, 4], ["size": .list([.int(5), .int(7)]), "mode": .string("bicubic")]),
            ([1, 1, 5, 4], ["size": .list([.int(3), .int(2)]), "mode": .string("bicubic"), "align_corners": .bool(true)]),
            ([1, 1, 2, 3], ["size": .list([.int(2), .int(3)]), "mode": .string("bicubic")]),
            ([1, 1, 2, 3, 2], ["size": .list([.int(3), .int(2), .int(4)]), "mode": .string("trilinear")]),
            ([1, 4, 1, 1, 1], ["size": .int(2), "mode": .string("trilinear"), "align_corners": .bool(true)]),
            ([1, 2, 5, 7], ["size": .list([.int(3), .int(4)]), "mode": .string("bilinear"), "antialias": .bool(true)]),
            ([1, 1, 6, 5], ["scale_factor": .double(0.6), "mode": .string("bicubic"), "antialias": .bool(true)]),
            ([1, 1, 3, 4], ["size": .list([.int(5), .int(6)]), "mode": .string("bicubic"), "antialias": .bool(true),
                            "align_corners": .bool(true)]),
            ([1, 2, 7], ["size": .int(3), "mode": .string("area")]),
            ([1, 1, 5, 4], ["size": .list([.int(3), .int(3)]), "mode": .string("area")]),
            ([1, 1, 3, 4, 5], ["size": .list([.int(2), .int(3), .int(2)]), "mode": .string("area")]),
            ([1, 2, 3, 3], ["size": .int(1), "mode": .string("area")]),
        ]
        for (shape, args) in cases {
            try expectGradientMatchesFiniteDifferences(shape, args)
        }
    }

    @Test func gradFnNames() throws {
        let x3 = Tensor(shape: [1, 1, 2], [1, 2] as [Double], requiresGrad: true)
        let x4 = Tensor(shape: [1, 1, 2, 2], [1, 2, 3, 4] as [Double], requiresGrad: true)
        let x5 = Tensor(shape: [1, 1, 1, 2, 2], [1, 2, 3, 4] as [Double], requiresGrad: true)
        let expected: [(Tensor, String, String)] = [
            (x3, "nearest", "UpsampleNearest1DBackward0"), (x4, "nearest", "UpsampleNearest2DBackward0"),
            (x5, "nearest", "UpsampleNearest3DBackward0"), (x3, "nearest-exact", "UpsampleNearestExact1DBackward0"),
            (x4, "nearest-exact", "UpsampleNearestExact2DBackward0"), (x5, "nearest-exact", "UpsampleNearestExact3DBackward0"),
            (x3, "linear", "UpsampleLinear1DBackward0"), (x4, "bilinear", "UpsampleBilinear2DBackward0"),
            (x4, "bicubic", "UpsampleBicubic2DBackward0"), (x5, "trilinear", "UpsampleTrilinear3DBackward0"),
            (x4, "area", "AdaptiveAvgPool2DBackward0"), (x5, "area", "AdaptiveAvgPool3DBackward0"),
        ]
        for (x, mode, name) in expected {
            #expect(try interpolate(x, ["scale_factor": .double(2), "mode": .string(mode)]).gradFn?.name == name)
        }
    }

    @Test func areaSavesItsInput() throws {
        let ones = Tensor(shape: [1, 1, 2, 2], [1, 1, 1, 1] as [Double])
        let x = Tensor(shape: [1, 1, 4, 4], (1...16).map(Double.init), requiresGrad: true)
        let y = try interpolate(x, ["size": .int(2), "mode": .string("area")])
        try y.backward(gradient: ones)
        #expect(x.grad?.doubles == Array(repeating: 0.25, count: 16))
        // Like AdaptiveAvgPool2DBackward0, the node saved its input: no second backward ...
        #expect(throws: TorchError.self) { try y.backward(gradient: ones) }
        // ... and no backward after the input was modified in place.
        let pooled = try interpolate(x, ["size": .int(2), "mode": .string("area")])
        x.markModified()
        do {
            try pooled.backward(gradient: ones)
            Issue.record("expected the inplace-modification error")
        } catch let error as TorchError {
            #expect(error.message.contains("modified by an inplace operation"))
        }
    }

    // MARK: errors

    @Test func argumentErrors() throws {
        let x = Tensor.zeros([1, 2, 4, 4], dtype: .float32)
        func error(_ args: [String: Value], input: Tensor = x) -> TorchError? {
            do {
                _ = try interpolate(input, args)
                return nil
            } catch {
                return error as? TorchError
            }
        }
        #expect(error(["scale_factor": .double(2), "align_corners": .bool(false)])
                == .value("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"))
        #expect(error(["size": .int(3), "scale_factor": .double(2)]) == .value("only one of size or scale_factor should be defined"))
        #expect(error([:]) == .value("either size or scale_factor should be defined"))
        #expect(error(["size": .list([.int(2), .int(3), .int(4)])]) == .value(
            "Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of [4, 4] and output size of [2, 3, 4]. Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."))
        #expect(error(["scale_factor": .list([.double(2)])]) == .value(
            "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of [4, 4] and scale_factor of shape [2.0]. Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."))
        #expect(error(["size": .list([.double(2), .int(3)])]) == .type(
            "expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], but got size with types [<class 'float'>, <class 'int'>]"))
        #expect(error(["size": .int(3), "recompute_scale_factor": .bool(true)])
                == .value("recompute_scale_factor is not meaningful with an explicit size."))
        #expect(error(["scale_factor": .double(2), "antialias": .bool(true)]) == .value(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input"))
        #expect(error(["scale_factor": .double(2), "mode": .string("lanczos")]) == .value("Lanczos mode requires antialias=True"))
        #expect(error(["scale_factor": .double(2), "mode": .string("linear")])
                == .notImplemented("Got 4D input, but linear mode needs 3D input"))
        #expect(error(["scale_factor": .double(2), "mode": .string("bilinear")], input: Tensor.zeros([1, 2, 4], dtype: .float32))
                == .notImplemented("Got 3D input, but bilinear mode needs 4D input"))
        #expect(error(["scale_factor": .double(2), "mode": .string("trilinear")])
                == .notImplemented("Got 4D input, but trilinear mode needs 5D input"))
        #expect(error(["scale_factor": .double(2), "mode": .string("bicubic")], input: Tensor.zeros([1, 2, 4], dtype: .float32))
                == .notImplemented("Input Error: Only 3D, 4D and 5D input Tensors supported (got 3D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got bicubic)"))
        #expect(error(["scale_factor": .double(2), "mode": .string("cubic")])
                == .notImplemented("Input Error: Only 3D, 4D and 5D input Tensors supported (got 4D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got cubic)"))
        #expect(error(["size": .double(2.5), "mode": .string("bilinear")]) == .type(
            "upsample_bilinear2d() received an invalid combination of arguments - got (Tensor, list, bool, NoneType), but expected one of:"))
        #expect(error(["scale_factor": .double(.nan), "recompute_scale_factor": .bool(true)]) == .value("cannot convert float NaN to integer"))
        #expect(error(["scale_factor": .double(.infinity)]) == .runtime("value cannot be converted to type int64_t without overflow"))
    }

    @Test func atenErrors() throws {
        func error(_ shape: [Int], _ args: [String: Value], dtype: DType = .float32) -> TorchError? {
            do {
                _ = try interpolate(Tensor.zeros(shape, dtype: dtype), args)
                return nil
            } catch {
                return error as? TorchError
            }
        }
        #expect(error([1, 2, 4, 4], ["scale_factor": .double(0.1), "mode": .string("bilinear")])
                == .runtime("Input and output sizes should be greater than 0, but got input (H: 4, W: 4) output (H: 0, W: 0)"))
        #expect(error([1, 2, 4], ["size": .int(0)])
                == .runtime("Input and output sizes should be greater than 0, but got input (W: 4) and output (W: 0)"))
        #expect(error([1, 0, 2, 2, 2], ["size": .int(2)])
                == .runtime("Non-empty 5D data tensor expected but got a tensor with sizes [1, 0, 2, 2, 2]"))
        #expect(error([1, 2, 4, 4], ["size": .int(-1), "mode": .string("area")])
                == .runtime("adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {-1, -1}"))
        #expect(error([1, 2, 0, 4], ["size": .int(2), "mode": .string("area")]) == .runtime(
            "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [1, 2, 0, 4] with dimension 2 being empty"))
        // The dtype error names the kernel PyTorch picks: channels-last for small 2-D outputs.
        #expect(error([1, 1, 4, 4], ["size": .int(8)], dtype: .int64)
                == .notImplemented("\"upsample_nearest2d_channels_last\" not implemented for 'Long'"))
        #expect(error([1, 1, 4, 4], ["size": .int(100)], dtype: .int64)
                == .notImplemented("\"compute_indices_weights_nearest\" not implemented for 'Long'"))
        #expect(error([1, 1, 4, 4], ["size": .int(2), "mode": .string("bicubic")], dtype: .bool)
                == .notImplemented("\"compute_indices_weights_cubic\" not implemented for 'Bool'"))
        #expect(error([1, 1, 4, 4], ["size": .int(1), "mode": .string("area")], dtype: .int64) == .notImplemented(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long"))
        // An empty area output runs no 2-D kernel, so an integer input is fine.
        #expect(try interpolate(Tensor.zeros([0, 1, 4, 4], dtype: .int64), ["size": .int(2), "mode": .string("area")]).shape == [0, 1, 2, 2])
    }

    @Test func lanczosIsUnsupported() throws {
        let x = Tensor.zeros([1, 1, 4, 4], dtype: .float32)
        #expect(throws: Unsupported.self) {
            try interpolate(x, ["scale_factor": .double(2), "mode": .string("lanczos"), "antialias": .bool(true)])
        }
    }
}
