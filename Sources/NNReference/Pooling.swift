import NNCore

/// Pooling: `max_pool`, `avg_pool`, `lp_pool` (this file), `adaptive_avg_pool`,
/// `adaptive_max_pool`, `max_unpool` (`PoolingAdaptive.swift`), in 1, 2 and 3 dimensions.
///
/// Arguments, errors and output sizes come from the calls in NNCore (`PoolingCall`, ...), which
/// document each op's maths. Every pooling op here is one of two reductions over windows, run on
/// each plane (a `[spatial...]` slice of the input) independently:
///
///     max:      y[o] = x[i*(o)],  i*(o) = the first maximum of window(o) in scan order (or its last NaN)
///               ∂L/∂x[i] = Σ_{o : i*(o) = i} ∂L/∂y[o]
///     average:  y[o] = (Σ_{i ∈ window(o)} x[i]) / c_1 / c_2 ...
///               ∂L/∂x[i] = Σ_{o : i ∈ window(o)} ∂L/∂y[o] / c_1 / c_2 ...
///
/// where `avg_pool` divides once, by its divisor, and adaptive pooling by each window extent in
/// turn. `PoolingWindows` lists the windows once for all ops. As in ATen, each sum runs in the
/// window's scan order in the element type (`Float` for float32), and the 1-d ops are the 2-d
/// ones on `input.unsqueeze(-2)`, with PyTorch's `UnsqueezeBackward0` / `SqueezeBackward1` nodes.
extension Reference {
    static let poolingOps: [String: OpFunction] = (1...3).reduce(into: [:]) { ops, n in
        let maxPool: OpFunction = { try pool(PoolingCall($0, kind: .max, spatialDims: n)) }
        let adaptiveMax: OpFunction = { try adaptivePool(AdaptivePoolingCall($0, kind: .max, spatialDims: n)) }
        ops["max_pool\(n)d"] = maxPool
        ops["max_pool\(n)d_with_indices"] = maxPool
        ops["avg_pool\(n)d"] = { try pool(PoolingCall($0, kind: .average, spatialDims: n)) }
        ops["lp_pool\(n)d"] = { try lpPool(LPPoolCall($0, spatialDims: n)) }
        ops["adaptive_avg_pool\(n)d"] = { try adaptivePool(AdaptivePoolingCall($0, kind: .average, spatialDims: n)) }
        ops["adaptive_max_pool\(n)d"] = adaptiveMax
        ops["adaptive_max_pool\(n)d_with_indices"] = adaptiveMax
        ops["max_unpool\(n)d"] = { try maxUnpool(MaxUnpoolCall($0, spatialDims: n)) }
    }
}

/// The windows of a pooling op over one plane of `inputSize` (row-major): for each output
/// position, row-major over the output size, the plane offsets it reads in scan order (the last
/// dimension fastest). `axes[d][o]` lists the input indices that output index `o` reads along
/// dimension `d`; a window is the Cartesian product of its axes' lists.
struct PoolingWindows {
    let planes: Int
    let inputCount: Int
    let offsets: [[Int]]
    var outputCount: Int { offsets.count }

    init(planes: Int, inputSize: [Int], axes: [[[Int]]]) {
        let strides = contiguousStrides(inputSize)
        var windows: [[Int]] = [[0]]
        for (d, axis) in axes.enumerated() {
            windows = windows.flatMap { window in
                axis.map { taps in window.flatMap { base in taps.map { base + $0 * strides[d] } } }
            }
        }
        self.planes = planes
        self.inputCount = inputSize.reduce(1, *)
        self.offsets = windows
    }

    /// Sliding windows: output `o` reads `o·stride − padding + j·dilation` for `j < kernel`,
    /// where that lies inside the input.
    init(_ call: PoolingCall) {
        let axes = call.inputSize.indices.map { d in
            (0..<call.outputSize[d]).map { o in
                (0..<call.kernelSize[d]).map { o * call.stride[d] - call.padding[d] + $0 * call.dilation[d] }
                    .filter { (0..<call.inputSize[d]).contains($0) }
            }
        }
        self.init(planes: call.planes, inputSize: call.inputSize, axes: axes)
    }
}

/// Max pooling of every plane of `v` over `windows`: each window's first maximum in scan order,
/// or its last NaN (ATen's `val > max || isnan(val)`), and that element's offset in the plane.
func windowMaxima<T: FloatScalar>(_ v: [T], _ windows: PoolingWindows) -> (values: [T], indices: [Int]) {
    var values: [T] = [], indices: [Int] = []
    for p in 0..<windows.planes {
        let base = p * windows.inputCount
        for window in windows.offsets {
            var best = -T.infinity, at = window.first ?? 0
            for i in window where v[base + i] > best || v[base + i].isNaN {
                (best, at) = (v[base + i], i)
            }
            values.append(best)
            indices.append(at)
        }
    }
    return (values, indices)
}

/// Average pooling of every plane of `v`: window `o`'s sum divided by each of `divisors[o]` in turn.
func windowAverages<T: FloatScalar>(_ v: [T], _ windows: PoolingWindows, divisors: [[Int]]) -> [T] {
    var y: [T] = []
    for p in 0..<windows.planes {
        let base = p * windows.inputCount
        for (window, divisor) in zip(windows.offsets, divisors) {
            var sum: T = 0
            for i in window { sum += v[base + i] }
            y.append(divisor.reduce(sum) { $0 / T($1) })
        }
    }
    return y
}

/// The vector-Jacobian product of `windowAverages`: each ∂L/∂y[o] / c_1 / c_2 ... is added to
/// every element of window `o`, in output order.
func windowAveragesBackward<T: FloatScalar>(_ g: [T], _ windows: PoolingWindows, divisors: [[Int]]) -> [T] {
    var gx = [T](repeating: 0, count: windows.planes * windows.inputCount)
    for p in 0..<windows.planes {
        let base = p * windows.inputCount
        for (k, (window, divisor)) in zip(windows.offsets, divisors).enumerated() {
            let share = divisor.reduce(g[p * windows.outputCount + k]) { $0 / T($1) }
            for i in window { gx[base + i] += share }
        }
    }
    return gx
}

/// Max pooling of `x` recorded as node `name`; returns the output and the int64 indices.
func maxPool(_ x: Tensor, _ windows: PoolingWindows, outputShape: [Int], name: String) throws -> (Tensor, Tensor) {
    try maxPool(x, windows, outputShape, name, as: floatType(of: x))
}

private func maxPool<T: FloatScalar>(_ x: Tensor, _ windows: PoolingWindows, _ outputShape: [Int], _ name: String,
                                     as _: T.Type) -> (Tensor, Tensor) {
    let (y, at) = windowMaxima(x.values(T.self), windows)
    let indices = Tensor(shape: outputShape, int64: at.map(Int64.init))
    // PyTorch saves the input (for its version counter) and the indices.
    let savedInput = SavedTensor(x), savedIndices = SavedTensor(output: indices, of: name)
    let inputShape = x.shape
    let output = Tensor(shape: outputShape, y).recording(name, inputs: [x], saving: [savedInput, savedIndices]) { g in
        _ = try savedInput.unpack()
        let at = try savedIndices.unpack().int64s, gy: [T] = g.values()
        var gx = [T](repeating: 0, count: windows.planes * windows.inputCount)
        for k in gy.indices { gx[k / windows.outputCount * windows.inputCount + Int(at[k])] += gy[k] }
        return [Tensor(shape: inputShape, gx)]
    }
    return (output, indices)
}

/// Average pooling of `x` recorded as node `name`.
func averagePool(_ x: Tensor, _ windows: PoolingWindows, divisors: [[Int]], outputShape: [Int], name: String) throws -> Tensor {
    try averagePool(x, windows, divisors, outputShape, name, as: floatType(of: x))
}

private func averagePool<T: FloatScalar>(_ x: Tensor, _ windows: PoolingWindows, _ divisors: [[Int]],
                                         _ outputShape: [Int], _ name: String, as _: T.Type) -> Tensor {
    let saved = SavedTensor(x), inputShape = x.shape
    return Tensor(shape: outputShape, windowAverages(x.values(T.self), windows, divisors: divisors))
        .recording(name, inputs: [x], saving: [saved]) { g in
            _ = try saved.unpack()
            return [Tensor(shape: inputShape, windowAveragesBackward(g.values(T.self), windows, divisors: divisors))]
        }
}

/// `max_pool{n}d` and `avg_pool{n}d`.
private func pool(_ call: PoolingCall) throws -> Value {
    let x = call.unsqueezed ? try unsqueezed(call.input, at: call.input.dim - 1) : call.input
    let windows = PoolingWindows(call)
    var output: Tensor, indices: Tensor?
    switch call.kind {
    case .max:
        (output, indices) = try maxPool(x, windows, outputShape: call.poolOutputShape, name: call.gradFnName)
    case .average:
        output = try averagePool(x, windows, divisors: averageDivisors(call), outputShape: call.poolOutputShape,
                                 name: call.gradFnName)
    }
    if call.unsqueezed {
        output = try squeezed(output, at: output.dim - 2)
        indices = indices.map { Tensor(shape: call.outputShape, data: $0.data) }
    }
    guard call.returnIndices, let indices else { return .tensor(output) }
    return .list([.tensor(output), .tensor(indices)])
}

/// Each window's divisor: `divisor_override`; else, per dimension, the window clipped to the
/// padded input `[start, min(start + k, in + p))` when `count_include_pad`, or its input
/// elements otherwise, multiplied together (ATen divides once, by the product).
private func averageDivisors(_ call: PoolingCall) -> [[Int]] {
    if let d = call.divisorOverride { return Array(repeating: [d], count: call.outputSize.reduce(1, *)) }
    let perAxis = call.inputSize.indices.map { d in
        (0..<call.outputSize[d]).map { o in
            let start = o * call.stride[d] - call.padding[d], end = start + call.kernelSize[d]
            return call.countIncludePad ? min(end, call.inputSize[d] + call.padding[d]) - start
                : min(end, call.inputSize[d]) - max(start, 0)
        }
    }
    return perOutput(perAxis).map { [$0.reduce(1, *)] }
}

/// For each output position (row-major), its values `[perAxis[0][o_0], perAxis[1][o_1], ...]`.
func perOutput(_ perAxis: [[Int]]) -> [[Int]] {
    perAxis.reduce([[]]) { prefixes, axis in prefixes.flatMap { prefix in axis.map { prefix + [$0] } } }
}

/// `lp_pool{n}d`, computed step by step in `T` as PyTorch's Python code does (see `LPPoolCall`),
/// and recorded as one node named after PyTorch's last one, whose pullback is the chain rule
/// through those steps.
private func lpPool(_ call: LPPoolCall) throws -> Value {
    try .tensor(lpPool(call, as: floatType(of: call.pool.input)))
}

private func lpPool<T: FloatScalar>(_ call: LPPoolCall, as _: T.Type) throws -> Tensor {
    let pool = call.pool, p = call.normType, inputShape = pool.input.shape
    let windows = PoolingWindows(pool)
    let x: [T] = pool.input.values(), saved = SavedTensor(pool.input)
    if p.isInfinite {
        // p = ∞: max_pool(|x|); p = −∞: −max_pool(−|x|). Either way ∂y/∂x[i*] = sign(x[i*]).
        let s: T = p > 0 ? 1 : -1
        let (m, at) = windowMaxima(x.map { s * abs($0) }, windows)
        let name = p < 0 ? "NegBackward0" : pool.unsqueezed ? "SqueezeBackward1" : pool.gradFnName
        let y = Tensor(shape: pool.outputShape, m.map { s * $0 })
        return y.recording(name, inputs: [pool.input], saving: [saved]) { g in
            let x: [T] = try saved.unpack().values(), gy: [T] = g.values()
            var gx = [T](repeating: 0, count: x.count)
            for k in gy.indices {
                let i = k / windows.outputCount * windows.inputCount + at[k]
                gx[i] += gy[k] * torchSign(x[i])
            }
            return [Tensor(shape: inputShape, gx)]
        }
    }
    // out = avg_pool(x^p); m = sign(out)·relu(|out|)·K; y = m^(1/p).
    let divisors = averageDivisors(pool), k = T(call.kernelVolume)
    let out = windowAverages(x.map { atenPow($0, p) }, windows, divisors: divisors)
    let m = out.map { torchSign($0) * max(abs($0), 0) * k }
    let y = Tensor(shape: pool.outputShape, m.map { atenPow($0, 1 / p) })
    return y.recording("PowBackward0", inputs: [pool.input], saving: [saved]) { g in
        let x: [T] = try saved.unpack().values(), gy: [T] = g.values()
        // PowBackward0, MulBackward0 (·K), MulBackward0 (· sign), ReluBackward0 (zero where
        // |out| = 0), AbsBackward0; SignBackward0 contributes nothing.
        let gOut = gy.indices.map { o -> T in
            let gm = gy[o] * (T(1 / p) * atenPow(m[o], 1 / p - 1))
            let gRelu = abs(out[o]) <= 0 ? 0 : gm * k * torchSign(out[o])
            return gRelu * torchSign(out[o])
        }
        let gPower = windowAveragesBackward(gOut, windows, divisors: divisors)
        return [Tensor(shape: inputShape, zip(gPower, x).map { $0 * (T(p) * atenPow($1, p - 1)) })]
    }
}

/// `torch.sign`: −1, 0 or 1, and 0 for NaN.
func torchSign<T: FloatScalar>(_ v: T) -> T { v > 0 ? 1 : v < 0 ? -1 : 0 }

/// `tensor.pow(e)` for one element as ATen computes it: `x·x`, `x·x·x`, `sqrt`, `1/sqrt`,
/// `1/x`, `1/(x·x)` for e = 2, 3, ½, −½, −1, −2; C's `pow` otherwise (a negative base with an
/// integer exponent included).
func atenPow<T: FloatScalar>(_ x: T, _ e: Double) -> T {
    switch e {
    case 2: return x * x
    case 3: return x * x * x
    case 0.5: return x.squareRoot()
    case -0.5: return 1 / x.squareRoot()
    case -1: return 1 / x
    case -2: return 1 / (x * x)
    default:
        if let n = Int(exactly: e) { return T.pow(x, n) }
        return T.pow(x, T(e))
    }
}

/// The element type a kernel computes `t` in, or `Unsupported` (PyTorch also pools int64 tensors).
func floatType(of t: Tensor) throws -> any FloatScalar.Type {
    switch t.dtype {
    case .float32: return Float.self
    case .float64: return Double.self
    default: throw Unsupported("the reference pooling computes float32 and float64 tensors, not \(t.dtype.rawValue)")
    }
}

/// `t.unsqueeze(d)`: a view sharing `t`'s storage (so a saved view sees in-place writes to `t`),
/// recorded as `UnsqueezeBackward0`.
func unsqueezed(_ t: Tensor, at d: Int) throws -> Tensor {
    var shape = t.shape
    shape.insert(1, at: d)
    let original = t.shape
    return try GradMode.noGrad { try t.view(shape) }.recording("UnsqueezeBackward0", inputs: [t]) { g in
        [try g.reshape(original)]
    }
}

/// `t.squeeze(d)` of a size-1 dimension, recorded as `SqueezeBackward1`.
func squeezed(_ t: Tensor, at d: Int) throws -> Tensor {
    var shape = t.shape
    shape.remove(at: d)
    let original = t.shape
    return try GradMode.noGrad { try t.view(shape) }.recording("SqueezeBackward1", inputs: [t]) { g in
        [try g.reshape(original)]
    }
}
