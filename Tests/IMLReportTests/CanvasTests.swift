import Foundation
import IMLBase
@testable import IMLReport
import XCTest

final class CanvasTests: XCTestCase {
    /// Coordinates of every pixel that is not the background.
    private func inkedPixels(_ canvas: Canvas, background: Color = .white) -> Set<[Int]> {
        var inked = Set<[Int]>()
        for y in 0..<canvas.height {
            for x in 0..<canvas.width where canvas.pixel(x: x, y: y) != background {
                inked.insert([x, y])
            }
        }
        return inked
    }

    func testFilledRectCoversExactlyItsPixels() throws {
        let canvas = try Canvas(width: 10, height: 8)
        canvas.fillRect(x: 2, y: 3, width: 4, height: 2, color: .red)
        var expected = Set<[Int]>()
        for y in 3..<5 { for x in 2..<6 { expected.insert([x, y]) } }
        XCTAssertEqual(inkedPixels(canvas), expected)
        XCTAssertEqual(canvas.pixel(x: 2, y: 3), .red)
    }

    func testDrawingOffCanvasIsClippedNotFatal() throws {
        let canvas = try Canvas(width: 6, height: 6)
        canvas.fillRect(x: -3, y: -3, width: 5, height: 5, color: .blue)
        XCTAssertEqual(inkedPixels(canvas).count, 4, "only the 2x2 corner lies on the canvas")
        canvas.drawLine(x0: -1_000_000_000, y0: 3, x1: 1_000_000_000, y1: 3, color: .red)
        XCTAssertEqual((0..<6).filter { canvas.pixel(x: $0, y: 3) == .red }.count, 6)
        canvas.setPixel(x: 99, y: 99, color: .red)
        XCTAssertNil(canvas.pixel(x: 99, y: 99))
    }

    func testClipRectConfinesDrawing() throws {
        let canvas = try Canvas(width: 10, height: 10)
        canvas.clip = PixelRect(x: 2, y: 2, width: 3, height: 3)
        canvas.fillRect(x: 0, y: 0, width: 10, height: 10, color: .green)
        canvas.clip = nil
        XCTAssertEqual(inkedPixels(canvas).count, 9)
        XCTAssertEqual(canvas.pixel(x: 1, y: 1), .white)
        XCTAssertEqual(canvas.pixel(x: 4, y: 4), .green)
    }

    func testHorizontalLineCoversItsRowOnly() throws {
        let canvas = try Canvas(width: 12, height: 5)
        canvas.drawLine(x0: 1, y0: 2, x1: 9, y1: 2, color: .black)
        XCTAssertEqual(inkedPixels(canvas), Set((1...9).map { [$0, 2] }))
    }

    func testThickLineWidensAcrossItsDirection() throws {
        let canvas = try Canvas(width: 12, height: 7)
        canvas.drawLine(x0: 2, y0: 3, x1: 8, y1: 3, color: .black, thickness: 3)
        let rows = Set(inkedPixels(canvas).map { $0[1] })
        XCTAssertEqual(rows, [2, 3, 4])
        XCTAssertEqual(inkedPixels(canvas).count, 3 * 9, "a 3x3 brush along 7 pixels spans 9 columns")
    }

    func testDiagonalLineHasOnePixelPerStep() throws {
        let canvas = try Canvas(width: 8, height: 8)
        canvas.drawLine(x0: 0, y0: 0, x1: 7, y1: 7, color: .black)
        XCTAssertEqual(inkedPixels(canvas), Set((0...7).map { [$0, $0] }))
    }

    func testDashedLineLeavesGaps() throws {
        let canvas = try Canvas(width: 40, height: 3)
        canvas.drawLine(x0: 0, y0: 1, x1: 39, y1: 1, color: .black, dash: DashPattern(on: 5, off: 5))
        let inked = inkedPixels(canvas)
        XCTAssertEqual(inked.count, 20)
        XCTAssertTrue(inked.contains([0, 1]))
        XCTAssertFalse(inked.contains([5, 1]))
        XCTAssertTrue(inked.contains([10, 1]))
    }

    func testFilledTriangleMatchesItsAreaWithinTheEdge() throws {
        let canvas = try Canvas(width: 60, height: 60)
        let triangle: [(x: Double, y: Double)] = [(5, 5), (55, 10), (20, 50)]
        canvas.fillPolygon(triangle, color: .blue)
        // Shoelace area; pixels along the edges may go either way, about one per unit of perimeter.
        let area: Double = abs(50.0 * 45.0 - 15.0 * 5.0) / 2
        let sides: [Double] = [hypot(50.0, 5.0), hypot(35.0, 40.0), hypot(15.0, 45.0)]
        let perimeter = sides.reduce(0, +)
        let count = Double(inkedPixels(canvas).count)
        XCTAssertEqual(count, area, accuracy: perimeter / 2)
        XCTAssertEqual(canvas.pixel(x: 25, y: 20), .blue, "centroid-ish point is inside")
        XCTAssertEqual(canvas.pixel(x: 50, y: 50), .white, "outside corner stays empty")
    }

    func testPolygonEvenOddRuleLeavesHoleOfNestedSquare() throws {
        let canvas = try Canvas(width: 20, height: 20)
        // One path around the outer square, then around the inner one: the inner region is crossed twice.
        let path: [(x: Double, y: Double)] = [(0, 0), (20, 0), (20, 20), (0, 20), (0, 0),
                                              (5, 5), (15, 5), (15, 15), (5, 15), (5, 5)]
        canvas.fillPolygon(path, color: .black)
        XCTAssertEqual(canvas.pixel(x: 10, y: 10), .white)
        XCTAssertEqual(canvas.pixel(x: 2, y: 10), .black)
        XCTAssertEqual(inkedPixels(canvas).count, 400 - 100)
    }

    func testPolygonWithNaNVertexDrawsNothing() throws {
        let canvas = try Canvas(width: 10, height: 10)
        canvas.fillPolygon([(0, 0), (.nan, 5), (5, 9)], color: .black)
        XCTAssertTrue(inkedPixels(canvas).isEmpty)
    }

    func testTranslucentFillBlendsWithWhatIsBelow() throws {
        let canvas = try Canvas(width: 4, height: 4, background: .white)
        canvas.fillRect(x: 0, y: 0, width: 4, height: 4, color: .black, alpha: 0.25)
        let gray = try XCTUnwrap(canvas.pixel(x: 1, y: 1))
        XCTAssertEqual(Int(gray.r), 191, accuracy: 1)
        // Drawn twice, translucent paint darkens further: blending really reads the pixel below.
        canvas.fillRect(x: 0, y: 0, width: 2, height: 2, color: .black, alpha: 0.25)
        XCTAssertLessThan(try XCTUnwrap(canvas.pixel(x: 0, y: 0)).r, gray.r)
    }

    func testTranslucentThickLineBlendsEachPixelOnce() throws {
        let canvas = try Canvas(width: 20, height: 9)
        canvas.drawLine(x0: 2, y0: 4, x1: 17, y1: 4, color: .black, thickness: 3, alpha: 0.5)
        let shades = Set(inkedPixels(canvas).map { canvas.pixel(x: $0[0], y: $0[1])! })
        XCTAssertEqual(shades.count, 1, "overlapping brush stamps must not darken some pixels more")
    }

    func testBlitGrayUpscalesByNearestNeighbour() throws {
        let canvas = try Canvas(width: 8, height: 8, background: .red)
        try canvas.blitGray(pixels: [0, 255, 128, 64], width: 2, height: 2, at: (x: 1, y: 2), scale: 3)
        XCTAssertEqual(canvas.pixel(x: 1, y: 2), Color(gray: 0))
        XCTAssertEqual(canvas.pixel(x: 3, y: 4), Color(gray: 0))
        XCTAssertEqual(canvas.pixel(x: 4, y: 2), Color(gray: 255))
        XCTAssertEqual(canvas.pixel(x: 6, y: 7), Color(gray: 64))
        XCTAssertEqual(canvas.pixel(x: 7, y: 7), .red, "right of the 6-pixel-wide image")
        XCTAssertEqual(canvas.countPixels(notEqualTo: .red), 36)
        XCTAssertThrowsError(try canvas.blitGray(pixels: [1, 2, 3], width: 2, height: 2, at: (x: 0, y: 0)))
        XCTAssertThrowsError(try canvas.blitGray(pixels: [1], width: 1, height: 1, at: (x: 0, y: 0), scale: 0))
    }

    func testBlitGrayFromUnitFloats() throws {
        let canvas = try Canvas(width: 3, height: 1, background: .red)
        try canvas.blitGray(values: [0, 1, 2.5], width: 3, height: 1, at: (x: 0, y: 0))
        XCTAssertEqual(canvas.pixel(x: 0, y: 0), Color(gray: 0))
        XCTAssertEqual(canvas.pixel(x: 1, y: 0), Color(gray: 255))
        XCTAssertEqual(canvas.pixel(x: 2, y: 0), Color(gray: 255), "values above 1 clamp")
    }

    func testTextInksOnlyInsideItsBox() throws {
        let text = "Epoch 30: qd1consis (y) +/- 0.95"
        let scale = 2
        let width = Canvas.textWidth(text, scale: scale), height = Canvas.textHeight(scale: scale)
        let canvas = try Canvas(width: width + 20, height: height + 20)
        canvas.drawText(text, x: 10, y: 10, scale: scale, color: .black)
        let box = PixelRect(x: 10, y: 10, width: width, height: height)
        let inked = inkedPixels(canvas)
        XCTAssertGreaterThan(inked.count, 100)
        XCTAssertTrue(inked.allSatisfy { box.contains(x: $0[0], y: $0[1]) })
        XCTAssertTrue(inked.contains { $0[0] == box.maxX - 1 }, "the last glyph reaches the box's right edge")
        XCTAssertTrue(inked.contains { $0[1] >= box.y + 7 * scale }, "descenders of y use the rows below the baseline")
    }

    func testEveryPrintableASCIICharacterHasItsOwnGlyph() throws {
        var seen = Set<[UInt8]>()
        for code in 33...126 {
            let glyph = BitmapFont.glyph(for: Unicode.Scalar(UInt8(code)))
            XCTAssertTrue(glyph.contains { $0 != 0 }, "glyph for \(Unicode.Scalar(UInt8(code))) is blank")
            XCTAssertTrue(seen.insert(glyph).inserted, "glyph for \(Unicode.Scalar(UInt8(code))) duplicates another")
        }
        XCTAssertTrue(BitmapFont.glyph(for: " ").allSatisfy { $0 == 0 })
    }

    func testVerticalTextIsTheHorizontalTextRotated() throws {
        let text = "EM(y)"
        let width = Canvas.textWidth(text), height = Canvas.textHeight()
        let horizontal = try Canvas(width: width, height: height)
        horizontal.drawText(text, x: 0, y: 0, color: .black)
        let vertical = try Canvas(width: height, height: width)
        vertical.drawTextVertical(text, x: 0, y: 0, color: .black)
        for y in 0..<height {
            for x in 0..<width {
                // Counter-clockwise: (x, y) goes to (y, width - 1 - x).
                XCTAssertEqual(horizontal.pixel(x: x, y: y), vertical.pixel(x: y, y: width - 1 - x), "at \(x),\(y)")
            }
        }
    }

    func testInvalidCanvasSizeThrows() {
        XCTAssertThrowsError(try Canvas(width: 0, height: 10))
        XCTAssertThrowsError(try Canvas(width: 10, height: -1))
        XCTAssertThrowsError(try Canvas(width: 1_000_000, height: 10))
    }

    func testCanvasWritesAReadablePNG() throws {
        let canvas = try Canvas(width: 7, height: 5, background: Color(hex: 0x336699))
        canvas.setPixel(x: 6, y: 4, color: .red)
        let image = try PNG.decode(try canvas.pngData())
        XCTAssertEqual(image.channels, 3)
        XCTAssertEqual(image.pixels, canvas.pixels)
    }
}
