/// Ops that move, select or compare elements rather than compute new ones:
///
/// - `pad` (`ShapePad.swift`): constant, reflect, replicate and circular padding;
/// - `pixel_shuffle` / `pixel_unshuffle`: (*, C·r², H, W) ⇄ (*, C, H·r, W·r);
/// - `one_hot`: y[..., k] = [x[...] = k];
/// - `embedding` (`ShapeEmbedding.swift`): y[..., :] = weight[x[...], :];
/// - `cosine_similarity`, `pairwise_distance` (`ShapeEmbedding.swift`);
/// - `flatten` / `unflatten`: views merging or splitting dims;
/// - `max`, `min`, `argmax`, `argmin` (`ShapeReduce.swift`).
///
/// The calls here hold each op's arguments after PyTorch's defaults and checks.

extension Signatures {
    static let shape: [OpSignature] = [
        OpSignature("pad", ["input", "pad", "mode", "value"]),
        OpSignature("pixel_shuffle", ["input", "upscale_factor"]),
        OpSignature("pixel_unshuffle", ["input", "downscale_factor"]),
        // The docs name the first parameter `tensor`; torch 2.15 only accepts `input=`.
        OpSignature("one_hot", ["input", "num_classes"]),
        OpSignature("embedding", ["input", "weight", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq", "sparse"]),
        OpSignature("cosine_similarity", ["x1", "x2", "dim", "eps"]),
        OpSignature("pairwise_distance", ["x1", "x2", "p", "eps", "keepdim"]),
        OpSignature("flatten", ["input", "start_dim", "end_dim"]),
        OpSignature("unflatten", ["input", "dim", "sizes"]),
        OpSignature("max", ["input", "dim", "keepdim"]),
        OpSignature("min", ["input", "dim", "keepdim"]),
        OpSignature("argmax", ["input", "dim", "keepdim"]),
        OpSignature("argmin", ["input", "dim", "keepdim"]),
    ]
}

extension Arguments {
    /// A float argument, also spelled `"inf"`, `"-inf"` or `"nan"` (as JSON fixtures must spell
    /// non-finite numbers); nil when absent or None.
    func optionalSpelledDouble(_ name: String) throws -> Double? {
        switch values[name] {
        case .string("inf")?: return .infinity
        case .string("-inf")?: return -.infinity
        case .string("nan")?: return .nan
        default: return try optionalDouble(name)
        }
    }
}

/// A validated call of `torch.flatten`: dims `start...end` merge into one.
public struct FlattenCall {
    public let input: Tensor
    /// The result's shape, or nil when ATen returns the input itself (`start == end`).
    public let outputShape: [Int]?

    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        let start = try wrapDim(try args.int("start_dim", default: 0), rank: input.dim)
        let end = try wrapDim(try args.int("end_dim", default: -1), rank: input.dim)
        guard start <= end else {
            throw TorchError.runtime("flatten() has invalid args: start_dim cannot come after end_dim")
        }
        let s = input.shape
        if s.isEmpty {
            outputShape = [1]
        } else if start == end {
            outputShape = nil
        } else {
            outputShape = Array(s[..<start]) + [s[start...end].reduce(1, *)] + Array(s[(end + 1)...])
        }
    }

    /// The result, for every backend: a view of the input's storage (`ViewBackward0`), or the
    /// input itself when start == end. flatten moves no data, so there is no kernel to optimize.
    public func result() throws -> Tensor {
        guard let outputShape else { return input }
        return try input.view(outputShape)
    }
}

/// A validated call of `torch.unflatten`: dim `dim` splits into `sizes` (one entry may be −1).
public struct UnflattenCall {
    public let input: Tensor
    public let outputShape: [Int]

    /// ATen's `infer_size` on `sizes`; its errors other than a wrong product are wrapped as
    /// "unflatten got an unexpected error" (PyTorch appends a C++ stack trace).
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        if case .int? = args["sizes"] {
            throw TorchError.type("unflatten(): argument 'sizes' must be tuple of ints, not int")
        }
        let sizes = try args.intList("sizes") ?? []
        let dim = try wrapDim(try args.int("dim", default: 0), rank: input.dim)
        guard !sizes.isEmpty else { throw TorchError.runtime("unflatten: sizes must be non-empty") }
        func unexpected(_ m: String) -> TorchError { .runtime("unflatten got an unexpected error:\n" + m) }
        guard input.dim > 0 else { throw unexpected("Dimension specified as 0 but tensor has no dimensions") }

        let size = input.shape[dim]
        var inferred: Int?
        var product = 1, overflowed = false
        for (i, s) in sizes.enumerated() {
            if s == -1 {
                if inferred != nil { throw unexpected("only one dimension can be inferred") }
                inferred = i
            } else if s < 0 {
                throw unexpected("invalid shape dimension \(s) at index \(i) of shape \(shapeString(sizes))")
            } else {
                let (p, o) = product.multipliedReportingOverflow(by: s)
                (product, overflowed) = (p, overflowed || o)
            }
        }
        guard !overflowed, size == product || (inferred != nil && product > 0 && size % product == 0) else {
            throw TorchError.runtime("unflatten: Provided sizes \(shapeString(sizes)) don't multiply up to the size of dim \(dim) (\(size)) in the input tensor")
        }
        var resolved = sizes
        if let i = inferred {
            guard product != 0 else {
                throw unexpected("cannot reshape tensor of 0 elements into shape \(shapeString(sizes)) because the unspecified dimension size -1 can be any value and is ambiguous")
            }
            resolved[i] = size / product
        }
        var shape = input.shape
        shape.replaceSubrange(dim...dim, with: resolved)
        outputShape = shape
    }

    /// The result, for every backend: a view with the dim split (`ViewBackward0`). unflatten
    /// moves no data, so there is no kernel to optimize.
    public func result() throws -> Tensor {
        try input.view(outputShape)
    }
}

/// A validated call of `pixel_shuffle` (r = `upscale_factor`) or `pixel_unshuffle`
/// (r = `downscale_factor`) on an input of at least 3 dims (*, C, H, W).
public struct PixelShuffleCall {
    public let input: Tensor
    public let unshuffle: Bool
    public let factor: Int

    public var name: String { unshuffle ? "pixel_unshuffle" : "pixel_shuffle" }
    public var backwardName: String { unshuffle ? "PixelUnshuffleBackward0" : "PixelShuffleBackward0" }

    public init(unshuffle: Bool, _ args: Arguments) throws {
        self.unshuffle = unshuffle
        input = try args.tensor("input")
        let factorName = unshuffle ? "downscale_factor" : "upscale_factor"
        factor = try args.int(factorName, default: 0)
        let name = unshuffle ? "pixel_unshuffle" : "pixel_shuffle"
        guard input.dim >= 3 else {
            throw TorchError.runtime("\(name) expects input to have at least 3 dimensions, but got input with \(input.dim) dimension(s)")
        }
        guard factor > 0 else { throw TorchError.runtime("\(name) expects a positive \(factorName), but got \(factor)") }
        let (c, h, w) = (input.size(-3), input.size(-2), input.size(-1))
        if !unshuffle {
            guard !factor.multipliedReportingOverflow(by: factor).overflow else {
                throw TorchError.value("upscale factor is too large, (upscale_factor)^2 overflowed: upscale_factor=\(factor)")
            }
            // An empty input (C = 0) may have any H and W; H·r and W·r must still fit.
            _ = try sizeProduct(h, factor, name)
            _ = try sizeProduct(w, factor, name)
        }
        if !unshuffle && c % (factor * factor) != 0 {
            throw TorchError.runtime("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)=\(c) is not divisible by \(factor * factor)")
        }
        if unshuffle && h % factor != 0 {
            throw TorchError.runtime("pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)=\(h) is not divisible by \(factor)")
        }
        if unshuffle && w % factor != 0 {
            throw TorchError.runtime("pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)=\(w) is not divisible by \(factor)")
        }
    }

    /// (*, C, H·r, W·r) for pixel_shuffle, (*, C·r², H, W) for pixel_unshuffle, except that
    /// ATen's pixel_unshuffle returns an empty input unchanged (a copy).
    public var outputShape: [Int] {
        let s = input.shape, r = factor, batch = Array(s.dropLast(3))
        if unshuffle && input.numel == 0 { return s }
        let (c, h, w) = (s[s.count - 3], s[s.count - 2], s[s.count - 1])
        return unshuffle ? batch + [c * r * r, h / r, w / r] : batch + [c / (r * r), h * r, w * r]
    }
}

/// A validated call of `one_hot`: an int64 input of class indices, `num_classes` (−1: max + 1).
public struct OneHotCall {
    public let input: Tensor
    public let numClasses: Int

    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        let requested = try args.int("num_classes", default: -1)
        guard input.dtype == .int64 else {
            throw TorchError.runtime("one_hot is only applicable to index tensor of type LongTensor.")
        }
        let classes = input.int64s
        guard let largest = classes.max(), let smallest = classes.min() else {
            guard requested > 0 else { throw TorchError.runtime("Can not infer total number of classes from empty tensor.") }
            numClasses = requested
            return
        }
        guard smallest >= 0 else { throw TorchError.runtime("Class values must be non-negative.") }
        guard requested == -1 || requested > largest else {
            throw TorchError.runtime("Class values must be smaller than num_classes.")
        }
        numClasses = requested == -1 ? Int(largest) + 1 : requested
    }
}
