// `submit` and `aggregate` of every tool: a run (or a sweep) as a Slurm job array, one task per
// seed (per value and seed), each task the tool's own `run` of one seed; then an aggregation job
// (afterok) that writes the results as a local run would. Like `sweep`, neither knows which
// modality it serves: the tool's Run parses and validates the run options.

import ArgumentParser
import Foundation
import IMLBase
import IMLRunFiles
import IMLTraining
import IMLCluster

/// The sbatch settings of `submit` (parsed by SubmitCommand itself, declared here for --help).
struct SlurmOptions: ParsableArguments {
    @Option(help: "Slurm partition (sbatch --partition).") var partition: String?
    @Option(help: "Time limit of each task, e.g. 2:00:00 (sbatch --time).") var time: String?
    @Option(help: "Account to charge (sbatch --account).") var account: String?
    @Option(help: "CPUs per array task (sbatch --cpus-per-task). A task trains its seed on that many threads; its numbers equal a local run's on any count.")
    var cpusPerTask = 1
    @Option(help: "Memory per task, e.g. 4G (sbatch --mem).") var mem: String?
    @Option(help: "Run at most this many array tasks at once (sbatch --array=...%K).") var arrayThrottle: Int?
    @Option(help: "A further sbatch argument, e.g. --sbatch-arg=--qos=long; repeat it for more.") var sbatchArg: [String] = []
    @Flag(help: "Print the job scripts and the sbatch commands; submit nothing and write nothing.") var dryRun = false
    @Option(help: ArgumentHelp("Submit again the unfinished tasks of the submitted run in this directory, then its aggregation (sbatch settings given beside it apply to this submission).",
                               valueName: "dir"))
    var resume: String?
}

/// `submit` for the tool whose `run` is `Run`.
public struct SubmitCommand<Run: RunnableCommand>: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "submit",
                             abstract: "Submit `run` (or a sweep) to Slurm: a job array with one task per seed (per value and seed), then an aggregation job that writes the results.",
                             discussion: """
                                 Example: \(toolName) submit --seeds 20 --time 1:00:00 --out results/big. Every option of `run` applies; \
                                 --set OPTION=v1,v2,..., --alpha LIST or --batch-size LIST (comma-separated) submits a sweep as one array. Writes the job scripts, \
                                 submission.json and one log per task into DIR/slurm/, each seed's run into DIR/tasks/seed-N/, and, once \
                                 every task succeeded, the run's files into DIR as `run` writes them. See docs/cluster.md.
                                 """)
    }

    static var toolName: String { URL(fileURLWithPath: CommandLine.arguments.first ?? "iml").lastPathComponent }

    /// `submit --help` and `help submit`: submit's usage under the tool's name, the sbatch
    /// settings, then the options of every array task's `run` (each list without -h, --help).
    public static var fullHelp: String {
        func options(_ help: String) -> String { removingOptions(["-h", "--help"], from: optionsSection(help)) }
        return helpMessage().replacingOccurrences(of: "USAGE: submit", with: "USAGE: \(toolName) submit")
            + "\nsbatch settings:\n\n" + options(SlurmOptions.helpMessage())
            + "\nOptions of `run` (for every array task; --threads, --force and run's --resume do not apply):\n\n"
            + removingOptions(["-h", "--help", "--resume", "--force", "--threads"], from: optionsSection(Run.helpMessage()))
    }

    @Argument(parsing: .captureForPassthrough,
              help: "sbatch settings (below) and any `run` option; --set OPTION=v1,v2,..., --alpha LIST or --batch-size LIST for a sweep; --out names the run directory.")
    var arguments: [String] = []

    public init() {}

    public func run() throws {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(Self.fullHelp)
            return
        }
        try reportingErrors {
            let request = try SubmitRequest(arguments)
            if let resume = request.resume {
                try resubmit(resume, request)
            } else {
                try submit(request)
            }
        }
    }

    // MARK: A new submission

    func submit(_ request: SubmitRequest) throws {
        let tool = Self.toolName
        for name in ["--threads", "--force"] where request.runArguments.contains(where: { $0 == name || $0.hasPrefix(name + "=") }) {
            throw IMLError(name == "--threads"
                ? "--threads does not apply to submit: each array task runs on as many threads as --cpus-per-task gives it (its numbers equal a local run's on any count); set --cpus-per-task instead."
                : "--force does not apply to submit, which never overwrites a run; choose another --out, or delete the old run first.")
        }
        // The execution option a task needs beside its recorded arguments (absolute: tasks may start elsewhere).
        var execution: [String] = []
        for (i, argument) in request.runArguments.enumerated() {
            var value: String?
            if argument.hasPrefix("--data-dir=") { value = String(argument.dropFirst("--data-dir=".count)) }
            if argument == "--data-dir", i + 1 < request.runArguments.count { value = request.runArguments[i + 1] }
            if let value { execution = ["--data-dir", URL(fileURLWithPath: value).standardizedFileURL.path] }
        }
        // A list of values makes a sweep; a single value is a run option like any other.
        let isSweep = Self.sweptList(in: request.runArguments)
        var points: [SlurmSubmission.Point] = []
        var sweep: SweepParameter?
        var sweepArguments: [String] = []
        let runCommand: Run
        if isSweep {
            let (plan, _) = try SweepPlan.parse(request.runArguments, checkOption: { try Run.checkSweepable($0, tool: tool) })
            runCommand = try Self.parseRun(plan.sharedArguments)
            let record = try SweepCommand<Run>.record(plan)
            try Run.checkSweepRuns(record, with: runCommand)
            sweep = plan.parameter
            sweepArguments = record.specs[0].options(differingFrom: Run.defaultSpec, excluding: [plan.parameter.option])
            points = zip(record.values, record.specs).map { v, spec in
                .init(value: v, path: record.directoryName(v), spec: spec, arguments: spec.options(differingFrom: Run.defaultSpec))
            }
        } else {
            runCommand = try Self.parseRun(request.runArguments)
            let spec = try runCommand.spec(over: try runCommand.runOptions.spec.map(Run.readSpec))
            points = [.init(value: nil, path: ".", spec: spec, arguments: spec.options(differingFrom: Run.defaultSpec))]
        }
        // Every point's run must be valid before anything is written or submitted.
        var experiments: [Experiment] = []
        for point in points { experiments.append(try runCommand.validatedExperiment(point.spec!)) }
        // The kernel is an execution option: every task pins the one given here.
        if let core = runCommand.runOptions.blasCore { execution += ["--blas-core", core] }
        let experiment = experiments[0]
        let modalityName = experiment.modality.name
        let out = request.out ?? RunDirectory.defaultPath(modality: sweep.map { "\(modalityName)-sweep-\($0.name)" } ?? modalityName)
        let directory = URL(fileURLWithPath: out).standardizedFileURL
        if let bad = directory.path.first(where: { $0.isWhitespace || $0 == "%" || $0 == "\"" || $0 == "'" || $0 == "\\" }) {
            throw IMLError("The run directory \(directory.path) contains \(bad == " " ? "a space" : "the character \(bad)"), which sbatch's --output cannot carry; choose an --out without spaces, quotes, backslashes or %.")
        }
        var submission = SlurmSubmission(tool: tool, toolPath: Self.executablePath(), directory: directory,
                                         workingDirectory: FileManager.default.currentDirectoryPath, sweep: sweep, sweepArguments: sweepArguments,
                                         points: points, seeds: experiment.seeds, executionArguments: execution,
                                         settings: request.settings, created: Self.now())
        try Self.checkOutput(submission)
        let arrayArguments = submission.arraySubmission(tasks: nil)
        if request.dryRun {
            print("# \(submission.file(SlurmSubmission.arrayScript).path)")
            print(submission.arrayScriptText())
            print("# \(submission.file(SlurmSubmission.aggregateScript).path)")
            print(submission.aggregateScriptText())
            print("# dry run: nothing was written or submitted. submit would run:")
            print(Shell.command(["sbatch", "--parsable"] + arrayArguments))
            print(Shell.command(["sbatch", "--parsable"] + submission.aggregateSubmission(arrayJob: "<array job>")))
            print("scontrol release <array job>")
            return
        }
        let local = Shell.command([tool, isSweep ? "sweep" : "run"] + request.runArguments + ["--out", directory.path])
        try Slurm.checkSubmission(local: local)

        let created = try Self.createDirectory(directory)
        func removeWritten() {
            if let created { try? FileManager.default.removeItem(at: created) } else { try? FileManager.default.removeItem(at: submission.folderURL) }
        }
        do {
            try Self.writeScripts(submission)
            try submission.save()
        } catch {
            removeWritten()
            throw error
        }
        let jobs = try Self.submitJobs(&submission, tasks: nil, arrayArguments: arrayArguments, aggregateOverrides: [], cleanUp: removeWritten)
        let seeds = experiment.seeds
        let seedText = seeds.count == 1 ? "seed \(seeds[0])" : "seeds \(seeds.first!)-\(seeds.last!)"
        print("submitted \(directory.path): array job \(jobs.arrayJob) with \(submission.tasks.count) task\(submission.tasks.count == 1 ? "" : "s") ("
              + (isSweep ? "\(points.count) values x \(seedText)" : seedText) + "), then aggregation job \(jobs.aggregateJob.map(String.init) ?? "?") once every task succeeded")
        print("  task logs: \(submission.folderURL.path)/task-<task>.log; each seed's run: "
              + (isSweep ? "\(directory.path)/<value>/tasks/seed-<seed>/" : "\(directory.path)/tasks/seed-<seed>/"))
        print("  follow it with: \(tool) status \(directory.path)")
    }

    // MARK: Submitting again

    func resubmit(_ path: String, _ request: SubmitRequest) throws {
        let tool = Self.toolName
        if !request.runArguments.isEmpty || request.out != nil {
            throw IMLError("submit --resume \(path) submits the run again as it was first submitted; give only sbatch settings beside it (not \((request.out != nil ? ["--out"] : request.runArguments).first!)).")
        }
        var submission = try SlurmSubmission(reading: URL(fileURLWithPath: path).standardizedFileURL)
        // Nothing of it may still be queued or running.
        var active: [String] = []
        var seen: [Int: [Slurm.JobRecord]?] = [:]
        func records(_ job: Int) -> [Slurm.JobRecord]? {
            if let r = seen[job] { return r }
            let r = Slurm.showJob(job)
            seen[job] = r
            return r
        }
        for task in submission.tasks {
            guard let job = submission.arrayJob(of: task), let record = records(job)?.first(where: { $0.arrayTasks?.contains(task.index) == true && $0["Command"] == submission.file(SlurmSubmission.arrayScript).path }) else { continue }
            if Slurm.activeStates.contains(record["JobState"] ?? "") { active.append("task \(task.index) is \(Slurm.describe(record)) in job \(job)") }
        }
        if let aggregate = submission.jobs.last?.aggregateJob,
           let record = records(aggregate)?.first(where: { $0["Command"] == submission.file(SlurmSubmission.aggregateScript).path }),
           Slurm.activeStates.contains(record["JobState"] ?? "") {
            active.append("aggregation job \(aggregate) is \(Slurm.describe(record))")
        }
        if !active.isEmpty {
            throw IMLError("The run in \(submission.directory.path) still has jobs in Slurm (\(active.joined(separator: ", "))); wait for them, or cancel them with scancel, then submit again.")
        }
        let unfinished = submission.tasks.filter { !submission.status($0).finished }.map(\.index)
        if unfinished.isEmpty && FileManager.default.fileExists(atPath: submission.pointDirectory(0).appendingPathComponent(RunDirectory.summaryFile).path)
            && (submission.sweep == nil || FileManager.default.fileExists(atPath: submission.directory.appendingPathComponent("sweep.md").path)) {
            print("Every task of \(submission.directory.path) has finished and its results are written; nothing to submit.")
            return
        }
        var overrides = request.overrides
        if let throttle = request.settings.arrayThrottle { submission.settings.arrayThrottle = throttle }
        overrides.removeAll { $0.hasPrefix("--array-throttle") }
        let arrayArguments = unfinished.isEmpty ? [] : submission.arraySubmission(tasks: unfinished, overrides: overrides)
        if request.dryRun {
            print("# dry run: nothing was submitted. submit --resume would run:")
            if !unfinished.isEmpty { print(Shell.command(["sbatch", "--parsable"] + arrayArguments)) }
            print(Shell.command(["sbatch", "--parsable"] + (unfinished.isEmpty ? overrides + [submission.file(SlurmSubmission.aggregateScript).path]
                                                                           : submission.aggregateSubmission(arrayJob: "<array job>", overrides: overrides))))
            if !unfinished.isEmpty { print("scontrol release <array job>") }
            return
        }
        try Slurm.checkSubmission(local: Shell.command([tool, "aggregate", submission.directory.path]) + " once every task is finished with "
                                  + Shell.command([tool, "run", "--resume", "TASKDIR"] + submission.executionArguments))
        try Self.writeScripts(submission)  // the same scripts, written again in case they were lost
        if unfinished.isEmpty {
            let aggregate: Int
            do { aggregate = try Slurm.sbatch(overrides + [submission.file(SlurmSubmission.aggregateScript).path]) } catch let refused as Slurm.SubmissionRefused {
                throw IMLError("sbatch refused the aggregation job, so nothing was submitted: \(refused.message)")
            }
            submission.jobs.append(.init(arrayJob: submission.jobs.last?.arrayJob ?? 0, tasks: [], aggregateJob: aggregate, submitted: Self.now()))
            try submission.save()
            print("every task of \(submission.directory.path) has finished; submitted aggregation job \(aggregate)")
            return
        }
        let jobs = try Self.submitJobs(&submission, tasks: unfinished, arrayArguments: arrayArguments, aggregateOverrides: overrides, cleanUp: {})
        print("submitted again \(submission.directory.path): array job \(jobs.arrayJob) with task\(unfinished.count == 1 ? "" : "s") \(Slurm.arraySpec(unfinished)) (each continues from its last checkpoint), then aggregation job \(jobs.aggregateJob.map(String.init) ?? "?")")
        print("  follow it with: \(tool) status \(submission.directory.path)")
    }

    // MARK: Helpers

    /// Submits the array (held), then the aggregation job after it, then releases the array, so
    /// that either both are in Slurm or neither (the array is cancelled before any task ran).
    static func submitJobs(_ submission: inout SlurmSubmission, tasks: [Int]?, arrayArguments: [String], aggregateOverrides: [String],
                           cleanUp: () -> Void) throws -> SlurmSubmission.Jobs {
        // Ctrl-C must not stop this between the two sbatch calls and leave a held array behind.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        defer { signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL) }
        let array: Int
        do {
            array = try Slurm.sbatch(arrayArguments)
        } catch let refused as Slurm.SubmissionRefused {
            cleanUp()
            throw IMLError("sbatch refused the job array, so nothing was submitted: \(refused.message)")
        }
        let aggregate: Int
        do {
            aggregate = try Slurm.sbatch(submission.aggregateSubmission(arrayJob: String(array), overrides: aggregateOverrides))
        } catch let refused as Slurm.SubmissionRefused {
            let cancelled = Slurm.scancel([array])
            cleanUp()
            throw IMLError("sbatch refused the aggregation job (\(refused.message)), so the job array \(array) was cancelled before any task ran"
                           + (cancelled?.status == 0 ? "; nothing is left submitted." : " (scancel \(array): \(cancelled?.message ?? "not found")); check with squeue that it is gone."))
        }
        let jobs = SlurmSubmission.Jobs(arrayJob: array, tasks: tasks ?? submission.tasks.map(\.index), aggregateJob: aggregate, submitted: now())
        submission.jobs.append(jobs)
        do {
            try submission.save()
            guard let scontrol = Slurm.which("scontrol") else { throw IMLError("scontrol is not installed, so the held array cannot be released") }
            let release = try Slurm.run(scontrol, ["release", String(array)])
            if release.status != 0 { throw IMLError("scontrol release \(array): \(release.message)") }
        } catch {
            Slurm.scancel([array, aggregate])
            submission.jobs.removeLast()
            try? submission.save()
            cleanUp()
            throw IMLError("The job array \(array) could not be started (\((error as? IMLError)?.message ?? "\(error)")), so it and the aggregation job \(aggregate) were cancelled; nothing is left submitted.")
        }
        return jobs
    }

    static func writeScripts(_ submission: SlurmSubmission) throws {
        try submission.writeSpecs()
        for (name, text) in [(SlurmSubmission.arrayScript, submission.arrayScriptText()), (SlurmSubmission.aggregateScript, submission.aggregateScriptText())] {
            let url = submission.file(name)
            try AtomicFile.write(text, to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
    }

    /// True when --set is given, or --alpha or --batch-size a list (a comma in its value).
    static func sweptList(in arguments: [String]) -> Bool {
        for (i, a) in arguments.enumerated() {
            if a == "--set" || a.hasPrefix("--set=") { return true }
            for p in SweepParameter.listOptions {
                if a.hasPrefix(p.option + "="), a.contains(",") { return true }
                if a == p.option, i + 1 < arguments.count, arguments[i + 1].contains(",") { return true }
            }
        }
        return false
    }

    /// Refuses a path that is a file, or a directory that holds a run or a submission already.
    static func checkOutput(_ submission: SlurmSubmission) throws {
        let directory = submission.directory
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw IMLError("The output path \(directory.path) is a file, not a directory; choose another --out.")
        }
        if SlurmSubmission.exists(in: directory) {
            throw IMLError("The output directory \(directory.path) already holds a submitted run; see it with \(submission.tool) status \(directory.path), continue it with \(submission.tool) submit --resume \(directory.path), or choose another --out.")
        }
        for p in submission.points.indices {
            let run = submission.pointDirectory(p)
            if FileManager.default.fileExists(atPath: run.appendingPathComponent(RunDirectory.configFile).path) {
                throw IMLError("The output directory \(run.path) already holds a run; submit never overwrites a run, so choose another --out.")
            }
        }
    }

    /// Creates `directory`; returns the topmost directory it had to create (nil when it existed).
    static func createDirectory(_ directory: URL) throws -> URL? {
        var top: URL?
        var probe = directory
        while !FileManager.default.fileExists(atPath: probe.path) && probe.path != "/" {
            top = probe
            probe = probe.deletingLastPathComponent()
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw IMLError("Cannot create the output directory \(directory.path) (\(error.localizedDescription)); check the path and its permissions.")
        }
        return top
    }

    /// `Run` parsed from submit's run options; a mistake names submit's help.
    static func parseRun(_ arguments: [String]) throws -> Run {
        do {
            return try Run.parse(arguments)
        } catch {
            throw IMLError("\(Run.message(for: error)) (given to submit for `run`); see \(toolName) submit --help.")
        }
    }

    /// The absolute path of this executable, for the job scripts.
    static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        if let path = Bundle.main.executablePath { return URL(fileURLWithPath: path).standardizedFileURL.path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    static func now() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return f.string(from: Date())
    }
}

/// `submit`'s arguments split into its own (sbatch settings, --out, --dry-run, --resume) and
/// those of `run`.
struct SubmitRequest {
    var settings = SlurmSettings()
    var runArguments: [String] = []
    var out: String?
    var dryRun = false
    var resume: String?
    /// The sbatch settings given, as sbatch arguments (for `--resume`, which passes them on).
    var overrides: [String] = []

    static let valueOptions: Set<String> = ["--partition", "--time", "--account", "--cpus-per-task", "--mem", "--array-throttle", "--sbatch-arg", "--out", "--resume"]

    init(_ arguments: [String]) throws {
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            let name = argument.hasPrefix("--") ? (argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument) : argument
            if name == "--dry-run" {
                dryRun = true
            } else if Self.valueOptions.contains(name) {
                let value: String
                if argument.count > name.count {
                    value = String(argument.dropFirst(name.count + 1))
                } else {
                    guard i + 1 < arguments.count else { throw IMLError("\(name) needs a value.") }
                    i += 1
                    value = arguments[i]
                }
                try set(name, value)
            } else {
                runArguments.append(argument)
            }
            i += 1
        }
    }

    mutating func set(_ name: String, _ value: String) throws {
        func positive() throws -> Int {
            guard let n = Int(value), n >= 1 else { throw IMLError("\(name) must be a whole number of at least 1 (got \(value)).") }
            return n
        }
        switch name {
        case "--partition": settings.partition = value; overrides.append("--partition=\(value)")
        case "--time": settings.time = value; overrides.append("--time=\(value)")
        case "--account": settings.account = value; overrides.append("--account=\(value)")
        case "--cpus-per-task": settings.cpusPerTask = try positive(); overrides.append("--cpus-per-task=\(value)")
        case "--mem": settings.memory = value; overrides.append("--mem=\(value)")
        case "--array-throttle": settings.arrayThrottle = try positive(); overrides.append("--array-throttle=\(value)")
        case "--sbatch-arg": settings.extra.append(value); overrides.append(value)
        case "--out": out = value
        case "--resume": resume = value
        default: break
        }
    }
}

extension RunnableCommand {
    /// The experiment a submitted point's tasks make, validated as `run` validates it, without
    /// loading any data. An argument `run` does not accept gives one sentence.
    static func experiment(_ point: SlurmSubmission.Point, execution: [String], tool: String) throws -> Experiment {
        // A point of an older version's submission has arguments, not a spec.
        let arguments = point.spec == nil ? point.arguments + execution : execution
        let command: Self
        do {
            command = try Self.parse(arguments)
        } catch {
            throw IMLError("\(Self.message(for: error)) (given to submit for `run`); see \(tool) submit --help.")
        }
        return try command.validatedExperiment(try point.spec ?? command.spec())
    }
}

/// `aggregate`: what the aggregation job runs once every array task succeeded; by hand, it
/// writes the results of a submitted run whose tasks were finished some other way.
public struct AggregateCommand<Run: RunnableCommand>: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "aggregate",
                             abstract: "Write the results of a submitted run once every task has finished (the aggregation job runs this).")
    }

    @Argument(help: "The directory `submit` wrote.") var directory: String

    public init() {}

    public func run() throws {
        try reportingErrors {
            let submission = try SlurmSubmission(reading: URL(fileURLWithPath: directory).standardizedFileURL)
            let tool = submission.tool
            let summaries = try submission.aggregate { point in
                try Run.experiment(point, execution: submission.executionArguments, tool: tool)
            }
            if submission.sweep != nil {
                print(try String(contentsOf: submission.directory.appendingPathComponent("sweep.md"), encoding: .utf8))
            } else if let summary = summaries.first {
                print(summary.table())
                print("outputs in \(submission.directory.path)")
            }
        }
    }
}
