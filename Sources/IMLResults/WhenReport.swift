// When IML appears: stage 2 started from each saved point of one run's stage 1 (`sweep
// --stage2-from SOURCE --set epochs1=0,5,...`), the IML effect of each start beside what stage 1
// had built by then: its qd1consis − qd2incons gap, and the gradient-alignment gap that
// `analyze --along-training` measured on SOURCE's saved models at the same epochs (both losses
// when SOURCE has analysis-answer/). `iml-compare --when SOURCE SWEEP` writes when.png, .svg and
// .md; the README marker is `<!-- results: when SOURCE SWEEP -->`.

import Foundation
import IMLBase
import IMLProtocol
import IMLReport
import IMLRunFiles
import IMLTraining
import IMLAnalysis

public enum WhenReport {
    /// One stage-2 start: the stage-1 epoch it started from and what it gave.
    public struct Point {
        public var epoch: Int
        public var summary: RunSummary
        /// Stage 1's qd1consis − qd2incons at that epoch, per seed.
        public var stage1Gap: SeedSummary?
        /// The cosine gap d1consis − d2consis of SOURCE's analysis at that epoch, per loss.
        public var alignmentGap: [ExampleLoss: SeedSummary]
    }

    /// The losses SOURCE was analyzed with along training: the full loss, and the answers' alone when it has analysis-answer/.
    static func losses(source: URL) -> [ExampleLoss] {
        ExampleLoss.allCases.filter { loss in
            FileManager.default.fileExists(atPath: source.appendingPathComponent(ModelAnalysis.directoryName(loss)).appendingPathComponent("alignment.json").path)
        }
    }

    /// The stage-1 alignment gaps of SOURCE's analysis, by epoch.
    static func alignmentGaps(source: URL, loss: ExampleLoss) throws -> [Int: SeedSummary] {
        let alignment = try AnalysisTables.read("alignment.json", of: source, loss: loss)
        guard case .array(let points)? = alignment["points"] else {
            throw IMLError("\(source.path)/\(ModelAnalysis.directoryName(loss))/alignment.json has no points; analyze the run again with --along-training.")
        }
        var gaps: [Int: SeedSummary] = [:]
        for point in points where point["stage"] == .int(1) {
            guard let epoch = point["epoch"]?.numberValue, case .array(let values)? = point["d1consis_minus_d2consis_cosine"]?["per_seed"] else { continue }
            gaps[Int(epoch)] = SeedSummary(values.compactMap(\.numberValue))
        }
        return gaps
    }

    /// The starts of `sweep` (its `epochs1=E` runs), by epoch, with SOURCE's gaps at each.
    public static func points(source: URL, sweep: URL) throws -> [Point] {
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: sweep.path)) ?? []).filter { $0.hasPrefix("epochs1=") }
        guard !entries.isEmpty else {
            throw IMLError("\(sweep.path) holds no stage-2 starts (no epochs1=E runs); make them with sweep --stage2-from \(source.path) --set epochs1=0,5,10.")
        }
        let alignments = try losses(source: source).map { ($0, try alignmentGaps(source: source, loss: $0)) }
        return try entries.compactMap { entry -> Point? in
            guard let epoch = Int(entry.dropFirst("epochs1=".count)) else { return nil }
            let summary = try PublishedRun(directory: sweep.appendingPathComponent(entry)).summary
            let stage1 = Dictionary((summary.stages[1] ?? []).map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
            let gap = stage1["qd1consis"].flatMap { a in stage1["qd2incons"].map { b in SeedSummary(zip(a.perSeed, b.perSeed).map { $0 - $1 }) } }
            var alignmentGap: [ExampleLoss: SeedSummary] = [:]
            for (loss, gaps) in alignments { alignmentGap[loss] = gaps[epoch] }
            return Point(epoch: epoch, summary: summary, stage1Gap: gap, alignmentGap: alignmentGap)
        }.sorted { $0.epoch < $1.epoch }
    }

    static func alignmentName(_ loss: ExampleLoss) -> String {
        loss == .full ? "alignment gap (full loss)" : "alignment gap (answers' loss)"
    }

    /// The table, one row per start, then when each quantity's 95% interval first lies above zero.
    public static func table(_ points: [Point], losses: [ExampleLoss]) -> [String] {
        let cell = SeedSummary.cell
        var lines = ["| stage-1 epoch | seeds | stage 1: qd1consis − qd2incons | " + losses.map(alignmentName).joined(separator: " | ")
                     + (losses.isEmpty ? "" : " | ") + "d1consis | d2consis | d3consis | IML effect (d1 − d2) |",
                     "|---|---|---|" + String(repeating: "---|", count: losses.count) + "---|---|---|---|"]
        for p in points {
            let s = p.summary
            lines.append("| \(p.epoch) | \(s.seeds.count) | \(cell(p.stage1Gap)) | " + losses.map { cell(p.alignmentGap[$0]) }.joined(separator: " | ")
                         + (losses.isEmpty ? "" : " | ") + "\(cell(s.final("d1consis"))) | \(cell(s.final("d2consis"))) | \(cell(s.final("d3consis"))) | \(cell(s.imlEffect)) |")
        }
        lines.append("")
        let quantities: [(String, (Point) -> SeedSummary?)] = [("IML effect", { $0.summary.imlEffect }), ("stage-1 gap", { $0.stage1Gap })]
            + losses.map { loss in (alignmentName(loss), { $0.alignmentGap[loss] }) }
        let firsts = quantities.map { name, pick in "\(name): \(firstAboveZero(points, pick).map { "epoch \($0)" } ?? "none")" }
        lines.append("First stage-1 epoch whose 95% interval lies above zero — " + firsts.joined(separator: "; ") + ".")
        return lines
    }

    /// The first epoch whose interval lies wholly above zero.
    static func firstAboveZero(_ points: [Point], _ pick: (Point) -> SeedSummary?) -> Int? {
        points.first { p in pick(p).map { $0.mean - $0.ci95 > 0 } ?? false }?.epoch
    }

    /// when.png, when.svg and when.md in `out`.
    public static func write(source: URL, sweep: URL, out: URL) throws {
        let points = try points(source: source, sweep: sweep), losses = losses(source: source)
        let title = try PublishedRun(directory: source).config["title"]?.stringValue ?? "IML"
        let xs = points.map { Double($0.epoch) }
        func series(_ name: String, _ color: Color, dashed: Bool = false, _ pick: (Point) -> SeedSummary?) -> PlotSeries {
            let s = points.map(pick)
            return PlotSeries(name: name, color: color, x: xs, y: s.map { $0?.mean ?? .nan },
                              lower: s.map { ($0?.mean ?? .nan) - ($0?.ci95 ?? 0) }, upper: s.map { ($0?.mean ?? .nan) + ($0?.ci95 ?? 0) },
                              dashed: dashed)
        }
        // Each panel's axis holds its intervals whole.
        func range(_ all: [PlotSeries], at least: ClosedRange<Double>) -> ClosedRange<Double> {
            let values = all.flatMap { ($0.lower ?? []) + ($0.upper ?? []) }.filter(\.isFinite)
            let low = min(least.lowerBound, values.min() ?? 0), high = max(least.upperBound, values.max() ?? 1)
            let pad = 0.05 * (high - low)
            return (low - (low < least.lowerBound ? pad : 0))...(high + (high > least.upperBound ? pad : 0))
        }
        let xLabel = "stage-1 epoch"
        // Every epoch labelled when there are few; with many, every fifth, so the labels stay apart.
        let step = points.count > 10 ? 5 : 1
        let ticks = points.filter { $0.epoch % step == 0 }.map { AxisTick(value: Double($0.epoch), label: String($0.epoch)) }
        func panel(_ title: String, _ yLabel: String, _ series: [PlotSeries], least: ClosedRange<Double>, zero: Bool = true) -> PlotPanel {
            PlotPanel(title: title, xLabel: xLabel, yLabel: yLabel, series: series, yRange: range(series, at: least),
                      referenceLines: zero ? [ReferenceLine(y: 0, label: "zero")] : [], style: .pointsWithErrorBars, xTicks: ticks)
        }
        let effect = [series("IML effect", Color(hex: 0x9467BD)) { $0.summary.imlEffect }]
        let finals = ["d1consis", "d2consis", "d3consis"].map { name in series(name, CurvesFigure.color(name)) { $0.summary.final(name) } }
        let stage1 = [series("stage 1: qd1consis - qd2incons", Color(hex: 0x17BECF)) { $0.stage1Gap }]
        let alignment = losses.map { loss in
            series(loss == .full ? "alignment gap, full loss" : "alignment gap, answers' loss", Color(hex: 0x8C564B), dashed: loss == .answer) { $0.alignmentGap[loss] }
        }
        var panels = [panel("IML effect after stage 2", "d1consis - d2consis", effect, least: -0.1...0.8),
                      panel("Exact match after stage 2", "exact match", finals, least: 0...1, zero: false),
                      panel("Stage 1 at that epoch: tag gap", "qd1consis - qd2incons", stage1, least: -0.1...0.8)]
        if !alignment.isEmpty {
            panels.append(panel("Gradient alignment at that epoch", "cosine d1consis - d2consis", alignment, least: -0.02...0.2))
        }
        let settings = "stage 2 started from the model of each saved stage-1 epoch of \(source.lastPathComponent) (x axis); mean and 95% interval over \(points.first?.summary.seeds.count ?? 0) seeds"
        let figureTitle = "\(title): when IML appears"
        try Figure.render(title: figureTitle, subtitle: settings, panels: panels, panelWidth: 460).writePNGAndSVG(to: out.appendingPathComponent("when.png"))
        let markdown = ["# \(figureTitle)", "", settings, ""] + table(points, losses: losses)
            + ["", "± is the half-width of the 95% Student-t interval over seeds. The alignment gap is the mean cosine of a definition's gradient with its questions' gradient, d1consis minus d2consis, measured on the source run's model at that epoch (`analyze --along-training`)."]
        try AtomicFile.write(markdown.joined(separator: "\n") + "\n", to: out.appendingPathComponent("when.md"))
    }
}
