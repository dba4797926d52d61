// IML against a number that every run's config.json records (`parameters`, `batch_size`, ...):
// finished runs made with different options become the points of one sweep-like figure and
// table, e.g. wider and deeper models against their parameter count (`iml-compare --against
// parameters RUN...`, README marker `<!-- results: against parameters NAME... -->`).

import Foundation
import IMLBase
import IMLRunFiles

public enum AgainstReport {
    /// One point per run, valued by config.json's `key`; names label the runs in the table.
    public static func points(_ runs: [DescribedRun], names: [String], key: String) throws -> [SweepReport.Point] {
        try zip(runs, names).map { run, name in
            guard let number = run.config[key]?.numberValue else {
                let numeric = (run.config.objectFields ?? []).filter { $0.1.numberValue != nil }.map(\.0).sorted()
                throw IMLError("\(name) records no number \"\(key)\" in its config.json; choose one of: \(numeric.joined(separator: ", ")).")
            }
            return SweepReport.Point(value: SweepValue(JSON.format(number)), directory: name, summary: run.summary)
        }
    }

    static func parameter(_ key: String) -> SweepParameter { SweepParameter(key, label: key.replacingOccurrences(of: "_", with: " ")) }

    /// The table, one row per run ordered by the number.
    public static func table(_ runs: [DescribedRun], names: [String], key: String) throws -> [String] {
        SweepReport.table(SweepReport.ordered(try points(runs, names: names, key: key)), parameter: parameter(key))
    }

    /// against-KEY.png and against-KEY.md in `out`. The runs must share a modality: one figure per modality.
    public static func write(_ runs: [FinishedRun], names: [String], key: String, out: URL) throws {
        let modalities = Set(runs.map(\.modality))
        if modalities.count > 1 {
            throw IMLError("--against plots runs of one modality, and these are \(modalities.sorted().joined(separator: " and ")); give the runs of each modality in a call of their own.")
        }
        let points = try points(runs, names: names, key: key)
        try SweepReport.write(points: points, parameter: parameter(key), modalityTitle: runs[0].title,
                              settings: "one point per run: " + names.joined(separator: ", "), to: out,
                              name: "against-" + key, tick: { compact($0.value.number ?? .nan) }, connect: false)
    }

    /// 410158 -> "410k", 1_900_000 -> "1.9M": tick labels that fit beside each other.
    static func compact(_ x: Double) -> String {
        if x >= 1e6 { return String(format: x >= 1e7 ? "%.0fM" : "%.1fM", x / 1e6) }
        if x >= 1e4 { return String(format: "%.0fk", x / 1e3) }
        return JSON.format(x)
    }
}
