import Foundation
import IMLBase
@testable import IMLReport
import XCTest

// Expected bytes were produced by TensorBoard's own protobuf classes and masked_crc32c
// (tensorboard 2.21.0, tensorboard.compat.proto.event_pb2), so they check us against the reference.
final class TensorBoardTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("iml-tensorboard-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The file_version record always takes 40 bytes: 12 header, 24 data (wall_time + version), 4 footer.
    private let fileVersionRecordSize = 40

    private func bytes(of url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    private func assertDamaged(_ url: URL, atByte offset: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TensorBoardEventWriter.readScalars(file: url), file: file, line: line) { error in
            guard let error = error as? IMLError else {
                return XCTFail("expected an IMLError, got \(error)", file: file, line: line)
            }
            XCTAssertTrue(error.message.contains(url.path), error.message, file: file, line: line)
            XCTAssertTrue(error.message.contains("at byte \(offset):"), error.message, file: file, line: line)
        }
    }

    // MARK: CRC32C

    func testCRC32COfTheStandardCheckVector() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
    }

    func testCRC32COfThirtyTwoZeroBytes() {
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
    }

    func testCRC32COfNothingIsZero() {
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    }

    func testMaskedCRCMatchesTensorFlowsMask() {
        XCTAssertEqual(CRC32C.maskedChecksum(Array("123456789".utf8)), 0xC78A_B0E5)
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
    }

    // MARK: Exact bytes

    func testFileVersionRecordHasTensorFlowsBytes() {
        var event = ProtobufEncoder()
        event.appendDoubleField(1, 1.0)
        event.appendStringField(3, "brain.Event:2")
        XCTAssertEqual(TFRecord.frame(event.bytes), [
            0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xA3, 0x7F, 0x4B, 0x22,
            0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F,
            0x1A, 0x0D, 0x62, 0x72, 0x61, 0x69, 0x6E, 0x2E, 0x45, 0x76, 0x65, 0x6E, 0x74, 0x3A, 0x32,
            0x86, 0xBF, 0x57, 0x7A,
        ])
    }

    func testScalarRecordHasTensorFlowsBytes() throws {
        let writer = try TensorBoardEventWriter(directory: directory)
        writer.addScalar("loss", 0.25, step: 3, wallTime: 1_700_000_000.5)
        try writer.close()
        let written = try bytes(of: writer.fileURL)
        XCTAssertEqual(Array(written.dropFirst(fileVersionRecordSize)), [
            0x1A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x9B, 0xD8, 0x2D,
            0x09, 0x00, 0x00, 0x20, 0x40, 0xFC, 0x54, 0xD9, 0x41,  // wall_time
            0x10, 0x03,  // step
            0x2A, 0x0D, 0x0A, 0x0B, 0x0A, 0x04, 0x6C, 0x6F, 0x73, 0x73, 0x15, 0x00, 0x00, 0x80, 0x3E,  // summary
            0xBC, 0xF2, 0x9B, 0x54,
        ])
    }

    func testTextRecordHasTensorFlowsBytes() throws {
        let writer = try TensorBoardEventWriter(directory: directory)
        writer.addText("settings", "hi", wallTime: 2.0)
        try writer.close()
        let written = try bytes(of: writer.fileURL)
        XCTAssertEqual(Array(written.dropFirst(fileVersionRecordSize)), [
            0x2B, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x86, 0x1B, 0xC3, 0x4B,
            0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
            0x2A, 0x20, 0x0A, 0x1E, 0x0A, 0x08, 0x73, 0x65, 0x74, 0x74, 0x69, 0x6E, 0x67, 0x73,
            0x42, 0x08, 0x08, 0x07, 0x12, 0x00, 0x42, 0x02, 0x68, 0x69,  // tensor: DT_STRING, scalar shape, "hi"
            0x4A, 0x08, 0x0A, 0x06, 0x0A, 0x04, 0x74, 0x65, 0x78, 0x74,  // metadata: plugin "text"
            0xE9, 0xAE, 0x6A, 0x47,
        ])
    }

    func testNegativeStepIsATenByteVarintAndZeroValueIsKept() {
        var event = ProtobufEncoder()
        event.appendDoubleField(1, 2.0)
        event.appendInt64Field(2, -1)
        event.appendMessageField(5) { summary in
            summary.appendMessageField(1) { value in
                value.appendStringField(1, "z")
                value.appendFloatField(2, 0)
            }
        }
        XCTAssertEqual(event.bytes, [
            0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
            0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
            0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x7A, 0x15, 0x00, 0x00, 0x00, 0x00,
        ])
    }

    // MARK: Round trip

    func testFileNameFollowsTensorFlowsPattern() throws {
        let writer = try TensorBoardEventWriter(directory: directory.appendingPathComponent("seed-1"), fileSuffix: ".v2")
        try writer.close()
        let name = writer.fileURL.lastPathComponent
        XCTAssertNotNil(name.range(of: #"^events\.out\.tfevents\.\d{10}\..+\.v2$"#, options: .regularExpression), name)
        XCTAssertEqual(writer.fileURL.deletingLastPathComponent().lastPathComponent, "seed-1")
    }

    func testScalarsAndTextRoundTripAtSeveralSteps() throws {
        let writer = try TensorBoardEventWriter(directory: directory)
        writer.addText("settings", "{\"seed\": 1, \"title\": \"Grüße ✓\"}")
        var expected: [(tag: String, step: Int, value: Double)] = []
        for epoch in 1...5 {
            let loss = 2.0 / Double(epoch)
            writer.addScalar("stage1/train_loss", loss, step: epoch)
            expected.append(("stage1/train_loss", epoch, loss))
            let scalars = [("stage1/em/train", 0.1 * Double(epoch)), ("stage1/em/test", 0.0)]
            writer.addScalars(scalars.map { (tag: $0.0, value: $0.1) }, step: epoch)
            expected += scalars.map { ($0.0, epoch, $0.1) }
        }
        writer.addScalar("stage2/em/test", 1e-3, step: 0)
        writer.addScalar("stage2/em/test", -7.5, step: 1 << 40)
        expected += [("stage2/em/test", 0, 1e-3), ("stage2/em/test", 1 << 40, -7.5)]
        try writer.close()

        let scalars = try TensorBoardEventWriter.readScalars(file: writer.fileURL)
        XCTAssertEqual(scalars.count, expected.count)
        for (read, wanted) in zip(scalars, expected) {
            XCTAssertEqual(read.tag, wanted.tag)
            XCTAssertEqual(read.step, wanted.step)
            XCTAssertEqual(read.value, Double(Float(wanted.value)), "\(wanted.tag) at \(wanted.step) is stored as float32")
        }

        let entries = try TensorBoardEventWriter.readSummaryValues(file: writer.fileURL)
        XCTAssertEqual(entries.first?.tag, "settings")
        XCTAssertEqual(entries.first?.step, 0)
        XCTAssertEqual(entries.first?.content, .text("{\"seed\": 1, \"title\": \"Grüße ✓\"}"))
    }

    func testFlushMakesEventsVisibleBeforeClose() throws {
        let writer = try TensorBoardEventWriter(directory: directory)
        XCTAssertEqual(try bytes(of: writer.fileURL).count, fileVersionRecordSize, "the file is valid from the start")
        writer.addScalar("a", 1, step: 1)
        XCTAssertTrue(try TensorBoardEventWriter.readScalars(file: writer.fileURL).isEmpty, "nothing before flush")
        try writer.flush()
        XCTAssertEqual(try TensorBoardEventWriter.readScalars(file: writer.fileURL).map(\.step), [1])
        writer.addScalar("a", 2, step: 2)
        try writer.flush()
        XCTAssertEqual(try TensorBoardEventWriter.readScalars(file: writer.fileURL).map(\.step), [1, 2])
        try writer.close()
        try writer.close()
    }

    func testEventsAddedAfterCloseAreReportedNotLost() throws {
        let writer = try TensorBoardEventWriter(directory: directory)
        try writer.close()
        writer.addScalar("late", 1, step: 1)
        XCTAssertThrowsError(try writer.flush()) { error in
            XCTAssertTrue((error as? IMLError)?.message.contains(writer.fileURL.path) ?? false, "\(error)")
        }
    }

    func testUnwritableDirectoryIsAnIMLErrorNamingThePath() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let blocker = directory.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: blocker)
        XCTAssertThrowsError(try TensorBoardEventWriter(directory: blocker.appendingPathComponent("run"))) { error in
            XCTAssertTrue((error as? IMLError)?.message.contains(blocker.path) ?? false, "\(error)")
        }
    }

    // MARK: Damaged files

    private func writeThreeRecordFile() throws -> (url: URL, bytes: [UInt8]) {
        let writer = try TensorBoardEventWriter(directory: directory)
        writer.addScalar("loss", 0.5, step: 1, wallTime: 1)
        writer.addScalar("loss", 0.25, step: 2, wallTime: 2)
        try writer.close()
        return (writer.fileURL, try bytes(of: writer.fileURL))
    }

    func testTruncatedFileNamesTheOffsetOfTheCutRecord() throws {
        let (url, original) = try writeThreeRecordFile()
        let recordSize = (original.count - fileVersionRecordSize) / 2
        let secondRecord = fileVersionRecordSize + recordSize

        try Data(original.dropLast(1)).write(to: url)
        assertDamaged(url, atByte: secondRecord)
        try Data(original.prefix(secondRecord + 5)).write(to: url)
        assertDamaged(url, atByte: secondRecord)

        // Every cut: a record boundary leaves a shorter valid file, anything else an error, never a crash.
        let boundaries = [0, fileVersionRecordSize, secondRecord, original.count]
        for length in 0...original.count {
            try Data(original.prefix(length)).write(to: url)
            if boundaries.contains(length) {
                XCTAssertNoThrow(try TensorBoardEventWriter.readScalars(file: url), "cut at \(length)")
            } else {
                XCTAssertThrowsError(try TensorBoardEventWriter.readScalars(file: url), "cut at \(length)")
            }
        }
    }

    func testFlippedByteNamesTheOffsetOfItsRecord() throws {
        let (url, original) = try writeThreeRecordFile()
        let secondRecord = fileVersionRecordSize + (original.count - fileVersionRecordSize) / 2

        var damaged = original
        damaged[secondRecord + 20] ^= 0x01  // inside the data
        try Data(damaged).write(to: url)
        assertDamaged(url, atByte: secondRecord)

        damaged = original
        damaged[fileVersionRecordSize + 2] ^= 0x80  // inside a length
        try Data(damaged).write(to: url)
        assertDamaged(url, atByte: fileVersionRecordSize)

        // CRC32C catches every single-bit flip anywhere, checksums and lengths included.
        for index in original.indices {
            for bit in 0..<8 {
                damaged = original
                damaged[index] ^= 1 << bit
                try Data(damaged).write(to: url)
                XCTAssertThrowsError(try TensorBoardEventWriter.readScalars(file: url), "byte \(index) bit \(bit)")
            }
        }
    }

    func testHugeLengthWithValidChecksumIsAnErrorNotACrash() throws {
        let (url, original) = try writeThreeRecordFile()
        var forged = Array(original.prefix(fileVersionRecordSize))
        let length = littleEndianBytes(UInt64.max)
        forged += length + littleEndianBytes(CRC32C.maskedChecksum(length)) + [0, 0, 0, 0]
        try Data(forged).write(to: url)
        assertDamaged(url, atByte: fileVersionRecordSize)
    }

    func testGarbagePayloadsWithValidFramingNeverCrash() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("events.out.tfevents.garbage")
        var random = SeededRandom(seed: 7)
        // Start from a real scalar event so mutations reach the nested decoders, not just the outer key.
        var event = ProtobufEncoder()
        event.appendDoubleField(1, 1)
        event.appendInt64Field(2, 9)
        event.appendMessageField(5) { summary in
            summary.appendMessageField(1) { value in
                value.appendStringField(1, "tag")
                value.appendFloatField(2, 1.5)
            }
        }
        var errors = 0
        for _ in 0..<2000 {
            var payload = event.bytes
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                payload[Int.random(in: 0..<payload.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if Bool.random(using: &random) { payload.removeLast(Int.random(in: 0..<payload.count, using: &random)) }
            try Data(TFRecord.frame(payload)).write(to: url)
            do {
                _ = try TensorBoardEventWriter.readScalars(file: url)
            } catch let error as IMLError {
                XCTAssertTrue(error.message.contains("at byte "), error.message)
                errors += 1
            }
        }
        XCTAssertGreaterThan(errors, 0, "some mutations must be rejected")
    }

    func testMissingFileIsAnIMLErrorNamingThePath() {
        let url = directory.appendingPathComponent("missing")
        XCTAssertThrowsError(try TensorBoardEventWriter.readScalars(file: url)) { error in
            XCTAssertTrue((error as? IMLError)?.message.contains(url.path) ?? false, "\(error)")
        }
    }
}
