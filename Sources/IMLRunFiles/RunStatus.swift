// Where each seed of a run stands, read from its files only (checkpoints, then metrics.jsonl):
// stage and epoch reached, finished or not. Serves `status` for local and submitted runs alike
// and the aggregation's check that every task finished.

import Foundation
import IMLBase

public struct SeedStatus {
    public enum State: Equatable {
        case notStarted
        /// `epochsDone` epochs of `stage` complete; `inEpoch` > 0: stopped inside the next one at that example.
        case training(stage: Int, epochsDone: Int, inEpoch: Int)
        case finished(stage: Int, epochsDone: Int)
        /// The checkpoint cannot be read; the message says why.
        case unreadable(String)
    }

    public var seed: UInt64
    public var state: State
    /// The epochs of each stage in this run (stage -> epochs), from config.json.
    public var epochs: [Int: Int]
    /// True when the state comes from metrics.jsonl (a run without checkpoints, e.g. merged).
    public var fromMetrics = false

    public init(seed: UInt64, state: State, epochs: [Int: Int], fromMetrics: Bool = false) {
        self.seed = seed; self.state = state; self.epochs = epochs; self.fromMetrics = fromMetrics
    }

    public var finished: Bool { if case .finished = state { return true }; return false }

    /// "stage", "epoch" and a few words, for the status table.
    public var columns: (stage: String, epoch: String, state: String) {
        func total(_ stage: Int) -> String { epochs[stage].map { "/\($0)" } ?? "" }
        switch state {
        case .notStarted: return ("-", "-", "not started")
        case let .training(stage, done, inEpoch):
            return ("\(stage)", "\(done)\(total(stage))", inEpoch > 0 ? "stopped inside epoch \(done + 1) (example \(inEpoch))" : "unfinished")
        case let .finished(stage, done): return ("\(stage)", "\(done)\(total(stage))", "finished" + (fromMetrics ? " (metrics.jsonl)" : ""))
        case .unreadable(let why): return ("?", "?", why)
        }
    }

    /// A few words for messages: "finished", "stage 1, after epoch 2 of 3", "not started".
    public var position: String {
        switch state {
        case .notStarted: return "not started"
        case let .training(stage, done, inEpoch):
            let of = epochs[stage].map { " of \($0)" } ?? ""
            return inEpoch > 0 ? "stage \(stage), inside epoch \(done + 1)\(of) at example \(inEpoch)" : "stage \(stage), after epoch \(done)\(of)"
        case .finished: return "finished"
        case .unreadable(let why): return why
        }
    }
}

public enum RunStatus {
    /// The seeds and epochs per stage config.json records, nil when `run` has no readable config.json.
    public static func plan(of run: URL) -> (seeds: [UInt64], epochs: [Int: Int])? {
        guard let config = try? RunConfig.read(RunDirectory(url: run)) else { return nil }
        var epochs: [Int: Int] = [1: config.epochs1]
        if config.stages.contains(2) { epochs[2] = config.epochs2 }
        return (config.seeds, epochs)
    }

    /// Every seed of the run in `run` (its config.json's seeds, else `seeds`).
    public static func seeds(of run: URL, expected seeds: [UInt64] = []) -> [SeedStatus] {
        let plan = plan(of: run)
        let list = plan?.seeds ?? seeds
        let records = (try? RunDirectory(url: run).readMetrics()) ?? []
        let hasSummary = FileManager.default.fileExists(atPath: run.appendingPathComponent(RunDirectory.summaryFile).path)
        return list.map { seed in
            status(run: run, seed: seed, epochs: plan?.epochs ?? [:], records: records, hasSummary: hasSummary)
        }
    }

    static func status(run: URL, seed: UInt64, epochs: [Int: Int], records: [MetricRecord], hasSummary: Bool) -> SeedStatus {
        let checkpoint = run.appendingPathComponent(RunCheckpoints.directoryName).appendingPathComponent("seed-\(seed).checkpoint")
        if FileManager.default.fileExists(atPath: checkpoint.path) {
            do {
                let h = try header(checkpoint)
                let state: SeedStatus.State = h.finished ? .finished(stage: h.stage, epochsDone: h.epochsDone)
                    : .training(stage: h.stage, epochsDone: h.epochsDone, inEpoch: h.batchStart)
                return SeedStatus(seed: seed, state: state, epochs: epochs)
            } catch {
                return SeedStatus(seed: seed, state: .unreadable("checkpoint unreadable: \((error as? IMLError)?.message ?? "\(error)")"), epochs: epochs)
            }
        }
        // No checkpoint: a run made without them (merged) or not started; metrics.jsonl tells.
        let mine = records.filter { $0.seed == seed }
        guard let last = mine.max(by: { ($0.recordStage, $0.recordEpoch) < ($1.recordStage, $1.recordEpoch) }) else {
            return SeedStatus(seed: seed, state: .notStarted, epochs: epochs)
        }
        let (stage, epoch) = (last.recordStage, last.recordEpoch)
        let done = hasSummary && (epochs[stage].map { epoch >= $0 } ?? true) && stage == (epochs.keys.max() ?? stage)
        return SeedStatus(seed: seed, state: done ? .finished(stage: stage, epochsDone: epoch)
                                                  : .training(stage: stage, epochsDone: epoch, inEpoch: 0),
                          epochs: epochs, fromMetrics: true)
    }

    /// The header of a checkpoint (its second line), without reading the weights.
    static func header(_ url: URL) throws -> (stage: Int, epochsDone: Int, batchStart: Int, finished: Bool) {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw IMLError("cannot be opened")
        }
        defer { try? handle.close() }
        var bytes = Data()
        while bytes.filter({ $0 == 0x0A }).count < 2 {
            guard let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty, bytes.count < 16 << 20 else {
                throw IMLError("it ends inside its header")
            }
            bytes.append(chunk)
        }
        let lines = bytes.split(separator: 0x0A, maxSplits: 2, omittingEmptySubsequences: false)
        guard String(decoding: lines[0], as: UTF8.self) == TrainingState.firstLine,
              let h = try? JSON.read([UInt8](lines[1])),
              let stage = h["stage"]?.intValue, let epochs = h["epochs_done"]?.intValue,
              let batch = h["batch_start"]?.intValue, let finished = h["finished"]?.boolValue else {
            throw IMLError("not a checkpoint of this program")
        }
        return (stage, epochs, batch, finished)
    }
}

extension MetricRecord {
    var recordStage: Int {
        switch self {
        case let .exactMatch(_, stage, _, _, _, _): return stage
        case let .trainLoss(_, stage, _, _): return stage
        }
    }
    var recordEpoch: Int {
        switch self {
        case let .exactMatch(_, _, epoch, _, _, _): return epoch
        case let .trainLoss(_, _, epoch, _): return epoch
        }
    }
}
