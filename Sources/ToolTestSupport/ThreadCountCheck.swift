// The thread-count check both tools' tests make: one seed on 1, 2 or 3 threads writes the same
// metrics.jsonl, and a run killed on 2 threads and resumed on 3 gives the uninterrupted run's bytes.

import Foundation
import IMLBase
import XCTest

extension ToolTestCase {
    /// Runs `tool run` with `settings` (one seed) on 1, 2 and 3 threads, then kills a run on 2
    /// threads after seed 0's first checkpoint and resumes it on 3; asserts every metrics.jsonl
    /// equals the one-thread run's, and that it is not empty.
    public func assertThreadCountChangesNothing(tool: String, settings: [String], file: StaticString = #filePath, line: UInt = #line) throws {
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
