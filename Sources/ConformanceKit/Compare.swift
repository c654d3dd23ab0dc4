import NNCore

/// How closely one computed tensor agrees with the expected one.
public struct Agreement: Codable, Equatable {
    /// max |actual - expected| over elements (NaN/inf pairs that match count as 0).
    public var maxAbsErr: Double = 0
    /// max |actual - expected| / |expected| over elements with expected != 0.
    public var maxRelErr: Double = 0
    /// max distance in units in the last place of the dtype (adjacent floats are 1 apart).
    public var maxULP: Double = 0
    /// max over elements of |actual - expected| / (atol + rtol·|expected|): ≤ 1 conforms.
    public var toleranceUse: Double = 0
    /// The first non-conforming element, or a shape/dtype mismatch; nil when it conforms.
    public var mismatch: String?
    /// Up to `ElementMismatch.kept` non-conforming elements, in order, for reports' diffs.
    public var mismatches: [ElementMismatch]?

    public var passed: Bool { mismatch == nil }

    enum CodingKeys: String, CodingKey {
        case maxAbsErr = "max_abs_err", maxRelErr = "max_rel_err", maxULP = "max_ulp"
        case toleranceUse = "tolerance_use", mismatch, mismatches
    }

    /// The worse of two agreements, element by element; the first mismatch is kept.
    func merged(_ o: Agreement) -> Agreement {
        Agreement(maxAbsErr: max(maxAbsErr, o.maxAbsErr), maxRelErr: max(maxRelErr, o.maxRelErr),
                  maxULP: max(maxULP, o.maxULP), toleranceUse: max(toleranceUse, o.toleranceUse),
                  mismatch: mismatch ?? o.mismatch, mismatches: mismatches ?? o.mismatches)
    }
}

/// One element outside tolerance: where, what it was, what it should have been.
public struct ElementMismatch: Codable, Equatable {
    public static let kept = 5
    public var index: String
    public var actual: Double
    public var expected: Double
    public var allowed: Double
}

/// Compares `actual` with `expected` as the format says: every element within
/// `atol + rtol·|expected|`, NaN matching NaN, infinities exactly; integers, bools, shapes and
/// dtypes exactly.
public func compare(_ actual: Tensor, _ expected: TensorSpec, tolerance t: Tolerance) -> Agreement {
    var a = Agreement()
    guard actual.shape == expected.shape else {
        a.mismatch = "shape \(shapeString(actual.shape)), expected \(shapeString(expected.shape))"
        return a
    }
    guard actual.dtype == expected.dtype else {
        a.mismatch = "dtype \(actual.dtype.rawValue), expected \(expected.dtype.rawValue)"
        return a
    }
    let x = actual.doubles, e = expected.data.doubles
    let exact = !expected.dtype.isFloatingPoint
    for i in x.indices {
        let (xv, ev) = (x[i], e[i])
        if xv.isNaN && ev.isNaN || xv == ev { continue }
        let diff = abs(xv - ev)
        let allowed = exact ? 0 : t.atol + t.rtol * abs(ev)
        let use = ev.isInfinite || xv.isNaN || ev.isNaN ? Double.infinity : (allowed > 0 ? diff / allowed : .infinity)
        a.maxAbsErr = max(a.maxAbsErr, diff.isNaN ? .infinity : diff)
        if ev != 0 { a.maxRelErr = max(a.maxRelErr, diff.isNaN ? .infinity : diff / abs(ev)) }
        a.maxULP = max(a.maxULP, ulpDistance(xv, ev, dtype: expected.dtype))
        a.toleranceUse = max(a.toleranceUse, use)
        if use > 1 {
            let index = unravel(i, shape: expected.shape)
            if a.mismatch == nil {
                a.mismatch = "at \(index): got \(xv), expected \(ev) (|diff| \(diff) > allowed \(allowed))"
            }
            if (a.mismatches?.count ?? 0) < ElementMismatch.kept {
                a.mismatches = (a.mismatches ?? []) + [ElementMismatch(index: index, actual: xv, expected: ev, allowed: allowed)]
            }
        }
    }
    return a
}

/// Units in the last place between two values of `dtype`: the count of representable values
/// from one to the other. Infinite when one is NaN and the other is not.
public func ulpDistance(_ a: Double, _ b: Double, dtype: DType) -> Double {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : .infinity }
    switch dtype {
    case .float32:
        func ordered(_ v: Double) -> Int64 {
            let bits = Int64(Int32(bitPattern: Float(v).bitPattern))
            return bits < 0 ? Int64(Int32.min) - bits : bits
        }
        return Double(abs(ordered(a) - ordered(b)))
    case .float64:
        func ordered(_ v: Double) -> Int64 {
            let bits = Int64(bitPattern: v.bitPattern)
            return bits < 0 ? Int64.min - bits : bits
        }
        let (x, y) = (ordered(a), ordered(b))
        return Double(x > y ? UInt64(bitPattern: x &- y) : UInt64(bitPattern: y &- x))
    case .int64, .bool:
        return abs(a - b)
    }
}

/// The multi-index of flat index `i` in a row-major tensor of `shape`, as `[0, 2, 1]`.
func unravel(_ i: Int, shape: [Int]) -> String {
    var rest = i
    var index = [Int](repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return shapeString(index)
}
