// What `analyze` writes: analysis/alignment.json, probes.json and their figures, from every
// seed's results. Intervals: "ci95_seeds" is the 95% t-interval of the per-seed means (what the
// figures draw); "ci95_pairs" pools every pair of every seed.

import Foundation
import IMLBase
import IMLProtocol
import IMLReport
import IMLRunFiles
import IMLTraining

struct AnalysisReport {
    let title: String
    /// What made the run (its recorded arguments), so that figures of runs that differ say how.
    var runArguments: [String] = []
    var runNote: String { runArguments.isEmpty ? "run with the default settings" : "run: " + runArguments.joined(separator: " ") }
    let seeds: [UInt64]
    let analyses: [SeedAnalysis]
    let end1: Int
    let settings: AnalysisSettings
    var folds: Int { settings.folds }
    var alignmentLoss: ExampleLoss { settings.alignmentLoss }
    /// How the figures and the log name a loss other than the training one.
    var lossNote: String { alignmentLoss == .full ? "" : ", answer tokens' loss only" }

    static let seriesOrder = ModelAnalysis.alignmentSeries

    /// The saved points every seed has, in training order.
    var points: [(stage: Int, epoch: Int)] {
        guard let first = analyses.first else { return [] }
        return first.alignment.map { ($0.stage, $0.epoch) }.filter { p in
            analyses.allSatisfy { a in a.alignment.contains { $0.stage == p.0 && $0.epoch == p.1 } }
        }
    }

    struct Estimate {
        var mean: Double, ciSeeds: Double, ciPairs: Double, pairs: Int, perSeed: [Double]
        var json: JSON {
            .object([("mean", .number(mean)), ("ci95_seeds", .number(ciSeeds)), ("ci95_pairs", .number(ciPairs)),
                     ("pairs", .int(pairs)), ("per_seed", .array(perSeed.map { .number($0) }))])
        }
    }

    /// `metric` ("cosine" or "dot") of `series` at a point, over seeds and pairs.
    func estimate(_ series: String, metric: String, stage: Int, epoch: Int) -> Estimate? {
        var perSeed: [Double] = [], pooled: [Double] = []
        for analysis in analyses {
            guard let point = analysis.alignment.first(where: { $0.stage == stage && $0.epoch == epoch }),
                  let values = (metric == "cosine" ? point.cosines : point.dots)[series], !values.isEmpty else { continue }
            perSeed.append(Statistics.mean(values))
            pooled += values
        }
        guard !perSeed.isEmpty else { return nil }
        return Estimate(mean: Statistics.mean(pooled), ciSeeds: perSeed.count > 1 ? Statistics.ci95HalfWidth(perSeed) : .nan,
                        ciPairs: Statistics.ci95HalfWidth(pooled), pairs: pooled.count, perSeed: perSeed)
    }

    /// Tag 1 minus tag 2 (d1consis − d2consis) cosine per seed, and its interval over seeds.
    func tagGap(stage: Int, epoch: Int) -> (mean: Double, ci: Double, perSeed: [Double])? {
        guard let d1 = estimate("d1consis", metric: "cosine", stage: stage, epoch: epoch),
              let d2 = estimate("d2consis", metric: "cosine", stage: stage, epoch: epoch),
              d1.perSeed.count == d2.perSeed.count else { return nil }
        let gaps = zip(d1.perSeed, d2.perSeed).map { $0 - $1 }
        return (Statistics.mean(gaps), gaps.count > 1 ? Statistics.ci95HalfWidth(gaps) : .nan, gaps)
    }

    var alignmentJSON: JSON {
        .object([
            ("what", .string("Cosine and dot product between the full-parameter gradient of a stage-2 definition's loss and of each question about the same variable (batch of one each), on the saved stage-1 models; control: the questions of the next variable of the same subset. Stage-2 definitions are never trained on in stage 1.")),
            ("loss", .string(alignmentLoss.rawValue)), ("loss_meaning", .string(alignmentLoss.meaning)),
            ("seeds", .array(seeds.map { .int(Int($0)) })),
            ("points", .array(points.map { point in
                var fields: [(String, JSON)] = [("stage", .int(point.stage)), ("epoch", .int(point.epoch))]
                for series in Self.seriesOrder {
                    guard let cosine = estimate(series, metric: "cosine", stage: point.stage, epoch: point.epoch),
                          let dot = estimate(series, metric: "dot", stage: point.stage, epoch: point.epoch) else { continue }
                    fields.append((series, .object([("cosine", cosine.json), ("dot", dot.json)])))
                }
                if let gap = tagGap(stage: point.stage, epoch: point.epoch) {
                    fields.append(("d1consis_minus_d2consis_cosine", .object([
                        ("mean", .number(gap.mean)), ("ci95_seeds", .number(gap.ci)), ("per_seed", .array(gap.perSeed.map { .number($0) })),
                    ])))
                }
                return .object(fields)
            })),
        ])
    }

    /// Per probed layer: accuracy and control, mean and 95% interval over seeds.
    var probeRows: [(layer: ProbeLayer, accuracy: [Double], control: [Double], examples: Int)] {
        guard let first = analyses.first?.probes, !first.isEmpty else { return [] }
        return first.indices.map { i in
            (first[i].layer, analyses.map { $0.probes[i].result.accuracy }, analyses.map { $0.probes[i].result.controlAccuracy },
             first[i].result.examples)
        }
    }

    var probesJSON: JSON {
        func summary(_ xs: [Double]) -> JSON {
            .object([("mean", .number(Statistics.mean(xs))), ("ci95_seeds", .number(xs.count > 1 ? Statistics.ci95HalfWidth(xs) : .nan)),
                     ("per_seed", .array(xs.map { .number($0) }))])
        }
        return .object([
            ("what", .string("L2-regularised logistic regression on a layer's activations for the held-out questions of qd1consis (label 1) and qd2incons (label 0), at the end of stage 1: does the layer tell which tag defined the question's variable? Classes balanced, \(folds)-fold cross-validation with folds grouped by variable; control: the same probe on labels shuffled across variables. Chance 0.5.")),
            ("stage", .int(1)), ("epoch", .int(end1)), ("folds", .int(folds)), ("l2", .number(Double("\(settings.probeL2)") ?? .nan)),
            ("seeds", .array(seeds.map { .int(Int($0)) })),
            ("layers", .array(probeRows.map { row in
                .object([("layer", .string(row.layer.layer)), ("position", row.layer.position.map { .int($0) } ?? .null),
                         ("dimension", .int(row.layer.dimension)), ("examples", .int(row.examples)),
                         ("accuracy", summary(row.accuracy)), ("control", summary(row.control))])
            })),
        ])
    }

    // MARK: Figures

    static func color(_ series: String) -> Color {
        series == "control" ? Color(hex: 0x7F7F7F) : CurvesFigure.color(series)
    }

    func alignmentPanel(metric: String) -> PlotPanel {
        let pts = points
        var series: [PlotSeries] = []
        var low = Double.infinity, high = -Double.infinity
        for name in Self.seriesOrder {
            let estimates = pts.compactMap { p in estimate(name, metric: metric, stage: p.stage, epoch: p.epoch).map { (Double(p.epoch), $0) } }
            guard !estimates.isEmpty else { continue }
            let y = estimates.map(\.1.mean)
            let half = estimates.map { $0.1.ciSeeds.isFinite ? $0.1.ciSeeds : 0 }
            let lower = zip(y, half).map { $0 - $1 }, upper = zip(y, half).map { $0 + $1 }
            low = min(low, lower.min()!); high = max(high, upper.max()!)
            series.append(PlotSeries(name: name, color: Self.color(name), x: estimates.map(\.0), y: y, lower: lower, upper: upper,
                                     dashed: name == "control"))
        }
        if !low.isFinite { low = 0; high = 1 }
        let pad = max(1e-6, (high - low) * 0.1)
        let yRange = min(0, low - pad)...(high + pad)
        return PlotPanel(title: "\(metric == "cosine" ? "Cosine" : "Dot product") of definition and question gradients",
                         xLabel: "stage-1 epoch", yLabel: metric, series: series, yRange: yRange,
                         xRange: 0...Double(max(1, end1)), referenceLines: [ReferenceLine(y: 0, label: "0")],
                         style: pts.count > 1 ? .lines : .pointsWithErrorBars)
    }

    func alignmentFigure() throws -> Canvas {
        try Figure.render(title: "\(title): gradient alignment along stage 1" + (alignmentLoss == .full ? "" : " (answer tokens' loss)"),
                          subtitle: "\(runNote). Stage-2 definitions (never trained in stage 1) against questions about their variable\(lossNote); mean over pairs, band: 95% CI over \(seeds.count) seeds",
                          panels: [alignmentPanel(metric: "cosine"), alignmentPanel(metric: "dot")], panelWidth: 560, panelHeight: 420)
    }

    func probesFigure() throws -> Canvas {
        let rows = probeRows
        let layerNames = rows.map(\.layer.layer).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let positional = rows.contains { $0.layer.position != nil }
        var series: [PlotSeries] = []
        let palette: [Color] = [Color(hex: 0x1F77B4), Color(hex: 0xFF7F0E), Color(hex: 0x2CA02C), Color(hex: 0x9467BD),
                                Color(hex: 0x8C564B), Color(hex: 0xE377C2)]
        func band(_ xs: [[Double]]) -> (y: [Double], lower: [Double], upper: [Double]) {
            let y = xs.map { Statistics.mean($0) }
            let h = xs.map { $0.count > 1 ? Statistics.ci95HalfWidth($0) : 0 }
            return (y, zip(y, h).map { $0 - $1 }, zip(y, h).map { $0 + $1 })
        }
        var ticks: [AxisTick]? = nil
        if positional {
            // One curve per layer over the prompt's positions; the control dashed in the same colour.
            for (i, name) in layerNames.enumerated() {
                let mine = rows.filter { $0.layer.layer == name }
                let x = mine.map { Double($0.layer.position ?? 0) }
                let a = band(mine.map(\.accuracy)), c = band(mine.map(\.control))
                series.append(PlotSeries(name: name, color: palette[i % palette.count], x: x, y: a.y, lower: a.lower, upper: a.upper))
                series.append(PlotSeries(name: "\(name), shuffled labels", color: palette[i % palette.count], x: x, y: c.y,
                                         lower: c.lower, upper: c.upper, dashed: true))
            }
        } else {
            let x = rows.indices.map(Double.init)
            let a = band(rows.map(\.accuracy)), c = band(rows.map(\.control))
            series.append(PlotSeries(name: "probe", color: palette[0], x: x, y: a.y, lower: a.lower, upper: a.upper))
            series.append(PlotSeries(name: "shuffled labels", color: Color(hex: 0x7F7F7F), x: x, y: c.y, lower: c.lower, upper: c.upper, dashed: true))
            ticks = rows.enumerated().map { AxisTick(value: Double($0.offset), label: $0.element.layer.layer) }
        }
        let xMax = Double(max(1, (positional ? rows.compactMap(\.layer.position).max() : rows.count - 1) ?? 1))
        let panel = PlotPanel(title: positional ? "Probe accuracy per layer and prompt position" : "Probe accuracy per layer",
                              xLabel: positional ? "position in the question prompt" : "layer", yLabel: "accuracy (tag 1 vs tag 2)",
                              series: series, yRange: 0.3...1, xRange: -0.3...(xMax + 0.3),
                              referenceLines: [ReferenceLine(y: 0.5, label: "chance")], style: .pointsWithErrorBars,
                              xTicks: ticks)
        return try Figure.render(title: "\(title): linear probes for the defining tag at the end of stage 1",
                                 subtitle: "\(runNote). qd1consis vs qd2incons questions, \(folds)-fold CV grouped by variable; error bars: 95% CI over \(seeds.count) seeds",
                                 panels: [panel], panelWidth: 720, panelHeight: 440)
    }

    // MARK: Log

    var summaryLines: [String] {
        var lines: [String] = []
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        if let last = points.last(where: { $0.stage == 1 && $0.epoch == end1 }) {
            let parts = Self.seriesOrder.compactMap { name in
                estimate(name, metric: "cosine", stage: last.stage, epoch: last.epoch).map { "\(name) \(f($0.mean))" }
            }
            lines.append("gradient alignment at the end of stage 1 (cosine, mean over pairs\(lossNote)): " + parts.joined(separator: ", "))
            if let gap = tagGap(stage: last.stage, epoch: last.epoch) {
                lines.append("  d1consis − d2consis: \(f(gap.mean)) ± \(f(gap.ci)) (95% CI over \(gap.perSeed.count) seeds)")
            }
        }
        let rows = probeRows
        if let best = rows.max(by: { Statistics.mean($0.accuracy) < Statistics.mean($1.accuracy) }) {
            let controls = rows.map { Statistics.mean($0.control) }
            lines.append("probes: best \(best.layer.name) \(String(format: "%.3f", Statistics.mean(best.accuracy))) over \(rows.count) probed layers; shuffled-label controls \(String(format: "%.3f", controls.min()!))–\(String(format: "%.3f", controls.max()!))")
        }
        return lines
    }
}

