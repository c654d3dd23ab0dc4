import NNCore

/// Builds `torch.nn` modules by class name from keyword arguments, as a fixture's `module`
/// step describes them.
public enum Modules {
    /// Constructor keyword names of the modules with parameters of their own.
    static let constructorParameters: [String: [String]] = {
        let factory = ["device", "dtype"]
        var p: [String: [String]] = [
            "Linear": ["in_features", "out_features", "bias"] + factory,
            "Bilinear": ["in1_features", "in2_features", "out_features", "bias"] + factory,
            "PReLU": ["num_parameters", "init"] + factory,
            "LayerNorm": ["normalized_shape", "eps", "elementwise_affine", "bias"] + factory,
            "GroupNorm": ["num_groups", "num_channels", "eps", "affine"] + factory,
            "ParameterList": ["values"],
            "ParameterDict": ["keys", "values"],
            "Sequential": [], "ModuleList": [], "ModuleDict": [],
        ]
        p["Embedding"] = ["num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq",
                          "sparse", "_weight", "_freeze"] + factory
        for d in 1...3 {
            p["ConvTranspose\(d)d"] = ["in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding",
                                       "groups", "bias", "dilation", "padding_mode"] + factory
            for kind in Pad.modes.keys { p["\(kind)Pad\(d)d"] = kind == "Constant" ? ["padding", "value"] : ["padding"] }
            p["Conv\(d)d"] = ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                              "bias", "padding_mode"] + factory
            p["BatchNorm\(d)d"] = ["num_features", "eps", "momentum", "affine", "track_running_stats"] + factory
            p["InstanceNorm\(d)d"] = p["BatchNorm\(d)d"]
        }
        return p
    }()

    /// Every class `make` knows, sorted.
    public static var classNames: [String] {
        (Array(constructorParameters.keys) + Array(FunctionalModuleSpec.all.keys) + ["Identity"]).sorted()
    }

    /// `nn.<cls>(**args)`, with `children` for containers. Unknown classes are `Unsupported`;
    /// a keyword the class does not take is Python's TypeError.
    public static func make(_ cls: String, _ values: [String: Value], children: [(String, Module)] = []) throws -> Module {
        let args = Arguments(op: "\(cls).__init__", values)
        if cls == "Identity" { return Identity() }
        if let spec = FunctionalModuleSpec.all[cls] {
            try checkKeywords(cls, values, allowed: spec.parameters.map(\.0))
            return try FunctionalModule(cls, spec, args)
        }
        guard let allowed = constructorParameters[cls] else { throw Unsupported("module nn.\(cls) is not implemented") }
        try checkKeywords(cls, values, allowed: allowed)
        if let device = try args.optionalString("device"), device != "cpu" {
            throw Unsupported("device '\(device)'")
        }
        switch cls {
        case "Linear": return try Linear(args)
        case "Bilinear": return try Bilinear(args)
        case "PReLU": return try PReLU(args)
        case "LayerNorm": return try LayerNorm(args)
        case "GroupNorm": return try GroupNorm(args)
        case "Sequential": return Sequential(children)
        case "ModuleList": return ModuleList(children.map(\.1))
        case "ModuleDict": return ModuleDict(children)
        case "Embedding": return try Embedding(args)
        case "ParameterList": return ParameterList(try tensors(args, "values"))
        case "ParameterDict":
            let keys = (try? args.stringList("keys")) ?? []
            return ParameterDict(Array(zip(keys, try tensors(args, "values"))))
        default:
            let d = Int(String(cls.dropLast().last!))!
            if let kind = Pad.modes.keys.first(where: { cls == "\($0)Pad\(d)d" }) {
                return try Pad(cls, dims: d, mode: Pad.modes[kind]!, args)
            }
            if cls.hasPrefix("ConvTranspose") { return try ConvTranspose(dims: d, args) }
            if cls.hasPrefix("Conv") { return try Conv(dims: d, args) }
            if cls.hasPrefix("BatchNorm") { return try BatchNorm(dims: d, args) }
            return try InstanceNorm(dims: d, args)
        }
    }

    private static func checkKeywords(_ cls: String, _ values: [String: Value], allowed: [String]) throws {
        for key in values.keys.sorted() where !allowed.contains(key) {
            throw TorchError.type("\(cls).__init__() got an unexpected keyword argument '\(key)'")
        }
    }

    private static func tensors(_ args: Arguments, _ name: String) throws -> [Tensor] {
        guard case .list(let items)? = args[name] else { return [] }
        return try items.map {
            guard let t = $0.tensor else { throw TorchError.type("\(args.op)(): '\(name)' must be a list of tensors") }
            return t
        }
    }
}

extension Arguments {
    /// A list of strings, e.g. ParameterDict's `keys`.
    func stringList(_ name: String) throws -> [String] {
        guard case .list(let items)? = values[name] else { return [] }
        return try items.map {
            guard case .string(let s) = $0 else { throw TorchError.type("\(op)(): '\(name)' must be a list of strings") }
            return s
        }
    }
}
