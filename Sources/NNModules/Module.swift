import NNCore

/// `torch.nn.Module`: named parameters, buffers and child modules, kept in registration order,
/// and a `forward` that calls functional ops through a backend.
///
/// A module holds no maths of its own (PyTorch's `nn.Conv2d` calls `F.conv2d`); `forward`
/// receives the backend so that the same module runs on the reference backend, the optimized
/// one, or a user's.
open class Module {
    /// The PyTorch class name (`Conv2d`), as error messages print it.
    public let typeName: String
    public private(set) var parameters: [(name: String, tensor: Tensor?)] = []
    public private(set) var buffers: [(name: String, tensor: Tensor?)] = []
    public private(set) var children: [(name: String, module: Module)] = []
    public private(set) var training = true

    public init(_ typeName: String) { self.typeName = typeName }

    /// The module's computation; `inputs` are the forward call's keyword arguments.
    open func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        throw TorchError.notImplemented("Module [\(typeName)] is missing the required \"forward\" function")
    }

    // MARK: registration

    /// `register_parameter`: a leaf that requires grad (or nil, as `bias=False` leaves it).
    public func registerParameter(_ name: String, _ t: Tensor?) {
        try? t?.requiresGrad_(true)  // a parameter is a floating-point leaf
        set(&parameters, name, t)
    }

    public func registerBuffer(_ name: String, _ t: Tensor?) { set(&buffers, name, t) }

    /// `add_module` / `register_module`.
    public func addModule(_ name: String, _ m: Module) {
        if let i = children.firstIndex(where: { $0.name == name }) { children[i].module = m } else { children.append((name, m)) }
    }

    /// Removes every child (for containers that rebuild their numbering).
    func clearChildren() { children.removeAll() }

    private func set(_ list: inout [(name: String, tensor: Tensor?)], _ name: String, _ t: Tensor?) {
        if let i = list.firstIndex(where: { $0.name == name }) { list[i].tensor = t } else { list.append((name, t)) }
    }

    public func parameter(_ name: String) -> Tensor? { parameters.first { $0.name == name }?.tensor ?? nil }
    public func buffer(_ name: String) -> Tensor? { buffers.first { $0.name == name }?.tensor ?? nil }
    public func child(_ name: String) -> Module? { children.first { $0.name == name }?.module }

    // MARK: traversal, in PyTorch's order

    /// `named_modules()`: this module as "", then every descendant, pre-order, each once.
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var seen = Set<ObjectIdentifier>()
        var out: [(String, Module)] = []
        func visit(_ m: Module, _ p: String) {
            guard seen.insert(ObjectIdentifier(m)).inserted else { return }
            out.append((p, m))
            for (n, c) in m.children { visit(c, p.isEmpty ? n : "\(p).\(n)") }
        }
        visit(self, prefix)
        return out
    }

    /// `named_parameters()`: each module's own parameters, modules pre-order, each tensor once.
    public func namedParameters() -> [(String, Tensor)] { namedMembers(\.parameters) }

    /// `named_buffers()`.
    public func namedBuffers() -> [(String, Tensor)] { namedMembers(\.buffers) }

    private func namedMembers(_ members: KeyPath<Module, [(name: String, tensor: Tensor?)]>) -> [(String, Tensor)] {
        var seen = Set<ObjectIdentifier>()
        var out: [(String, Tensor)] = []
        for (p, m) in namedModules() {
            for case let (n, t?) in m[keyPath: members] where seen.insert(ObjectIdentifier(t)).inserted {
                out.append((p.isEmpty ? n : "\(p).\(n)", t))
            }
        }
        return out
    }

    /// `state_dict()`: per module (pre-order), its parameters then its buffers; the tensors
    /// themselves (PyTorch returns detached aliases).
    public func stateDict() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        func visit(_ m: Module, _ p: String) {
            for case let (n, t?) in m.parameters + m.buffers { out.append((p + n, t.detach())) }
            for (n, c) in m.children { visit(c, p + n + ".") }
        }
        visit(self, "")
        return out
    }

    /// A parameter or buffer by dotted name (`features.0.weight`), or a submodule's.
    public func tensor(named dotted: String) -> Tensor? {
        let parts = dotted.split(separator: ".").map(String.init)
        var m: Module = self
        for p in parts.dropLast() {
            guard let c = m.child(p) else { return nil }
            m = c
        }
        guard let last = parts.last else { return nil }
        return m.parameter(last) ?? m.buffer(last)
    }

    public func submodule(named dotted: String) -> Module? {
        dotted.split(separator: ".").reduce(Optional(self)) { m, p in m?.child(String(p)) }
    }

    // MARK: state

    /// `load_state_dict(state, strict)`: copies each entry into the tensor of the same name
    /// (in place, under no_grad); PyTorch's RuntimeError for size mismatches and, when strict,
    /// for missing and unexpected keys.
    public func loadStateDict(_ state: [(String, Tensor)], strict: Bool = true) throws {
        let own = stateDict()
        let given = Dictionary(state, uniquingKeysWith: { _, b in b })
        var problems: [String] = []
        if strict {
            let missing = own.map(\.0).filter { given[$0] == nil }
            let ownNames = Set(own.map(\.0))
            let unexpected = state.map(\.0).filter { !ownNames.contains($0) }
            if !missing.isEmpty { problems.append("Missing key(s) in state_dict: \(missing.map { "\"\($0)\"" }.joined(separator: ", ")). ") }
            if !unexpected.isEmpty { problems.append("Unexpected key(s) in state_dict: \(unexpected.map { "\"\($0)\"" }.joined(separator: ", ")). ") }
        }
        for (name, target) in own {
            guard let source = given[name] else { continue }
            guard source.shape == target.shape else {
                problems.append("size mismatch for \(name): copying a param with shape torch.Size(\(shapeString(source.shape))) from checkpoint, the shape in current model is torch.Size(\(shapeString(target.shape))).")
                continue
            }
        }
        if !problems.isEmpty {
            throw TorchError.runtime("Error(s) in loading state_dict for \(typeName):\n\t" + problems.joined(separator: "\n\t"))
        }
        for (name, target) in own {
            guard let source = given[name] else { continue }
            target.overwrite(with: source.data.converted(to: target.dtype))
        }
    }

    /// `train(mode)` / `eval()`: sets the mode of this module and every descendant.
    public func train(_ mode: Bool = true) {
        for (_, m) in namedModules() { m.training = mode }
    }

    public func eval() { train(false) }

    /// `zero_grad()`: every parameter's `.grad` back to None (PyTorch's default `set_to_none`).
    public func zeroGrad() {
        for (_, p) in namedParameters() { p.grad = nil }
    }

    /// `requires_grad_(flag)` on every parameter.
    public func requiresGrad_(_ flag: Bool = true) throws {
        for (_, p) in namedParameters() { try p.requiresGrad_(flag) }
    }
}
