import Foundation

/// A fixed workload timed at the start of every run. Reports store it; dividing a case's time by
/// it gives a figure that compares across runs on shared or different machines far better than
/// raw milliseconds, which is what `conformance gate` compares.
public enum Calibration {
    /// Milliseconds of a 64×64×64 single-precision matrix product in plain loops: the minimum
    /// of many short samples, since load from other processes can only make a sample slower.
    public static func measure(samples: Int = 60) -> Double {
        let n = 64
        let a = (0..<n * n).map { Float($0 % 7) * 0.25 }, b = (0..<n * n).map { Float($0 % 5) * 0.5 }
        var best = Double.infinity
        var sink: Float = 0
        for _ in 0..<samples {
            var c = [Float](repeating: 0, count: n * n)
            let start = DispatchTime.now()
            for i in 0..<n {
                for k in 0..<n {
                    let aik = a[i * n + k]
                    for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
                }
            }
            best = min(best, seconds(since: start) * 1000)
            sink += c[n * n / 2]
        }
        precondition(sink.isFinite)
        return best
    }
}
