import ArgumentParser
import IMLCommandLine
import IMLExperiment

struct MergeRuns: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge runs of the same settings made with different seeds into one run directory.")

    @Argument(help: "Run directories to merge.") var runs: [String] = []
    @Option(help: "Output run directory.") var out: String
    @Flag(help: "Overwrite an existing run in --out.") var force = false

    func run() throws {
        try reportingErrors {
            let summary = try Merge.merge(runs, into: out, force: force, title: "Text: implicit meta-learning")
            print(summary.table())
        }
    }
}
