// What a run's files hold of its training: the training settings (part of the run spec) and the
// records of metrics.jsonl, which the trainer writes and every reader of a run reads back.

import IMLBase

public struct TrainingConfig: Codable, Equatable, Sendable {
    public var epochs1 = 30
    public var epochs2 = 30
    public var batchSize = 64
    public var learningRate: Float = 1e-3
    public init() {}

    // The spec's keys; "lr" as the option is named.
    enum CodingKeys: String, CodingKey { case epochs1, epochs2, batchSize, learningRate = "lr" }

    public func epochs(stage: Int) -> Int { stage == 1 ? epochs1 : epochs2 }

    /// The most epochs a stage may have (a default run has 30).
    public static let maxEpochs = 100_000

    public func validate() throws {
        if epochs1 < 0 || epochs2 < 0 { throw IMLError("--epochs1 and --epochs2 must not be negative (got \(epochs1), \(epochs2)).") }
        for (option, epochs) in [("--epochs1", epochs1), ("--epochs2", epochs2)] where epochs > Self.maxEpochs {
            // Epoch counts multiply into example counts; far beyond any run, they would overflow.
            throw IMLError("\(option) \(epochs) is more than one run trains (at most \(Self.maxEpochs) epochs per stage); give fewer epochs.")
        }
        if epochs1 + epochs2 == 0 { throw IMLError("--epochs1 and --epochs2 are both 0: nothing to train; give at least one epoch.") }
        if batchSize < 1 { throw IMLError("--batch-size must be at least 1 (got \(batchSize)).") }
        if !(learningRate > 0 && learningRate.isFinite) { throw IMLError("--lr must be a positive number (got \(learningRate)).") }
    }
}

/// One line of metrics.jsonl.
public enum MetricRecord: Equatable, Sendable {
    case exactMatch(seed: UInt64, stage: Int, epoch: Int, subset: String, em: Double, n: Int)
    case trainLoss(seed: UInt64, stage: Int, epoch: Int, loss: Double)
}

