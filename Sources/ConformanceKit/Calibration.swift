import Foundation

/// A fixed workload timed at the start of every run. Reports store its median; dividing a case's
/// time by it gives a figure that compares across runs on shared or different machines far
/// better than raw milliseconds, which is what `conformance gate` compares.
public enum Calibration {
    /// Median milliseconds of a 192×192×192 single-precision matrix product in plain loops.
    public static func measure(repeats: Int = 5) -> Double {
        let n = 192
        let a = (0..<n * n).map { Float($0 % 7) * 0.25 }, b = (0..<n * n).map { Float($0 % 5) * 0.5 }
        var samples: [Double] = []
        var sink: Float = 0
        for _ in 0..<repeats {
            var c = [Float](repeating: 0, count: n * n)
            let start = DispatchTime.now()
            for i in 0..<n {
                for k in 0..<n {
                    let aik = a[i * n + k]
                    for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
                }
            }
            samples.append(seconds(since: start) * 1000)
            sink += c[n * n / 2]
        }
        precondition(sink.isFinite)
        return samples.sorted()[samples.count / 2]
    }
}
