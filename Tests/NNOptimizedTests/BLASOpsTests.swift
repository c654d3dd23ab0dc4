import Foundation
import NNCore
import NNOptimized
import NNReference
import Testing

/// The GEMM ops of the optimized backend (`linear`, `bilinear`, `conv*`, `conv_transpose*`)
/// against the reference backend: values, `grad_fn` names and gradients, on shapes that reach
/// every path (groups, dilation, stride, padding incl. asymmetric `same`, unbatched inputs,
/// depthwise, 1×1 kernels, several batch elements per GEMM).
@Suite struct BLASOpsTests {
    /// A keyword argument: an int, a list of ints, or a string.
    enum Arg: Sendable, CustomStringConvertible {
        case int(Int), ints([Int]), string(String)
        var value: Value {
            switch self {
            case .int(let i): return .int(i)
            case .ints(let l): return .list(l.map { .int($0) })
            case .string(let s): return .string(s)
            }
        }
        var description: String {
            switch self {
            case .int(let i): return "\(i)"
            case .ints(let l): return "\(l)"
            case .string(let s): return s
            }
        }
    }

    /// One call: tensors by keyword (shapes) and the other keyword arguments.
    struct Case: Sendable, CustomStringConvertible {
        let op: String
        let tensors: [(name: String, shape: [Int])]
        let options: [(name: String, value: Arg)]
        init(_ op: String, _ tensors: KeyValuePairs<String, [Int]>, _ options: KeyValuePairs<String, Arg> = [:]) {
            self.op = op
            self.tensors = tensors.map { ($0.key, $0.value) }
            self.options = options.map { ($0.key, $0.value) }
        }
        var description: String {
            op + "(" + (tensors.map { "\($0.name)=\($0.shape)" } + options.map { "\($0.name)=\($0.value)" })
                .joined(separator: ", ") + ")"
        }
    }

    static let convolutions: [Case] = [
        Case("conv1d", ["input": [2, 4, 9], "weight": [6, 4, 3], "bias": [6]]),
        Case("conv1d", ["input": [4, 10], "weight": [4, 2, 3]], ["groups": .int(2), "stride": .int(2), "padding": .int(1), "dilation": .int(2)]),
        Case("conv1d", ["input": [3, 2, 11], "weight": [2, 2, 4]], ["padding": .string("same")]),
        Case("conv2d", ["input": [2, 6, 7, 8], "weight": [6, 2, 3, 2], "bias": [6]],
             ["groups": .int(3), "stride": .ints([2, 1]), "padding": .ints([1, 0]), "dilation": .ints([1, 2])]),
        Case("conv2d", ["input": [2, 4, 9, 9], "weight": [8, 1, 3, 3], "bias": [8]],
             ["groups": .int(4), "stride": .int(2), "padding": .int(1)]),
        Case("conv2d", ["input": [1, 3, 12, 20], "weight": [3, 1, 5, 3]],
             ["groups": .int(3), "padding": .int(2), "dilation": .ints([1, 2])]),
        Case("conv2d", ["input": [3, 20, 7], "weight": [3, 1, 3, 3], "bias": [3]], ["groups": .int(3), "padding": .int(1)]),
        Case("conv2d", ["input": [3, 5, 6, 6], "weight": [7, 5, 1, 1], "bias": [7]]),
        Case("conv2d", ["input": [1, 5, 40, 40], "weight": [7, 5, 1, 1]]),
        Case("conv2d", ["input": [4, 6, 3, 3], "weight": [4, 6, 1, 1]]),
        Case("conv2d", ["input": [2, 3, 8, 8], "weight": [4, 3, 4, 2]], ["padding": .string("same")]),
        Case("conv2d", ["input": [5, 8, 4, 4], "weight": [16, 8, 3, 3], "bias": [16]], ["padding": .int(1)]),
        Case("conv2d", ["input": [2, 3, 11, 11], "weight": [4, 3, 2, 2]], ["stride": .int(3)]),
        Case("conv2d", ["input": [2, 16, 40, 40], "weight": [8, 16, 3, 3], "bias": [8]], ["padding": .int(1)]),
        Case("conv3d", ["input": [2, 4, 5, 6, 7], "weight": [4, 2, 2, 3, 2], "bias": [4]],
             ["groups": .int(2), "stride": .ints([1, 2, 1]), "padding": .ints([1, 0, 1]), "dilation": .ints([2, 1, 1])]),
        Case("conv3d", ["input": [3, 4, 4, 4], "weight": [2, 3, 3, 3, 3]], ["padding": .int(1)]),
        Case("conv3d", ["input": [2, 2, 5, 5, 5], "weight": [4, 1, 3, 3, 3], "bias": [4]], ["groups": .int(2), "stride": .int(2)]),
        Case("conv3d", ["input": [2, 2, 5, 6, 7], "weight": [4, 1, 3, 2, 4], "bias": [4]],
             ["groups": .int(2), "padding": .string("same"), "dilation": .ints([1, 2, 1])]),
        Case("conv1d", ["input": [3, 4, 30], "weight": [4, 1, 5]], ["groups": .int(4), "padding": .int(1), "dilation": .int(3)]),
        // Column buffers over budget: blocks of positions, then blocks of channels.
        Case("conv1d", ["input": [1, 2, 300_000], "weight": [2, 2, 8], "bias": [2]], ["padding": .int(3)]),
        Case("conv2d", ["input": [1, 512, 32, 32], "weight": [2, 512, 3, 3]], ["padding": .int(1)]),
        Case("conv_transpose1d", ["input": [1, 2, 300_000], "weight": [2, 2, 8]], ["padding": .int(3)]),
        Case("conv_transpose1d", ["input": [2, 4, 6], "weight": [4, 3, 3], "bias": [3]],
             ["stride": .int(2), "padding": .int(1), "output_padding": .int(1)]),
        Case("conv_transpose2d", ["input": [2, 6, 5, 4], "weight": [6, 2, 3, 3], "bias": [6]],
             ["groups": .int(3), "stride": .ints([2, 1]), "padding": .int(1), "output_padding": .ints([1, 0]), "dilation": .ints([1, 2])]),
        Case("conv_transpose2d", ["input": [4, 5, 5], "weight": [4, 3, 2, 2]], ["stride": .int(2)]),
        Case("conv_transpose2d", ["input": [3, 4, 5, 5], "weight": [4, 6, 1, 1], "bias": [6]]),
        Case("conv_transpose2d", ["input": [2, 4, 6, 6], "weight": [4, 1, 3, 3]], ["groups": .int(4), "stride": .int(2), "padding": .int(1)]),
        Case("conv_transpose2d", ["input": [2, 8, 16, 16], "weight": [8, 4, 4, 4], "bias": [4]], ["stride": .int(2), "padding": .int(1)]),
        Case("conv_transpose3d", ["input": [1, 4, 3, 4, 3], "weight": [4, 2, 2, 3, 2], "bias": [4]],
             ["groups": .int(2), "stride": .int(2), "padding": .ints([0, 1, 0]), "output_padding": .ints([1, 1, 0])]),
        Case("conv_transpose3d", ["input": [2, 3, 3, 3], "weight": [2, 3, 3, 3, 3]], ["padding": .int(1)]),
    ]

    static let affine: [Case] = [
        Case("linear", ["input": [5, 7], "weight": [3, 7], "bias": [3]]),
        Case("linear", ["input": [2, 3, 7], "weight": [4, 7]]),
        Case("linear", ["input": [2, 3, 7], "weight": [4, 7], "bias": [3, 4]]),
        Case("linear", ["input": [7], "weight": [4, 7], "bias": [4]]),
        Case("linear", ["input": [5, 7], "weight": [7]]),
        Case("linear", ["input": [7], "weight": [7]]),
        Case("linear", ["input": [5, 7], "weight": [3, 7], "bias": []]),
        Case("linear", ["input": [64, 300], "weight": [200, 300], "bias": [200]]),
        Case("bilinear", ["input1": [5, 3], "input2": [5, 4], "weight": [6, 3, 4], "bias": [6]]),
        Case("bilinear", ["input1": [2, 3, 3], "input2": [2, 3, 4], "weight": [2, 3, 4]]),
        Case("bilinear", ["input1": [3], "input2": [4], "weight": [5, 3, 4], "bias": [5]]),
    ]

    /// Deterministic values in [-1, 1).
    static func random(_ shape: [Int], _ dtype: DType, seed: UInt64) -> Tensor {
        var g = SplitMix64(seed: seed)
        let values = (0..<shape.reduce(1, *)).map { _ in g.nextUnit() * 2 - 1 }
        return Tensor(shape: shape, data: TensorData.float64(values).converted(to: dtype), requiresGrad: true)
    }

    /// Runs `c` on `backend` with fresh leaves; returns the output and the leaves after a
    /// backward with a fixed random output gradient.
    static func run(_ c: Case, on backend: some Backend, _ dtype: DType) throws -> (output: Tensor, leaves: [String: Tensor]) {
        var values: [String: Value] = [:], leaves: [String: Tensor] = [:]
        for (k, (name, shape)) in c.tensors.enumerated() {
            let t = random(shape, dtype, seed: UInt64(k + 1))
            leaves[name] = t
            values[name] = .tensor(t)
        }
        for (name, v) in c.options { values[name] = v.value }
        let y = try #require(try backend.call(c.op, values).tensor)
        let g = random(y.shape, dtype, seed: 99)
        try y.backward(gradient: Tensor(shape: g.shape, data: g.data))
        return (y, leaves)
    }

    /// `|a − b| ≤ tol · √n · max(1, max|b|)`, elementwise, where `n` bounds the length of the
    /// sums (the summation orders differ: GEMM blocks, the reference runs in sequence).
    static func expectClose(_ a: Tensor?, _ b: Tensor?, _ what: String, _ dtype: DType, sumLength n: Int) {
        guard let a, let b else {
            #expect(a == nil && b == nil, "\(what): one side has no value")
            return
        }
        #expect(a.shape == b.shape, "\(what): shape")
        #expect(a.dtype == b.dtype, "\(what): dtype")
        let x = a.doubles, y = b.doubles
        let scale = max(1, y.map(abs).max() ?? 0)
        let tol = (dtype == .float32 ? 1e-6 : 1e-14) * Double(max(n, 1)).squareRoot() * scale
        let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= tol, "\(what): max |Δ| \(worst) > \(tol)")
    }

    @Test(arguments: convolutions + affine, [DType.float32, .float64])
    func agreesWithReference(_ c: Case, _ dtype: DType) throws {
        let (y, leaves) = try Self.run(c, on: Optimized.backend, dtype)
        let (yr, leavesR) = try Self.run(c, on: Reference.backend, dtype)
        #expect(y.gradFn?.name == yr.gradFn?.name)
        #expect(y.shape == yr.shape)
        let n = (c.tensors.map { $0.shape.reduce(1, *) } + [y.numel]).max() ?? 1
        Self.expectClose(y, yr, "\(c) output", dtype, sumLength: n)
        for (name, _) in c.tensors {
            Self.expectClose(leaves[name]?.grad, leavesR[name]?.grad, "\(c) ∂\(name)", dtype, sumLength: n)
        }
    }

    @Test func onlyRequestedGradients() throws {
        // An input that does not require grad gets none; the others still do.
        let x = Tensor(shape: [2, 3, 6, 6], data: Self.random([2, 3, 6, 6], .float32, seed: 1).data)
        let w = Self.random([4, 3, 3, 3], .float32, seed: 2)
        let y = try #require(try Optimized.backend.call("conv2d", ["input": .tensor(x), "weight": .tensor(w)]).tensor)
        try y.backward(gradient: Self.random(y.shape, .float32, seed: 3))
        #expect(x.grad == nil)
        #expect(w.grad?.shape == [4, 3, 3, 3])
    }

    @Test(arguments: ["conv2d", "conv_transpose2d", "linear"])
    func savedTensorModifiedInPlaceIsAnError(_ op: String) throws {
        func attempt(_ backend: some Backend) throws -> String {
            let shapes: (x: [Int], w: [Int]) = op == "linear" ? ([3, 4], [5, 4]) : ([1, 2, 5, 5], [2, 2, 3, 3])
            let x = Self.random(shapes.x, .float32, seed: 1), w = Self.random(shapes.w, .float32, seed: 2)
            let y = try #require(try backend.call(op, ["input": .tensor(x), "weight": .tensor(w)]).tensor)
            w.markModified()
            do {
                try y.backward(gradient: Self.random(y.shape, .float32, seed: 3))
            } catch let e as TorchError {
                return e.description
            }
            return "no error"
        }
        let optimized = try attempt(Optimized.backend), reference = try attempt(Reference.backend)
        #expect(optimized.contains("modified by an inplace operation"))
        #expect(optimized == reference)
    }

    @Test func unbatchedOutputsSqueeze() throws {
        let x = Self.random([3, 8], .float64, seed: 1), w = Self.random([5, 3, 3], .float64, seed: 2)
        let y = try #require(try Optimized.backend.call("conv1d", ["input": .tensor(x), "weight": .tensor(w)]).tensor)
        #expect(y.shape == [5, 6])
        #expect(y.gradFn?.name == "SqueezeBackward1")
        let t = try #require(try Optimized.backend.call("conv_transpose1d", ["input": .tensor(x), "weight": .tensor(Self.random([3, 2, 3], .float64, seed: 3))]).tensor)
        #expect(t.shape == [2, 10])
        #expect(t.gradFn?.name == "SqueezeBackward1")
    }

    @Test func int64IsUnsupported() throws {
        let x = Tensor(shape: [1, 1, 4], int64: [1, 2, 3, 4]), w = Tensor(shape: [1, 1, 2], int64: [1, 1])
        #expect(throws: Unsupported.self) {
            try Optimized.backend.call("conv1d", ["input": .tensor(x), "weight": .tensor(w)])
        }
        #expect(throws: Unsupported.self) {
            try Optimized.backend.call("conv_transpose1d", ["input": .tensor(x), "weight": .tensor(w)])
        }
        #expect(throws: Unsupported.self) {
            try Optimized.backend.call("linear", ["input": .tensor(Tensor(shape: [1, 2], int64: [1, 2])),
                                                  "weight": .tensor(Tensor(shape: [3, 2], int64: [1, 2, 3, 4, 5, 6]))])
        }
    }

    @Test func errorsAreTheSignaturesOwn() throws {
        let x = Self.random([1, 3, 5, 5], .float32, seed: 1), w = Self.random([2, 4, 3, 3], .float32, seed: 2)
        let args: [String: Value] = ["input": .tensor(x), "weight": .tensor(w)]
        #expect(throws: TorchError.self) { try Optimized.backend.call("conv2d", args) }
        #expect(throws: TorchError.self) { try Optimized.backend.call("conv2d", args.merging(["bogus": .int(1)]) { a, _ in a }) }
    }

    @Test func blasDescription() {
        let d = BLAS.description
        #expect(d.range(of: #"^OpenBLAS \d+\.\d+\.\d+ \S+, \d+ threads?$"#, options: .regularExpression) != nil, "\(d)")
        #expect(Optimized.backend.details == d)
    }

    /// SkylakeX is asked for only on an AVX-512 CPU, only over an unset or `Haswell` setting, and
    /// never when `NNCONF_KEEP_OPENBLAS_CORETYPE` is set.
    @Test func preferredCoreTypeEnvironment() throws {
        let env = BLAS.preferredCoreTypeEnvironment()
        let process = ProcessInfo.processInfo.environment
        let overridable = process["NNCONF_KEEP_OPENBLAS_CORETYPE"] == nil && [nil, "Haswell"].contains(process["OPENBLAS_CORETYPE"])
        let cpuinfo = try String(contentsOf: URL(fileURLWithPath: "/proc/cpuinfo"), encoding: .utf8)
        let avx512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy { cpuinfo.contains($0) }
        #expect(env == (overridable && avx512 ? ["OPENBLAS_CORETYPE": "SkylakeX"] : nil))
        // The full re-exec environment adds the thread timeout unless the environment sets one.
        var full = env ?? [:]
        if process["OPENBLAS_THREAD_TIMEOUT"] == nil && process["GOTO_THREAD_TIMEOUT"] == nil {
            full["OPENBLAS_THREAD_TIMEOUT"] = "4"
        }
        #expect(BLAS.preferredEnvironment() == (full.isEmpty ? nil : full))
    }
}
