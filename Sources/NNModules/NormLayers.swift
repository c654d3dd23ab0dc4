import NNCore

/// `nn.BatchNorm1d/2d/3d(num_features, eps=1e-5, momentum=0.1, affine=True,
/// track_running_stats=True)`, as PyTorch's `_BatchNorm.forward`:
///
/// - training with running stats counts batches in `num_batches_tracked`; `momentum=None`
///   then makes the update a cumulative average (factor 1/num_batches_tracked);
/// - batch statistics are used in training, or in eval when there are no running stats;
/// - the running stats are handed to `F.batch_norm`, which updates them in place.
public final class BatchNorm: Module {
    let dims: Int
    let eps: Double
    let momentum: Double?
    let tracksRunningStats: Bool

    init(dims: Int, _ args: Arguments) throws {
        self.dims = dims
        let n = try args.int("num_features", default: 0)
        eps = try args.double("eps", default: 1e-5)
        momentum = args.has("momentum") ? try args.double("momentum", default: 0.1) : (args["momentum"] == nil ? 0.1 : nil)
        tracksRunningStats = try args.bool("track_running_stats", default: true)
        let dtype = try factoryDType(args)
        super.init("BatchNorm\(dims)d")
        let affine = try args.bool("affine", default: true)
        try registerParameter("weight", affine ? Init.filled([n], 1, dtype: dtype) : nil)
        try registerParameter("bias", affine ? Init.filled([n], 0, dtype: dtype) : nil)
        try registerBuffer("running_mean", tracksRunningStats ? Init.filled([n], 0, dtype: dtype) : nil)
        try registerBuffer("running_var", tracksRunningStats ? Init.filled([n], 1, dtype: dtype) : nil)
        registerBuffer("num_batches_tracked", tracksRunningStats ? Tensor(shape: [], int64: [0]) : nil)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        let x = try singleInput(inputs, of: self)
        if let t = x.tensor {
            let ok = dims == 1 ? (t.dim == 2 || t.dim == 3) : t.dim == dims + 2
            guard ok else {
                throw TorchError.value("expected \(dims == 1 ? "2D or 3D" : "\(dims + 2)D") input (got \(t.dim)D input)")
            }
        }
        var factor = momentum ?? 0
        if training && tracksRunningStats, let count = buffer("num_batches_tracked") {
            count.overwrite(with: .int64([count.int64s[0] + 1]))
            if momentum == nil { factor = 1 / Double(count.int64s[0]) }
        }
        let useBatchStats = training || (buffer("running_mean") == nil && buffer("running_var") == nil)
        let passStats = !training || tracksRunningStats
        func opt(_ t: Tensor?) -> Value { t.map(Value.tensor) ?? .none }
        return try backend.call("batch_norm", [
            "input": x, "running_mean": passStats ? opt(buffer("running_mean")) : .none,
            "running_var": passStats ? opt(buffer("running_var")) : .none,
            "weight": opt(parameter("weight")), "bias": opt(parameter("bias")),
            "training": .bool(useBatchStats), "momentum": .double(factor), "eps": .double(eps)])
    }
}

/// `nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)`.
public final class LayerNorm: Module {
    let shape: [Int]
    let eps: Double

    init(_ args: Arguments) throws {
        shape = try args.intList("normalized_shape") ?? []
        eps = try args.double("eps", default: 1e-5)
        let dtype = try factoryDType(args)
        super.init("LayerNorm")
        let affine = try args.bool("elementwise_affine", default: true)
        try registerParameter("weight", affine ? Init.filled(shape, 1, dtype: dtype) : nil)
        let hasBias = try args.bool("bias", default: true)
        try registerParameter("bias", affine && hasBias ? Init.filled(shape, 0, dtype: dtype) : nil)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        try backend.call("layer_norm", ["input": try singleInput(inputs, of: self), "normalized_shape": .list(shape.map(Value.int)),
                                        "weight": parameter("weight").map(Value.tensor) ?? .none,
                                        "bias": parameter("bias").map(Value.tensor) ?? .none, "eps": .double(eps)])
    }
}

/// `nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True)`.
public final class GroupNorm: Module {
    let groups: Int
    let eps: Double

    init(_ args: Arguments) throws {
        groups = try args.int("num_groups", default: 1)
        let channels = try args.int("num_channels", default: 0)
        eps = try args.double("eps", default: 1e-5)
        guard groups > 0, channels % groups == 0 else { throw TorchError.value("num_channels must be divisible by num_groups") }
        let dtype = try factoryDType(args)
        super.init("GroupNorm")
        let affine = try args.bool("affine", default: true)
        try registerParameter("weight", affine ? Init.filled([channels], 1, dtype: dtype) : nil)
        try registerParameter("bias", affine ? Init.filled([channels], 0, dtype: dtype) : nil)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        try backend.call("group_norm", ["input": try singleInput(inputs, of: self), "num_groups": .int(groups),
                                        "weight": parameter("weight").map(Value.tensor) ?? .none,
                                        "bias": parameter("bias").map(Value.tensor) ?? .none, "eps": .double(eps)])
    }
}

/// `nn.InstanceNorm1d/2d/3d(num_features, eps=1e-5, momentum=0.1, affine=False,
/// track_running_stats=False)`.
public final class InstanceNorm: Module {
    let eps: Double, momentum: Double
    let tracksRunningStats: Bool

    init(dims: Int, _ args: Arguments) throws {
        let n = try args.int("num_features", default: 0)
        eps = try args.double("eps", default: 1e-5)
        momentum = try args.double("momentum", default: 0.1)
        tracksRunningStats = try args.bool("track_running_stats", default: false)
        let dtype = try factoryDType(args)
        super.init("InstanceNorm\(dims)d")
        let affine = try args.bool("affine", default: false)
        try registerParameter("weight", affine ? Init.filled([n], 1, dtype: dtype) : nil)
        try registerParameter("bias", affine ? Init.filled([n], 0, dtype: dtype) : nil)
        try registerBuffer("running_mean", tracksRunningStats ? Init.filled([n], 0, dtype: dtype) : nil)
        try registerBuffer("running_var", tracksRunningStats ? Init.filled([n], 1, dtype: dtype) : nil)
        registerBuffer("num_batches_tracked", tracksRunningStats ? Tensor(shape: [], int64: [0]) : nil)
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        func opt(_ t: Tensor?) -> Value { t.map(Value.tensor) ?? .none }
        return try backend.call("instance_norm", [
            "input": try singleInput(inputs, of: self), "running_mean": opt(buffer("running_mean")),
            "running_var": opt(buffer("running_var")), "weight": opt(parameter("weight")), "bias": opt(parameter("bias")),
            "use_input_stats": .bool(training || !tracksRunningStats), "momentum": .double(momentum), "eps": .double(eps)])
    }
}
