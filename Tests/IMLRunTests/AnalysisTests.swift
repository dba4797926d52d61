import XCTest
import IMLBase
import IMLCore
import IMLProtocol
@testable import IMLRunFiles
@testable import IMLTraining
@testable import IMLAnalysis
@testable import IMLResults

final class AnalysisTests: XCTestCase {
    var base: URL!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("analysis-tests-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        addTeardownBlock { [base] in try? FileManager.default.removeItem(at: base!) }
        BLAS.setThreads(1)
    }

    func parameters() -> [Parameter] {
        var rng = SeededRandom(seed: 3)
        let layer = Linear(inFeatures: 5, outFeatures: 3, rng: &rng)
        return layer.parameters
    }

    /// The run directory names the analyses' folders itself (run files sit below analysis): they must agree.
    func testTheRunDirectoryKnowsEveryAnalysisFolder() {
        XCTAssertEqual(RunDirectory.analysisDirectories, ExampleLoss.allCases.map(ModelAnalysis.directoryName))
        XCTAssertEqual(RunDirectory.modelsDirectory, RunModels.directoryName)
    }

    func testSavedModelRoundTripsAndEveryDamageIsOneSentence() throws {
        let params = parameters()
        let model = SavedModel(seed: 7, stage: 1, epoch: 4, parameters: params)
        let data = model.serialized()
        let read = try SavedModel(data: data, name: "m.weights")
        XCTAssertEqual(read.seed, 7); XCTAssertEqual(read.stage, 1); XCTAssertEqual(read.epoch, 4)
        XCTAssertEqual(read.tensors.map(\.values), params.map { $0.value.array })
        let other = parameters()
        for p in other { p.value.fill(0) }
        try read.load(into: other, name: "m.weights")
        XCTAssertEqual(other.map { $0.value.array }, params.map { $0.value.array })

        var flipped = data
        flipped[flipped.count - 3] ^= 0x40
        XCTAssertThrowsError(try SavedModel(data: flipped, name: "m.weights")) {
            XCTAssertEqual("\($0)", "The saved model m.weights is damaged (the payload checksum does not match); restore it from a copy of the run, or train the run again.")
        }
        XCTAssertThrowsError(try SavedModel(data: data.prefix(data.count - 8), name: "m.weights")) {
            XCTAssertTrue("\($0)".hasPrefix("The saved model m.weights is damaged (the payload has "), "\($0)")
        }
        XCTAssertThrowsError(try SavedModel(data: Data("IML checkpoint 1\n{}\n".utf8), name: "m.weights")) {
            XCTAssertEqual("\($0)", "m.weights is not a saved model of this program (its first line is not \"IML weights 1\"); restore it from a copy of the run, or train the run again.")
        }
        XCTAssertThrowsError(try SavedModel(data: Data(), name: "m.weights"))
        var rng = SeededRandom(seed: 1)
        XCTAssertThrowsError(try read.load(into: Linear(inFeatures: 4, outFeatures: 3, rng: &rng).parameters, name: "m.weights")) {
            XCTAssertTrue("\($0)".contains("does not fit the model these settings build"), "\($0)")
        }
    }

    func testWhichPointsARunKeeps() {
        var training = TrainingConfig()
        training.epochs1 = 6; training.epochs2 = 3
        let every2 = RunModels(run: base, saveEvery: 2, training: training)
        XCTAssertEqual((0...6).filter { every2.wants(stage: 1, epoch: $0) }, [0, 2, 4, 6])
        XCTAssertEqual((0...3).filter { every2.wants(stage: 2, epoch: $0) }, [3])
        let ends = RunModels(run: base, saveEvery: nil, training: training)
        XCTAssertEqual((0...6).filter { ends.wants(stage: 1, epoch: $0) }, [6])
    }

    /// 40 toy entities, 4 + 2 epochs, saving every 2 stage-1 epochs.
    func toyRun(_ name: String, saveEvery: Int?) throws -> (URL, Experiment) {
        var training = TrainingConfig()
        training.epochs1 = 4; training.epochs2 = 2; training.batchSize = 16; training.learningRate = 0.05
        var c = ProtocolConfig(); c.entities = 40
        var experiment = Experiment(modality: ToyModality(), protocolConfig: c, seeds: [0, 1], training: training, concurrency: 1)
        experiment.saveEvery = saveEvery
        let url = base.appendingPathComponent(name)
        try experiment.run(in: try RunDirectory.create(url.path, force: false)) { _ in }
        return (url, experiment)
    }

    func testSavingModelsChangesNoNumberAndKeepsTheRightPoints() throws {
        let (with, _) = try toyRun("with", saveEvery: 2)
        let (without, _) = try toyRun("without", saveEvery: nil)
        XCTAssertEqual(try Data(contentsOf: with.appendingPathComponent("metrics.jsonl")),
                       try Data(contentsOf: without.appendingPathComponent("metrics.jsonl")))
        XCTAssertEqual(RunModels.points(run: with, seed: 1).map { "\($0.stage)-\($0.epoch)" }, ["1-0", "1-2", "1-4", "2-2"])
        XCTAssertEqual(RunModels.points(run: without, seed: 0).map { "\($0.stage)-\($0.epoch)" }, ["1-4", "2-2"])
        // The end-of-stage-2 file holds the weights a finished seed ends with: its predictions
        // reproduce the last recorded exact match.
        let task = try ToyModality().makeTask({ var c = ProtocolConfig(); c.entities = 40; c.seed = 1; return c }())
        let file = RunModels.url(run: with, seed: 1, stage: 2, epoch: 2)
        try SavedModel(data: try Data(contentsOf: file), name: file.path).load(into: task.parameters, name: file.path)
        let set = task.instance.stage2Eval.first { $0.subset == .d1consis }!
        let em = Statistics.exactMatch(predictions: task.predict(set), answers: set.questions.map(\.answer))
        let recorded = try RunDirectory(url: with).readMetrics().compactMap { r -> Double? in
            if case let .exactMatch(seed, stage, epoch, subset, value, _) = r, seed == 1, stage == 2, epoch == 2, subset == "d1consis" { return value }
            return nil
        }
        XCTAssertEqual(recorded, [em])
    }

    func testAnalysisIsDeterministicWhateverTheThreadCountAndCountsEveryPair() throws {
        let (run, experiment) = try toyRun("run", saveEvery: 2)
        let config = try RunConfig.read(RunDirectory(url: run))
        func analyze(threads: Int, along: Bool) throws -> (Data, Data) {
            var settings = AnalysisSettings()
            settings.concurrency = threads
            settings.alongTraining = along
            settings.folds = 3
            try ModelAnalysis.analyze(run: run, config: config, modality: experiment.modality, protocolConfig: experiment.protocolConfig,
                                      settings: settings) { _ in }
            let directory = run.appendingPathComponent(ModelAnalysis.directoryName)
            return (try Data(contentsOf: directory.appendingPathComponent("alignment.json")),
                    try Data(contentsOf: directory.appendingPathComponent("probes.json")))
        }
        let one = try analyze(threads: 1, along: true), two = try analyze(threads: 2, along: true)
        XCTAssertEqual(one.0, two.0)
        XCTAssertEqual(one.1, two.1)
        for figure in ["alignment.png", "probes.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("analysis/\(figure)").path))
        }
        let json = try JSON.read(Substring(String(decoding: one.0, as: UTF8.self)))
        guard case .array(let points)? = json["points"] else { return XCTFail("no points") }
        XCTAssertEqual(points.count, 3)  // stage-1 epochs 0, 2, 4
        // Every d1consis definition against each of its T questions, for each of the 2 seeds.
        let instance = try ProtocolInstance(config: { var c = experiment.protocolConfig; c.seed = 0; return c }(),
                                            variableSpec: SymbolSpec(alphabet: 26, length: 3), tagSpec: SymbolSpec(alphabet: 26, length: 3))
        let d1 = instance.stage2Train.filter { $0.subset == .d1consis }.count
        guard case .int(let pairs)? = points[0]["d1consis"]?["cosine"]?["pairs"] else { return XCTFail("no pairs") }
        XCTAssertEqual(pairs, 2 * d1 * experiment.protocolConfig.attributes)
        // Cosines are cosines.
        for point in points {
            for series in ["d1consis", "d2consis", "d3consis", "control"] {
                guard case .number(let mean)? = point[series]?["cosine"]?["mean"] else { return XCTFail("no \(series)") }
                XCTAssertTrue((-1...1).contains(mean))
            }
        }
        // The end of stage 1 alone gives the same numbers there.
        let end = try analyze(threads: 1, along: false)
        let endJSON = try JSON.read(Substring(String(decoding: end.0, as: UTF8.self)))
        guard case .array(let endPoints)? = endJSON["points"] else { return XCTFail("no points") }
        XCTAssertEqual(endPoints.count, 1)
        XCTAssertEqual(endPoints[0].serialized(), points[2].serialized())
    }

    /// The answers' loss goes to analysis-answer/, beside the training loss's analysis/, and its
    /// README table is the alignment alone.
    func testAnswerLossAnalysisIsWrittenBesideTheFullOne() throws {
        let (run, experiment) = try toyRun("run", saveEvery: 2)
        let config = try RunConfig.read(RunDirectory(url: run))
        var settings = AnalysisSettings()
        settings.folds = 3
        try ModelAnalysis.analyze(run: run, config: config, modality: experiment.modality, protocolConfig: experiment.protocolConfig,
                                  settings: settings) { _ in }
        let full = run.appendingPathComponent("analysis/alignment.json")
        let before = try Data(contentsOf: full)
        settings.alignmentLoss = .answer
        try ModelAnalysis.analyze(run: run, config: config, modality: experiment.modality, protocolConfig: experiment.protocolConfig,
                                  settings: settings) { _ in }
        XCTAssertEqual(try Data(contentsOf: full), before, "the full-loss analysis stays as it was")
        let answer = try JSON.read(Substring(String(decoding: try Data(contentsOf: run.appendingPathComponent("analysis-answer/alignment.json")), as: UTF8.self)))
        XCTAssertEqual(answer["loss"], .string("answer"))
        // The toy model predicts answers only, so both losses give the same points.
        let fullJSON = try JSON.read(Substring(String(decoding: before, as: UTF8.self)))
        XCTAssertEqual(answer["points"], fullJSON["points"])

        let table = try AnalysisTables.render(run: run, loss: .answer)
        XCTAssertTrue(table[0].hasPrefix("| gradients of the answers' loss of | cosine with their questions' (stage-1 epoch 4"), table[0])
        XCTAssertFalse(table.contains { $0.contains("probe") }, "\(table)")
        XCTAssertTrue(try AnalysisTables.render(run: run).contains { $0.contains("probe accuracy") })
    }

    func testAnalysisRefusesARunWithoutSavedModelsNamingTheFix() throws {
        let (run, experiment) = try toyRun("run", saveEvery: nil)
        try FileManager.default.removeItem(at: run.appendingPathComponent(RunModels.directoryName))
        let config = try RunConfig.read(RunDirectory(url: run))
        XCTAssertThrowsError(try ModelAnalysis.analyze(run: run, config: config, modality: experiment.modality,
                                                       protocolConfig: experiment.protocolConfig, settings: AnalysisSettings()) { _ in }) {
            XCTAssertEqual("\($0)", "The run in \(run.path) has no saved model at the end of stage 1 for seed 0 (no \(run.path)/models/seed-0/stage-1-epoch-4.weights); runs made by this version keep one per stage, so train it again with this version (add --save-every K for points along stage 1).")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("analysis").path))
    }

    func testDotProductsAndCosine() {
        let (dot, cosine) = ModelAnalysis.dotAndCosine([1, 2, 2], [2, 0, 0])
        XCTAssertEqual(dot, 2)
        XCTAssertEqual(cosine, 2 / 6, accuracy: 1e-12)
        XCTAssertEqual(ModelAnalysis.dotAndCosine([0, 0], [1, 1]).cosine, 0)
    }
}
