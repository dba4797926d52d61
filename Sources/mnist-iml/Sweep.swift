import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLExperiment

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Repeat `run` for several values of --alpha or --batch-size; write one run per value, sweep.png and sweep.md.",
        discussion: "Example: mnist-iml sweep --alpha 0.5,0.75,0.9,1 --seeds 5. Every `run` option applies to each run; --out names the sweep directory.")

    @Argument(parsing: .captureForPassthrough, help: "--alpha LIST or --batch-size LIST, plus any `run` option.")
    var arguments: [String] = []

    func run() throws {
        try reportingErrors {
            let (plan, out) = try SweepPlan.parse(arguments)
            let directory = URL(fileURLWithPath: out ?? RunDirectory.defaultPath(modality: "mnist-sweep-\(plan.parameter.rawValue)"))
            var points: [SweepReport.Point] = []
            for value in plan.values {
                let runDirectory = directory.appendingPathComponent(plan.directoryName(value)).path
                FileHandle.standardError.write(Data("== \(plan.parameter.rawValue) = \(JSON.format(value)) ==\n".utf8))
                var run = try Run.parse(plan.runArguments(value, directory: runDirectory))
                try run.run()
                let records = try RunDirectory(url: URL(fileURLWithPath: runDirectory)).readMetrics()
                points.append(.init(value: value, directory: runDirectory, summary: RunSummary(modality: "mnist", records: records, wallSeconds: 0)))
            }
            let shared = plan.sharedArguments.isEmpty ? "defaults" : plan.sharedArguments.joined(separator: " ")
            try SweepReport.write(points: points, parameter: plan.parameter, modality: "mnist",
                                  settings: "mnist-iml sweep \(plan.parameter.option) \(plan.values.map { JSON.format($0) }.joined(separator: ",")); \(shared)",
                                  to: directory)
            print(try String(contentsOf: directory.appendingPathComponent("sweep.md"), encoding: .utf8))
        }
    }
}
