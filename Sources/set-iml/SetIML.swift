// set-iml: the paper's from-scratch set-inclusion experiment (VAR % n1 ... n8 = true|false, with
// definitions TAG VAR % x) on the text modality's transformer. Declares the set-inclusion options
// and defaults and wires them to the shared run, sweep and merge commands.

import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLProtocol
import IMLRunFiles
import IMLSetInclusion
import IMLText
import IMLTraining

@main
struct SetIML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-iml",
        abstract: "Implicit meta-learning on set inclusion (the paper's from-scratch experiment): is x in this list of numbers, with tagged definitions of x.",
        version: Provenance.versionLine,
        subcommands: [Run.self, SweepCommand<Run>.self, MergeRuns.self, AnalyzeCommand<Run>.self, Sample.self,
                       SubmitCommand<Run>.self, StatusCommand.self, AggregateCommand<Run>.self],
        defaultSubcommand: Run.self)

    static func main() { toolMain(Self.self, run: Run.self) }
}

/// The paper's main set-inclusion config (pythia70m_tokpervar_bs512_n8_i1), scaled to a 2-core
/// CPU: 24 questions per x, 12 trained and 12 held out, fractions 0.4 qd1consis, 0.4 qd2incons,
/// 0.1 d1consis, 0.1 d2consis (no q, no d3consis, no baseline); 1000 x's instead of 8000, 50
/// stage-1 epochs instead of 100 (stage 2 keeps 40), batch 64 instead of 512 for more steps.
enum SetDefaults: RunDefaults {
    static var protocolConfig: ProtocolConfig {
        var p = ProtocolConfig()
        p.entities = 1000
        p.attributes = 24
        p.classes = 2
        p.heldOutPerVariable = 12
        p.tag1Fraction = 0.4
        p.tag2Fraction = 0.4
        p.questionOnlyFraction = 0
        p.stage2Weights = [1, 1, 0, 0]
        return p
    }
    static var training: TrainingConfig {
        var t = TrainingConfig()
        t.epochs1 = 50
        t.epochs2 = 40
        t.batchSize = 64
        return t
    }
}

/// Set-inclusion options: the format and the transformer. Each sets the SetInclusionSettings
/// field of its name; one left out keeps the spec's value.
struct SetOptions: ParsableArguments {
    static let defaults = SetInclusionSettings()

    @Option(help: "Numbers 0..<N that x and the lists are drawn from (default \(defaults.numbers), the paper's 0-99).") var numbers: Int?
    @Option(help: "Numbers listed in each question (default \(defaults.numbersPerQuestion), as the paper's main config).") var numbersPerQuestion: Int?
    @Option(help: "When a training question's numbers are drawn: every-epoch (anew each epoch, answers kept, so no list can be memorised; evaluation lists stay fixed; the default) or fixed (once, as the paper's, which the model memorises at this scale).")
    var lists: ListDraw?
    @Option(help: "Transformer blocks (default \(defaults.layers)).") var layers: Int?
    @Option(help: "Model width (embedding size; default \(defaults.width)).") var width: Int?
    @Option(help: "Attention heads (must divide --width; default \(defaults.heads)).") var heads: Int?
    @Option(help: "Standard deviation of the embedding tables' normal initialisation (default \(defaults.embeddingStd), as GPT-2 and Pythia).")
    var embeddingStd: Float?
    @Option(help: "Which next-token predictions the loss scores: all (the default, as the paper's code trains) or last (each document's last token alone: a question's true or false, a definition's x).")
    var scoredTokens: ScoredTokens?

    func apply(to s: inout SetInclusionSettings) {
        if let numbers { s.numbers = numbers }
        if let numbersPerQuestion { s.numbersPerQuestion = numbersPerQuestion }
        if let lists { s.lists = lists }
        if let layers { s.layers = layers }
        if let width { s.width = width }
        if let heads { s.heads = heads }
        if let embeddingStd { s.embeddingStd = embeddingStd }
        if let scoredTokens { s.scoredTokens = scoredTokens }
    }
}

struct Run: RunnableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train stage 1 and stage 2 over several seeds; write metrics, summary and curves.",
        discussion: "The protocol options keep their meaning: an entity is an x, its attributes are the true/false answers of its questions (--attributes questions per x, --held-out-per-variable of them asked in evaluation, never trained), and --classes must stay 2. The d3consis variant of the paper is --tag1-fraction 0.35 --tag2-fraction 0.35 --stage2-weights 1,1,1,0.")

    @OptionGroup var protocolOptions: ProtocolOptions<SetDefaults>
    @OptionGroup var setOptions: SetOptions
    @OptionGroup var runOptions: RunOptions<SetDefaults>

    static var modalityName: String { "set" }
    static var defaultSettings: SetInclusionSettings { SetInclusionSettings() }
    func apply(to settings: inout SetInclusionSettings, protocolConfig: inout ProtocolConfig) throws { setOptions.apply(to: &settings) }
    func modality(_ settings: SetInclusionSettings) throws -> Modality { SetInclusionModality(settings: settings) }
    func run() throws { try runExperiment() }
}

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a few training documents and evaluation prompts (with gold answers) of every subset.")

    @OptionGroup var protocolOptions: ProtocolOptions<SetDefaults>
    @OptionGroup var setOptions: SetOptions
    @OptionGroup var shown: SampleOptions

    func run() throws {
        try reportingErrors {
            try shown.check()
            let protocolConfig = try protocolOptions.config(seed: seed)
            var settings = SetInclusionSettings()
            setOptions.apply(to: &settings)
            let modality = SetInclusionModality(settings: settings)
            try modality.validate(protocolConfig)
            let renderer = try modality.renderer(protocolConfig)
            let instance = renderer.instance, vocabulary = renderer.vocabulary
            print("seed \(seed): vocabulary \(vocabulary.size) tokens (tags 1, 2, 3 are define1, define2, define3)")
            for stage in [1, 2] {
                let examples = instance.trainingSet(stage: stage)
                for subset in Subset.allCases {
                    for kind in [ExampleKind.definition, .question] {
                        let shown = examples.filter { $0.subset == subset && $0.kind == kind }
                        guard !shown.isEmpty else { continue }
                        print("\nstage \(stage) training, \(subset.rawValue) \(kind.rawValue)s (\(shown.count) documents):")
                        for example in shown.prefix(n) {
                            let x = renderer.x[example.entity]
                            print("  " + renderer.documents(of: example).map(vocabulary.decode).joined() + "    (x = \(x))")
                        }
                    }
                }
                for set in instance.evaluationSets(stage: stage) {
                    print("\nstage \(stage) evaluation, \(set.subset.rawValue) (\(set.questions.count) questions; prompt -> gold answer):")
                    for q in set.questions.prefix(n) {
                        print("  \(vocabulary.decode(renderer.prompt(entity: q.entity, attribute: q.attribute))) -> \(vocabulary.name(of: vocabulary.answer(q.answer)))    (x = \(renderer.x[q.entity]))")
                    }
                }
            }
        }
    }
}

extension ScoredTokens: ExpressibleByArgument {}
extension ListDraw: ExpressibleByArgument {}

extension Sample {
    var seed: UInt64 { shown.seed }
    var n: Int { shown.n }
}
