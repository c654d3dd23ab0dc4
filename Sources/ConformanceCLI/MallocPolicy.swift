import Foundation

/// glibc malloc settings for the process, applied before any tensor is allocated.
///
/// By default glibc serves blocks above a threshold (128 KiB, raised on the fly up to 32 MiB)
/// with a fresh `mmap` and returns them with `munmap`, and gives the top of the heap back to
/// the kernel once more than `trim_threshold` of it is free. A tensor op's output is then
/// page-faulted in again on every call: ~2 µs per 4 KiB page here, 12 ms for a 25 MB output,
/// ten times the time of the `relu` that writes it. Keeping blocks up to 32 MiB (glibc's
/// largest threshold) in the heap and never trimming it lets repeated calls reuse memory that
/// is already mapped, as a long-running PyTorch process does after its first iterations.
/// A no-op where `mallopt` does not exist (not glibc).
enum MallocPolicy {
    static func keepLargeBlocks() {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }  // RTLD_DEFAULT
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let (trimThreshold, mmapThreshold): (Int32, Int32) = (-1, -3)  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, Int32.max)
    }
}
