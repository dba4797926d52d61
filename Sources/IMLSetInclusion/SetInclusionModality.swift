// The set-inclusion task as the generic run sees it: its settings, checks, and each seed's task,
// the text modality's TextTask (transformer, batching, evaluation) on set-inclusion documents.

import IMLBase
import IMLProtocol
import IMLRunFiles
import IMLText
import IMLTraining

/// The set-inclusion part of a run specification, each field named as set-iml's option.
public struct SetInclusionSettings: Codable, Equatable, Sendable {
    public var numbers = SetInclusionConfig().numbers
    public var numbersPerQuestion = SetInclusionConfig().numbersPerQuestion
    public var lists = SetInclusionConfig().lists
    public var layers = TransformerLM.Config().layers
    public var width = TransformerLM.Config().width
    public var heads = TransformerLM.Config().heads
    public var embeddingStd = TransformerLM.Config().embeddingStd
    /// Which next-token predictions the loss scores: all (the paper's) or each document's last.
    public var scoredTokens = ScoredTokens.all
    public init() {}

    public var format: SetInclusionConfig {
        var c = SetInclusionConfig()
        c.numbers = numbers
        c.numbersPerQuestion = numbersPerQuestion
        c.lists = lists
        return c
    }
    public var model: TransformerLM.Config {
        var m = TransformerLM.Config()
        m.layers = layers
        m.width = width
        m.heads = heads
        m.embeddingStd = embeddingStd
        return m
    }
}

public final class SetInclusionModality: Modality {
    public let format: SetInclusionConfig
    public let model: TransformerLM.Config
    public let scored: ScoredTokens
    private let tokens = TrainingTokens()

    public init(settings: SetInclusionSettings) {
        format = settings.format
        model = settings.model
        scored = settings.scoredTokens
    }

    public var name: String { "set" }
    public var title: String { "Set inclusion" }
    public var comparedSettings: [String] { ["numbers_per_question", "lists", "scored_tokens", "layers", "width", "heads"] }
    public var settingsLine: String {
        "\(format.numbersPerQuestion) of \(format.numbers) numbers a question, \(model.layers)x\(model.width) transformer"
            + (format.lists == .fixed ? "" : ", lists drawn every epoch")
            + (scored == .all ? "" : ", loss on each document's last token")
            + (model.embeddingStd == TransformerLM.Config().embeddingStd ? "" : ", embeddings N(0, \(model.embeddingStd)²)")
    }

    /// As the text modality's: 16 bytes per parameter (the vocabulary holds a token per x, in
    /// the embedding and the head), the documents and prompts, and 140 MB of activations and program.
    public func memoryEstimate(_ p: ProtocolConfig) -> (bytes: Double, settings: String)? {
        let vocabulary = Double(9 + format.numbers + p.entities)
        let parameters = Double(model.layers) * 12 * Double(model.width * model.width) + 2 * vocabulary * Double(model.width)
        let data = Double(p.entities * p.attributes) * Double(format.numbersPerQuestion + 5) * 4 * 3
        return (140e6 + parameters * 16 + data,
                "--entities \(p.entities), --attributes \(p.attributes), --numbers-per-question \(format.numbersPerQuestion), --layers \(model.layers) and --width \(model.width)")
    }

    public func validate(_ p: ProtocolConfig) throws {
        try format.validate()
        try format.validate(p)
        try model.validate()
    }

    public func instance(_ p: ProtocolConfig) throws -> ProtocolInstance {
        try ProtocolInstance(config: p, variableSpec: SetInclusionConfig.variableSpec(p), tagSpec: SetInclusionConfig.tagSpec)
    }

    public func renderer(_ p: ProtocolConfig) throws -> SetInclusionRenderer {
        try SetInclusionRenderer(instance: try instance(p), config: format)
    }

    public func makeTask(_ p: ProtocolConfig) throws -> TrainingTask {
        // Every example is one document, so batching documents is batching examples.
        tokens.record(try TextTask(renderer: try renderer(p), model: model, modelSeed: p.seed, unit: .documents, scored: scored))
    }

    public func throughput(training: TrainingConfig, seeds: Int, wallSeconds: Double) -> String? {
        tokens.throughput(training: training, seeds: seeds, wallSeconds: wallSeconds)
    }
}
