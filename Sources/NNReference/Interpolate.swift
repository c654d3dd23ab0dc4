import NNCore
extension Reference { static let interpolateOps: [String: OpFunction] = [:] }  // PLACEHOLDER
