/// One line of the benchmark table.
struct BenchRow {
    let name: String
    /// Floating-point operations of one timed iteration (forward + backward unless the name says).
    let flopsPerIteration: Double
    let secondsPerIteration: Double
    /// Examples processed per iteration (the batch size), 0 where it makes no sense (sgemm).
    let examplesPerIteration: Int
    var gflops: Double { flopsPerIteration / secondsPerIteration / 1e9 }
    var examplesPerSecond: Double { Double(examplesPerIteration) / secondsPerIteration }
}

import Foundation

/// Wall-clock timing for the benchmark rows.
enum BenchTimer {
    /// Seconds of one call of `body`: the fastest of `repeats` timed calls after `warmup` untimed
    /// ones. The minimum is the least noisy estimate on a machine shared with other work.
    static func secondsPerIteration(repeats: Int, warmup: Int = 2, _ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return best
    }
}
