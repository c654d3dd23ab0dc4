import NNCore

/// The `dtype` factory argument (`dtype="float64"`), float32 by default.
func factoryDType(_ args: Arguments) throws -> DType {
    guard let name = try args.optionalString("dtype") else { return .float32 }
    guard let d = DType(rawValue: name.replacingOccurrences(of: "torch.", with: "")), d.isFloatingPoint else {
        throw TorchError.type("nn modules take a floating point dtype, not \(name)")
    }
    return d
}

/// `nn.Conv1d/2d/3d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
/// groups=1, bias=True, padding_mode='zeros')`: weight (out, in/groups, *kernel), bias (out).
/// A `padding_mode` other than zeros pads with `F.pad` first and convolves without padding.
public final class Conv: Module {
    let dims: Int
    let stride: [Int], dilation: [Int], groups: Int
    let padding: Value
    let paddingMode: String
    /// F.pad's argument for a non-zeros `padding_mode`: last dimension first, before and after.
    let padAmounts: [Int]

    init(dims: Int, _ args: Arguments) throws {
        self.dims = dims
        let inC = try args.int("in_channels", default: -1), outC = try args.int("out_channels", default: -1)
        let kernel = try args.ints("kernel_size", count: dims, default: -1)
        guard inC >= 0, outC >= 0, !kernel.contains(-1) else {
            throw TorchError.type("Conv\(dims)d.__init__() missing required argument: in_channels, out_channels and kernel_size")
        }
        stride = try args.ints("stride", count: dims, default: 1)
        dilation = try args.ints("dilation", count: dims, default: 1)
        groups = try args.int("groups", default: 1)
        padding = args["padding"] ?? .int(0)
        paddingMode = try args.string("padding_mode", default: "zeros")
        guard groups > 0 else { throw TorchError.value("groups must be a positive integer") }
        guard inC % groups == 0 else { throw TorchError.value("in_channels must be divisible by groups") }
        guard outC % groups == 0 else { throw TorchError.value("out_channels must be divisible by groups") }
        // `_reversed_padding_repeated_twice`: per dim (before, after), last dim first.
        var pairs: [(Int, Int)]
        if case .string(let s) = padding {
            guard s == "same" || s == "valid" else {
                throw TorchError.value("Invalid padding string '\(s)', should be one of {'valid', 'same'}")
            }
            if s == "same" && stride.contains(where: { $0 != 1 }) {
                throw TorchError.value("padding='same' is not supported for strided convolutions")
            }
            let total = s == "valid" ? Array(repeating: 0, count: dims)
                : try zip(dilation, kernel).map { try sizeProduct($0, $1 - 1, "Conv\(dims)d padding='same'") }
            pairs = total.map { ($0 / 2, $0 - $0 / 2) }
        } else {
            pairs = try args.ints("padding", count: dims, default: 0).map { ($0, $0) }
        }
        guard ["zeros", "reflect", "replicate", "circular"].contains(paddingMode) else {
            throw TorchError.value("padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got padding_mode='\(paddingMode)'")
        }
        padAmounts = pairs.reversed().flatMap { [$0.0, $0.1] }
        let dtype = try factoryDType(args)
        super.init("Conv\(dims)d")
        // `torch.empty` allocates the weight before `reset_parameters` reads its fan-in.
        let weightShape = [outC, inC / groups] + kernel
        try checkAllocation(weightShape, dtype)
        let bound = Init.defaultBound(fanIn: inC / groups * kernel.reduce(1, *))
        try registerParameter("weight", Init.uniform(weightShape, bound: bound, dtype: dtype))
        registerParameter("bias", try args.bool("bias", default: true) ? Init.uniform([outC], bound: bound, dtype: dtype) : nil)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        var x = try singleInput(inputs, of: self)
        var pad = padding
        if paddingMode != "zeros" {
            x = try backend.call("pad", ["input": x, "pad": .list(padAmounts.map(Value.int)), "mode": .string(paddingMode)])
            pad = .int(0)
        }
        return try backend.call("conv\(dims)d", [
            "input": x, "weight": .tensor(parameter("weight")!), "bias": parameter("bias").map(Value.tensor) ?? .none,
            "stride": .list(stride.map(Value.int)), "padding": pad, "dilation": .list(dilation.map(Value.int)), "groups": .int(groups)])
    }
}

/// `nn.Linear(in_features, out_features, bias=True)`: weight (out, in), bias (out).
public final class Linear: Module {
    init(_ args: Arguments) throws {
        let inF = try args.int("in_features", default: 0), outF = try args.int("out_features", default: 0)
        let dtype = try factoryDType(args)
        super.init("Linear")
        let bound = Init.defaultBound(fanIn: inF)
        try registerParameter("weight", Init.uniform([outF, inF], bound: bound, dtype: dtype))
        registerParameter("bias", try args.bool("bias", default: true) ? Init.uniform([outF], bound: bound, dtype: dtype) : nil)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        try backend.call("linear", ["input": try singleInput(inputs, of: self), "weight": .tensor(parameter("weight")!),
                                    "bias": parameter("bias").map(Value.tensor) ?? .none])
    }
}

/// `nn.Bilinear(in1_features, in2_features, out_features, bias=True)`: weight (out, in1, in2).
public final class Bilinear: Module {
    init(_ args: Arguments) throws {
        let in1 = try args.int("in1_features", default: 0), in2 = try args.int("in2_features", default: 0)
        let out = try args.int("out_features", default: 0)
        let dtype = try factoryDType(args)
        super.init("Bilinear")
        let bound = Init.defaultBound(fanIn: in1)
        try registerParameter("weight", Init.uniform([out, in1, in2], bound: bound, dtype: dtype))
        registerParameter("bias", try args.bool("bias", default: true) ? Init.uniform([out], bound: bound, dtype: dtype) : nil)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        try backend.call("bilinear", ["input1": inputs["input1"] ?? .none, "input2": inputs["input2"] ?? .none,
                                      "weight": .tensor(parameter("weight")!), "bias": parameter("bias").map(Value.tensor) ?? .none])
    }
}

/// `nn.PReLU(num_parameters=1, init=0.25)`.
public final class PReLU: Module {
    init(_ args: Arguments) throws {
        let n = try args.int("num_parameters", default: 1)
        let dtype = try factoryDType(args)
        super.init("PReLU")
        try registerParameter("weight", Init.filled([n], try args.double("init", default: 0.25), dtype: dtype))
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        try backend.call("prelu", ["input": try singleInput(inputs, of: self), "weight": .tensor(parameter("weight")!)])
    }
}
