import NNCore

/// grid_sample and affine_grid. (Being filled in; until then these ops are `unsupported` on this backend.)
extension Optimized {
    static let simdSamplingOps: [String: OpFunction] = [:]
}
