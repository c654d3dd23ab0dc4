import NNCore

extension CaseParser {
    static let stepKeys: Set = ["let", "tensor", "call", "args", "module", "children", "state", "forward",
                                "train", "eval", "no_grad", "backward", "gradient", "check", "value", "grad",
                                "attrs", "parameter_names", "expect", "retain_graph", "zero_grad", "requires_grad_"]

    /// Parses one program step; `defined` tracks the names bound so far, so a reference to a
    /// name no earlier step binds is reported here, before anything runs.
    mutating func parseStep(_ json: JSON, path: String, defined: inout Set<String>) throws -> Step {
        guard json.isObject else { throw FormatError(path: path, message: "a step must be an object, got \(json.kind)") }
        for key in json.keys where !Self.stepKeys.contains(key) { log.warnings.append("\(log.id): \(path): unknown step key '\(key)' ignored") }
        var name: String?
        if let l = json["let"] {
            guard case .string(let s) = l else { throw FormatError(path: "\(path).let", message: "must be a string") }
            name = s
        }
        func string(_ key: String) throws -> String {
            guard case .string(let s)? = json[key] else { throw FormatError(path: "\(path).\(key)", message: "must be a string") }
            return s
        }
        func requireDefined(_ n: String, at key: String) throws {
            let root = String(n.split(separator: ".", maxSplits: 1).first ?? "")
            guard defined.contains(n) || defined.contains(root) else {
                throw FormatError(path: "\(path).\(key)", message: "refers to '\(n)', which no earlier step defines")
            }
        }
        func args() throws -> [(String, ValueSpec)] {
            let a = try parseArgs(json["args"], path: "\(path).args")
            for (key, v) in a { for r in v.references { try requireDefined(r, at: "args.\(key)") } }
            return a
        }
        let expect = try json["expect"].map { try parseExpect($0, path: "\(path).expect") }
        let action: Step.Action
        if let t = json["tensor"] {
            guard name != nil else { throw FormatError(path: path, message: "a tensor step needs 'let'") }
            action = .tensor(try parseTensor(t, path: "\(path).tensor"))
        } else if json["call"] != nil {
            action = .call(op: try string("call"), args: try args())
        } else if json["module"] != nil {
            guard name != nil else { throw FormatError(path: path, message: "a module step needs 'let'") }
            action = .module(try parseModule(json, path: path, defined: defined))
        } else if json["forward"] != nil {
            let m = try string("forward")
            try requireDefined(m, at: "forward")
            action = .forward(module: m, args: try args())
        } else if json["train"] != nil {
            let m = try string("train")
            try requireDefined(m, at: "train")
            action = .train(m)
        } else if json["eval"] != nil {
            let m = try string("eval")
            try requireDefined(m, at: "eval")
            action = .eval(m)
        } else if json["zero_grad"] != nil {
            let m = try string("zero_grad")
            try requireDefined(m, at: "zero_grad")
            action = .zeroGrad(m)
        } else if json["requires_grad_"] != nil {
            let m = try string("requires_grad_")
            try requireDefined(m, at: "requires_grad_")
            var flag = true
            if let v = json["value"] {
                guard case .bool(let b) = v else { throw FormatError(path: "\(path).value", message: "must be true or false") }
                flag = b
            }
            action = .requiresGrad(m, flag)
        } else if let inner = json["no_grad"] {
            guard case .array(let steps) = inner else { throw FormatError(path: "\(path).no_grad", message: "must be an array of steps") }
            action = .noGrad(try steps.enumerated().map { try parseStep($1, path: "\(path).no_grad[\($0)]", defined: &defined) })
        } else if json["backward"] != nil {
            let n = try string("backward")
            try requireDefined(n, at: "backward")
            var retain = false
            if let r = json["retain_graph"] {
                guard case .bool(let b) = r else { throw FormatError(path: "\(path).retain_graph", message: "must be true or false") }
                retain = b
            }
            action = .backward(n, gradient: try json["gradient"].map { try parseTensor($0, path: "\(path).gradient") }, retainGraph: retain)
        } else if json["check"] != nil {
            let n = try string("check")
            try requireDefined(n, at: "check")
            action = try parseCheck(json, name: n, path: path)
        } else {
            throw FormatError(path: path, message: "unknown step; expected one of tensor, call, module, forward, train, eval, no_grad, backward, check, zero_grad, requires_grad_")
        }
        if let name { defined.insert(name) }
        return Step(name: name, action: action, expect: expect, path: path)
    }

    /// `{"module": CLASS, "args": {...}, "children": [[NAME, MODULE], ...], "state": {...}}`.
    private func parseModule(_ json: JSON, path: String, defined: Set<String>) throws -> ModuleSpec {
        guard case .string(let cls)? = json["module"] else { throw FormatError(path: "\(path).module", message: "must be a class name") }
        let args = try parseArgs(json["args"], path: "\(path).args")
        for (key, v) in args {
            for r in v.references where !defined.contains(r) && !defined.contains(String(r.prefix { $0 != "." })) {
                throw FormatError(path: "\(path).args.\(key)", message: "refers to '\(r)', which no earlier step defines")
            }
        }
        var children: [(String, ModuleSpec)] = []
        if let c = json["children"] {
            guard case .array(let items) = c else { throw FormatError(path: "\(path).children", message: "must be an array of [name, module] pairs") }
            for (i, item) in items.enumerated() {
                guard case .array(let pair) = item, pair.count == 2, case .string(let n) = pair[0] else {
                    throw FormatError(path: "\(path).children[\(i)]", message: "must be a [name, module] pair")
                }
                children.append((n, try parseModule(pair[1], path: "\(path).children[\(i)][1]", defined: defined)))
            }
        }
        var state: [(String, TensorSpec)] = []
        if let st = json["state"] {
            guard case .object(let entries) = st else { throw FormatError(path: "\(path).state", message: "must be an object of tensors") }
            state = try entries.map { ($0, try parseTensor($1, path: "\(path).state.\($0)")) }
        }
        return ModuleSpec(cls: cls, args: args, children: children, state: state)
    }

    private func parseCheck(_ json: JSON, name: String, path: String) throws -> Step.Action {
        if let v = json["value"] { return .checkValue(name, try parseTensor(v, path: "\(path).value")) }
        if let g = json["grad"] {
            return .checkGrad(name, g == .null ? nil : try parseTensor(g, path: "\(path).grad"))
        }
        if case .object(let attrs)? = json["attrs"] { return .checkAttrs(name, attrs) }
        if case .array(let names)? = json["parameter_names"] {
            return .checkParameterNames(name, try names.map {
                guard case .string(let s) = $0 else { throw FormatError(path: "\(path).parameter_names", message: "must be strings") }
                return s
            })
        }
        if case .object(let entries)? = json["state"] {
            return .checkState(name, try entries.map { ($0, try parseTensor($1, path: "\(path).state.\($0)")) })
        }
        throw FormatError(path: path, message: "a check needs one of value, grad, attrs, parameter_names, state")
    }
}
