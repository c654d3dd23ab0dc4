/// `pad(input, pad, mode, value)`: `pad = [before_last, after_last, before_2nd_last, ...]`
/// grows (or, negative, crops) the last `pad.count / 2` dims. Along a padded dim of size n with
/// `before` = b, output position j reads input position i = j − b, brought into [0, n) by
///
///     constant:  i itself, or `value` when i is outside [0, n)
///     reflect:   −i below 0, 2(n − 1) − i above n − 1 (the edge is not repeated; b, a < n)
///     replicate: clamp(i, 0, n − 1)
///     circular:  i mod n′, where n′ is n after cropping the negative pads (b, a ≤ n)
///
/// and a multi-dim pad applies this per dim. Only constant padding takes any rank; the others
/// pad the last dim of a 2-d/3-d, the last 2 of a 3-d/4-d or the last 3 of a 4-d/5-d input.

public enum PadMode: String, Sendable {
    case constant, reflect, replicate, circular
}

/// A validated call of `pad`.
public struct PadCall {
    public let input: Tensor
    public let mode: PadMode
    /// (before, after) per padded dim, outermost first: the padded dims are the last `pads.count`.
    public let pads: [(before: Int, after: Int)]
    /// The constant fill, already representable in the input's dtype.
    public let value: Double

    /// The sizes of the padded dims of the input.
    public var paddedSizes: [Int] { Array(input.shape.suffix(pads.count)) }

    public var outputShape: [Int] {
        Array(input.shape.dropLast(pads.count)) + zip(paddedSizes, pads).map { $0 + $1.before + $1.after }
    }

    /// The input coordinate that output coordinate `j` of padded dim `k` (0 the outermost padded
    /// dim) reads, or nil for the constant fill: the per-dim rules above, shared by every
    /// backend's kernel.
    public func sourceCoordinate(_ j: Int, paddedDim k: Int) -> Int? {
        let n = paddedSizes[k], p = pads[k], i = j - p.before
        switch mode {
        case .constant: return i >= 0 && i < n ? i : nil
        case .reflect: return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i
        case .replicate: return min(max(i, 0), n - 1)
        case .circular:
            // Crop the negative pads, then wrap around what is left.
            let first = max(-p.before, 0), kept = n - first - max(-p.after, 0)
            let k = (j - max(p.before, 0)) % kept
            return first + (k < 0 ? k + kept : k)
        }
    }

    /// `ConstantPadNdBackward0`, `ReflectionPad2DBackward0`, ...; circular padding is written
    /// by slice copies, so its node is `CopySlices`.
    public var backwardName: String {
        switch mode {
        case .constant: return "ConstantPadNdBackward0"
        case .reflect: return "ReflectionPad\(pads.count)DBackward0"
        case .replicate: return "ReplicationPad\(pads.count)DBackward0"
        case .circular: return "CopySlices"
        }
    }

    /// Checks in PyTorch's order: the Python binding's types, the mode, the pad's length, then
    /// the mode's own checks (`constant_pad_nd`, `reflection_pad{n}d`, `replication_pad{n}d`,
    /// `_pad_circular`).
    public init(_ args: Arguments) throws {
        input = try args.tensor("input")
        let amounts = try PadCall.amounts(args)
        let given = try PadCall.optionalValue(args)
        let modeName = try args.string("mode", default: "constant")
        guard let mode = PadMode(rawValue: modeName) else {
            throw TorchError.notImplemented("Unrecognised padding mode \(modeName)")
        }
        self.mode = mode
        guard amounts.count % 2 == 0 else { throw TorchError.runtime("Padding length must be divisible by 2") }
        guard amounts.count <= 2 * input.dim else {
            throw TorchError.runtime("Padding length should be less than or equal to two times the input dimension but got padding length \(amounts.count) and input of dimension \(input.dim)")
        }
        pads = stride(from: amounts.count - 2, through: 0, by: -2).map { (amounts[$0], amounts[$0 + 1]) }
        value = given ?? 0
        // `outputShape` sums each size and its pads; those sums must fit before any check reads them.
        for (size, pad) in zip(paddedSizes, pads) {
            _ = try sizeSum(try sizeSum(size, pad.before, "pad"), pad.after, "pad")
        }
        if mode == .constant {
            try checkConstant()
            try checkAllocation(outputShape, input.dtype)
            return
        }
        if let v = given, v != 0 {
            throw TorchError.runtime("Padding mode \"\(modeName)\" doesn't take in value argument")
        }
        let n = pads.count
        guard n >= 1, input.dim == n + 1 || input.dim == n + 2 else {
            throw TorchError.notImplemented("Padding size \(amounts.count) is not supported for \(input.dim)D input tensor.\n"
                + "Supported combinations for non-constant padding:\n"
                + "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                + "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                + "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
        }
        if mode == .circular {
            try checkCircular()
        } else {
            try checkReflectOrReplicate()
        }
        try checkAllocation(outputShape, input.dtype)
    }

    /// `pad`: a list of ints (the binding names its position).
    private static func amounts(_ args: Arguments) throws -> [Int] {
        let v = args["pad"] ?? .list([])
        guard case .list(let entries) = v else {
            throw TorchError.type("pad(): argument 'pad' (position 2) must be tuple of ints, not \(v.pythonTypeName)")
        }
        return try entries.enumerated().map { k, e in
            guard case .int(let i) = e else {
                throw TorchError.type("pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type \(e.pythonTypeName) at pos \(k)")
            }
            return i
        }
    }

    private static func optionalValue(_ args: Arguments) throws -> Double? {
        do {
            return try args.optionalSpelledDouble("value")
        } catch {
            throw TorchError.type("pad(): argument 'value' (position 4) must be float, not \(args["value"]!.pythonTypeName)")
        }
    }

    /// `constant_pad_nd`: negative pads narrow the input first (each narrowing must leave a
    /// non-negative size); when some pad is positive, `value` must fit the dtype.
    private func checkConstant() throws {
        for (n, p) in zip(paddedSizes, pads) where n + min(p.before, 0) + min(p.after, 0) < 0 {
            throw TorchError.runtime("narrow(): length must be non-negative.")
        }
        guard pads.contains(where: { $0.before > 0 || $0.after > 0 }) else { return }
        let overflows: Bool
        switch input.dtype {
        case .float32: overflows = value.isFinite && abs(value) > Double(Float.greatestFiniteMagnitude)
        case .int64: overflows = !(value >= -0x1p63 && value < 0x1p63)
        case .float64, .bool: overflows = false
        }
        if overflows {
            let cName = input.dtype == .float32 ? "float" : "int64_t"
            throw TorchError.runtime("value cannot be converted to type \(cName) without overflow")
        }
    }

    /// The checks ATen's reflection and replication kernels share: no empty dim but the batch,
    /// reflection's "pad smaller than the dim" (arguments #4, #6, #8 are the W, H, D pads), an
    /// output of at least 1 per padded dim, then the dtype (neither has a bool kernel).
    private func checkReflectOrReplicate() throws {
        let n = pads.count, s = input.shape
        let batched = input.dim == n + 2
        if s.dropFirst(batched ? 1 : 0).contains(0) {
            throw TorchError.runtime("Expected \(n + 1)D or \(n + 2)D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: \(shapeString(s))")
        }
        if mode == .reflect {
            for k in (0..<n).reversed() where pads[k].before >= paddedSizes[k] || pads[k].after >= paddedSizes[k] {
                throw TorchError.runtime("Argument #\(2 * (n - k) + 2): Padding size should be less than the corresponding input dimension, but got: padding (\(pads[k].before), \(pads[k].after)) at dimension \(input.dim - n + k) of input \(shapeString(s))")
            }
        }
        let out = outputShape.suffix(n), names = ["D", "H", "W"].suffix(n)
        if out.contains(where: { $0 < 1 }) && n == 1 {
            throw TorchError.runtime("input (W: \(paddedSizes[0])) is too small. Calculated output W: \(out.first!)")
        }
        if out.contains(where: { $0 < 1 }) {
            let calculated = zip(names, out).map { "\($0): \($1)" }.joined(separator: " ")
            let given = zip(names, paddedSizes).map { "\($0): \($1)" }.joined(separator: ", ")
            throw TorchError.runtime("Calculated output \(calculated) must be >= 1 in every dimension (input \(given))")
        }
        if input.dtype == .bool {
            let kernel = mode == .reflect ? "reflection_pad\(n)d" : "replication_pad\(n)d"
            throw TorchError.notImplemented("\"\(kernel)\" not implemented for 'Bool'")
        }
    }

    /// `_pad_circular`: a pad may wrap around at most once and a crop may not go below 0. A
    /// positive pad longer than the cropped dim copies between overlapping slices, which ATen
    /// refuses; onto an empty cropped dim it would read uninitialized memory.
    private func checkCircular() throws {
        for (n, p) in zip(paddedSizes, pads) {
            guard p.before <= n && p.after <= n else {
                throw TorchError.runtime("Padding value causes wrapping around more than once.")
            }
            guard n + p.before + p.after >= 0 else {
                throw TorchError.runtime("Negative padding value is resulting in an empty dimension")
            }
        }
        for (n, p) in zip(paddedSizes, pads) {
            let cropped = n + min(p.before, 0) + min(p.after, 0)
            guard max(p.before, p.after) > cropped else { continue }
            if cropped == 0 { throw Unsupported("circular padding of a dim cropped to size 0 (PyTorch reads uninitialized memory)") }
            throw TorchError.runtime("unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before performing the operation.")
        }
    }
}
