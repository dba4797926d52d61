// The runs the README quotes, kept as config.json + summary.json under results/published/NAME/
// (scripts/reproduce-results.sh makes them), and the README's result tables rendered from them.
// A table in the README sits between two marker lines:
//   <!-- results: summary mnist-default -->      the run's final table (RunSummary.table)
//   <!-- results: sweep mnist-sweep-alpha -->    one row per value (SweepReport.table)
//   <!-- results: compare mnist-default text-default -->   runs side by side (Comparison.table)
//   <!-- results: analysis mnist-analysis -->     its analysis/ JSON: alignment and probes (AnalysisTables)
//   <!-- results: against parameters RUN... -->   IML against a number config.json records (AgainstReport)
//   <!-- /results -->
// `iml-compare --readme` rewrites every such block; a test fails when one differs from what the
// committed summaries give, so a quoted number is always what the code gave.

import Foundation
import IMLBase

/// A committed run: config.json and summary.json only.
public struct PublishedRun: DescribedRun {
    public let name: String
    public let config: JSON
    public let summary: RunSummary

    public init(directory: URL) throws {
        name = directory.lastPathComponent
        let configFile = directory.appendingPathComponent(RunDirectory.configFile)
        let summaryFile = directory.appendingPathComponent(RunDirectory.summaryFile)
        for file in [configFile, summaryFile] where !FileManager.default.fileExists(atPath: file.path) {
            throw IMLError("\(file.path) is missing; rerun it with scripts/reproduce-results.sh \(directory.lastPathComponent).")
        }
        config = try RunConfig.read(RunDirectory(url: directory)).json
        summary = try RunSummary(summaryJSON: Data(contentsOf: summaryFile), file: summaryFile.path)
    }
}

public enum PublishedResults {
    public static let directory = "results/published"
    static let open = "<!-- results: ", close = "<!-- /results -->"

    /// The table lines that `spec` ("summary NAME", "sweep NAME", "compare NAME...", "analysis NAME
    /// [answer]", "gaps LOSS NAME...", "against KEY NAME...") stands for.
    public static func render(_ spec: String, root: URL) throws -> [String] {
        let words = spec.split(separator: " ").map(String.init)
        let base = root.appendingPathComponent(directory)
        guard let kind = words.first, words.count >= 2 else {
            throw IMLError("README marker \"\(spec)\" needs a kind (summary, sweep, compare, analysis, gaps, against) and a run name.")
        }
        switch kind {
        case "summary":
            return try PublishedRun(directory: base.appendingPathComponent(words[1])).summary.table().components(separatedBy: "\n")
        case "sweep":
            let sweep = base.appendingPathComponent(words[1])
            let entries = try FileManager.default.contentsOfDirectory(atPath: sweep.path).filter { $0.contains("=") }.sorted()
            var parameter: SweepParameter?
            var points: [SweepReport.Point] = []
            for entry in entries {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                parameter = SweepParameter(parts[0])
                let run = try PublishedRun(directory: sweep.appendingPathComponent(entry))
                points.append(.init(value: SweepValue(parts[1]), directory: entry, summary: run.summary))
            }
            guard let parameter else { throw IMLError("\(sweep.path) holds no runs of a sweep; rerun it with scripts/reproduce-results.sh \(words[1]).") }
            return SweepReport.table(SweepReport.ordered(points), parameter: parameter)
        case "compare":
            let runs = try words.dropFirst().map { try PublishedRun(directory: base.appendingPathComponent($0)) }
            return Comparison.table(runs, names: runs.map(\.name))
        case "analysis":
            // "analysis NAME" or "analysis NAME answer" (the alignment on the answers' loss).
            var loss = ExampleLoss.full
            if words.count > 2 {
                guard let named = ExampleLoss(rawValue: words[2]) else {
                    throw IMLError("README marker \"\(spec)\": \(words[2]) is not a loss; use analysis NAME or analysis NAME answer.")
                }
                loss = named
            }
            return try AnalysisTables.render(run: base.appendingPathComponent(words[1]), loss: loss)
        case "gaps":
            // "gaps LOSS NAME...": each run's IML effect beside its alignment at the end of stage 1.
            guard words.count >= 3, let loss = ExampleLoss(rawValue: words[1]) else {
                throw IMLError("README marker \"\(spec)\" needs a loss (full or answer) and at least one run, e.g. gaps answer text-default.")
            }
            let names = Array(words.dropFirst(2))
            return try AnalysisTables.gaps(runs: names.map { base.appendingPathComponent($0) }, names: names, loss: loss)
        case "against":
            guard words.count >= 3 else { throw IMLError("README marker \"\(spec)\" needs a config key and at least one run, e.g. against parameters mnist-default.") }
            let names = Array(words.dropFirst(2))
            let runs = try names.map { try PublishedRun(directory: base.appendingPathComponent($0)) }
            return try AgainstReport.table(runs, names: names, key: words[1])
        default:
            throw IMLError("README marker \"\(spec)\": unknown kind \(kind); use summary, sweep, compare, analysis, gaps or against.")
        }
    }

    /// `readme` with every results block rendered anew.
    public static func rendered(readme: String, root: URL) throws -> String {
        var out: [String] = [], skipping = false
        for line in readme.components(separatedBy: "\n") {
            if skipping {
                if line == close { out.append(line); skipping = false }
                continue
            }
            out.append(line)
            if line.hasPrefix(open), line.hasSuffix(" -->") {
                let spec = String(line.dropFirst(open.count).dropLast(4))
                out += try render(spec, root: root)
                skipping = true
            }
        }
        if skipping { throw IMLError("The README has a results block without its closing \(close) line.") }
        return out.joined(separator: "\n")
    }

    /// The specs of the blocks whose text differs from what the committed summaries give.
    public static func stale(readme: String, root: URL) throws -> [String] {
        let fresh = try rendered(readme: readme, root: root)
        func blocks(_ text: String) -> [String: String] {
            var result: [String: String] = [:], current: String?, lines: [String] = []
            for line in text.components(separatedBy: "\n") {
                if let c = current {
                    if line == close { result[c] = lines.joined(separator: "\n"); current = nil } else { lines.append(line) }
                } else if line.hasPrefix(open) {
                    current = line; lines = []
                }
            }
            return result
        }
        let now = blocks(readme), expected = blocks(fresh)
        let index = try PublishedIndex.isCurrent(root: root) ? [] : [directory + "/" + PublishedIndex.fileName]
        return expected.keys.sorted().filter { now[$0] != expected[$0] } + index
    }
}
