// iml-compare: stage-2 curves and final numbers of several runs (either modality) side by side.

import ArgumentParser
import Foundation
import IMLCommandLine
import IMLExperiment

@main
struct IMLCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iml-compare",
        abstract: "Compare runs of mnist-iml and text-iml: writes comparison.png and comparison.md.")

    @Argument(help: "Run directories written by mnist-iml run or text-iml run.") var runs: [String] = []
    @Option(help: "Output directory.") var out: String = "results/comparison"

    func run() throws {
        try reportingErrors {
            try Comparison.compare(runs, out: out)
            print(try String(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("comparison.md"), encoding: .utf8))
        }
    }
}
