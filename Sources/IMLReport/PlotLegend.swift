// The legend of a plot panel: one entry per series (swatch, band, marker, name).

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
    /// The series' entries.
    var legendEntries: [LegendEntry] {
        series.map { LegendEntry(name: $0.name, color: $0.color, dashed: $0.dashed, hasBand: $0.hasBand, style: style,
                                 connected: style == .lines || connectPoints) }
    }

    /// With the legend outside the plot: the series', then each labelled reference line's
    /// (drawn as the dashed line it is), so no label sits on the data.
    var outsideLegendEntries: [LegendEntry] {
        legendEntries + referenceLines.filter { !$0.label.isEmpty && $0.y.isFinite }.map {
            LegendEntry(name: $0.label, color: $0.color, dashed: true, hasBand: false, style: .lines, connected: true)
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
