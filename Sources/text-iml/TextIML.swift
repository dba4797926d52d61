// text-iml: the two-stage implicit meta-learning protocol on token documents and a small causal
// transformer. Declares the text options and wires them to the shared run, sweep and merge commands.

import ArgumentParser
import Foundation
import IMLCommandLine
import IMLRunFiles
import IMLTraining
import IMLProtocol
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

/// Text options: how the protocol becomes documents, and the transformer. Each sets the
/// TextSettings field of its name; one left out keeps the spec's value.
struct TextOptions: ParsableArguments {
    static let defaults = TextSettings()

    @Option(help: "Letters per variable (default \(defaults.varLength)).") var varLength: Int?
    @Option(help: "Letters per tag (default \(defaults.tagLength)).") var tagLength: Int?
    @Option(help: "Order of a definition's variable (v), tag (t) and statement qk = ak (e): vte, vet, tve, tev, evt or etv (default \(defaults.order.rawValue)).") var order: WordOrder?
    @Option(help: "Transformer blocks (default \(defaults.layers)).") var layers: Int?
    @Option(help: "Model width (embedding size; default \(defaults.width)).") var width: Int?
    @Option(help: "Attention heads (must divide --width; default \(defaults.heads)).") var heads: Int?
    @Option(help: "Standard deviation of the embedding tables' normal initialisation (0.02, the default: GPT-2 and Pythia; 1: PyTorch's nn.Embedding default).")
    var embeddingStd: Float?
    @Option(help: "What a batch counts: documents (as the paper's runs, the default) or examples (a definition brings its T documents).")
    var batchUnit: BatchUnit?
    @Option(help: "attributes: a definition states the facts (VAR TAG qk = ak; the default); named: the paper's two-hop design, a definition names an entity (VAR TAG NAME) whose facts stage 1 trains as knowledge (NAME qk = ak), with the entity-association test.")
    var design: TextDesign?
    @Option(help: "Symbols (A-Z, 0-9) per entity name in the named design: 1, 2 or 3 (default \(defaults.nameLength)).")
    var nameLength: Int?

    /// The options given, applied to `s`.
    func apply(to s: inout TextSettings) {
        if let varLength { s.varLength = varLength }
        if let tagLength { s.tagLength = tagLength }
        if let order { s.order = order }
        if let layers { s.layers = layers }
        if let width { s.width = width }
        if let heads { s.heads = heads }
        if let embeddingStd { s.embeddingStd = embeddingStd }
        if let batchUnit { s.batchUnit = batchUnit }
        if let design { s.design = design }
        if let nameLength { s.nameLength = nameLength }
    }
}

/// The paper's text runs train stage 1 for 40 epochs (stage 2 keeps the protocol's 30).
enum TextDefaults: RunDefaults {
    static var training: TrainingConfig {
        var t = TrainingConfig()
        t.epochs1 = 40
        return t
    }
}

struct Run: RunnableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train stage 1 and stage 2 over several seeds; write metrics, summary and curves.")

    @OptionGroup var protocolOptions: ProtocolOptions<TextDefaults>
    @OptionGroup var textOptions: TextOptions
    @OptionGroup var runOptions: RunOptions<TextDefaults>

    static var modalityName: String { "text" }
    static var defaultSettings: TextSettings { TextSettings() }
    func apply(to settings: inout TextSettings, protocolConfig: inout ProtocolConfig) throws { textOptions.apply(to: &settings) }
    func modality(_ settings: TextSettings) throws -> Modality { TextModality(settings: settings) }
    func run() throws { try runExperiment() }
}

extension WordOrder: ExpressibleByArgument {}
extension BatchUnit: ExpressibleByArgument {}
extension TextDesign: ExpressibleByArgument {}
