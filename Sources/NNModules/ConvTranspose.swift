import NNCore

/// `nn.ConvTranspose1d/2d/3d(in_channels, out_channels, kernel_size, stride=1, padding=0,
/// output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros')`: weight
/// (in, out/groups, *kernel), bias (out). `forward(input, output_size=None)`: a requested
/// output size picks the output padding, as PyTorch's `_ConvTransposeNd._output_padding`.
public final class ConvTranspose: Module {
    let dims: Int
    let stride: [Int], padding: [Int], outputPadding: [Int], dilation: [Int], kernel: [Int]
    let groups: Int

    init(dims: Int, _ args: Arguments) throws {
        self.dims = dims
        let inC = try args.int("in_channels", default: -1), outC = try args.int("out_channels", default: -1)
        kernel = try args.ints("kernel_size", count: dims, default: -1)
        guard inC >= 0, outC >= 0, !kernel.contains(-1) else {
            throw TorchError.type("ConvTranspose\(dims)d.__init__() missing required argument: in_channels, out_channels and kernel_size")
        }
        stride = try args.ints("stride", count: dims, default: 1)
        padding = try args.ints("padding", count: dims, default: 0)
        outputPadding = try args.ints("output_padding", count: dims, default: 0)
        dilation = try args.ints("dilation", count: dims, default: 1)
        groups = try args.int("groups", default: 1)
        guard groups > 0 else { throw TorchError.value("groups must be a positive integer") }
        guard inC % groups == 0 else { throw TorchError.value("in_channels must be divisible by groups") }
        guard outC % groups == 0 else { throw TorchError.value("out_channels must be divisible by groups") }
        guard try args.string("padding_mode", default: "zeros") == "zeros" else {
            throw TorchError.value("Only \"zeros\" padding mode is supported for ConvTranspose\(dims)d")
        }
        let dtype = try factoryDType(args)
        super.init("ConvTranspose\(dims)d")
        // PyTorch's fan-in is computed from weight dim 1: out/groups · kernel volume.
        let bound = Init.defaultBound(fanIn: outC / groups * kernel.reduce(1, *))
        try registerParameter("weight", Init.uniform([inC, outC / groups] + kernel, bound: bound, dtype: dtype))
        registerParameter("bias", try args.bool("bias", default: true) ? Init.uniform([outC], bound: bound, dtype: dtype) : nil)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        let x = try singleInput(inputs.filter { $0.key != "output_size" }, of: self)
        let requested = try Arguments(op: "\(typeName).forward", inputs).intList("output_size")
        let extra = try requested.map { try outputPadding(for: x.tensor, size: $0) } ?? outputPadding
        func ints(_ v: [Int]) -> Value { .list(v.map(Value.int)) }
        return try backend.call("conv_transpose\(dims)d", [
            "input": x, "weight": .tensor(parameter("weight")!), "bias": parameter("bias").map(Value.tensor) ?? .none,
            "stride": ints(stride), "padding": ints(padding), "output_padding": ints(extra),
            "groups": .int(groups), "dilation": ints(dilation)])
    }

    /// The output padding that makes the output `size` (spatial, or with batch and channels).
    private func outputPadding(for input: Tensor?, size requested: [Int]) throws -> [Int] {
        guard let input else { return outputPadding }
        let nonSpatial = input.dim == dims + 2 ? 2 : 1
        let size = requested.count == nonSpatial + dims ? Array(requested.dropFirst(nonSpatial)) : requested
        guard size.count == dims else {
            throw TorchError.value("ConvTranspose\(dims)D: for \(input.dim)D input, output_size must have \(dims) or \(nonSpatial + dims) elements (got \(requested.count))")
        }
        let minimum = (0..<dims).map { d in
            (input.shape[d + nonSpatial] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel[d] - 1) + 1
        }
        let maximum = zip(minimum, stride).map { $0 + $1 - 1 }
        for d in 0..<dims where size[d] < minimum[d] || size[d] > maximum[d] {
            throw TorchError.value("requested an output size of \(shapeString(size)), but valid sizes range from \(shapeString(minimum)) to \(shapeString(maximum)) (for an input of torch.Size(\(shapeString(Array(input.shape.dropFirst(nonSpatial))))))")
        }
        return zip(size, minimum).map { $0 - $1 }
    }
}

/// `nn.Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
/// scale_grad_by_freq=False, sparse=False)`: weight N(0, 1), its `padding_idx` row zero.
public final class Embedding: Module {
    let options: [String: Value]

    init(_ args: Arguments) throws {
        let n = try args.int("num_embeddings", default: 0), dim = try args.int("embedding_dim", default: 0)
        var padding = try args.optionalInt("padding_idx")
        if let p = padding {
            guard p < n && p >= -n else { throw TorchError("AssertionError", "Padding_idx must be within num_embeddings") }
            padding = p < 0 ? p + n : p
        }
        var options: [String: Value] = ["padding_idx": padding.map(Value.int) ?? .none]
        for key in ["max_norm", "norm_type", "scale_grad_by_freq", "sparse"] { options[key] = args[key] }
        self.options = options
        let dtype = try factoryDType(args)
        super.init("Embedding")
        let weight = try args["_weight"]?.tensor ?? Init.normal([n, dim], dtype: dtype)
        if let p = padding, args["_weight"] == nil {
            var w = weight.doubles
            for j in 0..<dim { w[p * dim + j] = 0 }
            weight.overwrite(with: TensorData.float64(w).converted(to: dtype), bumpingVersion: false)
        }
        registerParameter("weight", weight)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        var call = options
        call["input"] = try singleInput(inputs, of: self)
        call["weight"] = .tensor(parameter("weight")!)
        return try backend.call("embedding", call)
    }
}

/// `nn.ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/CircularPad{1,2,3}d(padding[, value])`:
/// `F.pad` with the padding expanded to 2·d entries.
public final class Pad: Module {
    let amounts: [Int]
    let mode: String
    let value: Double?

    init(_ typeName: String, dims: Int, mode: String, _ args: Arguments) throws {
        amounts = try args.intList("padding").map { $0.count == 1 ? Array(repeating: $0[0], count: 2 * dims) : $0 } ?? []
        guard amounts.count == 2 * dims else {
            throw TorchError.type("\(typeName).__init__() padding must be an int or a tuple of \(2 * dims) ints")
        }
        self.mode = mode
        value = typeName.hasPrefix("Zero") ? 0 : try args.optionalDouble("value")
        super.init(typeName)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        var call: [String: Value] = ["input": try singleInput(inputs, of: self), "pad": .list(amounts.map(Value.int)),
                                     "mode": .string(mode)]
        if let value { call["value"] = .double(value) }
        return try backend.call("pad", call)
    }

    static let modes = ["Zero": "constant", "Constant": "constant", "Reflection": "reflect",
                        "Replication": "replicate", "Circular": "circular"]
}
