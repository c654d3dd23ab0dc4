/// Normalization, each element as (x − μ)/σ·w + b with σ = √(var + eps):
///   batch_norm      μ, var per channel over the batch and spatial dims (or the running ones)
///   instance_norm   μ, var per sample and channel, over the spatial dims
///   group_norm      μ, var per sample and group of channels
///   layer_norm      μ, var per sample over the trailing `normalized_shape` dims
/// and two that rescale by a norm instead:
///   local_response_norm   x_c / (k + α/size · Σ_{c' near c} x_{c'}²)^β
///   normalize             x / max(‖x‖_p, eps) along `dim`

extension Signatures {
    static let normalization: [OpSignature] = [
        OpSignature("batch_norm", ["input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"]),
        OpSignature("instance_norm", ["input", "running_mean", "running_var", "weight", "bias", "use_input_stats", "momentum", "eps"]),
        OpSignature("layer_norm", ["input", "normalized_shape", "weight", "bias", "eps"]),
        OpSignature("group_norm", ["input", "num_groups", "weight", "bias", "eps"]),
        OpSignature("local_response_norm", ["input", "size", "alpha", "beta", "k"]),
        OpSignature("normalize", ["input", "p", "dim", "eps", "out"]),
    ]
}

/// A validated `batch_norm` or `instance_norm` call (PyTorch runs instance norm as a batch norm
/// of the input viewed as one sample of N·C channels, so both share their checks).
public struct BatchNormCall {
    public enum Kind: Sendable { case batch, instance }

    public let kind: Kind
    public let input: Tensor
    public let runningMean: Tensor?
    public let runningVar: Tensor?
    public let weight: Tensor?
    public let bias: Tensor?
    /// `training` (batch_norm) or `use_input_stats` (instance_norm): normalize with the input's
    /// own statistics, and update the running ones when given.
    public let useInputStats: Bool
    public let momentum: Double
    public let eps: Double

    /// Checks in `torch.nn.functional`'s order, then ATen's (`_batch_norm_impl_index`, the
    /// autograd wrapper, the CPU kernel).
    public init(_ kind: Kind, _ args: Arguments) throws {
        self.kind = kind
        input = try args.tensor("input")
        runningMean = try args.optionalTensor("running_mean")
        runningVar = try args.optionalTensor("running_var")
        weight = try args.optionalTensor("weight")
        bias = try args.optionalTensor("bias")
        let flag = kind == .batch ? "training" : "use_input_stats"
        useInputStats = try args.positionalBool(flag, position: 6, default: kind == .instance)
        eps = try args.positionalDouble("eps", position: 8, default: 1e-5)
        let shape = "torch.Size(\(shapeString(input.shape)))"
        switch kind {
        case .batch:
            let perChannel = input.shape.enumerated().reduce(1) { $0 * ($1.offset == 1 ? 1 : $1.element) }
            if useInputStats && perChannel == 1 {
                throw TorchError.value("Expected more than 1 value per channel when training, got input size \(shape)")
            }
            let spelled = args["eps"]?.pythonDescription ?? "1e-05"  // as Python formats the value given
            if useInputStats && eps <= 0 {
                throw TorchError.value("batch_norm eps must be positive during training, but got \(spelled)")
            }
            if eps < 0 { throw TorchError.value("batch_norm eps must be non-negative, but got \(spelled)") }
        case .instance:
            if useInputStats && input.shape.dropFirst(2).reduce(1, *) == 1 {
                throw TorchError.value("Expected more than 1 spatial element when training, got input size \(shape)")
            }
        }
        momentum = try args.positionalDouble("momentum", position: 7, default: 0.1)
        _ = try wrapDim(1, rank: input.dim)  // ATen reads the channel count, `input.size(1)`

        // Instance norm repeats the per-channel tensors once per sample.
        var copies = 1
        if kind == .instance {
            if !useInputStats && (runningMean == nil || runningVar == nil) {
                throw TorchError.runtime("Expected running_mean and running_var to be defined when use_input_stats is false")
            }
            if [weight, bias, runningMean, runningVar].contains(where: { ($0?.dim ?? 1) > 1 }) {
                throw TorchError.runtime("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
            }
            copies = input.shape[0]
        }
        let features = input.shape[1] * copies
        for (name, t) in [("running_mean", runningMean), ("running_var", runningVar)] {
            if let t, t.numel * copies != features {
                throw TorchError.runtime("\(name) should contain \(features) elements not \(t.numel * copies)")
            }
            if t == nil && !useInputStats { throw TorchError.runtime("\(name) must be defined in evaluation mode") }
        }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t, t.numel * copies != features {
                throw TorchError.runtime("\(name) should contain \(features) elements not \(t.numel * copies)")
            }
        }
        if (runningMean == nil) != (runningVar == nil) {
            throw TorchError.value("running_mean and running_var must either both be None or neither be None")
        }
        for (name, t) in [("running_mean", runningMean), ("running_var", runningVar)] where GradMode.isEnabled && t?.requiresGrad == true {
            throw TorchError.runtime("The function 'native_batch_norm' is not differentiable with respect to argument '\(name)'. This input cannot have requires_grad True.")
        }
        try NormalizationChecks.floatingInput(input, kernel: "batch_norm")
        try NormalizationChecks.parameterDTypes(input, [weight, bias, runningMean, runningVar])
    }
}

/// A validated `layer_norm` call: statistics over the trailing `normalizedShape` dims.
public struct LayerNormCall {
    public let input: Tensor
    public let normalizedShape: [Int]
    public let weight: Tensor?
    public let bias: Tensor?
    public let eps: Double

    /// The number of elements each mean and variance is taken over.
    public var normalizedCount: Int { normalizedShape.reduce(1, *) }

    /// Checks in ATen's order (`_check_layer_norm_inputs`, then the kernel's dtypes).
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        normalizedShape = try args.positionalIntList("normalized_shape", position: 2)
        weight = try args.optionalTensor("weight")
        bias = try args.optionalTensor("bias")
        eps = try args.positionalDouble("eps", position: 5, default: 1e-5)
        let spelled = shapeString(normalizedShape)
        guard !normalizedShape.isEmpty else {
            throw TorchError.runtime("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = \(spelled)")
        }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t, t.shape != normalizedShape {
                throw TorchError.runtime("Expected \(name) to be of same shape as normalized_shape, but got \(name) of shape \(shapeString(t.shape)) and normalized_shape = \(spelled)")
            }
        }
        if input.dim < normalizedShape.count || Array(input.shape.suffix(normalizedShape.count)) != normalizedShape {
            throw TorchError.runtime("Given normalized_shape=\(spelled), expected input with shape [*"
                                     + normalizedShape.map { ", \($0)" }.joined() + "], but got input of size\(shapeString(input.shape))")
        }
        try NormalizationChecks.parameterDTypes(input, [weight, bias])
        try NormalizationChecks.floatingInput(input, kernel: "LayerNormKernelImpl")
    }
}

/// A validated `group_norm` call: statistics per sample over each of `numGroups` blocks of
/// consecutive channels.
public struct GroupNormCall {
    public let input: Tensor
    public let numGroups: Int
    public let weight: Tensor?
    public let bias: Tensor?
    public let eps: Double

    /// Checks in `torch.nn.functional`'s order (rank, then `_verify_batch_size` on
    /// `[N·C // G, G, *spatial]`), then ATen's.
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        numGroups = try args.positionalInt("num_groups", position: 2)
        weight = try args.optionalTensor("weight")
        bias = try args.optionalTensor("bias")
        eps = try args.positionalDouble("eps", position: 5, default: 1e-5)
        let s = input.shape, g = numGroups
        guard s.count >= 2 else {
            throw TorchError.runtime("Expected at least 2 dimensions for input tensor but received \(s.count)")
        }
        guard g != 0 else { throw TorchError("ZeroDivisionError", "integer division or modulo by zero") }
        let perGroup = Int((Double(s[0] * s[1]) / Double(g)).rounded(.down))  // Python's floor division
        let verified = [perGroup, g] + s.dropFirst(2)
        if perGroup * s.dropFirst(2).reduce(1, *) == 1 {
            throw TorchError.value("Expected more than 1 value per channel when training, got input size \(shapeString(verified))")
        }
        guard g > 0 else { throw TorchError.runtime("Expected num groups to be greater than 0, got \(g)") }
        guard s[1] % g == 0 else {
            throw TorchError.runtime("Expected number of channels in input to be divisible by num_groups, but got input of shape \(shapeString(s)) and num_groups=\(g)")
        }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t, t.dim != 1 || t.numel != s[1] {
                throw TorchError.runtime("Expected \(name) to be a vector of size equal to the number of channels in input, but got \(name) of shape \(shapeString(t.shape)) and input of shape \(shapeString(s))")
            }
        }
        try NormalizationChecks.parameterDTypes(input, [weight, bias])
        try NormalizationChecks.floatingInput(input, kernel: "GroupNormKernelImpl")
    }
}

/// A validated `local_response_norm` call.
public struct LocalResponseNormCall {
    public let input: Tensor
    public let size: Int
    public let alpha: Double
    public let beta: Double
    public let k: Double

    /// As `torch.nn.functional`: the rank first, then (for a non-empty input) the pooling
    /// window's size, with `avg_pool2d`'s message for 3-d input and `avg_pool3d`'s otherwise.
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        guard let size = try args.optionalInt("size") else {
            throw TorchError.type("local_response_norm() missing required argument 'size'")
        }
        self.size = size
        alpha = try args.double("alpha", default: 1e-4)
        beta = try args.double("beta", default: 0.75)
        k = try args.double("k", default: 1)
        guard input.dim >= 3 else {
            // torch/nn/functional.py's message, with the indentation of its continued line.
            throw TorchError.value("Expected 3D or higher dimensionality                          input (got \(input.dim) dimensions)")
        }
        if input.numel > 0 && size <= 0 {
            let window = input.dim == 3 ? "kH: \(size) kW: 1" : "kT: \(size) kH: 1 kW: 1"
            throw TorchError.runtime("kernel size should be greater than zero, but got \(window)")
        }
        guard input.dtype.isFloatingPoint else { throw Unsupported("local_response_norm of a \(input.dtype) tensor") }
    }
}

/// A validated `normalize` call.
public struct NormalizeCall {
    public let input: Tensor
    public let p: Double
    /// The dims each norm is taken over, wrapped and ascending (all dims for `dim=[]`).
    public let dims: [Int]
    public let eps: Double

    /// Checks in PyTorch's order: the dtype, then each dim. `p` may be spelled `"inf"` or `"-inf"`,
    /// as fixtures spell infinities (JSON has no infinite number).
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        switch args["p"] {
        case .string("inf")?: p = .infinity
        case .string("-inf")?: p = -.infinity
        default: p = try args.double("p", default: 2)
        }
        eps = try args.double("eps", default: 1e-12)
        if args.has("out") { throw Unsupported("normalize(out=...)") }
        guard input.dtype.isFloatingPoint else {
            throw TorchError.notImplemented("linalg.vector_norm: Expected a floating point or complex tensor as input. Got \(input.dtype.scalarTypeName)")
        }
        let requested = try args.intList("dim") ?? [1]
        var seen: [Int] = []
        for d in requested {
            let w = try wrapDim(d, rank: input.dim)
            if seen.contains(w) { throw TorchError.runtime("dim \(w) appears multiple times in the list of dims") }
            seen.append(w)
        }
        let rank = input.dim
        dims = requested.isEmpty ? Array(0..<rank) : seen.sorted().filter { $0 < rank }
    }
}

/// Checks shared by the normalization kernels.
enum NormalizationChecks {
    /// ATen's dtype dispatch: `"batch_norm" not implemented for 'Long'`.
    static func floatingInput(_ input: Tensor, kernel: String) throws {
        guard input.dtype.isFloatingPoint else {
            throw TorchError.notImplemented("\"\(kernel)\" not implemented for '\(input.dtype.scalarTypeName)'")
        }
    }

    /// ATen's `mixed_data_type.h`: the parameters (weight, bias, running statistics) take the
    /// dtype of the first one given. If that differs from the input's, the call is "mixed", which
    /// CPU kernels allow only for float parameters of a reduced-precision input (none here);
    /// otherwise every parameter must have the input's dtype.
    static func parameterDTypes(_ input: Tensor, _ parameters: [Tensor?]) throws {
        let given = parameters.compactMap { $0 }
        guard let first = given.first else { return }
        if first.dtype != input.dtype {
            if given.contains(where: { $0.dtype != .float32 }) {
                throw TorchError.runtime("mixed dtype (CPU): expect parameter to have scalar type of Float")
            }
            throw TorchError.runtime("mixed dtype (CPU): all inputs must share same datatype.")
        }
        if let other = given.first(where: { $0.dtype != input.dtype }) {
            throw TorchError.runtime("expected scalar type \(input.dtype.scalarTypeName) but found \(other.dtype.scalarTypeName)")
        }
    }
}

/// Arguments that `torch.batch_norm`, `torch.layer_norm`, ... parse in C++, which names the
/// argument's position: `batch_norm(): argument 'momentum' (position 7) must be float, not NoneType`.
/// Unlike the lenient accessors, None is a TypeError and Python's own conversions are refused
/// (an int where a bool is due, a bool where an int is due, an int for a list of ints).
extension Arguments {
    private func positionalError(_ name: String, _ position: Int, _ expected: String, _ got: Value) -> TorchError {
        .type("\(op)(): argument '\(name)' (position \(position)) must be \(expected), not \(got.pythonTypeName)")
    }

    func positionalDouble(_ name: String, position: Int, default d: Double) throws -> Double {
        guard let v = values[name] else { return d }
        switch v {
        case .double(let x): return x
        case .int(let i): return Double(i)
        case .bool(let b): return b ? 1 : 0
        default: throw positionalError(name, position, "float", v)
        }
    }

    func positionalBool(_ name: String, position: Int, default d: Bool) throws -> Bool {
        guard let v = values[name] else { return d }
        guard case .bool(let b) = v else { throw positionalError(name, position, "bool", v) }
        return b
    }

    func positionalInt(_ name: String, position: Int) throws -> Int {
        guard let v = values[name] else { throw TorchError.type("\(op)() missing required argument '\(name)'") }
        guard case .int(let i) = v else { throw positionalError(name, position, "int", v) }
        return i
    }

    func positionalIntList(_ name: String, position: Int) throws -> [Int] {
        guard let v = values[name] else { throw TorchError.type("\(op)() missing required argument '\(name)'") }
        guard case .list(let items) = v else { throw positionalError(name, position, "tuple of ints", v) }
        return try items.enumerated().map { index, item in
            guard case .int(let i) = item else {
                throw TorchError.type("\(op)(): argument '\(name)' (position \(position)) must be tuple of ints, but found element of type \(item.pythonTypeName) at pos \(index)")
            }
            return i
        }
    }
}
