import Foundation
import IMLBase
import ToolTestSupport
import XCTest

/// `analyze` through the built tools: it works on a finished run, gives the same JSON twice, and
/// every bad input (docs/reliability.md, "analyze") gets one sentence, exit status 1 and no file.
final class AnalyzeCommandTests: ToolTestCase {
    func testAnalyzeWritesItsOutputsAndTheSameJSONTwice() throws {
        let f = try runFixtures()
        let run = try copy(f.finished, "analyzed")
        let arguments = ["analyze", run.path, "--data-dir", f.data.path, "--folds", "2"]
        let first = try mnistIML(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("outputs in \(run.path)/analysis"), first.stdout)
        XCTAssertTrue(first.stderr.contains("gradient alignment at the end of stage 1 (cosine, mean over pairs): d1consis 0."), first.stderr)
        let analysis = run.appendingPathComponent("analysis")
        let files = ["alignment.json", "probes.json", "alignment.png", "probes.png"]
        let before = try files.map { try Data(contentsOf: analysis.appendingPathComponent($0)) }
        XCTAssertEqual(try mnistIML(arguments + ["--threads", "1"]).status, 0)
        XCTAssertEqual(try files.map { try Data(contentsOf: analysis.appendingPathComponent($0)) }, before)

        // probes.json records the probes' L2 strength; --probe-l2 sets it.
        func recordedL2() throws -> Double? {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: analysis.appendingPathComponent("probes.json"))) as? [String: Any]
            return json?["l2"] as? Double
        }
        XCTAssertEqual(try recordedL2(), 0.01)

        // The image model predicts answers only, so scoring answers alone gives the same alignment.
        func alignment() throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: analysis.appendingPathComponent("alignment.json"))) as? [String: Any])
        }
        let full = try alignment()
        XCTAssertEqual(full["loss"] as? String, "full")
        let fullBytes = try Data(contentsOf: analysis.appendingPathComponent("alignment.json"))
        let answer = try mnistIML(arguments + ["--alignment-loss", "answer"])
        XCTAssertEqual(answer.status, 0, answer.stderr)
        XCTAssertTrue(answer.stderr.contains("(cosine, mean over pairs, answer tokens' loss only)"), answer.stderr)
        XCTAssertTrue(answer.stdout.contains("outputs in \(run.path)/analysis-answer"), answer.stdout)
        XCTAssertEqual(try Data(contentsOf: analysis.appendingPathComponent("alignment.json")), fullBytes, "analysis/ is kept")
        let answerOnly = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("analysis-answer/alignment.json"))) as? [String: Any])
        XCTAssertEqual(answerOnly["loss"] as? String, "answer")
        XCTAssertEqual(answerOnly["points"] as? NSArray, full["points"] as? NSArray)
        let strong = try mnistIML(arguments + ["--probe-l2", "100"])
        XCTAssertEqual(strong.status, 0, strong.stderr)
        XCTAssertEqual(try recordedL2(), 100)
    }

    func testAnalyzeRefusesBadInputWithOneSentence() throws {
        let f = try runFixtures()
        let data = ["--data-dir", f.data.path, "--folds", "2"]
        let missing = base.appendingPathComponent("no-such-run").path
        try assertFails(["analyze", missing], "error: \(missing) is not a directory; give a run directory that `run` wrote.")
        let empty = base.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try assertRefused(["analyze", empty.path], "error: \(empty.path) is not a run directory (it has no config.json); give a directory that `run` wrote.", leaving: empty)

        let unfinished = try copy(f.killed, "unfinished")
        try assertRefused(["analyze", unfinished.path] + data,
                          "error: The run in \(unfinished.path) has not finished (it has no summary.json); finish it with `run --resume \(unfinished.path)` first.",
                          leaving: unfinished)

        let noModels = try copy(f.finished, "no-models")
        try FileManager.default.removeItem(at: noModels.appendingPathComponent("models"))
        try assertRefused(["analyze", noModels.path] + data,
                          "error: The run in \(noModels.path) has no saved model at the end of stage 1 for seed 0 (no \(noModels.path)/models/seed-0/stage-1-epoch-3.weights); runs made by this version keep one per stage, so train it again with this version (add --save-every K for points along stage 1).",
                          leaving: noModels)

        let damaged = try copy(f.finished, "damaged")
        let weights = damaged.appendingPathComponent("models/seed-1/stage-1-epoch-3.weights")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 9] ^= 0x10
        try bytes.write(to: weights)
        try assertRefused(["analyze", damaged.path] + data,
                          "error: The saved model \(weights.path) is damaged (the payload checksum does not match); restore it from a copy of the run, or train the run again.",
                          leaving: damaged)

        // A run still training holds its lock (here: this test process holds it).
        let busy = try copy(f.finished, "busy")
        let lock = open(busy.appendingPathComponent(".lock").path, O_RDWR | O_CREAT, 0o644)
        XCTAssertEqual(flock(lock, LOCK_EX | LOCK_NB), 0)
        let held = try mnistIML(["analyze", busy.path] + data)
        close(lock)
        XCTAssertEqual(held.status, 1)
        XCTAssertTrue(held.stderr.hasPrefix("error: The run in \(busy.path) is in progress in "), held.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: busy.appendingPathComponent("analysis").path))

        // A text run handed to mnist-iml.
        let text = base.appendingPathComponent("text-run")
        let made = try mnistIML(["run", "--quick", "--entities", "20", "--seeds", "1", "--order", "tve", "--out", text.path], tool: "text-iml")
        XCTAssertEqual(made.status, 0, made.stderr)
        try assertRefused(["analyze", text.path], "error: \(text.path) is a run of the text modality, not mnist; analyze it with text-iml.", leaving: text)

        try assertFails(["analyze", f.finished.path, "--folds", "1"], "error: --folds must be at least 2 (got 1).")
        try assertFails(["analyze", f.finished.path, "--threads", "0"], "error: --threads must be at least 1 (got 0).")
        try assertFails(["analyze", f.finished.path, "--probe-l2", "0"], "error: --probe-l2 must be a positive number (got 0.0).")
        try assertFails(["analyze", f.finished.path, "--alignment-loss", "tokens"],
                        "Error: The value 'tokens' is invalid for '--alignment-loss <alignment-loss>'. Please provide one of 'full' and 'answer'.", status: 64)
    }

    func testSaveEveryAndSampleModelRefuseBadInput() throws {
        let f = try runFixtures()
        try assertFails(["run", "--quick", "--save-every", "0"], "error: --save-every must be a whole number of epochs, at least 1 (got 0).")
        let missing = base.appendingPathComponent("none.weights").path
        try assertFails(["sample", "--model", missing], "error: There is no saved model at \(missing); give a file under RUN/models/seed-N/.",
                        tool: "text-iml")
        let notWeights = base.appendingPathComponent("config.weights")
        try FileManager.default.copyItem(at: f.finished.appendingPathComponent("config.json"), to: notWeights)
        try assertFails(["sample", "--model", notWeights.path],
                        "error: \(notWeights.path) is not a saved model of this program (its first line is not \"IML weights 1\"); restore it from a copy of the run, or train the run again.",
                        tool: "text-iml")
        let vision = f.finished.appendingPathComponent("models/seed-0/stage-2-epoch-1.weights").path
        let other = try mnistIML(["sample", "--model", vision], tool: "text-iml")
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.hasPrefix("error: \(f.finished.path) is not a text run of this version ("), other.stderr)
    }
}
