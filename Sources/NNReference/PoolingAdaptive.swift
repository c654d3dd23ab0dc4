import NNCore

/// `adaptive_avg_pool{n}d`, `adaptive_max_pool{n}d` and `max_unpool{n}d` (see `Pooling.swift`
/// for the window reductions they share, and NNCore's calls for their maths).

/// `adaptive_avg_pool{n}d` and `adaptive_max_pool{n}d`.
func adaptivePool(_ call: AdaptivePoolingCall) throws -> Value {
    if call.kind == .average {
        let size = call.unsqueezed ? Array(call.outputSize.dropFirst()) : call.outputSize
        return .tensor(try adaptiveAveragePool(call.input, outputSize: size))
    }
    let x = call.unsqueezed ? try unsqueezed(call.input, at: call.input.dim - 1) : call.input
    let windows = adaptiveWindows(planes: call.planes, call.inputSize, call.outputSize)
    var (output, indices) = try maxPool(x, windows, outputShape: call.poolOutputShape,
                                        name: "AdaptiveMaxPool\(call.outputSize.count)DBackward0")
    if call.unsqueezed {
        output = try squeezed(output, at: output.dim - 2)
        indices = Tensor(shape: call.outputShape, data: indices.data)
    }
    return call.returnIndices ? .list([.tensor(output), .tensor(indices)]) : .tensor(output)
}

/// `adaptive_avg_pool{1,2,3}d` of the last `outputSize.count` dimensions of `input`, as ATen
/// computes it; also `F.interpolate(mode="area")`. Each window's sum is divided by each of its
/// extents in turn. The 1-d op pools `input.unsqueeze(-2)` to `[1, out]` and squeezes the result;
/// an all-ones output size is `input.mean(spatial dims, keepdim=True)`.
func adaptiveAveragePool(_ input: Tensor, outputSize: [Int]) throws -> Tensor {
    let n = outputSize.count
    if n == 1 {
        let x = try unsqueezed(input, at: input.dim - 1)
        let y = try adaptiveAveragePool(x, outputSize: [1] + outputSize)
        return try squeezed(y, at: y.dim - 2)
    }
    let planes = input.shape.dropLast(n).reduce(1, *), inputSize = Array(input.shape.suffix(n))
    let outputShape = Array(input.shape.dropLast(n)) + outputSize
    if outputSize.allSatisfy({ $0 == 1 }) {
        return try spatialMean(input, planes: planes, outputShape: outputShape, as: floatType(of: input))
    }
    let windows = adaptiveWindows(planes: planes, inputSize, outputSize)
    let extents = perOutput(inputSize.indices.map { d in
        (0..<outputSize[d]).map { adaptiveRange($0, inputSize[d], outputSize[d]).count }
    })
    return try averagePool(input, windows, divisors: extents, outputShape: outputShape,
                           name: "AdaptiveAvgPool\(n)DBackward0")
}

/// Output `o` of `out` covers `[⌊o·in/out⌋, ⌈(o+1)·in/out⌉)` (ATen's `start_index`, `end_index`).
private func adaptiveRange(_ o: Int, _ size: Int, _ out: Int) -> Range<Int> {
    (o * size / out) ..< ((o + 1) * size + out - 1) / out
}

private func adaptiveWindows(planes: Int, _ inputSize: [Int], _ outputSize: [Int]) -> PoolingWindows {
    PoolingWindows(planes: planes, inputSize: inputSize, axes: inputSize.indices.map { d in
        (0..<outputSize[d]).map { Array(adaptiveRange($0, inputSize[d], outputSize[d])) }
    })
}

/// `input.mean(spatial dims, keepdim=True)`: ATen's `sum / count` per plane, recorded as `MeanBackward1`.
private func spatialMean<T: FloatScalar>(_ input: Tensor, planes: Int, outputShape: [Int], as _: T.Type) -> Tensor {
    let x: [T] = input.values(), count = planes == 0 ? 0 : x.count / planes, shape = input.shape
    let y = (0..<planes).map { p in atenSum(Array(x[p * count ..< (p + 1) * count])) / T(count) }
    return Tensor(shape: outputShape, y).recording("MeanBackward1", inputs: [input]) { g in
        let gy: [T] = g.values()
        return [Tensor(shape: shape, (0..<planes * count).map { gy[$0 / count] / T(count) })]
    }
}

/// `max_unpool{n}d`: y[p, indices[p, i]] = x[p, i] in input order, zeros elsewhere; the pullback
/// gathers ∂L/∂x[p, i] = ∂L/∂y[p, indices[p, i]]. With repeated indices that is PyTorch's
/// backward, not the derivative of the forward (where only the last write survives).
func maxUnpool(_ call: MaxUnpoolCall) throws -> Value {
    let x = call.unsqueezed ? try unsqueezed(call.input, at: call.input.dim) : call.input
    let y = try maxUnpool(call, x, as: floatType(of: x))
    return .tensor(call.unsqueezed ? try squeezed(y, at: y.dim - 1) : y)
}

private func maxUnpool<T: FloatScalar>(_ call: MaxUnpoolCall, _ x: Tensor, as _: T.Type) -> Tensor {
    let values: [T] = x.values(), at = call.indices.int64s.map(Int.init)
    let (inCount, outCount) = (call.inputCount, call.outputSize.reduce(1, *))
    var y = [T](repeating: 0, count: call.planes * outCount)
    for i in values.indices { y[i / inCount * outCount + at[i]] = values[i] }
    let saved = SavedTensor(call.indices), shape = x.shape
    return Tensor(shape: call.poolOutputShape, y)
        .recording("MaxUnpool\(call.outputSize.count)DBackward0", inputs: [x], saving: [saved]) { g in
            let at = try saved.unpack().int64s.map(Int.init), gy: [T] = g.values()
            return [Tensor(shape: shape, at.indices.map { i in gy[i / inCount * outCount + at[i]] })]
        }
}

/// `at::sum` of a contiguous row in ATen's order (`cascade_sum`, SumKernel.cpp). A row of at
/// least one 256-bit vector is summed as `lanes`-wide vectors; the leftover elements and then
/// the vector's lanes are added to a scalar. Shorter rows are summed as scalars.
private func atenSum<T: FloatScalar>(_ x: [T]) -> T {
    let lanes = 32 / MemoryLayout<T>.size
    guard x.count >= lanes else { return rowSum(x.count, width: 1) { [x[$0]] }[0] }
    let vectors = x.count / lanes
    let partial = rowSum(vectors, width: lanes) { Array(x[$0 * lanes ..< ($0 + 1) * lanes]) }
    var total = x[(vectors * lanes)...].reduce(0, +)
    for lane in partial { total += lane }
    return total
}

/// ATen's `row_sum` of `count` items (vectors of `width` elements, added lane by lane): item
/// `i` goes to accumulator `i % 4`, each accumulator a four-level cascade that moves its sum one
/// level up every `2^power` rows (`multi_row_sum`); the last `count % 4` items go to accumulator 0,
/// and the accumulators are added into the first.
private func rowSum<T: FloatScalar>(_ count: Int, width: Int, _ item: (Int) -> [T]) -> [T] {
    let zero = [T](repeating: 0, count: width)
    func add(_ a: [T], _ b: [T]) -> [T] { zip(a, b).map(+) }
    let rows = count / 4, levels = 4
    let ceilLog2 = rows <= 2 ? 1 : Int.bitWidth - (rows - 1).leadingZeroBitCount
    let power = max(4, ceilLog2 / levels), mask = (1 << power) - 1
    var acc = [[[T]]](repeating: [[T]](repeating: zero, count: 4), count: levels)
    var i = 0
    while i + (1 << power) <= rows {
        for _ in 0 ..< 1 << power {
            for k in 0..<4 { acc[0][k] = add(acc[0][k], item(4 * i + k)) }
            i += 1
        }
        for level in 1..<levels {
            for k in 0..<4 {
                acc[level][k] = add(acc[level][k], acc[level - 1][k])
                acc[level - 1][k] = zero
            }
            if i & (mask << (level * power)) != 0 { break }
        }
    }
    for row in i..<rows {
        for k in 0..<4 { acc[0][k] = add(acc[0][k], item(4 * row + k)) }
    }
    for level in 1..<levels {
        for k in 0..<4 { acc[0][k] = add(acc[0][k], acc[level][k]) }
    }
    for j in 4 * rows ..< count { acc[0][0] = add(acc[0][0], item(j)) }
    for k in 1..<4 { acc[0][0] = add(acc[0][0], acc[0][k]) }
    return acc[0][0]
}
