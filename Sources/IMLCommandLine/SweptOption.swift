// What `sweep --set OPTION=...` may vary: the options that set a key of the run specification
// (`--tag1-fraction` sets `tag1_fraction`), which the spec itself lists. Every run of a sweep is
// then parsed and validated as `run` would, before the first one starts.

import ArgumentParser
import Foundation
import IMLBase
import IMLRunFiles

extension RunnableCommand {
    /// The options that set the spec's keys, e.g. "--alpha", "--conv-channels", "--seeds".
    static var specOptions: Set<String> {
        // --precision is in a spec only when it is not fp32, so the default spec lacks it.
        Set(defaultSpec.leaves.map { RunSpec.option(forKey: $0.key) }).union(["--first-seed", "--precision"])
    }

    /// Refuses an option `sweep --set` cannot vary: one that sets no key of the run spec (a flag,
    /// or one that only says where or how a run executes, so every run would be the same).
    static func checkSweepable(_ name: String, tool: String) throws {
        let option = "--" + name
        if specOptions.contains(option) { return }
        switch option {
        case "--blas-core":
            // The kernel is chosen once per process, before any product; a sweep's runs share one.
            throw IMLError("--set blas-core: a sweep runs in one process, which uses one OpenBLAS kernel; sweep each kernel on its own (one sweep with --blas-core NAME per kernel).")
        case "--quick", "--force":
            throw IMLError("--set \(name): \(option) is a flag and takes no value, so it cannot be swept; give it beside --set to apply it to every run.")
        case "--threads", "--data-dir", "--out", "--resume", "--spec":
            throw IMLError("--set \(name): \(option) only says where or how a run executes and is not recorded with it, so it cannot be swept; give it once beside --set.")
        default:
            throw IMLError("--set \(name): `run` has no option \(option); see \(tool) run --help.")
        }
    }

    /// The spec of the sweep's run for `value`: the shared options and the swept one, parsed and
    /// validated as `run` would; the first value `run` would refuse is named in one sentence.
    static func sweptSpec(_ plan: SweepPlan, value: SweepValue, tool: String) throws -> RunSpec {
        let command: Self
        do {
            command = try Self.parse(plan.runArguments(value, directory: "-"))
        } catch {
            let message = Self.message(for: error)
            if let choices = choices(in: message) {
                throw IMLError("--set \(plan.parameter.name): \(value.text) is not a value of \(plan.parameter.option), which takes \(list(choices)); see \(tool) run --help.")
            }
            var reason = (message.split(separator: "\n").first.map(String.init) ?? "\(error)")
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
            reason = reason.prefix(1).lowercased() + reason.dropFirst()
            throw IMLError("--set \(plan.parameter.name): `run` refuses \(plan.parameter.option) \(value.text) (\(reason)); see \(tool) run --help.")
        }
        do {
            return try command.spec()
        } catch let error as IMLError where !SweepParameter.listOptions.contains(plan.parameter) {
            // Any option may be swept, so say which run the settings check refused.
            throw IMLError("--set \(plan.parameter.name)=\(value.text): \(error.message)")
        }
    }

    /// The values an enumerated option takes, as ArgumentParser lists them when it refuses one
    /// ("Please provide one of 'fixed' and 'fresh'", or one "- value" per line); nil otherwise.
    static func choices(in message: String) -> [String]? {
        guard let range = message.range(of: "Please provide one of") else { return nil }
        let rest = message[range.upperBound...]
        let listed = rest.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
        if !listed.isEmpty { return listed }
        let quoted = (rest.split(separator: "\n").first ?? "").split(separator: "'", omittingEmptySubsequences: false)
            .enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        return quoted.isEmpty ? nil : quoted
    }

    /// "a, b or c".
    static func list(_ words: [String]) -> String {
        words.count < 2 ? words.joined() : words.dropLast().joined(separator: ", ") + " or " + words.last!
    }

    /// Validates every run of `record` as `run` would on `execution`'s machine, without loading data.
    static func checkSweepRuns(_ record: SweepRecord, with execution: Self) throws {
        for (value, spec) in zip(record.values, record.specs) {
            do {
                _ = try execution.validatedExperiment(spec)
            } catch let error as IMLError where !SweepParameter.listOptions.contains(record.parameter) {
                throw IMLError("--set \(record.parameter.name)=\(value.text): \(error.message)")
            }
        }
    }
}
