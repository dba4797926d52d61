// The `merge` subcommand of both tools: the runs say which modality they are, so one command serves both.

import ArgumentParser
import IMLExperiment

public struct MergeRuns: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge runs of the same settings made with different seeds into one run directory.")

    @Argument(help: "Run directories to merge.") var runs: [String] = []
    @Option(help: "Output run directory.") var out: String
    @Flag(help: "Overwrite an existing run in --out.") var force = false

    public init() {}

    public func run() throws {
        try reportingErrors {
            let title = try runs.first.map { path -> String in
                let first = try FinishedRun(path: path)
                let dataset = first.settings["dataset"] == "fashion-mnist" ? "Fashion-MNIST" : "MNIST"
                return (first.modality == "text" ? "Text" : dataset) + ": implicit meta-learning"
            } ?? ""
            print(try Merge.merge(runs, into: out, force: force, title: title).table())
        }
    }
}
