// Reading a run directory's files back with every check a file edited by hand, copied half,
// or written by another version deserves: config.json (RunConfig), the metric records of
// metrics.jsonl and of checkpoints (MetricRecord(line:), RunRecords), and summary.json against the
// metrics (SummaryCheck). Each problem is one sentence naming the file, what is wrong and the fix.

import Foundation
import IMLBase

/// Why one metrics line is not a record, in words that fit in a sentence.
public struct RecordProblem: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

extension MetricRecord {
    /// Reads one line of metrics.jsonl: exactly the keys of an exact-match record (seed, stage,
    /// epoch, subset, em, n) or of a training-loss record (seed, stage, epoch, train_loss), each
    /// of its type, numbers finite.
    public init(line: Substring) throws {
        let value: JSON
        do { value = try JSON.read(line) } catch let error as JSONSyntaxError {
            throw RecordProblem(reason: "it is not valid JSON: \(error.reason)")
        }
        guard let fields = value.objectFields else { throw RecordProblem(reason: "it is \(value.kindDescription), not a JSON object") }
        var map: [String: JSON] = [:]
        for (k, v) in fields { map[k] = v }
        let isExactMatch = map["subset"] != nil
        guard isExactMatch || map["train_loss"] != nil else { throw RecordProblem(reason: "it has neither \"subset\" nor \"train_loss\"") }
        let expected = isExactMatch ? ["seed", "stage", "epoch", "subset", "em", "n"] : ["seed", "stage", "epoch", "train_loss"]
        for key in expected where map[key] == nil { throw RecordProblem(reason: "it has no \"\(key)\"") }
        for (key, _) in fields where !expected.contains(key) { throw RecordProblem(reason: "it has an unexpected key \"\(key)\"") }
        func wrong(_ key: String, _ expectation: String) -> RecordProblem {
            RecordProblem(reason: "its \"\(key)\" is \(map[key]!.shortDescription), expected \(expectation)")
        }
        func whole(_ key: String, from low: Int, _ expectation: String) throws -> Int {
            guard case .int(let i)? = map[key], i >= low else { throw wrong(key, expectation) }
            return i
        }
        let seed = try whole("seed", from: 0, "a whole number of at least 0")
        guard case .int(let stage)? = map["stage"], stage == 1 || stage == 2 else { throw wrong("stage", "1 or 2") }
        if isExactMatch {
            let epoch = try whole("epoch", from: 0, "a whole number of at least 0")
            guard case .string(let subset)? = map["subset"], !subset.isEmpty else { throw wrong("subset", "the name of a subset") }
            guard let em = map["em"]!.numberValue, em >= 0, em <= 1 else { throw wrong("em", "a number in [0, 1]") }
            let n = try whole("n", from: 1, "a whole number of at least 1")
            self = .exactMatch(seed: UInt64(seed), stage: stage, epoch: epoch, subset: subset, em: em, n: n)
        } else {
            let epoch = try whole("epoch", from: 1, "a whole number of at least 1")
            guard let loss = map["train_loss"]!.numberValue, loss.isFinite, loss >= 0 else {
                throw wrong("train_loss", "a finite number of at least 0")
            }
            self = .trainLoss(seed: UInt64(seed), stage: stage, epoch: epoch, loss: loss)
        }
    }

    public var stage: Int {
        switch self {
        case let .exactMatch(_, stage, _, _, _, _): return stage
        case let .trainLoss(_, stage, _, _): return stage
        }
    }

    public var epoch: Int {
        switch self {
        case let .exactMatch(_, _, epoch, _, _, _): return epoch
        case let .trainLoss(_, _, epoch, _): return epoch
        }
    }

    /// The subset, or "train_loss" for a training-loss record.
    var series: String {
        if case let .exactMatch(_, _, _, subset, _, _) = self { return subset }
        return "train_loss"
    }

    /// The record in words, for messages.
    var what: String {
        "seed \(seed), stage \(stage), epoch \(epoch), " + (series == "train_loss" ? "train_loss" : "subset \(series)")
    }
}

/// config.json of a run, checked: valid JSON, an object, and every key this program relies on
/// present with its type.
public struct RunConfig {
    public let path: String
    public let json: JSON
    public let modality: String
    public let seeds: [UInt64]
    /// The stages the run trains: [1, 2], or [1] for a one-stage run.
    public let stages: [Int]
    public let epochs1: Int, epochs2: Int
    /// The recorded command-line arguments (nil when the run recorded none).
    public let arguments: [String]?

    public func epochs(stage: Int) -> Int { stage == 1 ? epochs1 : epochs2 }

    public subscript(key: String) -> JSON? { json[key] }

    /// Reads `directory`/config.json.
    public static func read(_ directory: RunDirectory) throws -> RunConfig {
        let url = directory.file(RunDirectory.configFile)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw IMLError("Cannot read \(url.path) (\(RunFileText.reason(error))); check that it is a readable file.")
        }
        return try RunConfig(data: data, path: url.path)
    }

    public init(data: Data, path: String) throws {
        self.path = path
        func damaged(_ what: String) -> IMLError {
            IMLError("\(path) \(what); the run directory is damaged: restore config.json from a copy of the run, or start a new run.")
        }
        let json = try RunFileText.parse(data, path: path, fix: "the run directory is damaged: restore config.json from a copy of the run, or start a new run")
        guard let fields = json.objectFields else { throw damaged("holds \(json.kindDescription), not a JSON object") }
        self.json = json
        var map: [String: JSON] = [:]
        for (k, v) in fields { map[k] = v }
        func require(_ key: String) throws -> JSON {
            guard let v = map[key] else { throw damaged("has no \"\(key)\"") }
            return v
        }
        func wrong(_ key: String, _ expectation: String) -> IMLError {
            damaged("has \"\(key)\": \(map[key]!.shortDescription), expected \(expectation)")
        }
        guard case .string(let modality) = try require("modality"), !modality.isEmpty else { throw wrong("modality", "the modality's name") }
        self.modality = modality
        guard case .array(let seedValues) = try require("seeds"), !seedValues.isEmpty else { throw wrong("seeds", "a list of seeds") }
        var seeds: [UInt64] = []
        for v in seedValues {
            guard case .int(let s) = v, s >= 0 else { throw wrong("seeds", "a list of whole numbers of at least 0") }
            guard !seeds.contains(UInt64(s)) else { throw damaged("lists seed \(s) twice in \"seeds\"") }
            seeds.append(UInt64(s))
        }
        self.seeds = seeds
        guard case .array(let stageValues) = try require("stages"),
              stageValues == [.int(1), .int(2)] || stageValues == [.int(1)] else { throw wrong("stages", "[1, 2] or [1]") }
        stages = stageValues.count == 2 ? [1, 2] : [1]
        func count(_ key: String, required: Bool, from low: Int = 0) throws -> Int? {
            guard map[key] != nil || required else { return nil }
            guard case .int(let i) = try require(key), i >= low else {
                throw wrong(key, low == 0 ? "a whole number of at least 0" : "a whole number of at least \(low)")
            }
            return i
        }
        epochs1 = try count("epochs1", required: true)!
        epochs2 = try count("epochs2", required: true)!
        for key in ["batch_size", "entities", "attributes", "classes", "threads"] { _ = try count(key, required: false, from: 1) }
        for key in ["lr", "alpha", "tag1_fraction", "tag2_fraction", "question_only_fraction", "chance"] where map[key] != nil {
            guard let x = map[key]!.numberValue, x.isFinite else { throw wrong(key, "a finite number") }
        }
        for key in ["title"] where map[key] != nil {
            guard case .string = map[key]! else { throw wrong(key, "a string") }
        }
        func strings(_ key: String) throws -> [String]? {
            guard let v = map[key] else { return nil }
            guard case .array(let items) = v else { throw wrong(key, "a list of strings") }
            return try items.map { item in
                guard case .string(let s) = item else { throw wrong(key, "a list of strings") }
                return s
            }
        }
        arguments = try strings("arguments")
        _ = try strings("compared_settings")
    }
}

/// Text files of a run: reading them whole and the messages for what cannot be read.
public enum RunFileText {
    public static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        return error.localizedDescription
    }

    /// The JSON value `data` holds, or a sentence naming `path` and what is wrong, then `fix`.
    public static func parse(_ data: Data, path: String, fix: String) throws -> JSON {
        if data.isEmpty { throw IMLError("\(path) is empty; \(fix).") }
        do {
            return try JSON.read([UInt8](data))
        } catch let error as JSONSyntaxError {
            if error.truncated { throw IMLError("\(path) is truncated (\(error.reason)); \(fix).") }
            throw IMLError("\(path) is not valid JSON (\(error.reason)); \(fix).")
        }
    }
}

/// The metric records of a run or of one seed, checked against what config.json says the run
/// trains: only its seeds and stages, every epoch's records once, none missing.
public enum RunRecords {
    /// Reads metrics.jsonl: every line a record. Problems name `path` and the line.
    public static func parse(_ data: Data, path: String, fix: String) throws -> [(line: Int, record: MetricRecord)] {
        if data.isEmpty { throw IMLError("\(path) is empty; \(fix).") }
        guard var text = String(data: data, encoding: .utf8) else { throw IMLError("\(path) is not UTF-8 text; \(fix).") }
        // A file saved with Windows line endings holds the same records ("\r\n" is one Character,
        // so it would not split on "\n" at all).
        text = text.replacingOccurrences(of: "\r\n", with: "\n")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var records: [(line: Int, record: MetricRecord)] = []
        for (index, line) in lines.enumerated() {
            if index == lines.count - 1 {
                if line.isEmpty { break }
                throw IMLError("\(path) ends inside line \(index + 1) (it is truncated or its last line lacks a line break); \(fix).")
            }
            do {
                records.append((index + 1, try MetricRecord(line: line)))
            } catch let problem as RecordProblem {
                throw IMLError("\(path): line \(index + 1) is not a metrics record (\(problem.reason)); \(fix).")
            }
        }
        return records
    }

    /// Checks `records` (with their line numbers, or their positions) against the run: `seeds`,
    /// `stages` with their epochs; `complete` says how far each seed must go (nil: every stage to
    /// its last epoch). `describe` turns a problem into the sentence thrown.
    public static func check(_ records: [(line: Int, record: MetricRecord)], seeds: [UInt64], stages: [Int],
                             epochs: (Int) -> Int, reachedBy seedPosition: (UInt64) -> (stage: Int, epochs: Int)? = { _ in nil },
                             configName: String, describe: (String) -> IMLError) throws {
        var seen: [String: Int] = [:]
        // seed -> stage -> series -> epochs present
        var present: [UInt64: [Int: [String: Set<Int>]]] = [:]
        for (line, record) in records {
            guard seeds.contains(record.seed) else {
                throw describe("line \(line) holds seed \(record.seed), which \(configName) does not list (seeds \(seeds.map(String.init).joined(separator: ", ")))")
            }
            guard stages.contains(record.stage) else {
                throw describe("line \(line) holds stage \(record.stage), which the run does not train")
            }
            let reached = seedPosition(record.seed)
            let last = reached.map { $0.stage == record.stage ? $0.epochs : (record.stage < $0.stage ? epochs(record.stage) : -1) }
                ?? epochs(record.stage)
            guard record.epoch <= last else {
                if let reached {
                    throw describe("line \(line) holds \(record.what), past where training stands (stage \(reached.stage), epoch \(reached.epochs))")
                }
                throw describe("line \(line) holds \(record.what), past the last epoch (\(last)) of that stage")
            }
            let key = record.what
            if let first = seen[key] { throw describe("line \(line) repeats the record of \(key) (first on line \(first))") }
            seen[key] = line
            present[record.seed, default: [:]][record.stage, default: [:]][record.series, default: []].insert(record.epoch)
        }
        for seed in seeds {
            let reached = seedPosition(seed)
            for stage in stages {
                let last: Int
                if let reached {
                    if stage > reached.stage { continue }
                    last = stage == reached.stage ? reached.epochs : epochs(stage)
                } else {
                    last = epochs(stage)
                }
                guard let series = present[seed]?[stage], series.keys.contains(where: { $0 != "train_loss" }) else {
                    throw describe("there are no records of seed \(seed), stage \(stage)")
                }
                for name in series.keys.sorted() {
                    let first = name == "train_loss" ? 1 : 0
                    if first > last { continue }
                    for epoch in first...last where !series[name]!.contains(epoch) {
                        let what = name == "train_loss" ? "train_loss" : "subset \(name)"
                        throw describe("the record of seed \(seed), stage \(stage), epoch \(epoch), \(what) is missing")
                    }
                }
                if last >= 1 && series["train_loss"] == nil {
                    throw describe("the record of seed \(seed), stage \(stage), epoch 1, train_loss is missing")
                }
            }
        }
    }
}

/// summary.json against the summary its metrics give: every field but wall_seconds must agree.
public enum SummaryCheck {
    public static func check(_ data: Data, path: String, computed: RunSummary, fix: String) throws -> Double {
        let json = try RunFileText.parse(data, path: path, fix: fix)
        guard json.objectFields != nil else { throw IMLError("\(path) holds \(json.kindDescription), not a JSON object; \(fix).") }
        var wall = 0.0
        if let w = json["wall_seconds"] {
            guard let x = w.numberValue, x.isFinite, x >= 0 else {
                throw IMLError("\(path) has \"wall_seconds\": \(w.shortDescription), expected a number of seconds; \(fix).")
            }
            wall = x
        }
        let expected = computed.json
        if let difference = firstDifference(json, expected, at: "", skip: "wall_seconds") {
            throw IMLError("\(path) disagrees with metrics.jsonl at \(difference); \(fix).")
        }
        return wall
    }

    /// Where `found` differs from `expected` ("stage2.d1consis.mean (0.5 there, 0.8 from the
    /// metrics)"), nil when they agree (numbers within rounding).
    static func firstDifference(_ found: JSON, _ expected: JSON, at path: String, skip: String) -> String? {
        func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
        switch (found, expected) {
        case (.object(let a), .object(let b)):
            var map: [String: JSON] = [:]
            for (k, v) in a { map[k] = v }
            for (key, value) in b where key != skip {
                guard let other = map[key] else { return "\(name(key)) (missing there, \(value.shortDescription) from the metrics)" }
                if let d = firstDifference(other, value, at: name(key), skip: skip) { return d }
            }
            for (key, value) in a where key != skip && !b.contains(where: { $0.0 == key }) {
                return "\(name(key)) (\(value.shortDescription) there, no such field from the metrics)"
            }
            return nil
        case (.array(let a), .array(let b)) where a.count == b.count:
            for (i, (x, y)) in zip(a, b).enumerated() {
                if let d = firstDifference(x, y, at: path + "[\(i)]", skip: skip) { return d }
            }
            return nil
        default:
            if let x = found.numberValue, let y = expected.numberValue, x.isFinite, y.isFinite,
               abs(x - y) <= 1e-9 * max(1, abs(y)) { return nil }
            // NaN and infinities are written as null.
            if case .null = found, let y = expected.numberValue, !y.isFinite { return nil }
            if found.serialized() == expected.serialized() { return nil }
            return "\(path) (\(found.shortDescription) there, \(expected.shortDescription) from the metrics)"
        }
    }
}

/// The settings in config.json that say how a run was executed, not what it computes (and the
/// "arguments" that say the spec in options, for people): they may
/// differ between a run and its continuation (`--resume`) and between runs that are merged.
public enum ExecutionSettings {
    public static let keys: Set<String> = ["threads", "data_dir", "arguments", "package_version", "git_commit",
                                           "blas", "blas_core", "blas_core_openblas_pick", "blas_core_reason", "blas_core_why",
                                           "resumed", "merged_from"]
    /// The BLAS kernel: a different one changes float rounding, worth a note, not a refusal.
    /// ("blas" names OpenBLAS's version, build and kernel; blas_core repeats the kernel.)
    public static let kernelKeys: Set<String> = ["blas"]
}
