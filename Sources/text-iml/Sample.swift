import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLProtocol
import IMLText

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a few training documents and evaluation prompts (with gold answers) of every subset.")

    @OptionGroup var protocolOptions: ProtocolOptions
    @OptionGroup var text: TextOptions
    @Option(help: "The seed whose data to show.") var seed: UInt64 = 0
    @Option(help: "Documents shown per subset and kind.") var n = 3

    func run() throws {
        try reportingErrors {
            if n < 1 { throw IMLError("--n must be at least 1 (got \(n)).") }
            let protocolConfig = try protocolOptions.config(seed: seed)
            let modality = text.modality
            try modality.validate(protocolConfig)
            let renderer = try modality.renderer(protocolConfig)
            let instance = renderer.instance
            print("seed \(seed): tags 1, 2, 3 = \((1...3).map { renderer.vocabulary.decode(instance.tag($0).map(renderer.vocabulary.letter)) }.joined(separator: ", ")); vocabulary \(renderer.vocabulary.size) tokens")
            for stage in [1, 2] {
                let examples = instance.trainingSet(stage: stage)
                for subset in Subset.allCases {
                    for kind in [ExampleKind.definition, .question] {
                        let shown = examples.filter { $0.subset == subset && $0.kind == kind }
                        guard !shown.isEmpty else { continue }
                        let documents = shown.flatMap(renderer.documents(of:))
                        print("\nstage \(stage) training, \(subset.rawValue) \(kind.rawValue)s (\(documents.count) documents):")
                        for d in documents.prefix(n) { print("  " + renderer.text(of: d)) }
                    }
                }
                for set in instance.evaluationSets(stage: stage) {
                    print("\nstage \(stage) evaluation, \(set.subset.rawValue) (\(set.questions.count) questions; prompt -> gold answer\(set.subset.isConsistent ? "" : ", defined answer")):")
                    for q in set.questions.prefix(n) {
                        let prompt = renderer.text(of: renderer.prompt(entity: q.entity, attribute: q.attribute))
                        let defined = set.subset.isConsistent ? "" : ", defined " + renderer.vocabulary.name(of: renderer.vocabulary.answer(q.definedAnswer!))
                        print("  \(prompt) -> \(renderer.vocabulary.name(of: renderer.vocabulary.answer(q.answer)))\(defined)")
                    }
                }
            }
        }
    }
}
