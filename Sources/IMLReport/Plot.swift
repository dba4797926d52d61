// What a plot panel shows: series of points with optional confidence bands, reference lines and
// axes. Figure.render lays panels out and draws them; this file holds the description types and
// the drawing of one panel.

import Foundation
import IMLBase

/// One curve: `y[i]` at `x[i]`, with an optional band (e.g. a 95% CI) from `lower[i]` to `upper[i]`.
/// Non-finite values are skipped: a NaN in `y` breaks the line, a NaN in a bound breaks the band.
public struct PlotSeries {
    public var name: String
    public var color: Color
    public var x: [Double]
    public var y: [Double]
    public var lower: [Double]?
    public var upper: [Double]?
    public var dashed: Bool

    public init(name: String, color: Color, x: [Double], y: [Double],
                lower: [Double]? = nil, upper: [Double]? = nil, dashed: Bool = false) {
        self.name = name
        self.color = color
        self.x = x
        self.y = y
        self.lower = lower
        self.upper = upper
        self.dashed = dashed
    }

    var hasBand: Bool { lower != nil && upper != nil }
}

/// A dashed horizontal line with a label at its right end, e.g. chance level.
public struct ReferenceLine {
    public var y: Double
    public var label: String
    public var color: Color

    public init(y: Double, label: String, color: Color = .darkGray) {
        self.y = y
        self.label = label
        self.color = color
    }
}

public enum PlotStyle: Sendable {
    /// Curves over a continuous x (epochs); bounds drawn as translucent bands.
    case lines
    /// Markers with vertical error bars (sweeps); series sharing an x are nudged apart.
    case pointsWithErrorBars
}

public enum AxisScale: Sendable {
    case linear
    /// Positions by log2(x), ticks at powers of two (batch sizes). Points with x <= 0 are skipped.
    case log2
}

/// A tick placed by hand, e.g. a category name at x = 0, 1, 2.
public struct AxisTick {
    public var value: Double
    public var label: String

    public init(value: Double, label: String) {
        self.value = value
        self.label = label
    }
}

public struct PlotPanel {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [PlotSeries]
    public var yRange: ClosedRange<Double>
    /// nil: fitted to the data.
    public var xRange: ClosedRange<Double>?
    public var referenceLines: [ReferenceLine]
    public var style: PlotStyle
    public var xScale: AxisScale
    /// nil: chosen automatically. Set for categorical axes.
    public var xTicks: [AxisTick]?
    /// In `.pointsWithErrorBars`, join a series' points with a thin line (turn off for unordered categories).
    public var connectPoints: Bool

    public init(title: String, xLabel: String, yLabel: String, series: [PlotSeries],
                yRange: ClosedRange<Double> = 0...1, xRange: ClosedRange<Double>? = nil,
                referenceLines: [ReferenceLine] = [], style: PlotStyle = .lines,
                xScale: AxisScale = .linear, xTicks: [AxisTick]? = nil, connectPoints: Bool = true) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yRange = yRange
        self.xRange = xRange
        self.referenceLines = referenceLines
        self.style = style
        self.xScale = xScale
        self.xTicks = xTicks
        self.connectPoints = connectPoints
    }

    /// One clear error for inconsistent input, naming the panel and series.
    func validate() throws {
        let where_ = "panel \"\(title)\""
        guard yRange.lowerBound.isFinite, yRange.upperBound.isFinite, yRange.upperBound > yRange.lowerBound else {
            throw IMLError("\(where_): yRange \(yRange) must be finite with upper > lower")
        }
        if let xRange {
            guard xRange.lowerBound.isFinite, xRange.upperBound.isFinite, xRange.upperBound > xRange.lowerBound else {
                throw IMLError("\(where_): xRange \(xRange) must be finite with upper > lower")
            }
            if xScale == .log2 && xRange.lowerBound <= 0 {
                throw IMLError("\(where_): a log2 x axis needs xRange above 0, got \(xRange)")
            }
        }
        for series in series {
            let count = series.x.count
            func check(_ values: [Double]?, _ name: String) throws {
                if let values, values.count != count {
                    throw IMLError("\(where_): series \"\(series.name)\" has \(count) x values but \(values.count) \(name) values")
                }
            }
            try check(series.y, "y")
            try check(series.lower, "lower")
            try check(series.upper, "upper")
            if (series.lower == nil) != (series.upper == nil) {
                throw IMLError("\(where_): series \"\(series.name)\" gives only one of lower/upper; a band needs both")
            }
        }
    }
}

// MARK: - Drawing one panel

/// Sizes shared by every panel so figures look alike.
enum PlotMetrics {
    static let labelScale = 2
    static let titleScale = 2
    static var labelHeight: Int { Canvas.textHeight(scale: labelScale) }
    static let padding = 10
    static let tickLength = 6
    static let lineThickness = 3
    static let bandAlpha = 0.18
    static let markerRadius = 5
    static let errorBarCap = 6
    /// Pixels between series sharing an x in error-bar plots.
    static let dodge = 9
    static let titleLineGap = 4
    static let swatchWidth = 36
}

/// Maps data coordinates to pixels inside a plot rectangle.
struct PlotGeometry {
    let area: PixelRect
    let xLow: Double, xHigh: Double  // already in axis units (log2 applied)
    let yLow: Double, yHigh: Double
    let xScale: AxisScale

    func axisX(_ x: Double) -> Double {
        xScale == .log2 ? (x > 0 ? Foundation.log2(x) : .nan) : x
    }

    func px(_ x: Double) -> Double {
        Double(area.x) + (axisX(x) - xLow) / (xHigh - xLow) * Double(area.width - 1)
    }

    func py(_ y: Double) -> Double {
        Double(area.y) + (yHigh - y) / (yHigh - yLow) * Double(area.height - 1)
    }
}

struct LegendEntry: Equatable {
    var name: String
    var color: Color
    var dashed: Bool
    var hasBand: Bool
    var style: PlotStyle
    /// Points joined by a line (always true for `.lines`).
    var connected: Bool
}

extension PlotPanel {
    var legendEntries: [LegendEntry] {
        series.map { LegendEntry(name: $0.name, color: $0.color, dashed: $0.dashed, hasBand: $0.hasBand, style: style,
                                 connected: style == .lines || connectPoints) }
    }

    /// The x interval shown, in axis units (log2 applied), padded for markers in sweep plots.
    func resolvedXAxis() -> (low: Double, high: Double) {
        let toAxis: (Double) -> Double = { xScale == .log2 ? ($0 > 0 ? log2($0) : .nan) : $0 }
        if let xRange {
            return (toAxis(xRange.lowerBound), toAxis(xRange.upperBound))
        }
        var values = series.flatMap { s in zip(s.x, s.y).filter { $0.1.isFinite }.map { toAxis($0.0) } }
        values += (xTicks ?? []).map { toAxis($0.value) }
        values = values.filter(\.isFinite)
        guard var low = values.min(), var high = values.max() else { return (0, 1) }
        if high - low < 1e-12 {
            // A single x: centre it in a unit-wide window.
            low -= 0.5
            high += 0.5
        } else if let xTicks, xTicks.count >= 2 {
            // Categories: half a slot either side, as a bar chart would leave.
            let positions = Set(xTicks.map { toAxis($0.value) }.filter(\.isFinite)).sorted()
            let spacing = zip(positions.dropFirst(), positions).map { $0 - $1 }.min() ?? (high - low)
            low -= spacing / 2
            high += spacing / 2
        } else if style == .pointsWithErrorBars {
            // Keep markers off the frame.
            let pad = (high - low) * 0.08
            low -= pad
            high += pad
        }
        return (low, high)
    }

    func resolvedXTicks(low: Double, high: Double, plotWidth: Int) -> [AxisTick] {
        let inRange: (AxisTick) -> Bool = { tick in
            let value = xScale == .log2 ? log2(tick.value) : tick.value
            return value >= low - 1e-9 && value <= high + 1e-9
        }
        if let xTicks { return xTicks.filter { $0.value.isFinite && (xScale == .linear || $0.value > 0) && inRange($0) } }
        switch xScale {
        case .log2:
            let first = Int(low.rounded(.up)), last = Int(high.rounded(.down))
            guard first <= last else { return [] }
            let count = last - first + 1, maxTicks = max(2, plotWidth / 70)
            let stride = (count + maxTicks - 1) / maxTicks
            return Swift.stride(from: first, through: last, by: stride).map { exponent in
                let label: String
                switch exponent {
                case 0...52: label = String(1 << exponent)
                case -52..<0: label = "1/\(1 << -exponent)"
                default: label = "2^\(exponent)"
                }
                return AxisTick(value: pow(2.0, Double(exponent)), label: label)
            }
        case .linear:
            let integersOnly = series.allSatisfy { $0.x.allSatisfy { !$0.isFinite || $0 == $0.rounded() } }
            return NiceTicks.make(low: low, high: high, target: max(2, plotWidth / 90), minimumStep: integersOnly ? 1 : 0)
        }
    }

    /// Draws the panel into `frame`. `titleLines` is shared by all panels so their plot areas align.
    func draw(on canvas: Canvas, frame: PixelRect, titleLines: [String], legendInside: Bool) throws {
        let m = PlotMetrics.self
        let textHeight = m.labelHeight
        let yTicks = NiceTicks.make(low: yRange.lowerBound, high: yRange.upperBound,
                                    target: max(2, frame.height / 90), minimumStep: 0)
        let yTickWidth = yTicks.map { Canvas.textWidth($0.label, scale: m.labelScale) }.max() ?? 0
        let titleHeight = titleLines.count * (Canvas.textHeight(scale: m.titleScale) + m.titleLineGap)

        let left = frame.x + m.padding + textHeight + m.padding + yTickWidth + 6 + m.tickLength
        let top = frame.y + m.padding + titleHeight + m.padding
        let right = frame.maxX - 2 * m.padding
        let bottom = frame.maxY - (m.padding + textHeight + 8 + textHeight + 6 + m.tickLength)
        guard right - left >= 40, bottom - top >= 40 else {
            throw IMLError("panel \"\(title)\" is too small to draw: \(frame.width)x\(frame.height) pixels leaves no room for the plot")
        }
        let area = PixelRect(x: left, y: top, width: right - left, height: bottom - top)
        let (xLow, xHigh) = resolvedXAxis()
        let geometry = PlotGeometry(area: area, xLow: xLow, xHigh: xHigh,
                                    yLow: yRange.lowerBound, yHigh: yRange.upperBound, xScale: xScale)
        let xTicks = resolvedXTicks(low: xLow, high: xHigh, plotWidth: area.width)

        // Grid first so everything else sits on top of it.
        for tick in yTicks {
            let y = pixel(geometry.py(tick.value))
            canvas.drawLine(x0: area.x, y0: y, x1: area.maxX - 1, y1: y, color: .gridGray)
        }
        for tick in xTicks {
            let x = pixel(geometry.px(tick.value))
            canvas.drawLine(x0: x, y0: area.y, x1: x, y1: area.maxY - 1, color: .gridGray)
        }

        canvas.clip = area
        defer { canvas.clip = nil }
        if style == .lines {
            for series in series where series.hasBand { drawBand(series, geometry, canvas) }
        }
        for line in referenceLines where line.y.isFinite {
            let y = pixel(geometry.py(line.y))
            canvas.drawLine(x0: area.x, y0: y, x1: area.maxX - 1, y1: y, color: line.color, thickness: 2, dash: .dashed)
        }
        for (index, series) in series.enumerated() {
            switch style {
            case .lines:
                drawLine(series, geometry, canvas)
            case .pointsWithErrorBars:
                let offset = Double(index) - Double(self.series.count - 1) / 2
                drawPoints(series, geometry, canvas, nudge: offset * Double(m.dodge))
            }
        }
        // Labels go on last, at whichever end of the line (above or below) the data leaves free.
        for line in referenceLines where line.y.isFinite && !line.label.isEmpty {
            let y = pixel(geometry.py(line.y))
            let labelWidth = Canvas.textWidth(line.label, scale: m.labelScale)
            let candidates = [(area.maxX - labelWidth - 8, y - textHeight - 5), (area.x + 8, y - textHeight - 5),
                              (area.maxX - labelWidth - 8, y + 6), (area.x + 8, y + 6)]
                .map { PixelRect(x: $0.0 - 3, y: $0.1 - 2, width: labelWidth + 6, height: textHeight + 4) }
                .filter { $0.y >= area.y && $0.maxY <= area.maxY }
            guard let backing = PlotPanel.leastInked(candidates, on: canvas) else { continue }
            canvas.fillRect(x: backing.x, y: backing.y, width: backing.width, height: backing.height, color: .white, alpha: 0.8)
            canvas.drawText(line.label, x: backing.x + 3, y: backing.y + 2, scale: m.labelScale, color: line.color)
        }
        canvas.clip = nil

        // Frame, ticks and labels.
        canvas.drawRect(x: area.x - 1, y: area.y - 1, width: area.width + 2, height: area.height + 2, color: .darkGray)
        for tick in yTicks {
            let y = pixel(geometry.py(tick.value))
            canvas.drawLine(x0: area.x - 1 - m.tickLength, y0: y, x1: area.x - 2, y1: y, color: .darkGray)
            let width = Canvas.textWidth(tick.label, scale: m.labelScale)
            // Centre on the cap height (7 of the 9 glyph rows) so digits sit level with the tick.
            canvas.drawText(tick.label, x: area.x - 1 - m.tickLength - 6 - width, y: y - 7 * m.labelScale / 2,
                            scale: m.labelScale)
        }
        for tick in xTicks {
            let x = pixel(geometry.px(tick.value))
            canvas.drawLine(x0: x, y0: area.maxY + 1, x1: x, y1: area.maxY + m.tickLength, color: .darkGray)
            let width = Canvas.textWidth(tick.label, scale: m.labelScale)
            canvas.drawText(tick.label, x: x - width / 2, y: area.maxY + m.tickLength + 6, scale: m.labelScale)
        }
        let xLabelWidth = Canvas.textWidth(xLabel, scale: m.labelScale)
        canvas.drawText(xLabel, x: area.x + (area.width - xLabelWidth) / 2,
                        y: frame.maxY - m.padding - textHeight, scale: m.labelScale)
        let yLabelLength = Canvas.textWidth(yLabel, scale: m.labelScale)
        canvas.drawTextVertical(yLabel, x: frame.x + m.padding, y: area.y + (area.height - yLabelLength) / 2,
                                scale: m.labelScale)
        for (line, text) in titleLines.enumerated() {
            let width = Canvas.textWidth(text, scale: m.titleScale)
            canvas.drawText(text, x: area.x + (area.width - width) / 2,
                            y: frame.y + m.padding + line * (Canvas.textHeight(scale: m.titleScale) + m.titleLineGap),
                            scale: m.titleScale)
        }
        if legendInside { drawInsideLegend(geometry, canvas) }
    }

    private func drawBand(_ series: PlotSeries, _ geometry: PlotGeometry, _ canvas: Canvas) {
        guard let lower = series.lower, let upper = series.upper else { return }
        // Each run of consecutive finite points becomes one polygon: along the upper bound, back along the lower.
        var run: [(x: Double, low: Double, high: Double)] = []
        func flush() {
            if run.count >= 2 {
                let top = run.map { (x: $0.x, y: geometry.py($0.high)) }
                let bottom = run.reversed().map { (x: $0.x, y: geometry.py($0.low)) }
                // +0.5: pixel centres; the polygon filler samples centres, lines are drawn on them.
                canvas.fillPolygon((top + bottom).map { (x: $0.x + 0.5, y: $0.y + 0.5) },
                                   color: series.color, alpha: PlotMetrics.bandAlpha)
            }
            run.removeAll()
        }
        for index in series.x.indices {
            let x = geometry.px(series.x[index])
            if x.isFinite, lower[index].isFinite, upper[index].isFinite {
                run.append((x, lower[index], upper[index]))
            } else {
                flush()
            }
        }
        flush()
    }

    private func finitePoints(_ series: PlotSeries, _ geometry: PlotGeometry) -> [(x: Double, y: Double)?] {
        series.x.indices.map { index in
            let x = geometry.px(series.x[index]), y = geometry.py(series.y[index])
            return x.isFinite && y.isFinite ? (x, y) : nil
        }
    }

    private func drawLine(_ series: PlotSeries, _ geometry: PlotGeometry, _ canvas: Canvas) {
        let points = finitePoints(series, geometry)
        for index in points.indices {
            guard let point = points[index] else { continue }
            let hasPrevious = index > 0 && points[index - 1] != nil
            let hasNext = index + 1 < points.count && points[index + 1] != nil
            if hasNext, let next = points[index + 1] {
                canvas.drawLine(x0: pixel(point.x), y0: pixel(point.y),
                                x1: pixel(next.x), y1: pixel(next.y),
                                color: series.color, thickness: PlotMetrics.lineThickness,
                                dash: series.dashed ? .dashed : nil)
            }
            if !hasPrevious && !hasNext {
                // A point with no neighbour would be invisible as a line; show it as a dot.
                canvas.fillCircle(centerX: pixel(point.x), centerY: pixel(point.y),
                                  radius: PlotMetrics.lineThickness, color: series.color)
            }
        }
    }

    private func drawPoints(_ series: PlotSeries, _ geometry: PlotGeometry, _ canvas: Canvas, nudge: Double) {
        let m = PlotMetrics.self
        let points = finitePoints(series, geometry).map { $0.map { (x: $0.x + nudge, y: $0.y) } }
        // Thin connecting line first, so bars and markers stay on top.
        for index in points.indices.dropLast() where connectPoints {
            if let point = points[index], let next = points[index + 1] {
                canvas.drawLine(x0: pixel(point.x), y0: pixel(point.y),
                                x1: pixel(next.x), y1: pixel(next.y),
                                color: series.color, thickness: 2, dash: series.dashed ? .dashed : nil)
            }
        }
        for index in points.indices {
            guard let point = points[index] else { continue }
            let x = pixel(point.x)
            if let lower = series.lower?[index], let upper = series.upper?[index], lower.isFinite, upper.isFinite {
                let top = pixel(geometry.py(upper)), bottom = pixel(geometry.py(lower))
                canvas.drawLine(x0: x, y0: top, x1: x, y1: bottom, color: series.color, thickness: 2)
                canvas.drawLine(x0: x - m.errorBarCap, y0: top, x1: x + m.errorBarCap, y1: top, color: series.color, thickness: 2)
                canvas.drawLine(x0: x - m.errorBarCap, y0: bottom, x1: x + m.errorBarCap, y1: bottom, color: series.color, thickness: 2)
            }
            canvas.fillCircle(centerX: x, centerY: pixel(point.y), radius: m.markerRadius, color: series.color)
        }
    }

    /// The candidate covering the fewest drawn pixels (anything but background and grid), first on ties.
    /// Reading the canvas instead of the data counts lines, bands and labels alike.
    static func leastInked(_ candidates: [PixelRect], on canvas: Canvas) -> PixelRect? {
        func ink(_ rect: PixelRect) -> Int {
            var count = 0
            for y in rect.y..<rect.maxY {
                for x in rect.x..<rect.maxX {
                    if let colour = canvas.pixel(x: x, y: y), colour != .white, colour != .gridGray { count += 1 }
                }
            }
            return count
        }
        return candidates.map { ($0, ink($0)) }.min { $0.1 < $1.1 }?.0
    }

    /// A legend box in whichever corner of the plot covers the least ink.
    private func drawInsideLegend(_ geometry: PlotGeometry, _ canvas: Canvas) {
        let entries = legendEntries
        guard !entries.isEmpty else { return }
        let m = PlotMetrics.self
        let rowHeight = m.labelHeight + 6
        let boxWidth = 12 + m.swatchWidth + 8 + (entries.map { Canvas.textWidth($0.name, scale: m.labelScale) }.max() ?? 0) + 12
        let boxHeight = 8 + entries.count * rowHeight + 4
        let area = geometry.area
        let inset = 8
        let corners = [
            PixelRect(x: area.maxX - boxWidth - inset, y: area.y + inset, width: boxWidth, height: boxHeight),
            PixelRect(x: area.x + inset, y: area.y + inset, width: boxWidth, height: boxHeight),
            PixelRect(x: area.maxX - boxWidth - inset, y: area.maxY - boxHeight - inset, width: boxWidth, height: boxHeight),
            PixelRect(x: area.x + inset, y: area.maxY - boxHeight - inset, width: boxWidth, height: boxHeight),
        ]
        guard let box = PlotPanel.leastInked(corners, on: canvas) else { return }
        canvas.fillRect(x: box.x, y: box.y, width: box.width, height: box.height, color: .white, alpha: 0.9)
        canvas.drawRect(x: box.x, y: box.y, width: box.width, height: box.height, color: .lightGray)
        for (row, entry) in entries.enumerated() {
            LegendDrawing.drawEntry(entry, on: canvas, x: box.x + 12, y: box.y + 8 + row * rowHeight)
        }
    }
}

enum LegendDrawing {
    /// Width of one entry: swatch, gap, name.
    static func width(of entry: LegendEntry) -> Int {
        PlotMetrics.swatchWidth + 8 + Canvas.textWidth(entry.name, scale: PlotMetrics.labelScale)
    }

    /// Draws a swatch that looks like the series (line, band, marker) followed by its name; (x, y) is the text's top-left.
    static func drawEntry(_ entry: LegendEntry, on canvas: Canvas, x: Int, y: Int) {
        let m = PlotMetrics.self
        let middle = y + 7 * m.labelScale / 2
        let swatchEnd = x + m.swatchWidth - 1
        switch entry.style {
        case .lines:
            if entry.hasBand {
                canvas.fillRect(x: x, y: middle - 7, width: m.swatchWidth, height: 15, color: entry.color, alpha: m.bandAlpha)
            }
            canvas.drawLine(x0: x, y0: middle, x1: swatchEnd, y1: middle, color: entry.color,
                            thickness: m.lineThickness, dash: entry.dashed ? DashPattern(on: 8, off: 5) : nil)
        case .pointsWithErrorBars:
            if entry.connected {
                canvas.drawLine(x0: x, y0: middle, x1: swatchEnd, y1: middle, color: entry.color, thickness: 2,
                                dash: entry.dashed ? DashPattern(on: 8, off: 5) : nil)
            }
            let centre = x + m.swatchWidth / 2
            canvas.drawLine(x0: centre, y0: middle - 8, x1: centre, y1: middle + 8, color: entry.color, thickness: 2)
            canvas.fillCircle(centerX: centre, centerY: middle, radius: m.markerRadius, color: entry.color)
        }
        canvas.drawText(entry.name, x: x + m.swatchWidth + 8, y: y, scale: m.labelScale)
    }
}

/// "Nice" tick positions: steps of 1, 2 or 5 times a power of ten.
enum NiceTicks {
    static func make(low: Double, high: Double, target: Int, minimumStep: Double) -> [AxisTick] {
        guard low.isFinite, high.isFinite, high > low else { return [] }
        let raw = (high - low) / Double(max(1, target))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let normalized = raw / magnitude
        let factor: Double = normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10
        let step = max(factor * magnitude, minimumStep)
        // Spans beyond Double's range (1e308 apart) or below its precision get no ticks rather than a trap.
        guard step.isFinite, step > 0, (high - low).isFinite else { return [] }
        let decimals = min(15, max(0, Int((-log10(step) - 1e-9).rounded(.up))))
        let epsilon = step * 1e-6
        var ticks: [AxisTick] = []
        var index = (low / step - 1e-6).rounded(.up)
        while index * step <= high + epsilon, ticks.count < 1000 {
            let value = index * step
            ticks.append(AxisTick(value: value, label: format(value, decimals: decimals)))
            index += 1
        }
        return ticks
    }

    static func format(_ value: Double, decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", value)
        // "-0.0" reads as a mistake on an axis.
        if let number = Double(text), number == 0 { return String(format: "%.\(decimals)f", 0.0) }
        return text
    }
}

/// Rounds a pixel coordinate, clamped far outside any canvas so absurd data (1e300) cannot trap
/// the Int conversion; clipping then discards it.
func pixel(_ coordinate: Double) -> Int {
    guard !coordinate.isNaN else { return Int.min / 4 }
    return Int(min(max(coordinate, -1e9), 1e9).rounded())
}
