// The checkpoints of a run directory (checkpoints/seed-N.checkpoint) and metrics.jsonl rewritten
// from them after every epoch, so a killed run keeps both its place and its numbers.

import Foundation
import IMLBase

public final class RunCheckpoints: @unchecked Sendable {
    public static let directoryName = "checkpoints"
    let directory: RunDirectory
    let seeds: [UInt64]
    private let lock = NSLock()
    private var recordsBySeed: [UInt64: [MetricRecord]] = [:]
    /// Told every seed's records as they are loaded and saved.
    let tensorBoard: TensorBoardLog?

    /// A fresh run removes checkpoints a forced overwrite left behind; a resumed run keeps them.
    public init(directory: RunDirectory, seeds: [UInt64], resuming: Bool, tensorBoard: TensorBoardLog? = nil) throws {
        self.directory = directory
        self.seeds = seeds
        self.tensorBoard = tensorBoard
        if !resuming {
            for seed in seeds where FileManager.default.fileExists(atPath: url(seed: seed).path) {
                try FileManager.default.removeItem(at: url(seed: seed))
            }
        }
    }

    public func url(seed: UInt64) -> URL {
        directory.url.appendingPathComponent(Self.directoryName).appendingPathComponent("seed-\(seed).checkpoint")
    }

    /// The saved state of `seed`, or nil when it has none (not started yet); reads only.
    public func read(seed: UInt64) throws -> TrainingState? {
        let file = url(seed: seed)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw IMLError("Cannot read the checkpoint \(file.path) (\(RunFileText.reason(error))); check that it is a readable file.")
        }
        let state = try TrainingState(checkpoint: data, name: file.path)
        guard state.seed == seed else {
            throw IMLError("The checkpoint \(file.path) belongs to seed \(state.seed), not \(seed); delete it to train seed \(seed) again from the start.")
        }
        return state
    }

    /// The saved state of `seed` (as `read`), which from now on counts as the seed's records.
    public func load(seed: UInt64) throws -> TrainingState? {
        guard let state = try read(seed: seed) else { return nil }
        lock.lock(); defer { lock.unlock() }
        recordsBySeed[seed] = state.records
        try tensorBoard?.update(seed: seed, records: state.records)
        return state
    }

    /// Writes `state` atomically, then metrics.jsonl.
    public func save(_ state: TrainingState) throws {
        try AtomicFile.write(state.serialized(), to: url(seed: state.seed))
        lock.lock(); defer { lock.unlock() }
        recordsBySeed[state.seed] = state.records
        try directory.writeMetrics(orderedRecords())
        try tensorBoard?.update(seed: state.seed, records: state.records)
    }

    /// The records of every seed so far, in seed order (the order of an uninterrupted run).
    public var records: [MetricRecord] { lock.lock(); defer { lock.unlock() }; return orderedRecords() }
    private func orderedRecords() -> [MetricRecord] { seeds.flatMap { recordsBySeed[$0] ?? [] } }

    /// The path of `seed`'s checkpoint when it has one.
    public func existingPath(seed: UInt64) -> String? {
        FileManager.default.fileExists(atPath: url(seed: seed).path) ? url(seed: seed).path : nil
    }
}
