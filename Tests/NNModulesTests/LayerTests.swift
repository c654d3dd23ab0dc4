import NNCore
import Testing
@testable import NNModules

@Suite struct LayerTests {
    @Test func convTransposeWeightIsInByOutPerGroup() throws {
        let m = try Modules.make("ConvTranspose2d", ["in_channels": .int(2), "out_channels": .int(4), "kernel_size": .int(3),
                                                     "groups": .int(2)])
        #expect(m.parameter("weight")?.shape == [2, 2, 3, 3])
        #expect(throws: TorchError.value("Only \"zeros\" padding mode is supported for ConvTranspose2d")) {
            try Modules.make("ConvTranspose2d", ["in_channels": .int(2), "out_channels": .int(4), "kernel_size": .int(3),
                                                 "padding_mode": .string("reflect")])
        }
    }

    @Test func embeddingZeroesItsPaddingRowAndChecksIt() throws {
        let m = try Modules.make("Embedding", ["num_embeddings": .int(5), "embedding_dim": .int(3), "padding_idx": .int(-1)])
        let w = try #require(m.parameter("weight")).doubles
        #expect(Array(w[12..<15]) == [0, 0, 0])
        #expect(w[0..<12].contains { $0 != 0 })
        #expect(throws: TorchError("AssertionError", "Padding_idx must be within num_embeddings")) {
            try Modules.make("Embedding", ["num_embeddings": .int(5), "embedding_dim": .int(3), "padding_idx": .int(7)])
        }
    }

    @Test func normalInitHasRoughlyUnitVariance() throws {
        Init.seed(1)
        let v = try Init.normal([20000], dtype: .float64).doubles
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
        #expect(abs(mean) < 0.05)      // σ/√n ≈ 0.007
        #expect(abs(variance - 1) < 0.05)
    }

    @Test func paddingModulesExpandAnIntToEverySide() throws {
        let m = try #require(try Modules.make("ReflectionPad2d", ["padding": .int(2)]) as? Pad)
        #expect(m.amounts == [2, 2, 2, 2] && m.mode == "reflect")
        let c = try #require(try Modules.make("ConstantPad1d", ["padding": .list([.int(1), .int(3)]), "value": .double(3.5)]) as? Pad)
        #expect(c.amounts == [1, 3] && c.value == 3.5 && c.mode == "constant")
        #expect(throws: TorchError.self) { try Modules.make("ZeroPad2d", ["padding": .list([.int(1), .int(2), .int(3)])]) }
    }

    @Test func tableModulesRenameAndFixArguments() throws {
        let u = try #require(try Modules.make("Unflatten", ["dim": .int(1), "unflattened_size": .list([.int(2), .int(3)])]) as? FunctionalModule)
        #expect(u.arguments["sizes"] != nil && u.arguments["unflattened_size"] == nil)
        let b = try #require(try Modules.make("UpsamplingBilinear2d", ["scale_factor": .double(2)]) as? FunctionalModule)
        guard case .bool(true)? = b.arguments["align_corners"], case .string("bilinear")? = b.arguments["mode"] else {
            Issue.record("UpsamplingBilinear2d must pass mode='bilinear', align_corners=True")
            return
        }
    }
}
