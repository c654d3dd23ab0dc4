import NNCore

/// The SIMD half of the optimized backend: pointwise ops, softmax, pooling, normalization,
/// losses and interpolation, on Swift SIMD vectors and loops split across the cores.
/// Argument parsing and errors are the shared calls of `NNCore/Signatures`; an argument value
/// a kernel does not cover throws `Unsupported` (never a fallback to the reference).
extension Optimized {
    static let simdOps: [String: OpFunction] = [simdElementwiseOps, simdSoftmaxOps, simdPoolingOps, simdPoolingExtraOps, simdNormalizationOps, simdRescalingOps, simdLossOps, simdInterpolateOps, simdReductionOps,
                                                      simdActivationOps, simdLossBinaryOps, simdLossMarginOps, simdShapeOps, simdSamplingOps, simdDropoutOps]
        .reduce(into: [:]) { table, family in table.merge(family) { a, _ in a } }
}
