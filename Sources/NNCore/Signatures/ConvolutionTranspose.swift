/// `torch.nn.functional.conv_transpose1d`, `conv_transpose2d`, `conv_transpose3d`, and the
/// sliding-block ops `unfold` / `fold` they are built from (`Unfold.swift`).
extension Signatures {
    static let convolutionTranspose: [OpSignature] = (1...3).map {
        OpSignature("conv_transpose\($0)d", ConvolutionTransposeCall.parameters)
    } + unfolding
}

/// A validated call of `conv_transpose1d`, `conv_transpose2d` or `conv_transpose3d`, shared by
/// every backend.
///
/// With N spatial dimensions, an input `[batch, inChannels, in_1 ... in_N]` (unbatched: without
/// `batch`), a weight `[inChannels, outChannels / groups, k_1 ... k_N]` (note: input channels
/// first, the transpose of a convolution's weight) and an optional bias `[outChannels]` give an
/// output `[batch, outChannels, out_1 ... out_N]` where, per dimension,
///
///     out = (in − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1
///
/// This is the size of the input a convolution with the same parameters would map onto `in`
/// positions; `output_padding` (< stride or < dilation) picks one of the `stride` sizes that do.
///
/// `init` raises PyTorch's errors in PyTorch's order: the Python binding's TypeErrors, then
/// `conv_transpose{N}d` (rank), `at::_convolution` and `check_shape_forward`, and last the
/// checks of the CPU kernel PyTorch would pick: oneDNN's deconvolution for most float32 calls,
/// else `slow_conv_transpose2d` / `3d` (conv_transpose1d runs as 2-d with height 1).
public struct ConvolutionTransposeCall {
    public static let parameters = ["input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"]

    public let input: Tensor
    public let weight: Tensor
    public let bias: Tensor?
    /// False for an unbatched input `[inChannels, in...]`; the output then has no batch dimension.
    public let batched: Bool
    public let batchSize: Int
    public let inChannels: Int
    /// `weight.size(1) · groups`.
    public let outChannels: Int
    public let groups: Int
    public let inputSize: [Int]
    public let kernelSize: [Int]
    public let stride: [Int]
    public let padding: [Int]
    public let outputPadding: [Int]
    public let dilation: [Int]
    public let outputSize: [Int]

    public var batchedInputShape: [Int] { [batchSize, inChannels] + inputSize }
    public var batchedOutputShape: [Int] { [batchSize, outChannels] + outputSize }
    /// The shape returned to the caller (without the batch dimension for an unbatched input).
    public var outputShape: [Int] { batched ? batchedOutputShape : Array(batchedOutputShape.dropFirst()) }

    public init(_ args: Arguments, spatialDims n: Int) throws {
        // The Python binding of `conv_transpose{n}d(input, weight, bias=None, stride=1, padding=0,
        // output_padding=0, groups=1, dilation=1)`.
        let binding = PythonBinding(args.op)
        let missing = ["input", "weight"].filter { args[$0] == nil }
        if !missing.isEmpty {
            // The argument parser's wording, "s" and all.
            let names = missing.map { "\"\($0)\"" }.joined(separator: ", ")
            throw TorchError.type("\(args.op)() missing \(missing.count) required positional argument\(missing.count == 1 ? "s" : ""): \(names)")
        }
        let input = try binding.tensor(args, "input"), weight = try binding.tensor(args, "weight")
        var bias: Tensor? = nil
        switch args["bias"] {
        case nil, .none?: break
        case .tensor(let t)?: bias = t
        case let v?: throw binding.typeError("bias", "Tensor", v)
        }
        let strideArg = try binding.ints(args, "stride", count: n, default: 1)
        let paddingArg = try binding.ints(args, "padding", count: n, default: 0)
        let outputPaddingArg = try binding.ints(args, "output_padding", count: n, default: 0)
        var groups = 1
        switch args["groups"] {
        case nil: break
        case .int(let i)?: groups = i
        case let v?: throw binding.typeError("groups", "int", v)
        }
        let dilationArg = try binding.ints(args, "dilation", count: n, default: 1)

        guard input.dim == n + 1 || input.dim == n + 2 else {
            throw TorchError.runtime("Expected \(n + 1)D (unbatched) or \(n + 2)D (batched) input to \(args.op), but got input of size: \(shapeString(input.shape))")
        }
        let batched = input.dim == n + 2
        let shape = batched ? input.shape : [1] + input.shape

        // at::_convolution: lists expand to the weight's spatial rank.
        let d = weight.dim - 2
        guard d > 0 else { throw TorchError.runtime("weight should have at least three dimensions") }
        guard groups > 0 else { throw TorchError.runtime("non-positive groups is not supported") }
        let stride = try Self.expand(strideArg, "stride", d)
        let padding = try Self.expand(paddingArg, "padding", d)
        let dilation = try Self.expand(dilationArg, "dilation", d)
        let outputPadding = try Self.expand(outputPaddingArg, "output_padding", d)
        try Self.checkShapeForward(shape, weight, bias, stride, padding, outputPadding, dilation, groups)

        let w = weight.shape, kernel = Array(w.dropFirst(2))
        let outputSize = try (0..<d).map { i -> Int in
            try transposedConvolutionOutputSize(input: shape[i + 2], kernel: kernel[i], stride: stride[i], padding: padding[i],
                                                dilation: dilation[i], outputPadding: outputPadding[i], args.op)
        }
        try Self.checkKernel(shape, input.dtype, weight, bias, groups, stride, outputPadding, dilation, outputSize)
        try checkAllocation([shape[0], w[1] * groups] + outputSize, input.dtype)

        self.input = input
        self.weight = weight
        self.bias = bias
        self.batched = batched
        self.batchSize = shape[0]
        self.inChannels = shape[1]
        self.outChannels = w[1] * groups
        self.groups = groups
        self.inputSize = Array(shape.dropFirst(2))
        self.kernelSize = kernel
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.outputSize = outputSize
    }

    /// One value stands for every dimension; otherwise there must be one per dimension.
    private static func expand(_ list: [Int], _ name: String, _ d: Int) throws -> [Int] {
        if list.count == 1 { return Array(repeating: list[0], count: d) }
        guard list.count == d else {
            throw TorchError.runtime("expected \(name) to be a single integer value or a list of \(d) values to match the convolution dimensions, but got \(name)=\(shapeString(list))")
        }
        return list
    }

    /// `check_shape_forward` with `transposed=True`.
    private static func checkShapeForward(_ input: [Int], _ weight: Tensor, _ bias: Tensor?, _ stride: [Int], _ padding: [Int],
                                          _ outputPadding: [Int], _ dilation: [Int], _ groups: Int) throws {
        let w = weight.shape, ws = shapeString(w)
        if padding.contains(where: { $0 < 0 }) { throw TorchError.runtime("negative padding is not supported") }
        if outputPadding.contains(where: { $0 < 0 }) { throw TorchError.runtime("negative output_padding is not supported") }
        if stride.contains(where: { $0 <= 0 }) { throw TorchError.runtime("non-positive stride is not supported") }
        if dilation.contains(where: { $0 < 0 }) { throw TorchError.runtime("dilation should be greater than zero") }
        guard w.count == input.count else {
            throw TorchError.runtime("Expected \(w.count)-dimensional input for \(w.count)-dimensional weight \(ws), but got \(input.count)-dimensional input of size \(shapeString(input)) instead")
        }
        guard w[0] >= groups else {
            throw TorchError.runtime("Given groups=\(groups), expected weight to be at least \(groups) at dimension 0, but got weight of size \(ws) instead")
        }
        guard w[0] % groups == 0 else {
            throw TorchError.runtime("Given groups=\(groups), expected weight to be divisible by \(groups) at dimension 0, but got weight of size [\(ws)] instead")
        }
        guard input[1] == w[0] else {
            throw TorchError.runtime("Given transposed=1, weight of size \(ws), expected input\(shapeString(input)) to have \(w[0]) channels, but got \(input[1]) channels instead")
        }
        if let bias, bias.dim != 1 || bias.shape[0] != w[1] * groups {
            throw TorchError.runtime("Given transposed=1, weight of size \(ws), expected bias to be 1-dimensional with \(w[1] * groups) elements, but got bias of size \(shapeString(bias.shape)) instead")
        }
    }

    /// The checks of the CPU backend PyTorch selects, which sees conv_transpose1d as 2-d with
    /// height 1. A zero batch skips the kernel (PyTorch's `Empty` backend). A float32 input goes
    /// to oneDNN when `use_mkldnn` holds (assuming more than one thread) and no output padding
    /// reaches its stride; otherwise each group goes to `slow_conv_transpose2d` / `3d`.
    private static func checkKernel(_ input: [Int], _ dtype: DType, _ weight: Tensor, _ bias: Tensor?, _ groups: Int,
                                    _ stride: [Int], _ outputPadding: [Int], _ dilation: [Int], _ outputSize: [Int]) throws {
        var shape = input, w = weight.shape, st = stride, dil = dilation, op = outputPadding, out = outputSize
        if w.count == 3 {
            shape.insert(1, at: 2)
            w.insert(1, at: 2)
            st.insert(1, at: 0)
            dil.insert(1, at: 0)
            op.insert(0, at: 0)
            out.insert(1, at: 0)
        }
        let inSize = Array(shape.dropFirst(2)), kernel = Array(w.dropFirst(2))
        if shape[0] == 0 {
            // The empty path views `input * weight.view(-1)[0]` as the output.
            if weight.numel == 0 {
                throw TorchError.index("select(): index 0 out of range for tensor of size [0] at dimension 0")
            }
            let full = [0, w[1] * groups] + out
            if let i = full.firstIndex(where: { $0 < 0 }) {
                throw TorchError.runtime("invalid shape dimension \(full[i]) at index \(i) of shape \(shapeString(full))")
            }
            return
        }
        if shape.contains(0) {
            throw TorchError.runtime("Only zero batch or zero channel inputs are supported, but got input shape: \(shapeString(shape))")
        }
        let useMkldnn = dtype == .float32 && !zip(op, st).contains(where: { $0 >= $1 })
            && (groups > 1 || (kernel[kernel.count - 1] > 3 && kernel[kernel.count - 2] > 3)
                || shape[0] > 1 || shape[0] * shape[1] * shape[2] * shape[3] > 20480)
        if useMkldnn {
            for (name, t) in [("weight", weight), ("bias", bias)] {
                if let t, t.dtype != .float32 {
                    throw TorchError.runtime("Input type (torch.FloatTensor) and \(name) type (\(t.dtype.legacyTypeName)) should be the same or input should be a MKLDNN tensor and \(name) is a dense tensor")
                }
            }
            if out.contains(where: { $0 < 0 }) {
                throw TorchError.runtime("could not construct a memory descriptor using a format tag")
            }
            // oneDNN rejects a zero dilation in 3-d, and in 2-d wherever the kernel is wider than 1.
            if kernel.count == 3 && dil.contains(0) { throw TorchError.runtime("dimensions are invalid") }
            if kernel.contains(0) || w[1] == 0 || zip(dil, kernel).contains(where: { $0 == 0 && $1 > 1 }) {
                throw TorchError.runtime("could not create a primitive descriptor for the deconvolution forward propagation primitive. Run workload with environment variable ONEDNN_VERBOSE=all to get additional diagnostic information.")
            }
            return
        }
        // The slow kernels run once per group, on weight[g·Cg ..< (g+1)·Cg].
        let groupWeight = shapeString([w[0] / groups] + w.dropFirst())
        let sizes = { (s: [Int]) in s.map(String.init).joined(separator: " x ") }
        let names = kernel.count == 3 ? ["depth", "height", "width"] : ["height", "width"]
        func labelled(_ label: String, _ v: [Int], _ separator: String = " ") -> String {
            zip(names, v).map { "\(label)_\($0): \($1)" }.joined(separator: separator)
        }
        // The 3-d kernel has no check of its own for an empty kernel: the weight check catches it.
        if kernel.count == 2 && kernel.contains(where: { $0 <= 0 }) {
            throw TorchError.runtime("kernel size should be greater than zero, but got \(labelled("kernel", kernel))")
        }
        if dil.contains(where: { $0 <= 0 }) {
            throw TorchError.runtime("dilation should be greater than zero, but got \(labelled("dilation", dil, ", "))")
        }
        if (0..<op.count).contains(where: { op[$0] >= st[$0] && op[$0] >= dil[$0] }) {
            let got = [labelled("output_padding", op), labelled("stride", st), labelled("dilation", dil)]
            throw TorchError.runtime("output padding must be smaller than either stride or dilation, but got " + got.joined(separator: " "))
        }
        if weight.numel == 0 {
            let expected = kernel.count == 2 ? "non-empty 2D or 4D weight tensor expected"
                : "non-empty 5D (n_output_plane x n_input_plane x kernel_depth x kernel_height x kernel_width) tensor expected for weight"
            throw TorchError.runtime("\(expected), but got: \(groupWeight)")
        }
        if out.contains(where: { $0 < 1 }) {
            throw TorchError.runtime("Given input size per channel: (\(sizes(inSize))). Calculated output size per channel: (\(sizes(out))). Output size is too small")
        }
        if dtype == .bool {
            throw TorchError.notImplemented("\"slow_conv_transpose\(kernel.count)d_out_cpu\" not implemented for 'Bool'")
        }
        // The 2-d kernel copies the bias into the output (casting it); the 3-d one reads it as is.
        let read: [Tensor?] = kernel.count == 3 ? [weight, bias] : [weight]
        for case let t? in read where t.dtype != dtype {
            throw TorchError.runtime("expected scalar type \(dtype.scalarTypeName) but found \(t.dtype.scalarTypeName)")
        }
    }
}
