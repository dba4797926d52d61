import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import IMLReport
import XCTest

/// The SVG beside every PNG figure: each drawing call is one vector element at the same
/// coordinates, clipped where the canvas clips, text as real (escaped) text, and the document is
/// well-formed XML.
final class SVGTests: XCTestCase {
    final class Elements: NSObject, XMLParserDelegate {
        var names: [String] = [], texts: [String] = [], attributes: [[String: String]] = []
        var current = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            names.append(name); self.attributes.append(attributes); current = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { texts.append(current) }
        }
    }

    func parse(_ svg: String) throws -> Elements {
        let parser = XMLParser(data: Data(svg.utf8))
        let elements = Elements()
        parser.delegate = elements
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        return elements
    }

    func testEveryDrawingCallIsOneElementAtItsCoordinates() throws {
        let canvas = try Canvas(width: 120, height: 80)
        canvas.fillRect(x: 1, y: 2, width: 30, height: 10, color: .ink, alpha: 0.5)
        canvas.drawRect(x: 10, y: 10, width: 20, height: 20, color: .ink, thickness: 2)
        canvas.drawLine(x0: 0, y0: 0, x1: 100, y1: 50, color: .ink, thickness: 2, dash: .dashed)
        canvas.fillCircle(centerX: 50, centerY: 40, radius: 3, color: .ink)
        canvas.fillPolygon([(10, 10), (40, 10), (25, 30)], color: .ink, alpha: 0.25)
        canvas.drawText("a < b & \"c\"", x: 5, y: 60, scale: 2)
        canvas.drawTextVertical("EM", x: 100, y: 10, scale: 1)
        try canvas.blitGray(pixels: [0, 255, 128, 64], width: 2, height: 2, at: (x: 60, y: 60), scale: 3)
        let elements = try parse(try canvas.svg())
        // The background, then one element per call: the text's and image's own rectangles are not drawn twice.
        XCTAssertEqual(elements.names, ["svg", "rect", "rect", "rect", "line", "circle", "polygon", "text", "text", "image"])
        XCTAssertEqual(elements.attributes[2]["x"], "1")
        XCTAssertEqual(elements.attributes[2]["fill-opacity"], "0.5")
        XCTAssertEqual(elements.attributes[3]["stroke-width"], "2")
        XCTAssertEqual(elements.attributes[4]["stroke-dasharray"], "10 6")
        XCTAssertEqual(elements.attributes[4]["x2"], "100.5")
        XCTAssertEqual(elements.texts, ["a < b & \"c\"", "EM"], "text is real text, escaped and read back")
        XCTAssertEqual(elements.attributes[7]["textLength"], "\(Canvas.textWidth("a < b & \"c\"", scale: 2))",
                       "stretched to the bitmap text's width, so the layout holds")
        XCTAssertEqual(elements.attributes[8]["transform"], "rotate(-90 107 15.5)")
        XCTAssertTrue(elements.attributes[9]["href"]?.hasPrefix("data:image/png;base64,") == true)
        XCTAssertEqual(elements.attributes[9]["width"], "6")
    }

    func testClippedDrawingIsClippedInTheSVG() throws {
        let canvas = try Canvas(width: 50, height: 50)
        canvas.clip = PixelRect(x: 10, y: 10, width: 20, height: 20)
        canvas.drawLine(x0: 0, y0: 0, x1: 49, y1: 49, color: .ink)
        canvas.drawText("x", x: 12, y: 12)
        canvas.clip = nil
        canvas.drawLine(x0: 0, y0: 49, x1: 49, y1: 0, color: .ink)
        let svg = try canvas.svg()
        XCTAssertTrue(svg.contains("<clipPath id=\"clip0\"><rect x=\"10\" y=\"10\" width=\"20\" height=\"20\"/></clipPath>"), svg)
        let elements = try parse(svg)
        let lines = elements.names.indices.filter { elements.names[$0] == "line" }.map { elements.attributes[$0] }
        XCTAssertEqual(lines.map { $0["clip-path"] }, ["url(#clip0)", nil])
        XCTAssertEqual(elements.attributes[elements.names.firstIndex(of: "text")!]["clip-path"], "url(#clip0)")
    }

    func testAFigureIsWrittenAsPNGAndSVGWithItsTitleAsText() throws {
        let panel = PlotPanel(title: "panel", xLabel: "epoch", yLabel: "exact match", series: [
            PlotSeries(name: "qd1consis", color: .ink, x: [0, 1, 2], y: [0.1, 0.5, 0.9])])
        let canvas = try Figure.render(title: "The title", subtitle: "a subtitle", panels: [panel])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("svg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try canvas.writePNGAndSVG(to: directory.appendingPathComponent("figure.png"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("figure.png").path))
        let svg = try String(contentsOf: directory.appendingPathComponent("figure.svg"), encoding: .utf8)
        let elements = try parse(svg)
        XCTAssertTrue(elements.texts.contains("The title") && elements.texts.contains("a subtitle") && elements.texts.contains("epoch"),
                      "\(elements.texts)")
    }
}
