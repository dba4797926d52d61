import XCTest
import IMLBase
import IMLExperiment
import IMLProtocol
@testable import IMLText

final class EndToEndTests: XCTestCase {
    func testATinyRunWritesEveryOutput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("text-iml-e2e-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var training = TrainingConfig()
        training.epochs1 = 1
        training.epochs2 = 1
        training.batchSize = 32
        var model = TransformerLM.Config()
        model.width = 16
        model.heads = 2
        model.layers = 1
        let experiment = Experiment(modality: "text", seeds: [0, 1], training: training, concurrency: 2,
                                    settings: [("order", .string("vte"))], settingsLine: "tiny", title: "text test", chance: 0.1)
        let summary = try experiment.run(in: try RunDirectory.create(dir, force: false), makeTask: { seed in
            let renderer = try makeRenderer(entities: 30, seed: seed)
            return try TextTask(instance: renderer.instance, text: renderer.config, model: model, modelSeed: seed)
        }, log: { _ in })
        for file in [RunDirectory.configFile, RunDirectory.metricsFile, RunDirectory.summaryFile, RunDirectory.curvesFile] {
            let path = dir + "/" + file
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), file)
            XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: path)).count, 10, file)
        }
        let config = try String(contentsOfFile: dir + "/" + RunDirectory.configFile, encoding: .utf8)
        XCTAssertTrue(config.contains("\"modality\""), config)
        XCTAssertTrue(config.contains("\"text\""), config)
        XCTAssertEqual(summary.seeds, [0, 1])
        XCTAssertNotNil(summary.imlEffect)
        XCTAssertNotNil(summary.value(stage: 2, subset: "d1consis"))
        let metrics = try String(contentsOfFile: dir + "/" + RunDirectory.metricsFile, encoding: .utf8)
        XCTAssertTrue(metrics.contains("train_loss"))
    }
}
