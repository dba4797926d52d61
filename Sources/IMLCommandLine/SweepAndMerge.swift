// The `sweep` and `merge` subcommands of every tool. A sweep repeats the tool's own `run` for
// each value, so every run option means exactly what it means in `run`; merge reads what each
// run recorded about itself. Neither knows which modality it serves.

import ArgumentParser
import Foundation
import IMLBase
import IMLRunFiles

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
            let record: SweepRecord, directory: URL, execution: Run
            if let resume {
                directory = URL(fileURLWithPath: resume)
                if given.contains("--force") { throw IMLError("--force and --resume contradict each other (--force starts the sweep again, --resume continues it); give only one.") }
                record = try SweepRecord.read(directory) { legacy in try Self.record(try SweepPlan.parse(legacy, checkOption: checkOption).plan) }
                execution = try Self.parseRun(given)
                try Self.checkResumeOptions(execution, given: given, directory: directory, resume: resume)
            } else {
                let parsed = try SweepPlan.parse(given, checkOption: checkOption)
                if let out = parsed.out { try RunDirectory.checkOut(out, example: "results/my-sweep") }
                execution = try Self.parseRun(parsed.plan.sharedArguments)
                record = try Self.record(parsed.plan)
                directory = URL(fileURLWithPath: parsed.out ?? RunDirectory.defaultPath(modality: "\(Run.modalityName)-sweep-\(record.parameter.name)"))
            }
            // --blas-core restarts the process to pin the kernel: do it now, before any file is
            // written, not from the first run (the restarted sweep would find its own sweep.json).
            try BLASPin.apply(option: execution.runOptions.blasCore)
            // Every run must be valid before the first starts: a bad value is refused now, not hours in.
            try Run.checkSweepRuns(record, with: execution)
            if resume == nil, FileManager.default.fileExists(atPath: directory.appendingPathComponent(SweepRecord.fileName).path),
               !execution.runOptions.force {
                throw IMLError("The directory \(directory.path) already holds a sweep; continue it with sweep --resume \(directory.path), overwrite it with --force, or choose another --out.")
            }
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw IMLError("Cannot create the sweep directory \(directory.path) (\(error.localizedDescription)); check the path and its permissions.")
            }
            let claim = try RunClaim(directory)
            defer { withExtendedLifetime(claim) {} }
            if resume == nil { try record.write(to: directory) }
            var points: [SweepReport.Point] = []
            var modalityTitle = ""
            for (value, spec) in zip(record.values, record.specs) {
                let runDirectory = directory.appendingPathComponent(record.directoryName(value)).path
                let label = "\(record.parameter.name) = \(value.text)"
                if resume != nil, let finished = try? FinishedRun(path: runDirectory),
                   FileManager.default.fileExists(atPath: finished.directory.file(RunDirectory.curvesFile).path) {
                    FileHandle.standardError.write(Data("== \(label): finished, kept ==\n".utf8))
                    points.append(.init(value: value, directory: runDirectory, summary: finished.summary))
                    modalityTitle = finished.title
                    continue
                }
                // A run in progress continues from its checkpoints, as `run --resume DIR` would.
                let continues = resume != nil && FileManager.default.fileExists(atPath: runDirectory + "/" + RunDirectory.configFile)
                FileHandle.standardError.write(Data("== \(label)\(continues ? ": resuming" : "") ==\n".utf8))
                do {
                    try reportingErrors {
                        try execution.execute(spec) {
                            continues ? try RunDirectory.openForResume(runDirectory)
                                      : try RunDirectory.create(runDirectory, force: execution.runOptions.force)
                        }
                    }
                } catch let exit as ExitCode where exit.rawValue == 130 || exit.rawValue == 143 {
                    FileHandle.standardError.write(Data("To continue the whole sweep: \(Self.toolName) sweep --resume \(directory.path)\n".utf8))
                    throw exit
                }
                let finished = try FinishedRun(path: runDirectory)
                points.append(.init(value: value, directory: runDirectory, summary: finished.summary))
                modalityTitle = finished.title
            }
            try SweepReport.write(points: points, parameter: record.parameter, modalityTitle: modalityTitle,
                                  settings: record.command, to: directory)
            print(try String(contentsOf: directory.appendingPathComponent("sweep.md"), encoding: .utf8))
        }
    }

    /// The sweep of `plan` as specs: each value's run parsed as `run` would parse it, over the same shared options.
    static func record(_ plan: SweepPlan) throws -> SweepRecord {
        var specs: [RunSpec] = []
        for value in plan.values { specs.append(try Run.sweptSpec(plan, value: value, tool: toolName)) }
        let shared = specs.first.map { $0.options(differingFrom: Run.defaultSpec, excluding: [plan.parameter.option]) } ?? []
        return SweepRecord(parameter: plan.parameter, values: plan.values, specs: specs,
                           command: plan.parameter.sweepCommand(tool: toolName, values: plan.values, shared: shared))
    }

    /// Beside `sweep --resume DIR` only options of where and how the runs execute may be given.
    static func checkResumeOptions(_ execution: Run, given: [String], directory: URL, resume: String) throws {
        if let out = execution.runOptions.out, URL(fileURLWithPath: out).standardizedFileURL != directory.standardizedFileURL {
            throw IMLError("--out \(out) and --resume \(resume) name different directories; a resumed sweep continues in its own directory, so give only --resume.")
        }
        if (try? execution.spec()) != Run.defaultSpec || execution.runOptions.spec != nil {
            throw IMLError("sweep --resume \(resume) continues the sweep with the settings recorded in \(directory.appendingPathComponent(SweepRecord.fileName).path), so it takes only --threads, --blas-core and --data-dir beside it (got \(given.joined(separator: " "))).")
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

/// DIR/sweep.json: the swept option, its values and each value's run spec, so `sweep --resume
/// DIR` repeats the sweep; "command" states it for people (sweep.md). An older version recorded
/// the sweep's arguments instead.
struct SweepRecord {
    static let fileName = "sweep.json"
    var parameter: SweepParameter
    var values: [SweepValue]
    var specs: [RunSpec]
    var command: String

    func directoryName(_ v: SweepValue) -> String { "\(parameter.name)=\(v.text)" }

    var json: JSON {
        .object([("parameter", .string(parameter.name)), ("values", .array(values.map { .string($0.text) })),
                 ("command", .string(command)), ("specs", .array(specs.map(\.json)))])
    }

    func write(to directory: URL) throws {
        try AtomicFile.write(json.serialized(pretty: true) + "\n", to: directory.appendingPathComponent(Self.fileName))
    }

    /// Reads DIR/sweep.json; `legacy` turns an older version's recorded arguments into the record.
    static func read(_ directory: URL, legacy: ([String]) throws -> SweepRecord) throws -> SweepRecord {
        let file = directory.appendingPathComponent(fileName)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IMLError("There is no sweep to resume in \(directory.path): the directory does not exist; check the path given to --resume.")
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw IMLError("There is no sweep to resume in \(directory.path) (it has no \(fileName)); check the path, or start a new sweep with --out \(directory.path).")
        }
        let fix = "restore it from a copy, or start a new sweep with --out"
        let json = try RunFileText.parse(data, path: file.path, fix: fix)
        if case .array(let items)? = json["arguments"] {
            return try legacy(try items.map { item in
                guard case .string(let s) = item else { throw IMLError("\(file.path) has \"arguments\" that are not all strings; \(fix).") }
                return s
            })
        }
        guard case .string(let name)? = json["parameter"], case .array(let valueItems)? = json["values"],
              case .string(let command)? = json["command"], case .array(let specItems)? = json["specs"], specItems.count == valueItems.count,
              !valueItems.isEmpty else {
            throw IMLError("\(file.path) does not hold a sweep's parameter, values, command and one spec per value; \(fix).")
        }
        let values = try valueItems.map { item -> SweepValue in
            guard case .string(let text) = item else { throw IMLError("\(file.path) has values that are not all strings; \(fix).") }
            return SweepValue(text)
        }
        let specs = try specItems.enumerated().map { try RunSpec(json: $0.element, what: "\(file.path)'s spec \($0.offset + 1)") }
        return SweepRecord(parameter: SweepParameter(name), values: values, specs: specs, command: command)
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
