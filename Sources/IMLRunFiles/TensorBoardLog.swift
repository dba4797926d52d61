// A run's TensorBoard event files, RUN/tensorboard/seed-N/ (one TensorBoard run per seed):
// scalars `stage<S>/em/<subset>` and `stage<S>/train_loss` with step = epoch, and the run's
// config.json as the text `settings`. Written as each epoch's checkpoint is saved, so
// `tensorboard --logdir RUN` follows a run live; metrics.jsonl stays the record of truth.
//
// A process writes a seed's log afresh from the seed's records the first time it sees them (a
// new run, or the checkpoint of a resumed one) and then appends, so a killed and resumed run
// ends with exactly one event per record, like an uninterrupted one.

import Foundation
import IMLBase
import IMLReport

public final class TensorBoardLog {
    public static let directoryName = "tensorboard"
    let directory: URL
    let settings: String
    private var writers: [UInt64: TensorBoardEventWriter] = [:]
    private var written: [UInt64: Int] = [:]

    /// `settings`: the run's config.json text.
    public init(run: RunDirectory, settings: String) {
        directory = run.url.appendingPathComponent(Self.directoryName)
        self.settings = settings
    }

    public func seedDirectory(_ seed: UInt64) -> URL { directory.appendingPathComponent("seed-\(seed)") }

    /// Brings seed's log up to `records` (all of the seed's records so far, in order). Not
    /// thread-safe: RunCheckpoints calls it under its lock.
    public func update(seed: UInt64, records: [MetricRecord]) throws {
        if writers[seed] == nil {
            try? FileManager.default.removeItem(at: seedDirectory(seed))
            let writer = try TensorBoardEventWriter(directory: seedDirectory(seed))
            // A fenced block, so TensorBoard's text plugin keeps the JSON's line breaks.
            writer.addText("settings", "```json\n" + settings + "```\n")
            writers[seed] = writer
            written[seed] = 0
        }
        let writer = writers[seed]!
        for record in records.dropFirst(written[seed]!) {
            switch record {
            case let .exactMatch(_, stage, epoch, subset, em, _):
                writer.addScalar("stage\(stage)/em/\(subset)", em, step: epoch)
            case let .trainLoss(_, stage, epoch, loss):
                writer.addScalar("stage\(stage)/train_loss", loss, step: epoch)
            }
        }
        written[seed] = records.count
        try writer.flush()
    }

    /// Writes every seed's log at once (a merged run).
    public func write(_ records: [MetricRecord]) throws {
        var bySeed: [UInt64: [MetricRecord]] = [:], order: [UInt64] = []
        for r in records {
            if bySeed[r.seed] == nil { order.append(r.seed) }
            bySeed[r.seed, default: []].append(r)
        }
        for seed in order { try update(seed: seed, records: bySeed[seed]!) }
        for writer in writers.values { try writer.close() }
    }
}
