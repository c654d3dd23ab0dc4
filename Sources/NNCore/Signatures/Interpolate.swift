/// `torch.nn.functional.interpolate`.
extension Signatures {
    static let interpolate: [OpSignature] = [
        OpSignature("interpolate", ["input", "size", "scale_factor", "mode", "align_corners",
                                    "recompute_scale_factor", "antialias"]),
    ]
}

/// A validated call of `F.interpolate`, shared by every backend: what the ATen kernel receives.
///
/// An input `[N, C, s_1 ... s_k]` (k = 1, 2, 3 spatial dimensions) becomes `[N, C, o_1 ... o_k]`.
/// Either `size` gives `o` directly, or `scale_factor` gives `o_d = floor(s_d · scale_d)` and the
/// kernel also receives `scale_d`, which it uses (as `1 / scale_d`) instead of `s_d / o_d` to map
/// output to input coordinates. With `recompute_scale_factor=True` (always for `area`) the
/// output size is computed in Python and the scales are dropped, so the kernel uses `s_d / o_d`.
///
/// `init` raises PyTorch's errors in PyTorch's order: `F.interpolate`'s Python checks, the
/// Python binding's TypeErrors, ATen's size checks, and last the dtype error of the CPU kernel
/// PyTorch would pick (whose name depends on that choice, see `usesChannelsLastKernel`).
/// `F.interpolate` raises no warnings in PyTorch 2.15.
public struct InterpolateCall {
    public enum Mode: String, Sendable {
        case nearest, nearestExact = "nearest-exact", linear, bilinear, bicubic, trilinear, area, lanczos
    }

    public let input: Tensor
    public let mode: Mode
    /// The spatial output size `[o_1 ... o_k]`.
    public let outputSize: [Int]
    /// Per spatial dimension, the scale factor the kernel receives (nil: use `s_d / o_d`).
    public let scales: [Double?]
    public let alignCorners: Bool
    public let antialias: Bool

    /// The spatial input size `[s_1 ... s_k]`.
    public var inputSize: [Int] { Array(input.shape.dropFirst(2)) }
    public var outputShape: [Int] { Array(input.shape.prefix(2)) + outputSize }

    /// Whether ATen's CPU dispatch picks its channels-last kernel for this (contiguous) input.
    /// It does for 4-D nearest and bilinear when `o_H + o_W <= 128`, and for 4-D/5-D nearest,
    /// bilinear and trilinear when `C > 3` and the input is also channels-last contiguous (one
    /// spatial element). That kernel indexes and rounds differently from the generic one.
    /// (PyTorch also takes it for bilinear with C = 3 when running on one thread; not modelled.)
    public var usesChannelsLastKernel: Bool {
        let channels = input.shape[1], oneElement = inputSize.allSatisfy { $0 == 1 }
        switch (mode, input.dim) {
        case (.nearest, 4), (.nearestExact, 4), (.bilinear, 4):
            return outputSize[0] + outputSize[1] <= 128 || (channels > 3 && oneElement)
        case (.nearest, 5), (.nearestExact, 5), (.trilinear, 5):
            return channels > 3 && oneElement
        default:
            return false
        }
    }

    /// `area` with an all-ones output size: ATen's adaptive pooling takes `input.mean(spatial)`.
    public var areaTakesMean: Bool { mode == .area && outputSize.allSatisfy { $0 == 1 } }

    /// The `grad_fn` PyTorch records on the output.
    public var gradFnName: String {
        let k = input.dim - 2
        switch mode {
        case .nearest: return "UpsampleNearest\(k)DBackward0"
        case .nearestExact: return "UpsampleNearestExact\(k)DBackward0"
        case .linear: return "UpsampleLinear1DBackward0"
        case .bilinear: return antialias ? "UpsampleBilinear2DAaBackward0" : "UpsampleBilinear2DBackward0"
        case .bicubic: return antialias ? "UpsampleBicubic2DAaBackward0" : "UpsampleBicubic2DBackward0"
        case .trilinear: return "UpsampleTrilinear3DBackward0"
        case .lanczos: return "UpsampleLanczos2DAaBackward0"
        case .area:
            // 1-D: adaptive_avg_pool2d of input.unsqueeze(-2), then squeeze(-2).
            if k == 1 { return "SqueezeBackward1" }
            return areaTakesMean ? "MeanBackward1" : "AdaptiveAvgPool\(k)DBackward0"
        }
    }

    public init(_ args: Arguments) throws {
        let input = try args.tensor("input")
        // `mode=None` is accepted by Python and only fails at the final dispatch.
        let modeName: String
        if case .none? = args["mode"] { modeName = "None" } else { modeName = try args.string("mode", default: "nearest") }
        let rank = input.dim, k = input.dim - 2
        let spatial = Array(input.shape.dropFirst(2))

        let alignArgument = try args.optionalBool("align_corners")
        if ["nearest", "area", "nearest-exact"].contains(modeName) && alignArgument != nil {
            throw TorchError.value("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
        }
        let alignCorners = alignArgument ?? false

        // Exactly one of size and scale_factor, as a list of k entries.
        var sizes: [Value]?
        var scaleFactors: [Double]?
        switch (args.has("size"), args.has("scale_factor")) {
        case (true, true):
            throw TorchError.value("only one of size or scale_factor should be defined")
        case (true, false):
            let size = args["size"]!
            if case .list(let list) = size {
                guard list.count == k else {
                    throw TorchError.value("Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of \(shapeString(spatial)) and output size of \(size.pythonDescription). Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
                }
                if !list.allSatisfy(Self.isPythonInteger) {
                    let types = list.map { "<class '\($0.pythonTypeName)'>" }.joined(separator: ", ")
                    throw TorchError.type("expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], but got size with types [\(types)]")
                }
                sizes = list
            } else {
                sizes = Array(repeating: size, count: max(k, 0))
            }
        case (false, true):
            let factor = args["scale_factor"]!
            let values = try args.doubleList("scale_factor")!
            if case .list = factor {
                guard values.count == k else {
                    throw TorchError.value("Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of \(shapeString(spatial)) and scale_factor of shape \(factor.pythonDescription). Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
                }
                scaleFactors = values
            } else {
                scaleFactors = Array(repeating: values[0], count: max(k, 0))
            }
        case (false, false):
            throw TorchError.value("either size or scale_factor should be defined")
        }

        let recomputeArgument = try args.optionalBool("recompute_scale_factor")
        if recomputeArgument == true && sizes != nil {
            throw TorchError.value("recompute_scale_factor is not meaningful with an explicit size.")
        }
        // Python computes the size int(s_d * scale_d) and drops the scales; `area` always does.
        if let factors = scaleFactors, recomputeArgument == true || modeName == "area" {
            sizes = try zip(spatial, factors).map { .int(try Self.pythonInt(Double($0) * $1)) }
            scaleFactors = nil
        }

        let antialias = try args.bool("antialias", default: false)
        if antialias && !(["bilinear", "bicubic", "lanczos"].contains(modeName) && rank == 4) {
            throw TorchError.value("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input")
        }

        let mode = try Self.dispatch(modeName, rank: rank)
        if mode == .lanczos && alignCorners {
            throw TorchError.value("Lanczos mode does not support align_corners=True")
        }
        if mode == .lanczos && !antialias {
            throw TorchError.value("Lanczos mode requires antialias=True")
        }

        self.input = input
        self.mode = mode
        self.alignCorners = alignCorners
        self.antialias = antialias
        if let sizes {
            outputSize = try sizes.map { try Self.bindingInt($0, mode: mode, rank: rank, antialias: antialias) }
            scales = Array(repeating: nil, count: k)
        } else {
            // ATen's compute_output_size: int64(double(s_d) * scale_d).
            outputSize = try zip(spatial, scaleFactors!).map { try Self.int64(Double($0) * $1) }
            scales = scaleFactors!
        }
        if mode == .area {
            try checkAdaptivePooling()
        } else {
            try checkUpsampling()
        }
        try checkAllocation(outputShape, input.dtype)
    }

    /// `_is_integer`: ints and bools (a Python bool is an int); integer tensors are not modelled.
    private static func isPythonInteger(_ v: Value) -> Bool {
        switch v {
        case .int, .bool: return true
        default: return false
        }
    }

    /// Python's `int(x)` of a float.
    private static func pythonInt(_ x: Double) throws -> Int {
        if x.isNaN { throw TorchError.value("cannot convert float NaN to integer") }
        if x.isInfinite { throw TorchError("OverflowError", "cannot convert float infinity to integer") }
        guard abs(x) < 0x1p63 else {
            throw TorchError.type("argument 'output_size' failed to unpack the object at pos 1 with error \"Overflow when unpacking long long")
        }
        return Int(x.rounded(.towardZero))
    }

    /// C++ `static_cast<int64_t>` through c10's checked conversion.
    private static func int64(_ x: Double) throws -> Int {
        guard x >= -0x1p63 && x < 0x1p63 else {
            throw TorchError.runtime("value cannot be converted to type int64_t without overflow")
        }
        return Int(x.rounded(.towardZero))
    }

    /// The kernel `F.interpolate` calls for `mode` and the input rank, or its NotImplementedError.
    private static func dispatch(_ mode: String, rank: Int) throws -> Mode {
        switch (rank, mode) {
        case (3...5, "nearest"), (3...5, "nearest-exact"), (3...5, "area"),
             (3, "linear"), (4, "bilinear"), (4, "bicubic"), (5, "trilinear"), (4, "lanczos"):
            return Mode(rawValue: mode)!
        case (3, "bilinear"), (5, "bilinear"):
            throw TorchError.notImplemented("Got \(rank)D input, but bilinear mode needs 4D input")
        case (3...4, "trilinear"):
            throw TorchError.notImplemented("Got \(rank)D input, but trilinear mode needs 5D input")
        case (4...5, "linear"):
            throw TorchError.notImplemented("Got \(rank)D input, but linear mode needs 3D input")
        default:
            throw TorchError.notImplemented("Input Error: Only 3D, 4D and 5D input Tensors supported (got \(rank)D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got \(mode))")
        }
    }

    /// One entry of the output size as the ATen binding parses it: a float is a TypeError.
    private static func bindingInt(_ v: Value, mode: Mode, rank: Int, antialias: Bool) throws -> Int {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: break
        }
        let k = rank - 2
        if mode == .area {
            throw TorchError.type("adaptive_avg_pool\(k)d(): argument 'output_size' (position 2) must be tuple of ints, but found element of type \(v.pythonTypeName) at pos 0")
        }
        let name: String
        switch mode {
        case .nearest: name = "upsample_nearest\(k)d"
        case .nearestExact: name = "_upsample_nearest_exact\(k)d"
        case .linear: name = "upsample_linear1d"
        case .trilinear: name = "upsample_trilinear3d"
        case .bilinear, .bicubic, .lanczos: name = antialias ? "_upsample_\(mode.rawValue)2d_aa" : "upsample_\(mode.rawValue)2d"
        case .area: preconditionFailure("handled above")
        }
        let alignType = [.nearest, .nearestExact].contains(mode) ? "" : ", bool"
        throw TorchError.type("\(name)() received an invalid combination of arguments - got (Tensor, list\(alignType), NoneType), but expected one of:")
    }

    /// ATen's `upsample_{1,2,3}d_common_check`, the non-empty check and the kernel's dtype dispatch.
    private func checkUpsampling() throws {
        let letters = ["D", "H", "W"].suffix(outputSize.count)
        guard (inputSize + outputSize).allSatisfy({ $0 > 0 }) else {
            let describe = { (s: [Int]) in zip(letters, s).map { "\($0): \($1)" }.joined(separator: ", ") }
            let joiner = outputSize.count == 1 ? " and output" : " output"
            throw TorchError.runtime("Input and output sizes should be greater than 0, but got input (\(describe(inputSize)))\(joiner) (\(describe(outputSize)))")
        }
        if input.numel == 0 && input.shape.dropFirst().contains(0) {
            throw TorchError.runtime("Non-empty \(input.dim)D data tensor expected but got a tensor with sizes \(shapeString(input.shape))")
        }
        guard !input.dtype.isFloatingPoint, mode != .lanczos else { return }
        let kernel: String
        switch mode {
        case _ where antialias: kernel = "compute_index_ranges_weights"
        case .nearest, .nearestExact:
            kernel = usesChannelsLastKernel ? "upsample_nearest\(input.dim - 2)d_channels_last" : "compute_indices_weights_nearest"
        case .bilinear where usesChannelsLastKernel: kernel = "upsample_bilinear2d_channels_last"
        case .trilinear where usesChannelsLastKernel: kernel = "upsample_trilinear3d_channels_last"
        case .bicubic: kernel = "compute_indices_weights_cubic"
        default: kernel = "compute_indices_weights_linear"
        }
        throw TorchError.notImplemented("\"\(kernel)\" not implemented for '\(input.dtype.scalarTypeName)'")
    }

    /// The checks of `adaptive_avg_pool{1,2,3}d` (1-D pools `input.unsqueeze(-2)` to 1×L).
    private func checkAdaptivePooling() throws {
        let pooled = input.dim == 3 ? [1] + outputSize : outputSize
        let poolShape = input.dim == 3 ? Array(input.shape.prefix(2)) + [1] + inputSize : input.shape
        let name = "adaptive_avg_pool\(pooled.count)d"
        if pooled.contains(where: { $0 < 0 }) {
            let list = pooled.count == 2 ? "\(pooled[0]), \(pooled[1])" : "\(pooled[0]), \(pooled[1]),\(pooled[2])"
            throw TorchError.runtime("\(name): elements of output_size must be greater than or equal to 0 but received {\(list)}")
        }
        if pooled.allSatisfy({ $0 == 1 }) {
            guard input.dtype.isFloatingPoint else {
                throw TorchError.notImplemented("mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: \(input.dtype.scalarTypeName)")
            }
            return
        }
        // The 2-D pool checks the spatial dimensions, the 3-D pool every non-batch dimension.
        let checked = pooled.count == 2 ? [2, 3] : Array(1..<5)
        if let empty = checked.first(where: { poolShape[$0] == 0 }) {
            throw TorchError.runtime("\(name)(): Expected input to have non-zero size for non-batch dimensions, but input has sizes \(shapeString(poolShape)) with dimension \(empty) being empty")
        }
        // The 2-D kernel is skipped for an empty output; the 3-D one always dispatches.
        let runsKernel = pooled.count == 3 || pooled.reduce(1, *) * input.shape[0] * input.shape[1] > 0
        if !input.dtype.isFloatingPoint && runsKernel {
            let kernel = pooled.count == 2 ? "adaptive_avg_pool2d" : "adaptive_avg_pool3d_cpu"
            throw TorchError.notImplemented("\"\(kernel)\" not implemented for '\(input.dtype.scalarTypeName)'")
        }
    }
}
