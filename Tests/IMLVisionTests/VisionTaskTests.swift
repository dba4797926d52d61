import XCTest
import IMLBase
import IMLCore
import IMLRunFiles
import IMLTraining
import IMLProtocol
import IMLReport
import MNIST
@testable import IMLVision

final class VisionTaskTests: XCTestCase {
    func testConvNetShapesParameterCountAndSeededInit() {
        let a = ConvNetMLP(seed: 1), b = ConvNetMLP(seed: 1), c = ConvNetMLP(seed: 2)
        // conv 1->16, 16->32, 32->32 (3x3 + bias); 60x56 pooled three times -> 7x7x32 = 1568 features
        let expected = (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 32 * 9 + 32) + (1568 * 256 + 256) + (256 * 256 + 256) + (256 * 60 + 60)
        XCTAssertEqual(a.parameterCount, expected)
        XCTAssertEqual(a.parameters.map { $0.value.array }, b.parameters.map { $0.value.array })
        XCTAssertNotEqual(a.parameters[0].value.array, c.parameters[0].value.array)
        let x = Tensor([3, 1, 60, 56])
        var rng = SeededRandom(seed: 5)
        x.fillNormal(std: 1, &rng)
        XCTAssertEqual(a.forward(x).shape, [3, 60])
    }

    func testParameterCountAndBlockLimitWithoutBuildingTheModel() {
        for (channels, hidden, height, width) in [([16, 32, 32], [256, 256], 60, 56), ([8, 8], [32], 32, 28), ([4], [], 32, 28), ([2, 2, 2, 2], [7, 5], 32, 28)] {
            var config = ConvNetMLP.Config()
            config.channels = channels; config.hidden = hidden; config.height = height; config.width = width
            XCTAssertEqual(config.parameterCount, Double(ConvNetMLP(config: config, seed: 0).parameterCount), "\(channels) \(hidden)")
        }
        var config = ConvNetMLP.Config()
        XCTAssertEqual(config.maxBlocks, 5, "60 x 56 halves five times (to 1 x 1)")
        config.height = 32; config.width = 28
        XCTAssertEqual(config.maxBlocks, 4)
    }

    func testWidthsOutsideTheModelLimitsAreRefusedBeforeAnyData() {
        func message(channels: [Int], hidden: [Int], grid: Int = 2) -> String? {
            var sizes = ConvNetMLP.Sizes(), vision = VisionConfig()
            sizes.channels = channels; sizes.hidden = hidden; vision.grid = grid
            do { try VisionModality(vision: vision, model: sizes).validate(ProtocolConfig()); return nil } catch { return (error as? IMLError)?.message }
        }
        XCTAssertNil(message(channels: [16, 32, 32, 32, 32], hidden: [256]))
        XCTAssertEqual(message(channels: [16, 32, 32, 32, 32, 32], hidden: [256]),
                       "--conv-channels gives 6 conv blocks, but each halves the image and a 60 x 56 image (--grid 2) can be halved only 5 times; give at most 5 channel counts.")
        XCTAssertEqual(message(channels: [16, 32, 32], hidden: [40_000]),
                       "--conv-channels 16,32,32 and --hidden 40000 make a model of 65174108 parameters, more than the 50000000 this program trains; choose smaller widths.")
        XCTAssertNotNil(message(channels: [Int.max / 2], hidden: [Int.max / 2]), "absurd widths are counted, not overflowed")
    }

    func makeTask(entities: Int = 40, handwriting: Handwriting = .fixed, seed: UInt64 = 0) throws -> VisionTask {
        var vision = VisionConfig()
        vision.handwriting = handwriting
        var config = ProtocolConfig()
        config.entities = entities
        config.seed = seed
        return try VisionModality(vision: vision, data: try syntheticMNIST()).makeTask(config) as! VisionTask
    }

    func testPredictionsAnswerTheAskedHeadOfTheQuestionImage() throws {
        let task = try makeTask()
        for set in task.instance.stage1Eval + task.instance.stage2Eval {
            let predicted = task.predict(set)
            XCTAssertEqual(predicted.count, set.questions.count)
            // the same prediction as a forward pass over that question's image alone
            for (q, p) in zip(set.questions, predicted).prefix(3) {
                let image = task.renderer.renderQuestion(entity: q.entity)
                let x = Tensor([1, 1, 60, 56], values: image.map { VisionRenderer.standardized[Int($0)] })
                let logits = task.model.forward(x).array
                let head = Array(logits[(q.attribute * 10)..<((q.attribute + 1) * 10)])
                XCTAssertEqual(p, head.firstIndex(of: head.max()!)!)
            }
        }
    }

    func testATinyEndToEndRunWritesEveryOutput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-e2e-\(UUID())").path
        var training = TrainingConfig()
        training.epochs1 = 2; training.epochs2 = 1; training.batchSize = 32
        var config = ProtocolConfig(); config.entities = 30
        let experiment = Experiment(modality: VisionModality(data: try syntheticMNIST()), protocolConfig: config, seeds: [0, 1],
                                    training: training, concurrency: 2)
        let summary = try experiment.run(in: try RunDirectory.create(dir, force: false), log: { _ in })
        let run = RunDirectory(url: URL(fileURLWithPath: dir))
        for file in [RunDirectory.configFile, RunDirectory.metricsFile, RunDirectory.summaryFile, RunDirectory.curvesFile] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.file(file).path), "\(file) missing")
        }
        let records = try run.readMetrics()
        // stage 1: epochs 0-2 x (7 subsets + qd2incons_defined) + 2 losses; stage 2: epochs 0-1 x 4 + 1 loss; two seeds
        XCTAssertEqual(records.count, 2 * (3 * 8 + 2 + 2 * 4 + 1))
        let summaryJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: run.file(RunDirectory.summaryFile))) as! [String: Any]
        XCTAssertEqual(summaryJSON["modality"] as? String, "mnist")
        XCTAssertEqual((summaryJSON["seeds"] as? [Int]), [0, 1])
        XCTAssertNotNil((summaryJSON["stage2"] as? [String: Any])?["d1consis"])
        XCTAssertEqual(summary.imlEffect?.perSeed.count, 2)
        let png = try PNG.read(run.file(RunDirectory.curvesFile))
        XCTAssertGreaterThan(png.width, 600)
    }

    /// `analyze` scores one example as training does: the gradient of a training example alone
    /// equals a training step's on a batch holding only it; probes see every block and hidden layer.
    func testOneExampleGradientAndProbeFeaturesMatchTraining() throws {
        let task = try makeTask()
        let examples = task.instance.trainingSet(stage: 1)
        for i in [examples.firstIndex { $0.kind == .definition }!, examples.firstIndex { $0.kind == .question }!] {
            task.network.zeroGrad()
            let expected = task.lossAndGradient(stage: 1, examples: [i])
            let expectedGrads = task.parameters.map { $0.grad.array }
            task.network.zeroGrad()
            XCTAssertEqual(task.lossAndGradient(of: examples[i], scoring: .full), expected)
            XCTAssertEqual(task.parameters.map { $0.grad.array }, expectedGrads)
            // The image model predicts answers only: scoring answers alone changes nothing.
            task.network.zeroGrad()
            XCTAssertEqual(task.lossAndGradient(of: examples[i], scoring: .answer), expected)
            XCTAssertEqual(task.parameters.map { $0.grad.array }, expectedGrads)
        }
        let set = task.instance.stage1Eval.first { $0.subset == .qd1consis }!
        let layers = task.probeFeatures(set)
        XCTAssertEqual(layers.map(\.layer), ["conv 1", "conv 2", "conv 3", "hidden 1", "hidden 2"])
        XCTAssertEqual(layers.map(\.dimension), [16 * 30 * 28, 32 * 15 * 14, 32 * 7 * 7, 256, 256])
        for layer in layers { XCTAssertEqual(layer.values.count, layer.dimension * set.questions.count) }
        // The last hidden layer of question 1 is what a forward pass over its image alone gives.
        let q = set.questions[1]
        let x = Tensor([1, 1, 60, 56], values: task.renderer.renderQuestion(entity: q.entity).map { VisionRenderer.standardized[Int($0)] })
        var hidden: [Float] = []
        _ = task.model.forward(x) { name, activation in if name == "hidden 2" { hidden = activation.array } }
        XCTAssertEqual(Array(layers[4].values[256..<512]), hidden)
    }
}
