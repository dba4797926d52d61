import XCTest
import IMLBase
import IMLRunFiles
import IMLTraining
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
        var protocolConfig = ProtocolConfig()
        protocolConfig.entities = 30
        let experiment = Experiment(modality: TextModality(text: TextConfig(), model: model, unit: .examples),
                                    protocolConfig: protocolConfig, seeds: [0, 1], training: training, concurrency: 2)
        let summary = try experiment.run(in: try RunDirectory.create(dir, force: false), log: { _ in })
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
