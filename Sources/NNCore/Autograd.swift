import Foundation

/// Reverse-mode automatic differentiation with PyTorch's semantics, micrograd-sized.
///
/// Every op that takes a tensor requiring grad records a `Node`: its PyTorch name
/// (`SigmoidBackward0`), an edge per input, and a pullback from the output's gradient to the
/// inputs' gradients. `backward` walks the nodes in topological order, summing the gradients
/// that reach a node before running its pullback, and accumulates into the leaves' `.grad`.

/// Where a gradient goes: the node that produced an input, or the leaf it accumulates into.
public enum Edge {
    case node(Node)
    case leaf(Tensor)
}

public final class Node {
    /// The name PyTorch prints for `grad_fn`, e.g. `ConvolutionBackward0`.
    public let name: String
    let edges: [Edge?]
    let pullback: (Tensor) throws -> [Tensor?]
    /// Set after a backward without `retainGraph`; running a released node is PyTorch's
    /// "backward through the graph a second time" error.
    var released = false
    /// Only a node that saved tensors refuses a second backward, as in PyTorch.
    let savesTensors: Bool

    init(name: String, edges: [Edge?], savesTensors: Bool, pullback: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        self.edges = edges
        self.savesTensors = savesTensors
        self.pullback = pullback
    }
}

/// Whether operations are recorded (`torch.no_grad()` turns it off), per thread or task.
public enum GradMode {
    @TaskLocal public static var isEnabled = true

    /// Runs `body` with recording off, as `with torch.no_grad():` does.
    public static func noGrad<R>(_ body: () throws -> R) rethrows -> R {
        try $isEnabled.withValue(false) { try body() }
    }
}

extension Tensor {
    /// The edge gradients for this tensor flow along, or nil if it does not require grad.
    var edge: Edge? {
        if let fn = gradFn { return .node(fn) }
        return requiresGrad ? .leaf(self) : nil
    }

    /// Makes this freshly computed tensor the output of a node named `name` when grad mode is
    /// on and any input requires grad. `pullback` maps the output's gradient to one gradient
    /// per input (nil where that input needs none). `saving` lists what the pullback keeps
    /// (it decides whether a second backward is an error). Returns `self`.
    @discardableResult
    public func recording(_ name: String, inputs: [Tensor?], saving: [SavedTensor] = [],
                          pullback: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        let edges = inputs.map { $0?.edge }
        guard GradMode.isEnabled, edges.contains(where: { $0 != nil }) else { return self }
        requiresGrad = true
        gradFn = Node(name: name, edges: edges, savesTensors: !saving.isEmpty, pullback: pullback)
        return self
    }

    /// Checks that an in-place op may write this tensor, with PyTorch's errors.
    public func checkInplace() throws {
        guard GradMode.isEnabled else { return }
        if isLeaf && requiresGrad {
            throw TorchError.runtime("a leaf Variable that requires grad is being used in an in-place operation.")
        }
        if requiresGrad, let b = base, b.isLeaf && b.requiresGrad {
            throw TorchError.runtime("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        }
    }

    /// Writes `newData` into this tensor's storage (bumping the version counter) and, when
    /// recording, rebases its history: the new node's first input is the tensor as it was,
    /// followed by `others`. Call `checkInplace()` before computing `newData`.
    public func commitInplace(_ newData: TensorData, name: String, others: [Tensor?] = [],
                              saving: [SavedTensor] = [], pullback: @escaping (Tensor) throws -> [Tensor?]) {
        precondition(newData.count == numel && newData.dtype == dtype)
        let edges = [edge] + others.map { $0?.edge }
        storage.data = newData
        storage.version += 1
        guard GradMode.isEnabled, edges.contains(where: { $0 != nil }) else { return }
        requiresGrad = true
        gradFn = Node(name: name, edges: edges, savesTensors: !saving.isEmpty, pullback: pullback)
    }

    /// `commitInplace` for an op whose backward needs its own result (`sigmoid_`, `exp_`, ...):
    /// the new value is saved after the write, at its new version, and handed to `pullback`
    /// unpacked (so a later in-place write to it is PyTorch's version error).
    public func commitInplace(_ newData: TensorData, name: String, others: [Tensor?] = [],
                              pullbackWithOutput pullback: @escaping (_ grad: Tensor, _ output: Tensor) throws -> [Tensor?]) {
        var saved: SavedTensor?
        commitInplace(newData, name: name, others: others, saving: [SavedTensor(output: self, of: name)]) { g in
            try pullback(g, try saved!.unpack())
        }
        saved = SavedTensor(output: self, of: name)
    }

    /// Bumps the version counter without any autograd (for writes made under `no_grad`).
    public func markModified() { storage.version += 1 }

    /// Writes `newData` as `with torch.no_grad(): t.copy_(src)` does: no history, version bumped
    /// (how `load_state_dict` fills parameters). `bumpingVersion: false` is a write through a raw
    /// pointer, as ATen's batch-norm kernel updates `running_mean`/`running_var` (their
    /// `_version` stays 0 after `F.batch_norm`).
    public func overwrite(with newData: TensorData, bumpingVersion: Bool = true) {
        precondition(newData.count == numel && newData.dtype == dtype)
        storage.data = newData
        if bumpingVersion { storage.version += 1 }
    }

    /// `requires_grad_(flag)`: only a leaf's flag can change.
    public func requiresGrad_(_ flag: Bool = true) throws {
        guard isLeaf else {
            if flag { return }  // a non-leaf in a graph already requires grad
            throw TorchError.runtime("you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
        }
        if flag && !dtype.isFloatingPoint {
            throw TorchError.runtime("only Tensors of floating point dtype can require gradients")
        }
        requiresGrad = flag
    }
}

/// A tensor an op keeps for its backward. Unpacking checks PyTorch's version counter, so a
/// saved value modified in place since is an error instead of a silently wrong gradient.
public struct SavedTensor {
    let storage: Storage
    let shape: [Int]
    let savedVersion: Int
    /// The node whose output was saved, when the op saved its own output.
    let outputOf: String?
    /// The saved input itself, weakly: PyTorch names its *current* `grad_fn` in the error.
    weak var source: Tensor?

    /// Saves an input `t` of the op being recorded.
    public init(_ t: Tensor) {
        storage = t.storage
        shape = t.shape
        savedVersion = t.storage.version
        outputOf = nil
        source = t
    }

    /// Saves `t`, the output of the node named `node` that is being recorded.
    public init(output t: Tensor, of node: String) {
        storage = t.storage
        shape = t.shape
        savedVersion = t.storage.version
        outputOf = node
        source = nil
    }

    public func unpack() throws -> Tensor {
        if storage.version != savedVersion {
            // PyTorch prints the forward's name: "Sigmoid" for SigmoidBackward0, "Elu1" for EluBackward1.
            let producer = (outputOf ?? source?.gradFn?.name).map {
                $0.replacingOccurrences(of: #"Backward0$|Backward(?=\d+$)"#, with: "", options: .regularExpression)
            }
            let what = "[\(storage.data.dtype.legacyTypeName) \(shapeString(shape))]"
                + (producer.map { ", which is output 0 of \($0)," } ?? "")
            throw TorchError.runtime(
                "one of the variables needed for gradient computation has been modified by an inplace operation: "
                + "\(what) is at version \(storage.version); expected version \(savedVersion) instead. "
                + "Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
                + "with torch.autograd.set_detect_anomaly(True, check_nan=False).")
        }
        return Tensor(shape: shape, data: storage.data)
    }
}

extension Tensor {
    /// `tensor.backward(gradient)`: accumulates d(self)/d(leaf) · gradient into every leaf's `.grad`.
    public func backward(gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        guard requiresGrad else {
            throw TorchError.runtime("element 0 of tensors does not require grad and does not have a grad_fn")
        }
        let seed: Tensor
        if let g = gradient {
            guard g.shape == shape else {
                throw TorchError.runtime("Mismatch in shape: grad_output[0] has a shape of torch.Size(\(shapeString(g.shape))) and output[0] has a shape of torch.Size(\(shapeString(shape))).")
            }
            seed = Tensor(shape: shape, data: g.data.converted(to: dtype))
        } else {
            guard numel == 1 else { throw TorchError.runtime("grad can be implicitly created only for scalar outputs") }
            seed = Tensor(shape: shape, data: TensorData.float64([1]).converted(to: dtype))
        }
        try GradMode.noGrad { try Autograd.run(from: edge!, seed: seed, retainGraph: retainGraph) }
    }
}

enum Autograd {
    static func run(from root: Edge, seed: Tensor, retainGraph: Bool) throws {
        guard case .node(let rootNode) = root else {
            if case .leaf(let t) = root { accumulate(seed, into: t) }
            return
        }
        // Topological order: a node runs after every node that sends it a gradient.
        var order: [Node] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Node, Bool)] = [(rootNode, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for case .node(let parent)? in node.edges where !visited.contains(ObjectIdentifier(parent)) {
                stack.append((parent, false))
            }
        }
        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(rootNode): seed]
        for node in order.reversed() {
            guard let g = pending.removeValue(forKey: ObjectIdentifier(node)) else { continue }
            if node.released && node.savesTensors {
                throw TorchError.runtime(
                    "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.")
            }
            let grads = try node.pullback(g)
            if !retainGraph { node.released = true }
            for (edge, grad) in zip(node.edges, grads) {
                guard let edge, let grad else { continue }
                switch edge {
                case .leaf(let t): accumulate(grad, into: t)
                case .node(let n):
                    let k = ObjectIdentifier(n)
                    pending[k] = pending[k].map { sameShapeSum($0, grad) } ?? grad
                }
            }
        }
    }

    static func accumulate(_ g: Tensor, into leaf: Tensor) {
        let g = Tensor(shape: leaf.shape, data: g.data.converted(to: leaf.dtype))
        leaf.grad = leaf.grad.map { sameShapeSum($0, g) } ?? g
    }

    static func sameShapeSum(_ a: Tensor, _ b: Tensor) -> Tensor {
        switch (a.data, b.data.converted(to: a.dtype)) {
        case (.float32(let x), .float32(let y)): return Tensor(shape: a.shape, zip(x, y).map(+))
        case (.float64(let x), .float64(let y)): return Tensor(shape: a.shape, zip(x, y).map(+))
        default: preconditionFailure("gradients are floating point")
        }
    }
}
