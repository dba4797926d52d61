import Foundation
import IMLBase
@testable import MNIST
import XCTest

final class IDXReaderTests: XCTestCase {
    var directory: URL!
    let pixels = syntheticPixels(count: 3)
    var imageBytes: [UInt8] { IDX.imageFileBytes(count: 3, rows: 28, cols: 28, pixels: pixels) }
    let labels: [UInt8] = [7, 0, 9]

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    private func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try writeBytes(bytes, to: url)
        return url
    }

    // MARK: Valid files

    func testReadsRawImagesAndLabels() throws {
        let images = try IDX.readImages(at: file("train-images-idx3-ubyte", imageBytes))
        XCTAssertEqual(images.count, 3)
        XCTAssertEqual(images.rows, 28)
        XCTAssertEqual(images.cols, 28)
        XCTAssertEqual(images.pixels, pixels)
        XCTAssertEqual(try IDX.readLabels(at: file("train-labels-idx1-ubyte", IDX.labelFileBytes(labels))), labels)
    }

    func testReadsGzipImagesAndLabels() throws {
        let images = try IDX.readImages(at: file("train-images-idx3-ubyte.gz", Gzip.compress(imageBytes)))
        XCTAssertEqual(images.pixels, pixels)
        XCTAssertEqual(try IDX.readLabels(at: file("train-labels-idx1-ubyte.gz", Gzip.compress(IDX.labelFileBytes(labels)))), labels)
    }

    /// gzip is recognised by its content: a compressed file without ".gz" and a raw file with it both load.
    func testDetectsGzipByContentNotName() throws {
        XCTAssertEqual(try IDX.readLabels(at: file("labels-compressed", Gzip.compress(IDX.labelFileBytes(labels)))), labels)
        XCTAssertEqual(try IDX.readLabels(at: file("labels-raw.gz", IDX.labelFileBytes(labels))), labels)
    }

    /// `cat a.gz b.gz` is a valid gzip file holding a followed by b.
    func testReadsConcatenatedGzipMembers() throws {
        let whole = IDX.labelFileBytes(labels)
        let joined = try Gzip.compress(Array(whole[..<5])) + Gzip.compress(Array(whole[5...]))
        XCTAssertEqual(try IDX.readLabels(at: file("joined.gz", joined)), labels)
    }

    func testGzipRoundTripOfLargeInputSpanningChunks() throws {
        let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 / 1000) }
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(big), name: "big"), big)
    }

    func testAcceptsOtherSizesWhenDimensionCheckDisabled() throws {
        let bytes = IDX.imageFileBytes(count: 2, rows: 3, cols: 5, pixels: Array(0..<30))
        let images = try IDX.readImages(at: file("small", bytes), expectedRows: nil, expectedCols: nil)
        XCTAssertEqual(images.count, 2)
        XCTAssertEqual(images.rows, 3)
        XCTAssertEqual(images.cols, 5)
        XCTAssertEqual(images.pixels, Array(0..<30))
    }

    // MARK: Corrupted files

    func testEmptyFile() throws {
        let url = try file("train-images-idx3-ubyte", [])
        assertIMLError([url.path, "is empty"]) { try IDX.readImages(at: url) }
    }

    func testTruncatedHeader() throws {
        let url = try file("train-images-idx3-ubyte", Array(imageBytes[..<10]))
        assertIMLError([url.path, "truncated at byte 10", "16-byte", "download again"]) { try IDX.readImages(at: url) }
        let labelURL = try file("train-labels-idx1-ubyte", Array(IDX.labelFileBytes(labels)[..<6]))
        assertIMLError([labelURL.path, "truncated at byte 6", "8-byte"]) { try IDX.readLabels(at: labelURL) }
    }

    func testTruncatedData() throws {
        let url = try file("train-images-idx3-ubyte", Array(imageBytes.dropLast(100)))
        let promised = 16 + 3 * 28 * 28
        assertIMLError([url.path, "truncated at byte \(promised - 100)", "the header promises \(promised) bytes", "delete it and download again"]) {
            try IDX.readImages(at: url)
        }
    }

    func testTruncatedDataInsideGzipSaysDecompressed() throws {
        let url = try file("train-labels-idx1-ubyte.gz", Gzip.compress(Array(IDX.labelFileBytes(labels).dropLast())))
        assertIMLError([url.path, "decompressed data truncated at byte 10", "promises 11 bytes"]) { try IDX.readLabels(at: url) }
    }

    func testTrailingBytes() throws {
        let url = try file("train-labels-idx1-ubyte", IDX.labelFileBytes(labels) + [0, 0, 0, 0, 0])
        assertIMLError([url.path, "5 trailing bytes", "promises"]) { try IDX.readLabels(at: url) }
    }

    func testWrongMagic() throws {
        var bytes = imageBytes
        bytes[3] = 0x04
        let url = try file("train-images-idx3-ubyte", bytes)
        assertIMLError([url.path, "bad magic 0x00000804", "expected 0x00000803"]) { try IDX.readImages(at: url) }
    }

    func testSwappedImageAndLabelFilesAreNamed() throws {
        let labelsAsImages = try file("train-images-idx3-ubyte", IDX.labelFileBytes(labels))
        assertIMLError(["this is a label file", "swapped"]) { try IDX.readImages(at: labelsAsImages) }
        let imagesAsLabels = try file("train-labels-idx1-ubyte", imageBytes)
        assertIMLError(["this is an image file", "swapped"]) { try IDX.readLabels(at: imagesAsLabels) }
    }

    func testWrongDimensions() throws {
        let bytes = IDX.imageFileBytes(count: 3, rows: 28, cols: 27, pixels: syntheticPixels(count: 3, cols: 27))
        let url = try file("train-images-idx3-ubyte", bytes)
        assertIMLError([url.path, "28x27", "expected 28x28"]) { try IDX.readImages(at: url) }
    }

    /// Header values near 2^32 must not overflow the size arithmetic (this would trap if unchecked).
    func testHugeHeaderValuesGiveAnErrorNotATrap() throws {
        var bytes: [UInt8] = []
        for value: UInt32 in [IDX.imageMagic, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF] { IDX.appendBigEndian(value, to: &bytes) }
        let url = try file("huge", bytes + [1, 2, 3])
        assertIMLError([url.path, "more bytes than any file can hold"]) {
            try IDX.readImages(at: url, expectedRows: nil, expectedCols: nil)
        }
        var labelBytes: [UInt8] = []
        for value: UInt32 in [IDX.labelMagic, 0xFFFF_FFFF] { IDX.appendBigEndian(value, to: &labelBytes) }
        let labelURL = try file("huge-labels", labelBytes)
        assertIMLError(["truncated at byte 8", "promises \(8 + 0xFFFF_FFFF) bytes"]) { try IDX.readLabels(at: labelURL) }
    }

    func testZeroSizedImages() throws {
        let url = try file("zero", IDX.imageFileBytes(count: 3, rows: 0, cols: 28, pixels: []))
        assertIMLError([url.path, "0x28"]) { try IDX.readImages(at: url, expectedRows: nil, expectedCols: nil) }
    }

    func testLabelOutOfRange() throws {
        let url = try file("train-labels-idx1-ubyte", IDX.labelFileBytes([1, 2, 12, 3]))
        assertIMLError([url.path, "label 12 at index 2 is not a digit 0-9"]) { try IDX.readLabels(at: url) }
    }

    func testGzipGarbage() throws {
        let url = try file("train-images-idx3-ubyte.gz", [0x1f, 0x8b] + Array(repeating: 0x55, count: 64))
        assertIMLError([url.path, "corrupt gzip data"]) { try IDX.readImages(at: url) }
    }

    func testCorruptedGzipPayloadFailsTheCRCOrInflate() throws {
        var compressed = try Gzip.compress(imageBytes)
        compressed[compressed.count / 2] ^= 0xFF
        let url = try file("train-images-idx3-ubyte.gz", compressed)
        assertIMLError([url.path, "corrupt gzip data"]) { try IDX.readImages(at: url) }
    }

    func testTruncatedGzip() throws {
        let compressed = try Gzip.compress(imageBytes)
        let url = try file("train-images-idx3-ubyte.gz", Array(compressed.dropLast(20)))
        assertIMLError([url.path, "gzip stream is truncated", "download again"]) { try IDX.readImages(at: url) }
    }

    func testGarbageAfterGzipData() throws {
        let url = try file("labels.gz", try Gzip.compress(IDX.labelFileBytes(labels)) + [1, 2, 3])
        assertIMLError([url.path, "3 bytes of garbage after the end of the gzip data"]) { try IDX.readLabels(at: url) }
    }

    func testNotGzipDespiteName() throws {
        let url = try file("train-images-idx3-ubyte.gz", Array("<html>Not Found</html>".utf8))
        assertIMLError([url.path, "not a gzip stream", "bad magic"]) { try IDX.readImages(at: url) }
    }

    func testDirectoryInsteadOfFile() throws {
        let url = directory.appendingPathComponent("train-images-idx3-ubyte")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        assertIMLError([url.path, "is a directory, expected a file"]) { try IDX.readImages(at: url) }
    }

    func testMissingFile() throws {
        let url = directory.appendingPathComponent("nothing-here")
        assertIMLError([url.path, "does not exist"]) { try IDX.readLabels(at: url) }
    }

    func testUnreadableFile() throws {
        if geteuid() == 0 {
            throw XCTSkip("running as root, where chmod 000 does not prevent reading")
        }
        let url = try file("train-labels-idx1-ubyte", IDX.labelFileBytes(labels))
        XCTAssertEqual(chmod(url.path, 0), 0)
        defer { chmod(url.path, 0o644) }
        assertIMLError([url.path, "cannot be read (permission denied)"]) { try IDX.readLabels(at: url) }
    }

    /// Every prefix and a sample of single-byte corruptions of a valid gzip file give an error or
    /// the right content, never a trap.
    func testArbitraryDamageNeverTraps() throws {
        let good = try Gzip.compress(IDX.labelFileBytes(labels))
        for length in 0..<good.count {
            XCTAssertThrowsError(try IDX.parseLabels(Gzip.decompress(Array(good[..<length]), name: "prefix"), name: "prefix"))
        }
        for position in 0..<good.count {
            var damaged = good
            damaged[position] ^= 0x5A
            if let bytes = try? Gzip.decompress(damaged, name: "damaged") {
                _ = try? IDX.parseLabels(bytes, name: "damaged")
            }
        }
        let raw = imageBytes
        for length in stride(from: 0, to: 40, by: 1) {
            XCTAssertThrowsError(try IDX.parseImages(Array(raw[..<length]), name: "prefix"))
        }
    }
}
