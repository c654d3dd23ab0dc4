import NNCore

/// Activations (the activation family of NNCore/Signatures/Activation.swift). (Being filled in; until then these ops are `unsupported` on this backend.)
extension Optimized {
    static let simdActivationOps: [String: OpFunction] = [:]
}
