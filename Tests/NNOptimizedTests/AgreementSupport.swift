import Foundation
import Testing
import NNCore
import NNOptimized
import NNReference

// Shared by the optimized backend's agreement tests: seeded random tensors and `check`, which runs
// an op on both backends and compares outputs, grad_fn, gradients and errors.

struct Random {
    var rng: SplitMix64
    init(_ seed: UInt64) { rng = SplitMix64(seed: seed) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }
    mutating func normal() -> Double {
        let (u, v) = (max(rng.nextUnit(), 1e-300), rng.nextUnit())
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
    mutating func tensor(_ shape: [Int], _ dtype: DType = .float32, scale: Double = 1, offset: Double = 0,
                         grad: Bool = true) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { _ in normal() * scale + offset }
        let t = Tensor(shape: shape, data: TensorData.float64(values).converted(to: dtype))
        if grad && dtype.isFloatingPoint { try! t.requiresGrad_() }
        return t
    }
}

let optimized = Optimized.backend
let reference = Reference.backend

/// Fresh leaf copies of the tensor arguments (so each backend records its own graph).
func copies(_ args: [String: Value]) -> [String: Value] {
    args.mapValues { v in
        switch v {
        case .tensor(let t): return .tensor(t.clone(requiresGrad: t.requiresGrad))
        case .list(let l): return .list(l.map { if case .tensor(let t) = $0 { .tensor(t.clone(requiresGrad: t.requiresGrad)) } else { $0 } })
        default: return v
        }
    }
}

func tensors(_ v: Value) -> [Tensor] {
    switch v {
    case .tensor(let t): return [t]
    case .list(let l): return l.compactMap(\.tensor)
    default: return []
    }
}

/// Whether `a` agrees with `b` element by element within `atol + rtol·|b|` (NaN matching NaN).
func close(_ a: Tensor, _ b: Tensor, rtol: Double, atol: Double) -> String? {
    guard a.shape == b.shape, a.dtype == b.dtype else { return "shape/dtype \(a.shape) \(a.dtype) vs \(b.shape) \(b.dtype)" }
    for (i, (x, y)) in zip(a.doubles, b.doubles).enumerated() {
        if x == y || (x.isNaN && y.isNaN) { continue }
        if !(abs(x - y) <= atol + rtol * abs(y)) { return "element \(i): \(x) vs \(y)" }
    }
    return nil
}

/// Runs `op` on both backends and compares every output, the `grad_fn` of the first, and after
/// a backward with the same random upstream gradient, every input's gradient; also any
/// tensors the op updates in place (running statistics). Errors must be identical.
func check(_ op: String, _ args: [String: Value], rtol: Double = 2e-5, atol: Double = 2e-5,
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (a, b) = (copies(args), copies(args))
    let got: Result<Value, Error> = Result { try optimized.call(op, a) }
    let want: Result<Value, Error> = Result { try reference.call(op, b) }
    switch (got, want) {
    case (.failure(let e), .failure(let f)):
        #expect("\(e)" == "\(f)", "\(op) errors differ", sourceLocation: sourceLocation)
        return
    case (.failure(let e), .success):
        Issue.record("\(op): optimized threw \(e)", sourceLocation: sourceLocation)
        return
    case (.success, .failure(let f)):
        Issue.record("\(op): reference threw \(f)", sourceLocation: sourceLocation)
        return
    case (.success(let x), .success(let y)):
        let (xs, ys) = (tensors(x), tensors(y))
        #expect(xs.count == ys.count, sourceLocation: sourceLocation)
        for (p, q) in zip(xs, ys) {
            if let m = close(p, q, rtol: rtol, atol: atol) { Issue.record("\(op) output: \(m)", sourceLocation: sourceLocation) }
        }
        for key in args.keys.sorted() {
            guard let p = a[key]?.tensor, let q = b[key]?.tensor, !p.requiresGrad else { continue }
            if let m = close(p, q, rtol: rtol, atol: atol) { Issue.record("\(op) \(key) after: \(m)", sourceLocation: sourceLocation) }
        }
        guard let p = xs.first, let q = ys.first else { return }
        #expect(p.gradFn?.name == q.gradFn?.name, "\(op) grad_fn", sourceLocation: sourceLocation)
        guard p.requiresGrad, q.requiresGrad, p.dtype.isFloatingPoint else { return }
        var r = Random(99)
        let g = r.tensor(p.shape, p.dtype, grad: false)
        let pb = Result { try p.backward(gradient: g) }, qb = Result { try q.backward(gradient: g) }
        switch (pb, qb) {
        case (.failure(let e), .failure(let f)): #expect("\(e)" == "\(f)", sourceLocation: sourceLocation)
        case (.success, .success):
            for key in args.keys.sorted() {
                guard let s = a[key]?.tensor, let t = b[key]?.tensor, t.requiresGrad else { continue }
                guard let gs = s.grad, let gt = t.grad else {
                    #expect(s.grad == nil && t.grad == nil, "\(op) grad of \(key) missing", sourceLocation: sourceLocation)
                    continue
                }
                if let m = close(gs, gt, rtol: rtol * 4, atol: atol * 4) {
                    Issue.record("\(op) grad \(key): \(m)", sourceLocation: sourceLocation)
                }
            }
        default: Issue.record("\(op): backward \(pb) vs \(qb)", sourceLocation: sourceLocation)
        }
    }
}

