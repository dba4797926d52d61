// The run specification: everything that decides a run's numbers, and nothing about where or how
// it executes (threads, data directory, output directory, BLAS kernel). It is the one source of
// truth: the command-line options fill it, config.json records it under "spec", and `--resume`,
// `--spec`, sweep, submit, merge and analyze read it back. Its keys are the options' names:
// the spec key `tag1_fraction` is the option `--tag1-fraction`, `settings.conv_channels` is
// `--conv-channels`, so every setting is found the same way in help, in config.json and in sweep.

import Foundation
import IMLBase
import IMLProtocol

public struct RunSpec: Equatable, Sendable {
    /// The modality that trains it (config.json's "modality"), e.g. "mnist".
    public var modality: String
    public var seeds: [UInt64]
    /// Keep each seed's weights at stage-1 epochs that are multiples of this too (RunModels).
    public var saveEvery: Int?
    /// Stage 2 starts from this run's saved stage-1 model at epoch `training.epochs1` instead of
    /// training stage 1 (`--stage2-from RUN`); nil: the run trains its own stage 1.
    public var stage2From: String?
    /// The protocol settings of every seed (`seed` unused: each seed sets its own).
    public var protocolConfig: ProtocolConfig
    public var training: TrainingConfig
    /// The modality's own settings, as its Codable settings struct writes them.
    public var settings: JSON

    public init(modality: String, seeds: [UInt64], saveEvery: Int? = nil, stage2From: String? = nil, protocolConfig: ProtocolConfig,
                training: TrainingConfig, settings: JSON) {
        self.modality = modality; self.seeds = seeds; self.saveEvery = saveEvery; self.stage2From = stage2From
        self.protocolConfig = protocolConfig; self.training = training; self.settings = settings
    }

    /// The most seeds one run may have (the published runs have 5 to 20).
    public static let maxSeeds = 10_000

    /// Throws an IMLError naming the first impossible setting by its option.
    public func validate() throws {
        try RunSpec.checkSeeds(count: seeds.count, first: seeds.first ?? 0)
        if let saveEvery, saveEvery < 1 { throw IMLError("--save-every must be a whole number of epochs, at least 1 (got \(saveEvery)).") }
        try protocolConfig.validate()
        try training.validate()
        // A run must train: one stage with no epochs would report an IML effect of untrained weights.
        if protocolConfig.stages == 1 && training.epochs1 == 0 {
            throw IMLError("--stages 1 with --epochs1 0 trains nothing; give --epochs1 at least 1.")
        }
        if let stage2From, protocolConfig.stages == 1 {
            throw IMLError("--stage2-from \(stage2From) starts stage 2, and --stages 1 has none; leave --stages out (2).")
        }
        let first = protocolConfig.definitionsFirst
        if first > 0 && first >= training.epochs1 {
            throw IMLError("--definitions-first \(first) leaves none of stage 1's \(training.epochs1) epochs (--epochs1) for its questions; give --epochs1 above \(first), e.g. --epochs1 \(2 * first) for as many epochs of questions as of definitions.")
        }
    }

    /// The seeds first, first+1, ..., first+count-1, refused where they cannot be a run's.
    public static func seeds(count: Int, first: UInt64) throws -> [UInt64] {
        try checkSeeds(count: count, first: first)
        return (0..<UInt64(count)).map { first + $0 }
    }

    static func checkSeeds(count: Int, first: UInt64) throws {
        if count < 1 { throw IMLError("--seeds must be at least 1 (got \(count)).") }
        if count > maxSeeds {
            throw IMLError("--seeds \(count) is more than one run holds (at most \(maxSeeds)); split the seeds over several runs with --first-seed and join them with merge.")
        }
        // Seeds are written to config.json and metrics.jsonl as JSON integers.
        if first > UInt64(Int.max) - UInt64(count - 1) {
            throw IMLError("--first-seed \(first) with --seeds \(count) goes past the largest seed, \(Int.max); use a smaller --first-seed.")
        }
    }

    // MARK: As JSON

    /// config.json's "spec". `stage2_from` appears only in a run that has one, so the specs of
    /// runs that train their own stage 1 read as before it existed.
    public var json: JSON {
        var p = protocolConfig
        p.seed = 0
        let protocolFields = ((try? JSONCoding.encode(p))?.objectFields ?? []).filter { $0.0 != "seed" }
        return .object([
            ("modality", .string(modality)),
            ("seeds", .array(seeds.map { .int(Int($0)) })),
            ("save_every", saveEvery.map(JSON.int) ?? .null),
        ] + (stage2From.map { [("stage2_from", JSON.string($0))] } ?? []) + [
            ("protocol", .object(protocolFields)),
            ("training", (try? JSONCoding.encode(training)) ?? .null),
            ("settings", settings),
        ])
    }

    /// Reads a spec back; a mistake names `what` (e.g. "DIR/config.json's spec") and the key.
    public init(json: JSON, what: String) throws {
        guard case .object(let fields) = json else {
            throw IMLError("\(what) is \(json.kindDescription), not an object of settings.")
        }
        let known = ["modality", "seeds", "save_every", "stage2_from", "protocol", "training", "settings"]
        if let unknown = fields.first(where: { !known.contains($0.0) }) {
            throw IMLError("\(what) has the setting \(unknown.0), which this version does not know (a newer version wrote it); use that version, or remove the setting.")
        }
        func field(_ key: String) throws -> JSON {
            guard let value = json[key] else { throw IMLError("\(what) has no setting \(key).") }
            return value
        }
        guard case .string(let modality) = try field("modality") else { throw IMLError("\(what) has a modality that is not a name.") }
        self.modality = modality
        self.seeds = try JSONCoding.decode([UInt64].self, from: try field("seeds"), what: "\(what)'s seeds")
        self.saveEvery = try JSONCoding.decode(Int?.self, from: try field("save_every"), what: "\(what)'s save_every")
        self.stage2From = try json["stage2_from"].map { try JSONCoding.decode(String.self, from: $0, what: "\(what)'s stage2_from") }
        guard case .object(var protocolFields) = try field("protocol") else { throw IMLError("\(what) has a protocol that is not an object.") }
        protocolFields.append(("seed", .int(0)))
        // A setting added after the spec was written takes its default, which is what that version did.
        let protocolJSON = JSON.object(protocolFields).filling(from: try JSONCoding.encode(ProtocolConfig()))
        self.protocolConfig = try JSONCoding.decode(ProtocolConfig.self, from: protocolJSON, what: "\(what)'s protocol")
        self.training = try JSONCoding.decode(TrainingConfig.self, from: try field("training"), what: "\(what)'s training")
        self.settings = try field("settings")
    }

    // MARK: Keys and options

    /// Every setting as (key path, value): "alpha", "batch_size", "settings.grid", "seeds", ...;
    /// the key path's last part is the option's name in snake_case.
    public var leaves: [(key: String, value: JSON)] {
        guard case .object(let fields) = json else { return [] }
        var out: [(String, JSON)] = []
        for (key, value) in fields where key != "modality" {
            switch key {
            case "protocol", "training":
                out += value.objectFields ?? []
            case "settings":
                out += (value.objectFields ?? []).map { ("settings." + $0.0, $0.1) }
            default:
                out.append((key, value))
            }
        }
        return out
    }

    /// The option that sets the spec key `key` ("settings.conv_channels" -> "--conv-channels").
    public static func option(forKey key: String) -> String {
        "--" + (key.split(separator: ".").last.map(String.init) ?? key).replacingOccurrences(of: "_", with: "-")
    }

    /// The first setting in which `other` differs from this spec, as (option, this value, other value).
    public func firstDifference(from other: RunSpec) -> (option: String, mine: String, other: String)? {
        if modality != other.modality { return ("modality", modality, other.modality) }
        let theirs = other.leaves
        for (key, value) in leaves {
            let match = theirs.first { $0.key == key }?.value
            if match != value {
                return (Self.option(forKey: key), Self.optionText(key: key, value), match.map { Self.optionText(key: key, $0) } ?? "nothing")
            }
        }
        return theirs.first { leaf in !leaves.contains { $0.key == leaf.key } }
            .map { (Self.option(forKey: $0.key), "nothing", Self.optionText(key: $0.key, $0.value)) }
    }

    /// A setting's value as its option takes it: "0.5", "vte", "16,32,32"; seeds as "5 from 0".
    static func optionText(key: String, _ value: JSON) -> String {
        switch value {
        case .string(let s): return s
        case .null: return "none"
        case .array(let items) where key == "seeds":
            let seeds = items.compactMap { if case .int(let i) = $0 { return i } else { return nil } }
            return "\(seeds.count) (from \(seeds.first ?? 0))"
        case .array(let items): return items.map { optionText(key: key, $0) }.joined(separator: ",")
        default: return value.serialized()
        }
    }

    /// The options that turn `defaults` into this spec, for people (config.json's "arguments",
    /// figure subtitles): e.g. ["--alpha", "0.5", "--seeds", "5"]. Nothing reads them back.
    public func options(differingFrom defaults: RunSpec, excluding excluded: Set<String> = []) -> [String] {
        let base = defaults.leaves
        var out: [String] = []
        for (key, value) in leaves where base.first(where: { $0.key == key })?.value != value && !excluded.contains(Self.option(forKey: key)) {
            if key == "seeds" {
                if seeds.count != defaults.seeds.count { out += ["--seeds", String(seeds.count)] }
                if seeds.first != defaults.seeds.first { out += ["--first-seed", String(seeds.first ?? 0)] }
                continue
            }
            if value == .null { continue }  // no option gives "none"; only the default is none
            out += [Self.option(forKey: key), Self.optionText(key: key, value)]
        }
        return out
    }
}

extension JSON {
    /// A run file's "spec" read as a RunSpec, or nil when it has none (an older version made it).
    public func runSpec(file: String) throws -> RunSpec? {
        guard let spec = self["spec"] else { return nil }
        return try RunSpec(json: spec, what: "\(file)'s spec")
    }
}
