// curves.png (and curves.svg): exact match per subset against epoch, stage 1 and stage 2 side by
// side (the paper's figure 3), mean over seeds with a shaded 95% band (from 3 seeds on) and the
// chance level.

import Foundation
import IMLProtocol
import IMLReport

public enum CurvesFigure {
    /// One colour per subset, the same in every figure of the project, so that runs compare at a glance.
    public static func color(_ subset: String) -> Color {
        switch subset {
        case "qd1consis", "d1consis": return Color(hex: 0x1F77B4)            // blue: tag 1
        case "qd2incons", "d2consis": return Color(hex: 0xD62728)            // red: tag 2
        case "qd2incons_defined", "qd1incons_defined": return Color(hex: 0xFF7F0E)
        case "d3consis": return Color(hex: 0x2CA02C)                         // green: unseen tag 3
        case "qd1incons": return Color(hex: 0x9467BD)
        case "qd2consis": return Color(hex: 0x8C564B)
        case "q": return Color(hex: 0x7F7F7F)
        case "no_qd_baseline": return Color(hex: 0xBCBD22)
        case "qd4consis": return Color(hex: 0xE377C2)                        // pink: a tag of its own
        case "d2incons": return Color(hex: 0xFF9896)                         // light red: d2consis swapped
        default: return Color(hex: 0x17BECF)
        }
    }

    /// The seeds a band needs: with two, a 95% interval spans most of [0, 1] and bands stack into mud.
    public static let seedsForBands = 3

    public static func panel(records: [MetricRecord], stage: Int, title: String, subsets: [String]? = nil, chance: Double?,
                             yLabel: String = "exact match") -> PlotPanel {
        let curves = Curves.curves(records: records, stage: stage).filter { subsets?.contains($0.subset) ?? true }
        let seeds = Set(records.map(\.seed)).count
        let bands = seeds >= seedsForBands
        let series = curves.map { c in
            PlotSeries(name: c.subset, color: color(c.subset), x: c.epochs.map(Double.init), y: c.mean,
                       lower: bands ? c.lower : nil, upper: bands ? c.upper : nil, dashed: c.subset.hasSuffix("_defined"))
        }
        let lastEpoch = curves.flatMap(\.epochs).max() ?? 1
        return PlotPanel(title: title, xLabel: "epoch", yLabel: yLabel, series: series, yRange: 0...1,
                         xRange: 0...Double(max(1, lastEpoch)),
                         referenceLines: chance.map { [ReferenceLine(y: $0, label: "chance")] } ?? [])
    }

    /// What a two-stage run's stage-1 panels show: the stage-1 subsets (the stage-2 ones sit at chance there).
    static let stage1Subsets = ["qd1consis", "qd1incons", "qd2consis", "qd2incons", "qd2incons_defined", "qd1incons_defined", "qd4consis", "q"]

    /// Stage-1 panel: the stage-1 subsets; stage-2 panel: d1, d2, d3, baseline.
    public static func render(records all: [MetricRecord], title: String, settings: String, chance: Double) throws -> Canvas {
        // Further tests' scores ("TEST/SUBSET") have figures of their own.
        let records = all.filter { !$0.series.contains("/") }
        var panels: [PlotPanel] = []
        let stages = Set(records.compactMap { r -> Int? in if case let .exactMatch(_, s, _, _, _, _) = r { return s }; return nil })
        if stages.contains(1) && !stages.contains(2) {
            panels.append(panel(records: records, stage: 1, title: "One stage: all definitions and questions", chance: chance))
        } else if stages.contains(1) {
            panels.append(panel(records: records, stage: 1, title: "Stage 1: definitions + questions", subsets: stage1Subsets, chance: chance))
        }
        if stages.contains(2) {
            panels.append(panel(records: records, stage: 2, title: "Stage 2: new definitions only", chance: chance))
        }
        // Each stage's legend under its own panel: d1consis shares qd1consis's colour (both tag 1),
        // so one legend would give one colour two meanings.
        let bandNote = Set(records.map(\.seed)).count >= seedsForBands ? "; bands: 95% interval over seeds" : "; no bands below \(seedsForBands) seeds"
        return try Figure.render(title: title, subtitle: settings + bandNote, panels: panels, panelWidth: 640, panelHeight: 460,
                                 legendPerPanel: true)
    }

    /// The further tests the records hold scores of ("association" for "association/d1consis"), in order.
    public static func tests(_ records: [MetricRecord]) -> [String] {
        var tests: [String] = []
        for r in records where r.series.contains("/") {
            let test = String(r.series.prefix { $0 != "/" })
            if !tests.contains(test) { tests.append(test) }
        }
        return tests
    }

    /// One test's scores per subset against epoch, a panel per stage (no chance line: a test's
    /// chance is its own, given in the run's config.json).
    public static func renderTest(_ test: String, records all: [MetricRecord], title: String, settings: String) throws -> Canvas {
        let prefix = test + "/"
        let records = all.compactMap { r -> MetricRecord? in
            guard case let .exactMatch(seed, stage, epoch, subset, em, n) = r, subset.hasPrefix(prefix) else { return nil }
            return .exactMatch(seed: seed, stage: stage, epoch: epoch, subset: String(subset.dropFirst(prefix.count)), em: em, n: n)
        }
        let stages = Set(records.compactMap { r -> Int? in if case let .exactMatch(_, s, _, _, _, _) = r { return s }; return nil }).sorted()
        let panels = stages.map { stage in
            panel(records: records, stage: stage, title: stages.count == 1 ? "One stage" : "Stage \(stage)",
                  subsets: stages.count == 2 && stage == 1 ? stage1Subsets : nil, chance: nil, yLabel: test)
        }
        return try Figure.render(title: title + ": \(test) test", subtitle: settings, panels: panels, panelWidth: 640, panelHeight: 460,
                                 legendPerPanel: true)
    }

    /// curves.png/svg at `url`, and curves-TEST.png/svg beside it for each further test.
    public static func write(records: [MetricRecord], title: String, settings: String, chance: Double, to url: URL) throws {
        try render(records: records, title: title, settings: settings, chance: chance).writePNGAndSVG(to: url)
        for test in tests(records) {
            let testURL = url.deletingLastPathComponent().appendingPathComponent(url.deletingPathExtension().lastPathComponent + "-\(test).png")
            try renderTest(test, records: records, title: title, settings: settings).writePNGAndSVG(to: testURL)
        }
    }
}
