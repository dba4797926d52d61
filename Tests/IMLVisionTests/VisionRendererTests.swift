import XCTest
import IMLBase
import IMLProtocol
import MNIST
@testable import IMLVision

/// Synthetic MNIST: every pixel of image i stores its label (low 4 bits) and its split (bit 7
/// set = test split), so a rendered cell tells which class and which split drew it.
func syntheticMNIST(perDigit: Int = 5) throws -> MNISTData {
    func split(test: Bool) throws -> MNISTSplit {
        var images: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<(10 * perDigit) {
            let label = UInt8(i % 10)
            labels.append(label)
            // vary the drawing within a class so that two drawings can be told apart
            let variant = UInt8((i / 10) & 0x7) << 4
            images += [UInt8](repeating: (test ? 0x80 : 0) | variant | label, count: 28 * 28)
        }
        return try MNISTSplit(count: labels.count, rows: 28, cols: 28, images: images, labels: labels)
    }
    return MNISTData(train: try split(test: false), test: try split(test: true), directory: URL(fileURLWithPath: "/synthetic"))
}

final class VisionRendererTests: XCTestCase {
    func makeRenderer(_ handwriting: Handwriting, seed: UInt64 = 1) throws -> VisionRenderer {
        var vision = VisionConfig()
        vision.handwriting = handwriting
        var config = ProtocolConfig()
        config.entities = 60
        config.seed = seed
        let instance = try ProtocolInstance(config: config, variableSpec: vision.variableSpec, tagSpec: vision.tagSpec,
                                            forbiddenTags: [vision.blankTag])
        return try VisionRenderer(instance: instance, data: try syntheticMNIST(), config: vision)
    }

    func strip(_ image: [UInt8], _ c: VisionConfig) -> [UInt8] { Array(image[0..<(c.stripRows * c.width)]) }
    func variableRegion(_ image: [UInt8], _ c: VisionConfig) -> [UInt8] { Array(image[(c.stripRows * c.width)...]) }
    /// Pixel value at the centre of grid cell `cell`.
    func cellValue(_ image: [UInt8], _ c: VisionConfig, _ cell: Int) -> UInt8 {
        image[(c.stripRows + (cell / c.grid) * 28 + 14) * c.width + (cell % c.grid) * 28 + 14]
    }

    func testGeometryAndStrips() throws {
        let r = try makeRenderer(.fixed)
        let c = r.config
        XCTAssertEqual([c.height, c.width], [60, 56])
        for ex in r.instance.stage1Train.prefix(200) + r.instance.stage2Train {
            let image = r.render(ex)
            XCTAssertEqual(image.count, 60 * 56)
            let s = strip(image, c)
            if let tag = ex.tag {
                // strip = the tag's bits, each a 4x4 white block
                let bits = r.instance.tag(tag)
                for row in 0..<4 { for x in 0..<56 { XCTAssertEqual(s[row * 56 + x], bits[x / 4] == 1 ? 255 : 0) } }
            } else {
                XCTAssertTrue(s.allSatisfy { $0 == 0 }, "a question's strip must be blank")
            }
        }
        XCTAssertTrue(strip(r.renderQuestion(entity: 0), c).allSatisfy { $0 == 0 })
    }

    func testCellsDrawTheVariablesClassesAndFixedHandwritingIsReused() throws {
        let r = try makeRenderer(.fixed)
        let c = r.config
        var regionOf: [Int: [UInt8]] = [:]
        for ex in r.instance.stage1Train + r.instance.stage2Train {
            let image = r.render(ex)
            let variable = r.instance.entities[ex.entity].variable
            for cell in 0..<4 {
                let v = cellValue(image, c, cell)
                XCTAssertEqual(Int(v & 0x0F), variable[cell], "cell \(cell) draws the wrong digit")
                XCTAssertEqual(v & 0x80, 0, "training examples draw from the training split")
            }
            let region = variableRegion(image, c)
            if let previous = regionOf[ex.entity] { XCTAssertEqual(previous, region, "fixed handwriting changed") }
            regionOf[ex.entity] = region
        }
        // evaluation questions reuse the same drawing in fixed mode
        for (entity, region) in regionOf { XCTAssertEqual(variableRegion(r.renderQuestion(entity: entity), c), region) }
    }

    func testFreshHandwritingDrawsAnewAndEvaluatesOnTheTestSplit() throws {
        let r = try makeRenderer(.fresh)
        let c = r.config
        let entity = r.instance.stage1Train[0].entity
        var regions = Set<[UInt8]>()
        for _ in 0..<8 {
            let image = r.renderQuestion(entity: entity, evaluation: false)
            for cell in 0..<4 { XCTAssertEqual(cellValue(image, c, cell) & 0x80, 0) }
            regions.insert(variableRegion(image, c))
        }
        XCTAssertGreaterThan(regions.count, 1, "fresh handwriting must vary")
        let test = r.renderQuestion(entity: entity, evaluation: true)
        for cell in 0..<4 {
            XCTAssertEqual(cellValue(test, c, cell) & 0x80, 0x80, "evaluation must draw from the test split")
            XCTAssertEqual(Int(cellValue(test, c, cell) & 0x0F), r.instance.entities[entity].variable[cell])
        }
    }

    func testSameSeedSameImages() throws {
        let a = try makeRenderer(.fixed, seed: 4), b = try makeRenderer(.fixed, seed: 4)
        for ex in a.instance.stage1Train.prefix(50) { XCTAssertEqual(a.render(ex), b.render(ex)) }
    }

    func testStandardizationOfBlackAndWhite() {
        XCTAssertEqual(VisionRenderer.standardized[0], -0.1307 / 0.3081, accuracy: 1e-6)
        XCTAssertEqual(VisionRenderer.standardized[255], (1 - 0.1307) / 0.3081, accuracy: 1e-6)
    }
}
