import NNCore

/// How average pooling divides a window's sum: once by `divisor_override` or the clipped
/// window size (`avg_pool`), or by each window extent in turn (adaptive pooling).
enum PoolDivisors {
    case sliding(PoolingCall)
    case extents
}

/// The windows along one axis: output `o` reads `first[o] + j·step` for `j < count[o]`, all
/// inside the input.
struct PoolAxis {
    let inSize: Int
    let outSize: Int
    let step: Int
    let first: [Int]
    let count: [Int]
    /// Sliding windows: the stride, and the outputs whose windows lie wholly inside the input
    /// (`first[o] = first[lo] + (o − lo)·stride`, `count[o] = kernel`), for vector loops.
    let stride: Int
    let interior: Range<Int>

    static let trivial = PoolAxis(inSize: 1, outSize: 1, step: 1, first: [0], count: [1])

    /// Sliding windows: taps `o·stride − padding + j·dilation`, j < kernel, inside `[0, in)`.
    init(inSize: Int, outSize: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) {
        var first = [Int](), count = [Int]()
        for o in 0..<outSize {
            let start = o * stride - padding
            let low = start >= 0 ? 0 : (-start + dilation - 1) / dilation
            let high = inSize - 1 - start < 0 ? -1 : min(kernel - 1, (inSize - 1 - start) / dilation)
            first.append(start + low * dilation)
            count.append(max(0, high - low + 1))
        }
        let inside = (0..<outSize).filter { $0 * stride - padding >= 0 && count[$0] == kernel }
        let interior = inside.isEmpty ? 0..<0 : inside[0] ..< inside[0] + inside.count
        self.init(inSize: inSize, outSize: outSize, step: dilation, first: first, count: count,
                  stride: stride, interior: inside.last == interior.upperBound - 1 ? interior : 0..<0)
    }

    /// Adaptive windows `[⌊o·in/out⌋, ⌈(o+1)·in/out⌉)` (ATen's `start_index`, `end_index`).
    init(adaptiveIn inSize: Int, out outSize: Int) {
        let first = (0..<outSize).map { $0 * inSize / outSize }
        let end = (0..<outSize).map { (($0 + 1) * inSize + outSize - 1) / outSize }
        self.init(inSize: inSize, outSize: outSize, step: 1, first: first, count: zip(first, end).map { $1 - $0 })
    }

    init(inSize: Int, outSize: Int, step: Int, first: [Int], count: [Int], stride: Int = 0, interior: Range<Int> = 0..<0) {
        (self.inSize, self.outSize, self.step, self.first, self.count) = (inSize, outSize, step, first, count)
        (self.stride, self.interior) = (stride, interior)
    }
}

/// The windows of a pooling op over planes `[D, H, W]` (2-d pooling has a trivial D axis).
struct PoolGeometry {
    let planes: Int
    let d: PoolAxis, h: PoolAxis, w: PoolAxis

    var inCount: Int { d.inSize * h.inSize * w.inSize }
    var outCount: Int { d.outSize * h.outSize * w.outSize }
    /// The largest number of taps of a window (a cost estimate for splitting work).
    var windowVolume: Int { (d.count.max() ?? 1) * (h.count.max() ?? 1) * (w.count.max() ?? 1) }

    init(planes: Int, axes: [PoolAxis]) {
        let a = Array(repeating: PoolAxis.trivial, count: 3 - axes.count) + axes
        (self.planes, d, h, w) = (planes, a[0], a[1], a[2])
    }

    init(_ call: PoolingCall) {
        let axes = call.inputSize.indices.map { i in
            PoolAxis(inSize: call.inputSize[i], outSize: call.outputSize[i], kernel: call.kernelSize[i],
                     stride: call.stride[i], padding: call.padding[i], dilation: call.dilation[i])
        }
        self.init(planes: call.planes, axes: axes)
    }

    init(adaptive planes: Int, inputSize: [Int], outputSize: [Int]) {
        self.init(planes: planes, axes: zip(inputSize, outputSize).map { PoolAxis(adaptiveIn: $0, out: $1) })
    }

    /// Calls `body(k, offsets...)` for every output k of a plane with its window's loops set up:
    /// `body(k, base, cd, sd, ch, sh, cw, sw)` reads `base + a·sd + b·sh + c·sw`.
    @inline(__always)
    func forEachWindow(_ body: (_ k: Int, _ base: Int, _ cd: Int, _ sd: Int, _ ch: Int, _ sh: Int, _ cw: Int, _ sw: Int) -> Void) {
        let rowW = w.inSize, plane = h.inSize * w.inSize
        let (sd, sh, sw) = (d.step * plane, h.step * rowW, w.step)
        var k = 0
        for od in 0..<d.outSize {
            let bd = d.first[od] * plane, cd = d.count[od]
            for oh in 0..<h.outSize {
                let bh = bd + h.first[oh] * rowW, ch = h.count[oh]
                for ow in 0..<w.outSize {
                    body(k, bh + w.first[ow], cd, sd, ch, sh, w.count[ow], sw)
                    k += 1
                }
            }
        }
    }

    /// Per plane: y[k] = the window's first maximum in scan order (or its last NaN), at[k] its offset.
    @inline(__always)
    func maxPlane<T: FloatScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ at: UnsafeMutablePointer<Int64>) {
        forEachWindow { k, base, cd, sd, ch, sh, cw, sw in
            var best = -T.infinity, index = cd * ch * cw == 0 ? 0 : base
            for a in 0..<cd {
                for b in 0..<ch {
                    let row = base + a * sd + b * sh
                    for c in 0..<cw {
                        let v = x[row + c * sw]
                        if v > best || v.isNaN { (best, index) = (v, row + c * sw) }
                    }
                }
            }
            y[k] = best
            at[k] = Int64(index)
        }
    }

    /// What each window's sum is divided by, per output of a plane: `single[k]` once, or the
    /// axis extents in turn.
    struct Divide<T> {
        let single: [T]?
        let d: [T], h: [T], w: [T]
    }

    func divisors<T: FloatScalar>(_ kind: PoolDivisors, _: T.Type) -> Divide<T> {
        let extents = (d.count.map { T($0) }, h.count.map { T($0) }, w.count.map { T($0) })
        guard case .sliding(let call) = kind else { return Divide(single: nil, d: extents.0, h: extents.1, w: extents.2) }
        if let o = call.divisorOverride {
            return Divide(single: [T](repeating: T(o), count: outCount), d: [], h: [], w: [])
        }
        // Per axis, the window clipped to the padded input (`count_include_pad`) or to the input.
        let n = call.inputSize.count
        let perAxis: [[Int]] = (0..<3).map { a in
            let i = a - (3 - n)
            guard i >= 0 else { return [1] }
            return (0..<call.outputSize[i]).map { o in
                let start = o * call.stride[i] - call.padding[i], end = start + call.kernelSize[i]
                return call.countIncludePad ? min(end, call.inputSize[i] + call.padding[i]) - start
                    : min(end, call.inputSize[i]) - max(start, 0)
            }
        }
        var single = [T]()
        single.reserveCapacity(outCount)
        for a in perAxis[0] { for b in perAxis[1] { for c in perAxis[2] { single.append(T(a * b * c)) } } }
        return Divide(single: single, d: [], h: [], w: [])
    }

    @inline(__always)
    private func divided<T: FloatScalar>(_ v: T, _ k: Int, _ divide: Divide<T>) -> T {
        if let s = divide.single { return v / s[k] }
        let wo = w.outSize, ho = h.outSize
        return v / divide.d[k / (wo * ho)] / divide.h[k / wo % ho] / divide.w[k % wo]
    }

    /// Per plane: y[k] = the window's sum in scan order, divided.
    @inline(__always)
    func averagePlane<T: FloatScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ divide: Divide<T>) {
        forEachWindow { k, base, cd, sd, ch, sh, cw, sw in
            var sum: T = 0
            for a in 0..<cd {
                for b in 0..<ch {
                    let row = base + a * sd + b * sh
                    for c in 0..<cw { sum += x[row + c * sw] }
                }
            }
            y[k] = divided(sum, k, divide)
        }
    }

    /// Per plane: every element of window k gets g[k] divided, in output order.
    @inline(__always)
    func averagePlaneBackward<T: FloatScalar>(_ g: UnsafePointer<T>, _ gx: UnsafeMutablePointer<T>, _ divide: Divide<T>) {
        forEachWindow { k, base, cd, sd, ch, sh, cw, sw in
            let share = divided(g[k], k, divide)
            for a in 0..<cd {
                for b in 0..<ch {
                    let row = base + a * sd + b * sh
                    for c in 0..<cw { gx[row + c * sw] += share }
                }
            }
        }
    }
}
