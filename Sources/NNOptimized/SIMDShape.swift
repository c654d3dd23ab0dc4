import NNCore

/// Shape and misc ops (pad, flatten, pixel_shuffle, one_hot, embedding, max/min/argmax/argmin, distances, unfold/fold). (Being filled in; until then these ops are `unsupported` on this backend.)
extension Optimized {
    static let simdShapeOps: [String: OpFunction] = [:]
}
