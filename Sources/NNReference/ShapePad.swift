import NNCore

/// `pad`: every mode is a separable gather (see `PadCall` for the per-dim rules); constant
/// padding fills the positions that read nothing with `value`.
extension Reference {
    static func pad(_ call: PadCall) -> Tensor {
        let x = call.input, out = call.outputShape
        let lead = x.dim - call.pads.count
        let maps: [[Int?]] = out.indices.map { d in
            guard d >= lead else { return Array(0..<out[d]) }
            return (0..<out[d]).map { padCoordinate($0, size: x.shape[d], call.pads[d - lead], call.mode) }
        }
        return gathered(x, separableSource(maps, inShape: x.shape), shape: out, fill: call.value, name: call.backwardName)
    }

    /// The input coordinate output coordinate `j` reads along a dim of `size` padded by `p`,
    /// or nil for the constant fill.
    static func padCoordinate(_ j: Int, size n: Int, _ p: (before: Int, after: Int), _ mode: PadMode) -> Int? {
        let i = j - p.before
        switch mode {
        case .constant: return i >= 0 && i < n ? i : nil
        case .reflect: return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i
        case .replicate: return min(max(i, 0), n - 1)
        case .circular:
            // Crop the negative pads, then wrap around what is left.
            let first = max(-p.before, 0), kept = n - first - max(-p.after, 0)
            let k = (j - max(p.before, 0)) % kept
            return first + (k < 0 ? k + kept : k)
        }
    }
}
