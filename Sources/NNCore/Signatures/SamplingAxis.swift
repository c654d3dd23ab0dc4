// `grid_sample`'s per-axis coordinate rules, shared by every backend's kernel: normalized grid
// coordinates to pixel coordinates, padding and reflection, in ATen's order of operations.
//
// ATen runs a 4-D input through its vectorized 2-D kernel (`GridSamplerKernel.cpp`) and a 5-D
// input through the scalar 3-D kernel (`GridSampler.cpp` with the helpers of `GridSampler.h`).
// They agree in exact arithmetic and differ in details modelled here: the order of the
// unnormalizing operations and where `border` and `reflection` put a NaN coordinate (the vector
// clamp sends it to 0, the scalar `std::min(s − 1, std::max(u, 0))` to `s − 1`).

/// How one spatial axis of `size` pixels maps a normalized coordinate `g` to a pixel coordinate `u`.
public struct SamplingAxis<T: FloatScalar> {
    public let size: Int
    public let alignCorners: Bool
    public let padding: GridSampleCall.Padding
    /// ATen's vectorized 2-D kernel, else its scalar 3-D kernel (see the file comment).
    public let vectorized: Bool

    public init(size: Int, alignCorners: Bool, padding: GridSampleCall.Padding, vectorized: Bool) {
        (self.size, self.alignCorners, self.padding, self.vectorized) = (size, alignCorners, padding, vectorized)
    }

    /// `du/dg` of the unnormalization: `(s − 1)/2`, or `s/2` for align_corners=False.
    @inlinable public var scale: T { alignCorners ? T(size - 1) / 2 : T(size) / 2 }

    /// `u` from `g`, in the kernel's order of operations (the vectorized kernel's multiply-add is
    /// fused: it is built with FMA, the scalar 3-D kernel without).
    @inlinable public func unnormalize(_ g: T) -> T {
        switch (vectorized, alignCorners) {
        case (true, true): return (g + 1) * scale
        case (true, false): return T(-0.5).addingProduct(g + 1, scale)
        case (false, true): return (g + 1) / 2 * T(size - 1)
        case (false, false): return ((g + 1) * T(size) - 1) / 2
        }
    }

    /// `padding_mode` applied to `u`, with its slope `d(padded)/du`.
    @inlinable public func pad(_ u: T) -> (coordinate: T, slope: T) {
        switch padding {
        case .zeros:
            return (u, 1)
        case .border:
            return clip(u)
        case .reflection:
            let (reflected, sign) = reflect(u)
            let (clipped, slope) = clip(reflected)
            return (clipped, sign * slope)
        }
    }

    /// `clamp(u, 0, s − 1)`, slope 0 at and beyond either end (ATen counts the ends as outside).
    @inlinable public func clip(_ u: T) -> (T, T) {
        let last = T(size - 1)
        if u.isNaN { return (vectorized ? 0 : last, 0) }
        if u <= 0 { return (0, 0) }
        if u >= last { return (last, 0) }
        return (u, 1)
    }

    /// ATen's `reflect_coordinates`: `u` mirrored at `low` and `low + span` until it lies between
    /// them (`low = 0, span = s − 1` with align_corners, else `low = −0.5, span = s`), with the
    /// slope ±1. An empty span gives 0; a non-finite `u` gives NaN.
    @inlinable public func reflect(_ u: T) -> (T, T) {
        let low: T = alignCorners ? 0 : -0.5
        let span: T = alignCorners ? T(size - 1) : T(size)
        guard span > 0 else { return (0, 0) }
        var distance = u - low, sign: T = 1
        if distance < 0 {
            distance = -distance
            sign = -1
        }
        guard distance.isFinite else { return (.nan, sign) }
        let extra = distance.truncatingRemainder(dividingBy: span)
        let flips = (distance / span).rounded(.down)
        if flips.truncatingRemainder(dividingBy: 2) == 0 { return (extra + low, sign) }
        return (span - extra + low, -sign)
    }

    /// The pixel index of a whole-number coordinate if it lies inside the axis. C truncates
    /// toward zero; x86 turns NaN and out-of-range values into the most negative integer, outside.
    @inlinable public func index(_ v: T) -> Int? {
        guard v.isFinite && abs(v) < 0x1p62 else { return nil }
        let i = Int(v)
        return i >= 0 && i < size ? i : nil
    }
}
