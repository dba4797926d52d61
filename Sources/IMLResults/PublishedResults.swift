// The runs the README and docs/results.md quote, kept as config.json + summary.json under
// results/published/NAME/ (scripts/reproduce-results.sh makes them), and the result tables of
// those documents rendered from them. A table sits between two marker lines:
//   <!-- results: summary mnist-default -->      the run's final table (RunSummary.table)
//   <!-- results: effects mnist-default text-default -->   one row per run: final EMs and the IML effect
//   <!-- results: sweep mnist-sweep-alpha -->    one row per value (SweepReport.table)
//   <!-- results: compare mnist-default text-default -->   runs side by side (Comparison.table)
//   <!-- results: analysis mnist-analysis -->     its analysis/ JSON: alignment and probes (AnalysisTables)
//   <!-- results: gaps answer RUN... -->         each run's IML effect beside its alignment (AnalysisTables.gaps)
//   <!-- results: against parameters RUN... -->   IML against a number config.json records (AgainstReport)
//   <!-- results: when SOURCE SWEEP -->          stage 2 from each stage-1 epoch of SOURCE (WhenReport)
//   <!-- /results -->
// `iml-compare --readme README.md` rewrites every such block of the README and of each docs/*.md
// beside it that holds one; a test fails when one differs from what the committed summaries give,
// so a quoted number is always what the code gave.

import Foundation
import IMLBase
import IMLRunFiles
import IMLTraining

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

    /// The table lines that `spec` ("summary NAME", "effects NAME...", "sweep NAME", "compare NAME...", "analysis NAME
    /// [answer]", "gaps LOSS NAME...", "against KEY NAME...", "when SOURCE SWEEP") stands for.
    public static func render(_ spec: String, root: URL) throws -> [String] {
        let words = spec.split(separator: " ").map(String.init)
        let base = root.appendingPathComponent(directory)
        guard let kind = words.first, words.count >= 2 else {
            throw IMLError("README marker \"\(spec)\" needs a kind (summary, effects, sweep, compare, analysis, gaps, against, when) and a run name.")
        }
        switch kind {
        case "summary":
            return try PublishedRun(directory: base.appendingPathComponent(words[1])).summary.table().components(separatedBy: "\n")
        case "effects":
            // "effects NAME...": one row per run, in the order given, labelled by its modality.
            let names = Array(words.dropFirst())
            let points = try names.map { name -> SweepReport.Point in
                let run = try PublishedRun(directory: base.appendingPathComponent(name))
                return .init(value: SweepValue(run.modality), directory: name, summary: run.summary)
            }
            return SweepReport.table(points, parameter: SweepParameter("modality"))
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
        case "when":
            guard words.count == 3 else { throw IMLError("README marker \"\(spec)\" needs the source run and the sweep of its stage-2 starts, e.g. when mnist-analysis mnist-when.") }
            let source = base.appendingPathComponent(words[1])
            return WhenReport.table(try WhenReport.points(source: source, sweep: base.appendingPathComponent(words[2])), losses: WhenReport.losses(source: source))
        default:
            throw IMLError("README marker \"\(spec)\": unknown kind \(kind); use summary, effects, sweep, compare, analysis, gaps, against or when.")
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

    /// The documents whose results blocks `iml-compare --readme` renders: the README, then every
    /// docs/*.md beside it with at least one marker line, by name.
    public static func documents(readme: URL) -> [URL] {
        let docs = readme.deletingLastPathComponent().appendingPathComponent("docs")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: docs.path)) ?? []).filter { $0.hasSuffix(".md") }.sorted()
        return [readme] + names.map { docs.appendingPathComponent($0) }.filter { file in
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            return text.components(separatedBy: "\n").contains { $0.hasPrefix(open) && $0.hasSuffix(" -->") }
        }
    }

    /// The blocks of several documents (name, text) that differ from the committed runs, each as
    /// "NAME: MARKER", then the index when it is stale.
    public static func stale(documents: [(name: String, text: String)], root: URL) throws -> [String] {
        var found: [String] = []
        for (name, text) in documents {
            found += try staleBlocks(readme: text, root: root).map { "\(name): \($0)" }
        }
        return found + (try PublishedIndex.isCurrent(root: root) ? [] : [directory + "/" + PublishedIndex.fileName])
    }

    /// The specs of the blocks whose text differs from what the committed summaries give.
    public static func stale(readme: String, root: URL) throws -> [String] {
        try staleBlocks(readme: readme, root: root) + (try PublishedIndex.isCurrent(root: root) ? [] : [directory + "/" + PublishedIndex.fileName])
    }

    static func staleBlocks(readme: String, root: URL) throws -> [String] {
        let fresh = try rendered(readme: readme, root: root)
        // The blocks in document order (a marker may appear twice; each copy is compared).
        func blocks(_ text: String) -> [(marker: String, body: String)] {
            var result: [(String, String)] = [], current: String?, lines: [String] = []
            for line in text.components(separatedBy: "\n") {
                if let c = current {
                    if line == close { result.append((c, lines.joined(separator: "\n"))); current = nil } else { lines.append(line) }
                } else if line.hasPrefix(open), line.hasSuffix(" -->") {
                    current = line; lines = []
                }
            }
            return result
        }
        var found: [String] = []
        for (now, expected) in zip(blocks(readme), blocks(fresh)) where now.body != expected.body && !found.contains(expected.marker) {
            found.append(expected.marker)
        }
        return found.sorted()
    }
}
