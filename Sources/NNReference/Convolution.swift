import NNCore
extension Reference { static let convolutionOps: [String: OpFunction] = [:] }  // PLACEHOLDER
