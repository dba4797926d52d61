// text-iml: the two-stage implicit meta-learning protocol on token documents and a small causal
// transformer. Declares the text options and wires them to the shared run, sweep and merge commands.

import ArgumentParser
import Foundation
import IMLCommandLine
import IMLExperiment
import IMLText

@main
struct TextIML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text-iml",
        abstract: "Implicit meta-learning on text: tagged definitions, questions, two training stages, a small transformer.",
        version: Provenance.versionLine,
        subcommands: [Run.self, SweepCommand<Run>.self, MergeRuns.self, AnalyzeCommand<Run>.self, Sample.self,
                       SubmitCommand<Run>.self, StatusCommand.self, AggregateCommand<Run>.self],
        defaultSubcommand: Run.self)

    static func main() { toolMain(Self.self, run: Run.self) }
}

/// Text options: how the protocol becomes documents, and the transformer.
struct TextOptions: ParsableArguments {
    @Option(help: "Letters per variable.") var varLength = TextConfig().variableLength
    @Option(help: "Letters per tag.") var tagLength = TextConfig().tagLength
    @Option(help: "Order of a definition's variable (v), tag (t) and statement qk = ak (e): vte, vet, tve, tev, evt or etv.") var order = TextConfig().order
    @Option(help: "Transformer blocks.") var layers = TransformerLM.Config().layers
    @Option(help: "Model width (embedding size).") var width = TransformerLM.Config().width
    @Option(help: "Attention heads (must divide --width).") var heads = TransformerLM.Config().heads
    @Option(help: "Standard deviation of the embedding tables' normal initialisation (0.02: GPT-2 and Pythia; 1: PyTorch's nn.Embedding default).")
    var embeddingStd = TransformerLM.Config().embeddingStd
    @Option(help: "What a batch counts: documents (as the paper's runs) or examples (a definition brings its T documents).")
    var batchUnit: BatchUnit = .standard

    var modality: TextModality {
        var t = TextConfig()
        t.variableLength = varLength
        t.tagLength = tagLength
        t.order = order
        var m = TransformerLM.Config()
        m.layers = layers
        m.width = width
        m.heads = heads
        m.embeddingStd = embeddingStd
        return TextModality(text: t, model: m, unit: batchUnit)
    }
}

/// The paper's text runs train stage 1 for 40 epochs (stage 2 keeps the protocol's 30).
enum TextDefaults: RunDefaults {
    static var epochs1: Int { 40 }
}

struct Run: RunnableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train stage 1 and stage 2 over several seeds; write metrics, summary and curves.")

    @OptionGroup var protocolOptions: ProtocolOptions
    @OptionGroup var textOptions: TextOptions
    @OptionGroup var runOptions: RunOptions<TextDefaults>

    func makeModality() throws -> Modality { textOptions.modality }
    func run() throws { try runExperiment(arguments: RunCommand.commandLineArguments()) }
}

extension WordOrder: ExpressibleByArgument {}
extension BatchUnit: ExpressibleByArgument {}
