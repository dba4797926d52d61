// Drawing one plot panel: frame, grid, bands, lines or points with error bars, reference lines,
// labels and the legend placed where it covers the least ink.

import Foundation
import IMLBase

extension PlotPanel {
    /// Draws the panel into `frame`. `titleLines` is shared by all panels so their plot areas align.
    func draw(on canvas: Canvas, frame: PixelRect, titleLines: [String], legendInside: Bool) throws {
        let m = PlotMetrics.self
        let textHeight = m.labelHeight
        let yRange = shownYRange
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
        // Labels go on last, at whichever end of the line (above or below) the data leaves free;
        // with the legend outside the plot they are legend entries instead, and cover no data.
        for line in referenceLines where legendInside && line.y.isFinite && !line.label.isEmpty {
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

    /// `yRange`, widened to the next tenth wherever a band or an error bar reaches beyond it, so
    /// that none is cut off silently (a 95% interval of an exact match can pass 0 or 1).
    var shownYRange: ClosedRange<Double> {
        let bounds = series.flatMap { ($0.lower ?? []) + ($0.upper ?? []) }.filter(\.isFinite)
        var low = yRange.lowerBound, high = yRange.upperBound
        // At most one range's height more on either side: absurd values do not flatten the data.
        let reach = high - low
        if let least = bounds.min(), least < low { low = max(low - reach, (least * 10).rounded(.down) / 10) }
        if let most = bounds.max(), most > high { high = min(high + reach, (most * 10).rounded(.up) / 10) }
        return low...high
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
