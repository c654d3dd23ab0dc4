import NNCore

/// `batch_norm`, `instance_norm`, `layer_norm` and `group_norm` on the shared core of
/// NormalizationCore.swift; `local_response_norm` and `normalize` in NormalizationRescaling.swift.
extension Reference {
    static let normalizationOps: [String: OpFunction] = [
        "batch_norm": { try .tensor(batchNorm(BatchNormCall(.batch, $0))) },
        "instance_norm": { try .tensor(batchNorm(BatchNormCall(.instance, $0))) },
        "layer_norm": { try .tensor(layerNorm(LayerNormCall($0))) },
        "group_norm": { try .tensor(groupNorm(GroupNormCall($0))) },
        "local_response_norm": { try .tensor(localResponseNorm(LocalResponseNormCall($0))) },
        "normalize": { try .tensor(normalize(NormalizeCall($0))) },
    ]

    static func batchNorm(_ call: BatchNormCall) throws -> Tensor {
        call.input.dtype == .float32 ? try batchNorm(Float.self, call) : try batchNorm(Double.self, call)
    }

    static func layerNorm(_ call: LayerNormCall) -> Tensor {
        call.input.dtype == .float32 ? layerNorm(Float.self, call) : layerNorm(Double.self, call)
    }

    static func groupNorm(_ call: GroupNormCall) -> Tensor {
        call.input.dtype == .float32 ? groupNorm(Float.self, call) : groupNorm(Double.self, call)
    }

    /// batch_norm: one group per channel over [N, C, spatial]. instance_norm: one group per
    /// sample and channel, recorded as PyTorch does (a batch norm of the input viewed as one
    /// sample of N·C channels, viewed back: `ViewBackward0` on `NativeBatchNormBackward0`).
    ///
    /// With the input's statistics (`training` / `use_input_stats`), running statistics given
    /// are updated in place outside autograd; otherwise r = 1/√(running_var + eps) in T and
    /// μ = running_mean.
    private static func batchNorm<T: FloatScalar>(_: T.Type, _ call: BatchNormCall) throws -> Tensor {
        let x = call.input, s = x.shape
        let layout = NormLayout(outer: s[0], channels: s[1], inner: s.dropFirst(2).reduce(1, *),
                                groupsPerSample: call.kind == .instance ? s[1] : nil)
        let stats: GroupStatistics<T>
        if call.useInputStats {
            let (computed, squareSums) = inputStatistics(x.values(T.self), layout, eps: call.eps)
            stats = computed
            if let mean = call.runningMean, let variance = call.runningVar, x.numel > 0 {
                updateRunningStatistics(call, layout, mean: mean, variance: variance, stats, squareSums)
            }
        } else {
            // A group's channel is its index modulo C (groups are c, or o·C + c for instance norm).
            let mean = call.runningMean!.values(T.self), variance = call.runningVar!.values(T.self)
            stats = GroupStatistics(mean: (0..<layout.groupCount).map { mean[$0 % s[1]] },
                                    invstd: (0..<layout.groupCount).map { 1 / (variance[$0 % s[1]] + T(call.eps)).squareRoot() },
                                    fromInput: false)
        }
        switch call.kind {
        case .batch:
            return normalize(x, layout, stats, weight: call.weight, bias: call.bias, node: "NativeBatchNormBackward0",
                             saving: [x, call.weight, call.runningMean, call.runningVar])
        case .instance:
            let y = normalize(x, layout, stats, weight: call.weight, bias: call.bias, node: "NativeBatchNormBackward0", saving: [x])
            return try y.view(s)
        }
    }

    /// running ← momentum·batch + (1 − momentum)·running in T, with the batch's mean μ and its
    /// unbiased variance S/(n − 1) (S the sum of squared deviations), as ATen's batch-norm
    /// kernel writes them: in place, without touching the version counter. Instance norm
    /// updates a copy per sample and stores their average over the batch, with `copy_` (which
    /// bumps the version).
    private static func updateRunningStatistics<T: FloatScalar>(_ call: BatchNormCall, _ layout: NormLayout, mean: Tensor, variance: Tensor,
                                                                 _ stats: GroupStatistics<T>, _ squareSums: [T]) {
        let momentum = T(call.momentum), keep = T(1 - call.momentum)
        let n = T(layout.groupSize)
        let oldMean = mean.values(T.self), oldVariance = variance.values(T.self)
        // Group s belongs to channel s mod C (batch norm: s = c; instance norm: s = o·C + c).
        let channels = layout.channels
        let samples = layout.groupCount / channels
        var newMean = [Double](repeating: 0, count: channels)
        var newVariance = [Double](repeating: 0, count: channels)
        for s in 0..<layout.groupCount {
            let c = s % channels
            newMean[c] += Double(momentum * stats.mean[s] + keep * oldMean[c])
            newVariance[c] += Double(momentum * (squareSums[s] / (n - 1)) + keep * oldVariance[c])
        }
        mean.overwrite(with: T.wrap(newMean.map { T($0 / Double(samples)) }), bumpingVersion: false)
        variance.overwrite(with: T.wrap(newVariance.map { T($0 / Double(samples)) }), bumpingVersion: false)
        if call.kind == .instance {
            mean.markModified()
            variance.markModified()
        }
    }

    /// layer_norm: the input viewed as [rows, D, 1] with D the product of `normalized_shape`,
    /// one group per row; weight and bias (of shape `normalized_shape`) index the D elements.
    private static func layerNorm<T: FloatScalar>(_: T.Type, _ call: LayerNormCall) -> Tensor {
        let x = call.input, d = call.normalizedCount
        let layout = NormLayout(outer: d == 0 ? 0 : x.numel / d, channels: d, inner: 1, groupsPerSample: 1)
        let (stats, _) = inputStatistics(x.values(T.self), layout, eps: call.eps)
        return normalize(x, layout, stats, weight: call.weight, bias: call.bias, rounding: .centered, node: "NativeLayerNormBackward0",
                         saving: [x, call.weight, call.bias])
    }

    /// group_norm: [N, C, spatial] with one group per sample and block of C/G channels.
    private static func groupNorm<T: FloatScalar>(_: T.Type, _ call: GroupNormCall) -> Tensor {
        let x = call.input, s = x.shape
        let layout = NormLayout(outer: s[0], channels: s[1], inner: s.dropFirst(2).reduce(1, *), groupsPerSample: call.numGroups)
        let (stats, _) = inputStatistics(x.values(T.self), layout, eps: call.eps)
        let affine = call.weight != nil || call.bias != nil
        return normalize(x, layout, stats, weight: call.weight, bias: call.bias, rounding: affine ? .folded : .centered,
                         node: "NativeGroupNormBackward0", saving: [x, call.weight])
    }
}
