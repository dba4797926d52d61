// A run (or sweep) submitted to Slurm: one array task per seed (per value and seed for a sweep),
// each training its seed with the tool's own `run` into a sub-run directory, and one aggregation
// job that writes the results as a local run would. This file holds what a submission records
// (slurm/submission.json), the two job scripts, and the aggregation.
//
// Layout of a submitted run RUN (a sweep SWEEP has one such run per value, SWEEP/alpha=0.5/, and
// one slurm/ folder for all of them):
//   RUN/slurm/array.sh, aggregate.sh   the job scripts, resubmittable by hand with sbatch
//   RUN/slurm/submission.json          what was submitted: tasks, seeds, job ids
//   RUN/slurm/task-<i>.log             array task i's output, every (re)start appended
//   RUN/slurm/aggregate.log            the aggregation job's output
//   RUN/tasks/seed-<s>/                seed s as a complete one-seed run (config.json,
//                                      metrics.jsonl, checkpoints/, ...)
//   RUN/config.json, metrics.jsonl, summary.json, curves.png, tensorboard/, checkpoints/
//                                      written by the aggregation, as `run` writes them

import Foundation
import IMLBase
import IMLRunFiles

/// sbatch settings that pass through to both job scripts as #SBATCH lines.
public struct SlurmSettings: Equatable {
    public var partition: String?
    public var time: String?
    public var account: String?
    public var cpusPerTask = 1
    public var memory: String?
    /// At most this many array tasks run at once (sbatch's --array=...%K).
    public var arrayThrottle: Int?
    /// Further sbatch arguments, one #SBATCH line each.
    public var extra: [String] = []

    public init() {}

    /// The #SBATCH lines for these settings (`cpus`: the job's CPUs per task).
    func directives(cpus: Int) -> [String] {
        var lines: [String] = []
        if let partition { lines.append("--partition=\(partition)") }
        if let account { lines.append("--account=\(account)") }
        if let time { lines.append("--time=\(time)") }
        lines.append("--cpus-per-task=\(cpus)")
        if let memory { lines.append("--mem=\(memory)") }
        lines += extra
        return lines.map { "#SBATCH " + $0 }
    }

    var json: JSON {
        .object([("partition", partition.map(JSON.string) ?? .null), ("time", time.map(JSON.string) ?? .null),
                 ("account", account.map(JSON.string) ?? .null), ("cpus_per_task", .int(cpusPerTask)),
                 ("mem", memory.map(JSON.string) ?? .null), ("array_throttle", arrayThrottle.map(JSON.int) ?? .null),
                 ("sbatch_args", .array(extra.map(JSON.string)))])
    }

    init(json: JSON) {
        partition = json["partition"]?.stringValue
        time = json["time"]?.stringValue
        account = json["account"]?.stringValue
        cpusPerTask = json["cpus_per_task"]?.intValue ?? 1
        memory = json["mem"]?.stringValue
        arrayThrottle = json["array_throttle"]?.intValue
        extra = json["sbatch_args"]?.stringArray ?? []
    }
}

public struct SlurmSubmission {
    /// One run of the submission: the whole run, or one value of a sweep.
    public struct Point {
        /// The swept value, nil for a plain run.
        public var value: SweepValue?
        /// The run directory, relative to the submission's directory ("." for a plain run).
        public var path: String
        /// The run's spec (every seed); each task runs it for its own seed. Nil in a submission
        /// an older version wrote, whose tasks run `arguments`.
        public var spec: RunSpec?
        /// The options that give the spec, for people, as a local run records them in config.json.
        public var arguments: [String]
        public init(value: SweepValue?, path: String, spec: RunSpec?, arguments: [String]) {
            self.value = value; self.path = path; self.spec = spec; self.arguments = arguments
        }
    }

    /// One array task: one seed of one point.
    public struct Task {
        public var index: Int
        public var point: Int
        public var seed: UInt64
    }

    /// One sbatch of the array (the first submission, then one per `submit --resume`).
    public struct Jobs {
        public var arrayJob: Int
        public var tasks: [Int]
        public var aggregateJob: Int?
        public var submitted: String
        public init(arrayJob: Int, tasks: [Int], aggregateJob: Int?, submitted: String) {
            self.arrayJob = arrayJob; self.tasks = tasks; self.aggregateJob = aggregateJob; self.submitted = submitted
        }
    }

    public static let folder = "slurm"
    public static let recordFile = "submission.json"
    public static let arrayScript = "array.sh"
    public static let aggregateScript = "aggregate.sh"
    public static let tasksFolder = "tasks"
    static let format = "iml slurm submission 1"

    /// The tool's name (mnist-iml) and the absolute path of its executable.
    public var tool: String
    public var toolPath: String
    /// The run or sweep directory (absolute).
    public var directory: URL
    /// Where the jobs start (the directory submit ran in), for relative paths in the arguments.
    public var workingDirectory: String
    /// The swept setting and the sweep's arguments as given (for sweep.md), nil for a run.
    public var sweep: SweepParameter?
    public var sweepArguments: [String]
    public var points: [Point]
    public var seeds: [UInt64]
    /// Options each task's `run` gets that are not recorded in config.json (e.g. --data-dir).
    public var executionArguments: [String]
    public var settings: SlurmSettings
    public var jobs: [Jobs]
    public var created: String

    public init(tool: String, toolPath: String, directory: URL, workingDirectory: String, sweep: SweepParameter?, sweepArguments: [String],
                points: [Point], seeds: [UInt64], executionArguments: [String], settings: SlurmSettings, created: String) {
        self.tool = tool; self.toolPath = toolPath; self.directory = directory; self.workingDirectory = workingDirectory
        self.sweep = sweep; self.sweepArguments = sweepArguments; self.points = points; self.seeds = seeds
        self.executionArguments = executionArguments; self.settings = settings; self.jobs = []; self.created = created
    }

    public var tasks: [Task] {
        points.indices.flatMap { p in seeds.enumerated().map { Task(index: p * seeds.count + $0.offset, point: p, seed: $0.element) } }
    }

    public var folderURL: URL { directory.appendingPathComponent(Self.folder) }
    public func file(_ name: String) -> URL { folderURL.appendingPathComponent(name) }
    public func pointDirectory(_ point: Int) -> URL {
        points[point].path == "." ? directory : directory.appendingPathComponent(points[point].path)
    }
    public func taskDirectory(_ task: Task) -> URL {
        pointDirectory(task.point).appendingPathComponent(Self.tasksFolder).appendingPathComponent("seed-\(task.seed)")
    }
    public func logFile(_ task: Task) -> URL { file("task-\(task.index).log") }
    public var aggregateLog: URL { file("aggregate.log") }

    /// The array job that ran `task` last (nil before the first sbatch).
    public func arrayJob(of task: Task) -> Int? { jobs.last { $0.tasks.contains(task.index) }?.arrayJob }

    /// The `run` arguments of a task's first start: its point's spec, for its one seed.
    public func taskArguments(_ task: Task) -> [String] {
        let seed = ["--seeds", "1", "--first-seed", String(task.seed)]
        guard points[task.point].spec != nil else { return Self.removing(["--seeds", "--first-seed"], from: points[task.point].arguments) + seed }
        return ["--spec", specFile(point: task.point).path] + seed
    }

    /// The file holding point `point`'s spec, which its tasks run.
    public func specFile(point: Int) -> URL { file("spec-\(point).json") }

    /// Writes each point's spec file.
    public func writeSpecs() throws {
        for (p, point) in points.enumerated() {
            guard let spec = point.spec else { continue }
            try AtomicFile.write(spec.json.serialized(pretty: true) + "\n", to: specFile(point: p))
        }
    }

    /// `arguments` without the value options named in `names` (and their values).
    public static func removing(_ names: Set<String>, from arguments: [String]) -> [String] {
        var kept: [String] = [], i = 0
        while i < arguments.count {
            let argument = arguments[i]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if names.contains(name) {
                i += argument.contains("=") ? 1 : 2
                continue
            }
            kept.append(argument)
            i += 1
        }
        return kept
    }

    // MARK: The job scripts

    var jobName: String {
        let name = directory.lastPathComponent.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || "._=-".unicodeScalars.contains($0) ? String($0) : "_" }.joined()
        return "\(tool):\(name)"
    }

    /// The array job's script: the task id picks the seed (and value) and its directory; the
    /// task continues from the directory's checkpoints when it holds a run already.
    public func arrayScriptText() -> String {
        let q = Shell.quote
        let throttle = settings.arrayThrottle.map { "%\($0)" } ?? ""
        var lines = [
            "#!/bin/bash",
            "# Written by `\(tool) submit` (\(created)) for \(directory.path).",
            "# One array task per \(sweep == nil ? "seed" : "value and seed"): task i trains its seed with `\(tool) run` into its own",
            "# directory (below), on the CPUs Slurm gives it. A task that starts again (requeue, preemption, `\(tool) submit",
            "# --resume`) continues from that directory's last checkpoint. On SIGTERM (requeue, scancel, time",
            "# limit) the run saves a checkpoint after its current batch and exits with status 143.",
            "#SBATCH --job-name=\(jobName)",
            "#SBATCH --array=\(Slurm.arraySpec(tasks.map(\.index)))\(throttle)",
            "#SBATCH --output=\(file("task-%a.log").path)",
            "#SBATCH --open-mode=append",
            "#SBATCH --requeue",
            "#SBATCH --ntasks=1",
        ] + settings.directives(cpus: settings.cpusPerTask) + [
            "set -u",
            "cd \(q(workingDirectory)) || exit 1",
            "tool=\(q(toolPath))",
            // As many threads as Slurm gave the task (the numbers do not depend on it).
            "exec_args=(--threads \"${SLURM_CPUS_PER_TASK:-\(settings.cpusPerTask)}\"\(executionArguments.map { " " + q($0) }.joined()))",
            "case \"${SLURM_ARRAY_TASK_ID:-}\" in",
        ]
        for task in tasks {
            lines.append("  \(task.index)) dir=\(q(taskDirectory(task).path)); args=(\(taskArguments(task).map(q).joined(separator: " "))) ;;")
        }
        lines += [
            "  *) echo \"\(Self.arrayScript): this run has no array task '${SLURM_ARRAY_TASK_ID:-}' (tasks \(Slurm.arraySpec(tasks.map(\.index))))\" >&2; exit 64 ;;",
            "esac",
            "echo \"== $(date -u +%Y-%m-%dT%H:%M:%SZ) task $SLURM_ARRAY_TASK_ID (job ${SLURM_JOB_ID:-?}, array job ${SLURM_ARRAY_JOB_ID:-?}) on $(hostname -s), restart ${SLURM_RESTART_COUNT:-0}: $dir\"",
            "if [ -f \"$dir/config.json\" ]; then",
            "  \"$tool\" run --resume \"$dir\" \"${exec_args[@]}\" &",
            "else",
            "  \"$tool\" run \"${args[@]}\" --out \"$dir\" \"${exec_args[@]}\" &",
            "fi",
            "pid=$!",
            "# Slurm signals the whole job; the shell passes SIGTERM on (a repeat is harmless) and waits",
            "# until the run has saved its checkpoint, since the job ends when this shell does.",
            "trap 'kill -TERM \"$pid\" 2>/dev/null' TERM",
            "wait \"$pid\"; status=$?",
            "while kill -0 \"$pid\" 2>/dev/null; do wait \"$pid\"; status=$?; done",
            "echo \"== $(date -u +%Y-%m-%dT%H:%M:%SZ) task $SLURM_ARRAY_TASK_ID exit status $status\"",
            "exit \"$status\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The aggregation job's script (submitted with --dependency=afterok on the array).
    public func aggregateScriptText() -> String {
        let q = Shell.quote
        let lines = [
            "#!/bin/bash",
            "# Written by `\(tool) submit` (\(created)) for \(directory.path).",
            "# Runs once every array task has succeeded (afterok): writes the results of the "
                + (sweep == nil ? "run" : "sweep") + " as a local `\(tool) \(sweep == nil ? "run" : "sweep")` would.",
            "#SBATCH --job-name=\(jobName):aggregate",
            "#SBATCH --output=\(aggregateLog.path)",
            "#SBATCH --open-mode=append",
            "#SBATCH --requeue",
            "#SBATCH --ntasks=1",
        ] + settings.directives(cpus: 1) + [
            "cd \(q(workingDirectory)) || exit 1",
            "echo \"== $(date -u +%Y-%m-%dT%H:%M:%SZ) aggregation (job ${SLURM_JOB_ID:-?}) on $(hostname -s), restart ${SLURM_RESTART_COUNT:-0}\"",
            "exec \(q(toolPath)) aggregate \(q(directory.path))",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The sbatch arguments that submit the array (held until the aggregation job is in too);
    /// `tasks` nil for all of them. `overrides`: settings given again with `submit --resume`.
    public func arraySubmission(tasks: [Int]?, overrides: [String] = []) -> [String] {
        var arguments = ["--hold"] + overrides
        if let tasks { arguments.append("--array=\(Slurm.arraySpec(tasks))" + (settings.arrayThrottle.map { "%\($0)" } ?? "")) }
        return arguments + [file(Self.arrayScript).path]
    }

    public func aggregateSubmission(arrayJob: String, overrides: [String] = []) -> [String] {
        ["--dependency=afterok:\(arrayJob)", "--kill-on-invalid-dep=yes"] + overrides + [file(Self.aggregateScript).path]
    }

    // MARK: submission.json

    public var json: JSON {
        .object([
            ("format", .string(Self.format)),
            ("tool", .string(tool)), ("tool_path", .string(toolPath)),
            ("directory", .string(directory.path)), ("working_directory", .string(workingDirectory)),
            ("created", .string(created)),
            ("sweep", sweep.map { .object([("parameter", .string($0.name)), ("arguments", .array(sweepArguments.map(JSON.string)))]) } ?? .null),
            ("points", .array(points.map { p in
                .object([("value", p.value.map { .string($0.text) } ?? .null), ("path", .string(p.path)),
                         ("arguments", .array(p.arguments.map(JSON.string))), ("spec", p.spec?.json ?? .null)])
            })),
            ("seeds", .array(seeds.map { .int(Int($0)) })),
            ("execution_arguments", .array(executionArguments.map(JSON.string))),
            ("sbatch", settings.json),
            ("tasks", .array(tasks.map { t in
                .object([("task", .int(t.index)), ("seed", .int(Int(t.seed))),
                         ("value", points[t.point].value.map { .string($0.text) } ?? .null),
                         ("directory", .string(Self.relative(taskDirectory(t), to: directory))),
                         ("log", .string(Self.relative(logFile(t), to: directory)))])
            })),
            ("jobs", .array(jobs.map { j in
                .object([("array_job", .int(j.arrayJob)), ("tasks", .string(Slurm.arraySpec(j.tasks))),
                         ("aggregate_job", j.aggregateJob.map(JSON.int) ?? .null), ("submitted", .string(j.submitted))])
            })),
        ])
    }

    static func relative(_ url: URL, to base: URL) -> String {
        let prefix = base.path.hasSuffix("/") ? base.path : base.path + "/"
        return url.path.hasPrefix(prefix) ? String(url.path.dropFirst(prefix.count)) : url.path
    }

    public func save() throws {
        try AtomicFile.write(json.serialized(pretty: true) + "\n", to: file(Self.recordFile))
    }

    /// True when `directory` holds a submission (slurm/submission.json).
    public static func exists(in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(folder).appendingPathComponent(recordFile).path)
    }

    /// Reads the submission in `directory` (the run or sweep directory). Paths are taken
    /// relative to where the file is now, so a moved run still shows its files.
    public init(reading directory: URL) throws {
        let file = directory.appendingPathComponent(Self.folder).appendingPathComponent(Self.recordFile)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw IMLError("\(directory.path) holds no submitted run (it has no \(Self.folder)/\(Self.recordFile)); give the directory that `submit` wrote.")
        }
        func damaged(_ what: String) -> IMLError {
            IMLError("\(file.path) is damaged (\(what)); it was written by `submit`, so submit the run again into a new directory.")
        }
        guard let data = FileManager.default.contents(atPath: file.path), let o = try? JSON.read([UInt8](data)) else { throw damaged("not valid JSON") }
        guard o["format"]?.stringValue == Self.format else { throw damaged("not a submission record of this version") }
        guard let tool = o["tool"]?.stringValue, let toolPath = o["tool_path"]?.stringValue,
              let workingDirectory = o["working_directory"]?.stringValue, let created = o["created"]?.stringValue,
              let pointList = o["points"]?.arrayItems, let seedList = o["seeds"]?.arrayItems,
              let execution = o["execution_arguments"]?.stringArray, let sbatch = o["sbatch"], sbatch.objectFields != nil,
              let jobList = o["jobs"]?.arrayItems else { throw damaged("a field is missing") }
        self.tool = tool; self.toolPath = toolPath; self.directory = directory.standardizedFileURL
        self.workingDirectory = workingDirectory; self.created = created
        if let sweep = o["sweep"], sweep != .null {
            guard let name = sweep["parameter"]?.stringValue, !name.isEmpty else { throw damaged("unknown sweep parameter") }
            self.sweep = SweepParameter(name)
            sweepArguments = sweep["arguments"]?.stringArray ?? []
        } else {
            self.sweep = nil
            sweepArguments = []
        }
        points = try pointList.map { p in
            guard let path = p["path"]?.stringValue, let arguments = p["arguments"]?.stringArray else { throw damaged("a point without path or arguments") }
            // A submission of an older version has no spec: its tasks run the arguments.
            let spec = try p["spec"].flatMap { $0 == .null ? nil : try RunSpec(json: $0, what: "\(file.path)'s spec") }
            return Point(value: p["value"]?.stringValue.map(SweepValue.init), path: path, spec: spec, arguments: arguments)
        }
        seeds = try seedList.map { item in
            guard let seed = item.intValue.flatMap({ UInt64(exactly: $0) }) else { throw damaged("a seed that is not a whole number") }
            return seed
        }
        executionArguments = execution
        settings = SlurmSettings(json: sbatch)
        jobs = try jobList.map { j in
            // An entry for an aggregation job alone (every task had finished) has no tasks.
            guard let array = j["array_job"]?.intValue, let list = j["tasks"]?.stringValue,
                  let tasks = list.isEmpty ? [] : Slurm.taskIDs(list),
                  let submitted = j["submitted"]?.stringValue else { throw damaged("a job entry without array job or tasks") }
            return Jobs(arrayJob: array, tasks: tasks, aggregateJob: j["aggregate_job"]?.intValue, submitted: submitted)
        }
    }
}

/// Quoting for bash: words made of safe characters stay as they are.
public enum Shell {
    public static func quote(_ s: String) -> String {
        !s.isEmpty && s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=,:+@%".contains($0)) })
            ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func command(_ words: [String]) -> String { words.map(quote).joined(separator: " ") }
}
