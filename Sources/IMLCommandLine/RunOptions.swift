// The options every modality's tool shares, each defined once with its help text: the protocol's
// (ProtocolOptions) and training's and execution's (RunOptions). Modality options stay with their
// modality's tool. `--quick` only changes defaults: an option given explicitly always wins.

import ArgumentParser
import Foundation
import IMLBase
import IMLCore
import IMLRunFiles
import IMLTraining
import IMLProtocol

/// The smoke-test preset: what `--quick` sets where the command line leaves an option out.
public enum QuickPreset {
    public static let entities = 200
    public static let seeds = 2
    public static let epochs = 3
}

/// The protocol's settings (docs/PROTOCOL.md section 2), shared by every modality. Each option is
/// the RunSpec key of its name (`--tag1-fraction` sets `tag1_fraction`); one left out keeps the
/// value of the spec it applies to (the tool's defaults, a resumed run's, or a --spec file's).
public struct ProtocolOptions<Defaults: RunDefaults>: ParsableArguments {
    static var defaults: ProtocolConfig { Defaults.protocolConfig }

    @Option(help: "Entities (variables) per seed (default \(defaults.entities); \(QuickPreset.entities) with --quick).")
    public var entities: Int?
    @Option(help: "Attributes per entity (T): the facts a definition states, each also asked as a question (default \(defaults.attributes)).")
    public var attributes: Int?
    @Option(help: "Classes per attribute (chance = 1/classes; default \(defaults.classes)).")
    public var classes: Int?
    @Option(help: "Tag/consistency correlation in stage 1, in [0, 1] (default \(JSON.format(defaults.alpha))).")
    public var alpha: Double?
    @Option(help: "2: the two-stage protocol; 1: one stage (--epochs1 epochs) on both stages' training sets, evaluating every subset (default \(defaults.stages)).")
    public var stages: Int?
    @Option(help: "Fraction of entities defined with tag 1 in stage 1 (qd1consis at alpha 1; default \(JSON.format(defaults.tag1Fraction))).")
    public var tag1Fraction: Double?
    @Option(help: "Fraction of entities defined with tag 2 in stage 1 (qd2incons at alpha 1; default \(JSON.format(defaults.tag2Fraction))).")
    public var tag2Fraction: Double?
    @Option(help: "Fraction of entities with questions only, no definition (q; default \(JSON.format(defaults.questionOnlyFraction))).")
    public var questionOnlyFraction: Double?
    @Option(help: "Fraction of entities with questions and a consistent definition whose tag no other definition carries (qd4consis, the authors' control; default \(JSON.format(defaults.qd4consisFraction)): none).")
    public var qd4consisFraction: Double?
    @Option(help: "true: also evaluate d2incons, d2consis's questions asked with the variables swapped in pairs (the authors' control; default \(defaults.d2incons)).")
    public var d2incons: Bool?
    @Option(help: ArgumentHelp("Weights splitting the rest of the entities into d1consis, d2consis, d3consis and no_qd_baseline (default \(defaults.stage2Weights.map(JSON.format).joined(separator: ","))).",
                               valueName: "d1,d2,d3,baseline"))
    public var stage2Weights: String?
    @Option(help: "Attributes held out for evaluation per stage-1 variable with questions (default round(T/6), at least 1).")
    public var heldOutPerVariable: Int?
    @Option(help: "Seed of the stage-2 split (d1/d2/d3/baseline) alone, the same for every seed (default: each seed's own).")
    public var seedStage2: UInt64?
    @Option(help: ArgumentHelp("Definitions first: stage 1 trains on its definitions alone for its first N epochs, then on its questions alone for the rest of --epochs1 (default \(defaults.definitionsFirst): both together every epoch).",
                               valueName: "N"))
    public var definitionsFirst: Int?

    public init() {}

    /// The options given, applied to `c`.
    public func apply(to c: inout ProtocolConfig) throws {
        if let entities { c.entities = entities }
        if let attributes { c.attributes = attributes }
        if let classes { c.classes = classes }
        if let alpha { c.alpha = alpha }
        if let stages { c.stages = stages }
        if let tag1Fraction { c.tag1Fraction = tag1Fraction }
        if let tag2Fraction { c.tag2Fraction = tag2Fraction }
        if let questionOnlyFraction { c.questionOnlyFraction = questionOnlyFraction }
        if let qd4consisFraction { c.qd4consisFraction = qd4consisFraction }
        if let d2incons { c.d2incons = d2incons }
        if let stage2Weights { c.stage2Weights = try Self.numbers(stage2Weights, option: "--stage2-weights") }
        if let heldOutPerVariable { c.heldOutPerVariable = heldOutPerVariable }
        if let seedStage2 { c.seedStage2 = seedStage2 }
        if let definitionsFirst { c.definitionsFirst = definitionsFirst }
    }

    /// The validated protocol settings of one seed, without the --quick preset (render, sample).
    public func config(seed: UInt64) throws -> ProtocolConfig {
        var c = Defaults.protocolConfig
        try apply(to: &c)
        try c.validate()
        c.seed = seed
        return c
    }

    /// "1,1,1,0.75" -> [1, 1, 1, 0.75]; anything else gets one sentence naming `option`.
    static func numbers(_ list: String, option: String) throws -> [Double] {
        try list.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let text = item.trimmingCharacters(in: .whitespaces)
            guard let x = Double(text), x.isFinite else {
                throw IMLError("\(option) takes comma-separated numbers, e.g. \(option) 1,1,1,0.75, and \"\(text)\" is not one.")
            }
            return x
        }
    }
}

/// A tool's defaults that depend on its modality or task: what a run given no option trains.
public protocol RunDefaults {
    /// Default: ProtocolConfig()'s, the protocol of docs/PROTOCOL.md section 2.
    static var protocolConfig: ProtocolConfig { get }
    /// Default: TrainingConfig()'s.
    static var training: TrainingConfig { get }
}

extension RunDefaults {
    public static var protocolConfig: ProtocolConfig { ProtocolConfig() }
    public static var training: TrainingConfig { TrainingConfig() }
}

/// Training and execution options of `run` (and of every run of a sweep). The training options
/// set RunSpec keys as ProtocolOptions do; the execution options (--threads, --blas-core, --out,
/// --force, --resume) say where and how a run executes and are not part of its spec.
public struct RunOptions<Defaults: RunDefaults>: ParsableArguments {
    static var training: TrainingConfig { Defaults.training }

    @Option(help: "Number of seeds (default 5; \(QuickPreset.seeds) with --quick).")
    public var seeds: Int?
    @Option(help: "First seed; the seeds are first-seed, first-seed+1, ... (default 0).")
    public var firstSeed: UInt64?
    @Option(help: "Epochs of stage 1 (default \(training.epochs1); \(QuickPreset.epochs) with --quick).")
    public var epochs1: Int?
    @Option(help: "Epochs of stage 2 (default \(training.epochs2); \(QuickPreset.epochs) with --quick).")
    public var epochs2: Int?
    @Option(help: "Batch size (default \(training.batchSize)).")
    public var batchSize: Int?
    @Option(help: "Adam learning rate (default \(training.learningRate)).")
    public var lr: Float?
    @Option(help: "Arithmetic of the matrix products: fp32, or bf16 inputs with fp32 sums, as the paper trained (needs AVX512-BF16; default fp32).")
    public var precision: Precision?
    @Option(help: ArgumentHelp("Keep each seed's weights also at every K-th epoch of stage 1 (and before it), for `analyze` along training; the end of each stage is always kept.",
                               valueName: "K"))
    public var saveEvery: Int?
    @Option(help: ArgumentHelp("Train stage 2 only, from this finished run's saved stage-1 model at epoch --epochs1 (kept with --save-every K; default its last), with its settings, seeds and stage-1 records; only --seeds, --first-seed, --epochs1 and --epochs2 may differ. E.g. sweep --stage2-from RUN --set epochs1=0,5,10,20,30 asks when IML appears.",
                               valueName: "run"))
    public var stage2From: String?
    @Flag(help: "Smoke-test preset that finishes in well under a minute: fewer entities, epochs and seeds where not given.")
    public var quick = false
    @Option(help: ArgumentHelp("Start from the settings of this run specification: a run's config.json (its \"spec\") or a file holding a spec alone; options given beside it change those settings.",
                               valueName: "file"))
    public var spec: String?
    @Flag(help: "Print the run specification these options give (as config.json records it under \"spec\", and as --spec reads it) and exit without training.")
    public var printSpec = false
    @Option(help: "Output directory (default results/<modality>/<UTC time>).")
    public var out: String?
    @Option(help: "Cores to use (the default is every core of this machine): seeds train concurrently, one thread each (cores + seeds % cores at once when seeds outnumber cores, so they end in whole rounds), and a core no seed occupies helps the seeds still training, each step split into pieces fixed by the shapes. Never changes the numbers.")
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: ArgumentHelp("OpenBLAS's kernel. auto (the default): OpenBLAS's own pick, or the fastest kernel the processor's features allow where that pick is a fallback (as on processors newer than this OpenBLAS). A name pins it, so the run gives the same bytes on any machine that runs it (e.g. Haswell, which every x86-64 processor with AVX2 runs). config.json records the kernel and why.",
                               valueName: "name"))
    public var blasCore: String?
    @Flag(help: "Overwrite an existing run in --out.")
    public var force = false
    @Option(help: ArgumentHelp("Continue the stopped or killed run in this directory with the settings it recorded; options given beside it must agree with them.",
                               valueName: "dir"))
    public var resume: String?

    public init() {}

    /// The training options given (and the --quick preset where they leave a setting out), applied to `spec`.
    public func apply(to spec: inout RunSpec) throws {
        let count = seeds ?? (quick ? QuickPreset.seeds : spec.seeds.count)
        let first = firstSeed ?? spec.seeds.first ?? 0
        if count != spec.seeds.count || first != spec.seeds.first { spec.seeds = try RunSpec.seeds(count: count, first: first) }
        if let epochs1 = epochs1 ?? (quick ? QuickPreset.epochs : nil) { spec.training.epochs1 = epochs1 }
        if let epochs2 = epochs2 ?? (quick ? QuickPreset.epochs : nil) { spec.training.epochs2 = epochs2 }
        if let batchSize { spec.training.batchSize = batchSize }
        if let lr { spec.training.learningRate = lr }
        if let precision { spec.training.precision = precision }
        if let saveEvery { spec.saveEvery = saveEvery }
        if let stage2From { spec.stage2From = Self.absolutePath(stage2From) }
    }

    /// A directory named on the command line as the spec records it: absolute, so that a
    /// resumed run finds it from anywhere.
    static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Refuses --resume beside --force, --spec or another --out.
    public func checkResumeOptions() throws {
        guard let resume else { return }
        if force { throw IMLError("--force and --resume contradict each other (--force starts the run again, --resume continues it); give only one.") }
        if let spec { throw IMLError("--spec \(spec) and --resume \(resume) both give the run's settings; a resumed run continues with the settings it recorded, so give only --resume.") }
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

/// What a tool's `sample` shows: whose data, and how many documents of each kind.
public struct SampleOptions: ParsableArguments {
    @Option(help: "The seed whose data to show.") public var seed: UInt64 = 0
    @Option(help: "Documents shown per subset and kind.") public var n = 3
    public init() {}

    /// Refuses a count that shows nothing.
    public func check() throws {
        if n < 1 { throw IMLError("--n must be at least 1 (got \(n)).") }
    }
}

extension Precision: ExpressibleByArgument {}
