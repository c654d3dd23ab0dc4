import Testing
@testable import NNCore

/// Minimal ops written against the core API, so the engine is tested without any backend.
private func scale(_ x: Tensor, by k: Double) -> Tensor {
    let y = Tensor(shape: x.shape, x.doubles.map { $0 * k })
    return y.recording("MulBackward0", inputs: [x]) { g in [Tensor(shape: g.shape, g.doubles.map { $0 * k })] }
}

/// y = x², saving x for the backward.
private func square(_ x: Tensor) -> Tensor {
    let saved = SavedTensor(x)
    let y = Tensor(shape: x.shape, x.doubles.map { $0 * $0 })
    return y.recording("PowBackward0", inputs: [x], saving: [saved]) { g in
        let xv = try saved.unpack().doubles
        return [Tensor(shape: g.shape, zip(g.doubles, xv).map { 2 * $0 * $1 })]
    }
}

private func total(_ x: Tensor) -> Tensor {
    let y = Tensor(shape: [], [x.doubles.reduce(0, +)])
    let shape = x.shape
    return y.recording("SumBackward0", inputs: [x]) { g in [Tensor(shape: shape, [Double](repeating: g.item, count: shape.reduce(1, *)))] }
}

/// In-place `x += 1` through the core's in-place protocol.
private func addOne_(_ x: Tensor) throws {
    try x.checkInplace()
    x.commitInplace(.float64(x.doubles.map { $0 + 1 }), name: "AddBackward0") { g in [g] }
}

@Suite struct AutogradTests {
    func leaf(_ v: [Double]) -> Tensor { Tensor(shape: [v.count], v, requiresGrad: true) }

    @Test func chainRuleAndAccumulationIntoLeaves() throws {
        let x = leaf([1, 2, 3])
        let y = total(square(scale(x, by: 2)))      // Σ (2x)² → grad 8x
        #expect(y.gradFn?.name == "SumBackward0" && !y.isLeaf && x.isLeaf)
        try y.backward()
        #expect(x.grad?.doubles == [8, 16, 24])
        try total(scale(x, by: 1)).backward()         // accumulates
        #expect(x.grad?.doubles == [9, 17, 25])
    }

    @Test func gradientFromTwoPathsIsSummed() throws {
        let x = leaf([3])
        let a = scale(x, by: 2), b = square(x)
        let s = Tensor(shape: [1], [a.item + b.item]).recording("AddBackward0", inputs: [a, b]) { g in [g, g] }
        try s.backward()
        #expect(x.grad?.doubles == [2 + 6])
    }

    @Test func nonScalarBackwardNeedsAGradient() throws {
        let y = scale(leaf([1, 2]), by: 3)
        #expect(throws: TorchError.runtime("grad can be implicitly created only for scalar outputs")) { try y.backward() }
        try y.backward(gradient: Tensor(shape: [2], [1.0, 10]))
    }

    @Test func inPlaceOnALeafThatRequiresGradIsAnError() throws {
        let x = leaf([1])
        #expect(throws: TorchError.runtime("a leaf Variable that requires grad is being used in an in-place operation.")) { try addOne_(x) }
        try GradMode.noGrad { try addOne_(x) }       // allowed under no_grad
        #expect(x.doubles == [2] && x.version == 1 && x.isLeaf)
    }

    @Test func inPlaceOnAViewOfSuchALeafIsAnErrorButOnADetachedCopyIsNot() throws {
        let x = leaf([1, 2])
        #expect(throws: TorchError.runtime("a view of a leaf Variable that requires grad is being used in an in-place operation.")) {
            try addOne_(try x.view([2, 1]))
        }
        let d = x.detach()
        try addOne_(d)                                // shares storage: x sees it, as in PyTorch
        #expect(x.doubles == [2, 3] && x.version == 1)
    }

    @Test func inPlaceOpsCanSaveTheirOwnResult() throws {
        let x = leaf([1, 2])
        let h = scale(x, by: 1)
        try h.checkInplace()
        h.commitInplace(.float64(h.doubles.map { $0 * $0 }), name: "PowBackward0", pullbackWithOutput: { g, y in
            [Tensor(shape: g.shape, zip(g.doubles, y.doubles).map { 2 * $0 * $1.squareRoot() })]  // d(x²) = 2x = 2√y
        })
        try total(h).backward(retainGraph: true)
        #expect(x.grad?.doubles == [2, 4])
        try addOne_(h)                                // the saved result is now stale
        #expect(throws: TorchError.self) { try h.gradFn.map { _ in try total(h).backward() } }
    }

    @Test func modifyingASavedTensorBreaksBackwardWithVersions() throws {
        let x = leaf([1, 2])
        let h = scale(x, by: 1)                      // non-leaf
        let y = total(square(h))                      // saves h at version 0
        try addOne_(h)
        let message = "one of the variables needed for gradient computation has been modified by an inplace operation: "
            + "[torch.DoubleTensor [2]], which is output 0 of Add, is at version 1; expected version 0 instead. "
            + "Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
            + "with torch.autograd.set_detect_anomaly(True, check_nan=False)."
        #expect(throws: TorchError.runtime(message)) { try y.backward() }
    }

    @Test func theVersionErrorNamesTheForwardAsPyTorchPrintsIt() throws {
        let x = leaf([1])
        let h = scale(x, by: 1)
        let saved = SavedTensor(output: h, of: "EluBackward1")
        try addOne_(h)
        #expect(throws: TorchError.self) { try saved.unpack() }
        do { _ = try saved.unpack() } catch let e as TorchError {
            #expect(e.message.contains("which is output 0 of Elu1, is at version 1"))
        }
    }

    @Test func inPlaceOnANonLeafNobodySavedRebasesHistory() throws {
        let x = leaf([1, 2])
        let h = scale(x, by: 3)
        try addOne_(h)
        #expect(h.gradFn?.name == "AddBackward0")
        try total(h).backward()
        #expect(x.grad?.doubles == [3, 3])
    }

    @Test func noGradRecordsNothing() {
        let y = GradMode.noGrad { scale(leaf([1]), by: 2) }
        #expect(!y.requiresGrad && y.gradFn == nil)
    }

    @Test func secondBackwardThroughSavedTensorsNeedsRetainGraph() throws {
        let x = leaf([2])
        let y = total(square(x))
        try y.backward(retainGraph: true)
        try y.backward()
        #expect(x.grad?.doubles == [8])
        #expect(throws: TorchError.self) { try y.backward() }
        let z = total(scale(x, by: 1))                // nothing saved: a second backward is fine
        try z.backward()
        try z.backward()
    }
}
