extension Signatures { static let losses: [OpSignature] = [] }  // PLACEHOLDER
