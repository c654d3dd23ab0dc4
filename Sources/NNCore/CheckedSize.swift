/// Overflow-checked size arithmetic for shapes computed from arguments a caller chose.
///
/// Swift traps on `Int` overflow, so a fixture asking for `padding = 2^62` or
/// `output_size = [2^62, 2^62]` would crash the harness where PyTorch raises. Every shape
/// formula whose operands come from a call's arguments goes through these instead:
///
///     sizeSum / sizeDifference / sizeProduct      a + b, a − b, a·b, Π sizes
///     convolutionOutputSize                       ⌊(in + p₀ + p₁ − d·(k − 1) − 1) / s⌋ + 1
///     transposedConvolutionOutputSize             (in − 1)·s − 2p + d·(k − 1) + output_padding + 1
///
/// and each throws a `RuntimeError` when the result does not fit in an `Int64` (C++ would wrap;
/// PyTorch then fails at the allocation). Every op that allocates an output of a computed shape
/// first calls `checkedElementCount`, which throws PyTorch's allocator errors:
///
///     Storage size calculation overflowed with sizes=[…]      numel · itemsize overflows int64
///     DefaultCPUAllocator: can't allocate memory: …           more than `maxTensorElements`

/// Tensors larger than this many elements are refused before allocating (2^36: 512 GiB of
/// float64), the way PyTorch's allocator fails rather than the process.
public let maxTensorElements = 1 << 36

extension DType {
    /// Bytes per element, as `torch.dtype.itemsize`.
    public var itemSize: Int {
        switch self {
        case .float32: return 4
        case .float64, .int64: return 8
        case .bool: return 1
        }
    }
}

/// The element count of a tensor of `shape` about to be created from sizes a caller chose
/// (a module's `in_features`, an op's computed output shape), with PyTorch's errors for a
/// negative size and for a size no allocation can hold, instead of a trap.
public func checkedElementCount(_ shape: [Int], itemSize: Int = 8) throws -> Int {
    if let negative = shape.first(where: { $0 < 0 }) {
        throw TorchError.runtime("Trying to create tensor with negative dimension \(negative): \(shapeString(shape))")
    }
    // c10's computeStorageNbytesContiguous: Π sizes · itemsize, overflow-checked.
    var count = 1
    for d in shape {
        let (p, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow else {
            throw TorchError.runtime("Storage size calculation overflowed with sizes=\(shapeString(shape))")
        }
        count = p
    }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: itemSize)
    guard !overflow else {
        throw TorchError.runtime("Storage size calculation overflowed with sizes=\(shapeString(shape))")
    }
    guard count <= maxTensorElements else {
        throw TorchError.runtime("DefaultCPUAllocator: can't allocate memory: you tried to allocate \(bytes) bytes. Error code 12 (Cannot allocate memory)")
    }
    return count
}

/// `checkedElementCount` for an output of `dtype`: throws before a backend allocates it.
public func checkAllocation(_ shape: [Int], _ dtype: DType) throws {
    _ = try checkedElementCount(shape, itemSize: dtype.itemSize)
}

/// The error for a size formula that left the `Int64` range.
private func sizeOverflow(_ what: String) -> TorchError {
    TorchError.runtime("\(what): integer overflow computing an output size")
}

/// `a + b` for sizes, throwing instead of trapping on overflow.
public func sizeSum(_ a: Int, _ b: Int, _ what: @autoclosure () -> String = "size") throws -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    if o { throw sizeOverflow(what()) }
    return r
}

/// `a − b` for sizes, throwing instead of trapping on overflow.
public func sizeDifference(_ a: Int, _ b: Int, _ what: @autoclosure () -> String = "size") throws -> Int {
    let (r, o) = a.subtractingReportingOverflow(b)
    if o { throw sizeOverflow(what()) }
    return r
}

/// `a · b` for sizes, throwing instead of trapping on overflow.
public func sizeProduct(_ a: Int, _ b: Int, _ what: @autoclosure () -> String = "size") throws -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    if o { throw sizeOverflow(what()) }
    return r
}

/// `Π sizes` (c10's `multiply_integers`), throwing `numel: integer multiplication overflow` as
/// c10's `safe_multiplies_u64` does instead of trapping.
public func sizeProduct<S: Sequence<Int>>(_ sizes: S) throws -> Int {
    var r = 1
    for s in sizes {
        let (p, o) = r.multipliedReportingOverflow(by: s)
        if o { throw TorchError.runtime("numel: integer multiplication overflow") }
        r = p
    }
    return r
}

/// The sliding-window output length `⌊(in + padBefore + padAfter − dilation·(k − 1) − 1) / stride⌋ + 1`
/// (convolution, pooling, unfold), overflow-checked; the division floors (Python `//`) as ATen's
/// `div_rtn` does. `stride` must be positive.
public func convolutionOutputSize(input: Int, kernel: Int, stride: Int, padBefore: Int, padAfter: Int,
                                  dilation: Int = 1, _ what: @autoclosure () -> String = "output size") throws -> Int {
    let span = try sizeProduct(dilation, try sizeDifference(kernel, 1, what()), what())
    let padded = try sizeSum(try sizeSum(input, padBefore, what()), padAfter, what())
    let room = try sizeDifference(try sizeDifference(padded, span, what()), 1, what())
    let q = room / stride, floored = (room % stride != 0 && (room < 0) != (stride < 0)) ? q - 1 : q
    return try sizeSum(floored, 1, what())
}

/// The transposed-convolution output length `(in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1`,
/// overflow-checked.
public func transposedConvolutionOutputSize(input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int,
                                            outputPadding: Int, _ what: @autoclosure () -> String = "output size") throws -> Int {
    let grown = try sizeProduct(try sizeDifference(input, 1, what()), stride, what())
    let trimmed = try sizeDifference(grown, try sizeProduct(2, padding, what()), what())
    let span = try sizeProduct(dilation, try sizeDifference(kernel, 1, what()), what())
    return try sizeSum(try sizeSum(try sizeSum(trimmed, span, what()), outputPadding, what()), 1, what())
}
