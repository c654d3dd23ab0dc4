import NNCore

/// Binary and likelihood losses (binary_cross_entropy[_with_logits], soft_margin, multilabel_soft_margin, poisson_nll, gaussian_nll). (Being filled in; until then these ops are `unsupported` on this backend.)
extension Optimized {
    static let simdLossBinaryOps: [String: OpFunction] = [:]
}
