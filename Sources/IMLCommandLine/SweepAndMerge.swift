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
                             abstract: "Repeat `run` for several values of one of its options; write one run per value, sweep.png, sweep.svg and sweep.md.",
                             discussion: """
                                 Examples: \(toolName) sweep --alpha 0.5,0.75,0.9,1 --seeds 5; \(toolName) sweep --set lr=0.001,0.0003. \
                                 --set OPTION=v1,v2,... sweeps any option of `run` that takes a value (separate the values with ; when \
                                 each is a comma-separated list itself, quoted for the shell). Every other option of `run` applies to every \
                                 run of the sweep (see `\(toolName) sweep --help`).
                                 """)
    }

    static var toolName: String { URL(fileURLWithPath: CommandLine.arguments.first ?? "iml").lastPathComponent }

    @Argument(parsing: .captureForPassthrough,
              help: "--set OPTION=v1,v2,..., or --alpha LIST or --batch-size LIST (comma-separated), plus any `run` option (a single --alpha or --batch-size value beside a list is one too); --out names the sweep directory.")
    var arguments: [String] = []

    public init() {}

    public func run() throws {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(Self.fullHelp)
            return
        }
        try reportingErrors {
            var given = arguments
            let resume = try Self.takeResume(&given)
            let plan: SweepPlan, directory: URL, execution: [String]
            if let resume {
                directory = URL(fileURLWithPath: resume)
                let recorded = try SweepRecord.read(directory)
                if given.contains("--force") { throw IMLError("--force and --resume contradict each other (--force starts the sweep again, --resume continues it); give only one.") }
                let other = ExecutionSettings.recordedArguments(given)
                guard other.isEmpty else {
                    throw IMLError("sweep --resume \(resume) continues the sweep with the settings recorded in \(directory.appendingPathComponent(SweepRecord.fileName).path), so it takes only --threads and --data-dir beside it (got \(other.joined(separator: " "))).")
                }
                plan = try SweepPlan.parse(recorded, checkOption: checkOption).plan
                var rest = given, kept: [String] = []
                while !rest.isEmpty {
                    let argument = rest.removeFirst()
                    let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
                    let value = argument.contains("=") ? String(argument.dropFirst(name.count + 1)) : (rest.isEmpty ? "" : rest.removeFirst())
                    if name == "--out" {
                        if URL(fileURLWithPath: value).standardizedFileURL != directory.standardizedFileURL {
                            throw IMLError("--out \(value) and --resume \(resume) name different directories; a resumed sweep continues in its own directory, so give only --resume.")
                        }
                    } else {
                        kept += [name, value]
                    }
                }
                execution = kept
            } else {
                let parsed = try SweepPlan.parse(given, checkOption: checkOption)
                plan = parsed.plan
                let modality = try Self.parseRun(plan.sharedArguments).makeModality()
                if let out = parsed.out { try RunDirectory.checkOut(out, example: "results/my-sweep") }
                directory = URL(fileURLWithPath: parsed.out ?? RunDirectory.defaultPath(modality: "\(modality.name)-sweep-\(plan.parameter.name)"))
                execution = []
            }
            let probe = try Self.parseRun(plan.sharedArguments + execution)
            // --blas-core restarts the process to pin the kernel: do it now, before any file is
            // written, not from the first run (the restarted sweep would find its own sweep.json).
            try BLASPin.apply(option: probe.runOptions.blasCore)
            let modality = try probe.makeModality()
            // Every run must be valid before the first starts: a bad value is refused now, not hours in.
            try Run.checkSweepRuns(plan, execution: execution, tool: Self.toolName)
            if resume == nil, FileManager.default.fileExists(atPath: directory.appendingPathComponent(SweepRecord.fileName).path),
               !plan.sharedArguments.contains("--force") {
                throw IMLError("The directory \(directory.path) already holds a sweep; continue it with sweep --resume \(directory.path), overwrite it with --force, or choose another --out.")
            }
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw IMLError("Cannot create the sweep directory \(directory.path) (\(error.localizedDescription)); check the path and its permissions.")
            }
            let claim = try RunClaim(directory)
            defer { withExtendedLifetime(claim) {} }
            // What the sweep computes, without where it runs: a resumed sweep repeats it.
            let recordedShared = ExecutionSettings.recordedArguments(plan.sharedArguments)
            if resume == nil {
                try SweepRecord.write(ExecutionSettings.recordedArguments(given), to: directory)
            }
            var points: [SweepReport.Point] = []
            for value in plan.values {
                let runDirectory = directory.appendingPathComponent(plan.directoryName(value)).path
                let label = "\(plan.parameter.name) = \(value.text)"
                var arguments = plan.runArguments(value, directory: runDirectory) + execution
                if resume != nil, let finished = try? FinishedRun(path: runDirectory),
                   FileManager.default.fileExists(atPath: finished.directory.file(RunDirectory.curvesFile).path) {
                    FileHandle.standardError.write(Data("== \(label): finished, kept ==\n".utf8))
                    points.append(.init(value: value, directory: runDirectory, summary: finished.summary))
                    continue
                }
                if resume != nil, FileManager.default.fileExists(atPath: runDirectory + "/" + RunDirectory.configFile) {
                    // The run in progress continues from its checkpoints, as `run --resume DIR` alone would.
                    arguments = ["--resume", runDirectory] + execution
                    FileHandle.standardError.write(Data("== \(label): resuming ==\n".utf8))
                } else {
                    FileHandle.standardError.write(Data("== \(label) ==\n".utf8))
                }
                do {
                    try Run.parse(arguments).runExperiment(arguments: arguments)
                } catch let exit as ExitCode where exit.rawValue == 130 || exit.rawValue == 143 {
                    FileHandle.standardError.write(Data("To continue the whole sweep: \(Self.toolName) sweep --resume \(directory.path)\n".utf8))
                    throw exit
                }
                let finished = try FinishedRun(path: runDirectory)
                points.append(.init(value: value, directory: runDirectory, summary: finished.summary))
            }
            try SweepReport.write(points: points, parameter: plan.parameter, modalityTitle: modality.title,
                                  settings: plan.parameter.sweepCommand(tool: Self.toolName, values: plan.values, shared: recordedShared),
                                  to: directory)
            print(try String(contentsOf: directory.appendingPathComponent("sweep.md"), encoding: .utf8))
        }
    }

    func checkOption(_ name: String) throws { try Run.checkSweepable(name, tool: Self.toolName) }

    /// `Run` parsed from a sweep's arguments; a mistake names sweep's help, not run's.
    static func parseRun(_ arguments: [String]) throws -> Run {
        do {
            return try Run.parse(arguments)
        } catch {
            throw IMLError("\(Run.message(for: error)) (given to sweep for every run); see \(toolName) sweep --help.")
        }
    }

    /// `sweep --help` and `help sweep`: sweep's own usage under the tool's name, then the options
    /// of every run (without a second -h, --help).
    public static var fullHelp: String {
        let own = helpMessage().replacingOccurrences(of: "USAGE: sweep", with: "USAGE: \(toolName) sweep")
        // run's --resume, --out and --force mean the sweep's here: said once, for the sweep.
        let runOptions = removingOptions(["-h", "--help", "--resume", "--out", "--force"], from: optionsSection(Run.helpMessage()))
        return own + """

            Options of the sweep itself:

              --out <dir>             The sweep directory (default results/<modality>-sweep-<option>/<UTC time>): one run per value, sweep.json, sweep.md, sweep.png.
              --resume <dir>          Continue the stopped or killed sweep in this directory: finished runs are kept, the others resumed or started.
              --force                 Overwrite a sweep (and its runs) already in --out.

            Options of every run of the sweep:

            """ + runOptions
    }

    /// Removes `--resume DIR` (or `--resume=DIR`) from `arguments` and returns DIR.
    static func takeResume(_ arguments: inout [String]) throws -> String? {
        guard let index = arguments.firstIndex(where: { $0 == "--resume" || $0.hasPrefix("--resume=") }) else { return nil }
        let argument = arguments.remove(at: index)
        if argument != "--resume" { return String(argument.dropFirst("--resume=".count)) }
        guard index < arguments.count else { throw IMLError("--resume needs the directory of the sweep to continue.") }
        return arguments.remove(at: index)
    }
}

/// DIR/sweep.json: the arguments that made a sweep (without execution-only options), so
/// `sweep --resume DIR` repeats it.
enum SweepRecord {
    static let fileName = "sweep.json"

    static func write(_ arguments: [String], to directory: URL) throws {
        let json = JSON.object([("arguments", .array(arguments.map(JSON.string)))])
        try AtomicFile.write(json.serialized(pretty: true) + "\n", to: directory.appendingPathComponent(fileName))
    }

    static func read(_ directory: URL) throws -> [String] {
        let file = directory.appendingPathComponent(fileName)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IMLError("There is no sweep to resume in \(directory.path): the directory does not exist; check the path given to --resume.")
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw IMLError("There is no sweep to resume in \(directory.path) (it has no \(fileName)); check the path, or start a new sweep with --out \(directory.path).")
        }
        let fix = "restore it from a copy, or start a new sweep with --out"
        if data.isEmpty { throw IMLError("\(file.path) is empty; \(fix).") }
        let json: JSON
        do { json = try JSON.read([UInt8](data)) } catch let error as JSONSyntaxError {
            throw IMLError("\(file.path) is \(error.truncated ? "truncated" : "not valid JSON") (\(error.reason)); \(fix).")
        }
        guard case .array(let items)? = json["arguments"] else { throw IMLError("\(file.path) has no list of \"arguments\"; \(fix).") }
        return try items.map { item in
            guard case .string(let s) = item else { throw IMLError("\(file.path) has \"arguments\" that are not all strings; \(fix).") }
            return s
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
    print(optionsSection(Tool.helpMessage(for: Run.self)))
}

/// The OPTIONS part of an ArgumentParser help text.
func optionsSection(_ help: String) -> String {
    help.components(separatedBy: "\nOPTIONS:\n").dropFirst().joined()
}

/// `section` without the help blocks of `options` (an option's line and its continuation lines).
func removingOptions(_ options: Set<String>, from section: String) -> String {
    var kept: [Substring] = [], dropping = false
    for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
        let text = line.drop { $0 == " " }
        let indent = line.count - text.count
        if indent <= 4, text.hasPrefix("-") {
            let names = text.split(separator: " ").prefix(2).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ",")) }
            dropping = names.contains { options.contains($0) }
        } else if indent <= 4 {
            dropping = false
        }
        if !dropping { kept.append(line) }
    }
    return kept.joined(separator: "\n")
}

/// Answers `--help` with printToolHelp when it is the tool's only argument; else parses and runs.
public func toolMain<Tool: ParsableCommand, Run: ParsableCommand>(_ tool: Tool.Type, run: Run.Type) {
    var arguments = Array(CommandLine.arguments.dropFirst())
    if arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"] {
        printToolHelp(tool, run: run)
        return
    }
    // `help SUB` is `SUB --help`: sweep and submit print their own (their options pass through).
    if arguments.count == 2, arguments[0] == "help" { arguments = [arguments[1], "--help"] }
    Tool.main(arguments)
}
