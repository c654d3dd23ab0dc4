extension Signatures { static let convolution: [OpSignature] = [] }  // PLACEHOLDER
