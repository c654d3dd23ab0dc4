import NNCore
extension Reference { static let lossOps: [String: OpFunction] = [:] }  // PLACEHOLDER
