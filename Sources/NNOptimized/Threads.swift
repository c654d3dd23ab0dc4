import Dispatch
import Foundation

/// Splitting the non-BLAS loops of the GEMM kernels (im2col, col2im, packing, depthwise
/// convolution) across the cores.
///
/// OpenBLAS threads its own GEMMs, so these loops never run around a GEMM call: nesting Dispatch
/// workers around OpenBLAS's would oversubscribe the cores. Each worker gets a disjoint range of
/// independent items (channels, planes) and writes only what those items own, so the result does
/// not depend on the number of threads.
enum Threads {
    /// The cores the loops split work across.
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Below this many element operations a loop stays on the calling thread.
    static let minimumParallelWork = 1 << 15

    /// Calls `body` on ranges covering `0..<count` exactly once, concurrently when
    /// `count · costPerItem` is large enough.
    @inline(__always)
    static func forEach(_ count: Int, costPerItem: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(count, cores)
        guard chunks > 1, count &* max(costPerItem, 1) >= minimumParallelWork else {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = ThreadsUnchecked(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { k in
                work.value(count * k / chunks ..< count * (k + 1) / chunks)
            }
        }
    }
}

/// A closure handed to `concurrentPerform` whose workers touch disjoint memory (which the
/// compiler cannot check).
struct ThreadsUnchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
