// One multi-seed experiment from settings to files, for any modality: build the first seed's task,
// write config.json from what it built, train the seeds, write metrics.jsonl, summary.json and
// curves.png. The command-line tools only parse options and hand over a Modality.

import Foundation
import IMLBase
import IMLCore
import IMLProtocol
import IMLRunFiles

public struct Experiment {
    public var modality: Modality
    /// What the run computes; config.json records it, and `--resume DIR` continues from it alone.
    public var spec: RunSpec
    public var concurrency: Int
    /// The options that give `spec` from the tool's defaults, for people (config.json's
    /// "arguments", analysis subtitles); nothing reads them back.
    public var arguments: [String]
    /// Where stage 2 starts when the spec says `stage2From` (checked before anything trains).
    public var stage1Source: Stage1Source?

    public init(modality: Modality, spec: RunSpec, concurrency: Int, arguments: [String] = []) {
        self.modality = modality; self.spec = spec; self.concurrency = concurrency; self.arguments = arguments
    }

    /// A run of `modality` without settings of its own in the spec (tests, benchmarks).
    public init(modality: Modality, protocolConfig: ProtocolConfig, seeds: [UInt64], training: TrainingConfig,
                concurrency: Int, arguments: [String] = []) {
        self.init(modality: modality, spec: RunSpec(modality: modality.name, seeds: seeds, protocolConfig: protocolConfig,
                                                    training: training, settings: .object([])),
                  concurrency: concurrency, arguments: arguments)
    }

    public var protocolConfig: ProtocolConfig { spec.protocolConfig }
    public var seeds: [UInt64] { spec.seeds }
    public var training: TrainingConfig { spec.training }
    public var saveEvery: Int? {
        get { spec.saveEvery }
        set { spec.saveEvery = newValue }
    }

    public var stages: [Int] { protocolConfig.stages == 1 ? [1] : [1, 2] }
    public var title: String { modality.title + ": implicit meta-learning" }

    public func protocolConfig(seed: UInt64) -> ProtocolConfig {
        var c = protocolConfig
        c.seed = seed
        return c
    }

    /// The run's key settings in one line, for figure subtitles and the first log line.
    public var settingsLine: String {
        let p = protocolConfig, t = training
        return (stages == [1] ? "one stage, " : "")
            + (spec.stage2From.map { "stage 2 from stage-1 epoch \(t.epochs1) of \($0), " } ?? "")
            + (p.definitionsFirst > 0 ? "definitions first (\(p.definitionsFirst) epochs), " : "")
            + "\(p.entities) entities, T=\(p.attributes), C=\(p.classes), alpha \(JSON.format(p.alpha)), \(modality.settingsLine), "
            + "\(t.epochs1)+\(t.epochs2) epochs, batch \(t.batchSize), lr \(t.learningRate), "
            + (t.precision == .fp32 ? "" : "\(t.precision.rawValue) products, ")
            + "\(seeds.count) seed\(seeds.count == 1 ? "" : "s")"
    }

    /// config.json: provenance, the spec, and what the spec means in full (training, protocol and
    /// the task's own settings as built), which `iml-compare` and people read.
    public func configJSON(task: TrainingTask) -> JSON {
        let p = protocolConfig
        let kernel = BLASKernelChoice.current
        var fields: [(String, JSON)] = [
            ("modality", .string(modality.name)),
            ("title", .string(modality.title)),
            ("package_version", .string(Provenance.packageVersion)),
            ("git_commit", Provenance.gitCommit.map(JSON.string) ?? .null),
            ("blas", .string(BLAS.configuration)), ("blas_core", .string(kernel.kernel)),
            ("blas_core_openblas_pick", kernel.openBLASPick.map(JSON.string) ?? .null),
            ("blas_core_reason", .string(kernel.reason.rawValue)), ("blas_core_why", .string(kernel.why)),
            ("arguments", .array(arguments.map(JSON.string))),
            ("threads", .int(concurrency)),
            ("spec", spec.json),
            ("seeds", .array(seeds.map { .int(Int($0)) })),
            ("epochs1", .int(training.epochs1)), ("epochs2", .int(training.epochs2)),
            ("batch_size", .int(training.batchSize)),
            ("lr", .number(Double("\(training.learningRate)") ?? .nan)),
            ("optimizer", .string(Trainer.optimizerDescription(training) + ", fresh state per stage")),
            ("stages", .array(stages.map { .int($0) })),
            ("entities", .int(p.entities)), ("attributes", .int(p.attributes)), ("classes", .int(p.classes)),
            ("alpha", .number(p.alpha)),
            ("tag1_fraction", .number(p.tag1Fraction)), ("tag2_fraction", .number(p.tag2Fraction)),
            ("question_only_fraction", .number(p.questionOnlyFraction)),
            ("stage2_weights", .array(p.stage2Weights.map { .number($0) })),
            ("held_out_per_variable", .int(p.heldOutCount)),
            ("seed_stage2", p.seedStage2.map { .int(Int($0)) } ?? .null),
            ("definitions_first", .int(p.definitionsFirst)),
            ("chance", .number(modality.chance(p))),
            ("compared_settings", .array(modality.comparedSettings.map(JSON.string))),
        ]
        // Beside lr, only when it is not fp32: an fp32 run's config.json reads as before the setting.
        if training.precision != .fp32, let lr = fields.firstIndex(where: { $0.0 == "lr" }) {
            fields.insert(("precision", .string(training.precision.rawValue)), at: lr + 1)
        }
        return .object(fields + task.settings)
    }

    /// Trains every seed and writes the run. A directory opened with `RunDirectory.openForResume`
    /// continues from its checkpoints.
    ///
    /// A file that cannot be written (a full disk) stops the run with one sentence naming it; every
    /// write is atomic, so the last good checkpoints stay whole and `--resume` continues from them.
    @discardableResult
    public func run(in directory: RunDirectory,
                    log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> RunSummary {
        do {
            return try train(in: directory, log: log)
        } catch let error as FileWriteError {
            let path = directory.url.path
            let fix = error.isDiskFull ? "free space on that disk" : "make \(URL(fileURLWithPath: error.path).deletingLastPathComponent().path) writable"
            guard FileManager.default.fileExists(atPath: directory.file(RunDirectory.configFile).path) else {
                throw IMLError("Cannot write \(error.path) (\(error.reason)); \(fix), then start the run again.")
            }
            throw IMLError("Cannot write \(error.path) (\(error.reason)); the last good checkpoints stay whole in \(path)/\(RunCheckpoints.directoryName): \(fix), then continue the run with --resume \(path).")
        }
    }

    func train(in directory: RunDirectory, log: @escaping (String) -> Void) throws -> RunSummary {
        guard let firstSeed = seeds.first else { throw IMLError("--seeds must be at least 1 (got 0).") }
        try BLAS.use(training.precision)
        // The first seed's task describes the run in config.json and then trains that seed.
        let first = try modality.makeTask(protocolConfig(seed: firstSeed))
        let config = configJSON(task: first)
        let firstTask = OneTimeTask(first, seed: firstSeed)
        if directory.resumes {
            try Self.checkSettingsMatch(config, spec: spec, in: directory, log: log)
        } else {
            try directory.write(config, to: RunDirectory.configFile)
            try directory.writeMetrics([])  // metrics.jsonl grows as epochs finish
        }
        let settingsText = try String(contentsOf: directory.file(RunDirectory.configFile), encoding: .utf8)
        let tensorBoard = TensorBoardLog(run: directory, settings: settingsText)
        let checkpoints = try RunCheckpoints(directory: directory, seeds: seeds, resuming: directory.resumes, tensorBoard: tensorBoard)
        let models = RunModels(run: directory.url, saveEvery: saveEvery, training: training)
        var states: [String] = []
        if directory.resumes {
            // Every checkpoint is checked before any seed trains, so a bad one changes no file.
            // Model and training-set sizes follow from the settings alone, the same for every seed.
            let expected = Trainer(task: first, config: training, seed: firstSeed).stateTensors.map { ($0.name, $0.tensor.count) }
            states = try seeds.map { seed -> String in
                guard let state = try checkpoints.read(seed: seed) else { return "seed \(seed): not started" }
                try Self.checkCheckpoint(state, path: checkpoints.url(seed: seed).path, stages: stages, training: training,
                               tensors: expected, trainedIndices: first.trainingIndices(stage:epoch:))
                return "seed \(seed): " + state.position
            }
        }
        if directory.resumes, let finished = try Self.finishedRun(in: directory) {
            // Its checkpoints checked above, a finished run is reported as it is.
            log("The run in \(directory.url.path) has finished (it has its \(RunDirectory.summaryFile)); nothing to resume, and nothing was rewritten.")
            return finished
        }
        log(BLASKernelChoice.current.line)
        log("\(modality.name): \(settingsLine); \(directory.resumes ? "resuming" : "writing to") \(directory.url.path)")
        if !states.isEmpty { log(states.joined(separator: "; ")) }
        let started = Date()
        let stop = StopFlag()
        let interrupts = InterruptHandler(stop: stop, log: log)
        defer { interrupts.remove() }
        let records: [MetricRecord]
        let modality = self.modality, base = self
        // A stage 2 started from another run's stage 1 trains stage 2 alone, and keeps the
        // stage-1 model it started from as its own (for `analyze`).
        if spec.stage2From != nil && stage1Source == nil { throw IMLError("--stage2-from was not checked before the run; this is a bug.") }
        let source = stage1Source
        let start = source.map { source in
            { (seed: UInt64, task: TrainingTask) throws -> [MetricRecord] in
                let records = try source.start(seed: seed, parameters: task.parameters)
                try models.save(seed: seed, stage: 1, epoch: source.epoch, parameters: task.parameters)
                return records
            }
        }
        do {
            records = try SeedRunner.run(seeds: seeds, concurrency: concurrency, training: training, stages: source == nil ? stages : [2],
                                         checkpoints: checkpoints, models: models, stop: stop, start: start,
                                         makeTask: { seed in try firstTask.take(seed: seed) ?? modality.makeTask(base.protocolConfig(seed: seed)) },
                                         progress: ProgressDisplay(seeds: seeds.count))
        } catch is SeedRunner.Stopped {
            throw RunInterrupted(directory: directory.url.path, signal: interrupts.signalReceived == 0 ? SIGINT : interrupts.signalReceived)
        } catch var error as DivergenceError {
            error.lastCheckpoint = checkpoints.existingPath(seed: error.seed)
            throw error
        }
        let summary = RunSummary(modality: modality.name, records: records, wallSeconds: Date().timeIntervalSince(started))
        try directory.writeMetrics(records)
        try directory.write(summary.json, to: RunDirectory.summaryFile)
        try CurvesFigure.write(records: records, title: title, settings: settingsLine, chance: modality.chance(protocolConfig),
                               to: directory.file(RunDirectory.curvesFile))
        return summary
    }

    /// The recorded summary of a run that has finished (summary.json is written last), or nil.
    static func finishedRun(in directory: RunDirectory) throws -> RunSummary? {
        let file = directory.file(RunDirectory.summaryFile)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return try RunSummary(summaryJSON: Data(contentsOf: file), file: file.path)
    }

    /// Refuses to continue a run whose config.json differs from `config` in a setting that changes
    /// numbers, naming the first difference; a different BLAS kernel only earns a note.
    static func checkSettingsMatch(_ config: JSON, spec: RunSpec, in directory: RunDirectory, log: (String) -> Void) throws {
        let file = directory.file(RunDirectory.configFile)
        guard case .object(let fields) = config else { return }
        let saved = try RunConfig.read(directory)
        // The spec first, named by the options: what the run computes.
        if let recorded = try saved.json.runSpec(file: file.path), let difference = recorded.firstDifference(from: spec) {
            throw IMLError("The run in \(directory.url.path) was made with \(difference.option) \(difference.mine), but this command gives \(difference.option) \(difference.other); leave that option out to continue with the run's value, or start a new run with --out.")
        }
        // Then what the spec means as this version builds it (a run of an older version has no spec).
        for (key, value) in fields where key != "spec" {
            let now = value.serialized(pretty: true, indent: "  ")
            let then = saved[key]?.serialized(pretty: true, indent: "  ")
            if ExecutionSettings.keys.contains(key) {
                if ExecutionSettings.kernelKeys.contains(key), let then, then != now {
                    log("note: the run in \(directory.url.path) was made with \(key) = \(then), this machine has \(now): the numbers stay valid but are no longer bit-identical to an uninterrupted run.")
                }
                continue
            }
            guard let then else {
                throw IMLError("\(file.path) has no setting \(key); it was written by another version of this program, so the run cannot be resumed; start a new run with --out.")
            }
            if then != now {
                throw IMLError("The run in \(directory.url.path) was made with \(key) = \(then), but this command gives \(key) = \(now); leave that option out to continue with the run's value, or start a new run with --out.")
            }
        }
    }

    /// Refuses a checkpoint this run cannot continue from: of another stage, epoch count, model
    /// size or data size, or with records that do not match its position.
    public static func checkCheckpoint(_ state: TrainingState, path: String, stages: [Int], training: TrainingConfig,
                      tensors expected: [(String, Int)], trainedIndices: (_ stage: Int, _ epoch: Int) -> [Int]) throws {
        let fix = "delete it to train seed \(state.seed) again from the start"
        let other = "it comes from a run of other settings: \(fix)"
        guard stages.contains(state.stage) else {
            throw IMLError("The checkpoint \(path) is in stage \(state.stage), which this run does not train; \(other).")
        }
        guard state.epochsDone <= training.epochs(stage: state.stage) else {
            throw IMLError("The checkpoint \(path) is after epoch \(state.epochsDone) of stage \(state.stage), but this run has \(training.epochs(stage: state.stage)) epochs in that stage; \(other).")
        }
        if !state.finished {
            guard state.tensors.count == expected.count else {
                throw IMLError("The checkpoint \(path) holds a model of another size (\(state.tensors.count) tensors, these settings build \(expected.count)); \(other).")
            }
            for (saved, (name, count)) in zip(state.tensors, expected) where saved.name != name || saved.values.count != count {
                throw IMLError("The checkpoint \(path) holds a model of another size (its tensor \(saved.name) has \(saved.values.count) values, these settings build \(name) with \(count)); \(other).")
            }
            // The order is that of the epoch in progress, or of the last one done.
            let trained = trainedIndices(state.stage, state.batchStart > 0 ? state.epochsDone + 1 : max(1, state.epochsDone))
            let n = trained.count
            guard state.order.count == n else {
                throw IMLError("The checkpoint \(path) orders \(state.order.count) training examples, but these settings make \(n) in stage \(state.stage); \(other).")
            }
            guard state.order.sorted() == trained else {
                throw IMLError("The checkpoint \(path) is damaged (its data order is not a permutation of the \(n) training examples); \(fix).")
            }
            guard state.batchStart < max(1, n) else {
                throw IMLError("The checkpoint \(path) is damaged (it continues at example \(state.batchStart) of \(n)); \(fix).")
            }
        }
        let lines = state.records.enumerated().map { (line: $0.offset + 3, record: $0.element) }
        try RunRecords.check(lines, seeds: [state.seed], stages: stages, epochs: training.epochs(stage:),
                             reachedBy: { _ in state.finished ? nil : (state.stage, state.epochsDone) },
                             configName: "the checkpoint's header") {
            IMLError("The checkpoint \(path) is damaged (\($0)); \(fix).")
        }
    }
}

/// Hands the first seed's already-built task to the worker that trains that seed, once.
private final class OneTimeTask: @unchecked Sendable {
    private let lock = NSLock()
    private var task: TrainingTask?
    let seed: UInt64
    init(_ task: TrainingTask, seed: UInt64) { self.task = task; self.seed = seed }
    func take(seed: UInt64) -> TrainingTask? {
        lock.lock(); defer { lock.unlock() }
        guard seed == self.seed, let t = task else { return nil }
        task = nil
        return t
    }
}
