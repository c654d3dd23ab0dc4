/// `torch.nn.functional.unfold` (im2col) and `fold` (col2im), listed with the transposed
/// convolutions (`ConvolutionTranspose.swift`), which are built from them.
extension Signatures {
    static let unfolding: [OpSignature] = [
        OpSignature("unfold", ["input", "kernel_size", "dilation", "padding", "stride"]),
        OpSignature("fold", ["input", "output_size", "kernel_size", "dilation", "padding", "stride"]),
    ]
}

/// A validated call of `unfold` or `fold`, shared by every backend.
///
/// Both move between an image `[N, C, H, W]` and its sliding blocks `[N, C·kH·kW, L]` (either
/// may be unbatched, without `N`). Block `l`, row-major over the block grid `blocks`, with kernel
/// offset `q`, row-major over `kernel`, covers image position (per dimension)
///
///     i = l·stride − padding + q·dilation
///
/// and `blocks = ⌊(image + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1`, `L = ∏ blocks`.
/// `unfold` copies `image[n, c, i]` to `columns[n, c·K + q, l]` (zero where `i` is padding);
/// `fold` is its adjoint: it sums every `columns[n, c·K + q, l]` into `image[n, c, i]`.
///
/// `init` raises PyTorch's errors in PyTorch's order: `F.unfold` / `F.fold` (missing arguments,
/// `_pair`), the binding of `im2col` / `col2im`, then ATen's `im2col_shape_check` /
/// `col2im_shape_check`.
public struct UnfoldCall {
    /// True for `fold` (col2im), false for `unfold` (im2col).
    public let isFold: Bool
    public let input: Tensor
    /// False for an unbatched input, whose output has no batch dimension either.
    public let batched: Bool
    public let batchSize: Int
    /// Channels of the image, `C`.
    public let channels: Int
    /// Spatial size of the image (`unfold`'s input, `fold`'s output).
    public let imageSize: [Int]
    public let kernelSize: [Int]
    public let dilation: [Int]
    public let padding: [Int]
    public let stride: [Int]
    /// The grid of sliding blocks; `L` is its product.
    public let blocks: [Int]

    public var imageShape: [Int] { (batched ? [batchSize] : []) + [channels] + imageSize }
    public var columnsShape: [Int] {
        (batched ? [batchSize] : []) + [channels * kernelSize.reduce(1, *), blocks.reduce(1, *)]
    }
    public var outputShape: [Int] { isFold ? imageShape : columnsShape }

    public init(_ args: Arguments) throws {
        let isFold = args.op == "fold"
        let required = isFold ? ["input", "output_size", "kernel_size"] : ["input", "kernel_size"]
        let missing = required.filter { args[$0] == nil }.map { "'\($0)'" }
        if !missing.isEmpty {
            let list = missing.count == 1 ? missing[0]
                : missing.dropLast().joined(separator: ", ") + (missing.count > 2 ? "," : "") + " and \(missing.last!)"
            throw TorchError.type("\(args.op)() missing \(missing.count) required positional argument\(missing.count == 1 ? "" : "s"): \(list)")
        }
        // F.fold / F.unfold pass every size through `_pair` (a non-list x becomes (x, x)) to
        // `col2im(input, output_size, kernel_size, dilation, padding, stride)` / `im2col(input,
        // kernel_size, dilation, padding, stride)`, which check that each has two elements.
        let names = (isFold ? ["output_size"] : []) + ["kernel_size", "dilation", "padding", "stride"]
        let binding = PythonBinding(isFold ? "col2im" : "im2col", python: args.op, positions: ["input"] + names)
        let input = try binding.tensor(args, "input")
        var sizes: [String: [Int]] = [:]
        for name in names {
            let value = args[name] ?? .int(name == "dilation" || name == "stride" ? 1 : 0)
            sizes[name] = try binding.ints(value.isList ? value : .list([value, value]), name, count: 2)
        }
        for name in names where sizes[name]!.count != 2 {
            throw TorchError.runtime("It is expected \(name) equals to 2, but got size \(sizes[name]!.count)")
        }
        let (kernel, dilation, padding, stride) = (sizes["kernel_size"]!, sizes["dilation"]!, sizes["padding"]!, sizes["stride"]!)
        let pair = { (s: [Int]) in "(\(s[0]), \(s[1]))" }
        let hw = { (name: String, s: [Int], separator: String) in
            "\(name)_height: \(s[0])\(separator)\(name)_width: \(s[1])"
        }
        let kernelError = "kernel size should be greater than zero, but got \(hw("kernel", kernel, " "))"
        let strideError = "stride should be greater than zero, but got \(hw("stride", stride, " "))"
        let dilationError = "dilation should be greater than zero, but got \(hw("dilation", dilation, " "))"
        let paddingError = "padding should be non-negative, but got \(hw("pad", padding, " "))"
        // The checks run in a different order in the two ops.
        let checks = isFold
            ? [(kernel, 1, kernelError), (stride, 1, strideError), (dilation, 1, dilationError), (padding, 0, paddingError)]
            : [(kernel, 1, kernelError), (dilation, 1, dilationError), (padding, 0, paddingError), (stride, 1, strideError)]
        for (values, least, message) in checks where values.contains(where: { $0 < least }) {
            throw TorchError.runtime(message)
        }
        let s = input.shape
        let image: [Int], blocks: [Int]
        if isFold {
            guard (s.count == 2 && s[0] != 0 && s[1] != 0) || (s.count == 3 && s[1] != 0 && s[2] != 0) else {
                throw TorchError.runtime("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: \(shapeString(s))")
            }
            image = sizes["output_size"]!
            blocks = try Self.blockGrid(image, kernel, dilation, padding, stride)
            let rows = s[s.count - 2], length = s[s.count - 1], k = try sizeProduct(kernel[0], kernel[1], "fold")
            guard rows % k == 0 else {
                throw TorchError.runtime("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=\(rows) and kernel_size=\(pair(kernel)).")
            }
            let description = "Given output_size=\(pair(image)), kernel_size=\(pair(kernel)), dilation=\(pair(dilation)), padding=\(pair(padding)), stride=\(pair(stride)), "
            // ATen multiplies in int64 and wraps (and so reports the wrapped product).
            guard length == blocks[0] &* blocks[1] else {
                throw TorchError.runtime(description + "expected size of input's dimension 2 to match the calculated number of sliding blocks \(blocks[0]) * \(blocks[1]) = \(blocks[0] &* blocks[1]), but got input.size(2)=\(length).")
            }
            guard blocks.allSatisfy({ $0 >= 1 }) else {
                throw TorchError.runtime(description + "calculated shape of the array of sliding blocks as \(pair(blocks)), which is too small (non-positive)")
            }
            guard image.allSatisfy({ $0 >= 1 }) else {
                throw TorchError.runtime("Expected output spatial size to be positive, but got: output_size=\(pair(image)).")
            }
            (batched, batchSize, channels) = (s.count == 3, s.count == 3 ? s[0] : 1, rows / k)
        } else {
            // ATen reads `input.size(1)` and `input.size(2)` before it checks the rank.
            guard s.count > 0 else { throw TorchError.index("Dimension specified as 1 but tensor has no dimensions") }
            _ = try wrapDim(1, rank: s.count)
            if s[1] != 0 { _ = try wrapDim(2, rank: s.count) }
            guard (s.count == 3 && s[0] != 0 && s[1] != 0 && s[2] != 0) || (s.count == 4 && !s.dropFirst().contains(0)) else {
                throw TorchError.runtime("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: \(shapeString(s))")
            }
            image = Array(s.suffix(2))
            blocks = try Self.blockGrid(image, kernel, dilation, padding, stride)
            guard blocks.allSatisfy({ $0 >= 1 }) else {
                throw TorchError.runtime("Given input with spatial size \(pair(image)), kernel_size=\(pair(kernel)), dilation=\(pair(dilation)), padding=\(pair(padding)), calculated shape of the array of sliding blocks as \(pair(blocks)), but its components must be at least one.")
            }
            (batched, batchSize, channels) = (s.count == 4, s.count == 4 ? s[0] : 1, s[s.count - 3])
        }
        if input.dtype == .int64 {
            throw TorchError.notImplemented("\"\(isFold ? "col2im" : "im2col")_out_cpu\" not implemented for 'Long'")
        }
        try checkAllocation([batchSize, channels] + (isFold ? image : kernel + blocks), input.dtype)
        self.isFold = isFold
        self.input = input
        self.imageSize = image
        self.kernelSize = kernel
        self.dilation = dilation
        self.padding = padding
        self.stride = stride
        self.blocks = blocks
    }

    /// Blocks per dimension, `⌊(image + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1`
    /// (rounding toward −∞, as ATen's `div_rtn`).
    private static func blockGrid(_ image: [Int], _ kernel: [Int], _ dilation: [Int], _ padding: [Int], _ stride: [Int]) throws -> [Int] {
        try (0..<2).map {
            try convolutionOutputSize(input: image[$0], kernel: kernel[$0], stride: stride[$0], padBefore: padding[$0],
                                      padAfter: padding[$0], dilation: dilation[$0], "unfold")
        }
    }
}

extension Value {
    fileprivate var isList: Bool {
        if case .list = self { return true }
        return false
    }
}
