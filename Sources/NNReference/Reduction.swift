import NNCore
extension Reference { static let reductionOps: [String: OpFunction] = [:] }  // PLACEHOLDER
