import Foundation
@testable import IMLRunFiles
@testable import IMLCluster
import IMLProtocol
import XCTest

/// The pure parts of the Slurm submission: task lists, scontrol records, the job scripts and
/// submission.json. The real cluster is exercised by Tests/SlurmTests.
final class SlurmSubmissionTests: XCTestCase {
    func testTaskListsAndArraySpecs() {
        XCTAssertEqual(Slurm.taskIDs("3"), [3])
        XCTAssertEqual(Slurm.taskIDs("0-2%2"), [0, 1, 2])
        XCTAssertEqual(Slurm.taskIDs("1,4-5"), [1, 4, 5])
        XCTAssertNil(Slurm.taskIDs("N/A"))
        XCTAssertEqual(Slurm.arraySpec([5, 0, 1, 2, 7, 8]), "0-2,5,7-8")
        XCTAssertEqual(Slurm.arraySpec([4]), "4")
    }

    func testScontrolRecordsAndStates() {
        let line: Substring = "JobId=24 ArrayJobId=21 ArrayTaskId=1 JobName=mnist-iml:run JobState=FAILED Reason=NonZeroExitCode Restarts=0 ExitCode=1:0 Command=/tmp/a b/slurm/array.sh WorkDir=/tmp"
        let record = Slurm.JobRecord(fields: Slurm.parseRecord(line))
        XCTAssertEqual(record["Command"], "/tmp/a b/slurm/array.sh")
        XCTAssertEqual(record.arrayTasks, [1])
        XCTAssertEqual(Slurm.describe(record), "FAILED (exit 1)")
        let requeued = Slurm.JobRecord(fields: Slurm.parseRecord("JobId=25 ArrayTaskId=0-2%1 JobState=PENDING Reason=BeginTime Restarts=1 ExitCode=0:0"))
        XCTAssertEqual(requeued.arrayTasks, [0, 1, 2])
        XCTAssertEqual(Slurm.describe(requeued), "PENDING (BeginTime), restarted 1x")
        XCTAssertEqual(Slurm.describe(.init(fields: ["JobState": "CANCELLED", "Reason": "DependencyNeverSatisfied", "ExitCode": "0:0"])), "CANCELLED (DependencyNeverSatisfied)")
        XCTAssertEqual(Slurm.describe(.init(fields: ["JobState": "FAILED", "Reason": "NonZeroExitCode", "ExitCode": "0:9"])), "FAILED (signal 9)")
    }

    func submission() -> SlurmSubmission {
        var settings = SlurmSettings()
        settings.partition = "gpu"
        settings.time = "1:00:00"
        settings.arrayThrottle = 2
        settings.extra = ["--qos=long"]
        return SlurmSubmission(tool: "mnist-iml", toolPath: "/opt/iml/mnist-iml", directory: URL(fileURLWithPath: "/runs/s"),
                               workingDirectory: "/home/me/it's here", sweep: .alpha, sweepArguments: ["--seeds", "2", "--quick"],
                               points: [.init(value: 0.5, path: "alpha=0.5", spec: nil, arguments: ["--seeds", "2", "--quick", "--alpha", "0.5"]),
                                        .init(value: 1, path: "alpha=1", spec: nil, arguments: ["--seeds=2", "--quick", "--alpha", "1"])],
                               seeds: [4, 5], executionArguments: ["--data-dir", "/data/mnist"], settings: settings, created: "2026-01-01T00:00:00Z")
    }

    func testTheArrayScriptMapsEveryTaskToItsValueSeedAndDirectory() {
        let s = submission()
        XCTAssertEqual(s.tasks.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(s.tasks.map(\.seed), [4, 5, 4, 5])
        XCTAssertEqual(s.taskArguments(s.tasks[3]), ["--quick", "--alpha", "1", "--seeds", "1", "--first-seed", "5"])
        let script = s.arrayScriptText()
        for line in ["#SBATCH --array=0-3%2", "#SBATCH --output=/runs/s/slurm/task-%a.log", "#SBATCH --open-mode=append", "#SBATCH --requeue",
                     "#SBATCH --partition=gpu", "#SBATCH --time=1:00:00", "#SBATCH --cpus-per-task=1", "#SBATCH --qos=long",
                     "cd '/home/me/it'\\''s here' || exit 1", "tool=/opt/iml/mnist-iml", "exec_args=(--threads \"${SLURM_CPUS_PER_TASK:-1}\" --data-dir /data/mnist)",
                     "  1) dir=/runs/s/alpha=0.5/tasks/seed-5; args=(--quick --alpha 0.5 --seeds 1 --first-seed 5) ;;",
                     "  2) dir=/runs/s/alpha=1/tasks/seed-4; args=(--quick --alpha 1 --seeds 1 --first-seed 4) ;;"] {
            XCTAssertTrue(script.contains("\n" + line + "\n"), line)
        }
        let aggregate = s.aggregateScriptText()
        XCTAssertTrue(aggregate.hasSuffix("\nexec /opt/iml/mnist-iml aggregate /runs/s\n"), aggregate)
        XCTAssertEqual(s.arraySubmission(tasks: [1, 3], overrides: ["--time=2:00:00"]), ["--hold", "--time=2:00:00", "--array=1,3%2", "/runs/s/slurm/array.sh"])
        XCTAssertEqual(s.aggregateSubmission(arrayJob: "17"), ["--dependency=afterok:17", "--kill-on-invalid-dep=yes", "/runs/s/slurm/aggregate.sh"])
    }

    func testSubmissionJSONRoundTrips() throws {
        var s = submission()
        s.jobs = [.init(arrayJob: 17, tasks: [0, 1, 2, 3], aggregateJob: 18, submitted: "t1"), .init(arrayJob: 20, tasks: [1], aggregateJob: 21, submitted: "t2"),
                  .init(arrayJob: 20, tasks: [], aggregateJob: 22, submitted: "t3")]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("submission-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        s.directory = directory
        try s.save()
        let read = try SlurmSubmission(reading: directory)
        XCTAssertEqual(read.json.serialized(pretty: true), s.json.serialized(pretty: true))
        XCTAssertEqual(read.arrayJob(of: read.tasks[1]), 20)
        XCTAssertEqual(read.arrayJob(of: read.tasks[2]), 17)
        XCTAssertEqual(read.points.map(\.value), [0.5, 1])
    }

    /// A submission of this version: each task runs its point's spec file for its seed, and the
    /// specs survive submission.json.
    func testTasksRunTheirPointsSpec() throws {
        var s = submission()
        var protocolConfig = ProtocolConfig()
        protocolConfig.alpha = 0.5
        s.points[0].spec = RunSpec(modality: "mnist", seeds: [4, 5], protocolConfig: protocolConfig, training: TrainingConfig(),
                                   settings: .object([("grid", .int(2))]))
        XCTAssertEqual(s.taskArguments(s.tasks[1]), ["--spec", "/runs/s/slurm/spec-0.json", "--seeds", "1", "--first-seed", "5"])
        XCTAssertEqual(s.taskArguments(s.tasks[2]), ["--quick", "--alpha", "1", "--seeds", "1", "--first-seed", "4"])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("submission-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        s.directory = directory
        try s.save()
        try s.writeSpecs()
        let read = try SlurmSubmission(reading: directory)
        XCTAssertEqual(read.points.map(\.spec), [s.points[0].spec, nil])
        let file = try JSON.read([UInt8](Data(contentsOf: s.specFile(point: 0))))
        XCTAssertEqual(try RunSpec(json: file, what: "spec-0.json"), s.points[0].spec)
    }
}
