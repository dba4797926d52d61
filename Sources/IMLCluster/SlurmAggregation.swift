// The aggregation of a submitted run: once every array task has finished its seed, each point's
// one-seed runs become one run directory with the files a local multi-seed run writes —
// metrics.jsonl (the seeds' records in seed order, byte for byte what a local run writes, as
// seeds train independently), summary.json, curves.png (same title and subtitle), tensorboard/,
// the seeds' finished checkpoints and saved models, and config.json (the first task's, with the run's arguments
// and seeds). A sweep also gets sweep.png and sweep.md.

import Foundation
import IMLBase
import IMLRunFiles
import IMLTraining

extension SlurmSubmission {
    /// Where a task's seed stands (from its directory's checkpoint).
    public func status(_ task: Task) -> SeedStatus {
        RunStatus.seeds(of: taskDirectory(task), expected: [task.seed]).first { $0.seed == task.seed }
            ?? SeedStatus(seed: task.seed, state: .notStarted, epochs: [:])
    }

    /// Writes every point's run and, for a sweep, sweep.png and sweep.md. `experiment` makes the
    /// Experiment a local `run` with the point's arguments would make (figure title and subtitle).
    /// Refuses, naming the task and its log, while a task has not finished.
    public func aggregate(experiment: (Point) throws -> Experiment) throws -> [RunSummary] {
        for task in tasks {
            let s = status(task)
            if !s.finished {
                throw IMLError("Task \(task.index) (\(describe(task))) has not finished (\(s.position)), so the results cannot be written yet; see its log \(logFile(task).path), then continue it with: \(tool) submit --resume \(directory.path)")
            }
        }
        var summaries: [RunSummary] = []
        for p in points.indices {
            summaries.append(try aggregate(point: p, experiment: try experiment(points[p])))
        }
        if let sweep {
            var reportPoints: [SweepReport.Point] = []
            var title = ""
            for p in points.indices {
                let run = try FinishedRun(path: pointDirectory(p).path)
                title = run.title
                reportPoints.append(.init(value: points[p].value ?? SweepValue("—"), directory: pointDirectory(p).path, summary: run.summary))
            }
            // As a local sweep says it: without the options that only say where it ran.
            try SweepReport.write(points: reportPoints, parameter: sweep, modalityTitle: title,
                                  settings: sweep.sweepCommand(tool: tool, values: points.compactMap(\.value), shared: sweepArguments),
                                  to: directory)
        }
        return summaries
    }

    /// "seed 1" or "alpha = 0.5, seed 1".
    public func describe(_ task: Task) -> String {
        (sweep.map { "\($0.name) = \(points[task.point].value?.text ?? "—"), " } ?? "") + "seed \(task.seed)"
    }

    func aggregate(point p: Int, experiment: Experiment) throws -> RunSummary {
        let mine = tasks.filter { $0.point == p }
        let runs = try mine.map { try FinishedRun(path: taskDirectory($0).path) }
        for (task, run) in zip(mine, runs).dropFirst() {
            let a = runs[0].settings, b = run.settings
            for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
                throw IMLError("Task \(task.index) in \(taskDirectory(task).path) was made with \(key) = \(b[key] ?? "nothing"), task \(mine[0].index) with \(a[key] ?? "nothing"); the tasks of one run must share their settings, so submit the run again.")
            }
        }
        let records = zip(mine, runs).flatMap { task, run in run.records.filter { $0.seed == task.seed } }
        let summary = RunSummary(modality: runs[0].modality, records: records, wallSeconds: runs.reduce(0) { $0 + $1.summary.wallSeconds })
        let directory = RunDirectory(url: pointDirectory(p))
        // config.json: the first task's, saying what a local run of the point's spec says.
        let seeds = mine.map(\.seed)
        var replaced: [String: JSON] = ["arguments": .array(points[p].arguments.map(JSON.string)), "seeds": .array(seeds.map { .int(Int($0)) })]
        if var spec = points[p].spec {
            spec.seeds = seeds
            replaced["spec"] = spec.json
        }
        let taskConfig = try RunConfig.read(RunDirectory(url: taskDirectory(mine[0])))
        let config = JSON.object(taskConfig.json.objectFields!.map { ($0.0, replaced[$0.0] ?? $0.1) }).serialized(pretty: true) + "\n"
        try AtomicFile.write(config, to: directory.file(RunDirectory.configFile))
        try directory.writeMetrics(records)
        try TensorBoardLog(run: directory, settings: config).write(records)
        for task in mine {
            let name = "\(RunCheckpoints.directoryName)/seed-\(task.seed).checkpoint"
            try AtomicFile.write(try Data(contentsOf: taskDirectory(task).appendingPathComponent(name)), to: directory.file(name))
            // The seed's saved models, for `analyze` of the aggregated run.
            for point in RunModels.points(run: taskDirectory(task), seed: task.seed) {
                let from = RunModels.url(run: taskDirectory(task), seed: task.seed, stage: point.stage, epoch: point.epoch)
                let to = RunModels.url(run: directory.url, seed: task.seed, stage: point.stage, epoch: point.epoch)
                try AtomicFile.write(try Data(contentsOf: from), to: to)
            }
        }
        try directory.write(summary.json, to: RunDirectory.summaryFile)
        try CurvesFigure.write(records: records, title: experiment.title, settings: experiment.settingsLine,
                               chance: experiment.modality.chance(experiment.protocolConfig), to: directory.file(RunDirectory.curvesFile))
        return summary
    }
}
