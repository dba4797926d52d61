// The byte-level pieces under a TensorBoard event file: CRC32C, TFRecord framing, and the handful
// of protobuf wire encodings an Event needs. Hand-written so that IMLReport stays free of a
// protobuf dependency for a few small messages.
//
// TFRecord framing, records back to back, integers little-endian:
//   uint64 length | uint32 masked CRC32C(length bytes) | data | uint32 masked CRC32C(data)
// masked(crc) = ((crc >> 15) | (crc << 17)) &+ 0xa282ead8. TensorFlow masks because a CRC over
// bytes that themselves contain CRCs is weak; every reader expects the mask.

/// CRC32C (Castagnoli), reflected polynomial 0x82F63B78, as TFRecord uses it.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }

    static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        return crc ^ 0xFFFF_FFFF
    }

    static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    static func maskedChecksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        masked(checksum(bytes))
    }
}

enum TFRecord {
    static let headerSize = 12
    static let footerSize = 4

    static func frame(_ data: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(headerSize + data.count + footerSize)
        let length = littleEndianBytes(UInt64(data.count))
        record += length
        record += littleEndianBytes(CRC32C.maskedChecksum(length))
        record += data
        record += littleEndianBytes(CRC32C.maskedChecksum(data))
        return record
    }

    /// The data of every record, as ranges into `bytes`. A damaged file fails with the byte offset
    /// of the record at fault, so the message can point at it.
    static func records(in bytes: [UInt8]) throws -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= headerSize else {
                throw RecordDamage(offset: offset, reason: "the file ends inside a record header (\(bytes.count - offset) of \(headerSize) bytes)")
            }
            let lengthBytes = bytes[offset..<offset + 8]
            guard readLittleEndian(UInt32.self, bytes, at: offset + 8) == CRC32C.maskedChecksum(lengthBytes) else {
                throw RecordDamage(offset: offset, reason: "the checksum of the record length does not match")
            }
            let length = readLittleEndian(UInt64.self, bytes, at: offset)
            let dataStart = offset + headerSize
            let available = bytes.count - dataStart
            guard available >= footerSize, length <= UInt64(available - footerSize) else {
                throw RecordDamage(offset: offset, reason: "the file ends inside a record of \(length) bytes")
            }
            let data = dataStart..<dataStart + Int(length)
            guard readLittleEndian(UInt32.self, bytes, at: data.upperBound) == CRC32C.maskedChecksum(bytes[data]) else {
                throw RecordDamage(offset: offset, reason: "the checksum of the record data does not match")
            }
            ranges.append(data)
            offset = data.upperBound + footerSize
        }
        return ranges
    }
}

/// Where and why a file stopped making sense; the caller adds the file's path.
struct RecordDamage: Error, Equatable {
    let offset: Int
    let reason: String
}

func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

/// The caller has checked that `bytes` holds the whole value at `offset`.
func readLittleEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
    var value: T = 0
    for index in 0..<T.bitWidth / 8 {
        value |= T(bytes[offset + index]) << (index * 8)
    }
    return value
}

// MARK: - Protobuf wire format

enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

struct ProtobufEncoder {
    private(set) var bytes: [UInt8] = []

    mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func appendKey(_ field: Int, _ wireType: WireType) {
        appendVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    mutating func appendVarintField(_ field: Int, _ value: UInt64) {
        appendKey(field, .varint)
        appendVarint(value)
    }

    /// int64 fields are plain varints of the two's complement, so a negative value takes 10 bytes.
    mutating func appendInt64Field(_ field: Int, _ value: Int64) {
        appendVarintField(field, UInt64(bitPattern: value))
    }

    mutating func appendDoubleField(_ field: Int, _ value: Double) {
        appendKey(field, .fixed64)
        bytes += littleEndianBytes(value.bitPattern)
    }

    mutating func appendFloatField(_ field: Int, _ value: Float) {
        appendKey(field, .fixed32)
        bytes += littleEndianBytes(value.bitPattern)
    }

    mutating func appendBytesField(_ field: Int, _ value: [UInt8]) {
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        bytes += value
    }

    mutating func appendStringField(_ field: Int, _ value: String) {
        appendBytesField(field, Array(value.utf8))
    }

    mutating func appendMessageField(_ field: Int, _ build: (inout ProtobufEncoder) -> Void) {
        var message = ProtobufEncoder()
        build(&message)
        appendBytesField(field, message.bytes)
    }
}

/// Reads one message out of `bytes[range]`. Offsets in errors are offsets into `bytes`, which is
/// the whole file, so they point at the damaged byte itself.
struct ProtobufDecoder {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws -> (field: Int, wireType: WireType)? {
        guard position < end else { return nil }
        let keyOffset = position
        let key = try readVarint()
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw RecordDamage(offset: keyOffset, reason: "protobuf wire type \(key & 7) is not one an Event uses")
        }
        let field = key >> 3
        guard field > 0, field <= 0x1FFF_FFFF else {
            throw RecordDamage(offset: keyOffset, reason: "protobuf field number \(field) is out of range")
        }
        return (Int(field), wireType)
    }

    mutating func readVarint() throws -> UInt64 {
        let start = position
        var value: UInt64 = 0
        for index in 0..<10 {
            guard position < end else {
                throw RecordDamage(offset: start, reason: "a protobuf varint runs past the end of its message")
            }
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << (7 * UInt64(index))
            if byte & 0x80 == 0 { return value }
        }
        throw RecordDamage(offset: start, reason: "a protobuf varint is longer than 10 bytes")
    }

    mutating func readFixed64() throws -> UInt64 {
        try require(8, "a protobuf fixed64")
        defer { position += 8 }
        return readLittleEndian(UInt64.self, bytes, at: position)
    }

    mutating func readFixed32() throws -> UInt32 {
        try require(4, "a protobuf fixed32")
        defer { position += 4 }
        return readLittleEndian(UInt32.self, bytes, at: position)
    }

    /// The range of a length-delimited field's payload (a string, bytes or a nested message).
    mutating func readLengthDelimited() throws -> Range<Int> {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw RecordDamage(offset: start, reason: "a protobuf field of \(length) bytes runs past the end of its message")
        }
        defer { position += Int(length) }
        return position..<position + Int(length)
    }

    mutating func readString() throws -> String {
        String(decoding: bytes[try readLengthDelimited()], as: UTF8.self)
    }

    mutating func skip(_ wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .fixed32: _ = try readFixed32()
        }
    }

    private func require(_ count: Int, _ what: String) throws {
        guard end - position >= count else {
            throw RecordDamage(offset: position, reason: "\(what) runs past the end of its message")
        }
    }
}
