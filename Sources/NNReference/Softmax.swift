import NNCore
import RealModule

/// `softmax`, `log_softmax`, `softmin` along one dim, numerically stable: with m the slice's
/// maximum, softmax_i = e^(x_i − m) / Σ_j e^(x_j − m) and log_softmax_i = (x_i − m) − log Σ_j e^(x_j − m),
/// so no exponential overflows (logits of ±1e4 are exact).
extension Reference {
    static let softmaxOps: [String: OpFunction] = [
        "softmax": { try softmax(.softmax, $0) },
        "log_softmax": { try softmax(.logSoftmax, $0) },
        "softmin": { try softmax(.softmin, $0) },
    ]

    /// As `torch.nn.functional`: softmin negates first (`NegBackward0`), `dtype` casts the
    /// input first (`ToCopyBackward0`), then the kernel records `SoftmaxBackward0` or
    /// `LogSoftmaxBackward0` and saves its output.
    static func softmax(_ f: SoftmaxFunction, _ args: Arguments) throws -> Value {
        let call = try SoftmaxCall(f, args)
        var x = call.input
        if f == .softmin { x = try negate(x) }
        if let d = call.dtype, d != x.dtype { x = cast(x, to: d) }
        let log = f == .logSoftmax
        let data: TensorData
        switch x.data {
        case .float32(let a): data = .float32(softmaxForward(a, call.slices, log: log))
        case .float64(let a): data = .float64(softmaxForward(a, call.slices, log: log))
        default: preconditionFailure("rejected by SoftmaxCall")
        }
        let y = Tensor(shape: x.shape, data: data)
        let saved = SavedTensor(output: y, of: f.backwardName)
        y.recording(f.backwardName, inputs: [x], saving: [saved]) { g in
            [try softmaxPullback(g, output: saved.unpack(), call.slices, log: log)]
        }
        return .tensor(y)
    }

    /// `x.to(dtype)`, recorded as PyTorch's `ToCopyBackward0` (the gradient is cast back).
    static func cast(_ x: Tensor, to dtype: DType) -> Tensor {
        let y = Tensor(shape: x.shape, data: x.data.converted(to: dtype))
        return y.recording("ToCopyBackward0", inputs: [x]) { g in
            [Tensor(shape: g.shape, data: g.data.converted(to: x.dtype))]
        }
    }

    private typealias Slices = (outer: Int, size: Int, inner: Int)

    /// The flat indices of slice (o, i): `(o · size + j) · inner + i` for j in 0..<size.
    private static func forEachSlice(_ s: Slices, _ body: ([Int]) -> Void) {
        for o in 0..<s.outer {
            for i in 0..<s.inner {
                body((0..<s.size).map { j in (o * s.size + j) * s.inner + i })
            }
        }
    }

    private static func softmaxForward<T: FloatScalar>(_ x: [T], _ s: Slices, log: Bool) -> [T] {
        var y = x
        forEachSlice(s) { slice in
            var m = -T.infinity
            for k in slice where x[k] > m { m = x[k] }
            var sum: T = 0
            for k in slice { sum += T.exp(x[k] - m) }
            for k in slice { y[k] = log ? (x[k] - m) - T.log(sum) : T.exp(x[k] - m) / sum }
        }
        return y
    }

    /// softmax: dx_i = y_i (g_i − Σ_j g_j y_j); log_softmax: dx_i = g_i − e^(y_i) Σ_j g_j.
    private static func softmaxPullback(_ g: Tensor, output y: Tensor, _ s: Slices, log: Bool) throws -> Tensor {
        switch (g.data, y.data) {
        case (.float32(let gs), .float32(let ys)): return Tensor(shape: g.shape, softmaxGradient(gs, ys, s, log: log))
        case (.float64(let gs), .float64(let ys)): return Tensor(shape: g.shape, softmaxGradient(gs, ys, s, log: log))
        default: preconditionFailure("the gradient has the output's dtype")
        }
    }

    private static func softmaxGradient<T: FloatScalar>(_ g: [T], _ y: [T], _ s: Slices, log: Bool) -> [T] {
        var dx = g
        forEachSlice(s) { slice in
            var total: T = 0
            for k in slice { total += log ? g[k] : g[k] * y[k] }
            for k in slice { dx[k] = log ? g[k] - T.exp(y[k]) * total : y[k] * (g[k] - total) }
        }
        return dx
    }
}
