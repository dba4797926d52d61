// The `run` subcommand of every tool, once: a tool's Run declares its option groups and says how
// its options make a Modality; everything else (--quick defaults, --resume DIR alone, validation
// before any data loads, the run directory, the experiment, the final table) happens here.

import ArgumentParser
import Foundation
import IMLBase
import IMLExperiment
import IMLProtocol

public protocol RunnableCommand: ParsableCommand {
    associatedtype Defaults: RunDefaults
    var runOptions: RunOptions<Defaults> { get }
    var protocolOptions: ProtocolOptions { get }
    /// The modality the tool's own options describe.
    func makeModality() throws -> Modality
    /// Options for where this machine keeps what a run used (its data directory), which the run's
    /// recorded arguments leave out: taken from its config.json when that place still serves, with
    /// a note saying what was used. `resume` and `analyze` use them unless the user gives their own.
    static func recordedLocation(_ config: RunConfig) -> (arguments: [String], note: String)?
}

extension RunnableCommand {
    public static func recordedLocation(_ config: RunConfig) -> (arguments: [String], note: String)? { nil }

    /// `recordedLocation` of the run in `config`, unless `given` already names each of its options.
    /// The caller prints the note once the process runs its BLAS kernel (choosing it may restart it).
    static func recordedLocation(_ config: RunConfig, unlessGivenIn given: [String]) -> (arguments: [String], note: String?) {
        guard let location = recordedLocation(config) else { return ([], nil) }
        let names = location.arguments.filter { $0.hasPrefix("--") }
        if names.allSatisfy({ name in given.contains { $0 == name || $0.hasPrefix(name + "=") } }) { return ([], nil) }
        return (location.arguments, location.note)
    }
}

extension RunnableCommand {
    /// Parses nothing itself: `arguments` are the ones this command was parsed from (the command
    /// line, or the arguments a sweep built), recorded in config.json so `--resume DIR` alone can
    /// repeat them.
    public func runExperiment(arguments: [String]) throws {
        try reportingErrors {
            var command = self, arguments = arguments, note: String?
            if let directory = runOptions.resume {
                try runOptions.checkResumeOptions()
                let config = try RunConfig.read(try RunDirectory.openForResume(directory))
                // Another tool's run first: its recorded options may not even parse here.
                let ours = try Self.parse([]).makeModality().name
                guard config.modality == ours else {
                    throw IMLError("\(directory) is a run of the \(config.modality) modality, not \(ours); resume it with \(RunCommand.tool(ofModality: config.modality)).")
                }
                if let parts = RunCommand.mergedFrom(config) {
                    // Every seed of a merged run finished in its own run: nothing to continue.
                    FileHandle.standardError.write(Data("The run in \(directory) was merged from \(parts.joined(separator: ", ")) and is finished as it is; nothing to resume, and nothing was rewritten.\n".utf8))
                    return
                }
                let recorded = try RunCommand.recordedArguments(of: config)
                // Recorded first, so an option given again must agree (the settings check names it).
                let location = Self.recordedLocation(config, unlessGivenIn: arguments)
                arguments = recorded + location.arguments + arguments
                note = location.note
                do {
                    command = try Self.parse(arguments)
                } catch {
                    throw IMLError("The arguments recorded in \(directory)/config.json do not parse with this version of the program (\(Self.message(for: error))); resume with the version that made the run, or start a new run with --out.")
                }
            }
            // The kernel first: choosing it may restart the process, which would say everything twice.
            try BLASPin.apply(option: command.runOptions.blasCore)
            if let note { FileHandle.standardError.write(Data((note + "\n").utf8)) }
            try command.execute(arguments: arguments)
        }
    }

    /// The experiment these options describe, every setting validated as `run` validates it,
    /// without loading any data; its memory is checked for the seeds that train together on
    /// `threads` threads (one: what a Slurm task or a sweep's single run holds).
    func validatedExperiment(arguments: [String], threads: Int = 1) throws -> Experiment {
        let run = runOptions
        let training = try run.trainingConfig()
        let protocolConfig = try protocolOptions.config(quick: run.quick)
        try Self.checkTrainsSomething(protocolConfig, training)
        let modality = try makeModality()
        try modality.validate(protocolConfig)
        if let estimate = modality.memoryEstimate(protocolConfig) {
            try MemoryEstimate.check(perSeed: estimate.bytes, atOnce: MemoryEstimate.seedsAtOnce(seeds: run.seedList.count, threads: threads),
                                     settings: estimate.settings)
        }
        return Experiment(modality: modality, protocolConfig: protocolConfig, seeds: run.seedList, training: training,
                          concurrency: 1, arguments: ExecutionSettings.recordedArguments(arguments))
    }

    /// A run must train: one stage with no epochs would report an IML effect of untrained weights.
    static func checkTrainsSomething(_ protocolConfig: ProtocolConfig, _ training: TrainingConfig) throws {
        if protocolConfig.stages == 1 && training.epochs1 == 0 {
            throw IMLError("--stages 1 with --epochs1 0 trains nothing; give --epochs1 at least 1.")
        }
    }

    func execute(arguments: [String]) throws {
        let run = runOptions
        var experiment = try validatedExperiment(arguments: arguments, threads: run.threads)
        let modality = experiment.modality, training = experiment.training
        let directory = try run.runDirectory(modality: modality.name)
        do {
            try modality.prepare()
        } catch {
            // Leave nothing behind for a run that never started.
            if !directory.resumes { directory.removeIfUnused() }
            throw error
        }
        experiment.concurrency = run.threads
        experiment.saveEvery = run.saveEvery
        let summary = try experiment.run(in: directory)
        print(summary.table())
        print(String(format: "wall time %.1f s; ", summary.wallSeconds)
              + (modality.throughput(training: training, seeds: run.seedList.count, wallSeconds: summary.wallSeconds).map { $0 + "; " } ?? "")
              + "outputs in \(directory.url.path)")
    }
}

public enum RunCommand {
    /// This process's `run` arguments: the command line without the tool and the subcommand name.
    public static func commandLineArguments() -> [String] {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "run" { arguments.removeFirst() }
        return arguments
    }

    /// The runs a merged run was made from (config.json's merged_from), or nil for a run that trained.
    static func mergedFrom(_ config: RunConfig) -> [String]? {
        guard case .array(let items)? = config["merged_from"] else { return nil }
        return items.compactMap { if case .string(let path) = $0 { return path } else { return nil } }
    }

    /// The tool that runs a modality: each is named MODALITY-iml.
    static func tool(ofModality modality: String) -> String { modality + "-iml" }

    /// The arguments a run's config.json recorded.
    static func recordedArguments(of config: RunConfig) throws -> [String] {
        guard let arguments = config.arguments else {
            throw IMLError("\(config.path) does not record the run's arguments (an older version made it); resume it with that version, or start a new run with --out.")
        }
        return arguments
    }
}
