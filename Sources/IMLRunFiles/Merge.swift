// Merging runs of the same settings made with different seeds (e.g. on different machines) into
// one run directory with the same files, as if the seeds had run together.

import Foundation
import IMLBase

public enum Merge {
    /// Checks that the runs can be merged, then writes config.json, metrics.jsonl, summary.json
    /// and curves.png into `out`. Returns the merged summary.
    @discardableResult
    public static func merge(_ paths: [String], into out: String, force: Bool,
                             log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> RunSummary {
        guard paths.count >= 2 else { throw IMLError("merge needs at least two run directories (got \(paths.count)).") }
        let runs = try paths.map(FinishedRun.init(path:))
        let first = runs[0]
        for run in runs.dropFirst() {
            let a = first.settings, b = run.settings
            for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
                throw IMLError("Cannot merge \(first.name) and \(run.name): their setting \"\(key)\" differs (\(a[key] ?? "missing") vs \(b[key] ?? "missing")); merge only runs of the same settings.")
            }
            // Another BLAS kernel rounds differently: valid numbers, but not the bytes of one run.
            for key in ExecutionSettings.kernelKeys.sorted() {
                let x = first.config[key]?.stringValue, y = run.config[key]?.stringValue
                if x != y {
                    log("note: \(first.name) was made with \(key) = \(x ?? "unknown") and \(run.name) with \(y ?? "unknown"): the merged numbers are valid but not bit-identical to one run on one kernel.")
                }
            }
        }
        var seen: [UInt64: String] = [:]
        for run in runs {
            for seed in run.summary.seeds {
                if let other = seen[seed] { throw IMLError("Seed \(seed) is in both \(other) and \(run.name); merge runs of different seeds.") }
                seen[seed] = run.name
            }
        }
        // Records in seed order, each seed's records in the order its run wrote them.
        let records = runs.flatMap { run in run.summary.seeds.map { seed in (seed, run.records.filter { $0.seed == seed }) } }
            .sorted { $0.0 < $1.0 }.flatMap(\.1)
        let summary = RunSummary(modality: first.modality, records: records, wallSeconds: runs.reduce(0) { $0 + $1.summary.wallSeconds })
        let directory = try RunDirectory.create(out, force: force)
        // The first run's config.json in its own layout, with the merged seeds and where they came from.
        let recorded = try RunConfig.read(first.directory)
        let seeds = JSON.array(summary.seeds.map { .int(Int($0)) })
        var fields = recorded.json.objectFields ?? []
        for (i, field) in fields.enumerated() {
            if field.0 == "seeds" { fields[i].1 = seeds }
            if field.0 == "spec", var spec = try recorded.json.runSpec(file: recorded.path) {
                spec.seeds = summary.seeds
                fields[i].1 = spec.json
            }
        }
        fields.removeAll { $0.0 == "merged_from" }
        fields.append(("merged_from", .array(paths.map(JSON.string))))
        let config = JSON.object(fields)
        try directory.write(config, to: RunDirectory.configFile)
        try directory.writeMetrics(records)
        try TensorBoardLog(run: directory, settings: config.serialized(pretty: true) + "\n").write(records)
        try directory.write(summary.json, to: RunDirectory.summaryFile)
        try CurvesFigure.write(records: records, title: first.title + ": implicit meta-learning",
                               settings: "merged: seeds \(summary.seeds.map(String.init).joined(separator: ", ")) from \(runs.map(\.name).joined(separator: ", "))",
                               chance: first.chance, to: directory.file(RunDirectory.curvesFile))
        return summary
    }
}

extension MetricRecord {
    public var seed: UInt64 {
        switch self {
        case let .exactMatch(seed, _, _, _, _, _): return seed
        case let .trainLoss(seed, _, _, _): return seed
        }
    }
}
