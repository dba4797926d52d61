// The canvas as SVG: every drawing call the figures make, recorded as one vector element in the
// canvas's pixel coordinates, so a figure exists both as the PNG the tools always wrote and as
// an SVG for papers, from one drawing code path. Text is real text in a sans-serif font, sized to
// the bitmap font's cap height and stretched to its exact width (textLength), so the layout the
// figures computed for the bitmap text holds; grayscale images are embedded PNGs drawn
// pixelated. Why our own writer and not cairo: the figures draw a handful of primitives, and
// recording them costs no dependency, no font files and no second layout.

import Foundation

struct SVGElement {
    enum Shape {
        case rect(x: Double, y: Double, width: Double, height: Double, fill: Color, alpha: Double)
        case outline(x: Double, y: Double, width: Double, height: Double, stroke: Color, thickness: Double)
        case circle(cx: Double, cy: Double, r: Double, fill: Color, alpha: Double)
        case line(x0: Double, y0: Double, x1: Double, y1: Double, stroke: Color, thickness: Double, dash: (on: Double, off: Double)?, alpha: Double)
        case polygon(points: [(x: Double, y: Double)], fill: Color, alpha: Double)
        case image(x: Double, y: Double, width: Int, height: Int, scale: Double, gray: [UInt8])
        /// Top-left corner of the bitmap text's box at (x, y); `size` is the bitmap font's scale.
        case text(String, x: Double, y: Double, size: Double, color: Color, vertical: Bool)
    }
    let shape: Shape
    let clip: PixelRect?
}

extension Canvas {
    /// The font the SVG names: DejaVu Sans where installed (Debian's default), else the reader's sans-serif.
    static let svgFont = "'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif"

    /// The recorded drawing as an SVG document.
    public func svg() throws -> String {
        var clips: [PixelRect] = []
        func clipID(_ rect: PixelRect) -> Int {
            if let index = clips.firstIndex(where: { $0 == rect }) { return index }
            clips.append(rect)
            return clips.count - 1
        }
        var body: [String] = []
        for element in vector {
            var markup = try Self.markup(element.shape)
            // Clipped: the attribute goes right after the element's name.
            if let clip = element.clip, let space = markup.firstIndex(of: " ") {
                markup.insert(contentsOf: " clip-path=\"url(#clip\(clipID(clip)))\"", at: space)
            }
            body.append(markup)
        }
        var out = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"]
        if !clips.isEmpty {
            out.append("<defs>")
            for (index, rect) in clips.enumerated() {
                out.append("<clipPath id=\"clip\(index)\"><rect x=\"\(rect.x)\" y=\"\(rect.y)\" width=\"\(rect.width)\" height=\"\(rect.height)\"/></clipPath>")
            }
            out.append("</defs>")
        }
        out.append("<rect width=\"\(width)\" height=\"\(height)\" fill=\"\(Self.hex(background))\"/>")
        out += body
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    static func hex(_ c: Color) -> String { String(format: "#%02x%02x%02x", c.r, c.g, c.b) }

    /// A number as SVG writes it: at most two decimals, no trailing zeros.
    static func n(_ x: Double) -> String {
        let rounded = (x * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.2f", rounded).replacingOccurrences(of: #"0+$"#, with: "", options: .regularExpression)
    }

    static func opacity(_ alpha: Double, _ attribute: String = "opacity") -> String {
        alpha < 1 ? " \(attribute)=\"\(n(max(0, alpha)))\"" : ""
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func markup(_ shape: SVGElement.Shape) throws -> String {
        switch shape {
        case let .rect(x, y, w, h, fill, alpha):
            return "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"\(hex(fill))\"\(opacity(alpha, "fill-opacity"))/>"
        case let .outline(x, y, w, h, stroke, t):
            return "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"none\" stroke=\"\(hex(stroke))\" stroke-width=\"\(n(t))\"/>"
        case let .circle(cx, cy, r, fill, alpha):
            return "<circle cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(r))\" fill=\"\(hex(fill))\"\(opacity(alpha, "fill-opacity"))/>"
        case let .line(x0, y0, x1, y1, stroke, t, dash, alpha):
            guard [x0, y0, x1, y1].allSatisfy(\.isFinite) else { return "<g/>" }
            let dashes = dash.map { " stroke-dasharray=\"\(n($0.on)) \(n($0.off))\"" } ?? ""
            return "<line x1=\"\(n(x0))\" y1=\"\(n(y0))\" x2=\"\(n(x1))\" y2=\"\(n(y1))\" stroke=\"\(hex(stroke))\" stroke-width=\"\(n(t))\"\(dashes)\(opacity(alpha, "stroke-opacity"))/>"
        case let .polygon(points, fill, alpha):
            let list = points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
            return "<polygon points=\"\(list)\" fill=\"\(hex(fill))\"\(opacity(alpha, "fill-opacity"))/>"
        case let .image(x, y, w, h, scale, gray):
            let png = try PNG.encode(width: w, height: h, channels: 1, pixels: gray)
            return "<image x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(Double(w) * scale))\" height=\"\(n(Double(h) * scale))\" image-rendering=\"pixelated\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(png.base64EncodedString())\"/>"
        case let .text(text, x, y, s, color, vertical):
            guard !text.isEmpty else { return "<g/>" }
            // The bitmap glyphs stand 7 rows above the baseline; the font's cap height is about 0.73 em.
            let length = Double(Canvas.textWidth(text, scale: Int(s)))
            let size = 7 * s / 0.73
            // Anchored at the middle of the bitmap text's box: centred text stays centred in a
            // renderer that ignores textLength.
            let attributes = "font-family=\"\(svgFont)\" font-size=\"\(n(size))\" fill=\"\(hex(color))\" text-anchor=\"middle\" textLength=\"\(n(length))\" lengthAdjust=\"spacingAndGlyphs\""
            if vertical {
                // Reads bottom to top: the unrotated text's box starts at the rotated box's bottom-left corner.
                let px = x + 7 * s, py = y + length / 2
                return "<text x=\"\(n(px))\" y=\"\(n(py))\" transform=\"rotate(-90 \(n(px)) \(n(py)))\" \(attributes)>\(escaped(text))</text>"
            }
            return "<text x=\"\(n(x + length / 2))\" y=\"\(n(y + 7 * s))\" \(attributes)>\(escaped(text))</text>"
        }
    }
}
