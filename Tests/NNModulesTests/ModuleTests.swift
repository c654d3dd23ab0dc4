import NNCore
import NNReference
import Testing
@testable import NNModules

@Suite struct ModuleTests {
    let backend = Reference.backend

    func linear(_ i: Int, _ o: Int, bias: Bool = true) throws -> Module {
        try Modules.make("Linear", ["in_features": .int(i), "out_features": .int(o), "bias": .bool(bias)])
    }

    @Test func parameterAndStateNamesFollowPyTorchsOrder() throws {
        let bn = try Modules.make("BatchNorm2d", ["num_features": .int(3)])
        let net = Sequential([("0", try linear(2, 2)), ("1", try Modules.make("ReLU", [:])),
                              ("2", Sequential([("fc", try linear(2, 1, bias: false))])), ("bn", bn)])
        #expect(net.namedParameters().map(\.0) == ["0.weight", "0.bias", "2.fc.weight", "bn.weight", "bn.bias"])
        #expect(net.stateDict().map(\.0) == ["0.weight", "0.bias", "2.fc.weight", "bn.weight", "bn.bias",
                                             "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"])
        #expect(net.namedModules().map(\.0) == ["", "0", "1", "2", "2.fc", "bn"])
        #expect(net.tensor(named: "2.fc.weight")?.shape == [1, 2])
        #expect(net[-1] === bn)
        #expect(net.slice(1..<3).children.map(\.name) == ["1", "2"])
    }

    @Test func sharedParametersAreListedOnce() throws {
        let fc = try linear(2, 2)
        let net = Sequential([("a", fc), ("b", fc)])
        #expect(net.namedParameters().map(\.0) == ["a.weight", "a.bias"])
    }

    @Test func moduleListRenumbersOnInsert() throws {
        let list = ModuleList([try linear(1, 1), try linear(1, 2)])
        list.insert(0, try linear(1, 3))
        #expect(list.children.map(\.name) == ["0", "1", "2"])
        #expect(list[0]?.parameter("weight")?.shape == [3, 1])
        #expect(list.namedParameters().count == 6)
    }

    @Test func loadStateDictCopiesAndReportsPyTorchsErrors() throws {
        let fc = try linear(3, 2)
        let w = Tensor(shape: [2, 3], [Float](repeating: 0.5, count: 6))
        try fc.loadStateDict([("weight", w), ("bias", Tensor(shape: [2], [Float(1), 2]))])
        #expect(fc.parameter("weight")?.doubles == [Double](repeating: 0.5, count: 6))
        #expect(fc.parameter("weight")?.isLeaf == true && fc.parameter("weight")?.requiresGrad == true)
        let message = "Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: \"bias\". \n\t"
            + "Unexpected key(s) in state_dict: \"foo\". \n\tsize mismatch for weight: copying a param with shape "
            + "torch.Size([3, 2]) from checkpoint, the shape in current model is torch.Size([2, 3])."
        #expect(throws: TorchError.runtime(message)) {
            try fc.loadStateDict([("weight", Tensor.zeros([3, 2], dtype: .float32)), ("foo", Tensor.zeros([1], dtype: .float32))])
        }
    }

    @Test func trainAndEvalReachEveryDescendant() throws {
        let inner = try Modules.make("Dropout", [:])
        let net = Sequential([("0", Sequential([("d", inner)]))])
        net.eval()
        #expect(!inner.training)
        net.train()
        #expect(inner.training)
    }

    @Test func forwardCallsTheFunctionalOpThroughTheBackend() throws {
        let fc = try linear(2, 1)
        try fc.loadStateDict([("weight", Tensor(shape: [1, 2], [Float(2), -1])), ("bias", Tensor(shape: [1], [Float(0.5)]))])
        let x = Tensor(shape: [1, 2], [Float(3), 4])
        let y = try fc.forward(["input": .tensor(x)], backend: backend).tensor!
        #expect(y.doubles == [2.5])  // 2·3 − 1·4 + 0.5
        try y.backward(gradient: Tensor(shape: [1, 1], [Float(1)]))
        #expect(fc.parameter("weight")?.grad?.doubles == [3, 4])
        fc.zeroGrad()
        #expect(fc.parameter("weight")?.grad == nil)
    }

    @Test func constructorsCheckArgumentsAsPyTorch() {
        #expect(throws: TorchError.value("in_channels must be divisible by groups")) {
            try Modules.make("Conv2d", ["in_channels": .int(3), "out_channels": .int(4), "kernel_size": .int(3), "groups": .int(2)])
        }
        #expect(throws: TorchError.type("Linear.__init__() got an unexpected keyword argument 'colour'")) {
            try Modules.make("Linear", ["in_features": .int(1), "out_features": .int(1), "colour": .int(1)])
        }
        #expect(throws: TorchError.type("Threshold.__init__() missing 1 required positional argument: 'threshold'")) {
            try Modules.make("Threshold", [:])
        }
        #expect(throws: Unsupported.self) { try Modules.make("Transformer", [:]) }
    }

    @Test func defaultInitializationIsPyTorchsUniformBound() throws {
        let conv = try Modules.make("Conv2d", ["in_channels": .int(4), "out_channels": .int(8), "kernel_size": .int(3)])
        let w = conv.parameter("weight")!.doubles
        let bound = 1 / (4.0 * 9).squareRoot()
        let inside = w.allSatisfy { abs($0) <= bound }
        let spread = w.contains { abs($0) > bound / 2 }
        #expect(inside && spread)
    }
}
