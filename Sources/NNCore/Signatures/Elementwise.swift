extension Signatures { static let elementwise: [OpSignature] = [] }  // PLACEHOLDER
