// An RGB raster with the few primitives figures need. Coordinates are pixels, origin top-left,
// y down. Everything is clipped to the canvas (and to `clip` when set), so callers may draw
// partly or wholly off-canvas without checks.

import Foundation
import IMLBase

/// A pixel rectangle: columns `x ..< x + width`, rows `y ..< y + height`.
public struct PixelRect: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }

    func intersection(_ other: PixelRect) -> PixelRect {
        let left = max(x, other.x), top = max(y, other.y)
        let right = min(maxX, other.maxX), bottom = min(maxY, other.maxY)
        return PixelRect(x: left, y: top, width: max(0, right - left), height: max(0, bottom - top))
    }
}

/// On/off run lengths in pixels for dashed lines.
public struct DashPattern: Equatable, Sendable {
    public var on: Int
    public var off: Int

    public init(on: Int, off: Int) {
        self.on = max(1, on)
        self.off = max(0, off)
    }

    public static let dashed = DashPattern(on: 10, off: 6)
}

public final class Canvas {
    public let width: Int
    public let height: Int
    /// RGB bytes, row-major, 3 per pixel.
    public private(set) var pixels: [UInt8]
    /// When set, drawing outside this rectangle is discarded (e.g. data outside a plot area).
    public var clip: PixelRect?

    /// The drawing as vector elements, for `svg()`: each public drawing call adds one, in the
    /// canvas's pixel coordinates, with real text instead of the bitmap font (see CanvasSVG.swift).
    var vector: [SVGElement] = []
    /// Above 0 while a drawing call draws through others (text through rectangles), which then
    /// add no element of their own.
    var composing = 0
    let background: Color

    /// Canvases larger than this are refused: 16k x 16k is far beyond any figure.
    public static let maxSide = 16_384

    public init(width: Int, height: Int, background: Color = .white) throws {
        guard width > 0, height > 0, width <= Canvas.maxSide, height <= Canvas.maxSide else {
            throw IMLError("canvas size \(width)x\(height) is invalid; each side must be in 1...\(Canvas.maxSide)")
        }
        self.width = width
        self.height = height
        self.background = background
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for index in stride(from: 0, to: pixels.count, by: 3) {
            pixels[index] = background.r
            pixels[index + 1] = background.g
            pixels[index + 2] = background.b
        }
    }

    // MARK: Pixels

    /// The drawable area: canvas bounds intersected with `clip`.
    private var drawable: PixelRect {
        let bounds = PixelRect(x: 0, y: 0, width: width, height: height)
        return clip.map { bounds.intersection($0) } ?? bounds
    }

    public func pixel(x: Int, y: Int) -> Color? {
        guard x >= 0, x < width, y >= 0, y < height else { return nil }
        let index = (y * width + x) * 3
        return Color(r: pixels[index], g: pixels[index + 1], b: pixels[index + 2])
    }

    /// Paints one pixel, blended over what is there when `alpha` < 1. Off-canvas or clipped: no-op.
    public func setPixel(x: Int, y: Int, color: Color, alpha: Double = 1) {
        guard drawable.contains(x: x, y: y) else { return }
        put(x: x, y: y, color: color, alpha: alpha)
    }

    /// Unchecked write; callers have clipped already.
    @inline(__always)
    private func put(x: Int, y: Int, color: Color, alpha: Double) {
        let index = (y * width + x) * 3
        var painted = color
        if alpha < 1 {
            let below = Color(r: pixels[index], g: pixels[index + 1], b: pixels[index + 2])
            painted = color.blended(over: below, alpha: alpha)
        }
        pixels[index] = painted.r
        pixels[index + 1] = painted.g
        pixels[index + 2] = painted.b
    }

    /// Counts pixels that differ from `background`; handy for tests and sanity checks.
    public func countPixels(notEqualTo background: Color, in rect: PixelRect? = nil) -> Int {
        let area = (rect ?? PixelRect(x: 0, y: 0, width: width, height: height))
            .intersection(PixelRect(x: 0, y: 0, width: width, height: height))
        var count = 0
        for y in area.y..<area.maxY {
            for x in area.x..<area.maxX where pixel(x: x, y: y) != background {
                count += 1
            }
        }
        return count
    }

    // MARK: Rectangles and shapes

    public func fillRect(x: Int, y: Int, width rectWidth: Int, height rectHeight: Int, color: Color, alpha: Double = 1) {
        record(.rect(x: Double(x), y: Double(y), width: Double(max(0, rectWidth)), height: Double(max(0, rectHeight)), fill: color, alpha: alpha))
        let area = PixelRect(x: x, y: y, width: max(0, rectWidth), height: max(0, rectHeight)).intersection(drawable)
        for py in area.y..<area.maxY {
            for px in area.x..<area.maxX {
                put(x: px, y: py, color: color, alpha: alpha)
            }
        }
    }

    /// An outline drawn inside the rectangle, `thickness` pixels wide.
    public func drawRect(x: Int, y: Int, width rectWidth: Int, height rectHeight: Int, color: Color, thickness: Int = 1) {
        guard rectWidth > 0, rectHeight > 0 else { return }
        let t = max(1, min(thickness, (min(rectWidth, rectHeight) + 1) / 2))
        record(.outline(x: Double(x) + Double(t) / 2, y: Double(y) + Double(t) / 2, width: Double(rectWidth - t),
                        height: Double(rectHeight - t), stroke: color, thickness: Double(t)))
        composing += 1; defer { composing -= 1 }
        fillRect(x: x, y: y, width: rectWidth, height: t, color: color)
        fillRect(x: x, y: y + rectHeight - t, width: rectWidth, height: t, color: color)
        fillRect(x: x, y: y + t, width: t, height: rectHeight - 2 * t, color: color)
        fillRect(x: x + rectWidth - t, y: y + t, width: t, height: rectHeight - 2 * t, color: color)
    }

    /// A filled disc centred on pixel (cx, cy).
    public func fillCircle(centerX cx: Int, centerY cy: Int, radius: Int, color: Color, alpha: Double = 1) {
        guard radius >= 0 else { return }
        record(.circle(cx: Double(cx) + 0.5, cy: Double(cy) + 0.5, r: Double(radius) + 0.5, fill: color, alpha: alpha))
        // The +r term rounds the edge outward a little so small discs do not look square-cut.
        let limit = radius * radius + radius
        for dy in -radius...radius {
            for dx in -radius...radius where dx * dx + dy * dy <= limit {
                setPixel(x: cx + dx, y: cy + dy, color: color, alpha: alpha)
            }
        }
    }

    /// A straight line (Bresenham) stamped with a square brush of `thickness` pixels.
    /// With `dash`, runs of `on` steps are drawn and `off` steps skipped.
    public func drawLine(x0: Int, y0: Int, x1: Int, y1: Int, color: Color, thickness: Int = 1,
                         dash: DashPattern? = nil, alpha: Double = 1) {
        let t = max(1, thickness)
        record(.line(x0: Double(x0) + 0.5, y0: Double(y0) + 0.5, x1: Double(x1) + 0.5, y1: Double(y1) + 0.5,
                     stroke: color, thickness: Double(t), dash: dash.map { (Double($0.on), Double($0.off)) }, alpha: alpha))
        let low = -(t - 1) / 2, high = t / 2
        let area = drawable
        // Walk only the part of the line that can touch the drawable area, so far-off endpoints
        // cost nothing; the skipped length keeps the dash phase where it would have been.
        let margin = Double(t + 1)
        guard let (start, end) = Canvas.clipSegment(
            from: (Double(x0), Double(y0)), to: (Double(x1), Double(y1)),
            left: Double(area.x) - margin, top: Double(area.y) - margin,
            right: Double(area.maxX) + margin, bottom: Double(area.maxY) + margin)
        else { return }
        let (ax, ay) = (Int(start.x.rounded()), Int(start.y.rounded()))
        let (bx, by) = (Int(end.x.rounded()), Int(end.y.rounded()))
        // Stamping the brush repeatedly would blend translucent lines many times; record instead.
        var stamped = alpha < 1 ? Set<Int>() : nil
        let dx = abs(bx - ax), dy = -abs(by - ay)
        let sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1
        var error = dx + dy
        var x = ax, y = ay
        var step = max(abs(ax - x0), abs(ay - y0))
        let x1 = bx, y1 = by
        while true {
            let visible = dash.map { step % ($0.on + $0.off) < $0.on } ?? true
            if visible {
                for brushY in (y + low)...(y + high) {
                    for brushX in (x + low)...(x + high) where area.contains(x: brushX, y: brushY) {
                        if stamped != nil {
                            guard stamped!.insert(brushY * width + brushX).inserted else { continue }
                        }
                        put(x: brushX, y: brushY, color: color, alpha: alpha)
                    }
                }
            }
            if x == x1 && y == y1 { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x += sx }
            if doubled <= dx { error += dx; y += sy }
            step += 1
        }
    }

    /// Liang-Barsky: the part of a segment inside an axis-aligned box, or nil when none is.
    static func clipSegment(from p0: (x: Double, y: Double), to p1: (x: Double, y: Double),
                            left: Double, top: Double, right: Double, bottom: Double)
        -> (start: (x: Double, y: Double), end: (x: Double, y: Double))? {
        guard p0.x.isFinite, p0.y.isFinite, p1.x.isFinite, p1.y.isFinite else { return nil }
        let dx = p1.x - p0.x, dy = p1.y - p0.y
        var enter = 0.0, exit = 1.0
        for (p, q) in [(-dx, p0.x - left), (dx, right - p0.x), (-dy, p0.y - top), (dy, bottom - p0.y)] {
            if p == 0 {
                if q < 0 { return nil }  // parallel to this edge and outside it
                continue
            }
            let r = q / p
            if p < 0 { enter = max(enter, r) } else { exit = min(exit, r) }
            if enter > exit { return nil }
        }
        return ((p0.x + enter * dx, p0.y + enter * dy), (p0.x + exit * dx, p0.y + exit * dy))
    }

    /// Fills a polygon by scanlines with the even-odd rule, sampling pixel centres.
    /// Vertices are in pixel units (0,0 is the top-left corner of the top-left pixel).
    /// A polygon with fewer than 3 vertices or any non-finite vertex draws nothing.
    public func fillPolygon(_ points: [(x: Double, y: Double)], color: Color, alpha: Double = 1) {
        guard points.count >= 3, points.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { return }
        // Far-off vertices (absurd data) are pulled in so edge arithmetic cannot overflow to inf or NaN.
        let limit = 1e7
        let points = points.map { (x: min(max($0.x, -limit), limit), y: min(max($0.y, -limit), limit)) }
        record(.polygon(points: points, fill: color, alpha: alpha))
        let area = drawable
        guard area.width > 0, area.height > 0 else { return }
        let minY = points.map(\.y).min()!, maxY = points.map(\.y).max()!
        // Clamp in Double first: a vertex at 1e300 must not reach the Int conversion.
        let firstRow = Int(max(Double(area.y), (minY - 0.5).rounded(.up)))
        let lastRow = Int(min(Double(area.maxY - 1), (maxY - 0.5).rounded(.down)))
        guard firstRow <= lastRow else { return }
        var crossings: [Double] = []
        for row in firstRow...lastRow {
            let sampleY = Double(row) + 0.5
            crossings.removeAll(keepingCapacity: true)
            var previous = points[points.count - 1]
            for point in points {
                // Half-open test so a vertex exactly on the scanline counts once.
                if (previous.y <= sampleY && sampleY < point.y) || (point.y <= sampleY && sampleY < previous.y) {
                    let t = (sampleY - previous.y) / (point.y - previous.y)
                    crossings.append(previous.x + t * (point.x - previous.x))
                }
                previous = point
            }
            crossings.sort()
            var index = 0
            while index + 1 < crossings.count {
                // Pixel centres x + 0.5 in [left, right).
                let left = max(Double(area.x), (crossings[index] - 0.5).rounded(.up))
                let right = min(Double(area.maxX), (crossings[index + 1] - 0.5).rounded(.up))
                if left < right {
                    for px in Int(left)..<Int(right) {
                        put(x: px, y: row, color: color, alpha: alpha)
                    }
                }
                index += 2
            }
        }
    }

    // MARK: Images

    /// Draws an 8-bit grayscale image (0 = black, 255 = white), each pixel as a `scale` x `scale` block.
    public func blitGray(pixels gray: [UInt8], width imageWidth: Int, height imageHeight: Int,
                         at origin: (x: Int, y: Int), scale: Int = 1) throws {
        let (expected, overflow) = imageWidth.multipliedReportingOverflow(by: imageHeight)
        guard imageWidth > 0, imageHeight > 0, !overflow, gray.count == expected else {
            throw IMLError("blitGray: a \(imageWidth)x\(imageHeight) image needs width x height pixels, got \(gray.count)")
        }
        guard scale >= 1 else { throw IMLError("blitGray: scale must be at least 1, got \(scale)") }
        record(.image(x: Double(origin.x), y: Double(origin.y), width: imageWidth, height: imageHeight, scale: Double(scale), gray: gray))
        composing += 1; defer { composing -= 1 }
        for row in 0..<imageHeight {
            for column in 0..<imageWidth {
                let value = gray[row * imageWidth + column]
                fillRect(x: origin.x + column * scale, y: origin.y + row * scale, width: scale, height: scale,
                         color: Color(gray: value))
            }
        }
    }

    /// Same as the byte version for intensities in [0, 1] (values outside are clamped, NaN is black).
    public func blitGray(values: [Float], width imageWidth: Int, height imageHeight: Int,
                         at origin: (x: Int, y: Int), scale: Int = 1) throws {
        let bytes = values.map { value -> UInt8 in
            guard !value.isNaN else { return 0 }
            return UInt8((min(max(value, 0), 1) * 255).rounded())
        }
        try blitGray(pixels: bytes, width: imageWidth, height: imageHeight, at: origin, scale: scale)
    }

    // MARK: Text

    /// Width in pixels of `text` drawn at `scale` (no trailing gap after the last glyph).
    public static func textWidth(_ text: String, scale: Int = 2) -> Int {
        let count = text.unicodeScalars.count
        guard count > 0 else { return 0 }
        return (count * BitmapFont.advance - 1) * max(1, scale)
    }

    /// Height of a line of text at `scale`, descenders included.
    public static func textHeight(scale: Int = 2) -> Int {
        BitmapFont.glyphRows * max(1, scale)
    }

    /// Draws `text` with its bounding box's top-left corner at (x, y).
    public func drawText(_ text: String, x: Int, y: Int, scale: Int = 2, color: Color = .ink) {
        let s = max(1, scale)
        record(.text(text, x: Double(x), y: Double(y), size: Double(s), color: color, vertical: false))
        composing += 1; defer { composing -= 1 }
        var penX = x
        for scalar in text.unicodeScalars {
            let glyph = BitmapFont.glyph(for: scalar)
            for (row, bits) in glyph.enumerated() where bits != 0 {
                for column in 0..<BitmapFont.glyphColumns where bits & UInt8(1 << (BitmapFont.glyphColumns - 1 - column)) != 0 {
                    fillRect(x: penX + column * s, y: y + row * s, width: s, height: s, color: color)
                }
            }
            penX += BitmapFont.advance * s
        }
    }

    /// Draws `text` rotated 90° counter-clockwise (reading bottom to top, as y-axis labels do).
    /// The bounding box is `textHeight` wide and `textWidth` tall, its top-left corner at (x, y).
    public func drawTextVertical(_ text: String, x: Int, y: Int, scale: Int = 2, color: Color = .ink) {
        let s = max(1, scale)
        record(.text(text, x: Double(x), y: Double(y), size: Double(s), color: color, vertical: true))
        composing += 1; defer { composing -= 1 }
        let length = Canvas.textWidth(text, scale: s)
        var penX = 0
        for scalar in text.unicodeScalars {
            let glyph = BitmapFont.glyph(for: scalar)
            for (row, bits) in glyph.enumerated() where bits != 0 {
                for column in 0..<BitmapFont.glyphColumns where bits & UInt8(1 << (BitmapFont.glyphColumns - 1 - column)) != 0 {
                    // Horizontal pixel (h, v) of the unrotated text lands at (x + v, y + length - 1 - h).
                    let h = penX + column * s
                    fillRect(x: x + row * s, y: y + length - h - s, width: s, height: s, color: color)
                }
            }
            penX += BitmapFont.advance * s
        }
    }

    // MARK: Output

    public func pngData() throws -> Data {
        try PNG.encode(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// Writes the canvas as an RGB PNG, atomically.
    public func writePNG(to url: URL) throws {
        try PNG.write(width: width, height: height, channels: 3, pixels: pixels, to: url)
    }

    /// Writes the figure twice, atomically: `url` (a PNG) and the same name with .svg, the vector
    /// drawing with real text for papers.
    public func writePNGAndSVG(to url: URL) throws {
        try writePNG(to: url)
        try AtomicFile.write(svg(), to: url.deletingPathExtension().appendingPathExtension("svg"))
    }

    private func record(_ element: SVGElement.Shape) {
        guard composing == 0 else { return }
        vector.append(SVGElement(shape: element, clip: clip))
    }
}
