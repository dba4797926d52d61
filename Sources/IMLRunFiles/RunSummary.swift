// From per-seed metric records to summary.json: the EM of every subset after the last epoch of
// each stage, and the IML effect EM(d1consis) - EM(d2consis) after stage 2, each with its mean,
// 95% half-width (Student t over seeds) and per-seed values.

import Foundation
import IMLBase
import IMLProtocol

public struct RunSummary: Equatable {
    public var modality: String
    public var seeds: [UInt64]
    /// stage -> subset -> summary over seeds (subsets in the protocol's order).
    /// The IML effect is EM(d1consis) - EM(d2consis) after stage 2, or after the single stage
    /// of a one-stage run.
    public var stages: [Int: [(String, SeedSummary)]]
    public var imlEffect: SeedSummary?
    public var wallSeconds: Double

    public static func == (a: RunSummary, b: RunSummary) -> Bool { a.json == b.json }

    /// Builds the summary from all seeds' records; the last epoch of each stage counts.
    public init(modality: String, records: [MetricRecord], wallSeconds: Double) {
        self.modality = modality
        self.wallSeconds = wallSeconds
        var finals: [Int: [String: [UInt64: (epoch: Int, em: Double)]]] = [:]
        var seedSet = Set<UInt64>()
        var subsetOrder: [String] = []
        for case let .exactMatch(seed, stage, epoch, subset, em, _) in records {
            seedSet.insert(seed)
            if !subsetOrder.contains(subset) { subsetOrder.append(subset) }
            if let old = finals[stage]?[subset]?[seed], old.epoch > epoch { continue }
            finals[stage, default: [:]][subset, default: [:]][seed] = (epoch, em)
        }
        seeds = seedSet.sorted()
        var stages: [Int: [(String, SeedSummary)]] = [:]
        for (stage, bySubset) in finals {
            stages[stage] = subsetOrder.filter { bySubset[$0] != nil }.map { subset in
                (subset, SeedSummary(seedSet.sorted().compactMap { bySubset[subset]?[$0]?.em }))
            }
        }
        self.stages = stages
        // After stage 2; in the one-stage setting, after its single stage.
        if let last = finals[2] ?? finals[1], let d1 = last["d1consis"], let d2 = last["d2consis"] {
            imlEffect = SeedSummary(seeds.compactMap { seed in
                guard let a = d1[seed]?.em, let b = d2[seed]?.em else { return nil }
                return a - b
            })
        }
    }

    /// Reads back a summary.json this program wrote (`file` names it in messages); means and
    /// intervals are recomputed from the per-seed values, subsets keep the file's order.
    public init(summaryJSON data: Data, file: String) throws {
        guard let object = try? JSON.read([UInt8](data)), object.objectFields != nil else {
            throw IMLError("\(file) is not valid JSON; restore it from the run (or from git) before using it.")
        }
        func summary(_ value: JSON?, _ key: String) throws -> SeedSummary {
            guard let items = value?["per_seed"]?.arrayItems, case let values = items.compactMap(\.numberValue), values.count == items.count else {
                throw IMLError("\(file) has no per-seed values for \(key); restore it from the run (or from git).")
            }
            return SeedSummary(values)
        }
        modality = object["modality"]?.stringValue ?? "unknown"
        seeds = (object["seeds"]?.arrayItems ?? []).compactMap { $0.intValue.flatMap { UInt64(exactly: $0) } }
        wallSeconds = object["wall_seconds"]?.numberValue ?? 0
        var stages: [Int: [(String, SeedSummary)]] = [:]
        for stage in 1...2 {
            // Subsets in the file's order.
            guard let subsets = object["stage\(stage)"]?.objectFields else { continue }
            stages[stage] = try subsets.map { ($0.0, try summary($0.1, "stage \(stage) \($0.0)")) }
        }
        self.stages = stages
        imlEffect = object["iml_effect"] == .null ? nil : try summary(object["iml_effect"], "the IML effect")
    }

    /// The IML effect on each further test with d1consis and d2consis scores ("association":
    /// association/d1consis - association/d2consis) at the end of training, per seed.
    public var testEffects: [(test: String, effect: SeedSummary)] {
        guard let last = stages.keys.max(), let subsets = stages[last] else { return [] }
        return subsets.compactMap { name, d1 -> (String, SeedSummary)? in
            guard name.hasSuffix("/d1consis"), case let test = String(name.dropLast("/d1consis".count)),
                  let d2 = value(stage: last, subset: test + "/d2consis"), d1.perSeed.count == d2.perSeed.count else { return nil }
            return (test, SeedSummary(zip(d1.perSeed, d2.perSeed).map { $0 - $1 }))
        }
    }

    public func value(stage: Int, subset: String) -> SeedSummary? {
        stages[stage]?.first { $0.0 == subset }?.1
    }

    /// The subset at the end of training: after stage 2, or after the single stage of a one-stage
    /// run (where the IML effect is read too).
    public func final(_ subset: String) -> SeedSummary? {
        stages.keys.max().flatMap { value(stage: $0, subset: subset) }
    }

    static func json(_ s: SeedSummary) -> JSON {
        .object([("mean", .number(s.mean)), ("ci95", .number(s.ci95)), ("per_seed", .array(s.perSeed.map { .number($0) }))])
    }

    public var json: JSON {
        var fields: [(String, JSON)] = [("modality", .string(modality)), ("seeds", .array(seeds.map { .int(Int($0)) }))]
        for stage in stages.keys.sorted() {
            fields.append(("stage\(stage)", .object(stages[stage]!.map { ($0.0, Self.json($0.1)) })))
        }
        fields.append(("iml_effect", imlEffect.map(Self.json) ?? .null))
        // Derived from the stages (so not read back); written only for runs with further tests.
        let tests = testEffects
        if !tests.isEmpty { fields.append(("test_iml_effects", .object(tests.map { ($0.test, Self.json($0.effect)) }))) }
        fields.append(("wall_seconds", .number((wallSeconds * 10).rounded() / 10)))
        return .object(fields)
    }

    /// The final table printed at the end of a run (and pasted into the README).
    public func table() -> String {
        let cell = SeedSummary.cell
        var lines = ["| stage | subset | EM (mean ± 95% CI over \(seeds.count) seed\(seeds.count == 1 ? "" : "s")) |",
                     "|---|---|---|"]
        for stage in stages.keys.sorted() {
            for (subset, s) in stages[stage]! { lines.append("| \(stage) | \(subset) | \(cell(s)) |") }
        }
        lines.append("| \(stages.keys.max() ?? 2) | **IML effect d1consis − d2consis** | **\(cell(imlEffect))** |")
        for (test, effect) in testEffects {
            lines.append("| \(stages.keys.max() ?? 2) | **IML effect, \(test) test: d1consis − d2consis** | **\(cell(effect))** |")
        }
        return lines.joined(separator: "\n")
    }
}

extension SeedSummary {
    /// A table cell: "mean ± ci95" (the mean alone for one seed), "—" when there is no number.
    public static func cell(_ s: SeedSummary?) -> String {
        guard let s, s.mean.isFinite else { return "—" }
        return s.ci95.isFinite ? String(format: "%.3f ± %.3f", s.mean, s.ci95) : String(format: "%.3f", s.mean)
    }
}
