// A figure: a title (and a subtitle with the run's settings), panels side by side, one shared legend.

import IMLBase

public enum Figure {
    public static let titleScale = 3
    public static let subtitleScale = 2

    /// Renders panels left to right. With `legendBelow`, one legend of every distinct series name
    /// goes under the panels (with `legendPerPanel`, each panel's own under it, for panels whose
    /// series share colours but not meaning); otherwise each panel carries its own legend inside
    /// its plot area.
    public static func render(title: String, subtitle: String? = nil, panels: [PlotPanel],
                              panelWidth: Int = 560, panelHeight: Int = 420, legendBelow: Bool = true,
                              legendPerPanel: Bool = false) throws -> Canvas {
        guard !panels.isEmpty else { throw IMLError("figure \"\(title)\" has no panels to draw") }
        guard panelWidth >= 200, panelHeight >= 160 else {
            throw IMLError("figure \"\(title)\": panels of \(panelWidth)x\(panelHeight) pixels are too small; use at least 200x160")
        }
        for panel in panels { try panel.validate() }

        let width = panels.count * panelWidth
        let margin = 16
        let titleLines = wrap(title, scale: titleScale, maxWidth: width - 2 * margin)
        let subtitleLines = subtitle.map { wrap($0, scale: subtitleScale, maxWidth: width - 2 * margin) } ?? []
        let titleLineHeight = Canvas.textHeight(scale: titleScale) + 6
        let subtitleLineHeight = Canvas.textHeight(scale: subtitleScale) + 4
        let headerHeight = margin + titleLines.count * titleLineHeight
            + (subtitleLines.isEmpty ? 0 : 4 + subtitleLines.count * subtitleLineHeight) + 4

        // Panel titles wrap to the same number of lines everywhere so plot areas line up.
        let panelTitleWidth = panelWidth - 120
        let panelTitles = panels.map { wrap($0.title, scale: PlotMetrics.titleScale, maxWidth: panelTitleWidth) }
        let panelTitleLines = panelTitles.map(\.count).max() ?? 0
        let titleHeight = Canvas.textHeight(scale: PlotMetrics.titleScale) + PlotMetrics.titleLineGap
        let fullPanelHeight = panelHeight + max(0, panelTitleLines - 1) * titleHeight

        // Legend blocks below the panels: one shared across the width, or one under each panel.
        let blocks: [(x: Int, width: Int, rows: [(entries: [LegendEntry], width: Int)])]
        if !legendBelow {
            blocks = []
        } else if legendPerPanel {
            blocks = panels.enumerated().map { index, panel in
                (index * panelWidth, panelWidth, layoutLegend(panel.outsideLegendEntries, maxWidth: panelWidth - 2 * margin))
            }
        } else {
            blocks = [(0, width, layoutLegend(sharedLegend(panels), maxWidth: width - 2 * margin))]
        }
        let legendRowHeight = PlotMetrics.labelHeight + 10
        let mostRows = blocks.map(\.rows.count).max() ?? 0
        let legendHeight = mostRows == 0 ? 0 : mostRows * legendRowHeight + margin

        let canvas = try Canvas(width: width, height: headerHeight + fullPanelHeight + legendHeight, background: .white)
        var y = margin
        for line in titleLines {
            canvas.drawText(line, x: (width - Canvas.textWidth(line, scale: titleScale)) / 2, y: y, scale: titleScale)
            y += titleLineHeight
        }
        if !subtitleLines.isEmpty { y += 4 }
        for line in subtitleLines {
            canvas.drawText(line, x: (width - Canvas.textWidth(line, scale: subtitleScale)) / 2, y: y,
                            scale: subtitleScale, color: .darkGray)
            y += subtitleLineHeight
        }

        for (index, panel) in panels.enumerated() {
            // Shorter titles are padded with empty lines at the top so every title ends at the same height.
            let lines = Array(repeating: "", count: panelTitleLines - panelTitles[index].count) + panelTitles[index]
            let frame = PixelRect(x: index * panelWidth, y: headerHeight, width: panelWidth, height: fullPanelHeight)
            try panel.draw(on: canvas, frame: frame, titleLines: lines, legendInside: !legendBelow)
        }

        for block in blocks {
            var rowY = headerHeight + fullPanelHeight + 4
            for row in block.rows {
                var x = block.x + (block.width - row.width) / 2
                for entry in row.entries {
                    LegendDrawing.drawEntry(entry, on: canvas, x: x, y: rowY)
                    x += LegendDrawing.width(of: entry) + legendGap
                }
                rowY += legendRowHeight
            }
        }
        return canvas
    }

    private static let legendGap = 32

    /// Every series name once, in first-seen order (the same subset drawn in two panels is one entry).
    static func sharedLegend(_ panels: [PlotPanel]) -> [LegendEntry] {
        var seen = Set<String>()
        var entries: [LegendEntry] = []
        for panel in panels {
            for entry in panel.outsideLegendEntries where seen.insert(entry.name).inserted {
                entries.append(entry)
            }
        }
        return entries
    }

    static func layoutLegend(_ entries: [LegendEntry], maxWidth: Int) -> [(entries: [LegendEntry], width: Int)] {
        var rows: [(entries: [LegendEntry], width: Int)] = []
        var current: [LegendEntry] = []
        var currentWidth = 0
        for entry in entries {
            let entryWidth = LegendDrawing.width(of: entry)
            let widened = current.isEmpty ? entryWidth : currentWidth + legendGap + entryWidth
            if !current.isEmpty && widened > maxWidth {
                rows.append((current, currentWidth))
                current = [entry]
                currentWidth = entryWidth
            } else {
                current.append(entry)
                currentWidth = widened
            }
        }
        if !current.isEmpty { rows.append((current, currentWidth)) }
        return rows
    }

    /// Greedy word wrap to `maxWidth` pixels; a single word longer than a line is cut with "...".
    static func wrap(_ text: String, scale: Int, maxWidth: Int) -> [String] {
        let maxCharacters = max(4, (maxWidth + 1) / (6 * max(1, scale)))
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            let word = word.unicodeScalars.count > maxCharacters
                ? String(String.UnicodeScalarView(word.unicodeScalars.prefix(maxCharacters - 3))) + "..."
                : word
            let candidate = current.isEmpty ? word : current + " " + word
            if candidate.unicodeScalars.count > maxCharacters {
                lines.append(current)
                current = word
            } else {
                current = candidate
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
