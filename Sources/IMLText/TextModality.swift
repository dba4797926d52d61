// The text modality as the generic run sees it: checks the settings and builds each seed's
// TextTask; what it records in config.json is read from the built renderer and model.

import Foundation
import IMLBase
import IMLRunFiles
import IMLTraining
import IMLProtocol

/// The text part of a run specification, each field named as text-iml's option (`varLength` is --var-length).
public struct TextSettings: Codable, Equatable, Sendable {
    public var varLength = TextConfig().variableLength
    public var tagLength = TextConfig().tagLength
    public var order = TextConfig().order
    public var layers = TransformerLM.Config().layers
    public var width = TransformerLM.Config().width
    public var heads = TransformerLM.Config().heads
    public var embeddingStd = TransformerLM.Config().embeddingStd
    public var batchUnit = BatchUnit.standard
    public var design = TextConfig().design
    public var nameLength = TextConfig().nameLength
    public init() {}
}

public final class TextModality: Modality {
    public let text: TextConfig
    public let model: TransformerLM.Config
    public let unit: BatchUnit
    private let tokens = TrainingTokens()

    public init(text: TextConfig, model: TransformerLM.Config, unit: BatchUnit = .standard) {
        self.text = text; self.model = model; self.unit = unit
    }

    /// The modality a spec's settings describe.
    public convenience init(settings s: TextSettings) {
        var text = TextConfig()
        text.variableLength = s.varLength
        text.tagLength = s.tagLength
        text.order = s.order
        text.design = s.design
        text.nameLength = s.nameLength
        var model = TransformerLM.Config()
        model.layers = s.layers
        model.width = s.width
        model.heads = s.heads
        model.embeddingStd = s.embeddingStd
        self.init(text: text, model: model, unit: s.batchUnit)
    }

    public var name: String { "text" }
    public var title: String { "Text" }
    public var comparedSettings: [String] { ["design", "order", "layers", "width", "heads", "batch_unit"] }
    public var settingsLine: String {
        (text.design == .named ? "named design, " : "")
            + (unit == .standard ? "" : "batches of \(unit.rawValue), ") + "order \(text.order.rawValue), \(model.layers)x\(model.width) transformer"
            + (model.embeddingStd == TransformerLM.Config().embeddingStd ? "" : ", embeddings N(0, \(model.embeddingStd)²)")
    }

    /// Fitted to peak resident sizes of one-seed runs (docs/reliability.md): about 2 KB + 220 B
    /// per attribute for each entity's documents, 16 bytes per parameter (weights, gradients,
    /// Adam's moments), and 140 MB of activations and the program.
    public func memoryEstimate(_ protocolConfig: ProtocolConfig) -> (bytes: Double, settings: String)? {
        let parameters = Double(model.layers) * 12 * Double(model.width) * Double(model.width)
        let data = Double(protocolConfig.entities) * (2000 + 220 * Double(protocolConfig.attributes))
        return (140e6 + parameters * 16 + data,
                "--entities \(protocolConfig.entities), --attributes \(protocolConfig.attributes), --layers \(model.layers) and --width \(model.width)")
    }

    public func validate(_ protocolConfig: ProtocolConfig) throws {
        try text.validate()
        try text.validate(protocolConfig)
        try model.validate()
        try TextRenderer.checkVocabulary(protocolConfig)
        if let distinct = text.variableSpec.distinctCount, distinct < protocolConfig.entities {
            throw IMLError("--var-length \(text.variableLength) gives only \(distinct) distinct variables, but --entities \(protocolConfig.entities) needs one per entity; use a larger --var-length or fewer --entities.")
        }
    }

    public func instance(_ protocolConfig: ProtocolConfig) throws -> ProtocolInstance {
        try ProtocolInstance(config: protocolConfig, variableSpec: text.variableSpec, tagSpec: text.tagSpec, knowledge: text.design == .named)
    }

    public func renderer(_ protocolConfig: ProtocolConfig) throws -> TextRenderer {
        try TextRenderer(instance: try instance(protocolConfig), config: text)
    }

    public func makeTask(_ protocolConfig: ProtocolConfig) throws -> TrainingTask {
        tokens.record(try TextTask(renderer: try renderer(protocolConfig), model: model, modelSeed: protocolConfig.seed, unit: unit))
    }

    public func throughput(training: TrainingConfig, seeds: Int, wallSeconds: Double) -> String? {
        tokens.throughput(training: training, seeds: seeds, wallSeconds: wallSeconds)
    }
}

/// A token modality's training tokens per epoch of each stage (the same for every seed), known
/// after its first task, for the run's final throughput line.
public final class TrainingTokens: @unchecked Sendable {
    private var perEpoch: [Int: Int] = [:]
    private let lock = NSLock()
    public init() {}

    /// Notes `task`'s token counts (the first task's) and returns it.
    public func record(_ task: TextTask) -> TextTask {
        lock.lock()
        if perEpoch.isEmpty { perEpoch = [1: task.tokenCount(stage: 1), 2: task.tokenCount(stage: 2)] }
        lock.unlock()
        return task
    }

    public func throughput(training: TrainingConfig, seeds: Int, wallSeconds: Double) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard let t1 = perEpoch[1], let t2 = perEpoch[2], wallSeconds > 0 else { return nil }
        let tokens = Double(t1 * training.epochs1 + t2 * training.epochs2) * Double(seeds)
        return String(format: "%.0f training tokens/s (document tokens, both stages, all seeds)", tokens / wallSeconds)
    }
}
