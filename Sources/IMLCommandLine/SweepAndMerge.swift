// The `sweep` and `merge` subcommands of every tool. A sweep repeats the tool's own `run` for
// each value, so every run option means exactly what it means in `run`; merge reads what each
// run recorded about itself. Neither knows which modality it serves.

import ArgumentParser
import Foundation
import IMLBase
import IMLExperiment

/// `sweep` for the tool whose `run` is `Run`.
public struct SweepCommand<Run: RunnableCommand>: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "sweep",
                             abstract: "Repeat `run` for several values of --alpha or --batch-size; write one run per value, sweep.png and sweep.md.",
                             discussion: "Example: \(toolName) sweep --alpha 0.5,0.75,0.9,1 --seeds 5. Every option of `run` applies to every run of the sweep (see `\(toolName) sweep --help`).")
    }

    static var toolName: String { URL(fileURLWithPath: CommandLine.arguments.first ?? "iml").lastPathComponent }

    @Argument(parsing: .captureForPassthrough,
              help: "--alpha LIST or --batch-size LIST (comma-separated), plus any `run` option; --out names the sweep directory.")
    var arguments: [String] = []

    public init() {}

    public func run() throws {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(Self.helpMessage())
            print("Options of every run of the sweep:\n")
            print(Run.helpMessage().components(separatedBy: "\nOPTIONS:\n").dropFirst().joined())
            return
        }
        try reportingErrors {
            let (plan, out) = try SweepPlan.parse(arguments)
            let probe = try Run.parse(plan.sharedArguments)
            let modality = try probe.makeModality()
            let directory = URL(fileURLWithPath: out ?? RunDirectory.defaultPath(modality: "\(modality.name)-sweep-\(plan.parameter.rawValue)"))
            var points: [SweepReport.Point] = []
            for value in plan.values {
                let runDirectory = directory.appendingPathComponent(plan.directoryName(value)).path
                FileHandle.standardError.write(Data("== \(plan.parameter.rawValue) = \(JSON.format(value)) ==\n".utf8))
                let arguments = plan.runArguments(value, directory: runDirectory)
                try Run.parse(arguments).runExperiment(arguments: arguments)
                let finished = try FinishedRun(path: runDirectory)
                points.append(.init(value: value, directory: runDirectory, summary: finished.summary))
            }
            let shared = plan.sharedArguments.isEmpty ? "defaults" : plan.sharedArguments.joined(separator: " ")
            try SweepReport.write(points: points, parameter: plan.parameter, modalityTitle: modality.title,
                                  settings: "\(Self.toolName) sweep \(plan.parameter.option) \(plan.values.map { JSON.format($0) }.joined(separator: ",")); \(shared)",
                                  to: directory)
            print(try String(contentsOf: directory.appendingPathComponent("sweep.md"), encoding: .utf8))
        }
    }
}

/// `merge`: the runs say what they are, so one command serves every tool.
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
            print(try Merge.merge(runs, into: out, force: force).table())
        }
    }
}

/// `TOOL --help`: the subcommands and then the options of the default subcommand, `run`.
public func printToolHelp<Tool: ParsableCommand, Run: ParsableCommand>(_ tool: Tool.Type, run: Run.Type) {
    print(Tool.helpMessage())
    print("\nOptions of `run` (the default subcommand):\n")
    print(Tool.helpMessage(for: Run.self).components(separatedBy: "\nOPTIONS:\n").dropFirst().joined())
}

/// Answers `--help` with printToolHelp when it is the tool's only argument; else parses and runs.
public func toolMain<Tool: ParsableCommand, Run: ParsableCommand>(_ tool: Tool.Type, run: Run.Type) {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"] {
        printToolHelp(tool, run: run)
        return
    }
    Tool.main(arguments)
}
