import XCTest
import IMLBase
import IMLCore
import IMLProtocol
@testable import IMLRunFiles
@testable import IMLTraining

/// A toy modality: the input is a one-hot of (entity, tag or none); a Linear layer maps it to
/// T*C logits. It can memorise definitions and questions, which is all the trainer needs.
/// A toy modality defined only in the tests: one-hot (entity, tag) features and a linear model
/// (LookupTask). It plugs into the generic trainer, run writer, merge and compare as they are.
final class ToyModality: Modality {
    let wrap: (LookupTask) -> TrainingTask
    init(wrap: @escaping (LookupTask) -> TrainingTask = { $0 }) { self.wrap = wrap }
    var name: String { "toy" }
    var title: String { "Toy" }
    var comparedSettings: [String] { ["features"] }
    var settingsLine: String { "one-hot lookup" }
    func chance(_ protocolConfig: ProtocolConfig) -> Double { 0.25 }
    func validate(_ protocolConfig: ProtocolConfig) throws {
        if protocolConfig.entities > 26 * 26 * 26 { throw IMLError("too many toy entities") }
    }
    func makeTask(_ p: ProtocolConfig) throws -> TrainingTask {
        wrap(LookupTask(instance: try ProtocolInstance(config: p, variableSpec: SymbolSpec(alphabet: 26, length: 3),
                                                       tagSpec: SymbolSpec(alphabet: 26, length: 3)), seed: p.seed))
    }
}

final class LookupTask: TrainingTask {
    let instance: ProtocolInstance
    let layer: Linear
    let loss: SoftmaxCrossEntropy
    let input = Tensor([1, 1])
    var network: Layer { layer }
    let features: Int
    var settings: [(String, JSON)] { [("features", .int(features)), ("parameters", .int(layer.parameterCount))] }

    init(instance: ProtocolInstance, seed: UInt64) {
        self.instance = instance
        features = instance.config.entities * 4
        var rng = SeededRandom(seed: seed, stream: "init")
        layer = Linear(inFeatures: features, outFeatures: instance.config.attributes * instance.config.classes, rng: &rng)
        loss = SoftmaxCrossEntropy()
    }

    func load(_ items: [(entity: Int, tag: Int?)]) -> Tensor {
        input.resize([items.count, features])
        input.zero()
        for (b, item) in items.enumerated() { input[b * features + item.entity * 4 + (item.tag ?? 0)] = 1 }
        return layer.forward(input)
    }

    func lossAndGradient(stage: Int, examples: ArraySlice<Int>) -> Float {
        let set = instance.trainingSet(stage: stage)
        let logits = load(examples.map { (set[$0].entity, set[$0].tag) })
        let T = instance.config.attributes, C = instance.config.classes
        let value = loss.forward(logits: logits, rows: examples.count * T, classes: C,
                                 targets: examples.flatMap { set[$0].targets }, groupSize: T)
        _ = layer.backward(loss.backward())
        return value
    }

    /// A lookup table predicts answers only: both scorings are the same loss.
    func lossAndGradient(of example: Example, scoring _: ExampleLoss) -> Float {
        let logits = load([(example.entity, example.tag)])
        let value = loss.forward(logits: logits, rows: instance.config.attributes, classes: instance.config.classes,
                                 targets: example.targets, groupSize: instance.config.attributes)
        _ = layer.backward(loss.backward())
        return value
    }

    /// The logits of each question: what the model says about its variable.
    func probeFeatures(_ set: EvalSet) -> [ProbeLayer] {
        let logits = load(set.questions.map { ($0.entity, nil) })
        return [ProbeLayer(layer: "logits", dimension: logits.count / max(1, set.questions.count), values: logits.array)]
    }

    func predict(_ set: EvalSet) -> [Int] {
        let logits = load(set.questions.map { ($0.entity, nil) })
        let T = instance.config.attributes, C = instance.config.classes
        return set.questions.enumerated().map { b, q in
            let row = logits.pointer + (b * T + q.attribute) * C
            return (0..<C).max { row[$0] < row[$1] }!
        }
    }
}

final class TrainerTests: XCTestCase {
    func instance(seed: UInt64) throws -> ProtocolInstance {
        var c = ProtocolConfig()
        c.entities = 60
        c.seed = seed
        return try ProtocolInstance(config: c, variableSpec: SymbolSpec(alphabet: 26, length: 3), tagSpec: SymbolSpec(alphabet: 26, length: 3))
    }

    func testTwoStagesRecordEveryEpochAndSubsetAndLearnTheTrainingSet() throws {
        var config = TrainingConfig()
        config.epochs1 = 4; config.epochs2 = 3; config.batchSize = 16; config.learningRate = 0.05
        let task = LookupTask(instance: try instance(seed: 1), seed: 1)
        let trainer = Trainer(task: task, config: config, seed: 1)
        var reports: [TrainingProgress] = []
        try trainer.run { reports.append($0) }

        let ems = trainer.records.compactMap { r -> (Int, Int, String)? in
            if case let .exactMatch(_, stage, epoch, subset, _, _) = r { return (stage, epoch, subset) }; return nil
        }
        // epochs 0...4 of stage 1 over 7 subsets + qd2incons_defined, epochs 0...3 of stage 2 over 4
        XCTAssertEqual(ems.filter { $0.0 == 1 }.count, 5 * 8)
        XCTAssertEqual(ems.filter { $0.0 == 2 }.count, 4 * 4)
        XCTAssertTrue(ems.contains { $0.2 == "qd2incons_defined" })
        let losses = trainer.records.compactMap { r -> Double? in if case let .trainLoss(_, 1, _, l) = r { return l }; return nil }
        XCTAssertEqual(losses.count, 4)
        XCTAssertLessThan(losses.last!, losses.first!, "the stage-1 loss must fall")
        XCTAssertEqual(reports.last?.examplesDone, reports.last?.examplesTotal)
        XCTAssertEqual(trainer.optimizer.steps, 3 * Int((Double(task.instance.stage2Train.count) / 16).rounded(.up)),
                       "stage 2 must start a fresh optimizer")
    }

    /// Under definitions first, stage 1's first epochs step through its definitions alone and the
    /// rest through its questions alone, each every example once; stage 2 is unchanged.
    func testDefinitionsFirstTrainsDefinitionsThenQuestionsEachOncePerEpoch() throws {
        var c = ProtocolConfig()
        c.entities = 60; c.seed = 5; c.definitionsFirst = 2
        let instance = try ProtocolInstance(config: c, variableSpec: SymbolSpec(alphabet: 26, length: 3), tagSpec: SymbolSpec(alphabet: 26, length: 3))
        var config = TrainingConfig()
        config.epochs1 = 5; config.epochs2 = 2; config.batchSize = 8
        var epoch = (stage: 0, number: 0)
        var seen: [String: [Int]] = [:]
        let task = EpochRecordingTask(LookupTask(instance: instance, seed: 5)) { stage, number in epoch = (stage, number) } step: { stage, examples in
            seen["\(stage):\(epoch.number)", default: []] += examples
        }
        try Trainer(task: task, config: config, seed: 5).run()
        let set = instance.stage1Train
        let definitions = set.indices.filter { set[$0].kind == .definition }, questions = set.indices.filter { set[$0].kind == .question }
        XCTAssertFalse(definitions.isEmpty || questions.isEmpty)
        for number in 1...5 { XCTAssertEqual(seen["1:\(number)"]?.sorted(), number <= 2 ? definitions : questions, "stage 1, epoch \(number)") }
        for number in 1...2 { XCTAssertEqual(seen["2:\(number)"]?.sorted(), Array(instance.stage2Train.indices), "stage 2, epoch \(number)") }
        XCTAssertNil(instance.trainedExamples(stage: 2, epoch: 1))
    }

    func testSameSeedGivesIdenticalRecords() throws {
        BLAS.setThreads(1)
        var config = TrainingConfig()
        config.epochs1 = 2; config.epochs2 = 1; config.batchSize = 8
        func records() throws -> [MetricRecord] {
            let trainer = Trainer(task: LookupTask(instance: try instance(seed: 3), seed: 3), config: config, seed: 3)
            try trainer.run()
            return trainer.records
        }
        XCTAssertEqual(try records(), try records())
    }

    func testDivergenceIsReportedWithSeedStageEpochAndStep() throws {
        var config = TrainingConfig()
        config.epochs1 = 1; config.epochs2 = 0
        let task = LookupTask(instance: try instance(seed: 2), seed: 2)
        task.layer.weight[0] = .nan
        XCTAssertThrowsError(try Trainer(task: task, config: config, seed: 2).run()) { error in
            XCTAssertEqual("\(error)", "Training diverged: the loss became NaN or infinite at seed 2, stage 1, epoch 1, step 1; lower --lr or change the seed.")
        }
    }

    func testSummaryMeansIntervalsAndEffect() {
        var records: [MetricRecord] = []
        for (seed, d1, d2) in [(UInt64(0), 0.8, 0.3), (1, 0.7, 0.3), (2, 0.9, 0.2)] {
            records.append(.exactMatch(seed: seed, stage: 2, epoch: 1, subset: "d1consis", em: 0.0, n: 10)) // not the last epoch
            records.append(.exactMatch(seed: seed, stage: 2, epoch: 2, subset: "d1consis", em: d1, n: 10))
            records.append(.exactMatch(seed: seed, stage: 2, epoch: 2, subset: "d2consis", em: d2, n: 10))
        }
        let s = RunSummary(modality: "toy", records: records, wallSeconds: 1)
        XCTAssertEqual(s.seeds, [0, 1, 2])
        XCTAssertEqual(s.value(stage: 2, subset: "d1consis")!.mean, 0.8, accuracy: 1e-12)
        XCTAssertEqual(s.imlEffect!.perSeed, [0.8 - 0.3, 0.7 - 0.3, 0.9 - 0.2])
        // mean 0.5333, s = 0.1528, t(0.975, 2) = 4.3027 -> half-width 0.3795
        XCTAssertEqual(s.imlEffect!.ci95, 4.302653 * 0.152753 / 3.0.squareRoot(), accuracy: 1e-4)
        let json = s.json.serialized()
        XCTAssertTrue(json.hasPrefix("{\"modality\":\"toy\",\"seeds\":[0,1,2],\"stage2\":{\"d1consis\":{\"mean\":"), json)
    }

    func testJSONIsStableAndNaNIsNull() {
        XCTAssertEqual(JSON.object([("a", .number(0.1)), ("b", .number(.nan)), ("c", .string("x\"y")), ("d", .number(3))]).serialized(),
                       "{\"a\":0.1,\"b\":null,\"c\":\"x\\\"y\",\"d\":3}")
        let r = MetricRecord.exactMatch(seed: 4, stage: 1, epoch: 2, subset: "q", em: 0.25, n: 8)
        XCTAssertEqual(MetricRecord(jsonLine: Substring(r.json.serialized())), r)
        // a value Foundation's parser would round differently must come back to the same bytes
        let third = MetricRecord.exactMatch(seed: 0, stage: 1, epoch: 0, subset: "d1consis", em: 2.0 / 9, n: 18)
        XCTAssertEqual(MetricRecord(jsonLine: Substring(third.json.serialized()))?.json.serialized(), third.json.serialized())
        XCTAssertNil(MetricRecord(jsonLine: "{\"seed\":1,"))
        XCTAssertNil(MetricRecord(jsonLine: "not json"))
    }

    func testRunDirectoryRefusesFilesAndExistingRuns() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rundir-\(UUID())")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let file = base.appendingPathComponent("afile")
        try AtomicFile.write("x", to: file)
        XCTAssertThrowsError(try RunDirectory.create(file.path, force: false)) {
            XCTAssertEqual(($0 as? IMLError)?.message, "The output path \(file.path) is a file, not a directory; choose another --out.")
        }
        let run = try RunDirectory.create(base.appendingPathComponent("run").path, force: false)
        try run.write(.object([]), to: RunDirectory.configFile)
        XCTAssertThrowsError(try RunDirectory.create(run.url.path, force: false))
        XCTAssertNoThrow(try RunDirectory.create(run.url.path, force: true))
        try run.writeMetrics([.trainLoss(seed: 1, stage: 1, epoch: 1, loss: 0.5)])
        XCTAssertEqual(try run.readMetrics(), [.trainLoss(seed: 1, stage: 1, epoch: 1, loss: 0.5)])
    }
}

/// curves.png draws 95% bands only from 3 seeds on: with 2 they span most of [0, 1].
final class CurvesBandTests: XCTestCase {
    func records(seeds: Int) -> [MetricRecord] {
        (0..<UInt64(seeds)).flatMap { seed in
            (0...2).map { epoch in MetricRecord.exactMatch(seed: seed, stage: 1, epoch: epoch, subset: "qd1consis",
                                                           em: Double(epoch) / 4 + Double(seed) / 10, n: 10) }
        }
    }

    func testBandsFromThreeSeedsOn() {
        for (seeds, bands) in [(1, false), (2, false), (3, true), (5, true)] {
            let panel = CurvesFigure.panel(records: records(seeds: seeds), stage: 1, title: "t", chance: 0.1)
            XCTAssertEqual(panel.series.first?.lower != nil, bands, "\(seeds) seeds")
        }
    }
}

/// The toy task, telling the test where each epoch starts and which indices each step trains.
final class EpochRecordingTask: TrainingTask {
    let inner: LookupTask
    let begin: (Int, Int) -> Void, step: (Int, [Int]) -> Void
    init(_ inner: LookupTask, begin: @escaping (Int, Int) -> Void, step: @escaping (Int, [Int]) -> Void) {
        self.inner = inner; self.begin = begin; self.step = step
    }
    var network: Layer { inner.network }
    var instance: ProtocolInstance { inner.instance }
    var settings: [(String, JSON)] { inner.settings }
    func beginEpoch(stage: Int, epoch: Int) { begin(stage, epoch) }
    func lossAndGradient(stage: Int, examples: ArraySlice<Int>) -> Float {
        step(stage, Array(examples))
        return inner.lossAndGradient(stage: stage, examples: examples)
    }
    func predict(_ set: EvalSet) -> [Int] { inner.predict(set) }
    func lossAndGradient(of example: Example, scoring: ExampleLoss) -> Float { inner.lossAndGradient(of: example, scoring: scoring) }
    func probeFeatures(_ set: EvalSet) -> [ProbeLayer] { inner.probeFeatures(set) }
}
