// Runs the seeds of an experiment on `concurrency` cores (Parallel.runWorkers): one seed per
// thread, with `cores + seeds % cores` threads when there are more seeds than cores, so the seeds
// end in whole rounds (5 seeds on 2 cores: 3 sharing the cores, then 2); a core no seed occupies
// (fewer seeds than cores, or the last seeds of a run) helps the seeds still training through
// Parallel.serve, which splits each step into pieces fixed by the shapes. BLAS stays
// single-threaded (its own threads would change the summation order), so a seed's numbers are the
// same bits whatever the number of cores.

import Foundation
import IMLBase
import IMLCore
import IMLRunFiles

public enum SeedRunner {
    /// The run stopped on request before every seed finished.
    public struct Stopped: Error {}

    /// Trains every seed; `makeTask` builds a seed's data and model (called on the worker).
    /// Returns the records of all seeds in seed order.
    public static func run(seeds: [UInt64], concurrency: Int, training: TrainingConfig, stages: [Int] = [1, 2],
                           makeTask: @escaping (UInt64) throws -> TrainingTask,
                           progress: ProgressDisplay?) throws -> [MetricRecord] {
        try run(seeds: seeds, concurrency: concurrency, training: training, stages: stages, checkpoints: nil, stop: nil,
                makeTask: makeTask, progress: progress)
    }

    /// As above, continuing every seed from its checkpoint in `checkpoints` (a finished seed is
    /// not trained again) and saving one after every epoch. When `stop` is requested (or a seed
    /// fails), the running seeds save and stop after their current batch, no new seed starts, and
    /// Stopped (or the failure) is thrown. `start`, for a seed not yet started, sets up its task
    /// (another run's stage-1 weights) and returns the records it begins with.
    public static func run(seeds: [UInt64], concurrency: Int, training: TrainingConfig, stages: [Int] = [1, 2],
                           checkpoints: RunCheckpoints?, models: RunModels? = nil, stop: StopFlag?,
                           start: ((UInt64, TrainingTask) throws -> [MetricRecord])? = nil,
                           makeTask: @escaping (UInt64) throws -> TrainingTask,
                           progress: ProgressDisplay?) throws -> [MetricRecord] {
        let shared = SharedWork(seeds: seeds.count, stop: stop)
        Parallel.runWorkers(seeds.count, cores: concurrency) { _ in
            while let index = shared.take() {
                do {
                    let seed = seeds[index]
                    let saved = try checkpoints?.load(seed: seed)
                    if let saved, saved.finished {
                        shared.finish(index, saved.records)
                        continue
                    }
                    let task = try makeTask(seed)
                    let trainer = Trainer(task: task, config: training, seed: seed)
                    if saved == nil, let start { trainer.records = try start(seed, task) }
                    try trainer.run(stages: stages, from: saved, saveCheckpoint: { try checkpoints?.save($0) },
                                    shouldStop: { shared.shouldStop },
                                    evaluated: { stage, epoch in
                                        if let models, models.wants(stage: stage, epoch: epoch) {
                                            try models.save(seed: seed, stage: stage, epoch: epoch, parameters: task.parameters)
                                        }
                                    }) { progress?.update($0) }
                    shared.finish(index, trainer.records)
                } catch is TrainingStopped {
                    return
                } catch {
                    shared.fail(error)
                    return
                }
            }
        }
        progress?.finish()
        if let error = shared.firstError { throw error }
        guard shared.results.allSatisfy({ $0 != nil }) else { throw Stopped() }
        return shared.results.flatMap { $0! }
    }
}

/// The work list the seed threads share: the next seed to take, results, the first error.
private final class SharedWork: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int
    private let stop: StopFlag?
    private(set) var results: [[MetricRecord]?]
    private(set) var firstError: Error?

    init(seeds: Int, stop: StopFlag?) { count = seeds; self.stop = stop; results = Array(repeating: nil, count: seeds) }

    /// True when the seeds should save and stop: a stop was requested or a seed failed.
    var shouldStop: Bool {
        if stop?.isRequested == true { return true }
        lock.lock(); defer { lock.unlock() }
        return firstError != nil
    }

    /// The next seed index, or nil when all are taken, a seed failed or a stop was requested.
    func take() -> Int? {
        if stop?.isRequested == true { return nil }
        lock.lock(); defer { lock.unlock() }
        guard firstError == nil, next < count else { return nil }
        next += 1
        return next - 1
    }
    func finish(_ index: Int, _ records: [MetricRecord]) { lock.lock(); results[index] = records; lock.unlock() }
    func fail(_ error: Error) { lock.lock(); if firstError == nil { firstError = error }; lock.unlock() }
}

/// One status line per run on stderr: stage, epoch, loss, headline EMs of each active seed and
/// an ETA. On a terminal the line is redrawn in place and fits its width (read before every
/// redraw, so a resized window is followed at once): per-seed fields are abbreviated, then
/// dropped, before the line is cut. Elsewhere (CI, logs) a whole line per epoch.
public final class ProgressDisplay {
    let totalSeeds: Int
    let start = Date()
    let lock = NSLock()
    let interactive: Bool
    var latest: [UInt64: TrainingProgress] = [:]
    var finishedSeeds = Set<UInt64>()
    var lastDraw = Date.distantPast
    var lastLength = 0

    public init(seeds: Int) {
        totalSeeds = seeds
        interactive = isatty(STDERR_FILENO) != 0
    }

    func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

    /// Columns of the terminal on stderr (80 when it does not say).
    static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    public func update(_ p: TrainingProgress) {
        lock.lock(); defer { lock.unlock() }
        latest[p.seed] = p
        if p.evaluated && p.examplesDone == p.examplesTotal && p.epoch == p.epochs { finishedSeeds.insert(p.seed) }
        let now = Date()
        if interactive {
            guard now.timeIntervalSince(lastDraw) > 0.25 || p.evaluated else { return }
            lastDraw = now
            // One column short of the width: a line that fills it wraps on some terminals.
            let width = Self.terminalWidth() - 1
            let line = statusLine(now: now, showing: p.seed, width: width)
            let clear = min(max(0, lastLength - line.count), max(0, width - line.count))
            write("\r" + line + String(repeating: " ", count: clear))
            lastLength = line.count
        } else if p.evaluated && p.epoch > 0 {
            write(statusLine(now: now, showing: p.seed) + "\n")
        }
    }

    /// Finished seeds drop out of the line, but `seed`, the one just updated, is shown even if
    /// that update finished it: its last epoch's figures are then printed once. With `width`,
    /// the line has at most that many characters.
    func statusLine(now: Date, showing seed: UInt64? = nil, width: Int? = nil) -> String {
        let done = latest.values.reduce(0) { $0 + $1.examplesDone }
        let perSeedTotal = latest.values.first?.examplesTotal ?? 1
        let total = perSeedTotal * totalSeeds
        let fraction = min(1, Double(done) / Double(max(1, total)))
        let elapsed = now.timeIntervalSince(start)
        let eta = fraction > 0.01 ? elapsed * (1 - fraction) / fraction : .nan
        func bar(_ width: Int) -> String {
            let filled = Int(fraction * Double(width))
            return String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        }
        let active = latest.values.filter { !finishedSeeds.contains($0.seed) || $0.seed == seed }.sorted { $0.seed < $1.seed }
        let percent = "\(Int(fraction * 100))%"
        let headers = [
            "\(bar(20)) \(percent) \(finishedSeeds.count)/\(totalSeeds) seeds done, \(Self.clock(elapsed)) elapsed, ETA \(Self.clock(eta))",
            "\(bar(10)) \(percent) \(finishedSeeds.count)/\(totalSeeds) done, ETA \(Self.clock(eta))",
            "\(percent) ETA \(Self.clock(eta))",
        ]
        // Each seed's fields from the fullest to the shortest.
        func seedTexts(_ p: TrainingProgress, level: Int) -> String {
            let loss = p.loss.isFinite ? String(format: "%.3f", p.loss) : " —  "
            switch level {
            case 0:
                let ems = p.headline.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: " ")
                return "seed \(p.seed) stage \(p.stage) epoch \(p.epoch)/\(p.epochs) loss \(loss) \(ems)"
            case 1:
                let ems = p.headline.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: " ")
                return "s\(p.seed) \(p.stage):\(p.epoch)/\(p.epochs) \(loss) \(ems)"
            case 2:
                let first = p.headline.first.map { String(format: " %@ %.2f", $0.0, $0.1) } ?? ""
                return "s\(p.seed) \(p.stage):\(p.epoch)/\(p.epochs) \(loss)\(first)"
            default:
                return "s\(p.seed) \(p.stage):\(p.epoch)/\(p.epochs)"
            }
        }
        func line(header: String, level: Int) -> String {
            ([header] + active.map { seedTexts($0, level: level) }).joined(separator: " | ")
        }
        guard let width else { return line(header: headers[0], level: 0) }
        // Shorten the seeds' fields and the header by turns, the seeds' figures kept longest.
        for (header, level) in [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3)] {
            let candidate = line(header: headers[header], level: level)
            if candidate.count <= width { return candidate }
        }
        return String(line(header: headers.last!, level: 3).prefix(max(0, width)))
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d", s / 60, s % 60)
    }

    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if interactive { write("\n") }
    }
}
