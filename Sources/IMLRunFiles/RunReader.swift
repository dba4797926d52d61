// Reading finished runs back (for comparing and merging): config.json, metrics.jsonl and the
// summary recomputed from the metrics, with a clear refusal for anything that is not a run.

import Foundation
import IMLBase

/// What a run says about itself in config.json, with its summary: enough to compare runs.
public protocol DescribedRun {
    var name: String { get }
    /// config.json as the strict reader reads it, keys in file order.
    var config: JSON { get }
    var summary: RunSummary { get }
}

extension DescribedRun {
    public var modality: String { config["modality"]?.stringValue ?? "unknown" }

    /// The settings that make two runs comparable or mergeable: everything in config.json but
    /// the seeds and how the run was executed.
    public var settings: [String: String] {
        var out: [String: String] = [:]
        for (k, v) in config.objectFields ?? [] where k != "seeds" && !ExecutionSettings.keys.contains(k) {
            // The spec holds the seeds too; they are what merged runs differ in.
            out[k] = describe(k == "spec" ? .object((v.objectFields ?? []).filter { $0.0 != "seeds" }) : v)
        }
        return out
    }

    /// What the modality said about itself when the run was made (config.json).
    public var title: String { config["title"]?.stringValue ?? modality }
    public var chance: Double {
        config["chance"]?.numberValue ?? 1 / (config["classes"]?.numberValue ?? 10)
    }
    /// The modality's settings worth showing beside the protocol's, in its order.
    public var comparedSettings: [String] { config["compared_settings"]?.stringArray ?? [] }

    func describe(_ v: JSON) -> String {
        switch v {
        case .int, .number: return JSON.format(v.numberValue!)
        case .string(let s): return s
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map(describe).joined(separator: ", ") + "]"
        case .object(let fields): return "{" + fields.map { "\($0.0): \(describe($0.1))" }.joined(separator: ", ") + "}"
        }
    }
}

public struct FinishedRun: DescribedRun {
    public let directory: RunDirectory
    public let config: JSON
    public let records: [MetricRecord]
    public let summary: RunSummary

    public var name: String { directory.url.lastPathComponent }

    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IMLError("\(path) is not a directory; give the run directories that mnist-iml or text-iml wrote.")
        }
        let directory = RunDirectory(url: url)
        self.directory = directory
        for file in [RunDirectory.configFile, RunDirectory.metricsFile, RunDirectory.summaryFile]
        where !FileManager.default.fileExists(atPath: directory.file(file).path) {
            throw IMLError("\(path) is not a finished run: it has no \(file); give a directory that a completed run wrote.")
        }
        let runConfig = try RunConfig.read(directory)
        config = runConfig.json
        func contents(_ name: String) throws -> (path: String, data: Data) {
            let file = directory.file(name)
            do { return (file.path, try Data(contentsOf: file)) } catch {
                throw IMLError("Cannot read \(file.path) (\(RunFileText.reason(error))); check that it is a readable file.")
            }
        }
        let metrics = try contents(RunDirectory.metricsFile)
        let metricsFix = "restore metrics.jsonl from a copy of the run, or rewrite it from the run's checkpoints with `run --resume \(path)`"
        let lines = try RunRecords.parse(metrics.data, path: metrics.path, fix: metricsFix)
        try RunRecords.check(lines, seeds: runConfig.seeds, stages: runConfig.stages, epochs: runConfig.epochs(stage:),
                             configName: "config.json") { IMLError("\(metrics.path): \($0); \(metricsFix).") }
        records = lines.map(\.record)
        let computed = RunSummary(modality: runConfig.modality, records: records, wallSeconds: 0)
        let summaryFile = try contents(RunDirectory.summaryFile)
        let wall = try SummaryCheck.check(summaryFile.data, path: summaryFile.path, computed: computed,
                                          fix: "one of the two was edited or damaged: rewrite both from the run's checkpoints with `run --resume \(path)`, or restore them from a copy of the run")
        summary = RunSummary(modality: runConfig.modality, records: records, wallSeconds: wall)
    }
}
