extension Signatures { static let interpolate: [OpSignature] = [] }  // PLACEHOLDER
