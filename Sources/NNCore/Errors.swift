/// An error as PyTorch raises it: the Python exception type and its message.
///
/// Fixtures compare `type` exactly and search `message` with a regular expression, so kernels
/// throw PyTorch's own text (see `aten/src/ATen/native/*.cpp` and `torch/nn/functional.py`).
public struct TorchError: Error, Equatable, CustomStringConvertible, Sendable {
    public var type: String
    public var message: String

    public init(_ type: String, _ message: String) {
        self.type = type
        self.message = message
    }

    public static func runtime(_ m: String) -> TorchError { TorchError("RuntimeError", m) }
    public static func value(_ m: String) -> TorchError { TorchError("ValueError", m) }
    public static func index(_ m: String) -> TorchError { TorchError("IndexError", m) }
    public static func type(_ m: String) -> TorchError { TorchError("TypeError", m) }
    public static func notImplemented(_ m: String) -> TorchError { TorchError("NotImplementedError", m) }

    public var description: String { "\(type): \(message)" }
}

/// Thrown when a backend does not implement an op or one of its argument values.
/// The harness reports it as `unsupported`: counted, never a pass.
public struct Unsupported: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "unsupported: \(reason)" }
}

/// A warning raised by an op (`warnings.warn` in PyTorch).
public struct Warning: Equatable, Sendable, CustomStringConvertible {
    public var category: String
    public var message: String
    public init(_ category: String, _ message: String) {
        self.category = category
        self.message = message
    }
    public var description: String { "\(category): \(message)" }
}

/// Collects the warnings raised while a closure runs; ops call `Warnings.warn`.
public final class Warnings: @unchecked Sendable {
    @TaskLocal static var current: Warnings?
    public private(set) var raised: [Warning] = []

    public init() {}

    /// Raise a warning; it is recorded by the innermost `collect`, and dropped outside one.
    public static func warn(_ message: String, category: String = "UserWarning") {
        current?.raised.append(Warning(category, message))
    }

    /// Runs `body`, returning its result and the warnings it raised.
    public static func collect<R>(_ body: () throws -> R) rethrows -> (R, [Warning]) {
        let sink = Warnings()
        let r = try $current.withValue(sink) { try body() }
        return (r, sink.raised)
    }
}
