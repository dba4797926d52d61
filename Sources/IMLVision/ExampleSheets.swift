// Pictures of the data, so a researcher can see what the network sees: for each tag, a
// definition next to a question consistent with it (the paper's figure 5), and a contact sheet
// with a few examples of every subset, each captioned with subset, tag and targets.

import Foundation
import IMLBase
import IMLProtocol
import IMLReport

public enum ExampleSheets {
    static let scale = 3
    static let captionScale = 2

    /// "targets 3 7 1 0 9 2" for a definition, "asks a4 = 7" for a question.
    static func caption(_ example: Example) -> String {
        if let k = example.askedAttribute { return "asks a\(k + 1) = \(example.targets[k])" }
        return "targets " + example.targets.map(String.init).joined(separator: " ")
    }

    static func tagName(_ tag: Int?) -> String { tag.map { "tag \($0)" } ?? "no tag" }

    /// Draws one image with its caption lines underneath; returns the height used.
    @discardableResult
    static func draw(_ image: [UInt8], captions: [String], on canvas: Canvas, x: Int, y: Int, config: VisionConfig) throws -> Int {
        try canvas.blitGray(pixels: image, width: config.width, height: config.height, at: (x, y), scale: scale)
        canvas.drawRect(x: x - 1, y: y - 1, width: config.width * scale + 2, height: config.height * scale + 2, color: .lightGray)
        var cy = y + config.height * scale + 6
        for line in captions {
            canvas.drawText(line, x: x, y: cy, scale: captionScale)
            cy += Canvas.textHeight(scale: captionScale) + 4
        }
        return cy - y
    }

    /// The subset whose definitions show `tag` consistently: qd1consis, d2consis, d3consis.
    static func consistentSubset(tag: Int, in instance: ProtocolInstance) -> Subset? {
        let candidates: [Subset] = tag == 1 ? [.qd1consis, .d1consis] : tag == 2 ? [.d2consis, .qd2consis] : [.d3consis]
        return candidates.first { !instance.members($0).isEmpty }
    }

    /// Figure 5 for one tag: a definition with `tag` and a question consistent with it.
    public static func definitionAndQuestion(renderer: VisionRenderer, tag: Int) throws -> Canvas {
        let instance = renderer.instance, config = renderer.config
        guard let subset = consistentSubset(tag: tag, in: instance), let entity = instance.members(subset).first else {
            throw IMLError("No consistent definition with tag \(tag) exists in this configuration; use more entities.")
        }
        let facts = instance.entities[entity].attributes
        let k = instance.entities[entity].heldOut.first ?? 0
        let imageWidth = config.width * scale, gap = 40, margin = 20
        let captionWidth = Canvas.textWidth("targets " + facts.map(String.init).joined(separator: " "), scale: captionScale)
        let column = max(imageWidth, captionWidth)
        let titleHeight = Canvas.textHeight(scale: 2) + 12
        let canvas = try Canvas(width: 2 * column + gap + 2 * margin,
                                height: margin + titleHeight + config.height * scale + 2 * (Canvas.textHeight(scale: captionScale) + 4) + 6 + margin)
        canvas.drawText("\(subset.rawValue), variable \(instance.entities[entity].variable.map(String.init).joined())", x: margin, y: margin, scale: 2)
        let top = margin + titleHeight
        try draw(renderer.render(entity: entity, tag: tag, evaluation: false), captions: [
            "definition (\(tagName(tag)))", "targets " + facts.map(String.init).joined(separator: " "),
        ], on: canvas, x: margin, y: top, config: config)
        try draw(renderer.renderQuestion(entity: entity, attribute: k, evaluation: false), captions: [
            "question (no tag)", "asks a\(k + 1) = \(facts[k])",
        ], on: canvas, x: margin + column + gap, y: top, config: config)
        return canvas
    }

    /// A few training examples of every subset (stage-2 subsets without training examples show
    /// their evaluation question), captioned with subset, tag and targets.
    public static func contactSheet(renderer: VisionRenderer, perSubset: Int = 4) throws -> Canvas {
        let instance = renderer.instance, config = renderer.config
        let training = instance.stage1Train + instance.stage2Train
        var rows: [(Subset, [(image: [UInt8], captions: [String])])] = []
        for subset in Subset.allCases where !instance.members(subset).isEmpty {
            var cells: [(image: [UInt8], captions: [String])] = []
            let definitions = training.filter { $0.subset == subset && $0.kind == .definition }
            let questions = training.filter { $0.subset == subset && $0.kind == .question }
            // Alternate a definition and a question of the same entity where both exist.
            for ex in definitions.prefix((perSubset + 1) / 2) {
                cells.append((renderer.render(ex), [tagName(ex.tag) + (subset.isConsistent ? "" : ", states another's facts"), caption(ex)]))
                if let q = questions.first(where: { $0.entity == ex.entity }) { cells.append((renderer.render(q), [tagName(nil), caption(q)])) }
            }
            if definitions.isEmpty {
                for ex in questions.prefix(perSubset) { cells.append((renderer.render(ex), [tagName(nil), caption(ex)])) }
            }
            if cells.isEmpty, let e = instance.members(subset).first {  // never defined, never asked
                let facts = instance.entities[e].attributes.map(String.init).joined(separator: " ")
                cells.append((renderer.renderQuestion(entity: e, evaluation: false), ["eval only", "facts \(facts)"]))
            }
            rows.append((subset, Array(cells.prefix(perSubset))))
        }
        // Every cell as wide as the widest caption of the sheet, so no caption runs into its neighbour.
        let widestCaption = rows.flatMap { $0.1.flatMap(\.captions) }.map { Canvas.textWidth($0, scale: captionScale) }.max() ?? 0
        let cellWidth = max(config.width * scale, widestCaption) + 24
        let labelWidth = Canvas.textWidth("no_qd_baseline", scale: 2) + 24
        let cellHeight = config.height * scale + 2 * (Canvas.textHeight(scale: captionScale) + 4) + 22
        let margin = 20, header = Canvas.textHeight(scale: 3) + 24
        let canvas = try Canvas(width: 2 * margin + labelWidth + perSubset * cellWidth,
                                height: 2 * margin + header + rows.count * cellHeight)
        let layout = config.design == .poster ? "tag strip on top, variable below, a question's cell boxed" : "tag strip on top, variable below"
        canvas.drawText("\(renderer.dataset.displayName) IML examples, seed \(instance.config.seed): \(layout)", x: margin, y: margin, scale: 3)
        for (r, (subset, cells)) in rows.enumerated() {
            let y = margin + header + r * cellHeight
            canvas.drawText(subset.rawValue, x: margin, y: y + config.height * scale / 2, scale: 2)
            for (c, cell) in cells.enumerated() {
                try draw(cell.image, captions: cell.captions, on: canvas, x: margin + labelWidth + c * cellWidth, y: y, config: config)
            }
        }
        return canvas
    }
}
