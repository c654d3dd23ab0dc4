/// `torch.nn.functional.affine_grid` and `grid_sample`: spatial transformers.
extension Signatures {
    static let sampling: [OpSignature] = [
        OpSignature("affine_grid", ["theta", "size", "align_corners"]),
        OpSignature("grid_sample", ["input", "grid", "mode", "padding_mode", "align_corners"]),
    ]
}

/// The UserWarning both functions raise when `align_corners` is left at `None` (it means False).
private let alignCornersDefaultWarning =
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
    + "Please specify align_corners=True if the old behavior is desired. "
    + "See the documentation of grid_sample for details."

/// Python's warning when `align_corners` is `None` (or left out).
private func warnIfAlignCornersDefault(_ args: Arguments) {
    if case .none = args["align_corners"] ?? .none { Warnings.warn(alignCornersDefaultWarning) }
}

/// `align_corners` as the binding reads it: `None` means False; anything but a bool is a TypeError.
private func parseAlignCorners(_ args: Arguments, _ binding: PythonBinding) throws -> Bool {
    switch args["align_corners"] {
    case nil, .none?: return false
    case .bool(let b)?: return b
    case let v?: throw binding.typeError("align_corners", "bool", v)
    }
}

/// Python's `str(value)`, as f-strings quote an argument in messages.
private func pythonString(_ v: Value?) -> String {
    if case .string(let s)? = v { return s }
    return v?.pythonDescription ?? "None"
}

/// A validated call of `F.affine_grid(theta, size, align_corners)`, shared by every backend.
///
/// For `size = [N, C, H, W]` and θ of shape N×2×3 (or `[N, C, D, H, W]` and N×3×4), the grid is
///
///     grid[n, h, w] = θ[n] · (x_w, y_h, 1)ᵀ        (3-D: θ[n] · (x_w, y_h, z_d, 1)ᵀ)
///
/// with the normalized pixel positions `x_w = linspace(−1, 1, W)[w]`, scaled by `(W − 1)/W`
/// (pixel centres rather than corners) when `align_corners=False`, and 0 when `W = 1`.
/// `init` raises `F.affine_grid`'s Python checks and warnings in order, then the binding's
/// TypeErrors, then the batch check of ATen's `bmm`.
public struct AffineGridCall {
    public let theta: Tensor
    /// `[N, C, H, W]` or `[N, C, D, H, W]`.
    public let size: [Int]
    public let alignCorners: Bool

    /// The spatial sizes, outermost first: `[H, W]` or `[D, H, W]`.
    public var spatialSize: [Int] { Array(size.dropFirst(2)) }
    /// `[N, H, W, 2]` or `[N, D, H, W, 3]`.
    public var outputShape: [Int] { [size[0]] + spatialSize + [spatialSize.count] }

    public init(_ args: Arguments) throws {
        let binding = PythonBinding("affine_grid_generator", python: "affine_grid", positions: ["theta", "size", "align_corners"])
        let theta = try binding.tensor(args, "theta")
        guard let sizeValue = args["size"] else { throw binding.missing("size") }
        warnIfAlignCornersDefault(args)
        guard theta.dtype.isFloatingPoint else {
            throw TorchError.value("Expected theta to have floating point type, but got torch.\(theta.dtype.rawValue)")
        }
        guard case .list(let entries) = sizeValue else {
            throw TorchError.type("object of type '\(sizeValue.pythonTypeName)' has no len()")
        }
        let described = sizeValue.pythonDescription
        let got = "Got \(LossCheck.torchSize(theta.shape))."
        switch entries.count {
        case 4 where theta.shape.count != 3 || theta.shape[1] != 2 || theta.shape[2] != 3:
            throw TorchError.value("Expected a batch of 2D affine matrices of shape Nx2x3 for size \(described). \(got)")
        case 5 where theta.shape.count != 3 || theta.shape[1] != 3 || theta.shape[2] != 4:
            throw TorchError.value("Expected a batch of 3D affine matrices of shape Nx3x4 for size \(described). \(got)")
        case 4, 5:
            break
        default:
            throw TorchError.notImplemented("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size \(described).")
        }
        // Python compares the entries before the binding unpacks them (a float passes here).
        let numbers = entries.map { e -> Double in
            switch e {
            case .int(let i): return Double(i)
            case .bool(let b): return b ? 1 : 0
            case .double(let x): return x
            default: return .nan
            }
        }
        if pythonTruth(args["align_corners"]) && numbers.dropFirst(2).min() == 1 {
            Warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
                          + "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.")
        } else if numbers.contains(where: { $0 <= 0 }) {
            throw TorchError.value("Expected non-zero, positive output size. Got \(described)")
        }
        let size = try binding.ints(sizeValue, "size", count: entries.count)
        let alignCorners = try parseAlignCorners(args, binding)
        // ATen multiplies the base grid [N, P, k + 1] by θᵀ [N, k + 1, k] with `bmm`.
        let columns = size.count - 1
        guard theta.shape[0] == size[0] else {
            throw TorchError.runtime("Expected size for first two dimensions of batch2 tensor to be: [\(size[0]), \(columns)] but got: [\(theta.shape[0]), \(columns)].")
        }
        // The base grid [N, (D,) H, W, k + 1] is the first allocation.
        try checkAllocation([size[0]] + size.dropFirst(2) + [columns], theta.dtype)
        self.theta = theta
        self.size = size
        self.alignCorners = alignCorners
    }
}

/// A validated call of `F.grid_sample(input, grid, mode, padding_mode, align_corners)`.
///
/// The input is `[N, C, H, W]` with a grid `[N, H_out, W_out, 2]`, or `[N, C, D, H, W]` with a
/// grid `[N, D_out, H_out, W_out, 3]`; the output is `[N, C, H_out, W_out]` (or with `D_out`).
/// Each grid entry holds normalized coordinates `(x, y[, z])`, x along W first, in [−1, 1] for
/// points inside the input. `bilinear` on a 5-D input is trilinear, and `bicubic` tricubic.
/// `init` raises `F.grid_sample`'s Python errors and warning, the binding's TypeError, then ATen's
/// shape checks (`check_grid_sampler_common`, then the 2-D or 3-D rank check) and last the dtype
/// errors of the CPU kernel.
public struct GridSampleCall {
    public enum Mode: String, Sendable { case bilinear, nearest, bicubic }
    public enum Padding: String, Sendable { case zeros, border, reflection }

    public let input: Tensor
    public let grid: Tensor
    public let mode: Mode
    public let padding: Padding
    public let alignCorners: Bool

    /// The number of spatial axes, 2 or 3.
    public var spatialDims: Int { input.dim - 2 }
    /// The input's spatial sizes, outermost first: `[H, W]` or `[D, H, W]`.
    public var inputSize: [Int] { Array(input.shape.dropFirst(2)) }
    /// The output's spatial sizes, from the grid.
    public var outputSize: [Int] { Array(grid.shape.dropFirst().dropLast()) }
    public var outputShape: [Int] { Array(input.shape.prefix(2)) + outputSize }
    public var gradFnName: String { "GridSampler\(spatialDims)DBackward0" }

    public init(_ args: Arguments) throws {
        let binding = PythonBinding("grid_sampler", python: "grid_sample",
                                    positions: ["input", "grid", "mode", "padding_mode", "align_corners"])
        let input = try binding.tensor(args, "input")
        let grid = try binding.tensor(args, "grid")
        let modeName = args["mode"].map(pythonString) ?? "bilinear"
        guard let mode = Mode(rawValue: modeName) else {
            throw TorchError.value("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '\(modeName)'")
        }
        let paddingName = args["padding_mode"].map(pythonString) ?? "zeros"
        guard let padding = Padding(rawValue: paddingName) else {
            throw TorchError.value("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: '\(paddingName)'")
        }
        warnIfAlignCornersDefault(args)
        let alignCorners = try parseAlignCorners(args, binding)
        try Self.checkShapes(input, grid)
        // The 2-D kernel returns before its dtype dispatch when the output is empty.
        let outputCount = input.shape[0] * input.shape[1] * grid.shape.dropFirst().dropLast().reduce(1, *)
        if input.dim == 5 || outputCount > 0 {
            guard input.dtype.isFloatingPoint else {
                let kernel = input.dim == 4 ? "grid_sampler_2d_cpu_kernel_impl" : "grid_sampler3d_cpu"
                throw TorchError.notImplemented("\"\(kernel)\" not implemented for '\(input.dtype.scalarTypeName)'")
            }
            guard grid.dtype == input.dtype else {
                throw TorchError.runtime("expected scalar type \(input.dtype.scalarTypeName) but found \(grid.dtype.scalarTypeName)")
            }
        }
        self.input = input
        self.grid = grid
        self.mode = mode
        self.padding = padding
        self.alignCorners = alignCorners
    }

    /// ATen's `check_grid_sampler_common`, then `check_grid_sampler_2d` for a 4-D input or
    /// `check_grid_sampler_3d` for any other.
    private static func checkShapes(_ input: Tensor, _ grid: Tensor) throws {
        func size(_ t: Tensor, _ d: Int) throws -> Int {
            guard t.dim > 0 else { throw TorchError.index("Dimension specified as \(d) but tensor has no dimensions") }
            return t.size(d)
        }
        let sizes = "input with sizes \(shapeString(input.shape)) and grid with sizes \(shapeString(grid.shape))"
        guard try size(input, 0) == size(grid, 0) else {
            throw TorchError.runtime("grid_sampler(): expected grid and input to have same batch size, but got \(sizes)")
        }
        guard grid.size(-1) == input.dim - 2 else {
            throw TorchError.runtime("grid_sampler(): expected grid to have size \(input.dim - 2) in last dimension, but got grid with sizes \(shapeString(grid.shape))")
        }
        if let empty = (2..<max(input.dim, 2)).first(where: { input.shape[$0] == 0 }) {
            throw TorchError.runtime("grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes \(shapeString(input.shape)) with dimension \(empty) being empty")
        }
        let rank = input.dim == 4 ? 4 : 5
        guard input.dim == rank && grid.dim == rank else {
            throw TorchError.runtime("grid_sampler(): expected \(rank)D input and grid with same number of dimensions, but got \(sizes)")
        }
    }
}
