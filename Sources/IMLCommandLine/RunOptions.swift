// Command-line pieces every modality's tool shares: the `run` options with the same names and
// meanings, and one-sentence error reporting.

import ArgumentParser
import Foundation
import IMLBase
import IMLExperiment

public struct RunOptions: ParsableArguments {
    @Option(help: "Number of seeds.") public var seeds = 5
    @Option(help: "First seed; the seeds are first-seed, first-seed+1, ...") public var firstSeed: UInt64 = 0
    @Option(help: "Epochs of stage 1 (default: the modality's).") public var epochs1: Int?
    @Option(help: "Epochs of stage 2.") public var epochs2 = 30
    @Option(help: "Batch size.") public var batchSize = 64
    @Option(help: "Adam learning rate.") public var lr: Float = 1e-3
    @Option(help: "Output directory (default results/<modality>/<UTC time>).") public var out: String?
    @Option(help: "Threads: seeds train concurrently, one per thread with single-threaded BLAS (default: all cores).")
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Smoke-test preset that finishes in well under a minute (fewer entities, epochs and seeds).") public var quick = false
    @Flag(help: "Overwrite an existing run in --out.") public var force = false
    @Option(help: ArgumentHelp("Continue the stopped or killed run in this directory from its checkpoints; give the same options as when it started.",
                               valueName: "dir"))
    public var resume: String?

    public init() {}

    public var seedList: [UInt64] { (0..<UInt64(max(0, seeds))).map { firstSeed + $0 } }

    /// The quick preset's epochs and seeds (each tool adds its own smaller data).
    public mutating func applyQuickPreset() { epochs1 = 3; epochs2 = 3; seeds = 2 }

    /// Validated training settings; `defaultEpochs1` is the modality's stage-1 default.
    public func trainingConfig(defaultEpochs1: Int = 30) throws -> TrainingConfig {
        if seeds < 1 { throw IMLError("--seeds must be at least 1 (got \(seeds)).") }
        if threads < 1 { throw IMLError("--threads must be at least 1 (got \(threads)).") }
        var t = TrainingConfig()
        t.epochs1 = epochs1 ?? defaultEpochs1
        t.epochs2 = epochs2
        t.batchSize = batchSize
        t.learningRate = lr
        try t.validate()
        return t
    }

    /// The run directory: `--resume DIR` opened to continue, else `--out` (or the default) created.
    public func runDirectory(modality: String) throws -> RunDirectory {
        guard let resume else {
            return try RunDirectory.create(out ?? RunDirectory.defaultPath(modality: modality), force: force)
        }
        if force { throw IMLError("--force and --resume contradict each other (--force starts the run again, --resume continues it); give only one.") }
        if let out, URL(fileURLWithPath: out).standardizedFileURL != URL(fileURLWithPath: resume).standardizedFileURL {
            throw IMLError("--out \(out) and --resume \(resume) name different directories; a resumed run continues in its own directory, so give only --resume.")
        }
        return try RunDirectory.openForResume(resume)
    }

    public func settingsLine(defaultEpochs1: Int = 30) -> String {
        "\(epochs1 ?? defaultEpochs1)+\(epochs2) epochs, batch \(batchSize), lr \(lr), \(seeds) seed\(seeds == 1 ? "" : "s")"
    }
}

/// Runs `body`; a user error becomes one line on stderr and exit code 1 (2 for divergence, 130
/// for a run stopped by Ctrl-C, with the command that continues it), never a stack trace.
public func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as IMLError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode(1)
    } catch let error as DivergenceError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(2)
    } catch let stopped as RunInterrupted {
        var message = "\(stopped)\n"
        if let command = resumeCommand(arguments: CommandLine.arguments, directory: stopped.directory) {
            message += "  \(command)\n"
        }
        FileHandle.standardError.write(Data(message.utf8))
        throw ExitCode(130)
    }
}

/// The command line that continues a stopped `run`: the same arguments with --out and --force
/// replaced by --resume DIR. Nil for other subcommands (a sweep's runs are resumed one by one).
public func resumeCommand(arguments: [String], directory: String) -> String? {
    guard let tool = arguments.first.map({ URL(fileURLWithPath: $0).lastPathComponent }) else { return nil }
    var rest = Array(arguments.dropFirst())
    if let first = rest.first, !first.hasPrefix("-"), first != "run" { return nil }
    var kept: [String] = []
    while !rest.isEmpty {
        let argument = rest.removeFirst()
        if argument == "--out" || argument == "--resume" { if !rest.isEmpty { rest.removeFirst() }; continue }
        if argument.hasPrefix("--out=") || argument.hasPrefix("--resume=") || argument == "--force" { continue }
        kept.append(argument)
    }
    kept += ["--resume", directory]
    func quoted(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=,:+".contains($0) }) ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
    return ([tool] + kept).map(quoted).joined(separator: " ")
}
