/// A validated call of `adaptive_avg_pool{1,2,3}d` or `adaptive_max_pool{1,2,3}d` (also
/// `_with_indices`), shared by every backend.
///
/// Along a dimension of input size `in` pooled to `out`, output `o` covers ATen's
///
///     [start, end) = [⌊o·in/out⌋, ⌈(o+1)·in/out⌉)
///
/// so windows differ in length and may overlap when `out` does not divide `in`. Average
/// pooling divides the window's sum by each window extent in turn (`sum / k_H / k_W`); for an
/// all-ones output size ATen takes `input.mean(spatial dims, keepdim=True)` instead, whatever the
/// input's rank. Max pooling picks as `PoolingCall` does. For 2-d and 3-d, a `None`
/// entry of `output_size` keeps that input size (Python's `_list_with_default`). The 1-d ops pool
/// `input.unsqueeze(-2)` to `[1, out]` and `squeeze(-2)` the result.
public struct AdaptivePoolingCall {
    public let kind: PoolingCall.Kind
    public let input: Tensor
    /// The shape the pooling kernel sees: the input, or for the 1-d ops `input.unsqueeze(-2)`.
    public let poolShape: [Int]
    public let unsqueezed: Bool
    /// The spatial output size of the pooling kernel.
    public let outputSize: [Int]
    public let returnIndices: Bool

    public var inputSize: [Int] { Array(poolShape.suffix(outputSize.count)) }
    public var planes: Int { poolShape.dropLast(outputSize.count).reduce(1, *) }
    public var poolOutputShape: [Int] { Array(poolShape.dropLast(outputSize.count)) + outputSize }
    public var outputShape: [Int] {
        var s = poolOutputShape
        if unsqueezed { s.remove(at: s.count - 2) }
        return s
    }

    public init(_ args: Arguments, kind: PoolingCall.Kind, spatialDims n: Int) throws {
        let name = "adaptive_\(kind == .max ? "max" : "avg")_pool\(n)d"
        let withIndices = kind == .max && (args.op.hasSuffix("_with_indices") || pythonTruth(args["return_indices"]))
        // adaptive_avg_pool1d is the binding itself; the others are Python functions.
        let python = kind == .average ? (n == 1 ? nil : name) : withIndices ? "\(name)_with_indices" : "_\(name)"
        let binding = PythonBinding(name, python: python, positions: python == nil ? [] : ["input", "output_size"])
        let input = try binding.tensor(args, "input")
        guard var requested = args["output_size"] else { throw binding.missing("output_size") }
        if n > 1 { requested = try Self.listWithDefault(requested, input.shape) }
        var output = try binding.ints(requested, "output_size", count: n)
        var shape = input.shape
        if n == 1 {
            guard (2...3).contains(shape.count) else {
                throw TorchError.runtime("Expected 2 to 3 dimensions, but got \(shape.count)-dimensional tensor for argument #1 'self' (while checking arguments for \(name))")
            }
            guard output.count == 1 else {
                throw TorchError.runtime("\(name)() argument 'output_size' should contain one int (got \(output.count))")
            }
            if kind == .max { try checkNonEmptyDims(shape, from: 1, "\(name)()", "input") }
            shape.insert(1, at: shape.count - 1)
            output.insert(1, at: 0)
        }
        if kind == .average {
            try Self.checkAverage(max(n, 2), shape, output, input.dtype)
        } else {
            try Self.checkMax(max(n, 2), shape, output, input.dtype)
        }
        try checkAllocation(shape.dropLast(output.count) + output, input.dtype)
        self.kind = kind
        self.input = input
        self.poolShape = shape
        self.unsqueezed = n == 1
        self.outputSize = output
        self.returnIndices = withIndices
    }

    /// Python's `_list_with_default(output_size, input.size())`: `None` entries take the input's sizes.
    private static func listWithDefault(_ v: Value, _ defaults: [Int]) throws -> Value {
        switch v {
        case .list(let sizes):
            guard defaults.count > sizes.count else {
                throw TorchError.value("Input dimension should be at least \(sizes.count + 1)")
            }
            return .list(zip(sizes, defaults.suffix(sizes.count)).map { size, d in
                if case .none = size { return .int(d) }
                return size
            })
        case .double, .none: throw TorchError.type("object of type '\(v.pythonTypeName)' has no len()")
        default: return v
        }
    }

    /// ATen's `adaptive_avg_pool{2,3}d` and, unless it takes the mean, `_adaptive_avg_pool{2,3}d`.
    private static func checkAverage(_ n: Int, _ shape: [Int], _ output: [Int], _ dtype: DType) throws {
        let name = "adaptive_avg_pool\(n)d"
        guard output.count == n else { throw TorchError.runtime("\(name): output_size must be \(n)") }
        if output.contains(where: { $0 < 0 }) {
            let received = n == 2 ? "\(output[0]), \(output[1])" : "\(output[0]), \(output[1]),\(output[2])"
            throw TorchError.runtime("\(name): elements of output_size must be greater than or equal to 0 but received {\(received)}")
        }
        if output.allSatisfy({ $0 == 1 }) {
            _ = try wrapDim(-n, rank: shape.count)
            guard dtype.isFloatingPoint else {
                throw TorchError.notImplemented("mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: \(dtype.scalarTypeName)")
            }
            return
        }
        guard shape.count == n + 1 || shape.count == n + 2 else {
            throw TorchError.runtime("\(name)(): Expected \(n + 1)D or \(n + 2)D tensor, but got \(shapeString(shape))")
        }
        // The 2-D pool checks the spatial dimensions, the 3-D pool every non-batch one.
        try checkNonEmptyDims(shape, from: n == 2 ? shape.count - 2 : 1, "\(name)()", "input")
        let outputCount = try sizeProduct(shape.dropLast(n) + output)
        if !dtype.isFloatingPoint && (n == 3 || outputCount > 0) {
            throw TorchError.notImplemented("\"\(n == 2 ? name : "adaptive_avg_pool3d_cpu")\" not implemented for '\(dtype.scalarTypeName)'")
        }
    }

    /// ATen's `adaptive_max_pool{2,3}d`.
    private static func checkMax(_ n: Int, _ shape: [Int], _ output: [Int], _ dtype: DType) throws {
        let name = "adaptive_max_pool\(n)d"
        guard shape.count == n + 1 || shape.count == n + 2 else {
            throw TorchError.runtime("\(name)(): Expected \(n + 1)D or \(n + 2)D tensor, but got: \(shapeString(shape))")
        }
        try checkNonEmptyDims(shape, from: 1, "\(name)()", "input")
        guard output.count == n else {
            throw TorchError.runtime("\(name)(): internal error: output_size.size() must be \(n)")
        }
        if let negative = output.first(where: { $0 < 0 }) {
            throw TorchError.runtime("Trying to create tensor with negative dimension \(negative): \(shapeString(shape.dropLast(n) + output))")
        }
        if !dtype.isFloatingPoint {
            throw TorchError.notImplemented("\"\(n == 2 ? name : "adaptive_max_pool3d_cpu")\" not implemented for '\(dtype.scalarTypeName)'")
        }
    }
}

/// A validated call of `lp_pool{1,2,3}d`, which PyTorch writes in Python as
///
///     out = avg_pool(x^p, kernel_size, stride, padding=0, ceil_mode)
///     y   = (sign(out) · relu(|out|) · K)^(1/p)        K = the product of the kernel sizes
///
/// (windows whose average is negative give 0), and for `p = ±∞` as `max_pool(|x|)` and
/// `−max_pool(−|x|)`. `pool` is the pooling it runs, with that pooling's errors.
public struct LPPoolCall {
    public let normType: Double
    /// K, the factor `.mul` scales the average by.
    public let kernelVolume: Int
    public let pool: PoolingCall

    public init(_ args: Arguments, spatialDims n: Int) throws {
        let python = PythonBinding("lp_pool\(n)d", python: "lp_pool\(n)d")
        let input = try python.tensor(args, "input")
        guard let normValue = args["norm_type"] else { throw python.missing("norm_type") }
        guard let kernelValue = args["kernel_size"] else { throw python.missing("kernel_size") }
        // lp_pool2d/3d unpack `_pair(kernel_size)` / `_triple(kernel_size)` first.
        var volume = 1, volumeOverflows = false
        if n > 1 {
            switch kernelValue {
            case .list(let l) where l.count < n:
                throw TorchError.value("not enough values to unpack (expected \(n), got \(l.count))")
            case .list(let l) where l.count > n:
                throw TorchError.value("too many values to unpack (expected \(n))")
            default:
                // `kw * kh` is a Python int; `.mul` refuses it once it leaves int64.
                for k in try python.ints(kernelValue, "kernel_size", count: n) {
                    let (v, o) = volume.multipliedReportingOverflow(by: k)
                    (volume, volumeOverflows) = (v, volumeOverflows || o)
                }
            }
        }
        let p = try args.double("norm_type", default: 0)
        if p == 0 { throw TorchError.value("norm_type must be a non-zero value, but got \(normValue.pythonDescription)") }
        let stride: Value? = args.has("stride") ? args["stride"] : nil
        if p.isInfinite {
            let binding = PythonBinding("max_pool\(n)d", positions: ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"])
            pool = try PoolingCall(.max, n, input: input, kernel: binding.ints(kernelValue, "kernel_size", count: n),
                                   stride: stride.map { try binding.ints($0, "stride", count: n) } ?? [],
                                   padding: [0], dilation: [1], ceilMode: binding.bool(args, "ceil_mode", default: false),
                                   countIncludePad: true, divisorOverride: nil, returnIndices: false)
        } else {
            // avg_pool gets `stride` and what follows by position only when `stride` is given.
            let binding = PythonBinding("avg_pool\(n)d", positions: ["input", "kernel_size"]
                                        + (stride == nil ? [] : ["stride", "padding", "ceil_mode"]))
            pool = try PoolingCall(.average, n, input: input, kernel: binding.ints(kernelValue, "kernel_size", count: n),
                                   stride: stride.map { try binding.ints($0, "stride", count: n) } ?? [],
                                   padding: [0], dilation: [1], ceilMode: binding.bool(args, "ceil_mode", default: false),
                                   countIncludePad: true, divisorOverride: nil, returnIndices: false)
            if n == 1 {
                // lp_pool1d multiplies by `kernel_size` itself.
                guard case .int(let k) = kernelValue else {
                    throw TorchError.type("mul(): argument 'other' (position 1) must be Tensor, not \(kernelValue.pythonTypeName)")
                }
                volume = k
            }
        }
        if volumeOverflows { throw TorchError.runtime("value cannot be converted to type int without overflow") }
        normType = p
        kernelVolume = volume
    }
}

/// A validated call of `max_unpool{1,2,3}d`: zeros of the output size, with `input[i]` written
/// to the position `indices[i]` of its plane (for repeated indices, the last write wins).
///
/// Python computes the spatial output size: per dimension `(in − 1)·s − 2p + k` (stride
/// defaults to the kernel size), or `output_size` (the spatial sizes, or the whole shape),
/// which must lie strictly between that default ∓ `s`. The 1-d op unpools
/// `input.unsqueeze(-1)` as 2-d to `[out, 1]` and `squeeze(-1)`s the result.
public struct MaxUnpoolCall {
    public let input: Tensor
    public let indices: Tensor
    /// The shape the unpooling kernel sees: the input, or for 1-d `input.unsqueeze(-1)`.
    public let poolShape: [Int]
    public let unsqueezed: Bool
    /// The spatial output size of the unpooling kernel.
    public let outputSize: [Int]

    public var inputCount: Int { poolShape.suffix(outputSize.count).reduce(1, *) }
    public var planes: Int { poolShape.dropLast(outputSize.count).reduce(1, *) }
    public var poolOutputShape: [Int] { Array(poolShape.dropLast(outputSize.count)) + outputSize }

    public init(_ args: Arguments, spatialDims n: Int) throws {
        let python = PythonBinding("max_unpool\(n)d", python: "max_unpool\(n)d")
        let input = try python.tensor(args, "input"), indices = try python.tensor(args, "indices")
        guard let kernelValue = args["kernel_size"] else { throw python.missing("kernel_size") }
        // `_single` / `_pair` / `_triple`: an int stands for n copies, a list is kept as it is.
        let kernel = try python.ints(kernelValue, "kernel_size", count: n)
        let stride = try python.optionalInts(args, "stride", count: n) ?? kernel
        let padding = try python.ints(args, "padding", count: n, default: 0)
        var output = try Self.outputSize(input.shape, kernel, stride, padding, args["output_size"] ?? .none)
        var (shape, indicesShape) = (input.shape, indices.shape)
        if n == 1 {
            output.append(1)
            shape.append(1)
            indicesShape.append(1)
        }
        let d = max(n, 2)
        guard indices.dtype == .int64 else {
            throw TorchError.runtime("elements in indices should be type int64 but got: \(indices.dtype.scalarTypeName)")
        }
        guard shape.count == d + 1 || shape.count == d + 2 else {
            throw TorchError.runtime("Input to max_unpooling\(d)d should be a \(d + 1)d or \(d + 2)d Tensor, but got a tensor with \(shape.count) dimensions.")
        }
        let elements = d == 2 ? "two elements (height, width)" : "three elements (depth, height, width)"
        guard output.count == d else {
            throw TorchError.runtime("There should be exactly \(elements) in output_size, but got \(output.count) elements.")
        }
        guard shape == indicesShape else {
            throw TorchError.runtime("Expected shape of indices to be same as that of the input tensor (\(shapeString(shape))) but got indices tensor with shape: \(shapeString(indicesShape))")
        }
        try checkNonEmptyDims(shape, from: 1, "max_unpooling\(d)d_forward_out_cpu()", "input")
        if d == 3 {
            for (name, list) in [("stride", stride), ("padding", padding)] where list.count != 3 {
                throw TorchError.runtime("There should be exactly \(elements) in \(name), but got: \(list.count) elements.")
            }
            if stride.contains(where: { $0 <= 0 }) {
                throw TorchError.runtime("strides should be greater than zero, but got stride: \(shapeString(stride))")
            }
        }
        // The kernel reports the last index outside its plane.
        let volume = output.reduce(1, *)
        if let bad = indices.int64s.last(where: { $0 < 0 || $0 >= volume }) {
            throw TorchError.runtime("Found an invalid max index: \(bad) (output volumes are of size \(output.map(String.init).joined(separator: "x")))")
        }
        self.input = input
        self.indices = indices
        self.poolShape = shape
        self.unsqueezed = n == 1
        self.outputSize = output
    }

    /// Python's `_unpool_output_size`.
    private static func outputSize(_ shape: [Int], _ kernel: [Int], _ stride: [Int], _ padding: [Int],
                                   _ requested: Value) throws -> [Int] {
        let k = kernel.count
        let outOfRange = TorchError.index("tuple index out of range")
        guard shape.count >= k, stride.count >= k, padding.count >= k else { throw outOfRange }
        let defaults = (0..<k).map { d in (shape[shape.count - k + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] }
        var sizes = defaults
        switch requested {
        case .none: break
        case .list(var l):
            if l.count == k + 2 { l.removeFirst(2) }
            guard l.count == k else {
                throw TorchError.value("output_size should be a sequence containing \(k) or \(k + 2) elements, but it has a length of '\(l.count)'")
            }
            sizes = try l.map { v in
                guard case .int(let i) = v else { throw TorchError.type("'<' not supported between instances of 'int' and '\(v.pythonTypeName)'") }
                return i
            }
            for d in 0..<k where !(defaults[d] - stride[d] < sizes[d] && sizes[d] < defaults[d] + stride[d]) {
                throw TorchError.value("invalid output_size \"\(Value.list(l).pythonDescription)\" (dim \(d) must be between \(defaults[d] - stride[d]) and \(defaults[d] + stride[d]))")
            }
        default: throw TorchError.type("object of type '\(requested.pythonTypeName)' has no len()")
        }
        if let d = sizes.firstIndex(where: { $0 < 0 }) {
            throw TorchError.value("max_unpooling: output_size must contain non-negative spatial dimensions, but got output_size[\(d)]=\(sizes[d])")
        }
        return sizes
    }
}
