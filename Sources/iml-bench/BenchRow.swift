/// One line of the benchmark table.
struct BenchRow {
    let name: String
    /// Floating-point operations of one timed iteration (forward + backward unless the name says).
    let flopsPerIteration: Double
    /// The fastest timed iteration.
    let secondsPerIteration: Double
    /// Examples processed per iteration (the batch size), 0 where it makes no sense (sgemm).
    let examplesPerIteration: Int
    /// The median iteration, for rows where the spread matters (the training step).
    var medianSeconds: Double? = nil
    var gflops: Double { flopsPerIteration / secondsPerIteration / 1e9 }
    var examplesPerSecond: Double { Double(examplesPerIteration) / secondsPerIteration }
}

import Foundation

/// Timing for the benchmark rows. Times are the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID):
/// on an idle machine the same as wall time, but not inflated when other jobs share the cores, so
/// runs on a busy machine stay comparable. Slowdowns from shared caches and memory bandwidth
/// (what --concurrent measures) still count. With helper threads (`--threads` above 1) the work of
/// a step is spread over several threads, so the time is wall-clock instead.
enum BenchTimer {
    nonisolated(unsafe) static var wallClock = false

    static func now() -> Double {
        var t = timespec()
        clock_gettime(wallClock ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
    }

    /// Seconds of one call of `body`: the fastest of `repeats` timed calls after `warmup` untimed
    /// ones. The minimum is the least noisy estimate on a machine shared with other work.
    static func secondsPerIteration(repeats: Int, warmup: Int = 2, _ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = now()
            body()
            best = min(best, now() - start)
        }
        return best
    }

    /// `body(thread, iteration)` on `threads` threads at once, each `warmup + repeats` times; the
    /// fastest and the median timed iteration over all threads.
    static func concurrentSecondsPerIteration(threads: Int, repeats: Int, warmup: Int = 2,
                                              _ body: @escaping (Int, Int) -> Void) -> (best: Double, median: Double) {
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var seconds: [Double] = []
        }
        let results = Results()
        let done = DispatchGroup()
        for thread in 0..<threads {
            done.enter()
            let worker = Thread {
                var mine: [Double] = []
                for step in 0..<(warmup + max(1, repeats)) {
                    let start = now()
                    body(thread, step)
                    if step >= warmup { mine.append(now() - start) }
                }
                results.lock.lock(); results.seconds += mine; results.lock.unlock()
                done.leave()
            }
            worker.stackSize = 8 << 20
            worker.start()
        }
        done.wait()
        let sorted = results.seconds.sorted()
        return (sorted[0], sorted[sorted.count / 2])
    }
}
