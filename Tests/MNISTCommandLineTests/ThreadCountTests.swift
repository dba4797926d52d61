import Foundation
import ToolTestSupport
import XCTest

/// `--threads` spreads a seed's steps over idle cores (Parallel.swift) and never changes the
/// numbers: one seed on 1, 2 or 3 threads writes the same metrics.jsonl, and a run killed on one
/// thread count and resumed on another gives the same bytes as an uninterrupted one.
final class ThreadCountTests: ToolTestCase {
    func testTheThreadCountNeverChangesAVisionRun() throws {
        let data = try dataset("threads")
        // Batch 32: several row blocks in every Linear, 32 image pieces in every conv.
        let settings = ["--dataset", "fashion-mnist", "--data-dir", data.path, "--grid", "1", "--entities", "10", "--seeds", "1",
                        "--epochs1", "3", "--epochs2", "1", "--batch-size", "32"]
        try assertThreadCountChangesNothing(tool: "mnist-iml", settings: settings)
    }

    func testTheThreadCountNeverChangesATextRun() throws {
        let settings = ["--entities", "40", "--seeds", "1", "--epochs1", "3", "--epochs2", "1"]
        try assertThreadCountChangesNothing(tool: "text-iml", settings: settings)
    }

    func assertThreadCountChangesNothing(tool: String, settings: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        func metrics(_ directory: String) throws -> String { try String(contentsOfFile: directory + "/metrics.jsonl", encoding: .utf8) }
        var runs: [String] = []
        for threads in [1, 2, 3] {
            let out = base.appendingPathComponent("\(tool)-threads-\(threads)").path
            let outcome = try mnistIML(["run"] + settings + ["--threads", "\(threads)", "--out", out], tool: tool)
            XCTAssertEqual(outcome.status, 0, outcome.stderr, file: file, line: line)
            runs.append(out)
        }
        let single = try metrics(runs[0])
        XCTAssertFalse(single.isEmpty, file: file, line: line)
        for run in runs.dropFirst() {
            XCTAssertEqual(try metrics(run), single, "\(run) differs from the run on one thread", file: file, line: line)
        }

        // Killed after its first epoch on 2 threads, resumed on 3: the bytes of the uninterrupted run.
        let killed = base.appendingPathComponent("\(tool)-killed").path
        let outcome = try mnistIML(["run"] + settings + ["--threads", "2", "--out", killed], tool: tool) { process in
            let checkpoint = URL(fileURLWithPath: killed).appendingPathComponent("checkpoints/seed-0.checkpoint").path
            while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint) { usleep(2_000) }
            kill(process.processIdentifier, SIGKILL)
        }
        XCTAssertEqual(outcome.status, 128 + SIGKILL, outcome.stderr, file: file, line: line)
        let resumed = try mnistIML(["run"] + settings + ["--threads", "3", "--resume", killed], tool: tool)
        XCTAssertEqual(resumed.status, 0, resumed.stderr, file: file, line: line)
        XCTAssertEqual(try metrics(killed), single, "the resumed run differs", file: file, line: line)
    }
}
