extension Signatures { static let softmax: [OpSignature] = [] }  // PLACEHOLDER
