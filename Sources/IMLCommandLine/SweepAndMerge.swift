// The `sweep` and `merge` subcommands of both tools: a sweep repeats the tool's own `run` for
// each value, so every run option means exactly what it means in `run`.

import Foundation
import IMLBase
import IMLExperiment

public enum SweepCommand {
    /// Parses the sweep, calls `run` with each value's arguments, then writes sweep.png and sweep.md.
    public static func execute(arguments: [String], modality: String, run: ([String]) throws -> Void) throws {
        let (plan, out) = try SweepPlan.parse(arguments)
        let directory = URL(fileURLWithPath: out ?? RunDirectory.defaultPath(modality: "\(modality)-sweep-\(plan.parameter.rawValue)"))
        var points: [SweepReport.Point] = []
        for value in plan.values {
            let runDirectory = directory.appendingPathComponent(plan.directoryName(value)).path
            FileHandle.standardError.write(Data("== \(plan.parameter.rawValue) = \(JSON.format(value)) ==\n".utf8))
            try run(plan.runArguments(value, directory: runDirectory))
            let finished = try FinishedRun(path: runDirectory)
            points.append(.init(value: value, directory: runDirectory, summary: finished.summary))
        }
        let shared = plan.sharedArguments.isEmpty ? "defaults" : plan.sharedArguments.joined(separator: " ")
        try SweepReport.write(points: points, parameter: plan.parameter, modality: modality,
                              settings: "\(modality)-iml sweep \(plan.parameter.option) \(plan.values.map { JSON.format($0) }.joined(separator: ",")); \(shared)",
                              to: directory)
        print(try String(contentsOf: directory.appendingPathComponent("sweep.md"), encoding: .utf8))
    }

    public static let abstract = "Repeat `run` for several values of --alpha or --batch-size; write one run per value, sweep.png and sweep.md."
    public static let argumentHelp = "--alpha LIST or --batch-size LIST (comma-separated), plus any `run` option; --out names the sweep directory."
}
