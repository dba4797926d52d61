import Foundation
import IMLRunFiles
import ToolTestSupport
import XCTest

/// mnist-iml's option surface through the built tool: `--quick` only changing defaults,
/// `--resume DIR` alone, resuming with another thread count, and help that lists the run options
/// (text-iml's help: TextOptionSurfaceTests in TextCommandLineTests).
///
/// One test here runs text-iml as well, on purpose: testProtocolOptionsAreDefinedOnceForBothTools
/// compares the two tools' help with each other (the shared options described identically), so it
/// belongs to neither tool's own tests.
final class OptionSurfaceTests: ToolTestCase {
    /// The help block of each option of `run --help`: its first line and continuation lines.
    func optionHelp(_ tool: String) throws -> [String: String] {
        let help = try mnistIML(["run", "--help"], tool: tool).stdout
        var blocks: [String: String] = [:], current: String?
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("--") {
                current = String(trimmed.split(separator: " ").first!)
                blocks[current!] = trimmed
            } else if let c = current, !trimmed.isEmpty, line.hasPrefix("      ") {
                blocks[c]! += " " + trimmed
            } else {
                current = nil
            }
        }
        return blocks
    }

    func testProtocolOptionsAreDefinedOnceForBothTools() throws {
        let vision = try optionHelp("mnist-iml"), text = try optionHelp("text-iml")
        let protocolOptions = ["--entities", "--attributes", "--classes", "--alpha", "--stages", "--tag1-fraction",
                               "--tag2-fraction", "--question-only-fraction", "--seed-stage2"]
        for option in protocolOptions + ["--seeds", "--first-seed", "--epochs2", "--batch-size", "--lr", "--threads", "--quick", "--resume"] {
            XCTAssertNotNil(vision[option], "mnist-iml run --help lacks \(option)")
            XCTAssertEqual(vision[option], text[option], "\(option) is described differently by the two tools")
        }
        // Each tool's own stage-1 default; modality options stay with their tool.
        XCTAssertTrue(vision["--epochs1"]!.contains("default 30"), vision["--epochs1"]!)
        XCTAssertTrue(text["--epochs1"]!.contains("default 40"), text["--epochs1"]!)
        XCTAssertNotNil(vision["--grid"]); XCTAssertNil(text["--grid"])
        XCTAssertNotNil(text["--order"]); XCTAssertNil(vision["--order"])
    }

    func testToolAndSweepHelpListTheRunOptions() throws {
        for arguments in [["--help"], ["sweep", "--help"]] {
            let outcome = try mnistIML(arguments)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            for option in ["--entities", "--tag1-fraction", "--epochs1", "--batch-size", "--resume"] {
                XCTAssertTrue(outcome.stdout.contains(option), "mnist-iml \(arguments.joined(separator: " ")) does not list \(option)")
            }
        }
    }

    func testQuickOnlyChangesDefaults() throws {
        let data = try dataset("train")
        // --quick's 200 entities cannot be drawn with one-digit variables: the preset applies...
        try assertFails(["run", "--quick", "--dataset", "fashion-mnist", "--data-dir", data.path, "--grid", "1"],
                        "error: --grid 1 draws only 10 distinct variables (10^1 digit grids), but --entities 200 needs one per entity; use a larger --grid or fewer --entities.")
        // ...but every option given explicitly wins over it.
        let out = base.appendingPathComponent("quick").path
        let outcome = try mnistIML(["run", "--quick", "--dataset", "fashion-mnist", "--data-dir", data.path, "--grid", "1",
                                    "--entities", "10", "--seeds", "1", "--epochs1", "2", "--batch-size", "8", "--out", out])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let c = try config(out)
        XCTAssertEqual(c["seeds"] as? [Int], [0])
        XCTAssertEqual(c["entities"] as? Int, 10)
        XCTAssertEqual(c["epochs1"] as? Int, 2)
        XCTAssertEqual(c["epochs2"] as? Int, 3, "the preset still sets what was not given")
    }

    func testResumeWithTheDirectoryAloneAndAnotherThreadCount() throws {
        let data = try dataset("train")
        let whole = base.appendingPathComponent("whole").path, killed = base.appendingPathComponent("killed").path
        XCTAssertEqual(try mnistIML(["run"] + tinyRun(data) + ["--threads", "2", "--out", whole]).status, 0)
        let outcome = try mnistIML(["run"] + tinyRun(data) + ["--threads", "1", "--out", killed]) { process in
            let checkpoint = URL(fileURLWithPath: killed).appendingPathComponent("checkpoints/seed-0.checkpoint").path
            while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint) { usleep(2_000) }
            kill(process.processIdentifier, SIGKILL)
        }
        XCTAssertEqual(outcome.status, 128 + SIGKILL)
        // The data directory is where this machine keeps the files, not a setting of the run.
        let resumed = try mnistIML(["run", "--resume", killed, "--threads", "2", "--data-dir", data.path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try String(contentsOfFile: killed + "/metrics.jsonl", encoding: .utf8),
                       try String(contentsOfFile: whole + "/metrics.jsonl", encoding: .utf8))
        // An option given beside --resume must agree with the run's value.
        try assertFails(["run", "--resume", killed, "--data-dir", data.path, "--epochs1", "4"],
                        "error: The run in \(killed) was made with --epochs1 3, but this command gives --epochs1 4; leave that option out to continue with the run's value, or start a new run with --out.")
        XCTAssertEqual(try mnistIML(["run", "--resume", killed, "--data-dir", data.path, "--epochs1", "3"]).status, 0)
    }

    func testAKernelOpenBLASDoesNotHaveIsRefusedAndNothingIsWritten() throws {
        let data = try dataset("train")
        let out = base.appendingPathComponent("bogus-kernel").path
        let outcome = try mnistIML(["run"] + tinyRun(data) + ["--blas-core", "Bogus", "--out", out])
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        // The kernel the message names is whatever OpenBLAS runs when told "Bogus", which is not
        // always its plain pick (an Intel Xeon model 207: Prescott alone, Cooperlake under Bogus).
        let line = String(outcome.stderr.split(separator: "\n").first ?? "")
        let pattern = #"^error: OpenBLAS did not take --blas-core Bogus \(it runs its [A-Za-z0-9_]+ kernel\): this build has no such kernel or this processor cannot run it; name another, e.g. Haswell \(any x86-64 processor with AVX2\), SkylakeX, Cooperlake, Zen, Sandybridge, or leave the option out\.$"#
        XCTAssertNotNil(line.range(of: pattern, options: .regularExpression), line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testAgainstRefusesAKeyTheRunDoesNotRecord() throws {
        let data = try dataset("against")
        let run = base.appendingPathComponent("against-run").path, out = base.appendingPathComponent("against-out").path
        XCTAssertEqual(try mnistIML(["run"] + tinyRun(data) + ["--seeds", "1", "--epochs1", "1", "--epochs2", "1", "--out", run]).status, 0)
        // Every number of config.json (read as written: Foundation takes the 0s and 1s for booleans).
        let fields = try XCTUnwrap(JSON.read([UInt8](Data(contentsOf: URL(fileURLWithPath: run + "/config.json")))).objectFields)
        let numbers = fields.filter { $0.1.numberValue != nil }.map(\.0).sorted()
        try assertFails([run, "--against", "width", "--out", out],
                        "error: against-run records no number \"width\" in its config.json; choose one of: \(numbers.joined(separator: ", ")).",
                        tool: "iml-compare")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try mnistIML([run, "--against", "parameters", "--out", out], tool: "iml-compare").status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/against-parameters.png"))
    }

    func testReadmeRenderingRefusesAMissingReadmeOrRun() throws {
        try assertFails(["--readme", base.appendingPathComponent("none/README.md").path],
                        "error: Cannot read \(base.appendingPathComponent("none/README.md").path); give the path of the README whose results tables to render (the repository's README.md).",
                        tool: "iml-compare")
        let readme = base.appendingPathComponent("README.md")
        try "intro\n<!-- results: summary nope -->\nold\n<!-- /results -->\n".write(to: readme, atomically: true, encoding: .utf8)
        try assertFails(["--readme", readme.path],
                        "error: \(base.path)/results/published/nope/config.json is missing; rerun it with scripts/reproduce-results.sh nope.",
                        tool: "iml-compare")
        XCTAssertEqual(try String(contentsOf: readme, encoding: .utf8), "intro\n<!-- results: summary nope -->\nold\n<!-- /results -->\n")
    }
}
