import NNCore
extension Reference { static let elementwiseOps: [String: OpFunction] = [:] }  // PLACEHOLDER
