// `status DIR`: where every seed of a run stands, from its files (checkpoints, metrics.jsonl),
// for a local run, a sweep or a submitted run; for a submitted one also what Slurm says about
// each array task and the aggregation job, and where each task's log is.

import ArgumentParser
import Foundation
import IMLBase
import IMLRunFiles
import IMLCluster

public struct StatusCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show where each seed of a run, sweep or submitted run stands; for a submitted run also each Slurm task's state and log.")

    @Argument(help: "A directory that run, sweep or submit wrote.") var directory: String

    public init() {}

    public func run() throws {
        try reportingErrors {
            let url = URL(fileURLWithPath: directory).standardizedFileURL
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw IMLError("\(directory) is not a directory; give a directory that run, sweep or submit wrote.")
            }
            if SlurmSubmission.exists(in: url) {
                print(Self.submitted(try SlurmSubmission(reading: url)))
            } else if FileManager.default.fileExists(atPath: url.appendingPathComponent(RunDirectory.configFile).path) {
                print(try Self.local(url))
            } else {
                let runs = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
                    .map { url.appendingPathComponent($0) }
                    .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent(RunDirectory.configFile).path) }
                guard !runs.isEmpty else {
                    throw IMLError("\(url.path) holds no run (no config.json, no slurm/submission.json, no run directories inside); give a directory that run, sweep or submit wrote.")
                }
                print("sweep in \(url.path): \(runs.count) run\(runs.count == 1 ? "" : "s")"
                      + (FileManager.default.fileExists(atPath: url.appendingPathComponent("sweep.md").path) ? "; sweep.md and sweep.png written" : "; sweep.md not written yet"))
                for run in runs { print("\n" + (try Self.local(run))) }
            }
        }
    }

    /// A local run: one line per seed.
    static func local(_ run: URL) throws -> String {
        // A damaged config.json is named, not read as a run of no seeds.
        _ = try RunConfig.read(RunDirectory(url: run))
        let seeds = RunStatus.seeds(of: run)
        let plan = RunStatus.plan(of: run)
        let finished = seeds.filter(\.finished).count
        let epochs = plan.map { p in p.epochs.keys.sorted().map { String(p.epochs[$0] ?? 0) }.joined(separator: " + ") + " epochs" } ?? "? epochs"
        var lines = ["run in \(run.path): \(seeds.count) seed\(seeds.count == 1 ? "" : "s"), \(epochs); \(finished) of \(seeds.count) finished; "
                     + results(run)]
        lines += table([["seed", "stage", "epoch", "state"]] + seeds.map { s in
            let c = s.columns
            return [String(s.seed), c.stage, c.epoch, c.state]
        })
        return lines.joined(separator: "\n")
    }

    static func results(_ run: URL) -> String {
        FileManager.default.fileExists(atPath: run.appendingPathComponent(RunDirectory.summaryFile).path)
            ? "results written (summary.json, curves.png)" : "results not written yet"
    }

    /// A submitted run: one line per array task, with Slurm's view of it.
    static func submitted(_ submission: SlurmSubmission) -> String {
        var cache: [Int: [Slurm.JobRecord]?] = [:]
        func records(_ job: Int) -> [Slurm.JobRecord]? {
            if let r = cache[job] { return r }
            let r = Slurm.showJob(job)
            cache[job] = r
            return r
        }
        let scontrol = Slurm.which("scontrol") != nil
        func slurmState(job: Int?, script: String, task: Int?) -> String {
            guard let job else { return "not submitted" }
            guard scontrol else { return "unknown (scontrol is not installed here)" }
            guard let list = records(job) else { return "unknown (Slurm does not answer)" }
            // Job ids are reused after a controller reset: the record must be of this run's script.
            let mine = list.filter { $0["Command"] == script && (task == nil || $0.arrayTasks?.contains(task!) == true) }
            guard let record = mine.first else { return "unknown (forgotten by Slurm)" }
            return Slurm.describe(record)
        }
        let arrayScript = submission.file(SlurmSubmission.arrayScript).path
        let aggregateScript = submission.file(SlurmSubmission.aggregateScript).path
        let tasks = submission.tasks
        let statuses = tasks.map { submission.status($0) }
        let finished = statuses.filter(\.finished).count
        let arrays = submission.jobs.map(\.arrayJob).filter { $0 > 0 }
        var lines = ["submitted " + (submission.sweep.map { "\($0.name) sweep" } ?? "run") + " in \(submission.directory.path) (\(submission.tool)): "
                     + "\(tasks.count) task\(tasks.count == 1 ? "" : "s"), \(finished) finished; "
                     + (arrays.isEmpty ? "not submitted" : "array job\(Set(arrays).count == 1 ? "" : "s") \(Array(NSOrderedSet(array: arrays)).map { "\($0)" }.joined(separator: ", "))")]
        if let aggregate = submission.jobs.last?.aggregateJob {
            lines.append("aggregation job \(aggregate): \(slurmState(job: aggregate, script: aggregateScript, task: nil)); log \(submission.aggregateLog.path)")
        }
        for p in submission.points.indices {
            let run = submission.pointDirectory(p)
            lines.append((submission.sweep == nil ? "" : "\(submission.points[p].path): ") + results(run))
        }
        var rows: [[String]] = [["task"] + (submission.sweep.map { [$0.name] } ?? []) + ["seed", "stage", "epoch", "training", "slurm", "log"]]
        var stopped: [String] = []
        for (task, status) in zip(tasks, statuses) {
            let c = status.columns
            let state = slurmState(job: submission.arrayJob(of: task), script: arrayScript, task: task.index)
            rows.append(["\(task.index)"] + (submission.sweep == nil ? [] : [submission.points[task.point].value?.text ?? "—"])
                        + ["\(task.seed)", c.stage, c.epoch, c.state, state, submission.logFile(task).path])
            let word = state.split(separator: " ").first.map(String.init) ?? ""
            if !status.finished, !Slurm.activeStates.contains(word), !state.hasPrefix("not submitted"), !state.hasPrefix("unknown (scontrol"), !state.hasPrefix("unknown (Slurm does") {
                stopped.append("task \(task.index) (\(submission.describe(task))): \(state)" + (lastError(submission.logFile(task)).map { "; its log ends with: \($0)" } ?? ""))
            }
        }
        lines += table(rows)
        if !stopped.isEmpty {
            lines.append("")
            lines += stopped
            lines.append("Once the cause is fixed, continue with: \(submission.tool) submit --resume \(submission.directory.path) (finished tasks are kept, the others continue from their last checkpoint).")
        }
        return lines.joined(separator: "\n")
    }

    /// The last "error:" line of a task's log, if any.
    static func lastError(_ log: URL) -> String? {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").last { $0.hasPrefix("error:") || $0.contains("slurmstepd") }.map(String.init)
    }

    /// Rows as left-aligned columns two spaces apart.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
    }
}
