import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLRunFiles
import IMLTraining
import IMLProtocol
import IMLText

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a few training documents and evaluation prompts (with gold answers) of every subset.",
        discussion: "With --model RUN/models/seed-N/stage-S-epoch-E.weights, print that saved model's answers to every subset's evaluation prompts next to the gold ones instead (the run's settings come from RUN/config.json).")

    @OptionGroup var protocolOptions: ProtocolOptions<TextDefaults>
    @OptionGroup var text: TextOptions
    @OptionGroup var shown: SampleOptions
    @Option(help: "A saved model of a text run: show its answers next to the gold ones.") var model: String?

    func run() throws {
        try reportingErrors {
            try shown.check()
            if let model { return try answers(of: model) }
            let protocolConfig = try protocolOptions.config(seed: seed)
            var settings = TextSettings()
            text.apply(to: &settings)
            let modality = TextModality(settings: settings)
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

extension Sample {
    /// Every subset's first `n` evaluation prompts with the gold answer and the saved model's.
    func answers(of path: String) throws {
        let file = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: path) else {
            throw IMLError("There is no saved model at \(path); give a file under RUN/\(RunModels.directoryName)/seed-N/.")
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw IMLError("Cannot read the saved model \(path) (\(RunFileText.reason(error))); give a file under RUN/\(RunModels.directoryName)/seed-N/.")
        }
        let saved = try SavedModel(data: data, name: path)
        // RUN/models/seed-N/FILE
        let runURL = file.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = RunDirectory(url: runURL)
        guard FileManager.default.fileExists(atPath: directory.file(RunDirectory.configFile).path) else {
            throw IMLError("\(runURL.path) is not a run directory (no \(RunDirectory.configFile)); keep the saved model at RUN/\(RunModels.directoryName)/seed-N/ inside its run.")
        }
        let config = try RunConfig.read(directory)
        let spec: RunSpec, modality: Modality
        do {
            guard config.modality == Run.modalityName else { throw IMLError("it is a \(config.modality) run") }
            spec = try Run.recordedSpec(config)
            modality = try Run().modality(of: spec)
        } catch let error as IMLError {
            throw IMLError("\(runURL.path) is not a text run of this version (\(error.message)); give a saved model of a text-iml run.")
        }
        var protocolConfig = spec.protocolConfig
        protocolConfig.seed = saved.seed
        guard let task = try modality.makeTask(protocolConfig) as? TextTask, let renderer = task.renderer as? TextRenderer else { return }
        try saved.load(into: task.parameters, name: path)
        let vocabulary = renderer.vocabulary
        print("seed \(saved.seed), stage \(saved.stage), epoch \(saved.epoch): prompt -> gold answer | model's answer")
        for set in task.instance.stage1Eval + task.instance.stage2Eval {
            let predicted = task.predict(set)
            let correct = zip(predicted, set.questions).filter { $0 == $1.answer }.count
            print("\n\(set.subset.rawValue): \(correct) of \(set.questions.count) right")
            for (q, answer) in zip(set.questions, predicted).prefix(n) {
                let prompt = renderer.text(of: renderer.prompt(entity: q.entity, attribute: q.attribute))
                let said = answer >= 0 ? vocabulary.name(of: vocabulary.answer(answer)) : "(not an answer)"
                print("  \(prompt) -> \(vocabulary.name(of: vocabulary.answer(q.answer))) | \(said)\(answer == q.answer ? "" : "  ✗")")
            }
        }
    }
}

extension Sample {
    var seed: UInt64 { shown.seed }
    var n: Int { shown.n }
}
