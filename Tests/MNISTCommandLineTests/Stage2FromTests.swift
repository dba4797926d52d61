import Foundation
import IMLBase
import ToolTestSupport
import XCTest

/// `run --stage2-from RUN --epochs1 E`: stage 2 from another run's saved stage-1 model gives what
/// a run with `--epochs1 E` gives, bit for bit, in both modalities; and every way the source cannot
/// serve is refused with one sentence, touching neither the source nor the new directory.
final class Stage2FromTests: ToolTestCase {
    /// The files of a finished run that hold its numbers (summary.json without its wall time).
    func numbers(_ run: URL) throws -> [String: String] {
        let summary = try String(contentsOf: run.appendingPathComponent("summary.json"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.contains("wall_seconds") }.joined(separator: "\n")
        return ["summary.json": summary,
                "metrics.jsonl": try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)]
    }

    func assertStage2FromGivesTheShorterRun(tool: String, settings: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let source = base.appendingPathComponent("\(tool)-source"), borrowed = base.appendingPathComponent("\(tool)-borrowed")
        let fresh = base.appendingPathComponent("\(tool)-fresh")
        let made = try mnistIML(["run"] + settings + ["--epochs1", "3", "--save-every", "1", "--out", source.path], tool: tool)
        XCTAssertEqual(made.status, 0, made.stderr, file: file, line: line)
        let sourceFiles = snapshot(source)
        let data = tool == "mnist-iml" ? ["--data-dir", try runFixtures().data.path] : []
        let started = try mnistIML(["run", "--stage2-from", source.path, "--epochs1", "2", "--out", borrowed.path] + data, tool: tool)
        XCTAssertEqual(started.status, 0, started.stderr, file: file, line: line)
        XCTAssertTrue(started.stderr.contains("stage 2 from stage-1 epoch 2 of \(source.path), "), started.stderr, file: file, line: line)
        let shorter = try mnistIML(["run"] + settings + ["--epochs1", "2", "--out", fresh.path], tool: tool)
        XCTAssertEqual(shorter.status, 0, shorter.stderr, file: file, line: line)
        XCTAssertEqual(try numbers(borrowed), try numbers(fresh), "stage 2 from epoch 2 of a 3-epoch stage 1 = a 2-epoch stage 1", file: file, line: line)
        for model in ["seed-0/stage-1-epoch-2.weights", "seed-0/stage-2-epoch-1.weights"] {
            XCTAssertEqual(try Data(contentsOf: borrowed.appendingPathComponent("models/" + model)),
                           try Data(contentsOf: fresh.appendingPathComponent("models/" + model)), model, file: file, line: line)
        }
        // A sweep over the stage-1 epoch is the same runs, from epoch 0 (before training) on.
        let sweep = base.appendingPathComponent("\(tool)-when")
        let swept = try mnistIML(["sweep", "--stage2-from", source.path, "--set", "epochs1=0,2", "--out", sweep.path] + data, tool: tool)
        XCTAssertEqual(swept.status, 0, swept.stderr, file: file, line: line)
        XCTAssertEqual(try numbers(sweep.appendingPathComponent("epochs1=2")), try numbers(fresh), file: file, line: line)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sweep.appendingPathComponent("epochs1=0/models/seed-0/stage-1-epoch-0.weights").path), file: file, line: line)
        XCTAssertTrue(snapshot(source) == sourceFiles, "the source run is only read", file: file, line: line)
        let spec = try XCTUnwrap(config(borrowed.path)["spec"] as? [String: Any], file: file, line: line)
        XCTAssertEqual(spec["stage2_from"] as? String, source.path, file: file, line: line)
        XCTAssertNil(try XCTUnwrap(config(fresh.path)["spec"] as? [String: Any])["stage2_from"], "a run of its own records no stage2_from", file: file, line: line)
    }

    func testStage2FromASavedPointEqualsTheShorterRunOnImages() throws {
        defer { try? whenReport() }
        try assertStage2FromGivesTheShorterRun(tool: "mnist-iml", settings: ["--dataset", "fashion-mnist", "--data-dir", try runFixtures().data.path, "--grid", "1", "--entities", "10",
                                                                             "--seeds", "2", "--epochs2", "1", "--batch-size", "8"])
    }

    func testStage2FromASavedPointEqualsTheShorterRunOnText() throws {
        try assertStage2FromGivesTheShorterRun(tool: "text-iml", settings: ["--quick", "--entities", "20", "--seeds", "1", "--epochs2", "1"])
    }

    func testAStage2StartTheSourceCannotServeIsRefused() throws {
        let f = try runFixtures()
        let source = try copy(f.finished, "finished")  // 2 seeds, 3+1 epochs, models kept at the ends of stages only
        let out = base.appendingPathComponent("never-made")
        func refused(_ arguments: [String], tool: String = "mnist-iml", _ message: String, line: UInt = #line) throws {
            let data = (tool == "mnist-iml" ? ["--data-dir", f.data.path] : []) + ["--out", out.path]
            try assertRefused(["run"] + arguments + data, tool: tool, "error: " + message, leaving: source, lineNumber: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "no directory is made", line: line)
        }
        let s = source.path
        let missing = base.appendingPathComponent("no-such-run").path
        try refused(["--stage2-from", missing], "--stage2-from \(missing): \(missing) is not a directory; give the run directories that mnist-iml or text-iml wrote.")
        try refused(["--stage2-from", s], tool: "text-iml",
                    "--stage2-from \(s) is a run of the mnist modality, not text; start its stage 2 with mnist-iml.")
        try refused(["--stage2-from", s, "--lr", "0.002"],
                    "--stage2-from \(s) continues that run's stage 1, made with --lr 0.001, but this command gives --lr 0.002; leave --lr out (a stage-2 start takes the source run's settings; only --seeds, --first-seed, --epochs1 and --epochs2 may differ).")
        try refused(["--stage2-from", s, "--epochs1", "4"],
                    "--epochs1 4 is past the end of \(s)'s stage 1 (3 epochs); stage 2 starts from a point of that stage, so give --epochs1 at most 3.")
        try refused(["--stage2-from", s, "--epochs1", "2"],
                    "\(s) has no saved model of seed 0 at stage-1 epoch 2 (no \(s)/models/seed-0/stage-1-epoch-2.weights): it kept stage-1 epochs 3; give --epochs1 one of those, or train it again with a --save-every that keeps 2.")
        try refused(["--stage2-from", s, "--seeds", "3"],
                    "Seed 2 is not a seed of \(s) (its seeds are 0, 1); give --seeds and --first-seed within them.")
        try refused(["--stage2-from", s, "--stages", "1"],
                    "--stage2-from \(s) starts stage 2, and --stages 1 has none; leave --stages out (2).")
        try refused(["--stage2-from", s, "--quick"],
                    "--quick and --stage2-from contradict each other (a stage-2 start takes the source run's settings, which --quick would change); give only --stage2-from.")
        let unfinished = try copy(f.killed, "unfinished")
        try refused(["--stage2-from", unfinished.path],
                    "--stage2-from \(unfinished.path): \(unfinished.path) is not a finished run: it has no summary.json; give a directory that a completed run wrote.")
    }

    /// `iml-compare --when SOURCE SWEEP` (after the image test): one row per start, the source's
    /// alignment along training beside it, and the figure in both formats.
    func whenReport() throws {
        let source = base.appendingPathComponent("mnist-iml-source"), sweep = base.appendingPathComponent("mnist-iml-when")
        let analyzed = try mnistIML(["analyze", source.path, "--along-training", "--folds", "2"])
        XCTAssertEqual(analyzed.status, 0, analyzed.stderr)
        let out = base.appendingPathComponent("when-report")
        let report = try mnistIML(["--when", source.path, sweep.path, "--out", out.path], tool: "iml-compare")
        XCTAssertEqual(report.status, 0, report.stderr)
        let rows = report.stdout.split(separator: "\n").filter { $0.hasPrefix("| 0 |") || $0.hasPrefix("| 2 |") }
        XCTAssertEqual(rows.count, 2, report.stdout)
        // After the epoch and the seed count: the stage-1 gap, the alignment gap (full loss only: no analysis-answer/), d1, d2, d3, the effect.
        for row in rows { XCTAssertEqual(row.split(separator: "|").count, 8, String(row)) }
        XCTAssertTrue(report.stdout.contains("First stage-1 epoch whose 95% interval lies above zero — IML effect: "), report.stdout)
        for file in ["when.png", "when.svg", "when.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        try assertFails(["--when", source.path, "--out", out.path], "error: iml-compare --when \(source.path) takes one sweep directory (made with sweep --stage2-from \(source.path) --set epochs1=...), got 0.", tool: "iml-compare")
        try assertFails(["--when", source.path, source.path, "--out", out.path], "error: \(source.path) holds no stage-2 starts (no epochs1=E runs); make them with sweep --stage2-from \(source.path) --set epochs1=0,5,10.", tool: "iml-compare")
    }
}
