import NNCore

/// The optimized backend: the same op table and signatures as the reference (argument checks
/// and errors come from `NNCore/Signatures`), with kernels on OpenBLAS, Swift SIMD and threads.
/// An op without an optimized kernel is absent here, so it reports `unsupported` — never a
/// silent fallback to the reference.
public enum Optimized {
    public static let backend = OpTable(
        name: "optimized",
        details: BLAS.description,
        ops: [blasOps, simdOps].reduce(into: [:]) { table, family in table.merge(family) { a, _ in a } })
}
