// TensorBoard event files, written without TensorFlow or Python, so a run can be followed live
// with `tensorboard --logdir` and read back with tbparse.
//
// An event file is a sequence of TFRecords (see TFRecord.swift), each holding one serialized
// `Event` protobuf (proto3). The fields used here, by field number and wire encoding:
//   Event:           wall_time=1 double, step=2 int64, file_version=3 string, summary=5 Summary
//   Summary:         value=1 repeated Summary.Value
//   Summary.Value:   tag=1 string, simple_value=2 float, tensor=8 TensorProto, metadata=9 SummaryMetadata
//   SummaryMetadata: plugin_data=1 PluginData { plugin_name=1 string, content=2 bytes }
//   TensorProto:     dtype=1 enum (DT_STRING = 7), tensor_shape=2 TensorShapeProto, string_val=8 repeated bytes
// The first record is an Event carrying only wall_time and file_version "brain.Event:2"; with that
// version TensorBoard does not discard data when steps go backwards (as they do from stage to stage).
// Scalars use the classic simple_value (a float32), which TensorBoard and tbparse both read.

import Foundation
import IMLBase

public final class TensorBoardEventWriter {
    public let fileURL: URL
    private var handle: FileHandle?
    /// Records wait here until flush(), so one epoch's scalars reach the file in one write.
    private var pending: [UInt8] = []

    /// Creates `directory` if needed and a new file
    /// `events.out.tfevents.<unix seconds, 10 digits>.<hostname><fileSuffix>` in it.
    public init(directory: URL, fileSuffix: String = "") throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw IMLError("cannot create the TensorBoard directory \(directory.path); check that its parent is writable")
        }
        let now = Date().timeIntervalSince1970
        let seconds = String(Int(now))
        let paddedSeconds = String(repeating: "0", count: max(0, 10 - seconds.count)) + seconds
        let name = "events.out.tfevents.\(paddedSeconds).\(Self.hostname())\(fileSuffix)"
        fileURL = directory.appendingPathComponent(name)

        // O_EXCL: a second writer started in the same second must not truncate the first one's file.
        let descriptor = open(fileURL.path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw IMLError("cannot create the TensorBoard event file \(fileURL.path): \(reason); check that \(directory.path) is writable and pass a different fileSuffix if the file exists")
        }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)

        var event = ProtobufEncoder()
        event.appendDoubleField(EventField.wallTime, now)
        event.appendStringField(EventField.fileVersion, "brain.Event:2")
        pending += TFRecord.frame(event.bytes)
        try flush()
    }

    deinit {
        try? close()
    }

    /// Queues one scalar; it reaches the file at the next flush() or close().
    public func addScalar(_ tag: String, _ value: Double, step: Int,
                          wallTime: Double = Date().timeIntervalSince1970) {
        addScalars([(tag, value)], step: step, wallTime: wallTime)
    }

    /// Queues several scalars of one step as a single Event.
    public func addScalars(_ scalars: [(tag: String, value: Double)], step: Int,
                           wallTime: Double = Date().timeIntervalSince1970) {
        guard !scalars.isEmpty else { return }
        appendEvent(step: step, wallTime: wallTime) { summary in
            for scalar in scalars {
                summary.appendMessageField(SummaryField.value) { value in
                    value.appendStringField(ValueField.tag, scalar.tag)
                    // simple_value sits in a oneof, so it is written even when it is 0.
                    value.appendFloatField(ValueField.simpleValue, Float(scalar.value))
                }
            }
        }
    }

    /// Queues a text summary (TensorBoard's Text tab renders it as Markdown).
    public func addText(_ tag: String, _ text: String, step: Int = 0,
                        wallTime: Double = Date().timeIntervalSince1970) {
        appendEvent(step: step, wallTime: wallTime) { summary in
            summary.appendMessageField(SummaryField.value) { value in
                value.appendStringField(ValueField.tag, tag)
                // Field-number order (tensor=8 before metadata=9), as protobuf serializers write it.
                value.appendMessageField(ValueField.tensor) { tensor in
                    tensor.appendVarintField(TensorField.dtype, TensorField.stringDataType)
                    tensor.appendMessageField(TensorField.shape) { _ in }  // no dims: a scalar
                    tensor.appendBytesField(TensorField.stringValue, Array(text.utf8))
                }
                value.appendMessageField(ValueField.metadata) { metadata in
                    metadata.appendMessageField(MetadataField.pluginData) { pluginData in
                        pluginData.appendStringField(PluginDataField.pluginName, "text")
                    }
                }
            }
        }
    }

    /// Hands everything queued to the operating system, so a running TensorBoard sees it.
    public func flush() throws {
        guard !pending.isEmpty else { return }
        guard let handle else {
            throw IMLError("TensorBoard event file \(fileURL.path) was closed before its last events were written; call flush() before close()")
        }
        do {
            try handle.write(contentsOf: Data(pending))
        } catch {
            throw FileWriteError(path: fileURL.path, error: error)
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and closes the file. Closing twice is harmless.
    public func close() throws {
        guard let handle else { return }
        try flush()
        self.handle = nil
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw FileWriteError(path: fileURL.path, error: error)
        }
    }

    private func appendEvent(step: Int, wallTime: Double, summary build: (inout ProtobufEncoder) -> Void) {
        var event = ProtobufEncoder()
        // proto3 leaves zero scalars out; doing the same keeps our bytes identical to TensorFlow's.
        if wallTime != 0 { event.appendDoubleField(EventField.wallTime, wallTime) }
        if step != 0 { event.appendInt64Field(EventField.step, Int64(step)) }
        event.appendMessageField(EventField.summary, build)
        pending += TFRecord.frame(event.bytes)
    }

    private static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(cString: buffer)
        return name.isEmpty ? "localhost" : name
    }
}

// MARK: - Reading

extension TensorBoardEventWriter {
    /// Every scalar (simple_value) in an event file, in file order. Checks both CRCs of every record;
    /// a damaged or cut file throws an IMLError naming the file and the byte offset.
    public static func readScalars(file: URL) throws -> [(tag: String, step: Int, value: Double)] {
        try readSummaryValues(file: file).compactMap { entry in
            guard case .scalar(let value) = entry.content else { return nil }
            return (entry.tag, entry.step, value)
        }
    }

    struct SummaryEntry: Equatable {
        enum Content: Equatable {
            case scalar(Double)
            case text(String)
            case other
        }
        let tag: String
        let step: Int
        let wallTime: Double
        let content: Content
    }

    /// Every Summary.Value in the file, in order, with the step and wall time of its Event.
    static func readSummaryValues(file: URL) throws -> [SummaryEntry] {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: file))
        } catch {
            throw IMLError("cannot read the TensorBoard event file \(file.path): \(error.localizedDescription); check the path")
        }
        do {
            var entries: [SummaryEntry] = []
            for record in try TFRecord.records(in: bytes) {
                entries += try decodeEvent(bytes, record)
            }
            return entries
        } catch let damage as RecordDamage {
            throw IMLError("TensorBoard event file \(file.path) is damaged at byte \(damage.offset): \(damage.reason); the file was cut short or changed after it was written, so delete it or write it again")
        }
    }

    private static func decodeEvent(_ bytes: [UInt8], _ record: Range<Int>) throws -> [SummaryEntry] {
        var event = ProtobufDecoder(bytes, range: record)
        var step = 0
        var wallTime = 0.0
        var summaries: [Range<Int>] = []
        while let (field, wireType) = try event.nextField() {
            switch (field, wireType) {
            case (EventField.wallTime, .fixed64): wallTime = Double(bitPattern: try event.readFixed64())
            case (EventField.step, .varint): step = Int(truncatingIfNeeded: Int64(bitPattern: try event.readVarint()))
            case (EventField.summary, .lengthDelimited): summaries.append(try event.readLengthDelimited())
            default: try event.skip(wireType)
            }
        }
        // step may follow summary on the wire, so values are built only after the whole Event is read.
        var entries: [SummaryEntry] = []
        for range in summaries {
            var summary = ProtobufDecoder(bytes, range: range)
            while let (field, wireType) = try summary.nextField() {
                guard field == SummaryField.value, wireType == .lengthDelimited else {
                    try summary.skip(wireType)
                    continue
                }
                let (tag, content) = try decodeValue(bytes, try summary.readLengthDelimited())
                entries.append(SummaryEntry(tag: tag, step: step, wallTime: wallTime, content: content))
            }
        }
        return entries
    }

    private static func decodeValue(_ bytes: [UInt8], _ range: Range<Int>) throws -> (String, SummaryEntry.Content) {
        var value = ProtobufDecoder(bytes, range: range)
        var tag = ""
        var content = SummaryEntry.Content.other
        while let (field, wireType) = try value.nextField() {
            switch (field, wireType) {
            case (ValueField.tag, .lengthDelimited): tag = try value.readString()
            case (ValueField.simpleValue, .fixed32): content = .scalar(Double(Float(bitPattern: try value.readFixed32())))
            case (ValueField.tensor, .lengthDelimited):
                if let text = try decodeStringTensor(bytes, try value.readLengthDelimited()) { content = .text(text) }
            default: try value.skip(wireType)
            }
        }
        return (tag, content)
    }

    private static func decodeStringTensor(_ bytes: [UInt8], _ range: Range<Int>) throws -> String? {
        var tensor = ProtobufDecoder(bytes, range: range)
        var dataType: UInt64 = 0
        var strings: [String] = []
        while let (field, wireType) = try tensor.nextField() {
            switch (field, wireType) {
            case (TensorField.dtype, .varint): dataType = try tensor.readVarint()
            case (TensorField.stringValue, .lengthDelimited): strings.append(try tensor.readString())
            default: try tensor.skip(wireType)
            }
        }
        return dataType == TensorField.stringDataType && strings.count == 1 ? strings[0] : nil
    }
}

// Field numbers from tensorflow/core/util/event.proto, summary.proto, tensor.proto.
private enum EventField {
    static let wallTime = 1, step = 2, fileVersion = 3, summary = 5
}
private enum SummaryField {
    static let value = 1
}
private enum ValueField {
    static let tag = 1, simpleValue = 2, tensor = 8, metadata = 9
}
private enum MetadataField {
    static let pluginData = 1
}
private enum PluginDataField {
    static let pluginName = 1
}
private enum TensorField {
    static let dtype = 1, shape = 2, stringValue = 8
    static let stringDataType: UInt64 = 7
}
