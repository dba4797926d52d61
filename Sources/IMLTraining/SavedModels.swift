// The model weights a run keeps for analyses of what the network learned (`analyze`).
//
// Every seed keeps its weights at the end of each stage; with `--save-every K` also at stage-1
// epochs 0, K, 2K, ... (for analyses along training). One file per point,
//   models/seed-N/stage-S-epoch-E.weights
// written through AtomicFile:
//   line 1   "IML weights 1"
//   line 2   a JSON header: seed, stage, epoch, the tensor names and sizes (the model's parameters
//            in its fixed order), the payload size and its FNV-1a checksum
//   then     the payload: every tensor as little-endian Float32
// A file is the model's parameters only (a few MB): no optimizer state, no records.

import Foundation
import IMLBase
import IMLCore
import IMLRunFiles

/// One seed's weights at one point of training.
public struct SavedModel {
    public var seed: UInt64
    public var stage: Int
    /// Completed epochs of `stage` (0: before its first step).
    public var epoch: Int
    public var tensors: [(name: String, values: [Float])]

    static let firstLine = "IML weights 1"
    public static let fileExtension = "weights"

    public init(seed: UInt64, stage: Int, epoch: Int, parameters: [Parameter]) {
        self.seed = seed; self.stage = stage; self.epoch = epoch
        tensors = parameters.enumerated().map { ("parameter.\($0.offset).\($0.element.name)", Array($0.element.value.buffer)) }
    }

    /// The file's name inside models/seed-N/.
    public static func fileName(stage: Int, epoch: Int) -> String { "stage-\(stage)-epoch-\(epoch).\(fileExtension)" }

    public func serialized() -> Data {
        var payload = Data()
        TensorFileReader.append(tensors, to: &payload)
        let header = JSON.object([
            ("seed", .string(String(seed))), ("stage", .int(stage)), ("epoch", .int(epoch)),
            ("tensors", .array(tensors.map { .array([.string($0.name), .int($0.values.count)]) })),
            ("payload_bytes", .int(payload.count)),
            ("payload_fnv1a", .string(String(TrainingState.fnv1a(payload), radix: 16))),
        ])
        return Data((Self.firstLine + "\n" + header.serialized() + "\n").utf8) + payload
    }

    /// Reads a weights file's bytes; `name` (its path) labels errors, each one sentence.
    public init(data: Data, name: String) throws {
        let fix = "restore it from a copy of the run, or train the run again"
        func damaged(_ what: String) -> IMLError { IMLError("The saved model \(name) is damaged (\(what)); \(fix).") }
        var file = TensorFileReader(data, damaged: damaged)
        guard (try? file.line()) == Substring(Self.firstLine) else {
            throw IMLError("\(name) is not a saved model of this program (its first line is not \"\(Self.firstLine)\"); \(fix).")
        }
        let header = try file.header()
        guard case .string(let seedText)? = header["seed"], let seed = UInt64(seedText) else { throw damaged("no seed") }
        guard case .array(let list)? = header["tensors"] else { throw damaged("no tensor list") }
        try file.checkPayload(bytes: try file.int(header, "payload_bytes"))
        guard case .string(let checksumText)? = header["payload_fnv1a"], let checksum = UInt64(checksumText, radix: 16) else {
            throw damaged("no payload_fnv1a")
        }
        try file.checkPayload(checksum: checksum)
        self.seed = seed
        self.stage = try file.int(header, "stage")
        self.epoch = try file.int(header, "epoch")
        self.tensors = try file.tensors(list)
    }

    /// Puts these weights into `parameters` (a model built with the run's settings).
    public func load(into parameters: [Parameter], name: String) throws {
        guard tensors.count == parameters.count,
              zip(tensors, parameters.enumerated()).allSatisfy({ $0.name == "parameter.\($1.offset).\($1.element.name)" && $0.values.count == $1.element.value.count })
        else {
            throw IMLError("The saved model \(name) does not fit the model these settings build (other layer sizes or another modality); analyze it with the version of the program that trained it.")
        }
        for (tensor, parameter) in zip(tensors, parameters) {
            tensor.values.withUnsafeBufferPointer { parameter.value.pointer.update(from: $0.baseAddress!, count: $0.count) }
        }
    }
}

/// The saved models of one run directory: which points to keep while training, and which exist.
public final class RunModels: Sendable {
    public static let directoryName = RunDirectory.modelsDirectory
    public let root: URL
    /// Stage-1 epochs that are multiples of this are kept too (nil: the end of each stage only).
    public let saveEvery: Int?
    let training: TrainingConfig

    public init(run: URL, saveEvery: Int?, training: TrainingConfig) {
        root = run.appendingPathComponent(Self.directoryName)
        self.saveEvery = saveEvery
        self.training = training
    }

    public func wants(stage: Int, epoch: Int) -> Bool {
        if epoch == training.epochs(stage: stage) { return true }
        if stage == 1, let k = saveEvery, k > 0 { return epoch % k == 0 }
        return false
    }

    public static func url(run: URL, seed: UInt64, stage: Int, epoch: Int) -> URL {
        run.appendingPathComponent(directoryName).appendingPathComponent("seed-\(seed)")
            .appendingPathComponent(SavedModel.fileName(stage: stage, epoch: epoch))
    }

    public func save(seed: UInt64, stage: Int, epoch: Int, parameters: [Parameter]) throws {
        let model = SavedModel(seed: seed, stage: stage, epoch: epoch, parameters: parameters)
        try AtomicFile.write(model.serialized(), to: Self.url(run: root.deletingLastPathComponent(), seed: seed, stage: stage, epoch: epoch))
    }

    /// The (stage, epoch) points saved for `seed` in the run at `run`, in training order.
    public static func points(run: URL, seed: UInt64) -> [(stage: Int, epoch: Int)] {
        let directory = run.appendingPathComponent(directoryName).appendingPathComponent("seed-\(seed)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name -> (Int, Int)? in
            guard name.hasSuffix("." + SavedModel.fileExtension) else { return nil }
            let parts = name.dropLast(SavedModel.fileExtension.count + 1).split(separator: "-")
            guard parts.count == 4, parts[0] == "stage", parts[2] == "epoch", let s = Int(parts[1]), let e = Int(parts[3]) else { return nil }
            return (s, e)
        }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }
}
