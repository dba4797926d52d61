import CPNG
import Foundation
import IMLBase
@testable import IMLReport
import XCTest

final class PNGTests: XCTestCase {
    private func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("iml-report-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            .appendingPathComponent(name)
    }

    private func gradient(width: Int, height: Int, channels: Int) -> [UInt8] {
        (0..<(width * height * channels)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) }
    }

    func testGrayRoundTripThroughFileKeepsEveryPixel() throws {
        let pixels = gradient(width: 13, height: 7, channels: 1)
        let url = temporaryURL("gray.png")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try PNG.write(width: 13, height: 7, channels: 1, pixels: pixels, to: url)
        let image = try PNG.read(url)
        XCTAssertEqual(image.width, 13)
        XCTAssertEqual(image.height, 7)
        XCTAssertEqual(image.channels, 1)
        XCTAssertEqual(image.pixels, pixels)
    }

    func testRGBRoundTripKeepsEveryPixel() throws {
        let pixels = gradient(width: 5, height: 11, channels: 3)
        let data = try PNG.encode(width: 5, height: 11, channels: 3, pixels: pixels)
        XCTAssertEqual(Array(data.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "PNG signature")
        let image = try PNG.decode(data)
        XCTAssertEqual(image.channels, 3)
        XCTAssertEqual(image.width, 5)
        XCTAssertEqual(image.height, 11)
        XCTAssertEqual(image.pixels, pixels)
    }

    func testDecodesRGBAWrittenByLibpngDirectly() throws {
        // An RGBA file this module never writes itself, produced with libpng to test the reader alone.
        let rgba: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 20, 30, 40]
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = 2
        image.height = 2
        image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        var size: png_alloc_size_t = 0
        XCTAssertNotEqual(rgba.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 8, nil) }, 0)
        var data = Data(count: Int(size))
        let ok = data.withUnsafeMutableBytes { out in
            rgba.withUnsafeBytes { png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, 8, nil) }
        }
        XCTAssertNotEqual(ok, 0)
        data.count = Int(size)

        let decoded = try PNG.decode(data)
        XCTAssertEqual(decoded.channels, 4)
        XCTAssertEqual(decoded.pixels, rgba)
    }

    func testGarbageAndTruncatedDataThrowInsteadOfCrashing() throws {
        XCTAssertThrowsError(try PNG.decode(Data()))
        XCTAssertThrowsError(try PNG.decode(Data("definitely not a png".utf8)))
        let valid = try PNG.encode(width: 8, height: 8, channels: 1, pixels: gradient(width: 8, height: 8, channels: 1))
        XCTAssertThrowsError(try PNG.decode(valid.prefix(valid.count / 2)), "truncated stream") { error in
            XCTAssertTrue((error as? IMLError)?.message.contains("PNG decode") ?? false, "\(error)")
        }
        var corrupted = valid
        corrupted[corrupted.count - 20] ^= 0xFF
        XCTAssertThrowsError(try PNG.decode(corrupted), "corrupted checksum")
    }

    func testEncodeRejectsBadArguments() {
        XCTAssertThrowsError(try PNG.encode(width: 2, height: 2, channels: 2, pixels: [UInt8](repeating: 0, count: 8)))
        XCTAssertThrowsError(try PNG.encode(width: 2, height: 2, channels: 3, pixels: [UInt8](repeating: 0, count: 11)))
        XCTAssertThrowsError(try PNG.encode(width: 0, height: 2, channels: 1, pixels: []))
        XCTAssertThrowsError(try PNG.read(temporaryURL("missing.png")))
    }
}
