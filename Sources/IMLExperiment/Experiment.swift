// One multi-seed experiment from settings to files, for any modality: validate, create the run
// directory, train the seeds, write metrics.jsonl, summary.json and curves.png, print the table.
// The command-line tools only parse options and hand over a task factory.

import Foundation
import IMLBase
import IMLProtocol

public struct Experiment {
    public var modality: String
    public var seeds: [UInt64]
    public var training: TrainingConfig
    public var concurrency: Int
    public var stages: [Int] = [1, 2]
    /// Every setting, for config.json (package version and git commit are added here).
    public var settings: [(String, JSON)]
    /// One line of the run's key settings, for figure subtitles.
    public var settingsLine: String
    public var title: String
    public var chance: Double

    public init(modality: String, seeds: [UInt64], training: TrainingConfig, concurrency: Int,
                settings: [(String, JSON)], settingsLine: String, title: String, chance: Double) {
        self.modality = modality; self.seeds = seeds; self.training = training; self.concurrency = concurrency
        self.settings = settings; self.settingsLine = settingsLine; self.title = title; self.chance = chance
    }

    public var configJSON: JSON {
        .object([("modality", .string(modality)),
                 ("package_version", .string(Provenance.packageVersion)),
                 ("git_commit", Provenance.gitCommit().map(JSON.string) ?? .null),
                 ("seeds", .array(seeds.map { .int(Int($0)) })),
                 ("epochs1", .int(training.epochs1)), ("epochs2", .int(training.epochs2)),
                 ("batch_size", .int(training.batchSize)),
                 ("lr", .number(Double("\(training.learningRate)") ?? .nan)),
                 ("optimizer", .string("Adam(0.9, 0.999, 1e-8), fresh state per stage")),
                 ("stages", .array(stages.map { .int($0) })),
                 ("threads", .int(concurrency))] + settings)
    }

    /// Trains every seed and writes the run. `makeTask` builds one seed's data and model.
    @discardableResult
    public func run(in directory: RunDirectory, makeTask: @escaping (UInt64) throws -> TrainingTask,
                    log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> RunSummary {
        try directory.write(configJSON, to: RunDirectory.configFile)
        log("\(modality)-iml: \(seeds.count) seed(s), \(settingsLine); writing to \(directory.url.path)")
        let started = Date()
        let records = try SeedRunner.run(seeds: seeds, concurrency: concurrency, training: training, stages: stages,
                                         makeTask: makeTask, progress: ProgressDisplay(seeds: seeds.count))
        let summary = RunSummary(modality: modality, records: records, wallSeconds: Date().timeIntervalSince(started))
        try directory.writeMetrics(records)
        try directory.write(summary.json, to: RunDirectory.summaryFile)
        try CurvesFigure.write(records: records, title: title, settings: settingsLine, chance: chance,
                               to: directory.file(RunDirectory.curvesFile))
        return summary
    }
}
