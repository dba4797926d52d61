// The README's analysis tables (alignment at the end of stage 1, the tag gap per run), read from
// the analyses of committed runs.

import Foundation
import IMLBase
import IMLProtocol
import IMLRunFiles
import IMLTraining
import IMLAnalysis

/// The README's tables of a committed analysis (results/published/NAME/analysis/*.json): the
/// alignment at the end of stage 1 per subset, and the probes per layer (per layer and prompt
/// position for sequence models). With the answers' loss (analysis-answer/), the alignment alone:
/// the probes do not depend on the loss.
public enum AnalysisTables {
    static func read(_ name: String, of run: URL, loss: ExampleLoss) throws -> JSON {
        let file = run.appendingPathComponent(ModelAnalysis.directoryName(loss)).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw IMLError("\(file.path) is missing; analyze the run again (scripts/reproduce-results.sh \(run.lastPathComponent)).")
        }
        return try RunFileText.parse(data, path: file.path, fix: "analyze the run again")
    }

    static func number(_ json: JSON?) -> Double? { json?.numberValue }

    static func cell(_ estimate: JSON?, digits: Int = 3) -> String {
        guard var mean = number(estimate?["mean"]) else { return "–" }
        // A mean that rounds to zero reads 0.000, not -0.000.
        if abs(mean) < 0.5 * pow(10, -Double(digits)) { mean = 0 }
        let ci = number(estimate?["ci95_seeds"])
        return String(format: "%.\(digits)f", mean) + (ci.map { String(format: " ± %.\(digits)f", $0) } ?? "")
    }

    /// The last stage-1 point of a run's alignment.json, and its number of seeds.
    static func endOfStage1(_ run: URL, loss: ExampleLoss) throws -> (point: JSON, seeds: Int) {
        let alignment = try read("alignment.json", of: run, loss: loss)
        guard case .array(let points)? = alignment["points"], let last = points.last(where: { $0["stage"] == .int(1) }) ?? points.last,
              case .array(let seeds)? = alignment["seeds"] else {
            throw IMLError("\(run.path)/\(ModelAnalysis.directoryName(loss))/alignment.json has no points; analyze the run again.")
        }
        return (last, seeds.count)
    }

    /// One row per run: its IML effect beside the alignment of each subset at the end of stage 1
    /// and the tag gap, so that runs of different settings (word orders, batch sizes) line up.
    public static func gaps(runs: [URL], names: [String], loss: ExampleLoss) throws -> [String] {
        var lines = ["| run | IML effect (stage 2) | cosine d1consis | d2consis | d3consis | control | **d1consis − d2consis** |",
                     "|---|---|---|---|---|---|---|"]
        for (run, name) in zip(runs, names) {
            let effect = try PublishedRun(directory: run).summary.imlEffect
            let (last, _) = try endOfStage1(run, loss: loss)
            let cosines = ModelAnalysis.alignmentSeries.map { cell(last[$0]?["cosine"]) }
            lines.append("| \(name) | " + SeedSummary.cell(effect) + " | "
                         + cosines.joined(separator: " | ") + " | **\(cell(last["d1consis_minus_d2consis_cosine"]))** |")
        }
        return lines
    }

    public static func render(run: URL, loss: ExampleLoss = .full) throws -> [String] {
        let (last, seedCount) = try endOfStage1(run, loss: loss)
        let epoch = number(last["epoch"]).map { String(Int($0)) } ?? "?"
        let gradients = loss == .full ? "gradients of" : "gradients of the answers' loss of"
        var lines = ["| \(gradients) | cosine with their questions' (stage-1 epoch \(epoch), mean ± 95% CI over \(seedCount) seeds) | dot product |",
                     "|---|---|---|"]
        let names = ["d1consis": "d1consis definitions (tag 1)", "d2consis": "d2consis definitions (tag 2)",
                     "d3consis": "d3consis definitions (tag 3, never seen)", "control": "control: another variable's definition"]
        for series in ModelAnalysis.alignmentSeries {
            guard let entry = last[series] else { continue }
            lines.append("| \(names[series] ?? series) | \(cell(entry["cosine"])) | \(cell(entry["dot"], digits: 0)) |")
        }
        if let gap = last["d1consis_minus_d2consis_cosine"] {
            lines.append("| **d1consis − d2consis** | **\(cell(gap))** | |")
        }
        guard loss == .full, case .array(let layers)? = try read("probes.json", of: run, loss: loss)["layers"], !layers.isEmpty else { return lines }
        lines.append("")
        let positions = layers.compactMap { number($0["position"]).map(Int.init) }
        if positions.isEmpty {
            lines += ["| layer | probe accuracy (tag 1 vs tag 2) | shuffled-label control |", "|---|---|---|"]
            for layer in layers {
                guard case .string(let name)? = layer["layer"] else { continue }
                lines.append("| \(name) | \(cell(layer["accuracy"])) | \(cell(layer["control"])) |")
            }
        } else {
            let columns = Array(Set(positions)).sorted()
            var order: [String] = []
            for layer in layers { if case .string(let name)? = layer["layer"], !order.contains(name) { order.append(name) } }
            lines.append("| probe accuracy at prompt position | " + columns.map(String.init).joined(separator: " | ") + " |")
            lines.append("|---|" + String(repeating: "---|", count: columns.count))
            for name in order {
                let mine = layers.filter { $0["layer"] == .string(name) }
                let cells = columns.map { p in mine.first { number($0["position"]).map(Int.init) == p }.map { cell($0["accuracy"], digits: 2) } ?? "–" }
                lines.append("| \(name) | " + cells.joined(separator: " | ") + " |")
            }
            let controls = layers.compactMap { number($0["control"]?["mean"]) }
            lines.append("| shuffled-label control (range over all) | " + String(format: "%.2f–%.2f", controls.min() ?? .nan, controls.max() ?? .nan)
                         + String(repeating: " |", count: columns.count))
        }
        return lines
    }
}
