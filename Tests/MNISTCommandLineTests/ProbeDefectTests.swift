import Foundation
import IMLBase
import ToolTestSupport
import XCTest

/// The defects a bad-input probe found beyond the first catalogue (docs/reliability.md, "Output
/// directories, sizes and degenerate runs"): each is one sentence and a non-zero exit, with
/// nothing of the user's lost, checked through the built tools.
final class ProbeDefectTests: ToolTestCase {
    func path(_ name: String) -> String { base.appendingPathComponent(name).path }

    func write(_ text: String, to name: String) throws {
        let url = base.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    // MARK: Data loss

    func testANewRunNeverReplacesFilesOfTheUsersOwn() throws {
        let data = try dataset("own-files")
        for entry in ["models/mine.weights", "summary.json", "tensorboard/events", "checkpoints/notes.txt"] {
            let directory = "own-\(entry.split(separator: "/")[0])"
            try write("the user's own\n", to: "\(directory)/\(entry)")
            let shown = entry.contains("/") ? String(entry.split(separator: "/")[0]) + "/" : entry
            try assertFails(["run"] + tinyRun(data) + ["--out", path(directory)],
                            "error: The output directory \(path(directory)) holds \(shown) but no run (no config.json), and a new run would replace it; choose another --out, or move it away (--force replaces it).")
            XCTAssertEqual(try read("\(directory)/\(entry)"), "the user's own\n", "\(entry) was touched")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("\(directory)/config.json")))
        }
    }

    func testAnEmptyOutIsRefusedNotTheWorkingDirectory() throws {
        let data = try dataset("empty-out")
        // What the commands themselves write here, not the test's own capture files.
        func entries() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: base.path).filter { !$0.hasPrefix("stdout-") && !$0.hasPrefix("stderr-") }.sorted()
        }
        let before = try entries()
        try assertFails(["run"] + tinyRun(data) + ["--out", ""],
                        "error: --out is empty; name the directory for the output files, e.g. --out results/my-run.")
        try assertFails(["sweep", "--alpha", "0.5,1"] + tinyRun(data) + ["--out", ""],
                        "error: --out is empty; name the directory for the output files, e.g. --out results/my-sweep.")
        try assertFails(["--out", " "], "error: --out is empty; name the directory for the output files, e.g. --out results/comparison.", tool: "iml-compare")
        XCTAssertEqual(try entries(), before)
    }

    func testForceLeavesNothingOfTheReplacedRun() throws {
        let data = try dataset("force")
        let out = path("forced")
        XCTAssertEqual(try mnistIML(["run"] + tinyRun(data) + ["--seeds", "2", "--out", out]).status, 0)
        try write("{}\n", to: "forced/analysis/alignment.json")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/models/seed-1"))
        let forced = try mnistIML(["run"] + tinyRun(data) + ["--seeds", "1", "--force", "--out", out])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        for gone in ["analysis", "models/seed-1", "checkpoints/seed-1.checkpoint", "tensorboard/seed-1"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/" + gone), "\(gone) of the replaced run is still there")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/models/seed-0"))
    }

    func testARunWhoseDataCannotLoadLeavesNoDirectory() throws {
        let out = path("never-started")
        let outcome = try mnistIML(["run", "--dataset", "fashion-mnist", "--data-dir", path("no-such-data"), "--out", out])
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "the new --out directory stayed behind")
    }

    func testResumingAFinishedRunRewritesNothing() throws {
        let data = try dataset("finished")
        let out = path("finished-run")
        XCTAssertEqual(try mnistIML(["run"] + tinyRun(data) + ["--out", out]).status, 0)
        let files = ["summary.json", "metrics.jsonl", "config.json", "curves.png"]
        let before = try files.map { try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0)) }
        // Without --data-dir (and no MNIST_DIR): the data directory the run recorded serves.
        let resumed = try mnistIML(["run", "--resume", out])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("Data from \(data.path), the directory the run recorded (give --data-dir to use another).\n"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("The run in \(out) has finished (it has its summary.json); nothing to resume, and nothing was rewritten.\n"), resumed.stderr)
        XCTAssertEqual(try files.map { try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0)) }, before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("data")), "a download directory was created in the working directory")
    }

    func testAnotherToolsRunIsRefusedWithTheToolToUse() throws {
        let data = try dataset("other-tool")
        let out = path("mnist-run")
        XCTAssertEqual(try mnistIML(["run"] + tinyRun(data) + ["--seeds", "1", "--epochs1", "1", "--epochs2", "1", "--out", out]).status, 0)
        try assertFails(["run", "--resume", out], "error: \(out) is a run of the mnist modality, not text; resume it with mnist-iml.", tool: "text-iml")
    }

    func testAMergedRunGetsAdviceThatApplies() throws {
        let data = try dataset("merged")
        let a = path("part-a"), b = path("part-b"), merged = path("merged-run")
        XCTAssertEqual(try mnistIML(["run"] + tinyRun(data) + ["--seeds", "1", "--out", a]).status, 0)
        XCTAssertEqual(try mnistIML(["run"] + tinyRun(data) + ["--seeds", "1", "--first-seed", "1", "--out", b]).status, 0)
        XCTAssertEqual(try mnistIML(["merge", a, b, "--out", merged]).status, 0)
        let summary = try Data(contentsOf: URL(fileURLWithPath: merged + "/summary.json"))
        let resumed = try mnistIML(["run", "--resume", merged])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("The run in \(merged) was merged from \(a), \(b) and is finished as it is; nothing to resume, and nothing was rewritten.\n"), resumed.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: merged + "/summary.json")), summary)
        try assertFails(["analyze", merged], "error: \(merged) was merged from \(a), \(b), and merge keeps no saved models; analyze those runs instead.")
    }

    // MARK: Large numbers, degenerate runs

    func testNumbersTooLargeForARunAreRefusedBeforeAnythingIsWritten() throws {
        let data = try dataset("large")
        let out = path("large-out")
        try assertFails(["run"] + tinyRun(data) + ["--epochs1", "9223372036854775807", "--out", out],
                        "error: --epochs1 9223372036854775807 is more than one run trains (at most 100000 epochs per stage); give fewer epochs.")
        try assertFails(["run"] + tinyRun(data) + ["--epochs2", "100001", "--out", out],
                        "error: --epochs2 100001 is more than one run trains (at most 100000 epochs per stage); give fewer epochs.")
        try assertFails(["run"] + tinyRun(data) + ["--seeds", "9223372036854775807", "--out", out],
                        "error: --seeds 9223372036854775807 is more than one run holds (at most 10000); split the seeds over several runs with --first-seed and join them with merge.")
        try assertFails(["submit", "--dry-run"] + tinyRun(data) + ["--seeds", "9223372036854775807", "--out", out],
                        "error: --seeds 9223372036854775807 is more than one run holds (at most 10000); split the seeds over several runs with --first-seed and join them with merge.")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        try assertFails(["run"] + tinyRun(data) + ["--threads", "100000", "--out", out],
                        "error: --threads 100000 is more than this machine's \(cores) core\(cores == 1 ? "" : "s") can use (at most \(4 * cores), four per core); give at most \(4 * cores), or leave it out to use every core.")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testSettingsThatCannotFitInMemoryAreRefusedWithTheEstimate() throws {
        let data = try dataset("memory")
        let vision = try mnistIML(["run"] + tinyRun(data) + ["--grid", "3", "--entities", "100000000", "--seeds", "1", "--out", path("huge-vision")])
        XCTAssertEqual(vision.status, 1, vision.stderr)
        let line = String(vision.stderr.split(separator: "\n").first ?? "")
        XCTAssertTrue(line.hasPrefix("error: --entities 100000000, --attributes 6 and --grid 3 need about 4346."), line)
        XCTAssertTrue(line.contains("GB of memory, more than this machine's ") && line.hasSuffix("; choose smaller settings."), line)
        let text = try mnistIML(["run", "--entities", "100000000", "--var-length", "8", "--out", path("huge-text-data")], tool: "text-iml")
        XCTAssertEqual(text.status, 1, text.stderr)
        XCTAssertTrue(text.stderr.hasPrefix("error: --entities 100000000, --attributes 6, --layers 2 and --width 128 need about "), text.stderr)
        XCTAssertTrue(text.stderr.contains("seeds at once), more than this machine's "), text.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("huge-vision")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("huge-text-data")))
    }

    func testATransformerTooLargeToTrainIsRefused() throws {
        try assertFails(["run", "--layers", "64", "--width", "4096", "--out", path("huge-text")],
                        "error: --layers 64 and --width 4096 make a transformer of about 12884901888 parameters (206.2 GB a seed with gradients and Adam's moments), more than the 50000000 this program trains; choose a smaller --width or fewer --layers.",
                        tool: "text-iml")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("huge-text")))
    }

    func testRunsThatWouldMeasureNothingAreRefused() throws {
        let data = try dataset("degenerate")
        let out = path("degenerate-out")
        try assertFails(["run"] + tinyRun(data) + ["--stages", "1", "--epochs1", "0", "--out", out],
                        "error: --stages 1 with --epochs1 0 trains nothing; give --epochs1 at least 1.")
        try assertFails(["run"] + tinyRun(data) + ["--tag1-fraction", "0.5", "--tag2-fraction", "0.4", "--question-only-fraction", "0.1", "--out", out],
                        "error: --tag1-fraction, --tag2-fraction and --question-only-fraction leave no entity of the 10 for stage 2, so there would be nothing to measure the IML effect on; lower them so that their sum is below 1.")
        try assertFails(["run"] + tinyRun(data) + ["--definitions-first", "3", "--epochs1", "3", "--out", out],
                        "error: --definitions-first 3 leaves none of stage 1's 3 epochs (--epochs1) for its questions; give --epochs1 above 3, e.g. --epochs1 6 for as many epochs of questions as of definitions.")
        try assertFails(["run", "--definitions-first=-2", "--out", out],
                        "error: --definitions-first must be a number of epochs, 0 or more (got -2).", tool: "text-iml")
        try assertFails(["run", "--design", "named", "--name-length", "1", "--entities", "40", "--out", out],
                        "error: --name-length 1 gives only 36 distinct names, but --entities 40 needs one per entity; use a larger --name-length or fewer --entities.", tool: "text-iml")
        try assertFails(["run", "--design", "named", "--name-length", "4", "--out", out],
                        "error: --name-length must be 1, 2 or 3 symbols (got 4); longer names make the entity-association test score 36^(length-1) continuations of every prompt.", tool: "text-iml")
        try assertFails(["sweep", "--set", "blas-core=Haswell,SkylakeX"] + tinyRun(data) + ["--out", out],
                        "error: --set blas-core: a sweep runs in one process, which uses one OpenBLAS kernel; sweep each kernel on its own (one sweep with --blas-core NAME per kernel).")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testStatusOfADamagedConfigIsAnErrorNotARunOfNoSeeds() throws {
        try write("garbage\n", to: "garbage-run/config.json")
        let outcome = try mnistIML(["status", path("garbage-run")])
        XCTAssertEqual(outcome.status, 1, outcome.stdout)
        XCTAssertTrue(outcome.stderr.hasPrefix("error: \(path("garbage-run"))/config.json is not valid JSON"), outcome.stderr)
    }

    // MARK: Messages that named the wrong problem

    func testWindowsLineEndingsInMetricsAreRead() throws {
        let data = try dataset("crlf")
        let out = path("crlf-run")
        XCTAssertEqual(try mnistIML(["run"] + tinyRun(data) + ["--seeds", "1", "--epochs1", "1", "--epochs2", "1", "--out", out]).status, 0)
        let unix = try read("crlf-run/metrics.jsonl")
        try unix.replacingOccurrences(of: "\n", with: "\r\n").write(toFile: out + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let compared = try mnistIML([out, "--out", path("crlf-comparison")], tool: "iml-compare")
        XCTAssertEqual(compared.status, 0, compared.stderr)
    }

    func testALinkThatLeadsNowhereIsNamedNotCalledMissing() throws {
        let data = try dataset("link-loop")
        let file = data.appendingPathComponent("train-labels-idx1-ubyte").path
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: file)
        try assertFails(["run"] + tinyRun(data) + ["--out", path("link-loop-run")],
                        "error: \(file) is a symbolic link to \(file), which leads to no file (a missing target or a loop of links); point it at the Fashion-MNIST file or replace it with the file.")
    }

    func testVersionNamesThePackageAndTheBuildsCommit() throws {
        for tool in ["mnist-iml", "text-iml", "iml-compare"] {
            let outcome = try mnistIML(["--version"], tool: tool)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            XCTAssertNotNil(outcome.stdout.range(of: #"^0\.1\.0 \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)\n$"#, options: .regularExpression), outcome.stdout)
        }
    }
}

/// The live progress line on a terminal fits its width: under a pseudo-terminal of 80 and of 200
/// columns, every redraw of the line is at most one column short of the width, so nothing wraps
/// into stale rows.
extension ProbeDefectTests {
    func testTheProgressLineFitsThePseudoTerminalsWidth() throws {
        let data = try dataset("pty")
        for columns in [80, 200] {
            // A pseudo-terminal pair through Linux's /dev/ptmx (posix_openpt is not in Swift's Glibc):
            // unlock the terminal (TIOCSPTLCK) and ask its number (TIOCGPTN).
            let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
            XCTAssertGreaterThanOrEqual(master, 0)
            defer { close(master) }
            var unlock: Int32 = 0, number: Int32 = 0
            XCTAssertEqual(ioctl(master, UInt(0x4004_5431), &unlock), 0)
            XCTAssertEqual(ioctl(master, UInt(0x8004_5430), &number), 0)
            var size = winsize(ws_row: 24, ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
            XCTAssertEqual(ioctl(master, UInt(TIOCSWINSZ), &size), 0)
            let terminal = "/dev/pts/\(number)"
            // Keep a descriptor of the terminal open, so the reader never sees it hang up early.
            let keep = open(terminal, O_RDWR | O_NOCTTY)
            defer { if keep >= 0 { close(keep) } }

            let output = LockedBytes()
            let reader = Thread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = Glibc.read(master, &buffer, buffer.count)
                    if n <= 0 { break }
                    output.append(buffer[0..<n])
                }
            }
            reader.start()
            let out = base.appendingPathComponent("pty-\(columns)").path
            let process = try ChildProcess(try Self.tool("mnist-iml").path,
                                           ["run"] + tinyRun(data) + ["--epochs1", "6", "--out", out],
                                           directory: base.path, stdout: .file(base.appendingPathComponent("pty-stdout").path),
                                           stderr: .file(terminal))
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
            usleep(200_000)  // let the reader drain what the terminal still holds
            let text = String(decoding: output.bytes, as: UTF8.self)
            let redraws = text.split(whereSeparator: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
                .filter { $0.contains("ETA") }
            XCTAssertFalse(redraws.isEmpty, "no progress line on the terminal: \(text)")
            for line in redraws {
                XCTAssertLessThanOrEqual(line.count, columns - 1, "\(columns) columns: \(line)")
            }
        }
    }
}

final class LockedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [UInt8] = []
    func append(_ bytes: ArraySlice<UInt8>) { lock.lock(); storage += bytes; lock.unlock() }
    var bytes: [UInt8] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// Help as a user asks for it: `help SUB` is `SUB --help`, usage lines name the tool, a typo inside
/// sweep names sweep's help, and sweep's options are described once, as the sweep's.
extension ProbeDefectTests {
    func testHelpOfSweepAndSubmitListsTheirOptionsUnderTheToolsName() throws {
        for sub in ["sweep", "submit"] {
            let asked = try mnistIML(["help", sub]), flag = try mnistIML([sub, "--help"])
            XCTAssertEqual(asked.status, 0, asked.stderr)
            XCTAssertEqual(asked.stdout, flag.stdout, "help \(sub) and \(sub) --help differ")
            XCTAssertTrue(asked.stdout.contains("USAGE: mnist-iml \(sub)"), asked.stdout)
            XCTAssertTrue(asked.stdout.contains("--seeds <seeds>"), "\(sub): the run options are listed")
            XCTAssertEqual(asked.stdout.components(separatedBy: "-h, --help").count - 1, 1, "\(sub): -h, --help once")
        }
        let sweep = try mnistIML(["sweep", "--help"]).stdout
        XCTAssertTrue(sweep.contains("Continue the stopped or killed sweep in this directory"), sweep)
        XCTAssertFalse(sweep.contains("Continue the stopped or killed run in this directory"), "run's --resume describes run")
        XCTAssertTrue(try mnistIML(["submit", "--help"]).stdout.contains("--partition <partition>"))
        let run = try mnistIML(["help", "run"])
        XCTAssertTrue(run.stdout.contains("USAGE: mnist-iml run"), run.stdout)
    }

    func testATypoInsideSweepNamesSweepsHelp() throws {
        let data = try dataset("sweep-typo")
        let outcome = try mnistIML(["sweep", "--alpha", "0.5,1", "--frobnicate", "3"] + tinyRun(data) + ["--out", path("typo-sweep")])
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        let line = String(outcome.stderr.split(separator: "\n").first ?? "")
        XCTAssertTrue(line.hasPrefix("error: Unknown option '--frobnicate'"), line)
        XCTAssertTrue(line.hasSuffix("(given to sweep for every run); see mnist-iml sweep --help."), line)
        XCTAssertFalse(outcome.stderr.contains("run --help"), outcome.stderr)
    }
}
