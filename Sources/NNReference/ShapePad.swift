import NNCore

/// `pad`: every mode is a separable gather (see `PadCall` for the per-dim rules and
/// `PadCall.sourceCoordinate` for the map); constant padding fills the positions that read
/// nothing with `value`.
extension Reference {
    static func pad(_ call: PadCall) -> Tensor {
        let x = call.input, out = call.outputShape
        let lead = x.dim - call.pads.count
        let maps: [[Int?]] = out.indices.map { d in
            guard d >= lead else { return Array(0..<out[d]) }
            return (0..<out[d]).map { call.sourceCoordinate($0, paddedDim: d - lead) }
        }
        return gathered(x, separableSource(maps, inShape: x.shape), shape: out, fill: call.value, name: call.backwardName)
    }
}
