/// Selecting reductions: `max` / `min` (values, or with `dim` the tuple (values, indices)) and
/// `argmax` / `argmin` (indices only). Along the reduced elements x_0, x_1, ... the selected
/// index is the first maximum (minimum), except that the first NaN wins: ATen scans in order
/// and replaces its candidate c by x_i when !(x_i <= c) (for min, !(x_i >= c)), stopping at a NaN.

/// A validated call of `max`, `min`, `argmax` or `argmin`.
public struct SelectionCall {
    public enum Kind: String, Sendable { case max, min, argmax, argmin }

    public let kind: Kind
    public let input: Tensor
    /// The reduced dim (wrapped), or nil to reduce the whole tensor as if flattened.
    public let dim: Int?
    public let keepdim: Bool

    /// Whether the largest element is selected (`max`, `argmax`).
    public var largest: Bool { kind == .max || kind == .argmax }
    /// Whether the result holds values: `max`/`min` (with `dim`, followed by the indices).
    public var returnsValues: Bool { kind == .max || kind == .min }

    /// `max(input)` records `MaxBackward1` (the gradient is shared among ties); `max(input, dim)`
    /// records `MaxBackward0` (the gradient goes to the selected index).
    public var backwardName: String {
        let op = kind == .max ? "MaxBackward" : "MinBackward"
        return op + (dim == nil ? "1" : "0")
    }

    /// The result's shape: the reduced dim removed (or kept as 1); without a dim, a 0-dim
    /// result, or all ones with `keepdim` (`argmax`).
    public var outputShape: [Int] {
        guard let dim else { return keepdim ? input.shape.map { _ in 1 } : [] }
        return input.shape.indices.compactMap { $0 == dim ? (keepdim ? 1 : nil) : input.shape[$0] }
    }

    /// Checks in PyTorch's order: the overload (`max(input, keepdim=...)` without `dim`
    /// matches none), bool input (`argmax`/`argmin`), the dim's range, then a non-empty
    /// reduction.
    public init(_ kind: Kind, _ args: Arguments) throws {
        self.kind = kind
        input = try args.tensor("input")
        let name = kind.rawValue
        if kind == .max || kind == .min {
            let dimGiven = args["dim"] != nil
            switch args["dim"] {
            case nil, .int?: break
            default: throw SelectionCall.noOverload(name, args)
            }
            if !dimGiven && args["keepdim"] != nil { throw SelectionCall.noOverload(name, args) }
            keepdim = try args.bool("keepdim", default: false)
        } else {
            keepdim = try args.bool("keepdim", default: false)
            if input.dtype == .bool { throw TorchError.notImplemented("\(name)(): does not support bool input") }
        }
        let rank = input.dim
        dim = try args.optionalInt("dim").map { try wrapDim($0, rank: rank) }
        if let dim, input.dim > 0, input.shape[dim] == 0 {
            throw TorchError.index("\(name)(): Expected reduction dim \(dim) to have non-zero size.")
        }
        if dim == nil && input.numel == 0 {
            let message = "\(name)(): Expected reduction dim to be specified for input.numel() == 0."
            throw kind == .max || kind == .min ? TorchError.runtime(message + " Specify the reduction dim with the 'dim' argument.") : TorchError.index(message)
        }
    }

    /// The Python binding's TypeError for arguments matching none of `max`'s overloads. It
    /// lists the keywords in an order of its own (seen: the others as passed, then `input`);
    /// `Arguments` keeps no order, so `dim` comes before `keepdim` here.
    private static func noOverload(_ name: String, _ args: Arguments) -> TorchError {
        let given = ["dim", "keepdim", "input"].compactMap { key in args[key].map { "\(key)=\($0.pythonTypeName), " } }
        return .type("\(name)() received an invalid combination of arguments - got (\(given.joined())), but expected one of:\n"
            + " * (Tensor input, *, Tensor out = None)\n"
            + " * (Tensor input, Tensor other, *, Tensor out = None)\n"
            + " * (Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None)\n")
    }
}
