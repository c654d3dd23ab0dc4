import Foundation
import NNCore

/// One `nnconf/1` case, parsed and checked. A case the format does not allow is kept as
/// `.invalid` with the reason, so it is reported rather than dropped.
public struct FixtureCase {
    /// `<file relative to the fixture directory, without .json>/<name>`.
    public let id: String
    public let file: String
    public let name: String
    public let body: Body
    public var tolerance: Tolerance?
    public var gradTolerance: Tolerance?
    public var tags: [String] = []
    /// For an `.invalid` body: the same reason, located (file, case, JSON path).
    public var problem: FixtureProblem?

    public enum Body {
        case call(CallSpec)
        case program([Step])
        case invalid(String)
    }

    /// The op a case exercises, for grouping in reports: the call, or a program's first call.
    public var op: String {
        switch body {
        case .call(let c): return c.op
        case .program(let steps): return "program:" + (steps.lazy.compactMap(\.op).first ?? "")
        case .invalid: return "(invalid)"
        }
    }
}

public struct Tolerance: Equatable, Codable {
    public var rtol: Double
    public var atol: Double
    public init(rtol: Double, atol: Double) {
        self.rtol = rtol
        self.atol = atol
    }
}

/// A tensor as a fixture describes it; `make()` builds a fresh tensor every time it is needed,
/// so each backend and each timed repetition starts from the fixture's own values.
public struct TensorSpec {
    public let shape: [Int]
    public let data: TensorData
    public let requiresGrad: Bool

    public func make() -> Tensor { Tensor(shape: shape, data: data, requiresGrad: requiresGrad) }
    public var dtype: DType { data.dtype }
}

/// An argument value: a scalar, string, null, tensor, reference to a program name, or list.
public indirect enum ValueSpec {
    case literal(Value)
    case tensor(TensorSpec)
    case ref(String)
    case list([ValueSpec])

    var references: [String] {
        switch self {
        case .ref(let n): return [n]
        case .list(let l): return l.flatMap(\.references)
        default: return []
        }
    }
}

public struct ErrorSpec {
    public let type: String
    public let match: String?
}

public struct Expectation {
    /// Expected outputs: one tensor, or a tuple's tensors (nil for a `null` entry).
    public var outputs: [TensorSpec?]?
    public var isTuple = false
    public var error: ErrorSpec?
    public var warning: String?
    /// A property check for a random op, instead of `output` (RandomOps.swift).
    public var dropout: DropoutExpectation?
}

public struct BackwardSpec {
    public let gradOutput: TensorSpec?
    public let grads: [(String, TensorSpec)]
}

public struct CallSpec {
    public let op: String
    public let args: [(String, ValueSpec)]
    public let expect: Expectation?
    public let backward: BackwardSpec?
}

/// A `torch.nn` module as a program builds it: `nn.<cls>(**args)`, children for containers,
/// then `state` loaded as by `load_state_dict`.
public struct ModuleSpec {
    public let cls: String
    public let args: [(String, ValueSpec)]
    public let children: [(String, ModuleSpec)]
    public let state: [(String, TensorSpec)]
}

/// One step of a program case (see `Program.swift` for what each does).
public struct Step {
    public enum Action {
        case tensor(TensorSpec)
        case call(op: String, args: [(String, ValueSpec)])
        case module(ModuleSpec)
        case forward(module: String, args: [(String, ValueSpec)])
        case train(String), eval(String)
        case zeroGrad(String)
        case requiresGrad(String, Bool)
        case noGrad([Step])
        case backward(String, gradient: TensorSpec?, retainGraph: Bool)
        case checkValue(String, TensorSpec)
        case checkGrad(String, TensorSpec?)
        case checkAttrs(String, [(String, JSON)])
        case checkParameterNames(String, [String])
        case checkState(String, [(String, TensorSpec)])
    }
    public let name: String?
    public let action: Action
    public let expect: Expectation?
    /// Where the step sits in the file, e.g. `program[3]`, for messages.
    public let path: String

    public var op: String? { ops.first }

    /// The ops this step calls (its own, or those of the steps it nests).
    public var ops: [String] {
        switch action {
        case .call(let op, _): return [op]
        case .noGrad(let steps): return steps.flatMap(\.ops)
        default: return []
        }
    }

    /// The `torch.nn` classes this step builds, children included.
    public var moduleClasses: [String] {
        func classes(_ m: ModuleSpec) -> [String] { [m.cls] + m.children.flatMap { classes($0.1) } }
        switch action {
        case .module(let m): return classes(m)
        case .noGrad(let steps): return steps.flatMap(\.moduleClasses)
        default: return []
        }
    }
}
