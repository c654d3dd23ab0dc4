import NNCore

/// `nn.Sequential`: children called in order, each output the next input. Children are
/// named "0", "1", ... when given positionally, or by the names given.
public final class Sequential: Module {
    public init(_ children: [(String, Module)]) {
        super.init("Sequential")
        for (n, m) in children { addModule(n, m) }
    }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        var x = try singleInput(inputs, of: self)
        for (_, m) in children { x = try m.forward(["input": x], backend: backend) }
        return x
    }

    /// `seq[i]` (negative counts from the end) and `seq[a..<b]`, which is a new Sequential
    /// sharing the children and keeping their names.
    public subscript(index: Int) -> Module? {
        let i = index < 0 ? index + children.count : index
        return children.indices.contains(i) ? children[i].module : nil
    }

    public func slice(_ r: Range<Int>) -> Sequential { Sequential(Array(children[r]).map { ($0.name, $0.module) }) }
}

/// `nn.ModuleList`: children registered as "0", "1", ... (unlike a plain array, whose modules'
/// parameters the parent never sees). It has no forward of its own.
public final class ModuleList: Module {
    public init(_ modules: [Module] = []) {
        super.init("ModuleList")
        extend(modules)
    }

    public func append(_ m: Module) { addModule(String(children.count), m) }
    public func extend(_ ms: [Module]) { ms.forEach(append) }

    /// `insert(index, module)`: later children shift up and are renamed, as in PyTorch.
    public func insert(_ index: Int, _ m: Module) {
        var ms = children.map(\.module)
        ms.insert(m, at: index < 0 ? max(0, index + ms.count) : min(index, ms.count))
        let rebuilt = ModuleList(ms)
        clearChildren()
        for (n, c) in rebuilt.children { addModule(n, c) }
    }

    public subscript(index: Int) -> Module? {
        let i = index < 0 ? index + children.count : index
        return children.indices.contains(i) ? children[i].module : nil
    }
}

/// `nn.ModuleDict`: children under string keys, in insertion order.
public final class ModuleDict: Module {
    public init(_ modules: [(String, Module)] = []) {
        super.init("ModuleDict")
        for (n, m) in modules { addModule(n, m) }
    }
}

/// `nn.ParameterList`: parameters registered as "0", "1", ...
public final class ParameterList: Module {
    public init(_ tensors: [Tensor] = []) {
        super.init("ParameterList")
        for t in tensors { append(t) }
    }

    public func append(_ t: Tensor) { registerParameter(String(parameters.count), t) }
}

/// `nn.ParameterDict`: parameters under string keys.
public final class ParameterDict: Module {
    public init(_ tensors: [(String, Tensor)] = []) {
        super.init("ParameterDict")
        for (n, t) in tensors { registerParameter(n, t) }
    }
}

/// `nn.Identity`: returns its input (constructor arguments are accepted and ignored).
public final class Identity: Module {
    public init() { super.init("Identity") }

    public override func forward(_ inputs: [String: Value], backend: any Backend) throws -> Value {
        try singleInput(inputs, of: self)
    }
}

/// The one input of a single-input module's forward, however the caller named it.
func singleInput(_ inputs: [String: Value], of m: Module) throws -> Value {
    if let x = inputs["input"] { return x }
    guard inputs.count == 1, let x = inputs.values.first else {
        throw TorchError.type("\(m.typeName).forward() takes 1 input, got \(inputs.keys.sorted())")
    }
    return x
}
