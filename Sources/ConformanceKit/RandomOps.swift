import NNCore

/// `expect.dropout`: a dropout call is judged by what every correct dropout satisfies, since no
/// two generators draw the same mask (docs/fixture-format.md, "Random ops").
///
///     "expect": {"dropout": {"p": 0.2, "mask_dims": 2, "alpha": false, "sigma": 5}}
public struct DropoutExpectation: Equatable {
    /// The drop probability; q = 1 − p is the keep probability.
    public var p: Double
    /// The mask is drawn per index of the first `maskDims` dims of the output and shared by the
    /// rest (2 for channel dropout of (N, C, ...)); nil: per element.
    public var maskDims: Int?
    /// Alpha dropout: kept x ↦ a·x + b, dropped ↦ b − a·α (`AlphaDropoutConstants`); else
    /// kept x ↦ x/q, dropped ↦ 0. For p = 1 every kind gives x · 0.
    public var alpha = false
    /// k of the kept-fraction bound |K − nq| ≤ k·σ.
    public var sigma = 5.0
}

extension CaseParser {
    func parseDropout(_ json: JSON, path: String) throws -> DropoutExpectation {
        guard json.isObject else { throw FormatError(path: path, message: "must be an object with p") }
        guard let p = json["p"]?.number, p >= 0, p <= 1 else {
            throw FormatError(path: "\(path).p", message: "must be a number in [0, 1]")
        }
        var d = DropoutExpectation(p: p)
        if let m = json["mask_dims"] {
            guard case .int(let n) = m, n >= 0 else { throw FormatError(path: "\(path).mask_dims", message: "must be a non-negative integer") }
            d.maskDims = Int(n)
        }
        if let a = json["alpha"] {
            guard case .bool(let b) = a else { throw FormatError(path: "\(path).alpha", message: "must be true or false") }
            d.alpha = b
        }
        if let s = json["sigma"] {
            guard let k = s.number, k > 0, k.isFinite else { throw FormatError(path: "\(path).sigma", message: "must be a positive number") }
            d.sigma = k
        }
        return d
    }
}

/// Property checks for random ops, run on the op's actual output and gradient.
///
/// Dropout, with x the input, y the output, and q = 1 − p:
/// 1. Values: every element is the dropped value or the kept value of its input, within the
///    case's tolerance (default: the dtype's, docs/tolerance.md). An element whose two values
///    are within tolerance of each other (x = 0 for plain dropout) or whose input is not finite
///    says nothing about the mask and is only checked for being one of them.
/// 2. Units: all informative elements of a unit (a channel, for `mask_dims` < rank) agree.
/// 3. Kept fraction: the K kept of n informative units satisfy |K − nq| ≤ k·σ, σ = √(nq(1 − q)).
///    K ~ Binomial(n, q) for a correct op, so a correct op fails with probability ≤
///    2·exp(−(k²/2) / (1 + k/(3σ))) by Bernstein's inequality, for any n (< 3e-5 at k = 5 once
///    σ ≥ 15), and ≈ 5.7e-7 for large σ by the normal approximation; for q ∈ {0, 1}, σ = 0 and
///    K must be nq. It catches a kernel that drops with probability q instead of p.
/// 4. Gradient (when the case has `backward` and the input requires grad): grad_input equals
///    grad_output · s where the forward kept the unit (s = 1/q, or a for alpha) and 0 where it
///    dropped it: the backward must use the forward's mask.
/// 5. With `inplace: true`, the input holds the output afterwards.
enum RandomOps {
    static var gradcheckSkipped: GradcheckResult {
        GradcheckResult(status: "skipped", maxAbsErr: nil, message: "random op: each evaluation draws a new mask")
    }

    /// Judges the call; on failure sets `r.status` and `r.message`.
    static func check(_ d: DropoutExpectation, _ c: FixtureCase, _ spec: CallSpec, args: [String: Value],
                      output: Tensor?, into r: inout CaseResult) {
        guard case .tensor(let inputSpec)? = spec.args.first(where: { $0.0 == "input" })?.1 else {
            (r.status, r.message) = (.invalid, "expect.dropout: the call has no tensor argument 'input'")
            return
        }
        let shape = inputSpec.shape
        let maskDims = d.maskDims ?? shape.count
        guard maskDims <= shape.count else {
            (r.status, r.message) = (.invalid, "expect.dropout.mask_dims \(maskDims) exceeds the input's rank \(shape.count)")
            return
        }
        let (tolerance, source) = c.tolerance.map { ($0, "fixture") } ?? ToleranceRule.tolerance(inputSpec.dtype, terms: 1)
        r.tolerance = tolerance
        r.toleranceSource = source
        var check = DropoutCheck(d, shape: shape, maskDims: maskDims, x: inputSpec.data.doubles)
        let gradTolerance = c.gradTolerance ?? tolerance
        if let m = check.failure(output: output, dtype: inputSpec.dtype, tolerance: tolerance)
            ?? gradientFailure(check, spec, args, requiresGrad: inputSpec.requiresGrad, tolerance: gradTolerance)
            ?? inplaceFailure(args, output: output) {
            (r.status, r.message) = (.fail, "dropout: " + m)
        }
    }

    private static func gradientFailure(_ check: DropoutCheck, _ spec: CallSpec, _ args: [String: Value],
                                        requiresGrad: Bool, tolerance: Tolerance) -> String? {
        guard let b = spec.backward, requiresGrad else { return nil }
        guard let grad = args["input"]?.tensor?.grad else { return "input has no gradient after backward" }
        let g = b.gradOutput?.data.doubles ?? Array(repeating: 1, count: check.x.count)
        return check.gradientFailure(grad, gradOutput: g, tolerance: tolerance)
    }

    private static func inplaceFailure(_ args: [String: Value], output: Tensor?) -> String? {
        guard case .bool(true)? = args["inplace"], let input = args["input"]?.tensor, let output else { return nil }
        let same = zip(input.doubles, output.doubles).allSatisfy { $0 == $1 || $0.isNaN && $1.isNaN }
        return same && input.shape == output.shape ? nil : "inplace=True, but the input does not hold the output afterwards"
    }
}

/// The dropout properties for one input; `failure` classifies the output's units, which the
/// gradient check then uses.
struct DropoutCheck {
    let d: DropoutExpectation
    let shape: [Int]
    let maskDims: Int
    let x: [Double]
    /// Elements per unit (a unit is `unitSize` consecutive elements, row-major).
    let unitSize: Int
    /// Kept x ↦ scale·x + shift; nil for p = 1, where nothing is kept.
    let kept: (scale: Double, shift: Double)?
    let dropped: Double
    /// Per unit: kept (true), dropped (false), or unknown (no informative element); set by `failure`.
    private(set) var units: [Bool?] = []

    init(_ d: DropoutExpectation, shape: [Int], maskDims: Int, x: [Double]) {
        self.d = d
        self.shape = shape
        self.maskDims = maskDims
        self.x = x
        unitSize = shape.dropFirst(maskDims).reduce(1, *)
        if d.p == 1 {
            (kept, dropped) = (nil, 0)
        } else if d.alpha {
            let k = AlphaDropoutConstants(p: d.p)
            (kept, dropped) = ((k.a, k.b), k.dropped)
        } else {
            (kept, dropped) = ((1 / (1 - d.p), 0), 0)
        }
    }

    private func unitName(_ u: Int) -> String {
        (maskDims == shape.count ? "element " : "channel ") + unravel(u, shape: Array(shape.prefix(maskDims)))
    }

    /// Checks properties 1–3 on `output`, recording each unit's state; nil when they hold.
    mutating func failure(output: Tensor?, dtype: DType, tolerance t: Tolerance) -> String? {
        guard let output else { return "the op returned no tensor" }
        guard output.shape == shape, output.dtype == dtype else {
            return "output is \(output.dtype.rawValue) \(shapeString(output.shape)), expected the input's \(dtype.rawValue) \(shapeString(shape))"
        }
        let y = output.doubles
        let count = unitSize == 0 ? 0 : x.count / unitSize
        units = Array(repeating: nil, count: count)
        var witness = Array(repeating: 0, count: count)  // the element that decided each unit
        let allowDrop = t.atol + t.rtol * abs(dropped)
        for i in x.indices where x[i].isFinite {
            let isDropped = abs(y[i] - dropped) <= allowDrop
            var isKept = false, informative = true
            if let k = kept {
                let v = k.scale * x[i] + k.shift
                let allowKeep = t.atol + t.rtol * abs(v)
                isKept = abs(y[i] - v) <= allowKeep
                informative = abs(v - dropped) > allowKeep + allowDrop
            }
            guard isKept || isDropped else {
                let expected = kept.map { "neither dropped (\(dropped)) nor kept (\($0.scale * x[i] + $0.shift) for input \(x[i]))" }
                return "output at \(unravel(i, shape: shape)) is \(y[i]): " + (expected ?? "not dropped (0.0), though p = 1")
            }
            guard informative else { continue }
            let u = i / unitSize
            if let state = units[u], state != isKept {
                return "\(unitName(u)) is partly dropped: \(unravel(witness[u], shape: shape)) is \(state ? "kept" : "dropped"), "
                    + "\(unravel(i, shape: shape)) is \(isKept ? "kept" : "dropped")"
            }
            (units[u], witness[u]) = (isKept, i)
        }
        let known = units.compactMap { $0 }
        return Self.fractionFailure(kept: known.filter { $0 }.count, of: known.count, p: d.p, k: d.sigma,
                                    what: maskDims == shape.count ? "elements" : "channels")
    }

    /// Property 3: K ~ Binomial(n, q) must lie within k·σ of nq.
    static func fractionFailure(kept: Int, of n: Int, p: Double, k: Double, what: String) -> String? {
        let q = 1 - p, mean = Double(n) * q
        let sigma = (Double(n) * q * p).squareRoot()
        guard abs(Double(kept) - mean) > k * sigma else { return nil }
        return "kept \(kept) of \(n) \(what); 1 − p = \(q) allows \(mean) ± \(k)σ (σ = \(sigma))"
    }

    /// Property 4, after `failure` has classified the units.
    func gradientFailure(_ grad: Tensor, gradOutput g: [Double], tolerance t: Tolerance) -> String? {
        guard grad.shape == shape else { return "grad of input has shape \(shapeString(grad.shape)), expected \(shapeString(shape))" }
        let gx = grad.doubles
        for i in gx.indices {
            let keptGrad = kept.map { g[i] * $0.scale }
            func matches(_ v: Double) -> Bool { abs(gx[i] - v) <= t.atol + t.rtol * abs(v) }
            switch units[i / unitSize] {
            case true?: if let v = keptGrad, !matches(v) { return gradMessage(i, gx[i], v, "kept") }
            case false?: if !matches(0) { return gradMessage(i, gx[i], 0, "dropped") }
            case nil: if !matches(0) && !(keptGrad.map(matches) ?? false) {
                return "grad of input at \(unravel(i, shape: shape)) is \(gx[i]): neither 0 nor grad_output · \(kept?.scale ?? 0)"
            }
            }
        }
        return nil
    }

    private func gradMessage(_ i: Int, _ got: Double, _ expected: Double, _ state: String) -> String {
        "grad of input at \(unravel(i, shape: shape)) is \(got), expected \(expected): "
            + "the forward \(state) \(unitName(i / unitSize)), and the backward must use the same mask"
    }
}
