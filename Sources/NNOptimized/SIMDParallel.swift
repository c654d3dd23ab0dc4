import Dispatch
import Foundation
import NNCore

/// Splitting work across the cores, and building arrays in place, for the kernels.
///
/// Every parallel loop hands each worker a disjoint range of independent items (rows, planes,
/// channels), so results never depend on the number of threads: each item is computed by the
/// same code in the same order whichever thread runs it. OpenBLAS threads its own GEMMs, so these
/// loops never run around a GEMM call: Dispatch workers nested around OpenBLAS's would
/// oversubscribe the cores.
enum SIMDParallel {
    /// The cores the kernels split work across.
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Below this many element operations a loop runs on the calling thread: waking a worker
    /// costs more than the work.
    static let minimumParallelWork = 1 << 15

    /// Ranges per core that `forEach` cuts its items into by default.
    static let piecesPerCore = 4

    /// Calls `body` on ranges that together cover `0..<count` exactly once, concurrently when
    /// `count · costPerItem` is large enough (a cost of 0: always on the calling thread, for loops
    /// nested in a parallel one). `body` must only write what its items own.
    ///
    /// The items are cut into up to `piecesPerCore` ranges per core, which the workers take as they
    /// come free (`concurrentPerform` hands out iterations in order): on a shared machine, a
    /// worker that is descheduled for a while leaves its remaining ranges to the others instead of
    /// holding up the whole call. Measured on the convolutions (2 cores, 4 alternating rounds):
    /// medians 0.88 against 1.00 ms (depthwise forward), 15.8 against 17.3 ms (3×3, 256 channels,
    /// backward) with 4 ranges per core against 1.
    @inline(__always)
    static func forEach(_ count: Int, costPerItem: Int, piecesPerCore: Int = piecesPerCore,
                        _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let pieces = min(count, cores * piecesPerCore)
        guard cores > 1, pieces > 1, costPerItem > 0, count &* costPerItem >= minimumParallelWork else {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: pieces) { k in
                work.value(count * k / pieces ..< count * (k + 1) / pieces)
            }
        }
    }

    /// As `forEach`, with ranges whose bounds (but the last) are multiples of `alignment`
    /// (for splitting one long vector loop into whole vectors).
    @inline(__always)
    static func forEachAligned(_ count: Int, alignment: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let blocks = (count + alignment - 1) / alignment
        forEach(blocks, costPerItem: costPerItem * alignment) { r in
            body(r.lowerBound * alignment ..< min(r.upperBound * alignment, count))
        }
    }

    /// Calls `body` with the index range of each worker and returns its per-worker results, in
    /// worker order (for reductions whose partial results are combined afterwards).
    static func map<R>(_ count: Int, costPerItem: Int, _ body: (Range<Int>) -> R) -> [R] {
        let chunks = costPerItem > 0 && count * costPerItem >= minimumParallelWork ? min(count, cores) : 1
        guard chunks > 1 else { return [body(0..<count)] }
        var results = [R?](repeating: nil, count: chunks)
        results.withUnsafeMutableBufferPointer { out in
            withoutActuallyEscaping(body) { body in
                let work = UncheckedSendable((body, out))
                DispatchQueue.concurrentPerform(iterations: chunks) { k in
                    work.value.1[k] = work.value.0(count * k / chunks ..< count * (k + 1) / chunks)
                }
            }
        }
        return results.map { $0! }
    }
}

/// A value handed to the workers of `concurrentPerform`: the kernels guarantee that workers
/// touch disjoint memory, which the compiler cannot check.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// An array of `count` elements written by `fill` (which must write every element).
@inline(__always)
func makeArray<T>(_ count: Int, _ fill: (UnsafeMutablePointer<T>) -> Void) -> [T] {
    Array(unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 { fill(buffer.baseAddress!) }
        initialized = count
    }
}

/// An array of `count` zeros that `fill` may then accumulate into.
@inline(__always)
func makeZeroedArray<T: Numeric>(_ count: Int, _ fill: (UnsafeMutablePointer<T>) -> Void) -> [T] {
    var a = [T](repeating: 0, count: count)
    a.withUnsafeMutableBufferPointer { if count > 0 { fill($0.baseAddress!) } }
    return a
}

/// An array of `planes · planeSize` elements, where each worker first zeroes its planes and then
/// calls `accumulate(planes, base)` to add into them: zeroing there spreads the first touch of
/// fresh pages across the cores (`Array(repeating: 0, …)` faults every page in on one thread,
/// the larger cost for tens of megabytes).
@inline(__always)
func makePlanewiseZeroedArray<T: Numeric>(planes: Int, planeSize: Int, costPerPlane: Int,
                                          _ accumulate: (_ planes: Range<Int>, _ base: UnsafeMutablePointer<T>) -> Void) -> [T] {
    makeArray(planes * planeSize) { base in
        SIMDParallel.forEach(planes, costPerItem: costPerPlane + planeSize) { r in
            (base + r.lowerBound * planeSize).initialize(repeating: 0, count: r.count * planeSize)
            accumulate(r, base)
        }
    }
}

extension Array {
    /// The elements' base address for reading (an empty array gives a dangling but unused pointer).
    @inline(__always)
    func withPointer<R>(_ body: (UnsafePointer<Element>) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { b in
            try body(b.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Element>.alignment)!)
        }
    }
}

/// The Float or Double elements of `t`, converted when its dtype differs.
@inline(__always)
func floatElements<T: FloatScalar>(_ t: Tensor, _: T.Type) -> [T] {
    T.unwrap(t.data) ?? T.unwrap(t.data.converted(to: T.dtype))!
}

/// Checks that a SIMD kernel computes `t` (float32 or float64), else `Unsupported`. Kernels then
/// branch on the dtype with concrete types: calling a generic kernel through an existential
/// metatype (`any FloatScalar.Type`) would run it unspecialized, 20× slower.
func simdCheckFloat(_ t: Tensor, _ what: String) throws {
    guard t.dtype.isFloatingPoint else {
        throw Unsupported("the optimized \(what) computes float32 and float64 tensors, not \(t.dtype.rawValue)")
    }
}

/// `t.unsqueeze(d)`: a view sharing `t`'s storage, recorded as `UnsqueezeBackward0`.
func simdUnsqueezed(_ t: Tensor, at d: Int) throws -> Tensor {
    var shape = t.shape
    shape.insert(1, at: d)
    let original = t.shape
    return try GradMode.noGrad { try t.view(shape) }.recording("UnsqueezeBackward0", inputs: [t]) { g in
        [try g.reshape(original)]
    }
}

/// `t.squeeze(d)` of a size-1 dimension, recorded as `SqueezeBackward1`.
func simdSqueezed(_ t: Tensor, at d: Int) throws -> Tensor {
    var shape = t.shape
    shape.remove(at: d)
    let original = t.shape
    return try GradMode.noGrad { try t.view(shape) }.recording("SqueezeBackward1", inputs: [t]) { g in
        [try g.reshape(original)]
    }
}
