import NNCore

/// The dropout family. (Being filled in; until then these ops are `unsupported` on this backend.)
extension Optimized {
    static let simdDropoutOps: [String: OpFunction] = [:]
}
