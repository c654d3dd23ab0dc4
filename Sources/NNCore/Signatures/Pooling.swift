/// `torch.nn.functional` pooling: max, average and power-average pooling over sliding windows,
/// adaptive max and average pooling, and max-unpooling (`PoolingAdaptive.swift`).
extension Signatures {
    static let pooling: [OpSignature] = (1...3).flatMap { n -> [OpSignature] in
        let maxPool = ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
        let adaptiveMax = ["input", "output_size", "return_indices"]
        return [
            OpSignature("max_pool\(n)d", maxPool),
            OpSignature("max_pool\(n)d_with_indices", maxPool),
            OpSignature("avg_pool\(n)d", ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]
                        + (n > 1 ? ["divisor_override"] : [])),
            OpSignature("lp_pool\(n)d", ["input", "norm_type", "kernel_size", "stride", "ceil_mode"]),
            OpSignature("adaptive_avg_pool\(n)d", ["input", "output_size"]),
            OpSignature("adaptive_max_pool\(n)d", adaptiveMax),
            OpSignature("adaptive_max_pool\(n)d_with_indices", adaptiveMax),
            OpSignature("max_unpool\(n)d", ["input", "indices", "kernel_size", "stride", "padding", "output_size"]),
        ]
    }
}

/// A validated call of `max_pool{1,2,3}d` (also `_with_indices`) or `avg_pool{1,2,3}d`.
///
/// The input is `[N, C, in_1 ... in_n]` or, unbatched, `[C, in_1 ... in_n]`; every leading
/// index names an independent plane. Per spatial dimension, with kernel `k`, stride `s`
/// (default: `k`), padding `p` and dilation `d` (1 for average pooling), output `o` looks at
///
///     window(o) = { o·s − p + j·d : 0 ≤ j < k } ∩ [0, in)
///
/// and the output size is ATen's `pooling_output_shape`:
///
///     out = ⌊(in + 2p − d·(k−1) − 1 + (ceil_mode ? s − 1 : 0)) / s⌋ + 1
///
/// where, with `ceil_mode`, a last window that would start at or after `in + p` (in the right
/// padding) is dropped. `p ≤ k/2` is required.
///
/// - Max pooling takes the first maximum in the window's row-major scan order; a NaN wins over
///   any number, and a later NaN over an earlier one (ATen's `val > max || isnan(val)`). The
///   indices are offsets within the plane (`h·in_W + w`).
/// - Average pooling divides the window's sum by `divisor_override` if given; else by the size
///   of `[o·s − p, min(o·s − p + k, in + p))` (the window clipped to the padded input) when
///   `count_include_pad`, or by the number of input elements it covers.
///
/// The 1-d ops run as 2-d pooling of `input.unsqueeze(-2)` and `squeeze(-2)` the result, as ATen
/// does: `poolShape` and the per-dimension lists describe that 2-d pooling. `init` raises
/// PyTorch's errors in PyTorch's order: the Python binding's TypeErrors, then ATen's checks.
public struct PoolingCall {
    public enum Kind: Sendable { case max, average }

    public let kind: Kind
    public let input: Tensor
    /// The shape the pooling kernel sees: the input, or for the 1-d ops `input.unsqueeze(-2)`.
    public let poolShape: [Int]
    /// Whether this is a 1-d op (pooling `input.unsqueeze(-2)`, then `squeeze(-2)`).
    public let unsqueezed: Bool
    public let kernelSize: [Int]
    public let stride: [Int]
    public let padding: [Int]
    public let dilation: [Int]
    public let countIncludePad: Bool
    public let divisorOverride: Int?
    /// Max pooling only: the result is the tuple `(output, indices)`.
    public let returnIndices: Bool
    /// The spatial output size of the pooling kernel.
    public let outputSize: [Int]

    public var inputSize: [Int] { Array(poolShape.suffix(kernelSize.count)) }
    /// Independent planes: the product of the dimensions before the spatial ones.
    public var planes: Int { poolShape.dropLast(kernelSize.count).reduce(1, *) }
    public var poolOutputShape: [Int] { Array(poolShape.dropLast(kernelSize.count)) + outputSize }
    /// The shape returned to the caller.
    public var outputShape: [Int] {
        var s = poolOutputShape
        if unsqueezed { s.remove(at: s.count - 2) }
        return s
    }
    /// The `grad_fn` of the pooling kernel (for the 1-d ops it is wrapped in `SqueezeBackward1`).
    public var gradFnName: String {
        let n = kernelSize.count
        return kind == .max ? "MaxPool\(n)DWithIndicesBackward0" : "AvgPool\(n)DBackward0"
    }

    /// `F.max_pool{n}d` (`kind: .max`, also `_with_indices`) or `F.avg_pool{n}d` (`.average`).
    public init(_ args: Arguments, kind: Kind, spatialDims n: Int) throws {
        let withIndices = kind == .max && (args.op.hasSuffix("_with_indices") || pythonTruth(args["return_indices"]))
        // Max pooling is a Python function that passes everything on by position.
        let binding: PythonBinding
        if kind == .max {
            let name = withIndices ? "max_pool\(n)d_with_indices" : "max_pool\(n)d"
            binding = PythonBinding(name, python: withIndices ? name : "_\(name)",
                                    positions: ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"])
        } else {
            binding = PythonBinding("avg_pool\(n)d")
        }
        let input = try binding.tensor(args, "input")
        let kernel = try binding.ints(args, "kernel_size", count: n)
        let stride = try binding.optionalInts(args, "stride", count: n) ?? []
        let padding = try binding.ints(args, "padding", count: n, default: 0)
        let dilation = kind == .max ? try binding.ints(args, "dilation", count: n, default: 1) : [1]
        let ceilMode = try binding.bool(args, "ceil_mode", default: false)
        let countIncludePad = kind == .average ? try binding.bool(args, "count_include_pad", default: true) : true
        let divisor = try binding.optionalInt(args, "divisor_override")
        try self.init(kind, n, input: input, kernel: kernel, stride: stride, padding: padding, dilation: dilation,
                      ceilMode: ceilMode, countIncludePad: countIncludePad, divisorOverride: divisor,
                      returnIndices: withIndices)
    }

    /// ATen's checks on the arguments as its function `max_pool{n}d[_with_indices]` or
    /// `avg_pool{n}d` receives them (an empty `stride` means "the kernel size").
    init(_ kind: Kind, _ n: Int, input: Tensor, kernel: [Int], stride: [Int], padding: [Int], dilation: [Int],
         ceilMode: Bool, countIncludePad: Bool, divisorOverride: Int?, returnIndices: Bool) throws {
        var (kernel, stride, padding, dilation) = (kernel, stride.isEmpty ? kernel : stride, padding, dilation)
        var shape = input.shape
        if n == 1 {
            let name = kind == .max ? "max_pool1d" : "avg_pool1d"
            if kind == .max && !returnIndices {
                try Self.checkMaxPool1d(shape, kernel, stride, padding, dilation, ceilMode)
            }
            guard (2...3).contains(shape.count) else {
                throw TorchError.runtime("Expected 2 to 3 dimensions, but got \(shape.count)-dimensional tensor for argument #1 'self' (while checking arguments for \(name))")
            }
            for (arg, list) in [("kernel_size", kernel), ("stride", stride), ("padding", padding), ("dilation", dilation)]
            where list.count != 1 {
                throw TorchError.runtime("\(name)() argument '\(arg)' should contain one int (got \(list.count))")
            }
            shape.insert(1, at: shape.count - 1)
            (kernel, stride, padding, dilation) = ([1] + kernel, [1] + stride, [0] + padding, [1] + dilation)
        }
        let d = max(n, 2)
        let geometry = try Self.checkSizes(kind, d, shape, kernel, stride, padding, dilation, divisorOverride)
        let output = try zip(geometry.input, geometry.kernel.indices).map { size, i in
            try poolingOutputSize(size, geometry.kernel[i], geometry.padding[i], geometry.stride[i],
                                  geometry.dilation[i], ceilMode: ceilMode)
        }
        try Self.checkShape(kind, shape, geometry, output)
        if input.dtype == .bool {
            let kernelName = n == 1 && kind == .max && !returnIndices ? "max_pool1d_impl"
                : kind == .max ? "max_pool\(d)d" : d == 2 ? "avg_pool2d" : "avg_pool3d_out_frame"
            throw TorchError.notImplemented("\"\(kernelName)\" not implemented for 'Bool'")
        }
        self.kind = kind
        self.input = input
        self.poolShape = shape
        self.unsqueezed = n == 1
        (self.kernelSize, self.stride, self.padding, self.dilation) =
            (geometry.kernel, geometry.stride, geometry.padding, geometry.dilation)
        self.countIncludePad = countIncludePad
        self.divisorOverride = divisorOverride
        self.returnIndices = returnIndices
        self.outputSize = output
    }

    /// `max_pool1d` without indices checks its arguments itself before ATen's 2-d pooling.
    private static func checkMaxPool1d(_ shape: [Int], _ kernel: [Int], _ stride: [Int], _ padding: [Int],
                                       _ dilation: [Int], _ ceilMode: Bool) throws {
        let valid = (shape.count == 2 && shape[0] != 0 && shape[1] != 0) || (shape.count == 3 && shape[1] != 0 && shape[2] != 0)
        guard valid else {
            throw TorchError.runtime("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:\(shapeString(shape))")
        }
        let fail = { (m: String) in TorchError.runtime("max_pool1d() " + m) }
        if kernel.count != 1 { throw fail("kernel_size must be an int, list of ints or tuple of ints of size 1 but got size \(kernel.count)") }
        if stride.count != 1 { throw fail("stride must be None, an int, list of ints, or tuple of ints of size 1 but got size \(stride.count)") }
        if padding.count != 1 { throw fail("padding must be an int, list of ints, or tuple of ints of size 1 but got size \(padding.count)") }
        if dilation.count != 1 { throw fail("dilation must be an int, list of ints or tuple of ints of size 1 but got size \(dilation.count)") }
        let (k, s, p, d) = (kernel[0], stride[0], padding[0], dilation[0])
        if k <= 0 { throw fail("kernel_size must be greater than zero, but got \(k)") }
        if s <= 0 { throw fail("stride must be greater than zero, but got \(s)") }
        if p < 0 { throw fail("padding must be non-negative, but got \(p)") }
        if p > k / 2 { throw fail("padding should be at most half of kernel size, but got padding=\(p) and kernel_size=\(k)") }
        if d <= 0 { throw fail("dilation must be greater than zero, but got \(d)") }
        let width = try poolingOutputSize(shape[shape.count - 1], k, p, s, d, ceilMode: ceilMode)
        if width <= 0 { throw fail("Invalid computed output size: \(width)") }
    }

    typealias Geometry = (input: [Int], kernel: [Int], stride: [Int], padding: [Int], dilation: [Int])

    /// The start of ATen's `max_pool{2,3}d_with_indices` / `avg_pool{2,3}d`: the lengths of the
    /// lists (one value stands for all dimensions), the input rank, `divisor_override`.
    private static func checkSizes(_ kind: Kind, _ n: Int, _ shape: [Int], _ kernel: [Int], _ stride: [Int],
                                   _ padding: [Int], _ dilation: [Int], _ divisor: Int?) throws -> Geometry {
        let name = "\(kind == .max ? "max" : "avg")_pool\(n)d", count = n == 2 ? "two" : "three"
        let either = kind == .average && n == 3 ? "" : "either "
        func expand(_ list: [Int], _ message: String) throws -> [Int] {
            guard list.count == 1 || list.count == n else { throw TorchError.runtime("\(name): \(message)") }
            return list.count == 1 ? Array(repeating: list[0], count: n) : list
        }
        let k = try expand(kernel, "kernel_size must \(either)be a single int, or a tuple of \(count) ints")
        let s = try expand(stride, "stride must \(either)be omitted, a single int, or a tuple of \(count) ints")
        let p = try expand(padding, "padding must \(either)be a single int, or a tuple of \(count) ints")
        let d = try expand(dilation, "dilation must be either a single int, or a tuple of \(count) ints")
        let rankError = TorchError.runtime("non-empty \(n + 1)D or \(n + 2)D (batch mode) tensor expected for input")
        let divisorError = TorchError.runtime("divisor must be not zero")
        if kind == .max || n == 3, shape.count != n + 1 && shape.count != n + 2 { throw rankError }
        if divisor == 0 { throw divisorError }
        // avg_pool2d reads `input.size(-3)` whatever the rank.
        _ = try wrapDim(-n - 1, rank: shape.count)
        return (Array(shape.suffix(n)), k, s, p, d)
    }

    /// ATen's `pool2d_shape_check` / `pool3d_shape_check`.
    private static func checkShape(_ kind: Kind, _ shape: [Int], _ g: Geometry, _ output: [Int]) throws {
        let n = g.kernel.count, threeD = n == 3
        func listed(_ prefix: String, _ values: [Int]) -> String {
            zip(threeD ? ["T", "H", "W"] : ["H", "W"], values).map { "\(prefix)\($0): \($1)" }.joined(separator: " ")
        }
        if g.kernel.contains(where: { $0 <= 0 }) {
            throw TorchError.runtime("kernel size should be greater than zero, but got \(listed("k", g.kernel))")
        }
        if g.stride.contains(where: { $0 <= 0 }) {
            throw TorchError.runtime("stride should be greater than zero, but got \(listed("d", g.stride))")
        }
        if g.dilation.contains(where: { $0 <= 0 }) {
            throw TorchError.runtime("dilation should be greater than zero, but got \(listed("dilation", g.dilation))")
        }
        if threeD {
            let name = kind == .max ? "max_pool3d_with_indices_out_cpu_template()" : "avg_pool3d()"
            try checkNonEmptyDims(shape, from: shape.count == 5 ? 1 : 0, name, "input")
            if kind == .average && zip(g.input, g.kernel).contains(where: { $0 < $1 }) {
                throw TorchError.runtime("input image (\(listed("", g.input))) smaller than kernel size (\(listed("k", g.kernel)))")
            }
        } else {
            let s = shape
            let valid = s.count >= 3 && s[1] != 0 && s[2] != 0 && ((s.count == 3 && s[0] != 0) || (s.count == 4 && s[3] != 0))
            guard valid else {
                throw TorchError.runtime("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:\(shapeString(s))")
            }
        }
        if zip(g.kernel, g.padding).contains(where: { $0 / 2 < $1 }) {
            let (k, p) = (g.kernel, g.padding)
            let got = threeD ? "kT: \(k[0]) kW: \(k[2]) kH: \(k[1]) padT: \(p[0]) padW: \(p[2]) padH: \(p[1])"
                : "padW = \(p[1]), padH = \(p[0]), kW = \(k[1]), kH = \(k[0])"
            throw TorchError.runtime("pad should be smaller than or equal to half of kernel size, but got \(got)")
        }
        if output.contains(where: { $0 < 1 }) {
            let planes = shape[shape.count - n - 1]
            let sizes = { (s: [Int]) in ([planes] + s).map(String.init).joined(separator: "x") }
            throw TorchError.runtime("Given input size: (\(sizes(g.input))). Calculated output size: (\(sizes(output))). Output size is too small")
        }
    }
}

/// ATen's `pooling_output_shape` for one dimension, with its checks (see `PoolingCall`).
func poolingOutputSize(_ size: Int, _ kernel: Int, _ pad: Int, _ stride: Int, _ dilation: Int, ceilMode: Bool) throws -> Int {
    if stride == 0 { throw TorchError.runtime("stride should not be zero") }
    if pad < 0 { throw TorchError.runtime("pad must be non-negative, but got pad: \(pad)") }
    if pad > (dilation * (kernel - 1) + 1) / 2 {
        throw TorchError.runtime("pad should be at most half of effective kernel size, but got pad=\(pad), kernel_size=\(kernel) and dilation=\(dilation)")
    }
    var out = floorDivide(size + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0), stride) + 1
    // The last window must start inside the input or the left padding.
    if ceilMode && (out - 1) * stride >= size + pad { out -= 1 }
    return out
}

/// Division rounding toward negative infinity (ATen's `div_rtn`).
func floorDivide(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return a % b != 0 && (a % b < 0) != (b < 0) ? q - 1 : q
}

/// ATen's `check_non_empty_dims`: dimensions `from...` of `shape` must not be empty.
func checkNonEmptyDims(_ shape: [Int], from first: Int, _ function: String, _ argument: String) throws {
    if let empty = (first..<shape.count).first(where: { shape[$0] == 0 }) {
        throw TorchError.runtime("\(function): Expected \(argument) to have non-zero size for non-batch dimensions, but \(argument) has sizes \(shapeString(shape)) with dimension \(empty) being empty")
    }
}

/// Python's truth value of a keyword argument (`return_indices` is only ever tested with `if`).
func pythonTruth(_ v: Value?) -> Bool {
    switch v {
    case nil, .none?: return false
    case .bool(let b)?: return b
    case .int(let i)?: return i != 0
    case .double(let x)?: return x != 0
    case .string(let s)?: return !s.isEmpty
    case .list(let l)?: return !l.isEmpty
    case .tensor?: return true
    }
}

/// How PyTorch's Python argument parser reads the arguments of one ATen function, with its
/// TypeErrors. Arguments the Python wrapper passes on by position are named with their position
/// in those messages (`argument 'stride' (position 3)`); the others were passed by keyword.
struct PythonBinding {
    let function: String
    /// The name in "missing argument" errors: a Python wrapper's, or nil for the binding itself.
    let python: String?
    let positions: [String: Int]

    init(_ function: String, python: String? = nil, positions: [String] = []) {
        self.function = function
        self.python = python
        self.positions = Dictionary(uniqueKeysWithValues: positions.enumerated().map { ($1, $0 + 1) })
    }

    private func label(_ name: String) -> String {
        positions[name].map { "'\(name)' (position \($0))" } ?? "'\(name)'"
    }

    func typeError(_ name: String, _ expected: String, _ got: Value) -> TorchError {
        .type("\(function)(): argument \(label(name)) must be \(expected), not \(got.pythonTypeName)")
    }

    func missing(_ name: String) -> TorchError {
        if let python { return .type("\(python)() missing 1 required positional argument: '\(name)'") }
        return .type("\(function)() missing 1 required positional arguments: \"\(name)\"")
    }

    func tensor(_ args: Arguments, _ name: String) throws -> Tensor {
        guard let v = args[name] else { throw missing(name) }
        guard case .tensor(let t) = v else { throw typeError(name, "Tensor", v) }
        return t
    }

    /// An `int[count]` argument: an int stands for `count` copies, a list is passed on as it is
    /// (its length is checked by ATen). The list must start with an int; a later element that is
    /// not one fails when the list is unpacked.
    func ints(_ args: Arguments, _ name: String, count: Int, default d: Int? = nil) throws -> [Int] {
        guard let v = args[name] else {
            guard let d else { throw missing(name) }
            return Array(repeating: d, count: count)
        }
        return try ints(v, name, count: count)
    }

    func ints(_ v: Value, _ name: String, count: Int) throws -> [Int] {
        switch v {
        case .int(let i): return Array(repeating: i, count: count)
        case .list(let elements):
            return try elements.enumerated().map { k, e in
                switch e {
                case .int(let i): return i
                case .bool(let b) where k > 0: return b ? 1 : 0
                case _ where k > 0:
                    throw TorchError.type("\(function)(): argument '\(name)' failed to unpack the object at pos \(k + 1) with error \"type must be tuple of ints,but got \(e.pythonTypeName)\"")
                default:
                    guard positions[name] != nil else { throw typeError(name, "tuple of ints", v) }
                    throw TorchError.type("\(function)(): argument \(label(name)) must be tuple of ints, but found element of type \(e.pythonTypeName) at pos 0")
                }
            }
        default: throw typeError(name, "tuple of ints", v)
        }
    }

    /// An optional `int[count]` argument (`None` or left out: nil).
    func optionalInts(_ args: Arguments, _ name: String, count: Int) throws -> [Int]? {
        switch args[name] {
        case nil, .none?: return nil
        case let v?: return try ints(v, name, count: count)
        }
    }

    func bool(_ args: Arguments, _ name: String, default d: Bool) throws -> Bool {
        guard let v = args[name] else { return d }
        guard case .bool(let b) = v else { throw typeError(name, "bool", v) }
        return b
    }

    func optionalInt(_ args: Arguments, _ name: String) throws -> Int? {
        switch args[name] {
        case nil, .none?: return nil
        case .int(let i)?: return i
        case let v?: throw typeError(name, "int", v)
        }
    }
}
