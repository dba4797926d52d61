// The `analyze` subcommand of every tool: gradient alignment and linear probes on the saved
// models of a finished run (ModelAnalysis). The run's model and data are rebuilt from the spec
// its config.json recorded, exactly as `run --resume DIR` does.

import ArgumentParser
import Foundation
import IMLBase
import IMLCore
import IMLRunFiles
import IMLTraining
import IMLAnalysis

public struct AnalyzeCommand<Run: RunnableCommand>: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "analyze",
                             abstract: "Gradient alignment and linear probes on a finished run's saved models; writes RUN/analysis/ (RUN/analysis-answer/ with --alignment-loss answer).",
                             discussion: "Writes alignment.json, probes.json, and alignment and probes figures as PNG and SVG. The alignment is computed at the end of stage 1, or with --along-training at every stage-1 point the run saved (run --save-every K); the probes at the end of stage 1.")
    }

    @Argument(help: "A run directory written by `run`.")
    var runDirectory: String

    @Flag(help: "Gradient alignment at every saved stage-1 point (run with --save-every K), not only at the end of stage 1.")
    var alongTraining = false

    @Option(help: "Cross-validation folds of the probes (grouped by variable).")
    var folds = 5

    @Option(help: "The loss whose gradients the alignment compares: full (every prediction training scores, as the paper's code) or answer (the answer tokens' predictions alone; a model that predicts only answers gives the same for both).")
    var alignmentLoss = ExampleLoss.full

    @Option(help: "L2 strength of the probes' logistic regression, in units of the mean loss on standardised features (scikit-learn's C = 1 / (l2 * rows)).")
    var probeL2: Float = LinearProbe.defaultL2

    @Option(help: "Seeds analysed concurrently, one per thread (the default is every core of this machine). Never changes the numbers.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Where the run's data is now, when it moved since the run (as `run --data-dir`).")
    var dataDir: String?

    public init() {}

    public func run() throws {
        try reportingErrors {
            if folds < 2 { throw IMLError("--folds must be at least 2 (got \(folds)).") }
            try Parallel.checkThreads(threads)
            if !(probeL2 > 0 && probeL2.isFinite) { throw IMLError("--probe-l2 must be a positive number (got \(probeL2)).") }
            let url = URL(fileURLWithPath: runDirectory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw IMLError("\(runDirectory) is not a directory; give a run directory that `run` wrote.")
            }
            let directory = RunDirectory(url: url)
            guard FileManager.default.fileExists(atPath: directory.file(RunDirectory.configFile).path) else {
                throw IMLError("\(runDirectory) is not a run directory (it has no \(RunDirectory.configFile)); give a directory that `run` wrote.")
            }
            let config = try RunConfig.read(directory)
            if let parts = RunCommand.mergedFrom(config) {
                throw IMLError("\(runDirectory) was merged from \(parts.joined(separator: ", ")), and merge keeps no saved models; analyze those runs instead.")
            }
            guard config.modality == Run.modalityName else {
                throw IMLError("\(runDirectory) is a run of the \(config.modality) modality, not \(Run.modalityName); analyze it with \(RunCommand.tool(ofModality: config.modality)).")
            }
            let spec = try Run.recordedSpec(config)
            // Where the data is now: --data-dir, else where the run recorded it while it still serves.
            let given: Run
            do { given = try Run.parse(dataDir.map { ["--data-dir", $0] } ?? []) } catch {
                throw IMLError("\(Run.message(for: error)); see \(RunCommand.tool(ofModality: config.modality)) analyze --help.")
            }
            let located = dataDir == nil ? given.locatingData(as: config) : nil
            let command = located?.command ?? given
            let modality = try command.modality(of: spec)
            // A run still training holds the claim; ours keeps it from starting while we read.
            let claim = try RunClaim(url)
            defer { withExtendedLifetime(claim) {} }
            guard FileManager.default.fileExists(atPath: directory.file(RunDirectory.summaryFile).path) else {
                throw IMLError("The run in \(runDirectory) has not finished (it has no \(RunDirectory.summaryFile)); finish it with `run --resume \(runDirectory)` first.")
            }
            guard config.stages == [1, 2] else {
                throw IMLError("The run in \(runDirectory) has one stage; the analyses compare stage-2 definitions that stage 1 never trained, so analyze a two-stage run.")
            }
            try BLASPin.apply(option: RunCommand.recordedPin(config))
            if let note = located?.note { FileHandle.standardError.write(Data((note + "\n").utf8)) }
            let protocolConfig = spec.protocolConfig
            try modality.validate(protocolConfig)
            try modality.prepare()
            var settings = AnalysisSettings()
            settings.alongTraining = alongTraining
            settings.folds = folds
            settings.probeL2 = probeL2
            settings.alignmentLoss = alignmentLoss
            settings.concurrency = threads
            let started = Date()
            try ModelAnalysis.analyze(run: url, config: config, modality: modality, protocolConfig: protocolConfig, settings: settings) {
                FileHandle.standardError.write(Data(($0 + "\n").utf8))
            }
            print(String(format: "analysis in %.1f s (%@); outputs in %@", Date().timeIntervalSince(started), BLASKernelChoice.current.line,
                         url.appendingPathComponent(ModelAnalysis.directoryName(alignmentLoss)).path))
        }
    }
}

extension ExampleLoss: ExpressibleByArgument {}
