import Foundation
import IMLBase
import MNIST
import XCTest

/// `submit`, `status` and `aggregate` through the built `mnist-iml` against the real Slurm of
/// scripts/slurm-up.sh (started here; skipped, with the reason printed, only where it cannot
/// be: not root, no apt; with IML_REQUIRE_SLURM=1, as in CI, that is a failure instead).
/// Every run is tiny (10 entities, 1x1 grids, a synthetic Fashion-MNIST) so a debug build trains
/// a seed in about a second; the Slurm facts relied on are measured in docs/slurm-local.md.
final class SubmitTests: XCTestCase {
    var base: URL!
    /// Run directories whose jobs are cancelled when the test ends, whatever happened.
    var submitted: [URL] = []

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    override func setUpWithError() throws {
        base = URL(fileURLWithPath: "/tmp").appendingPathComponent("iml-submit-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        addTeardownBlock { [unowned self] in
            for run in submitted { cancelJobs(of: run) }
            try? FileManager.default.removeItem(at: base)
        }
    }

    // MARK: The cluster

    /// Nil when the cluster is up (started by scripts/slurm-up.sh, once per test process), else why not.
    static let clusterProblem: String? = {
        let started = Date()
        guard getuid() == 0 else { return "scripts/slurm-up.sh needs root (it installs slurm-wlm and starts the daemons)" }
        let outcome = try? run(URL(fileURLWithPath: "/bin/bash"), [packageRoot.appendingPathComponent("scripts/slurm-up.sh").path],
                               in: packageRoot, timeout: 300)
        guard let outcome else { return "scripts/slurm-up.sh could not be started" }
        FileHandle.standardError.write(Data("SubmitTests: \(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)\n".utf8))
        return outcome.status == 0 ? nil : "scripts/slurm-up.sh failed (exit \(outcome.status)): \(outcome.stderr.suffix(600))"
    }()

    func requireCluster() throws {
        guard let problem = Self.clusterProblem else { return }
        if ProcessInfo.processInfo.environment["IML_REQUIRE_SLURM"] == "1" {
            throw IMLError("Slurm is required here (IML_REQUIRE_SLURM=1) but cannot be started: \(problem)")
        }
        FileHandle.standardError.write(Data("SubmitTests: skipped, no Slurm: \(problem)\n".utf8))
        throw XCTSkip("no Slurm cluster: \(problem)")
    }

    // MARK: Helpers

    struct Outcome { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String] = [:],
                    timeout: Double = 120) throws -> Outcome {
        var env = ProcessInfo.processInfo.environment
        env["MNIST_DIR"] = nil
        for (k, v) in environment { env[k] = v }
        // Files, not pipes: the daemons slurm-up.sh starts would hold a pipe open.
        let id = UUID().uuidString
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("submit-test-out-\(id)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("submit-test-err-\(id)")
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        let process = try ChildProcess(executable.path, arguments, environment: env, directory: directory.path,
                                       stdout: .file(out.path), stderr: .file(err.path))
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.send(SIGTERM) }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                       stderr: try String(contentsOf: err, encoding: .utf8))
    }

    static func tool(_ name: String) throws -> URL {
        for directory in [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()] {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw IMLError("\(name) is not built next to the test bundle in \(Bundle.main.bundleURL.path); run swift build first.")
    }

    @discardableResult
    func mnistIML(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        try Self.run(try Self.tool("mnist-iml"), arguments, in: base, environment: environment)
    }

    /// Runs a command that must succeed and returns its stdout.
    @discardableResult
    func succeed(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let outcome = try mnistIML(arguments)
        XCTAssertEqual(outcome.status, 0, "mnist-iml \(arguments.joined(separator: " ")): \(outcome.stderr)", file: file, line: line)
        return outcome.stdout
    }

    func shell(_ command: String) throws -> Outcome {
        try Self.run(URL(fileURLWithPath: "/bin/bash"), ["-c", command], in: base)
    }

    /// A valid synthetic Fashion-MNIST-format dataset: 30 train and 20 test images.
    func dataset(_ name: String) throws -> URL {
        let directory = base.appendingPathComponent(name)
        func split(_ count: Int) throws -> MNISTSplit {
            try MNISTSplit(count: count, rows: 28, cols: 28, images: (0..<count * 784).map { UInt8(truncatingIfNeeded: $0 * 7) },
                           labels: (0..<count).map { UInt8($0 % 10) })
        }
        try MNISTData.writeIDXFiles(train: try split(30), test: try split(20), to: directory, gzip: false)
        return directory
    }

    func settings(_ data: URL, epochs1: Int = 3, seeds: Int = 3, batchSize: Int? = 8) -> [String] {
        ["--dataset", "fashion-mnist", "--data-dir", data.path, "--grid", "1", "--entities", "10",
         "--epochs1", String(epochs1), "--epochs2", "1", "--seeds", String(seeds)] + (batchSize.map { ["--batch-size", String($0)] } ?? [])
    }

    /// submission.json of a submitted run.
    func submission(_ run: URL) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("slurm/submission.json"))) as? [String: Any])
    }

    func jobs(_ run: URL) throws -> (array: Int, aggregate: Int) {
        let last = try XCTUnwrap((try submission(run)["jobs"] as? [[String: Any]])?.last)
        return (try XCTUnwrap(last["array_job"] as? Int), try XCTUnwrap(last["aggregate_job"] as? Int))
    }

    func cancelJobs(of run: URL) {
        guard let list = (try? submission(run))?["jobs"] as? [[String: Any]] else { return }
        let ids = list.flatMap { [$0["array_job"] as? Int, $0["aggregate_job"] as? Int].compactMap { $0 } }
        if !ids.isEmpty { _ = try? shell("scancel \(ids.map(String.init).joined(separator: " "))") }
    }

    /// `scontrol show job -o JOB` as one dictionary per record.
    func records(_ job: String) throws -> [[String: String]] {
        try shell("scontrol show job -o \(job)").stdout.split(separator: "\n").map { line in
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            return fields
        }
    }

    func state(_ job: String) throws -> String { try records(job).first?["JobState"] ?? "gone" }

    static let ended: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "gone"]

    /// Waits (bounded) until `job` has ended; returns its final state.
    @discardableResult
    func waitUntilEnded(_ job: Int, timeout: Double = 120, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let s = try state(String(job))
            if Self.ended.contains(s) { return s }
            usleep(250_000)
        }
        XCTFail("job \(job) did not end within \(Int(timeout)) s (\(try state(String(job))))", file: file, line: line)
        return try state(String(job))
    }

    func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// summary.json without its wall_seconds line.
    func summaryWithoutWallTime(_ run: URL) throws -> [Substring] {
        try text(run.appendingPathComponent("summary.json")).split(separator: "\n").filter { !$0.contains("wall_seconds") }
    }

    /// Asserts that the submitted run writes what the local run wrote: metrics.jsonl, curves.png
    /// and the seeds' finished checkpoints and saved models byte for byte, summary.json but for wall_seconds,
    /// config.json but for "threads".
    func assertSameResults(_ submitted: URL, _ local: URL, seeds: [Int], threads: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        // The saved models too (models/seed-N/*.weights), which `analyze` reads.
        let models = try seeds.flatMap { seed in
            try FileManager.default.contentsOfDirectory(atPath: local.appendingPathComponent("models/seed-\(seed)").path).sorted().map { "models/seed-\(seed)/\($0)" }
        }
        XCTAssertGreaterThanOrEqual(models.count, 2 * seeds.count, "the end of each stage is kept", file: file, line: line)
        for name in ["metrics.jsonl", "curves.png"] + seeds.map({ "checkpoints/seed-\($0).checkpoint" }) + models {
            let a = try Data(contentsOf: submitted.appendingPathComponent(name)), b = try Data(contentsOf: local.appendingPathComponent(name))
            XCTAssertTrue(a == b, "\(name) of \(submitted.path) differs from the local run's", file: file, line: line)
        }
        XCTAssertEqual(try summaryWithoutWallTime(submitted), try summaryWithoutWallTime(local), file: file, line: line)
        let configA = try text(submitted.appendingPathComponent("config.json")).split(separator: "\n")
        let configB = try text(local.appendingPathComponent("config.json")).split(separator: "\n")
        XCTAssertEqual(configA.filter { !$0.hasPrefix("  \"threads\"") }, configB.filter { !$0.hasPrefix("  \"threads\"") }, file: file, line: line)
        XCTAssertTrue(configA.contains("  \"threads\": \(threads),"), "each task runs on its --cpus-per-task", file: file, line: line)
    }

    // MARK: (a) a job array equals a local run

    func testThreeSeedJobArrayPlusAggregationEqualsALocalRunByteForByte() throws {
        try requireCluster()
        let data = try dataset("data")
        let run = base.appendingPathComponent("submitted"), local = base.appendingPathComponent("local")
        submitted.append(run)
        let out = try succeed(["submit"] + settings(data) + ["--out", run.path])
        let (array, aggregate) = try jobs(run)
        XCTAssertTrue(out.hasPrefix("submitted \(run.path): array job \(array) with 3 tasks (seeds 0-2), then aggregation job \(aggregate) once every task succeeded\n"), out)
        let script = try text(run.appendingPathComponent("slurm/array.sh"))
        for line in ["#SBATCH --array=0-2", "#SBATCH --requeue", "#SBATCH --open-mode=append", "#SBATCH --output=\(run.path)/slurm/task-%a.log"] {
            XCTAssertTrue(script.contains(line + "\n"), line)
        }
        XCTAssertTrue(script.contains("tool=/"), "the tool's path must be absolute")
        let early = try mnistIML(["submit", "--resume", run.path])
        XCTAssertEqual(early.status, 1)
        XCTAssertTrue(early.stderr.hasPrefix("error: The run in \(run.path) still has jobs in Slurm (task 0 is ") &&
                      early.stderr.hasSuffix("); wait for them, or cancel them with scancel, then submit again.\n"), early.stderr)
        // The local reference trains meanwhile.
        try succeed(["run"] + settings(data) + ["--threads", "2", "--out", local.path])
        XCTAssertEqual(try waitUntilEnded(aggregate), "COMPLETED")
        try assertSameResults(run, local, seeds: [0, 1, 2])
        for task in 0..<3 {
            let record = try XCTUnwrap(try records("\(array)_\(task)").first)
            XCTAssertEqual(record["JobState"], "COMPLETED")
            XCTAssertEqual(record["ExitCode"], "0:0")
            XCTAssertTrue(try text(run.appendingPathComponent("slurm/task-\(task).log")).contains("task \(task) exit status 0"))
        }
        let status = try succeed(["status", run.path])
        XCTAssertTrue(status.contains("3 tasks, 3 finished; array job \(array)\naggregation job \(aggregate): COMPLETED; log \(run.path)/slurm/aggregate.log\nresults written"), status)
        for task in 0..<3 {
            XCTAssertTrue(status.contains("\n\(task)     \(task)     2      1/1    finished  COMPLETED  \(run.path)/slurm/task-\(task).log"), status)
        }
        // Once Slurm has forgotten the jobs (MinJobAge after they ended), status says so; an id
        // Slurm never gave stands in for them here.
        let record = run.appendingPathComponent("slurm/submission.json")
        try text(record).replacingOccurrences(of: "\"array_job\": \(array),", with: "\"array_job\": 67000000,")
            .replacingOccurrences(of: "\"aggregate_job\": \(aggregate),", with: "\"aggregate_job\": 67000001,")
            .write(to: record, atomically: true, encoding: .utf8)
        let forgotten = try succeed(["status", run.path])
        XCTAssertTrue(forgotten.contains("aggregation job 67000001: unknown (forgotten by Slurm)"), forgotten)
        XCTAssertTrue(forgotten.contains("\n2     2     2      1/1    finished  unknown (forgotten by Slurm)  \(run.path)/slurm/task-2.log"), forgotten)
        let localStatus = try succeed(["status", local.path])
        XCTAssertTrue(localStatus.contains("3 of 3 finished; results written") && localStatus.contains("\n2     2      1/1    finished"), localStatus)
    }

    /// The same generic submit serves text-iml (no data files; a tiny transformer). Its tasks get
    /// 2 CPUs each and train on 2 threads, which changes no number.
    func testTextIMLSubmitEqualsALocalRun() throws {
        try requireCluster()
        let run = base.appendingPathComponent("text-submitted"), local = base.appendingPathComponent("text-local")
        submitted.append(run)
        let options = ["--entities", "40", "--epochs1", "2", "--epochs2", "1", "--seeds", "2", "--layers", "1", "--width", "16", "--heads", "2"]
        let textIML = try Self.tool("text-iml")
        let submit = try Self.run(textIML, ["submit"] + options + ["--cpus-per-task", "2", "--out", run.path], in: base)
        XCTAssertEqual(submit.status, 0, submit.stderr)
        let (_, aggregate) = try jobs(run)
        XCTAssertEqual(try Self.run(textIML, ["run"] + options + ["--threads", "1", "--out", local.path], in: base).status, 0)
        XCTAssertEqual(try waitUntilEnded(aggregate), "COMPLETED")
        try assertSameResults(run, local, seeds: [0, 1], threads: 2)
    }

    // MARK: (b) requeue in the middle of training

    func testRequeueInTheMiddleOfTrainingResumesFromTheCheckpointByteIdentically() throws {
        try requireCluster()
        let data = try dataset("data")
        let run = base.appendingPathComponent("requeued"), local = base.appendingPathComponent("local")
        submitted.append(run)
        let options = settings(data, epochs1: 12, seeds: 2)
        try succeed(["submit"] + options + ["--out", run.path])
        let (array, aggregate) = try jobs(run)
        // Requeue task 1 as soon as its seed has saved epoch 1 of 12.
        let checkpoint = run.appendingPathComponent("tasks/seed-1/checkpoints/seed-1.checkpoint")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline { usleep(20_000) }
        let requeue = try shell("scontrol requeue \(array)_1")
        XCTAssertEqual(requeue.status, 0, requeue.stderr)
        try succeed(["run"] + options + ["--threads", "2", "--out", local.path])
        // A requeued task may start again only after EligibleTime (cred_expire + 1 s). Slurm then
        // starts it at its next scheduling pass, up to a minute later on an idle cluster; a
        // trivial job makes that pass happen at once.
        var eligible = false
        let restartDeadline = Date().addingTimeInterval(60)
        while !eligible && Date() < restartDeadline {
            let record = try XCTUnwrap(try records("\(array)_1").first)
            if record["JobState"] == "PENDING", let time = record["EligibleTime"], let date = Self.slurmDate(time), date < Date() { eligible = true }
            if record["JobState"] == "RUNNING" || record["JobState"] == "COMPLETED" { break }
            usleep(250_000)
        }
        if eligible { _ = try shell("sbatch --wrap=true --output=/dev/null --job-name=iml-test-nudge") }
        XCTAssertEqual(try waitUntilEnded(aggregate), "COMPLETED")
        let task = try XCTUnwrap(try records("\(array)_1").first)
        XCTAssertEqual(task["JobState"], "COMPLETED")
        XCTAssertEqual(task["Restarts"], "1")
        let log = try text(run.appendingPathComponent("slurm/task-1.log"))
        XCTAssertTrue(log.contains("restart 0: \(run.path)/tasks/seed-1\n") && log.contains("restart 1: \(run.path)/tasks/seed-1\n"), log)
        XCTAssertTrue(log.contains("SIGTERM: stopping after the current batch and saving checkpoints.\n"), log)
        XCTAssertTrue(log.contains("task 1 exit status 143\n") && log.hasSuffix("task 1 exit status 0\n"), log)
        XCTAssertTrue(log.contains("; resuming \(run.path)/tasks/seed-1\nseed 1: stage 1, "), log)
        XCTAssertFalse(log.contains("seed 1: not started"), log)
        try assertSameResults(run, local, seeds: [0, 1])
        let status = try succeed(["status", run.path])
        XCTAssertTrue(status.contains("finished  COMPLETED, restarted 1x  \(run.path)/slurm/task-1.log"), status)
    }

    static func slurmDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.date(from: text)
    }

    // MARK: (c) a failing task

    func testAFailingTaskStopsTheAggregationAndStatusNamesItsLog() throws {
        try requireCluster()
        let data = try dataset("damaged")
        let images = data.appendingPathComponent("train-images-idx3-ubyte")
        let whole = try Data(contentsOf: images)
        try whole.prefix(100).write(to: images)
        let run = base.appendingPathComponent("failing")
        submitted.append(run)
        try succeed(["submit"] + settings(data, seeds: 2) + ["--out", run.path])
        let (array, aggregate) = try jobs(run)
        XCTAssertEqual(try waitUntilEnded(aggregate, timeout: 60), "CANCELLED")
        let aggregation = try XCTUnwrap(try records(String(aggregate)).first)
        XCTAssertEqual(aggregation["Reason"], "DependencyNeverSatisfied")
        XCTAssertEqual(aggregation["Dependency"], "afterok:\(array)_*(failed)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("slurm/aggregate.log").path), "the aggregation must not run")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("summary.json").path))
        let message = "error: \(images.path): file truncated at byte 100, the header promises 23536 bytes; delete it and download again"
        for task in 0..<2 {
            let record = try XCTUnwrap(try records("\(array)_\(task)").first)
            XCTAssertEqual(record["JobState"], "FAILED")
            XCTAssertEqual(record["Reason"], "NonZeroExitCode")
            XCTAssertEqual(record["ExitCode"], "1:0")
            XCTAssertTrue(try text(run.appendingPathComponent("slurm/task-\(task).log")).contains(message + "\n"))
        }
        let status = try succeed(["status", run.path])
        XCTAssertTrue(status.contains("aggregation job \(aggregate): CANCELLED (DependencyNeverSatisfied)"), status)
        XCTAssertTrue(status.contains("\n1     1     -      -      not started  FAILED (exit 1)  \(run.path)/slurm/task-1.log"), status)
        XCTAssertTrue(status.contains("\ntask 1 (seed 1): FAILED (exit 1); its log ends with: \(message)\n"), status)
        XCTAssertTrue(status.hasSuffix("continue with: mnist-iml submit --resume \(run.path) (finished tasks are kept, the others continue from their last checkpoint).\n"), status)

        // Repaired, the run is submitted again and finishes as a local run would.
        try whole.write(to: images)
        let again = try succeed(["submit", "--resume", run.path])
        let (array2, aggregate2) = try jobs(run)
        XCTAssertTrue(again.hasPrefix("submitted again \(run.path): array job \(array2) with tasks 0-1 (each continues from its last checkpoint), then aggregation job \(aggregate2)"), again)
        let local = base.appendingPathComponent("local")
        try succeed(["run"] + settings(data, seeds: 2) + ["--out", local.path])
        XCTAssertEqual(try waitUntilEnded(aggregate2), "COMPLETED")
        try assertSameResults(run, local, seeds: [0, 1])
        XCTAssertTrue(try succeed(["status", run.path]).contains("2 tasks, 2 finished; array jobs \(array), \(array2)\naggregation job \(aggregate2): COMPLETED"))

        // Every task finished but the results are gone: submit --resume submits the aggregation alone.
        for name in ["summary.json", "metrics.jsonl", "curves.png"] { try FileManager.default.removeItem(at: run.appendingPathComponent(name)) }
        let onlyAggregation = try succeed(["submit", "--resume", run.path])
        let (_, aggregate3) = try jobs(run)
        XCTAssertEqual(onlyAggregation, "every task of \(run.path) has finished; submitted aggregation job \(aggregate3)\n")
        XCTAssertEqual(try waitUntilEnded(aggregate3), "COMPLETED")
        try assertSameResults(run, local, seeds: [0, 1])
        XCTAssertEqual(try succeed(["submit", "--resume", run.path]), "Every task of \(run.path) has finished and its results are written; nothing to submit.\n")
    }

    // MARK: (d) a sweep as one array

    func testASweepOfTwoValuesAndTwoSeedsIsOneArray() throws {
        try requireCluster()
        let data = try dataset("data")
        let sweep = base.appendingPathComponent("sweep-submitted"), local = base.appendingPathComponent("sweep-local")
        submitted.append(sweep)
        let options = ["--batch-size", "8,16"] + settings(data, seeds: 2, batchSize: nil)
        let out = try succeed(["submit"] + options + ["--out", sweep.path, "--array-throttle", "2"])
        let (array, aggregate) = try jobs(sweep)
        XCTAssertTrue(out.hasPrefix("submitted \(sweep.path): array job \(array) with 4 tasks (2 values x seeds 0-1), then aggregation job \(aggregate)"), out)
        XCTAssertTrue(try text(sweep.appendingPathComponent("slurm/array.sh")).contains("\n#SBATCH --array=0-3%2\n"))
        XCTAssertEqual(try records(String(array)).first?["ArrayTaskThrottle"], "2")
        try succeed(["sweep"] + options + ["--out", local.path])
        XCTAssertEqual(try waitUntilEnded(aggregate), "COMPLETED")
        for name in ["sweep.md", "sweep.png"] {
            XCTAssertTrue(try Data(contentsOf: sweep.appendingPathComponent(name)) == Data(contentsOf: local.appendingPathComponent(name)), name)
        }
        for point in ["batch-size=8", "batch-size=16"] {
            try assertSameResults(sweep.appendingPathComponent(point), local.appendingPathComponent(point), seeds: [0, 1])
        }
        let status = try succeed(["status", sweep.path])
        XCTAssertTrue(status.contains("submitted batch-size sweep in \(sweep.path) (mnist-iml): 4 tasks, 4 finished"), status)
        XCTAssertTrue(status.contains("\n3     16          1     2      1/1    finished  COMPLETED  \(sweep.path)/slurm/task-3.log"), status)
    }

    func testASetSweepSubmittedEqualsTheLocalSweep() throws {
        try requireCluster()
        let data = try dataset("data")
        let sweep = base.appendingPathComponent("set-submitted"), local = base.appendingPathComponent("set-local")
        submitted.append(sweep)
        let options = ["--set", "loss-average=examples,heads"] + settings(data, seeds: 1)
        try succeed(["submit"] + options + ["--out", sweep.path])
        let (_, aggregate) = try jobs(sweep)
        try succeed(["sweep"] + options + ["--out", local.path])
        XCTAssertEqual(try waitUntilEnded(aggregate), "COMPLETED")
        for name in ["sweep.md", "sweep.png"] {
            XCTAssertTrue(try Data(contentsOf: sweep.appendingPathComponent(name)) == Data(contentsOf: local.appendingPathComponent(name)), name)
        }
        for point in ["loss-average=examples", "loss-average=heads"] {
            try assertSameResults(sweep.appendingPathComponent(point), local.appendingPathComponent(point), seeds: [0])
        }
        let status = try succeed(["status", sweep.path])
        XCTAssertTrue(status.contains("submitted loss-average sweep in \(sweep.path) (mnist-iml): 2 tasks, 2 finished"), status)
    }

    // MARK: Bad input

    func assertSubmitFails(_ arguments: [String], _ line: String, environment: [String: String] = [:], leaves directory: URL? = nil,
                           file: StaticString = #filePath, lineNumber: UInt = #line) throws {
        let outcome = try mnistIML(["submit"] + arguments, environment: environment)
        XCTAssertEqual(outcome.status, 1, outcome.stderr, file: file, line: lineNumber)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").first.map(String.init), line, file: file, line: lineNumber)
        if let directory {
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path), "\(directory.path) must not be left behind", file: file, line: lineNumber)
        }
    }

    func testSubmitWithoutSlurmNamesWhatIsMissingAndTheLocalCommand() throws {
        let data = try dataset("data")
        let run = base.appendingPathComponent("never")
        let local = "mnist-iml run " + settings(data, seeds: 2).joined(separator: " ") + " --out \(run.path)"
        try assertSubmitFails(settings(data, seeds: 2) + ["--out", run.path],
                              "error: sbatch is not installed here (not found in PATH), so nothing can be submitted to Slurm; submit from a machine of the cluster, or run locally instead with: \(local)",
                              environment: ["PATH": "/nonexistent"], leaves: run)
        // --dry-run needs no Slurm and writes nothing.
        let dry = try mnistIML(["submit"] + settings(data, seeds: 2) + ["--out", run.path, "--dry-run"], environment: ["PATH": "/nonexistent"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.hasPrefix("# \(run.path)/slurm/array.sh\n#!/bin/bash\n"), dry.stdout)
        XCTAssertTrue(dry.stdout.hasSuffix("sbatch --parsable --hold \(run.path)/slurm/array.sh\nsbatch --parsable '--dependency=afterok:<array job>' --kill-on-invalid-dep=yes \(run.path)/slurm/aggregate.sh\nscontrol release <array job>\n"), dry.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path))

        // A controller that does not answer: the real slurm.conf with a port nobody listens on.
        try requireCluster()
        let conf = base.appendingPathComponent("slurm.conf")
        let real = try text(URL(fileURLWithPath: "/etc/slurm/slurm.conf")).split(separator: "\n").filter { !$0.hasPrefix("SlurmctldPort=") }
        try (real.joined(separator: "\n") + "\nSlurmctldPort=9\n").write(to: conf, atomically: true, encoding: .utf8)
        let host = try shell("hostname -s").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try assertSubmitFails(settings(data, seeds: 2) + ["--out", run.path],
                              "error: The Slurm controller does not answer (scontrol ping: Slurmctld(primary) at \(host) is DOWN), so nothing can be submitted; start slurmctld or ask the cluster's administrators, or run locally instead with: \(local)",
                              environment: ["SLURM_CONF": conf.path], leaves: run)
    }

    func testInvalidSbatchSettingsPassSlurmsMessageOnAndLeaveNothingSubmitted() throws {
        try requireCluster()
        let data = try dataset("data")
        let run = base.appendingPathComponent("refused")
        try assertSubmitFails(settings(data, seeds: 2) + ["--out", run.path, "--partition", "no-such-partition"],
                              "error: sbatch refused the job array, so nothing was submitted: sbatch: error: invalid partition specified: no-such-partition; sbatch: error: Batch job submission failed: Invalid partition name specified",
                              leaves: run)
        try assertSubmitFails(settings(data, seeds: 2) + ["--out", run.path, "--sbatch-arg=--array=0-10001"],
                              "error: sbatch refused the job array, so nothing was submitted: sbatch: error: Batch job submission failed: Invalid job array specification",
                              leaves: run)
        XCTAssertEqual(try shell("squeue -h -n mnist-iml:refused").stdout, "")

        // sbatch takes the array but refuses the aggregation job (a wrapper in front of the real
        // sbatch refuses any job with a dependency): the held array is cancelled before any task ran.
        let bin = base.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let realSbatch = try shell("command -v sbatch").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let wrapper = bin.appendingPathComponent("sbatch")
        try """
            #!/bin/bash
            for a in "$@"; do case "$a" in --dependency=*) echo "sbatch: error: Batch job submission failed: Job dependency problem" >&2; exit 1 ;; esac; done
            exec \(realSbatch) "$@"

            """.write(to: wrapper, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
        let outcome = try mnistIML(["submit"] + settings(data, seeds: 2) + ["--out", run.path],
                                   environment: ["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        XCTAssertEqual(outcome.status, 1)
        let line = try XCTUnwrap(outcome.stderr.split(separator: "\n").first.map(String.init))
        let pattern = try NSRegularExpression(pattern: "^error: sbatch refused the aggregation job \\(sbatch: error: Batch job submission failed: Job dependency problem\\), so the job array ([0-9]+) was cancelled before any task ran; nothing is left submitted\\.$")
        let match = try XCTUnwrap(pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), line)
        let array = String(line[Range(match.range(at: 1), in: line)!])
        let records = try records(array)
        XCTAssertFalse(records.isEmpty)
        for record in records {
            XCTAssertEqual(record["JobState"], "CANCELLED")
            XCTAssertEqual(record["RunTime"], "00:00:00", "no task may have run")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path))
    }

    func testSubmitRefusesADirectoryThatHoldsARunAndOptionsThatDoNotApply() throws {
        let data = try dataset("data")
        let local = base.appendingPathComponent("local")
        try succeed(["run"] + settings(data, seeds: 1) + ["--out", local.path])
        try assertSubmitFails(settings(data, seeds: 1) + ["--out", local.path],
                              "error: The output directory \(local.path) already holds a run; submit never overwrites a run, so choose another --out.")
        let earlier = base.appendingPathComponent("earlier")
        try FileManager.default.createDirectory(at: earlier.appendingPathComponent("slurm"), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: earlier.appendingPathComponent("slurm/submission.json"))
        try assertSubmitFails(settings(data, seeds: 1) + ["--out", earlier.path],
                              "error: The output directory \(earlier.path) already holds a submitted run; see it with mnist-iml status \(earlier.path), continue it with mnist-iml submit --resume \(earlier.path), or choose another --out.")
        let fresh = base.appendingPathComponent("fresh")
        try assertSubmitFails(settings(data, seeds: 1) + ["--out", fresh.path, "--threads", "2"],
                              "error: --threads does not apply to submit: each array task runs on as many threads as --cpus-per-task gives it (its numbers equal a local run's on any count); set --cpus-per-task instead.", leaves: fresh)
        try assertSubmitFails(settings(data, seeds: 1) + ["--out", fresh.path, "--force"],
                              "error: --force does not apply to submit, which never overwrites a run; choose another --out, or delete the old run first.", leaves: fresh)
        try assertSubmitFails(settings(data, seeds: 1) + ["--out", fresh.path, "--array-throttle", "0"],
                              "error: --array-throttle must be a whole number of at least 1 (got 0).", leaves: fresh)
        try assertSubmitFails(settings(data, seeds: 1) + ["--out", base.appendingPathComponent("a b").path],
                              "error: The run directory \(base.appendingPathComponent("a b").path) contains a space, which sbatch's --output cannot carry; choose an --out without spaces, quotes, backslashes or %.")
        try assertSubmitFails(settings(data, seeds: 1) + ["--out", fresh.path, "--entities", "0"], "error: --entities must be at least 1 (got 0).", leaves: fresh)
        try assertSubmitFails(settings(data, seeds: 1) + ["--out", fresh.path, "--frobnicate"],
                              "error: Unknown option '--frobnicate' (given to submit for `run`); see mnist-iml submit --help.", leaves: fresh)
        try assertSubmitFails(["--resume", base.path], "error: \(base.path) holds no submitted run (it has no slurm/submission.json); give the directory that `submit` wrote.")
    }

    // MARK: SIGTERM without Slurm

    func testSIGTERMSavesACheckpointExits143AndTheRunResumesByteIdentically() throws {
        let data = try dataset("data")
        let stopped = base.appendingPathComponent("stopped"), whole = base.appendingPathComponent("whole")
        let options = settings(data, epochs1: 6, seeds: 2)
        let err = base.appendingPathComponent("stderr")
        let process = try ChildProcess(try Self.tool("mnist-iml").path, ["run"] + options + ["--threads", "2", "--out", stopped.path],
                                       directory: base.path, stdout: .null, stderr: .file(err.path))
        let checkpoint = stopped.appendingPathComponent("checkpoints/seed-0.checkpoint")
        while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint.path) { usleep(2_000) }
        kill(process.processIdentifier, SIGTERM)
        kill(process.processIdentifier, SIGTERM)  // a repeat does not quit before the checkpoint
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 143)
        let stderr = try text(err)
        XCTAssertTrue(stderr.contains("\nSIGTERM: stopping after the current batch and saving checkpoints.\n"), stderr)
        XCTAssertTrue(stderr.contains("Stopped after the current batch; the checkpoints and the metrics so far are in \(stopped.path)."), stderr)
        let status = try succeed(["status", stopped.path])
        XCTAssertTrue(status.contains("0 of 2 finished; results not written yet"), status)
        XCTAssertTrue(status.contains("\n0     1      "), status)
        try succeed(["run", "--resume", stopped.path, "--data-dir", data.path])
        try succeed(["run"] + options + ["--threads", "2", "--out", whole.path])
        XCTAssertEqual(try Data(contentsOf: stopped.appendingPathComponent("metrics.jsonl")), try Data(contentsOf: whole.appendingPathComponent("metrics.jsonl")))
        XCTAssertEqual(try summaryWithoutWallTime(stopped), try summaryWithoutWallTime(whole))
    }
}
