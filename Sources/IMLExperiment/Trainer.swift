// The two-stage training loop, readable top to bottom (nanoGPT style):
//   for each stage: fresh Adam state; evaluate (epoch 0); for each epoch: shuffle, step through
//   batches, evaluate every subset. Stage 2 starts from the stage-1 weights.

import Foundation
import IMLBase
import IMLCore
import IMLProtocol

public struct TrainingConfig: Codable, Equatable, Sendable {
    public var epochs1 = 30
    public var epochs2 = 30
    public var batchSize = 64
    public var learningRate: Float = 1e-3
    /// Clip the global gradient norm to this value; nil = no clipping (the reference does not clip).
    public var clipNorm: Float? = nil
    public init() {}

    public func epochs(stage: Int) -> Int { stage == 1 ? epochs1 : epochs2 }

    public func validate() throws {
        if epochs1 < 0 || epochs2 < 0 { throw IMLError("--epochs1 and --epochs2 must not be negative (got \(epochs1), \(epochs2)).") }
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

/// Where training stands, for progress displays.
public struct TrainingProgress: Sendable {
    public var seed: UInt64
    public var stage: Int
    public var epoch: Int
    public var epochs: Int
    /// Examples stepped through so far in this seed (both stages), and in all.
    public var examplesDone: Int
    public var examplesTotal: Int
    public var loss: Double
    /// Headline exact matches of the last evaluation (subset name, EM).
    public var headline: [(String, Double)]
    /// True right after an evaluation (end of an epoch, or epoch 0 before training).
    public var evaluated: Bool
}

public struct DivergenceError: Error, CustomStringConvertible {
    public let seed: UInt64, stage: Int, epoch: Int, step: Int
    public var description: String {
        "Training diverged: the loss became NaN or infinite at seed \(seed), stage \(stage), epoch \(epoch), step \(step); lower --lr or change the seed."
    }
}

public final class Trainer {
    public let config: TrainingConfig
    public let task: TrainingTask
    public let seed: UInt64
    let optimizer: Adam
    public private(set) var records: [MetricRecord] = []

    public init(task: TrainingTask, config: TrainingConfig, seed: UInt64) {
        self.task = task
        self.config = config
        self.seed = seed
        optimizer = Adam(parameters: task.parameters, lr: config.learningRate)
    }

    /// The subsets shown in progress lines for each stage.
    static func headlineSubsets(stage: Int) -> [Subset] {
        stage == 1 ? [.qd1consis, .qd2incons, .q] : [.d1consis, .d2consis, .d3consis]
    }

    public func run(stages: [Int] = [1, 2], progress: (TrainingProgress) -> Void = { _ in }) throws {
        let instance = task.instance
        let total = stages.reduce(0) { $0 + instance.trainingSet(stage: $1).count * config.epochs(stage: $1) }
        var done = 0
        for stage in stages {
            let epochs = config.epochs(stage: stage)
            let examples = instance.trainingSet(stage: stage)
            optimizer.reset()  // stage 2 starts a fresh optimizer from the stage-1 weights
            var order = Array(0..<examples.count)
            var shuffler = SeededRandom(seed: seed, stream: "batches/stage\(stage)")
            var headline = evaluate(stage: stage, epoch: 0)
            progress(TrainingProgress(seed: seed, stage: stage, epoch: 0, epochs: epochs, examplesDone: done,
                                      examplesTotal: total, loss: .nan, headline: headline, evaluated: true))
            for epoch in 1...max(1, epochs) where epochs > 0 {
                shuffler.shuffle(&order)
                var lossSum = 0.0, steps = 0
                for start in stride(from: 0, to: order.count, by: config.batchSize) {
                    let batch = order[start..<min(start + config.batchSize, order.count)]
                    task.zeroGrad()
                    let loss = task.lossAndGradient(stage: stage, examples: batch)
                    guard loss.isFinite else { throw DivergenceError(seed: seed, stage: stage, epoch: epoch, step: steps + 1) }
                    if let clip = config.clipNorm { _ = optimizer.clipGradNorm(clip) }
                    optimizer.step()
                    lossSum += Double(loss) * Double(batch.count)
                    steps += 1
                    done += batch.count
                    if steps % 8 == 0 {
                        progress(TrainingProgress(seed: seed, stage: stage, epoch: epoch - 1, epochs: epochs, examplesDone: done,
                                                  examplesTotal: total, loss: lossSum / Double(start + batch.count), headline: headline,
                                                  evaluated: false))
                    }
                }
                let epochLoss = lossSum / Double(max(1, order.count))
                records.append(.trainLoss(seed: seed, stage: stage, epoch: epoch, loss: epochLoss))
                headline = evaluate(stage: stage, epoch: epoch)
                progress(TrainingProgress(seed: seed, stage: stage, epoch: epoch, epochs: epochs, examplesDone: done,
                                          examplesTotal: total, loss: epochLoss, headline: headline, evaluated: true))
            }
        }
    }

    /// Exact match on every evaluation set of the stage; for inconsistent definitions also
    /// against what the definition stated ("<subset>_defined").
    @discardableResult
    func evaluate(stage: Int, epoch: Int) -> [(String, Double)] {
        var headline: [(String, Double)] = []
        let wanted = Self.headlineSubsets(stage: stage)
        for set in task.instance.evaluationSets(stage: stage) {
            let predicted = task.predict(set)
            let em = Statistics.exactMatch(predictions: predicted, answers: set.questions.map(\.answer))
            records.append(.exactMatch(seed: seed, stage: stage, epoch: epoch, subset: set.subset.rawValue, em: em, n: predicted.count))
            if !set.subset.isConsistent {
                let defined = set.questions.map { $0.definedAnswer ?? -1 }
                let emDefined = Statistics.exactMatch(predictions: predicted, answers: defined)
                records.append(.exactMatch(seed: seed, stage: stage, epoch: epoch, subset: set.subset.rawValue + "_defined",
                                           em: emDefined, n: predicted.count))
            }
            if wanted.contains(set.subset) { headline.append((set.subset.rawValue, em)) }
        }
        return headline
    }
}
