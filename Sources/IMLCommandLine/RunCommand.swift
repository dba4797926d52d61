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
}

extension RunnableCommand {
    /// Parses nothing itself: `arguments` are the ones this command was parsed from (the command
    /// line, or the arguments a sweep built), recorded in config.json so `--resume DIR` alone can
    /// repeat them.
    public func runExperiment(arguments: [String]) throws {
        try reportingErrors {
            var command = self, arguments = arguments
            if let directory = runOptions.resume {
                try runOptions.checkResumeOptions()
                let recorded = try RunCommand.recordedArguments(ofRunIn: directory)
                // Recorded first, so an option given again must agree (the settings check names it).
                arguments = recorded + arguments
                do {
                    command = try Self.parse(arguments)
                } catch {
                    throw IMLError("The arguments recorded in \(directory)/config.json do not parse with this version of the program (\(Self.message(for: error))); resume with the version that made the run, or start a new run with --out.")
                }
            }
            try command.execute(arguments: arguments)
        }
    }

    /// The experiment these options describe (one thread), every setting validated as `run`
    /// validates it, without loading any data.
    func validatedExperiment(arguments: [String]) throws -> Experiment {
        let run = runOptions
        let training = try run.trainingConfig()
        let protocolConfig = try protocolOptions.config(quick: run.quick)
        let modality = try makeModality()
        try modality.validate(protocolConfig)
        return Experiment(modality: modality, protocolConfig: protocolConfig, seeds: run.seedList, training: training,
                          concurrency: 1, arguments: ExecutionSettings.recordedArguments(arguments))
    }

    func execute(arguments: [String]) throws {
        let run = runOptions
        try BLASPin.apply(option: run.blasCore)
        let training = try run.trainingConfig()
        let protocolConfig = try protocolOptions.config(quick: run.quick)
        let modality = try makeModality()
        try modality.validate(protocolConfig)
        let directory = try run.runDirectory(modality: modality.name)
        do {
            try modality.prepare()
        } catch {
            // Leave nothing behind for a run that never started.
            if !directory.resumes, (try? FileManager.default.contentsOfDirectory(atPath: directory.url.path))?.isEmpty == true {
                try? FileManager.default.removeItem(at: directory.url)
            }
            throw error
        }
        var experiment = Experiment(modality: modality, protocolConfig: protocolConfig, seeds: run.seedList, training: training,
                                    concurrency: run.threads, arguments: ExecutionSettings.recordedArguments(arguments))
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

    /// The arguments config.json of the run in `directory` recorded.
    static func recordedArguments(ofRunIn path: String) throws -> [String] {
        let directory = try RunDirectory.openForResume(path)
        let file = directory.file(RunDirectory.configFile)
        guard let arguments = try RunConfig.read(directory).arguments else {
            throw IMLError("\(file.path) does not record the run's arguments (an older version made it); resume it with that version, or start a new run with --out.")
        }
        return arguments
    }
}
