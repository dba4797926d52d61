// The options every modality's tool shares, each defined once with its help text: the protocol's
// (ProtocolOptions) and training's and execution's (RunOptions). Modality options stay with their
// modality's tool. `--quick` only changes defaults: an option given explicitly always wins.

import ArgumentParser
import Foundation
import IMLBase
import IMLCore
import IMLExperiment
import IMLProtocol

/// The smoke-test preset: what `--quick` sets where the command line leaves an option out.
public enum QuickPreset {
    public static let entities = 200
    public static let seeds = 2
    public static let epochs = 3
}

/// The protocol's settings (docs/PROTOCOL.md section 2), shared by every modality.
public struct ProtocolOptions: ParsableArguments {
    static let defaults = ProtocolConfig()

    @Option(help: "Entities (variables) per seed (default \(defaults.entities); \(QuickPreset.entities) with --quick).")
    public var entities: Int?
    // Optional, so that a tool can tell a value given from one left out (a vision design sets its own).
    @Option(help: "Attributes per entity (T): the facts a definition states, each also asked as a question (default \(defaults.attributes)).")
    public var attributes: Int?
    @Option(help: "Classes per attribute (chance = 1/classes; default \(defaults.classes)).")
    public var classes: Int?
    @Option(help: "Tag/consistency correlation in stage 1, in [0, 1].")
    public var alpha = defaults.alpha
    @Option(help: "2: the two-stage protocol; 1: one stage (--epochs1 epochs) on both stages' training sets, evaluating every subset.")
    public var stages = defaults.stages
    @Option(help: "Fraction of entities defined with tag 1 in stage 1 (qd1consis at alpha 1).")
    public var tag1Fraction = defaults.tag1Fraction
    @Option(help: "Fraction of entities defined with tag 2 in stage 1 (qd2incons at alpha 1).")
    public var tag2Fraction = defaults.tag2Fraction
    @Option(help: "Fraction of entities with questions only, no definition (q).")
    public var questionOnlyFraction = defaults.questionOnlyFraction
    @Option(help: "Seed of the stage-2 split (d1/d2/d3/baseline) alone, the same for every seed (default: each seed's own).")
    public var seedStage2: UInt64?

    public init() {}

    /// The validated protocol settings of one seed, without the --quick preset (render, sample).
    public func config(seed: UInt64) throws -> ProtocolConfig {
        var c = try config(quick: false)
        c.seed = seed
        return c
    }

    /// The validated protocol settings (seed 0; each seed sets its own).
    public func config(quick: Bool) throws -> ProtocolConfig {
        var c = ProtocolConfig()
        c.entities = entities ?? (quick ? QuickPreset.entities : Self.defaults.entities)
        c.attributes = attributes ?? Self.defaults.attributes
        c.classes = classes ?? Self.defaults.classes
        c.alpha = alpha
        c.stages = stages
        c.tag1Fraction = tag1Fraction
        c.tag2Fraction = tag2Fraction
        c.questionOnlyFraction = questionOnlyFraction
        c.seedStage2 = seedStage2
        try c.validate()
        return c
    }
}

/// A tool's training defaults that depend on its modality.
public protocol RunDefaults {
    static var epochs1: Int { get }
}

/// Training and execution options of `run` (and of every run of a sweep).
public struct RunOptions<Defaults: RunDefaults>: ParsableArguments {
    static var training: TrainingConfig { TrainingConfig() }

    @Option(help: "Number of seeds (default 5; \(QuickPreset.seeds) with --quick).")
    public var seeds: Int?
    @Option(help: "First seed; the seeds are first-seed, first-seed+1, ...")
    public var firstSeed: UInt64 = 0
    @Option(help: "Epochs of stage 1 (default \(Defaults.epochs1); \(QuickPreset.epochs) with --quick).")
    public var epochs1: Int?
    @Option(help: "Epochs of stage 2 (default \(training.epochs2); \(QuickPreset.epochs) with --quick).")
    public var epochs2: Int?
    @Option(help: "Batch size.")
    public var batchSize = training.batchSize
    @Option(help: "Adam learning rate.")
    public var lr = training.learningRate
    @Option(help: "Output directory (default results/<modality>/<UTC time>).")
    public var out: String?
    @Option(help: "Cores to use (the default is every core of this machine): seeds train concurrently, one thread each (cores + seeds % cores at once when seeds outnumber cores, so they end in whole rounds), and a core no seed occupies helps the seeds still training, each step split into pieces fixed by the shapes. Never changes the numbers.")
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: ArgumentHelp("OpenBLAS's kernel. auto (the default): OpenBLAS's own pick, or the fastest kernel the processor's features allow where that pick is a fallback (as on processors newer than this OpenBLAS). A name pins it, so the run gives the same bytes on any machine that runs it (e.g. Haswell, which every x86-64 processor with AVX2 runs). config.json records the kernel and why.",
                               valueName: "name"))
    public var blasCore: String?
    @Option(help: ArgumentHelp("Keep each seed's weights also at every K-th epoch of stage 1 (and before it), for `analyze` along training; the end of each stage is always kept.",
                               valueName: "K"))
    public var saveEvery: Int?
    @Flag(help: "Smoke-test preset that finishes in well under a minute: fewer entities, epochs and seeds where not given.")
    public var quick = false
    @Flag(help: "Overwrite an existing run in --out.")
    public var force = false
    @Option(help: ArgumentHelp("Continue the stopped or killed run in this directory with the settings it recorded; options given beside it must agree with them.",
                               valueName: "dir"))
    public var resume: String?

    public init() {}

    /// The most seeds one run may have (the published runs have 5 to 20).
    public static var maxSeeds: Int { 10_000 }

    public var seedList: [UInt64] {
        let n = seeds ?? (quick ? QuickPreset.seeds : 5)
        return (0..<UInt64(max(0, n))).map { firstSeed + $0 }
    }

    /// Validated training settings.
    public func trainingConfig() throws -> TrainingConfig {
        let n = seeds ?? 1
        if n < 1 { throw IMLError("--seeds must be at least 1 (got \(n)).") }
        if n > Self.maxSeeds {
            throw IMLError("--seeds \(n) is more than one run holds (at most \(Self.maxSeeds)); split the seeds over several runs with --first-seed and join them with merge.")
        }
        try Parallel.checkThreads(threads)
        // Seeds are written to config.json and metrics.jsonl as JSON integers.
        let count = seeds ?? (quick ? QuickPreset.seeds : 5)
        if firstSeed > UInt64(Int.max) - UInt64(count - 1) {
            throw IMLError("--first-seed \(firstSeed) with --seeds \(count) goes past the largest seed, \(Int.max); use a smaller --first-seed.")
        }
        if let saveEvery, saveEvery < 1 { throw IMLError("--save-every must be a whole number of epochs, at least 1 (got \(saveEvery)).") }
        var t = TrainingConfig()
        t.epochs1 = epochs1 ?? (quick ? QuickPreset.epochs : Defaults.epochs1)
        t.epochs2 = epochs2 ?? (quick ? QuickPreset.epochs : t.epochs2)
        t.batchSize = batchSize
        t.learningRate = lr
        try t.validate()
        return t
    }

    /// Refuses --resume beside --force or another --out.
    public func checkResumeOptions() throws {
        guard let resume else { return }
        if force { throw IMLError("--force and --resume contradict each other (--force starts the run again, --resume continues it); give only one.") }
        if let out, URL(fileURLWithPath: out).standardizedFileURL != URL(fileURLWithPath: resume).standardizedFileURL {
            throw IMLError("--out \(out) and --resume \(resume) name different directories; a resumed run continues in its own directory, so give only --resume.")
        }
    }

    /// The run directory: `--resume DIR` opened to continue, else `--out` (or the default) created.
    public func runDirectory(modality: String) throws -> RunDirectory {
        try checkResumeOptions()
        guard let resume else {
            return try RunDirectory.create(out ?? RunDirectory.defaultPath(modality: modality), force: force)
        }
        return try RunDirectory.openForResume(resume)
    }
}

/// Runs `body`; a user error becomes one line on stderr and exit code 1 (2 for divergence, 130
/// for a run stopped by Ctrl-C, 143 by SIGTERM, with the command that continues it), never a stack trace.
public func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as IMLError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode(1)
    } catch let error as FileWriteError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
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
        throw ExitCode(stopped.exitStatus)
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
    return ([tool] + kept).map(shellWord).joined(separator: " ")
}
