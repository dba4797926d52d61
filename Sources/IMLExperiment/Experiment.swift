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

    /// Trains every seed and writes the run. `makeTask` builds one seed's data and model. A
    /// directory opened with `RunDirectory.openForResume` continues from its checkpoints.
    @discardableResult
    public func run(in directory: RunDirectory, makeTask: @escaping (UInt64) throws -> TrainingTask,
                    log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> RunSummary {
        if directory.resumes {
            try checkSettingsMatch(directory)
        } else {
            try directory.write(configJSON, to: RunDirectory.configFile)
            try directory.writeMetrics([])  // metrics.jsonl grows as epochs finish
        }
        let checkpoints = try RunCheckpoints(directory: directory, seeds: seeds, resuming: directory.resumes)
        log("\(modality)-iml: \(seeds.count) seed(s), \(settingsLine); \(directory.resumes ? "resuming" : "writing to") \(directory.url.path)")
        if directory.resumes {
            let states = try seeds.map { seed in "seed \(seed): " + (try checkpoints.load(seed: seed)?.position ?? "not started") }
            log(states.joined(separator: "; "))
        }
        let started = Date()
        let stop = StopFlag()
        let interrupts = InterruptHandler(stop: stop, log: log)
        defer { interrupts.remove() }
        let records: [MetricRecord]
        do {
            records = try SeedRunner.run(seeds: seeds, concurrency: concurrency, training: training, stages: stages,
                                         checkpoints: checkpoints, stop: stop, makeTask: makeTask,
                                         progress: ProgressDisplay(seeds: seeds.count))
        } catch is SeedRunner.Stopped {
            throw RunInterrupted(directory: directory.url.path)
        } catch var error as DivergenceError {
            error.lastCheckpoint = checkpoints.existingPath(seed: error.seed)
            throw error
        }
        let summary = RunSummary(modality: modality, records: records, wallSeconds: Date().timeIntervalSince(started))
        try directory.writeMetrics(records)
        try directory.write(summary.json, to: RunDirectory.summaryFile)
        try CurvesFigure.write(records: records, title: title, settings: settingsLine, chance: chance,
                               to: directory.file(RunDirectory.curvesFile))
        return summary
    }

    /// Settings that may differ between a run and its continuation (they do not change numbers).
    static let provenanceKeys: Set<String> = ["package_version", "git_commit"]

    /// Refuses to continue a run whose config.json differs from these settings, naming the first difference.
    func checkSettingsMatch(_ directory: RunDirectory) throws {
        let file = directory.file(RunDirectory.configFile)
        guard case .object(let fields) = configJSON else { return }
        let saved: [String: String]
        do {
            saved = Self.topLevelFields(try String(contentsOf: file, encoding: .utf8))
        } catch {
            throw IMLError("Cannot read \(file.path) (\(error.localizedDescription)); a run to resume needs its config.json.")
        }
        for (key, value) in fields where !Self.provenanceKeys.contains(key) {
            let now = value.serialized(pretty: true, indent: "  ")
            guard let then = saved[key] else {
                throw IMLError("\(file.path) has no setting \(key); it was written by another version of this program, so the run cannot be resumed; start a new run with --out.")
            }
            if then != now {
                throw IMLError("The run in \(directory.url.path) was made with \(key) = \(then), but this command gives \(key) = \(now); resume with the run's original options (see its config.json) or start a new run with --out.")
            }
        }
    }

    /// "key" -> value text of every top-level field of a config.json this program wrote (pretty,
    /// one field per line).
    static func topLevelFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("  \"") && !line.hasPrefix("   ") {
            guard let colon = line.range(of: "\": ") else { continue }
            let key = String(line[line.index(line.startIndex, offsetBy: 3)..<colon.lowerBound])
            var value = line[colon.upperBound...]
            if value.hasSuffix(",") { value = value.dropLast() }
            fields[key] = String(value)
        }
        return fields
    }
}
