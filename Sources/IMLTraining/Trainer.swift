// The two-stage training loop, readable top to bottom (nanoGPT style):
//   for each stage: fresh Adam state; evaluate (epoch 0); for each epoch: shuffle (the examples the
//   schedule trains in that epoch: all of them, or definitions first, then questions), step through
//   batches, check the weights, evaluate every subset, save a checkpoint. Stage 2 starts from the
//   stage-1 weights. A run continued from a checkpoint skips what the checkpoint already holds.

import Foundation
import IMLBase
import IMLCore
import IMLProtocol
import IMLRunFiles

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
    /// What went bad: "the loss" (checked every step) or "a weight" (checked after every epoch).
    public var quantity = "the loss"
    /// Where the last good checkpoint stays, when the run keeps checkpoints.
    public var lastCheckpoint: String? = nil

    public init(seed: UInt64, stage: Int, epoch: Int, step: Int, quantity: String = "the loss") {
        self.seed = seed; self.stage = stage; self.epoch = epoch; self.step = step; self.quantity = quantity
    }

    public var description: String {
        let kept = lastCheckpoint.map { "; the last good checkpoint stays in \($0)" } ?? ""
        return "Training diverged: \(quantity) became NaN or infinite at seed \(seed), stage \(stage), epoch \(epoch), step \(step); lower --lr or change the seed\(kept)."
    }
}

/// Thrown when `shouldStop` asked the trainer to stop; the state was handed to `saveCheckpoint` first.
public struct TrainingStopped: Error {
    public let seed: UInt64
}

public final class Trainer {
    public let config: TrainingConfig
    public let task: TrainingTask
    public let seed: UInt64
    let optimizer: Adam
    /// Every record so far; a stage 2 started from another run's stage 1 begins with that run's.
    public internal(set) var records: [MetricRecord] = []

    public init(task: TrainingTask, config: TrainingConfig, seed: UInt64) {
        self.task = task
        self.config = config
        self.seed = seed
        optimizer = Self.makeOptimizer(parameters: task.parameters, config: config)
    }

    /// The optimizer of every stage (its state is reset when a stage starts).
    public static func makeOptimizer(parameters: [Parameter], config: TrainingConfig) -> Adam {
        Adam(parameters: parameters, lr: config.learningRate)
    }

    /// What `makeOptimizer` builds, in words, for config.json.
    public static func optimizerDescription(_ config: TrainingConfig) -> String {
        Adam.settingsDescription(lr: config.learningRate)
    }

    /// The subsets shown in progress lines for each stage.
    static func headlineSubsets(stage: Int) -> [Subset] {
        stage == 1 ? [.qd1consis, .qd2incons, .q] : [.d1consis, .d2consis, .d3consis]
    }

    /// Trains `stages`, or continues from `saved`. After every epoch the state goes to
    /// `saveCheckpoint`; when `shouldStop` turns true, training stops after the current batch,
    /// saves, and throws TrainingStopped. `evaluated(stage, epoch)` is called after every
    /// evaluation (epoch 0 of a stage included), while the network holds that point's weights.
    public func run(stages: [Int] = [1, 2], from saved: TrainingState? = nil,
                    saveCheckpoint: (TrainingState) throws -> Void = { _ in }, shouldStop: () -> Bool = { false },
                    evaluated: (_ stage: Int, _ epoch: Int) throws -> Void = { _, _ in },
                    progress: (TrainingProgress) -> Void = { _ in }) throws {
        let total = stages.reduce(0) { sum, stage in
            (0..<config.epochs(stage: stage)).reduce(sum) { $0 + task.trainingIndices(stage: stage, epoch: $1 + 1).count }
        }
        var done = 0
        if let saved {
            guard stages.contains(saved.stage) else {
                throw IMLError("The checkpoint of seed \(seed) is in stage \(saved.stage), which this run does not train; resume with the stages it was started with.")
            }
            try restore(saved)
            done = saved.examplesDone
        }
        for stage in stages.drop(while: { saved != nil && $0 != saved!.stage }) {
            let epochs = config.epochs(stage: stage)
            let resumed = saved?.stage == stage ? saved : nil
            var order = Array(0..<task.trainingCount(stage: stage))
            var shuffler = SeededRandom(seed: seed, stream: "batches/stage\(stage)")
            var headline: [(String, Double)] = []
            if let resumed {
                order = resumed.order  // weights, optimizer state and records were restored above
                shuffler = resumed.shuffler
            } else {
                optimizer.reset()  // stage 2 starts a fresh optimizer from the stage-1 weights
                headline = evaluate(stage: stage, epoch: 0)
                try evaluated(stage, 0)
                progress(TrainingProgress(seed: seed, stage: stage, epoch: 0, epochs: epochs, examplesDone: done,
                                          examplesTotal: total, loss: .nan, headline: headline, evaluated: true))
            }
            for epoch in stride(from: (resumed?.epochsDone ?? 0) + 1, through: epochs, by: 1) {
                // An epoch interrupted inside continues at its next batch with its loss so far.
                let midEpoch = resumed.flatMap { $0.batchStart > 0 && epoch == $0.epochsDone + 1 ? $0 : nil }
                var lossSum = midEpoch?.lossSum ?? 0, steps = midEpoch?.steps ?? 0
                task.beginEpoch(stage: stage, epoch: epoch)
                if midEpoch == nil {
                    // A schedule may train other examples from this epoch on (definitions first, then questions).
                    let trained = task.trainingIndices(stage: stage, epoch: epoch)
                    if order.count != trained.count || order.sorted() != trained { order = trained }
                    shuffler.shuffle(&order)
                }
                for start in stride(from: midEpoch?.batchStart ?? 0, to: order.count, by: config.batchSize) {
                    let batch = order[start..<min(start + config.batchSize, order.count)]
                    task.network.zeroGrad()
                    let loss = task.lossAndGradient(stage: stage, examples: batch)
                    guard loss.isFinite else { throw DivergenceError(seed: seed, stage: stage, epoch: epoch, step: steps + 1) }
                    optimizer.step()
                    lossSum += Double(loss) * Double(batch.count)
                    steps += 1
                    done += batch.count
                    if steps % 8 == 0 {
                        progress(TrainingProgress(seed: seed, stage: stage, epoch: epoch - 1, epochs: epochs, examplesDone: done,
                                                  examplesTotal: total, loss: lossSum / Double(start + batch.count), headline: headline,
                                                  evaluated: false))
                    }
                    if shouldStop(), start + batch.count < order.count {
                        try saveCheckpoint(state(stage: stage, epochsDone: epoch - 1, batchStart: start + batch.count, lossSum: lossSum,
                                                 steps: steps, examplesDone: done, order: order, shuffler: shuffler, finished: false))
                        throw TrainingStopped(seed: seed)
                    }
                }
                guard weightsAreFinite() else {
                    throw DivergenceError(seed: seed, stage: stage, epoch: epoch, step: steps, quantity: "a weight")
                }
                let epochLoss = lossSum / Double(max(1, order.count))
                records.append(.trainLoss(seed: seed, stage: stage, epoch: epoch, loss: epochLoss))
                headline = evaluate(stage: stage, epoch: epoch)
                try evaluated(stage, epoch)
                progress(TrainingProgress(seed: seed, stage: stage, epoch: epoch, epochs: epochs, examplesDone: done,
                                          examplesTotal: total, loss: epochLoss, headline: headline, evaluated: true))
                try saveCheckpoint(state(stage: stage, epochsDone: epoch, batchStart: 0, lossSum: 0, steps: 0, examplesDone: done,
                                         order: order, shuffler: shuffler, finished: false))
                if shouldStop() { throw TrainingStopped(seed: seed) }
            }
        }
        // A finished seed needs only its records.
        if let last = stages.last {
            try saveCheckpoint(state(stage: last, epochsDone: config.epochs(stage: last), batchStart: 0, lossSum: 0, steps: 0,
                                     examplesDone: done, order: [], shuffler: SeededRandom(seed: seed), finished: true))
        }
    }

    // MARK: Checkpoints

    /// Every tensor that training changes: the parameters, then the optimizer's state.
    var stateTensors: [(name: String, tensor: Tensor)] {
        task.parameters.enumerated().map { ("parameter.\($0.offset).\($0.element.name)", $0.element.value) }
            + optimizer.stateTensors.map { ("adam.\($0.name)", $0.tensor) }
    }

    func state(stage: Int, epochsDone: Int, batchStart: Int, lossSum: Double, steps: Int, examplesDone: Int,
               order: [Int], shuffler: SeededRandom, finished: Bool) -> TrainingState {
        TrainingState(seed: seed, stage: stage, epochsDone: epochsDone, batchStart: batchStart, lossSum: lossSum, steps: steps,
                      examplesDone: examplesDone, order: order, shuffler: shuffler, finished: finished, records: records,
                      tensors: finished ? [] : stateTensors.map { ($0.name, Array($0.tensor.buffer)) })
    }

    /// Puts a saved state back: weights, optimizer state and records.
    func restore(_ saved: TrainingState) throws {
        let mine = stateTensors
        guard saved.seed == seed, saved.tensors.count == mine.count,
              zip(saved.tensors, mine).allSatisfy({ $0.name == $1.name && $0.values.count == $1.tensor.count }),
              saved.order.count <= task.trainingCount(stage: saved.stage),
              saved.order.allSatisfy({ $0 >= 0 && $0 < task.trainingCount(stage: saved.stage) }) else {
            throw IMLError("The checkpoint of seed \(saved.seed) was written for another model or data size than these settings build; train that seed again without it (delete its checkpoint).")
        }
        for (savedTensor, target) in zip(saved.tensors, mine) {
            savedTensor.values.withUnsafeBufferPointer { target.tensor.pointer.update(from: $0.baseAddress!, count: $0.count) }
        }
        records = saved.records
    }

    func weightsAreFinite() -> Bool {
        task.parameters.allSatisfy { p in p.value.buffer.allSatisfy { $0.isFinite } }
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
        for score in task.testScores(stage: stage) {
            records.append(.exactMatch(seed: seed, stage: stage, epoch: epoch, subset: score.subset, em: score.value, n: score.n))
        }
        return headline
    }
}
