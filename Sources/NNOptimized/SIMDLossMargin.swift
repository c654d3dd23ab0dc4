import NNCore

/// Margin and embedding losses (hinge_embedding, margin_ranking, multi_margin, multilabel_margin, cosine_embedding, triplet_margin). (Being filled in; until then these ops are `unsupported` on this backend.)
extension Optimized {
    static let simdLossMarginOps: [String: OpFunction] = [:]
}
