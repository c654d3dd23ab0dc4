extension Signatures { static let reduction: [OpSignature] = [] }  // PLACEHOLDER
