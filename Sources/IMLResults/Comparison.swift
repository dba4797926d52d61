// Comparing finished runs of either modality: their stage-2 curves side by side on the same
// axes and colours (comparison.png), and a table of final exact match per subset and the IML
// effect with its interval, one column per run (comparison.md).

import Foundation
import IMLBase
import IMLProtocol
import IMLReport
import IMLRunFiles

public enum Comparison {
    /// The protocol's and training's settings shown for every run; each modality adds its own
    /// (config.json's compared_settings) before the training ones.
    static let protocolSettings = ["entities", "attributes", "classes", "alpha"]
    static let trainingSettings = ["epochs1", "epochs2", "batch_size", "lr"]

    /// Protocol settings shown only where a run departs from their default (older runs lack them).
    static let protocolSettingsWhereSet: [(key: String, unset: JSON)] = [("definitions_first", .int(0))]

    static func shownSettings(_ runs: [DescribedRun]) -> [String] {
        var keys = protocolSettings
        for (key, unset) in protocolSettingsWhereSet where runs.contains(where: { ($0.config[key] ?? unset) != unset }) { keys.append(key) }
        for run in runs { for key in run.comparedSettings where !keys.contains(key) { keys.append(key) } }
        return keys + trainingSettings
    }

    public static func compare(_ paths: [String], out: String) throws {
        guard !paths.isEmpty else { throw IMLError("iml-compare needs at least one run directory.") }
        let runs = try paths.map(FinishedRun.init(path:))
        for run in runs where run.summary.stages[2] == nil {
            throw IMLError("\(run.name) has no stage-2 results (a one-stage run?), so its stage-2 curves cannot be compared; give two-stage runs.")
        }
        let outURL = URL(fileURLWithPath: out)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw IMLError("The output path \(out) is a file, not a directory; choose another --out.")
        }
        let names = uniqueNames(runs)
        let panels = zip(runs, names).map { run, name in
            CurvesFigure.panel(records: run.records, stage: 2, title: "\(name) (\(run.modality), \(run.summary.seeds.count) seeds)",
                               chance: run.chance)
        }
        try Figure.render(title: "Stage 2: exact match of new definitions, by tag",
                          subtitle: "mean over seeds with 95% bands; IML effect = d1consis - d2consis",
                          panels: panels, panelWidth: 600, panelHeight: 440).writePNGAndSVG(to: outURL.appendingPathComponent("comparison.png"))
        try AtomicFile.write(markdown(runs, names: names), to: outURL.appendingPathComponent("comparison.md"))
    }

    /// Directory names, made unique with their parent's name where two runs share one.
    public static func uniqueNames(_ runs: [FinishedRun]) -> [String] {
        let names = runs.map(\.name)
        return runs.map { run in
            names.filter { $0 == run.name }.count > 1
                ? run.directory.url.deletingLastPathComponent().lastPathComponent + "/" + run.name : run.name
        }
    }


    public static func markdown(_ runs: [DescribedRun], names: [String]) -> String {
        (["# Comparison of \(runs.count) run\(runs.count == 1 ? "" : "s")", ""] + table(runs, names: names)
            + ["", "Exact match after the last epoch of each stage; ± is the half-width of the 95% Student-t interval over seeds."])
            .joined(separator: "\n") + "\n"
    }

    /// The comparison table alone: settings, final exact match per subset and the IML effect, a column per run.
    public static func table(_ runs: [DescribedRun], names: [String]) -> [String] {
        var lines = ["| | " + names.joined(separator: " | ") + " |",
                     "|---|" + String(repeating: "---|", count: runs.count),
                     "| modality | " + runs.map(\.modality).joined(separator: " | ") + " |",
                     "| seeds | " + runs.map { "\($0.summary.seeds.count)" }.joined(separator: " | ") + " |"]
        for key in shownSettings(runs) where runs.contains(where: { $0.settings[key] != nil }) {
            lines.append("| \(key) | " + runs.map { $0.settings[key] ?? "—" }.joined(separator: " | ") + " |")
        }
        for stage in [1, 2] {
            var subsets: [String] = []
            for run in runs { for (s, _) in run.summary.stages[stage] ?? [] where !subsets.contains(s) { subsets.append(s) } }
            for subset in subsets {
                lines.append("| stage \(stage) \(subset) | " + runs.map { SeedSummary.cell($0.summary.value(stage: stage, subset: subset)) }.joined(separator: " | ") + " |")
            }
        }
        lines.append("| **IML effect (d1consis − d2consis)** | " + runs.map { "**\(SeedSummary.cell($0.summary.imlEffect))**" }.joined(separator: " | ") + " |")
        return lines
    }
}
