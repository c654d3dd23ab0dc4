/// `torch.nn.functional.conv1d`, `conv2d` and `conv3d`.
extension Signatures {
    static let convolution: [OpSignature] = ["conv1d", "conv2d", "conv3d"].map {
        OpSignature($0, ConvolutionCall.parameters)
    }
}

/// A validated call of `conv1d`, `conv2d` or `conv3d`, shared by every backend.
///
/// With N spatial dimensions, an input `[batch, inChannels, in_1 ... in_N]` (unbatched: without
/// `batch`), a weight `[outChannels, inChannels / groups, k_1 ... k_N]` and an optional bias
/// `[outChannels]` give an output `[batch, outChannels, out_1 ... out_N]` where, per dimension,
///
///     out = floor((in + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1
///
/// An integer `padding` pads both sides equally, `"valid"` is padding 0, and `"same"` (stride 1
/// only) pads `dilation*(k-1)` in total: `total/2` before and the rest after, so that out = in.
///
/// `init` applies PyTorch's defaults and raises PyTorch's errors, in PyTorch's order: first the
/// Python binding's TypeErrors, then `conv{N}d` / `_convolution_mode`, `at::_convolution` and
/// `check_shape_forward`, and last the checks of the CPU kernel PyTorch would pick (so a float32
/// convolution that PyTorch sends to oneDNN reports oneDNN's dtype message).
public struct ConvolutionCall {
    public static let parameters = ["input", "weight", "bias", "stride", "padding", "dilation", "groups"]

    public let input: Tensor
    public let weight: Tensor
    public let bias: Tensor?
    /// False for an unbatched input `[inChannels, in...]`; the output then has no batch dimension.
    public let batched: Bool
    public let batchSize: Int
    public let inChannels: Int
    /// `weight.size(0)`, except 0 when the input has 0 channels (PyTorch's empty-input rule).
    public let outChannels: Int
    public let groups: Int
    public let inputSize: [Int]
    public let kernelSize: [Int]
    public let stride: [Int]
    public let paddingBefore: [Int]
    public let paddingAfter: [Int]
    public let dilation: [Int]
    public let outputSize: [Int]

    public var batchedInputShape: [Int] { [batchSize, inChannels] + inputSize }
    public var batchedOutputShape: [Int] { [batchSize, outChannels] + outputSize }
    /// The shape returned to the caller (without the batch dimension for an unbatched input).
    public var outputShape: [Int] { batched ? batchedOutputShape : Array(batchedOutputShape.dropFirst()) }

    public init(_ args: Arguments, spatialDims n: Int) throws {
        let a = try BoundConvolution(args, spatialDims: n)
        let (input, weight, bias, groups) = (a.input, a.weight, a.bias, a.groups)

        // conv{N}d: only the integer-padding overload compares the bias dtype up front.
        if case .sizes = a.padding, let bias, bias.dtype != input.dtype {
            throw TorchError.runtime("Input type (\(input.dtype.cTypeName)) and bias type (\(bias.dtype.cTypeName)) should be the same")
        }
        guard input.dim == n + 1 || input.dim == n + 2 else {
            throw TorchError.runtime("Expected \(n + 1)D (unbatched) or \(n + 2)D (batched) input to \(args.op), but got input of size: \(shapeString(input.shape))")
        }
        let batched = input.dim == n + 2
        let batchedShape = batched ? input.shape : [1] + input.shape

        // _convolution_mode: the padding string becomes sizes; "same" may pad asymmetrically.
        var before: [Int], after: [Int], outputPadding: [Int]
        switch a.padding {
        case .sizes(let p):
            (before, after, outputPadding) = (p, p, Array(repeating: 0, count: n))
        case .mode("valid"):
            (before, after, outputPadding) = ([0], [0], [0])
        case .mode("same"):
            (before, after) = try Self.samePadding(batchedShape, weight, a.stride, a.dilation, groups)
            outputPadding = Array(repeating: 0, count: before.count)
        case .mode(let s):
            throw TorchError.runtime("Invalid padding string: '\(s)'")
        }

        // at::_convolution: lists expand to the weight's spatial rank.
        let d = weight.dim - 2
        guard d > 0 else { throw TorchError.runtime("weight should have at least three dimensions") }
        guard groups > 0 else { throw TorchError.runtime("non-positive groups is not supported") }
        let stride = try Self.expand(a.stride, "stride", d)
        before = try Self.expand(before, "padding", d)
        after = try Self.expand(after, "padding", d)
        let dilation = try Self.expand(a.dilation, "dilation", d)
        _ = try Self.expand(outputPadding, "output_padding", d)

        // The tensor the kernel sees: asymmetric "same" padding first pads the end by after - before.
        var seen = batchedShape
        if case .mode("same") = a.padding {
            for i in 0..<d { seen[i + 2] += after[i] - before[i] }
        }
        try Self.checkShapeForward(seen, weight, bias, stride, before, dilation, groups)
        try Self.checkKernel(seen, input.dtype, weight, bias, groups, dilation)

        let kernel = Array(weight.shape.dropFirst(2))
        self.input = input
        self.weight = weight
        self.bias = bias
        self.batched = batched
        self.batchSize = batchedShape[0]
        self.inChannels = batchedShape[1]
        self.outChannels = batchedShape[1] == 0 ? 0 : weight.shape[0]
        self.groups = groups
        self.inputSize = Array(batchedShape.dropFirst(2))
        self.kernelSize = kernel
        self.stride = stride
        self.paddingBefore = before
        self.paddingAfter = after
        self.dilation = dilation
        self.outputSize = try (0..<d).map {
            try convolutionOutputSize(input: batchedShape[$0 + 2], kernel: kernel[$0], stride: stride[$0],
                                      padBefore: before[$0], padAfter: after[$0], dilation: dilation[$0], args.op)
        }
        try checkAllocation([batchSize, outChannels] + outputSize, input.dtype)
    }

    /// `_convolution_same`: per dimension `total = dilation*(k-1)`, `total/2` before (C++ division,
    /// toward zero) and `total - total/2` after; stride must be 1.
    private static func samePadding(_ input: [Int], _ weight: Tensor, _ stride: [Int], _ dilation: [Int],
                                    _ groups: Int) throws -> (before: [Int], after: [Int]) {
        let k = weight.dim
        guard k > 2 else { throw TorchError.runtime("weight should have at least three dimensions") }
        guard groups > 0 else { throw TorchError.runtime("non-positive groups is not supported") }
        guard k == input.count else {
            throw TorchError.runtime("Expected \(k)-dimensional input for \(k)-dimensional weight\(shapeString(weight.shape)), but got \(input.count)-dimensional input of size \(shapeString(input)) instead")
        }
        let d = k - 2
        for (name, list) in [("stride", stride), ("dilation", dilation)] where list.count != d && list.count != 1 {
            throw TorchError.runtime("\(name) cannot broadcast to \(d) dimensions")
        }
        guard stride.allSatisfy({ $0 == 1 }) else {
            throw TorchError.runtime("padding='same' is not supported for strided convolutions")
        }
        var before: [Int] = [], after: [Int] = []
        for i in 0..<d {
            let total = try sizeProduct(dilation.count == 1 ? dilation[0] : dilation[i], weight.shape[i + 2] - 1, "padding='same'")
            before.append(total / 2)
            after.append(total - total / 2)
        }
        if before != after {
            Warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy of the input be created")
        }
        return (before, after)
    }

    /// One value stands for every dimension; otherwise there must be one per dimension.
    private static func expand(_ list: [Int], _ name: String, _ d: Int) throws -> [Int] {
        if list.count == 1 { return Array(repeating: list[0], count: d) }
        guard list.count == d else {
            throw TorchError.runtime("expected \(name) to be a single integer value or a list of \(d) values to match the convolution dimensions, but got \(name)=\(shapeString(list))")
        }
        return list
    }

    /// `check_shape_forward`; `padding` is the symmetric padding the kernel applies.
    private static func checkShapeForward(_ input: [Int], _ weight: Tensor, _ bias: Tensor?, _ stride: [Int],
                                          _ padding: [Int], _ dilation: [Int], _ groups: Int) throws {
        let w = weight.shape, ws = shapeString(w)
        if padding.contains(where: { $0 < 0 }) { throw TorchError.runtime("negative padding is not supported") }
        if stride.contains(where: { $0 <= 0 }) { throw TorchError.runtime("non-positive stride is not supported") }
        if dilation.contains(where: { $0 < 0 }) { throw TorchError.runtime("dilation should be greater than zero") }
        // ATen's overflow check: `2 · padding` must fit in an int64.
        if let i = padding.firstIndex(where: { $0 > Int.max / 2 }) {
            throw TorchError.runtime("Given padding=\(padding[i]) at dimension \(i) , expected padding to be at most \(Int.max / 2)")
        }
        guard w.count == input.count else {
            throw TorchError.runtime("Expected \(w.count)-dimensional input for \(w.count)-dimensional weight \(ws), but got \(input.count)-dimensional input of size \(shapeString(input)) instead")
        }
        guard w[0] >= groups else {
            throw TorchError.runtime("Given groups=\(groups), expected weight to be at least \(groups) at dimension 0, but got weight of size \(ws) instead")
        }
        guard w[0] % groups == 0 else {
            throw TorchError.runtime("Given groups=\(groups), expected weight to be divisible by \(groups) at dimension 0, but got weight of size [\(ws)] instead")
        }
        guard input[1] == w[1] * groups else {
            throw TorchError.runtime("Given groups=\(groups), weight of size \(ws), expected input\(shapeString(input)) to have \(w[1] * groups) channels, but got \(input[1]) channels instead")
        }
        if let bias, bias.dim != 1 || bias.shape[0] != w[0] {
            throw TorchError.runtime("Given weight of size \(ws), expected bias to be 1-dimensional with \(w[0]) elements, but got bias of size \(shapeString(bias.shape)) instead")
        }
        let padded = try (2..<input.count).map { try sizeSum(input[$0], 2 * padding[$0 - 2], "convolution") }
        let span = try (2..<w.count).map { try sizeSum(sizeProduct(dilation[$0 - 2], w[$0] - 1, "convolution"), 1, "convolution") }
        if zip(padded, span).contains(where: { $0 < $1 }) {
            let sizes = { (s: [Int]) in s.map(String.init).joined(separator: " x ") }
            throw TorchError.runtime("Calculated padded input size per channel: (\(sizes(padded))). Kernel size: (\(sizes(span))). Kernel size can't be greater than actual input size")
        }
    }

    /// The checks of the CPU backend PyTorch selects, which sees conv1d as conv2d of height 1.
    /// An input with zero batch or zero channels skips the kernel (PyTorch's `Empty` backend).
    /// A float32 input goes to oneDNN when `use_mkldnn` holds (assuming PyTorch runs with more
    /// than one thread); otherwise to the slow (im2col) kernels, dilated or not.
    private static func checkKernel(_ input: [Int], _ dtype: DType, _ weight: Tensor, _ bias: Tensor?,
                                    _ groups: Int, _ dilation: [Int]) throws {
        var shape = input, kernel = Array(weight.shape.dropFirst(2)), dil = dilation
        if kernel.count == 1 {
            shape.insert(1, at: 2)
            kernel.insert(1, at: 0)
            dil.insert(1, at: 0)
        }
        if shape[0] == 0 || shape[1] == 0 {
            // The empty path multiplies the input by `weight.view(-1)[0]`.
            if shape[1] > 0 && weight.numel == 0 {
                throw TorchError.index("select(): index 0 out of range for tensor of size [0] at dimension 0")
            }
            return
        }
        if shape.contains(0) {
            throw TorchError.runtime("Only zero batch or zero channel inputs are supported, but got input shape: \(shapeString(shape))")
        }
        let useMkldnn = dtype == .float32
            && (groups > 1 || (kernel[kernel.count - 1] > 3 && kernel[kernel.count - 2] > 3)
                || shape[0] > 1 || shape[0] * shape[1] * shape[2] * shape[3] > 20480)
        if useMkldnn {
            for (name, t) in [("weight", weight), ("bias", bias)] {
                if let t, t.dtype != .float32 {
                    throw TorchError.runtime("Input type (torch.FloatTensor) and \(name) type (\(t.dtype.legacyTypeName)) should be the same or input should be a MKLDNN tensor and \(name) is a dense tensor")
                }
            }
            if dil.contains(where: { $0 <= 0 }) { throw TorchError.runtime("non-positive dilation is not supported") }
            if kernel.contains(0) {
                throw TorchError.runtime("could not create a primitive descriptor for the convolution forward propagation primitive. Run workload with environment variable ONEDNN_VERBOSE=all to get additional diagnostic information.")
            }
            return
        }
        let dilated = dil.contains { $0 != 1 }
        if kernel.contains(0) {
            let got = dilated ? " \(shapeString(kernel))"
                : kernel.count == 3 ? ": \(kernel.map(String.init).joined(separator: " x ")) (TxHxW)"
                : " kernel_height: \(kernel[0]) kernel_width: \(kernel[1])"
            throw TorchError.runtime("kernel size should be greater than zero, but got\(got)")
        }
        if dilated && dil.contains(where: { $0 <= 0 }) {
            throw TorchError.runtime("dilation should be greater than zero, but got \(shapeString(dil))")
        }
        if dtype == .bool {
            let kernelName = dilated ? "slow_conv_dilated<>" : kernel.count == 3 ? "compute_columns3d" : "slow_conv2d_cpu"
            throw TorchError.notImplemented("\"\(kernelName)\" not implemented for 'Bool'")
        }
        if weight.dtype != dtype {
            throw TorchError.runtime("expected scalar type \(dtype.scalarTypeName) but found \(weight.dtype.scalarTypeName)")
        }
    }
}

/// The arguments as PyTorch's Python binding binds them to one of `conv{N}d`'s two overloads
/// (integer or string `padding`), before any check of their values.
private struct BoundConvolution {
    enum Padding { case sizes([Int]), mode(String) }

    let input: Tensor
    let weight: Tensor
    let bias: Tensor?
    let stride: [Int]
    let padding: Padding
    let dilation: [Int]
    let groups: Int

    /// How the binding reads a `tuple of ints`: an int stands for `n` copies; a list must start with
    /// an int (not a bool), and later elements that are not ints fail when the list is unpacked.
    enum IntList { case ints([Int]), mismatch, badElement(position: Int, type: String) }

    static func intList(_ value: Value?, default d: Int, _ n: Int) -> IntList {
        guard let value else { return .ints(Array(repeating: d, count: n)) }
        switch value {
        case .int(let i): return .ints(Array(repeating: i, count: n))
        case .list(let elements):
            var ints: [Int] = []
            for (k, e) in elements.enumerated() {
                switch e {
                case .int(let i): ints.append(i)
                case .bool(let b) where k > 0: ints.append(b ? 1 : 0)
                default: return k == 0 ? .mismatch : .badElement(position: k + 1, type: e.pythonTypeName)
                }
            }
            return .ints(ints)
        default: return .mismatch
        }
    }

    init(_ args: Arguments, spatialDims n: Int) throws {
        let v = args.values
        var matched = true
        let input = v["input"]?.tensor, weight = v["weight"]?.tensor
        if input == nil || weight == nil { matched = false }
        var bias: Tensor? = nil
        switch v["bias"] {
        case nil, .none?: break
        case .tensor(let t)?: bias = t
        default: matched = false
        }
        var groups = 1
        switch v["groups"] {
        case nil: break
        case .int(let i)?: groups = i
        default: matched = false
        }
        var mode: String? = nil
        if case .string(let s)? = v["padding"] { mode = s }
        let lists = [("stride", Self.intList(v["stride"], default: 1, n)),
                     ("padding", mode == nil ? Self.intList(v["padding"], default: 0, n) : .ints([])),
                     ("dilation", Self.intList(v["dilation"], default: 1, n))]
        for case (_, .mismatch) in lists { matched = false }
        guard matched, let input, let weight else {
            // Python lists the keywords in reverse order of the call; here, of PyTorch's signature.
            let got = ConvolutionCall.parameters.reversed().compactMap { name in
                v[name].map { "\(name)=\($0.pythonTypeName), " }
            }.joined()
            throw TorchError.type("""
                \(args.op)() received an invalid combination of arguments - got (\(got)), but expected one of:
                 * (Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, tuple of ints padding = 0, tuple of ints dilation = 1, int groups = 1)
                 * (Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, str padding = "valid", tuple of ints dilation = 1, int groups = 1)

                """)
        }
        // The binding unpacks the lists right to left (GCC's order for the arguments of a call).
        var ints: [[Int]] = []
        for (name, list) in lists.reversed() {
            switch list {
            case .ints(let l): ints.insert(l, at: 0)
            case .badElement(let position, let type):
                throw TorchError.type("\(args.op)(): argument '\(name)' failed to unpack the object at pos \(position) with error \"type must be tuple of ints,but got \(type)\"")
            case .mismatch: preconditionFailure("rejected above")
            }
        }
        (self.input, self.weight, self.bias, self.groups) = (input, weight, bias, groups)
        (stride, padding, dilation) = (ints[0], mode.map { .mode($0) } ?? .sizes(ints[1]), ints[2])
    }
}

extension DType {
    /// The C++ type name PyTorch prints from `dtype().name()`: `float`, `double`, `long int`, `bool`.
    fileprivate var cTypeName: String {
        switch self {
        case .float32: return "float"
        case .float64: return "double"
        case .int64: return "long int"
        case .bool: return "bool"
        }
    }
}
