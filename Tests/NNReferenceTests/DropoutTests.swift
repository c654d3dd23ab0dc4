import Testing
import NNCore
import NNReference

/// Calls `op` with a generator of its own seeded with `seed`, so tests running in parallel never
/// share the process-wide one.
private func call(_ op: String, seed: UInt64 = 1, _ args: [String: Value]) throws -> Tensor {
    try DropoutGenerator.$current.withValue(DropoutGenerator(seed: seed)) { try RefCheck.call(op, args) }
}

private func ramp(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, (0..<n).map { Float($0 % 97) / 50 - 0.97 + 0.005 }, requiresGrad: requiresGrad)
}

@Suite struct DropoutTests {
    @Test func evalIsTheInputItself() throws {
        let batched: [(String, [Int])] = [("dropout", [2, 3]), ("alpha_dropout", [2, 3]), ("feature_alpha_dropout", [2, 3, 4]),
                                          ("dropout1d", [2, 3, 4]), ("dropout2d", [2, 3, 4, 5]), ("dropout3d", [2, 3, 2, 2, 2])]
        for (op, shape) in batched {
            let x = ramp(shape)
            let (y, warnings) = try Warnings.collect { try call(op, ["input": .tensor(x), "training": .bool(false)]) }
            #expect(y === x, "\(op)")
            #expect(warnings.isEmpty, "\(op)")
        }
        let x = ramp([2, 3])
        #expect(try call("dropout", ["input": .tensor(x), "p": .double(0)]) === x)
        #expect(try call("dropout", ["input": .tensor(Tensor.zeros([0, 3], dtype: .float32))]).shape == [0, 3])
    }

    @Test func unbatchedEvalIsAViewThroughABatchDim() throws {
        let x = ramp([4, 6], requiresGrad: true)
        let y = try call("dropout1d", ["input": .tensor(x), "training": .bool(false)])
        #expect(y !== x && y.doubles == x.doubles)
        #expect(y.gradFn?.name == "SqueezeBackward1")
    }

    @Test func keptElementsAreScaledAndTheBackwardUsesTheSameMask() throws {
        let x = ramp([64, 64], requiresGrad: true)
        let y = try call("dropout", ["input": .tensor(x), "p": .double(0.3)])
        #expect(y.gradFn?.name == "MulBackward0")
        let scale = 1 / Float(0.7)
        let xs = x.values(Float.self), ys = y.values(Float.self)
        let kept = ys.indices.filter { ys[$0] != 0 }
        #expect(kept.allSatisfy { ys[$0] == xs[$0] * scale })
        // 4096 Bernoulli(0.7) draws: σ = √(4096 · 0.7 · 0.3) ≈ 29.3.
        #expect(abs(Double(kept.count) - 4096 * 0.7) < 5 * 29.3)
        let g = ramp([64, 64])
        try y.backward(gradient: g)
        let gx = try #require(x.grad).values(Float.self), gs = g.values(Float.self)
        #expect(gx.indices.allSatisfy { gx[$0] == (ys[$0] == 0 ? 0 : gs[$0] * scale) })
    }

    @Test func aSeedFixesTheMask() throws {
        let x = ramp([8, 8])
        let a = try call("dropout", seed: 7, ["input": .tensor(x)])
        let b = try call("dropout", seed: 7, ["input": .tensor(x)])
        let c = try call("dropout", seed: 8, ["input": .tensor(x)])
        #expect(a.doubles == b.doubles)
        #expect(a.doubles != c.doubles)
        // Element i is kept when the i-th SplitMix64 uniform is below 1 − p.
        var rng = SplitMix64(seed: 7)
        let expectedKept = (0..<64).map { _ in rng.nextUnit() < 0.5 }
        #expect(a.doubles.map { $0 != 0 } == expectedKept)
        // Reseeding the shared generator restarts it.
        let shared = DropoutGenerator(seed: 3)
        let first = shared.keeps(10, probability: 0.5)
        shared.manualSeed(3)
        #expect(shared.keeps(10, probability: 0.5) == first)
    }

    @Test func channelFormsDropWholeChannels() throws {
        for (op, shape, channels) in [("dropout2d", [4, 8, 3, 3], 32), ("dropout1d", [16, 5], 16), ("dropout3d", [6, 2, 2, 2], 6),
                                      ("feature_alpha_dropout", [4, 8, 3], 32)] {
            let x = ramp(shape)
            let y = try call(op, ["input": .tensor(x), "p": .double(0.5), "training": .bool(true)])
            let k = AlphaDropoutConstants(p: 0.5)
            let dropped = op == "feature_alpha_dropout" ? Double(-Float(k.a * AlphaDropoutConstants.alpha) + Float(k.b)) : 0
            let size = x.numel / channels
            let states = (0..<channels).map { c in Set(y.doubles[c * size ..< (c + 1) * size].map { $0 == dropped }) }
            #expect(states.allSatisfy { $0.count == 1 }, "\(op)")
            #expect(states.contains([true]) && states.contains([false]), "\(op)")
        }
    }

    @Test func alphaDropoutValues() throws {
        let p = 0.2
        let x = ramp([32, 32])
        let y = try call("alpha_dropout", ["input": .tensor(x), "p": .double(p), "training": .bool(true)]).values(Float.self)
        let k = AlphaDropoutConstants(p: p)
        let b = Float(k.b)
        let dropped = -Float(k.a * AlphaDropoutConstants.alpha) + b
        // Dropped is −a·α·(1 − p), a = ((α²p + 1)(1 − p))^(−1/2): torch gives −1.2361598014831543 for p = 0.2.
        #expect(dropped == -1.2361598014831543)
        let xs = x.values(Float.self)
        #expect(y.indices.allSatisfy { y[$0] == dropped || y[$0] == xs[$0] * Float(k.a) + b })
        #expect(y.contains(dropped) && y.contains { $0 != dropped })
    }

    @Test func pOneIsInputTimesZero() throws {
        let x = Tensor(shape: [3], [1, -2, .nan] as [Float], requiresGrad: true)
        for op in ["dropout", "alpha_dropout"] {
            let y = try call(op, ["input": .tensor(x), "p": .double(1), "training": .bool(true)])
            #expect(y.doubles[0] == 0 && y.doubles[1] == 0 && y.doubles[2].isNaN, "\(op)")
            #expect(y.doubles[1].sign == .minus, "\(op): −2 · 0 is −0")
            #expect(y.gradFn?.name == "MulBackward0", "\(op)")
        }
        let ints = Tensor(shape: [2], int64: [3, -4])
        #expect(try call("dropout", ["input": .tensor(ints), "p": .int(1)]).int64s == [0, 0])
    }

    @Test func inplaceForms() throws {
        let x = ramp([4, 6], requiresGrad: true)
        let h = try RefCheck.call("mul", ["input": .tensor(x), "other": .double(2)])
        let y = try call("alpha_dropout", ["input": .tensor(h), "p": .double(0.5), "training": .bool(true), "inplace": .bool(true)])
        #expect(y === h && h.version == 2 && h.gradFn?.name == "AddBackward0")
        // An unbatched input gets unsqueeze_(0) and squeeze_(0), each a write.
        let u = try RefCheck.call("mul", ["input": .tensor(x), "other": .double(2)])
        _ = try call("dropout1d", ["input": .tensor(u), "p": .double(1), "inplace": .bool(true)])
        #expect(u.version == 3 && u.gradFn?.name == "SqueezeBackward4" && u.doubles.allSatisfy { $0 == 0 })
        // Not training, a batched in-place call writes nothing, so a leaf requiring grad is fine.
        #expect(try call("dropout", ["input": .tensor(x), "training": .bool(false), "inplace": .bool(true)]) === x)
        #expect(x.version == 0)
    }

    @Test func warnings() throws {
        let (_, w3) = try Warnings.collect { try call("dropout2d", ["input": .tensor(ramp([2, 3, 4]))]) }
        #expect(w3.count == 1 && w3[0].message.hasPrefix("dropout2d: Received a 3D input to dropout2d and assuming"))
        let (_, w2) = try Warnings.collect { try call("dropout3d", ["input": .tensor(ramp([2, 3])), "training": .bool(false)]) }
        let deprecated = "dropout3d: Received a 2-D input to dropout3d, which is deprecated and will result in an error in a future release."
        #expect(w2.count == 1 && w2[0].message.hasPrefix(deprecated))
    }

    @Test func errors() throws {
        let x = ramp([2, 3, 4])
        #expect(throws: TorchError.value("dropout probability has to be between 0 and 1, but got -0.1")) {
            try call("dropout", ["input": .tensor(x), "p": .double(-0.1)])
        }
        #expect(throws: TorchError.value("dropout probability has to be between 0 and 1, but got 2")) {
            try call("alpha_dropout", ["input": .tensor(x), "p": .int(2)])
        }
        #expect(throws: TorchError.self) { try call("dropout1d", ["input": .tensor(ramp([5])), "training": .bool(false)]) }
        #expect(throws: TorchError.runtime("Feature dropout requires at least 2 dimensions in the input")) {
            try call("feature_alpha_dropout", ["input": .tensor(ramp([5])), "training": .bool(true)])
        }
        #expect(throws: TorchError.runtime("result type Float can't be cast to the desired output type Long")) {
            try call("dropout", ["input": .tensor(Tensor(shape: [2], int64: [1, 2]))])
        }
        let leaf = ramp([2, 3], requiresGrad: true)
        let leafError = TorchError.runtime("a leaf Variable that requires grad is being used in an in-place operation.")
        #expect(throws: leafError) { try call("dropout", ["input": .tensor(leaf), "inplace": .bool(true)]) }
        // dropout3d of a 2-D input unsqueezes it in place even when not training.
        #expect(throws: leafError) {
            try call("dropout3d", ["input": .tensor(leaf), "training": .bool(false), "inplace": .bool(true)])
        }
    }
}
