// Everything a seed's training needs to continue exactly where it stopped, and its file format.
//
// A checkpoint is one file, checkpoints/seed-N.checkpoint, written through AtomicFile (a kill leaves
// the previous checkpoint or the new one, never half):
//   line 1   "IML checkpoint 1"
//   line 2   a JSON header: stage, epoch, position, RNG state, record count, tensor names and sizes,
//            payload size and its FNV-1a checksum
//   then     the seed's metric records so far, one metrics.jsonl line each
//   then     the binary payload, little-endian: the data order (UInt32 each), then every tensor
//            (the model's parameters, then the optimizer's state) as Float32
// Floats are stored as bits and records in Swift's round-trip text, so a resumed run continues
// with exactly the numbers the interrupted one had.

import Foundation
import IMLBase

/// Where one seed's training stands: enough to continue it bit for bit.
public struct TrainingState {
    public var seed: UInt64
    /// The stage in progress (or just finished).
    public var stage: Int
    /// Completed epochs of `stage`.
    public var epochsDone: Int
    /// 0 at an epoch boundary; otherwise training stopped inside epoch `epochsDone + 1` and the
    /// next batch starts at this position of `order`.
    public var batchStart: Int
    /// Loss sum and step count of the interrupted epoch (0 at an epoch boundary).
    public var lossSum: Double
    public var steps: Int
    /// Examples stepped through so far in this seed (both stages), for progress.
    public var examplesDone: Int
    /// The data order and the generator that shuffles it before every epoch.
    public var order: [Int]
    public var shuffler: SeededRandom
    /// True once every stage is done; a finished seed is not trained again.
    public var finished: Bool
    public var records: [MetricRecord]
    /// The model's parameters, then the optimizer's state tensors (empty in a finished seed's file).
    public var tensors: [(name: String, values: [Float])]

    public init(seed: UInt64, stage: Int, epochsDone: Int, batchStart: Int, lossSum: Double, steps: Int,
                examplesDone: Int, order: [Int], shuffler: SeededRandom, finished: Bool, records: [MetricRecord],
                tensors: [(name: String, values: [Float])]) {
        self.seed = seed; self.stage = stage; self.epochsDone = epochsDone; self.batchStart = batchStart
        self.lossSum = lossSum; self.steps = steps; self.examplesDone = examplesDone; self.order = order
        self.shuffler = shuffler; self.finished = finished; self.records = records; self.tensors = tensors
    }

    /// Where the seed stands, in words (for messages).
    public var position: String {
        if finished { return "finished" }
        if batchStart > 0 { return "stage \(stage), inside epoch \(epochsDone + 1) at example \(batchStart)" }
        return "stage \(stage), after epoch \(epochsDone)"
    }
}

extension TrainingState {
    static let firstLine = "IML checkpoint 1"

    /// The checkpoint file's bytes.
    public func serialized() -> Data {
        var payload = Data()
        for index in order { Self.append(UInt32(truncatingIfNeeded: index), to: &payload) }
        TensorFileReader.append(tensors, to: &payload)
        let s = shuffler.s
        let header = JSON.object([
            ("seed", .string(String(seed))), ("stage", .int(stage)), ("epochs_done", .int(epochsDone)),
            ("batch_start", .int(batchStart)), ("loss_sum_bits", .string(String(lossSum.bitPattern, radix: 16))),
            ("steps", .int(steps)), ("examples_done", .int(examplesDone)), ("finished", .bool(finished)),
            ("shuffler", .array([s.0, s.1, s.2, s.3].map { .string(String($0, radix: 16)) })),
            ("records", .int(records.count)), ("order_count", .int(order.count)),
            ("tensors", .array(tensors.map { .array([.string($0.name), .int($0.values.count)]) })),
            ("payload_bytes", .int(payload.count)), ("payload_fnv1a", .string(String(Self.fnv1a(payload), radix: 16))),
        ])
        var text = Self.firstLine + "\n" + header.serialized() + "\n"
        for record in records { text += record.json.serialized() + "\n" }
        return Data(text.utf8) + payload
    }

    /// Reads a checkpoint file's bytes; `name` (its path) labels errors. Every damage gives an
    /// IMLError naming it. `verifyChecksum: false` skips the payload checksum, so the fuzzer
    /// reaches the payload reader with any bytes.
    public init(checkpoint data: Data, name: String, verifyChecksum: Bool = true) throws {
        let fix = "delete it to train that seed again from the start"
        func damaged(_ what: String) -> IMLError {
            IMLError("The checkpoint \(name) is damaged (\(what)); \(fix).")
        }
        if data.isEmpty { throw IMLError("The checkpoint \(name) is empty; \(fix).") }
        var file = TensorFileReader(data, damaged: damaged)
        func line() throws -> Substring { try file.line() }
        let first = try? line()
        guard first == Substring(Self.firstLine) else {
            let prefix = "IML checkpoint "
            if let first, first.hasPrefix(prefix), let version = Int(first.dropFirst(prefix.count)) {
                throw IMLError("The checkpoint \(name) is in format version \(version), but this program reads version 1; continue the run with the version of the program that wrote it, or \(fix).")
            }
            throw IMLError("\(name) is not a checkpoint of this program (its first line is not \"\(Self.firstLine)\"); \(fix).")
        }
        let header = try file.header()
        func int(_ key: String) throws -> Int { try file.int(header, key) }
        func hex(_ value: JSON?, _ key: String) throws -> UInt64 {
            guard case .string(let text)? = value, text.count <= 16, let value = UInt64(text, radix: 16) else { throw damaged("no \(key)") }
            return value
        }
        guard case .string(let seedText)? = header["seed"], let seed = UInt64(seedText), seed <= UInt64(Int.max) else { throw damaged("no seed") }
        guard case .bool(let finished)? = header["finished"] else { throw damaged("no finished flag") }
        guard case .array(let shufflerWords)? = header["shuffler"], shufflerWords.count == 4 else { throw damaged("no shuffler state") }
        guard case .array(let tensorList)? = header["tensors"] else { throw damaged("no tensor list") }
        guard case .int(let stage)? = header["stage"], stage == 1 || stage == 2 else { throw damaged("no stage") }
        let recordCount = try int("records")
        var records: [MetricRecord] = []
        for index in 0..<recordCount {
            do {
                let record = try MetricRecord(line: try line())
                guard record.seed == seed else { throw RecordProblem(reason: "it is of seed \(record.seed), not \(seed)") }
                records.append(record)
            } catch let problem as RecordProblem {
                throw damaged("its metrics record \(index + 1) cannot be read: \(problem.reason)")
            }
        }
        try file.checkPayload(bytes: try int("payload_bytes"))
        let checksum = try hex(header["payload_fnv1a"], "payload_fnv1a")
        if verifyChecksum { try file.checkPayload(checksum: checksum) }
        let orderCount = try int("order_count")
        let orderBytes = try file.take(orderCount, of: 4)
        let order = stride(from: orderBytes.startIndex, to: orderBytes.endIndex, by: 4).map { i -> Int in
            var word: UInt32 = 0
            for k in 0..<4 { word |= UInt32(orderBytes[i + k]) << UInt32(8 * k) }
            return Int(word)
        }
        let tensors = try file.tensors(tensorList)
        self.init(seed: seed, stage: stage, epochsDone: try int("epochs_done"), batchStart: try int("batch_start"),
                  lossSum: Double(bitPattern: try hex(header["loss_sum_bits"], "loss_sum_bits")), steps: try int("steps"),
                  examplesDone: try int("examples_done"), order: order,
                  shuffler: SeededRandom(state: (try hex(shufflerWords[0], "shuffler"), try hex(shufflerWords[1], "shuffler"),
                                                 try hex(shufflerWords[2], "shuffler"), try hex(shufflerWords[3], "shuffler"))),
                  finished: finished, records: records, tensors: tensors)
    }

    static func append(_ value: UInt32, to data: inout Data) {
        data.append(contentsOf: [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
                                 UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24)])
    }

    /// 64-bit FNV-1a: catches a damaged payload (not an adversary).
    public static func fnv1a<Bytes: Sequence>(_ data: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        // Contiguous bytes (Data and its slices) go through a pointer: Data's iterator costs about
        // 1% of a training run, the checksum of every epoch's checkpoint.
        if let h = data.withContiguousStorageIfAvailable({ fnv1a(buffer: $0) }) { return h }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    private static func fnv1a(buffer: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in buffer { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

extension SeededRandom {
    /// A generator continuing from a saved state.
    init(state: (UInt64, UInt64, UInt64, UInt64)) {
        self.init(seed: 0)
        s = state
    }
}

/// What checkpoints and saved models share: text lines (a format line, a JSON header, ...), then a
/// checksummed binary payload ending in named Float32 tensors. Every damage is `damaged(what)`.
public struct TensorFileReader {
    private let bytes: [UInt8]
    private var cursor = 0
    private let damaged: (String) -> IMLError

    public init(_ data: Data, damaged: @escaping (String) -> IMLError) {
        bytes = [UInt8](data)
        self.damaged = damaged
    }

    public mutating func line() throws -> Substring {
        guard let end = bytes[cursor...].firstIndex(of: 0x0A) else { throw damaged("it ends inside its text part") }
        defer { cursor = end + 1 }
        return Substring(String(decoding: bytes[cursor..<end], as: UTF8.self))
    }

    /// The next line as a JSON object.
    public mutating func header() throws -> [String: JSON] {
        let text = try line()
        do {
            guard let fields = try JSON.read(text).objectFields else { throw damaged("its header is not a JSON object") }
            return Dictionary(fields, uniquingKeysWith: { a, _ in a })
        } catch let error as JSONSyntaxError {
            throw damaged("its header is not valid JSON: \(error.reason)")
        }
    }

    public func int(_ header: [String: JSON], _ key: String) throws -> Int {
        guard case .int(let n)? = header[key], n >= 0 else { throw damaged("no \(key)") }
        return n
    }

    /// The rest of the file is the payload; it must have the size the header promises...
    public func checkPayload(bytes promised: Int) throws {
        guard bytes.count - cursor == promised else {
            throw damaged("the payload has \(bytes.count - cursor) bytes, the header promises \(promised)")
        }
    }

    /// ...and the checksum it gives.
    public func checkPayload(checksum: UInt64) throws {
        if TrainingState.fnv1a(bytes[cursor...]) != checksum { throw damaged("the payload checksum does not match") }
    }

    /// The next `count` items of `size` bytes of the payload.
    public mutating func take(_ count: Int, of size: Int) throws -> ArraySlice<UInt8> {
        let (length, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, length <= bytes.count - cursor else { throw damaged("the payload is shorter than its tensor list") }
        defer { cursor += length }
        return bytes[cursor..<cursor + length]
    }

    /// The tensors a header's list ([[name, count], ...]) names; they must end the payload.
    public mutating func tensors(_ list: [JSON]) throws -> [(name: String, values: [Float])] {
        var tensors: [(name: String, values: [Float])] = []
        for entry in list {
            guard case .array(let pair) = entry, pair.count == 2, case .string(let name) = pair[0], case .int(let count) = pair[1], count >= 0 else {
                throw damaged("a bad tensor entry")
            }
            let raw = try take(count, of: 4)
            tensors.append((name, [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                raw.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
                initialized = count
            }))
        }
        guard cursor == bytes.count else { throw damaged("trailing payload bytes") }
        return tensors
    }

    public static func append(_ tensors: [(name: String, values: [Float])], to payload: inout Data) {
        for tensor in tensors { tensor.values.withUnsafeBytes { payload.append(contentsOf: $0) } }
    }
}
