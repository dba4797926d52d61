// What `sweep --set OPTION=...` may vary, asked of the tool's own `run`: the options it has,
// which take a value, and which of them only say where a run executes. Every run of a sweep is
// then parsed and validated as `run` would, before the first one starts.

import ArgumentParser
import Foundation
import IMLBase
import IMLExperiment

/// The long options of a command, as ArgumentParser describes them (its JSON help dump, the
/// one introspection it offers): whether each takes a value, and the values an enumerated one takes.
struct OptionCatalogue {
    enum Kind { case option, flag }
    var kinds: [String: Kind] = [:]
    var choices: [String: [String]] = [:]

    init<Command: ParsableCommand>(of command: Command.Type) {
        let dump: String
        do {
            _ = try command.parse(["--experimental-dump-help"])
            return
        } catch {
            dump = command.message(for: error)
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any],
              let arguments = (json["command"] as? [String: Any])?["arguments"] as? [[String: Any]] else { return }
        for argument in arguments {
            let kind: Kind
            switch argument["kind"] as? String {
            case "option": kind = .option
            case "flag": kind = .flag
            default: continue
            }
            for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                guard let long = name["name"] as? String else { continue }
                kinds[long] = kind
                if let values = argument["allValues"] as? [String], !values.isEmpty { choices[long] = values }
            }
        }
    }
}

extension RunnableCommand {
    /// Refuses an option `sweep --set` cannot vary: one `run` does not have, a flag, or one that
    /// only says where or how a run executes (not recorded with it, so every run would be the same).
    static func checkSweepable(_ name: String, tool: String) throws {
        switch OptionCatalogue(of: Self.self).kinds[name] {
        case nil:
            throw IMLError("--set \(name): `run` has no option --\(name); see \(tool) run --help.")
        case .flag:
            throw IMLError("--set \(name): --\(name) is a flag and takes no value, so it cannot be swept; give it beside --set to apply it to every run.")
        case .option where name == "blas-core":
            // The kernel is chosen once per process, before any product; a sweep's runs share one.
            throw IMLError("--set blas-core: a sweep runs in one process, which uses one OpenBLAS kernel; sweep each kernel on its own (one sweep with --blas-core NAME per kernel).")
        case .option where ExecutionSettings.options.contains("--" + name):
            throw IMLError("--set \(name): --\(name) only says where or how a run executes and is not recorded with it, so it cannot be swept; give it once beside --set.")
        case .option:
            break
        }
    }

    /// Parses and validates the run of every value of `plan` as `run` would, without loading
    /// data; the first value `run` would refuse is named in one sentence.
    static func checkSweepRuns(_ plan: SweepPlan, execution: [String], tool: String) throws {
        for value in plan.values {
            let arguments = plan.runArguments(value, directory: "-") + execution
            let command: Self
            do {
                command = try Self.parse(arguments)
            } catch {
                let option = plan.parameter.option
                if let choices = OptionCatalogue(of: Self.self).choices[plan.parameter.name] {
                    throw IMLError("--set \(plan.parameter.name): \(value.text) is not a value of \(option), which takes \(Self.list(choices)); see \(tool) run --help.")
                }
                var reason = (Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)")
                    .trimmingCharacters(in: CharacterSet(charactersIn: "."))
                reason = reason.prefix(1).lowercased() + reason.dropFirst()
                throw IMLError("--set \(plan.parameter.name): `run` refuses \(option) \(value.text) (\(reason)); see \(tool) run --help.")
            }
            do {
                _ = try command.validatedExperiment(arguments: arguments)
            } catch let error as IMLError where !SweepParameter.listOptions.contains(plan.parameter) {
                // Any option may be swept, so say which run the settings check refused.
                throw IMLError("--set \(plan.parameter.name)=\(value.text): \(error.message)")
            }
        }
    }

    /// "a, b or c".
    static func list(_ words: [String]) -> String {
        words.count < 2 ? words.joined() : words.dropLast().joined(separator: ", ") + " or " + words.last!
    }
}
