import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLExperiment
import IMLProtocol
import IMLVision
import MNIST

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train stage 1 and stage 2 over several seeds; write metrics, summary and curves.")

    @OptionGroup var data: DataOptions
    @OptionGroup var common: RunOptions

    mutating func run() throws {
        try reportingErrors {
            if common.quick { data.entities = 200; common.applyQuickPreset() }
            let training = try common.trainingConfig()
            let (protocolConfig, vision) = try data.validate(seed: common.firstSeed)
            let directory = try common.runDirectory(modality: "mnist")
            let mnist: MNISTData
            do {
                mnist = try data.loadData()
            } catch {
                // Leave nothing behind for a run that never started.
                if (try? FileManager.default.contentsOfDirectory(atPath: directory.url.path))?.isEmpty == true {
                    try? FileManager.default.removeItem(at: directory.url)
                }
                throw error
            }
            let dataOptions = data
            var experiment = Experiment(
                modality: "mnist", seeds: common.seedList, training: training, concurrency: common.threads,
                settings: settings(protocolConfig, vision),
                settingsLine: (data.stages == 1 ? "one stage, " : "") + "\(data.entities) entities, grid \(data.grid)x\(data.grid), T=\(data.attributes), C=\(data.classes), alpha \(data.alpha), \(data.handwriting.rawValue) handwriting, " + common.settingsLine(),
                title: "\(mnist.kind.displayName): implicit meta-learning", chance: 1 / Double(data.classes))
            experiment.stages = protocolConfig.stages == 1 ? [1] : [1, 2]
            let summary = try experiment.run(in: directory) { seed in
                let instance = try ProtocolInstance(config: dataOptions.protocolConfig(seed: seed), variableSpec: vision.variableSpec,
                                                    tagSpec: vision.tagSpec, forbiddenTags: [vision.blankTag])
                return try VisionTask(instance: instance, data: mnist, vision: vision, modelSeed: seed,
                                      lossAverage: dataOptions.lossAverage)
            }
            print(summary.table())
            print(String(format: "wall time %.1f s; outputs in %@", summary.wallSeconds, directory.url.path))
        }
    }

    func settings(_ p: ProtocolConfig, _ v: VisionConfig) -> [(String, JSON)] {
        [("dataset", .string(data.dataset.rawValue)),
         ("data_dir", data.dataDir.map(JSON.string) ?? .null),
         ("entities", .int(p.entities)), ("attributes", .int(p.attributes)), ("classes", .int(p.classes)),
         ("tag1_fraction", .number(p.tag1Fraction)), ("tag2_fraction", .number(p.tag2Fraction)),
         ("question_only_fraction", .number(p.questionOnlyFraction)),
         ("stage2_weights", .array(p.stage2Weights.map { .number($0) })),
         ("alpha", .number(p.alpha)), ("held_out_per_variable", .int(p.heldOutCount)),
         ("grid", .int(v.grid)), ("handwriting", .string(v.handwriting.rawValue)),
         ("image_height", .int(v.height)), ("image_width", .int(v.width)),
         ("input_standardization", .array([.number(0.1307), .number(0.3081)])),
         ("loss_average", .string(data.lossAverage.rawValue)),
         ("model", .string("ConvNet 16-32-32 (3x3, pad 1, ReLU, maxpool 2) + MLP 256-256-\(p.attributes * p.classes)"))]
    }
}
