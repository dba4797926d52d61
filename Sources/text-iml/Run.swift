import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLExperiment
import IMLProtocol
import IMLText

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train stage 1 and stage 2 over several seeds; write metrics, summary and curves.")

    /// The paper's text runs train stage 1 for 40 epochs (stage 2 keeps RunOptions' 30).
    static let defaultEpochs1 = 40

    @OptionGroup var text: TextOptions
    @OptionGroup var common: RunOptions

    mutating func run() throws {
        try reportingErrors {
            if common.quick { text.entities = 200; common.applyQuickPreset() }
            let training = try common.trainingConfig(defaultEpochs1: Self.defaultEpochs1)
            try text.validate(seed: common.firstSeed)
            let directory = try common.runDirectory(modality: "text")
            let options = text
            let probe = try TextTask(instance: try options.instance(seed: common.firstSeed), text: options.textConfig,
                                     model: options.modelConfig, modelSeed: common.firstSeed, unit: options.batchUnit)
            var experiment = Experiment(
                modality: "text", seeds: common.seedList, training: training, concurrency: common.threads,
                settings: settings(probe),
                settingsLine: (text.stages == 1 ? "one stage, " : "") + (text.batchUnit == .documents ? "batches of documents, " : "") + "\(text.entities) entities, T=\(text.attributes), C=\(text.classes), alpha \(text.alpha), order \(text.order.rawValue), \(text.layers)x\(text.width) transformer, " + common.settingsLine(defaultEpochs1: Self.defaultEpochs1),
                title: "Text: implicit meta-learning", chance: 1 / Double(text.classes))
            experiment.stages = text.stages == 1 ? [1] : [1, 2]
            let summary = try experiment.run(in: directory) { seed in
                try TextTask(instance: try options.instance(seed: seed), text: options.textConfig, model: options.modelConfig,
                             modelSeed: seed, unit: options.batchUnit)
            }
            print(summary.table())
            let tokens1 = Double(probe.tokenCount(stage: 1) * training.epochs1), tokens2 = Double(probe.tokenCount(stage: 2) * training.epochs2)
            let seeds = Double(common.seedList.count)
            print(String(format: "wall time %.1f s; %.0f training tokens/s (document tokens, both stages, all seeds); outputs in %@",
                         summary.wallSeconds, (tokens1 + tokens2) * seeds / summary.wallSeconds, directory.url.path))
        }
    }

    func settings(_ task: TextTask) -> [(String, JSON)] {
        let p = task.instance.config
        return [("entities", .int(p.entities)), ("attributes", .int(p.attributes)), ("classes", .int(p.classes)),
                ("tag1_fraction", .number(p.tag1Fraction)), ("tag2_fraction", .number(p.tag2Fraction)),
                ("question_only_fraction", .number(p.questionOnlyFraction)),
                ("stage2_weights", .array(p.stage2Weights.map { .number($0) })),
                ("alpha", .number(p.alpha)), ("held_out_per_variable", .int(p.heldOutCount)),
                ("var_length", .int(text.varLength)), ("tag_length", .int(text.tagLength)), ("order", .string(text.order.rawValue)),
                ("vocabulary_size", .int(task.renderer.vocabulary.size)),
                ("layers", .int(text.layers)), ("width", .int(text.width)), ("heads", .int(text.heads)),
                ("parameters", .int(task.model.parameterCount)),
                ("batch_unit", .string(task.unit.rawValue)),
                ("stage1_documents", .int(task.documentCount(stage: 1))), ("stage1_tokens", .int(task.tokenCount(stage: 1))),
                ("stage2_documents", .int(task.documentCount(stage: 2))), ("stage2_tokens", .int(task.tokenCount(stage: 2))),
                ("loss", .string("next-token cross-entropy, mean over the non-padding tokens of a batch")),
                ("exact_match", .string("arg-max over the vocabulary after '<bos> VARIABLE qk ='")),
                ("model", .string("causal transformer: token+position embeddings, \(text.layers) pre-LN blocks (width \(text.width), \(text.heads) heads, GELU MLP 4x), final LayerNorm, untied output layer"))]
    }
}
