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

    public func settingsLine(defaultEpochs1: Int = 30) -> String {
        "\(epochs1 ?? defaultEpochs1)+\(epochs2) epochs, batch \(batchSize), lr \(lr), \(seeds) seed\(seeds == 1 ? "" : "s")"
    }
}

/// Runs `body`; a user error becomes one line on stderr and exit code 1 (2 for divergence),
/// never a stack trace.
public func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as IMLError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode(1)
    } catch let error as DivergenceError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(2)
    }
}
