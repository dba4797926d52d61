// What a run's files hold of its training: the training settings (part of the run spec) and the
// records of metrics.jsonl, which the trainer writes and every reader of a run reads back.

import IMLBase

public struct TrainingConfig: Codable, Equatable, Sendable {
    public var epochs1 = 30
    public var epochs2 = 30
    public var batchSize = 64
    public var learningRate: Float = 1e-3
    /// The arithmetic of the matrix products. In the spec only when bf16, so that an fp32 run's
    /// files read as before the setting existed.
    public var precision = Precision.fp32
    public init() {}

    // The spec's keys; "lr" as the option is named.
    enum CodingKeys: String, CodingKey { case epochs1, epochs2, batchSize, learningRate = "lr", precision }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs1 = try c.decode(Int.self, forKey: .epochs1)
        epochs2 = try c.decode(Int.self, forKey: .epochs2)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        // Absent in an fp32 spec (and in every spec written before the setting existed).
        precision = c.contains(.precision) ? try c.decode(Precision.self, forKey: .precision) : .fp32
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epochs1, forKey: .epochs1)
        try c.encode(epochs2, forKey: .epochs2)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(learningRate, forKey: .learningRate)
        if precision != .fp32 { try c.encode(precision, forKey: .precision) }
    }

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

