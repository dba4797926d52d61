import Foundation
import IMLBase
@testable import IMLReport
import XCTest

final class FigureTests: XCTestCase {
    private func panel(_ series: [PlotSeries], style: PlotStyle = .lines, title: String = "Stage 1") -> PlotPanel {
        PlotPanel(title: title, xLabel: "epoch", yLabel: "exact match", series: series,
                  referenceLines: [ReferenceLine(y: 0.1, label: "chance")], style: style)
    }

    /// Pixels of exactly `color` anywhere on the canvas.
    private func count(_ color: Color, in canvas: Canvas) -> Int {
        var total = 0
        for y in 0..<canvas.height {
            for x in 0..<canvas.width where canvas.pixel(x: x, y: y) == color { total += 1 }
        }
        return total
    }

    func testEmptySeriesAndEmptyPanelRender() throws {
        let empty = PlotSeries(name: "qd1consis", color: Color.categorical(0), x: [], y: [])
        let canvas = try Figure.render(title: "Empty", subtitle: nil, panels: [panel([empty]), panel([])],
                                       legendBelow: true)
        XCTAssertEqual(canvas.width, 2 * 560)
        XCTAssertGreaterThan(canvas.countPixels(notEqualTo: .white), 0, "axes and labels are still drawn")
    }

    func testSinglePointSeriesIsVisible() throws {
        let colour = Color.categorical(2)
        let single = PlotSeries(name: "q", color: colour, x: [3], y: [0.5], lower: [0.4], upper: [0.6])
        for style in [PlotStyle.lines, .pointsWithErrorBars] {
            let canvas = try Figure.render(title: "One point", panels: [panel([single], style: style)], legendBelow: false)
            XCTAssertGreaterThan(count(colour, in: canvas), 20, "a lone point must still show as a marker (\(style))")
        }
    }

    func testNaNPointsAreSkippedAndBreakTheLine() throws {
        let colour = Color.categorical(1)
        let xs = Array(stride(from: 1.0, through: 10, by: 1))
        let withHole = PlotSeries(name: "d1consis", color: colour, x: xs,
                                  y: [0.1, 0.2, 0.3, .nan, .nan, 0.6, 0.7, 0.8, .infinity, 0.9],
                                  lower: xs.map { _ in .nan }, upper: xs.map { _ in 1.0 })
        let canvas = try Figure.render(title: "NaN", panels: [panel([withHole])], legendBelow: true)
        XCTAssertGreaterThan(count(colour, in: canvas), 50)

        let allNaN = PlotSeries(name: "broken", color: colour, x: [.nan, 1], y: [.nan, .nan])
        XCTAssertNoThrow(try Figure.render(title: "All NaN", panels: [panel([allNaN])], legendBelow: false))
    }

    func testDataOutsideTheYRangeStaysInsideThePlotArea() throws {
        let colour = Color(hex: 0x123456)
        let wild = PlotSeries(name: "wild", color: colour, x: [0, 1, 2], y: [-50, 1e12, 0.5])
        // Same figure without the series tells us where the frame and text are.
        let base = try Figure.render(title: "Clip", panels: [panel([])], legendBelow: false)
        let canvas = try Figure.render(title: "Clip", panels: [panel([wild])], legendBelow: false)
        var columnsTouched = Set<Int>()
        var rowsTouched = Set<Int>()
        for y in 0..<canvas.height {
            for x in 0..<canvas.width where canvas.pixel(x: x, y: y) == colour && base.pixel(x: x, y: y) != colour {
                columnsTouched.insert(x)
                rowsTouched.insert(y)
            }
        }
        XCTAssertFalse(rowsTouched.isEmpty)
        // The header ends well below row 60 and the x axis labels start above the last 60 rows.
        XCTAssertGreaterThan(rowsTouched.min()!, 60)
        XCTAssertLessThan(rowsTouched.max()!, canvas.height - 60)
    }

    func testAbsurdMagnitudesRenderWithoutTrapping() throws {
        let absurd = PlotSeries(name: "absurd", color: .red, x: [-1e308, 0, 1e308], y: [1e300, -1e300, 0.5],
                                lower: [-1e308, 0, -1e300], upper: [1e308, 1e300, 1e300])
        let tiny = PlotSeries(name: "tiny", color: .blue, x: [1e-300, 1, 1e300], y: [0.1, 0.2, 0.3])
        var logPanel = panel([tiny], style: .pointsWithErrorBars)
        logPanel.xScale = .log2
        var farLine = panel([absurd])
        farLine.referenceLines = [ReferenceLine(y: 1e300, label: "far away")]
        XCTAssertNoThrow(try Figure.render(title: "Absurd", panels: [farLine, logPanel], legendBelow: false))
    }

    func testSharedLegendListsEachNameOnceInOrder() {
        let a = PlotSeries(name: "d1consis", color: .red, x: [1], y: [1])
        let b = PlotSeries(name: "d2consis", color: .blue, x: [1], y: [1])
        let entries = Figure.sharedLegend([panel([a, b]), panel([b, a])])
        // The panels' labelled reference line ("chance") once, after the series: with the legend
        // outside the plot it is an entry there, not a label on the data.
        XCTAssertEqual(entries.map(\.name), ["d1consis", "d2consis", "chance"])
    }

    func testBandFillIsTranslucentSeriesColour() throws {
        let colour = Color(hex: 0x1F77B4)
        let xs = [1.0, 2, 3, 4]
        let series = PlotSeries(name: "d1consis", color: colour, x: xs, y: [0.5, 0.5, 0.5, 0.5],
                                lower: [0.2, 0.2, 0.2, 0.2], upper: [0.8, 0.8, 0.8, 0.8])
        let canvas = try Figure.render(title: "Band", panels: [panel([series])], legendBelow: true)
        let bandColour = colour.blended(over: .white, alpha: PlotMetrics.bandAlpha)
        XCTAssertGreaterThan(count(bandColour, in: canvas), 1000, "the band area is filled with a light tint")
    }

    func testSweepPanelWithLog2AxisAndCategoricalTicks() throws {
        let sizes = [16.0, 32, 64, 128, 256]
        let sweep = PlotSeries(name: "IML effect", color: .red, x: sizes, y: [0.05, 0.1, 0.12, 0.08, 0.02],
                               lower: [0, 0.05, 0.08, 0.03, -0.04], upper: [0.1, 0.15, 0.16, 0.13, 0.08])
        let logPanel = PlotPanel(title: "batch size", xLabel: "batch", yLabel: "effect", series: [sweep],
                                 yRange: -0.1...0.3, style: .pointsWithErrorBars, xScale: .log2)
        let ticks = logPanel.resolvedXTicks(low: log2(16), high: log2(256), plotWidth: 600)
        XCTAssertEqual(ticks.map(\.label), ["16", "32", "64", "128", "256"])

        let categories = PlotPanel(title: "handwriting", xLabel: "", yLabel: "effect",
                                   series: [PlotSeries(name: "IML effect", color: .red, x: [0, 1], y: [0.1, 0.02],
                                                       lower: [0.05, -0.01], upper: [0.15, 0.05])],
                                   yRange: -0.1...0.3, style: .pointsWithErrorBars,
                                   xTicks: [AxisTick(value: 0, label: "fixed"), AxisTick(value: 1, label: "fresh")],
                             connectPoints: false)
        XCTAssertNoThrow(try Figure.render(title: "Sweeps", panels: [logPanel, categories], legendBelow: true))
    }

    func testNiceTicksCoverTheRangeWithRoundSteps() {
        let ticks = NiceTicks.make(low: 0, high: 1, target: 5, minimumStep: 0)
        XCTAssertEqual(ticks.map(\.label), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let epochs = NiceTicks.make(low: 1, high: 3, target: 8, minimumStep: 1)
        XCTAssertEqual(epochs.map(\.label), ["1", "2", "3"], "integer data never gets fractional ticks")
        XCTAssertEqual(NiceTicks.make(low: -0.1, high: 0.1, target: 2, minimumStep: 0).map(\.label), ["-0.1", "0.0", "0.1"])
    }

    func testInconsistentInputGivesOneClearError() {
        let short = PlotSeries(name: "qd1consis", color: .red, x: [1, 2, 3], y: [0.1, 0.2])
        XCTAssertThrowsError(try Figure.render(title: "Bad", panels: [panel([short])], legendBelow: true)) { error in
            let message = (error as? IMLError)?.message ?? ""
            XCTAssertTrue(message.contains("qd1consis") && message.contains("3 x values"), message)
        }
        let halfBand = PlotSeries(name: "q", color: .red, x: [1], y: [0.1], lower: [0])
        XCTAssertThrowsError(try Figure.render(title: "Bad", panels: [panel([halfBand])], legendBelow: true))
        var badRange = panel([])
        badRange.yRange = 1...1
        XCTAssertThrowsError(try Figure.render(title: "Bad", panels: [badRange], legendBelow: true))
        XCTAssertThrowsError(try Figure.render(title: "None", panels: [], legendBelow: true))
        XCTAssertThrowsError(try Figure.render(title: "Tiny", panels: [panel([])], panelWidth: 50, legendBelow: true))
    }

    func testLongTitlesWrapInsteadOfRunningOffTheCanvas() throws {
        let settings = String(repeating: "10 seeds, 1000 entities, grid 2x2, batch 64, lr 0.001, ", count: 4)
        let canvas = try Figure.render(title: "MNIST: implicit meta-learning", subtitle: settings,
                                       panels: [panel([])], legendBelow: true)
        let lines = Figure.wrap(settings, scale: Figure.subtitleScale, maxWidth: canvas.width - 32)
        XCTAssertGreaterThan(lines.count, 1)
        XCTAssertTrue(lines.allSatisfy { Canvas.textWidth($0, scale: Figure.subtitleScale) <= canvas.width - 32 })
        XCTAssertEqual(lines.joined(separator: " "), settings.split(separator: " ").joined(separator: " "))
    }

    /// Writes the demo figure when IML_REPORT_DEMO names an output path (for eyeballing, not CI).
    func testDemoFigureWhenRequested() throws {
        guard let path = ProcessInfo.processInfo.environment["IML_REPORT_DEMO"] else {
            throw XCTSkip("set IML_REPORT_DEMO=/tmp/report-demo.png to render the demo figure")
        }
        try DemoFigure.render().writePNG(to: URL(fileURLWithPath: path))
        if let sweepPath = ProcessInfo.processInfo.environment["IML_REPORT_DEMO_SWEEP"] {
            try DemoFigure.renderSweep().writePNG(to: URL(fileURLWithPath: sweepPath))
        }
        if let insidePath = ProcessInfo.processInfo.environment["IML_REPORT_DEMO_INSIDE"] {
            try DemoFigure.render(legendBelow: false).writePNG(to: URL(fileURLWithPath: insidePath))
        }
    }
}

/// Fake but plausible curves in the shape docs/PROTOCOL.md section 2 expects.
enum DemoFigure {
    static func curve(_ epochs: Int, start: Double, end: Double, rate: Double, wobble: Double) -> [Double] {
        (1...epochs).map { epoch in
            let t = Double(epoch)
            return end + (start - end) * exp(-rate * t) + wobble * sin(t * 1.7)
        }
    }

    static func series(_ name: String, _ index: Int, _ ys: [Double], halfWidth: Double, dashed: Bool = false) -> PlotSeries {
        PlotSeries(name: name, color: Color.categorical(index), x: ys.indices.map { Double($0 + 1) }, y: ys,
                   lower: ys.map { $0 - halfWidth }, upper: ys.map { $0 + halfWidth }, dashed: dashed)
    }

    static func render(legendBelow: Bool = true) throws -> Canvas {
        let epochs = 30
        let stage1 = PlotPanel(
            title: "Stage 1: definitions + questions", xLabel: "epoch", yLabel: "exact match",
            series: [
                series("qd1consis", 0, curve(epochs, start: 0.1, end: 0.82, rate: 0.15, wobble: 0.01), halfWidth: 0.05),
                series("qd2incons", 1, curve(epochs, start: 0.1, end: 0.12, rate: 0.2, wobble: 0.01), halfWidth: 0.03),
                series("q", 2, curve(epochs, start: 0.1, end: 0.14, rate: 0.2, wobble: 0.01), halfWidth: 0.03),
            ],
            referenceLines: [ReferenceLine(y: 0.1, label: "chance")])
        let stage2 = PlotPanel(
            title: "Stage 2: definitions only", xLabel: "epoch", yLabel: "exact match",
            series: [
                series("d1consis", 3, curve(epochs, start: 0.1, end: 0.55, rate: 0.2, wobble: 0.01), halfWidth: 0.06),
                series("d2consis", 4, curve(epochs, start: 0.1, end: 0.35, rate: 0.2, wobble: 0.01), halfWidth: 0.06),
                series("d3consis", 5, curve(epochs, start: 0.1, end: 0.45, rate: 0.2, wobble: 0.01), halfWidth: 0.06),
                series("no_qd_baseline", 7, curve(epochs, start: 0.1, end: 0.1, rate: 0.2, wobble: 0.008),
                       halfWidth: 0.02, dashed: true),
            ],
            referenceLines: [ReferenceLine(y: 0.1, label: "chance")])
        return try Figure.render(
            title: "MNIST: implicit meta-learning",
            subtitle: "10 seeds, 1000 entities, grid 2x2, T=6, C=10, alpha 1.0, fixed handwriting, 30+30 epochs, batch 64, lr 0.001; bands: 95% CI over seeds",
            panels: [stage1, stage2], legendBelow: legendBelow)
    }

    static func renderSweep() throws -> Canvas {
        let sizes = [16.0, 32, 64, 128, 256]
        let effect = PlotSeries(name: "d1 - d2 (IML effect)", color: Color.categorical(0), x: sizes,
                                y: [0.18, 0.2, 0.15, 0.09, 0.03],
                                lower: [0.12, 0.15, 0.1, 0.04, -0.02], upper: [0.24, 0.25, 0.2, 0.14, 0.08])
        let d3 = PlotSeries(name: "d3 - d2", color: Color.categorical(1), x: sizes, y: [0.08, 0.1, 0.07, 0.05, 0.01],
                            lower: [0.03, 0.05, 0.02, 0.0, -0.03], upper: [0.13, 0.15, 0.12, 0.1, 0.05])
        let batch = PlotPanel(title: "Batch size", xLabel: "batch size", yLabel: "EM difference", series: [effect, d3],
                              yRange: -0.1...0.3, referenceLines: [ReferenceLine(y: 0, label: "no effect")],
                              style: .pointsWithErrorBars, xScale: .log2)
        let mode = PlotPanel(title: "Handwriting", xLabel: "handwriting", yLabel: "EM difference",
                             series: [PlotSeries(name: "d1 - d2 (IML effect)", color: Color.categorical(0), x: [0, 1],
                                                 y: [0.15, 0.04], lower: [0.1, -0.01], upper: [0.2, 0.09]),
                                      PlotSeries(name: "d3 - d2", color: Color.categorical(1), x: [0, 1],
                                                 y: [0.07, 0.01], lower: [0.02, -0.03], upper: [0.12, 0.05])],
                             yRange: -0.1...0.3, referenceLines: [ReferenceLine(y: 0, label: "no effect")],
                             style: .pointsWithErrorBars,
                             xTicks: [AxisTick(value: 0, label: "fixed"), AxisTick(value: 1, label: "fresh")],
                             connectPoints: false)
        return try Figure.render(title: "Sweeps (fake data)", subtitle: "5 seeds per point; bars: 95% CI",
                                 panels: [batch, mode], legendBelow: true)
    }
}

/// What a figure must not hide: an error bar past the axis widens the axis; with the legend
/// outside, reference-line labels are legend entries; per-panel legends sit under their panels.
final class FigureHonestyTests: XCTestCase {
    func panel(_ series: [PlotSeries], style: PlotStyle = .pointsWithErrorBars) -> PlotPanel {
        PlotPanel(title: "p", xLabel: "batch size", yLabel: "IML effect", series: series,
                  referenceLines: [ReferenceLine(y: 0, label: "no effect")], style: style)
    }

    func testAnErrorBarPastTheAxisWidensItToTheNextTenth() {
        let inside = PlotSeries(name: "a", color: .red, x: [1, 2], y: [0.5, 0.6], lower: [0.2, 0.3], upper: [0.8, 0.9])
        XCTAssertEqual(panel([inside]).shownYRange, 0...1)
        let past = PlotSeries(name: "a", color: .red, x: [1, 2], y: [0.5, 0.9], lower: [-0.23, 0.3], upper: [0.8, 1.31])
        XCTAssertEqual(panel([past]).shownYRange, -0.3...1.4)
        let absurd = PlotSeries(name: "a", color: .red, x: [1], y: [0.5], lower: [-1e300], upper: [1e300])
        XCTAssertEqual(panel([absurd]).shownYRange, -1...2, "at most one range's height beyond either end")
    }

    func testPerPanelLegendsSitUnderTheirOwnPanels() throws {
        let left = panel([PlotSeries(name: "qd1consis", color: .blue, x: [0, 1], y: [0.1, 0.2])], style: .lines)
        let right = panel([PlotSeries(name: "d1consis", color: .blue, x: [0, 1], y: [0.1, 0.2])], style: .lines)
        let canvas = try Figure.render(title: "t", panels: [left, right], panelWidth: 400, legendPerPanel: true)
        let svg = try canvas.svg()
        func x(of text: String) throws -> Double {
            let range = try XCTUnwrap(svg.range(of: #"<text x="([0-9.]+)"[^>]*>\#(text)</text>"#, options: .regularExpression))
            let tag = svg[range]
            let value = tag.dropFirst("<text x=\"".count).prefix { $0 != "\"" }
            return try XCTUnwrap(Double(value))
        }
        XCTAssertLessThan(try x(of: "qd1consis"), 400, "the centre of each legend entry's name")
        XCTAssertGreaterThan(try x(of: "d1consis"), 400)
        // The reference line's label is an entry of each legend, not a label on the data.
        XCTAssertEqual(svg.components(separatedBy: ">no effect</text>").count - 1, 2)
    }
}
