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
