// text-iml: the two-stage implicit meta-learning protocol on token documents and a small causal
// transformer (argument parsing and wiring).

import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLExperiment
import IMLProtocol
import IMLText

@main
struct TextIML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text-iml",
        abstract: "Implicit meta-learning on text: tagged definitions, questions, two training stages, a small transformer.",
        subcommands: [Run.self, Sweep.self, MergeRuns.self, Sample.self],
        defaultSubcommand: Run.self)
}

/// Options shared by every subcommand that builds the protocol and its documents.
struct TextOptions: ParsableArguments {
    @Option(help: "Entities (variables) per seed.") var entities = 1000
    @Option(help: "Attributes per entity (q1..qT).") var attributes = 6
    @Option(help: "Classes per attribute (a0..a(C-1); chance = 1/classes).") var classes = 10
    @Option(help: "Tag/consistency correlation in stage 1, in [0, 1].") var alpha = 1.0
    @Option(help: "Letters per variable.") var varLength = 4
    @Option(help: "Letters per tag.") var tagLength = 4
    @Option(help: "Word order of definitions: vte (variable, tag) or tve (tag, variable).") var order: WordOrder = .vte
    @Option(help: "Transformer blocks.") var layers = 2
    @Option(help: "Model width (embedding size).") var width = 128
    @Option(help: "Attention heads (must divide --width).") var heads = 4
    @Option(help: "2: the two-stage protocol; 1: one stage (--epochs1 epochs) on both stages' training sets, evaluating every subset.") var stages = 2
    @Option(help: "What a batch counts: examples (a definition brings its T documents; matches the reference) or documents.") var batchUnit: BatchUnit = .examples

    func protocolConfig(seed: UInt64) -> ProtocolConfig {
        var c = ProtocolConfig()
        c.entities = entities
        c.attributes = attributes
        c.classes = classes
        c.alpha = alpha
        c.stages = stages
        c.seed = seed
        return c
    }

    var textConfig: TextConfig {
        var t = TextConfig()
        t.variableLength = varLength
        t.tagLength = tagLength
        t.order = order
        return t
    }

    var modelConfig: TransformerLM.Config {
        var m = TransformerLM.Config()
        m.layers = layers
        m.width = width
        m.heads = heads
        return m
    }

    func instance(seed: UInt64) throws -> ProtocolInstance {
        let text = textConfig
        return try ProtocolInstance(config: protocolConfig(seed: seed), variableSpec: text.variableSpec, tagSpec: text.tagSpec)
    }

    /// Checks every setting before any work starts, so a typo costs no waiting.
    func validate(seed: UInt64) throws {
        try textConfig.validate()
        try modelConfig.validate()
        _ = try TextRenderer(instance: try instance(seed: seed), config: textConfig)
    }
}

extension WordOrder: ExpressibleByArgument {}
extension BatchUnit: ExpressibleByArgument {}
