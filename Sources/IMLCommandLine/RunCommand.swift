// The `run` subcommand of every tool, once: a tool's Run declares its option groups and says how
// its options make a Modality; everything else (--quick defaults, --resume DIR alone, validation
// before any data loads, the run directory, the experiment, the final table) happens here.

import ArgumentParser
import Foundation
import IMLBase
import IMLCore
import IMLRunFiles
import IMLTraining
import IMLProtocol

public protocol RunnableCommand: ParsableCommand {
    associatedtype Defaults: RunDefaults
    /// The modality's part of the run specification, each field named as the tool's option.
    associatedtype Settings: Codable & Equatable
    var runOptions: RunOptions<Defaults> { get }
    var protocolOptions: ProtocolOptions<Defaults> { get }
    /// config.json's "modality" of the tool's runs.
    static var modalityName: String { get }
    static var defaultSettings: Settings { get }
    /// The tool's own options given, applied to `settings` (the defaults, a resumed run's, or a
    /// --spec file's); a tool may also set the protocol settings an option implies (a design's).
    func apply(to settings: inout Settings, protocolConfig: inout ProtocolConfig) throws
    /// The modality `settings` describe, on this machine (where its data is comes from the options).
    func modality(_ settings: Settings) throws -> Modality
    /// This command with the place a run recorded for what it used (its data directory), where
    /// the options name none and that place still serves, and a note saying so; nil to keep it.
    /// `resume` and `analyze` use it.
    func locatingData(as config: RunConfig) -> (command: Self, note: String)?
}

extension RunnableCommand {
    public func locatingData(as config: RunConfig) -> (command: Self, note: String)? { nil }

    /// The spec of a tool's run with no option given.
    public static var defaultSpec: RunSpec {
        RunSpec(modality: modalityName, seeds: Array(0..<5), protocolConfig: Defaults.protocolConfig, training: Defaults.training,
                       settings: (try? JSONCoding.encode(defaultSettings)) ?? .object([]))
    }

    /// The options given, applied to `base` (nil: the defaults), and validated: the run they describe.
    public func spec(over base: RunSpec? = nil) throws -> RunSpec {
        // A stage-2 start takes the settings of the run whose stage 1 it continues.
        if runOptions.quick && runOptions.stage2From != nil {
            throw IMLError("--quick and --stage2-from contradict each other (a stage-2 start takes the source run's settings, which --quick would change); give only --stage2-from.")
        }
        var spec = try base ?? runOptions.stage2From.map { try Self.stage1Source($0).spec } ?? Self.defaultSpec
        guard spec.modality == Self.modalityName else {
            throw IMLError("The spec is of the \(spec.modality) modality, not \(Self.modalityName); run it with \(RunCommand.tool(ofModality: spec.modality)).")
        }
        var settings = try Self.settings(of: spec)
        if runOptions.quick { spec.protocolConfig.entities = QuickPreset.entities }  // where --entities is not given
        try apply(to: &settings, protocolConfig: &spec.protocolConfig)
        try protocolOptions.apply(to: &spec.protocolConfig)
        try runOptions.apply(to: &spec)
        spec.settings = try JSONCoding.encode(settings)
        try spec.validate()
        return spec
    }

    /// The modality of `spec`, which must be this tool's. Every command that builds a spec's tasks
    /// (run, analyze, sample) asks this first, so the products' precision is set here too.
    public func modality(of spec: RunSpec) throws -> Modality {
        guard spec.modality == Self.modalityName else {
            throw IMLError("The spec is of the \(spec.modality) modality, not \(Self.modalityName); run it with \(RunCommand.tool(ofModality: spec.modality)).")
        }
        try BLAS.use(spec.training.precision)
        return try modality(try Self.settings(of: spec))
    }

    /// The modality settings of `spec`; a setting added after the spec was written takes its
    /// default, which is what that version did.
    static func settings(of spec: RunSpec) throws -> Settings {
        try JSONCoding.decode(Settings.self, from: filled(spec).settings, what: "The \(spec.modality) settings of the spec")
    }

    /// `spec` with the modality settings it lacks (it is older than they are) at their defaults.
    static func filled(_ spec: RunSpec) -> RunSpec {
        var out = spec
        out.settings = spec.settings.filling(from: try? JSONCoding.encode(defaultSettings))
        return out
    }

    /// The spec a run recorded in its config.json; a run an older version made recorded its
    /// command line instead, which is parsed as it was then.
    public static func recordedSpec(_ config: RunConfig) throws -> RunSpec {
        if let spec = try config.json.runSpec(file: config.path) { return filled(spec) }
        guard let arguments = config.arguments else {
            throw IMLError("\(config.path) records neither the run's spec nor its arguments (an older version made it); use that version, or start a new run with --out.")
        }
        do {
            return try Self.parse(arguments).spec()
        } catch let error as IMLError {
            throw error
        } catch {
            throw IMLError("The arguments recorded in \(config.path) do not parse with this version of the program (\(Self.message(for: error))); use the version that made the run, or start a new run with --out.")
        }
    }

    /// The finished run `--stage2-from` names, and its spec (it must be this tool's).
    static func stage1Source(_ path: String) throws -> (spec: RunSpec, run: FinishedRun) {
        let run: FinishedRun
        do { run = try FinishedRun(path: path) } catch let error as IMLError {
            throw IMLError("--stage2-from \(path): \(error.message)")
        }
        guard run.modality == Self.modalityName else {
            throw IMLError("--stage2-from \(path) is a run of the \(run.modality) modality, not \(Self.modalityName); start its stage 2 with \(RunCommand.tool(ofModality: run.modality)).")
        }
        if RunCommand.mergedFrom(try RunConfig.read(run.directory)) != nil {
            throw IMLError("--stage2-from \(path) is a merged run, which keeps no models; give one of the runs it was merged from.")
        }
        var spec = try recordedSpec(try RunConfig.read(run.directory))
        spec.saveEvery = nil
        return (spec, run)
    }

    /// The spec in `file`: a run's config.json, or a file holding a spec alone.
    static func readSpec(_ file: String) throws -> RunSpec {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw IMLError("Cannot read the spec \(file) (\(RunFileText.reason(error))); give a run's config.json or a file holding a spec.")
        }
        let json = try RunFileText.parse(data, path: file, fix: "give a run's config.json or a file holding a spec")
        if let spec = try json.runSpec(file: file) { return spec }
        if json["modality"] != nil, json["seeds"] != nil, json["arguments"] != nil, json["protocol"] == nil {
            return try recordedSpec(try RunConfig(data: data, path: file))
        }
        return try RunSpec(json: json, what: file)
    }
}

extension RunnableCommand {
    /// `run`: the options given, over a resumed run's spec or a --spec file's, make the run.
    public func runExperiment() throws {
        try reportingErrors {
            var command = self, base: RunSpec?, note: String?
            let run = runOptions
            try run.checkResumeOptions()
            if let directory = run.resume {
                let config = try RunConfig.read(try RunDirectory.openForResume(directory))
                guard config.modality == Self.modalityName else {
                    throw IMLError("\(directory) is a run of the \(config.modality) modality, not \(Self.modalityName); resume it with \(RunCommand.tool(ofModality: config.modality)).")
                }
                if let parts = RunCommand.mergedFrom(config) {
                    // Every seed of a merged run finished in its own run: nothing to continue.
                    FileHandle.standardError.write(Data("The run in \(directory) was merged from \(parts.joined(separator: ", ")) and is finished as it is; nothing to resume, and nothing was rewritten.\n".utf8))
                    return
                }
                base = try Self.recordedSpec(config)
                if let located = locatingData(as: config) { (command, note) = located }
            } else if let file = run.spec {
                base = try Self.readSpec(file)
            }
            // The kernel first: choosing it may restart the process, which would say everything twice.
            // A resumed run pins the kernel it pinned, unless --blas-core says otherwise.
            try BLASPin.apply(option: run.blasCore ?? (try run.resume.map { try RunCommand.recordedPin(RunConfig.read(RunDirectory.openForResume($0))) } ?? nil))
            if let note { FileHandle.standardError.write(Data((note + "\n").utf8)) }
            let spec = try command.spec(over: base)
            if run.printSpec {
                _ = try command.validatedExperiment(spec)
                print(spec.json.serialized(pretty: true))
                return
            }
            try command.execute(spec) { try run.runDirectory(modality: spec.modality) }
        }
    }

    /// The experiment of `spec`, every setting validated as `run` validates it, without loading
    /// any data; its memory is checked for the seeds that train together on `threads` threads
    /// (one: what a Slurm task or a sweep's single run holds).
    public func validatedExperiment(_ spec: RunSpec, threads: Int = 1) throws -> Experiment {
        try Parallel.checkThreads(threads)
        let modality = try modality(of: spec)
        try modality.validate(spec.protocolConfig)
        if let estimate = modality.memoryEstimate(spec.protocolConfig) {
            try MemoryEstimate.check(perSeed: estimate.bytes, atOnce: MemoryEstimate.seedsAtOnce(seeds: spec.seeds.count, threads: threads),
                                     settings: estimate.settings)
        }
        var experiment = Experiment(modality: modality, spec: spec, concurrency: 1, arguments: spec.options(differingFrom: Self.defaultSpec))
        if let path = spec.stage2From {
            let source = try Self.stage1Source(path)
            experiment.stage1Source = try Stage1Source(spec: spec, sourceSpec: source.spec, records: source.run.records)
        }
        return experiment
    }

    /// Trains `spec` in the directory `directory` opens (a new one, or one to resume) on this
    /// command's threads; the directory is made only once the spec proved valid.
    func execute(_ spec: RunSpec, in makeDirectory: () throws -> RunDirectory) throws {
        let threads = runOptions.threads
        var experiment = try validatedExperiment(spec, threads: threads)
        let directory = try makeDirectory()
        do {
            try experiment.modality.prepare()
        } catch {
            // Leave nothing behind for a run that never started.
            if !directory.resumes { directory.removeIfUnused() }
            throw error
        }
        experiment.concurrency = threads
        let summary = try experiment.run(in: directory)
        print(summary.table())
        print(String(format: "wall time %.1f s; ", summary.wallSeconds)
              + (experiment.modality.throughput(training: spec.training, seeds: spec.seeds.count, wallSeconds: summary.wallSeconds).map { $0 + "; " } ?? "")
              + "outputs in \(directory.url.path)")
    }
}

public enum RunCommand {
    /// The runs a merged run was made from (config.json's merged_from), or nil for a run that trained.
    static func mergedFrom(_ config: RunConfig) -> [String]? {
        guard case .array(let items)? = config["merged_from"] else { return nil }
        return items.compactMap { if case .string(let path) = $0 { return path } else { return nil } }
    }

    /// The kernel a run pinned (config.json's blas_core when its reason is "pinned", or an older
    /// version's recorded --blas-core), which resuming or analysing it pins again.
    static func recordedPin(_ config: RunConfig) -> String? {
        if case .string("pinned")? = config["blas_core_reason"], case .string(let core)? = config["blas_core"] { return core }
        guard config["spec"] == nil, let arguments = config.arguments, let i = arguments.firstIndex(of: "--blas-core"), i + 1 < arguments.count else { return nil }
        return arguments[i + 1]
    }

    /// The tool that runs a modality: each is named MODALITY-iml.
    static func tool(ofModality modality: String) -> String { modality + "-iml" }
}
