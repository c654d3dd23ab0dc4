import COpenBLAS
import NNCore

/// The element types OpenBLAS multiplies: `Float` (sgemm) and `Double` (dgemm).
protocol BLASScalar: FloatScalar, SIMDScalar, Codable {
    /// Row-major `C = alpha·op(A)·op(B) + beta·C` with `op(A)` m×k and `op(B)` k×n.
    static func cblasGemm(_ transA: Bool, _ transB: Bool, _ m: Int32, _ n: Int32, _ k: Int32,
                          _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32,
                          _ b: UnsafePointer<Self>, _ ldb: Int32,
                          _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int32)
}

extension Float: BLASScalar {
    @inline(__always)
    static func cblasGemm(_ transA: Bool, _ transB: Bool, _ m: Int32, _ n: Int32, _ k: Int32,
                          _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32,
                          _ b: UnsafePointer<Float>, _ ldb: Int32,
                          _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
}

extension Double: BLASScalar {
    @inline(__always)
    static func cblasGemm(_ transA: Bool, _ transB: Bool, _ m: Int32, _ n: Int32, _ k: Int32,
                          _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32,
                          _ b: UnsafePointer<Double>, _ ldb: Int32,
                          _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int32) {
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
}

/// Shared steps of the GEMM kernels: the GEMM call itself, and moving tensor elements in and out.
enum BLASKernels {
    /// Row-major `C[m×n] = op(A)·op(B) + (accumulate ? C : 0)`, where `op(A)` is m×k (A stored
    /// k×m when `transA`) and `op(B)` is k×n. Empty products are handled here (OpenBLAS rejects
    /// leading dimensions of 0): k = 0 leaves C (or zeroes it).
    @inline(__always)
    static func gemm<T: BLASScalar>(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                    _ a: UnsafePointer<T>, lda: Int, _ b: UnsafePointer<T>, ldb: Int,
                                    accumulate: Bool = false, _ c: UnsafeMutablePointer<T>, ldc: Int) {
        guard m > 0 && n > 0 else { return }
        guard k > 0 else {
            if !accumulate {
                for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
            }
            return
        }
        precondition(max(m, n, k, lda, ldb, ldc) <= Int(Int32.max), "matrix too large for 32-bit BLAS")
        T.cblasGemm(transA, transB, Int32(m), Int32(n), Int32(k), 1, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)),
                    accumulate ? 1 : 0, c, Int32(max(ldc, 1)))
    }

    /// The elements of `t` in `T`, converted only when its dtype differs (a bias may have another
    /// dtype when PyTorch casts it).
    @inline(__always)
    static func elements<T: FloatScalar>(_ t: Tensor, _: T.Type) -> [T] {
        if let a = T.unwrap(t.data) { return a }
        return T.unwrap(t.data.converted(to: T.dtype))!
    }

    /// A gradient computed in `T`, in the shape and dtype of the tensor it belongs to.
    @inline(__always)
    static func gradient<T: FloatScalar>(_ values: [T], like t: Tensor) -> Tensor {
        Tensor(shape: t.shape, data: T.wrap(values).converted(to: t.dtype))
    }

    /// An array of `count` elements that `fill` writes completely.
    @inline(__always)
    static func uninitialized<T>(_ count: Int, _ fill: (UnsafeMutablePointer<T>) -> Void) -> [T] {
        Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { fill(buffer.baseAddress!) }
            initialized = count
        }
    }

    /// An array of `count` zeros that `fill` may accumulate into.
    @inline(__always)
    static func zeroed<T: Numeric>(_ count: Int, _ fill: (UnsafeMutablePointer<T>) -> Void) -> [T] {
        var a = [T](repeating: 0, count: count)
        if count > 0 { a.withUnsafeMutableBufferPointer { fill($0.baseAddress!) } }
        return a
    }

    /// Reads an array through a pointer (an empty array gives a dangling but unused pointer).
    @inline(__always)
    static func reading<E, R>(_ a: [E], _ body: (UnsafePointer<E>) throws -> R) rethrows -> R {
        try a.withUnsafeBufferPointer { b in
            try body(b.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<E>.alignment)!)
        }
    }

    /// Writes an array through a pointer (an empty array gives a dangling but unused pointer).
    @inline(__always)
    static func writing<E, R>(_ a: inout [E], _ body: (UnsafeMutablePointer<E>) throws -> R) rethrows -> R {
        try a.withUnsafeMutableBufferPointer { b in
            try body(b.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<E>.alignment)!)
        }
    }

    /// A scratch buffer of `count` elements for the duration of `body` (contents undefined).
    @inline(__always)
    static func scratch<T, R>(_ count: Int, _ body: (UnsafeMutablePointer<T>) throws -> R) rethrows -> R {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        defer { p.deallocate() }
        return try body(p)
    }
}
