import Foundation
import ToolTestSupport
import XCTest

/// `sweep --set OPTION=v1,v2,...` through the built mnist-iml: each run records its value, sweep.md
/// lists them, `sweep --resume` repeats a --set sweep, and every bad input gets its one sentence
/// before anything is written (text-iml's refusals: TextSweepSetTests in TextCommandLineTests).
final class SweepSetTests: ToolTestCase {
    func sweepTable(_ directory: URL) throws -> String {
        try String(contentsOf: directory.appendingPathComponent("sweep.md"), encoding: .utf8)
    }

    func testASetSweepRecordsEachValueAndResumes() throws {
        let data = try dataset("train")
        // tinyRun gives one --batch-size, an ordinary run option beside --set.
        let sweep = ["sweep", "--set", "loss-average=examples,heads"] + tinyRun(data) + ["--threads", "1"]
        let out = base.appendingPathComponent("set-sweep")
        let outcome = try mnistIML(sweep + ["--out", out.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        for value in ["examples", "heads"] {
            let c = try config(out.appendingPathComponent("loss-average=\(value)").path)
            // Each run's spec holds its value, and the shared options.
            let spec = try XCTUnwrap(c["spec"] as? [String: Any])
            XCTAssertEqual((spec["settings"] as? [String: Any])?["loss_average"] as? String, value)
            XCTAssertEqual((spec["training"] as? [String: Any])?["batch_size"] as? Int, 8)
            XCTAssertEqual(c["loss_average"] as? String, value)
            XCTAssertEqual(c["batch_size"] as? Int, 8)
        }
        let table = try sweepTable(out)
        XCTAssertTrue(table.hasPrefix("# Fashion-MNIST: IML against loss-average\n\nmnist-iml sweep --set loss-average=examples,heads --seeds 2 --entities 10 --epochs1 3 --epochs2 1 --batch-size 8 --grid 1 --dataset fashion-mnist\n"), table)
        XCTAssertTrue(table.contains("| loss-average | seeds |"), table)
        // Categories keep the order given.
        let examples = try XCTUnwrap(table.range(of: "| examples | 2 |")), heads = try XCTUnwrap(table.range(of: "| heads | 2 |"))
        XCTAssertLessThan(examples.lowerBound, heads.lowerBound, table)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("sweep.png").path))

        // sweep --resume repeats a --set sweep from its record: a lost run is made again, to the same bytes.
        let lost = out.appendingPathComponent("loss-average=heads")
        let metrics = try Data(contentsOf: lost.appendingPathComponent("metrics.jsonl"))
        try FileManager.default.removeItem(at: lost)
        let resumed = try mnistIML(["sweep", "--resume", out.path, "--data-dir", data.path, "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("== loss-average = examples: finished, kept ==\n"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("== loss-average = heads ==\n"), resumed.stderr)
        XCTAssertEqual(try Data(contentsOf: lost.appendingPathComponent("metrics.jsonl")), metrics)
        XCTAssertEqual(try sweepTable(out), table)
    }

    /// A sweep of `sweep` with tinyRun's settings, one seed on one thread, into base/NAME; it must succeed.
    func oneSeedSweep(_ sweep: [String], into name: String) throws -> URL {
        let out = base.appendingPathComponent(name)
        let outcome = try mnistIML(["sweep"] + sweep + tinyRun(try dataset("train")) + ["--seeds", "1", "--threads", "1", "--out", out.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return out
    }

    func testANumericSetSweepIsOrderedByValue() throws {
        let out = try oneSeedSweep(["--set", "lr=0.01,0.0003"], into: "lr-sweep")
        for value in ["0.01", "0.0003"] {
            let c = try config(out.appendingPathComponent("lr=\(value)").path)
            XCTAssertEqual((c["arguments"] as? [String] ?? []).split(separator: "--lr").dropFirst().first?.first, value)
            XCTAssertEqual(c["lr"] as? Double, Double(value))
        }
        let table = try sweepTable(out)
        let small = try XCTUnwrap(table.range(of: "| 0.0003 | 1 |")), large = try XCTUnwrap(table.range(of: "| 0.01 | 1 |"))
        XCTAssertLessThan(small.lowerBound, large.lowerBound, table)
    }

    func testAnAlphaSweepKeepsASingleBatchSizeAsARunOption() throws {
        // tinyRun gives one --batch-size: beside the --alpha list it is an ordinary run option.
        let out = try oneSeedSweep(["--alpha", "0.9,1"], into: "alpha-sweep")
        for value in ["0.9", "1"] {
            let c = try config(out.appendingPathComponent("alpha=\(value)").path)
            XCTAssertEqual(c["alpha"] as? Double, Double(value))
            XCTAssertEqual(c["batch_size"] as? Int, 8)
        }
        let table = try sweepTable(out)
        XCTAssertTrue(table.contains("mnist-iml sweep --alpha 0.9,1 --seeds 1 --entities 10 --epochs1 3 --epochs2 1 --batch-size 8 --grid 1 --dataset fashion-mnist\n"), table)
    }

    func testSetSweepBadInputs() throws {
        let data = try dataset("train")
        let out = base.appendingPathComponent("never-written")
        let settings = tinyRun(data) + ["--out", out.path]
        let cases: [([String], String)] = [
            (["--set", "frobnicate=1,2"], "error: --set frobnicate: `run` has no option --frobnicate; see mnist-iml run --help."),
            (["--set", "quick=1,2"], "error: --set quick: --quick is a flag and takes no value, so it cannot be swept; give it beside --set to apply it to every run."),
            (["--set", "force"], "error: --set force: --force is a flag and takes no value, so it cannot be swept; give it beside --set to apply it to every run."),
            (["--set", "threads=1,2"], "error: --set threads: --threads only says where or how a run executes and is not recorded with it, so it cannot be swept; give it once beside --set."),
            (["--set", "handwriting=fixed,cursive"], "error: --set handwriting: cursive is not a value of --handwriting, which takes fixed or fresh; see mnist-iml run --help."),
            (["--set", "classes=10,ten"], "error: --set classes: `run` refuses --classes ten (the value 'ten' is invalid for '--classes <classes>'); see mnist-iml run --help."),
            (["--set", "lr=0.001,-1"], "error: --set lr=-1: --lr must be a positive number (got -1.0)."),
            (["--set", "hidden=32;0"], "error: --set hidden=0: --hidden widths must be at least 1 (got 0)."),
            (["--set", "lr="], "error: --set lr= lists no values; give at least one after the equals sign, e.g. --set lr=v1,v2."),
            (["--set", "lr=0.1,,0.2"], "error: --set lr=0.1,,0.2 has an empty value (two separators in a row, or one at an end); list each value once."),
            (["--set", "out=a,b"], "error: --set out: --out only says where or how a run executes and is not recorded with it, so it cannot be swept; give it once beside --set."),
            (["--set", "handwriting"], "error: --set handwriting has no values; give them after an equals sign, e.g. --set handwriting=v1,v2."),
            (["--set", "=1,2"], "error: --set takes OPTION=v1,v2,... (e.g. --set lr=0.001,0.0003), but \"=1,2\" names no option."),
            (["--set", "handwriting=fixed,fixed"], "error: --set handwriting lists fixed twice; give each value once."),
            (["--set", "lr=0.1,1e-1"], "error: --set lr lists 0.1 and 1e-1, the same number; give each value once."),
            (["--set", "lr=0.1", "--set", "grid=1"], "error: --set was given 2 times (lr=0.1, grid=1), but a sweep varies one option at a time; sweep them separately."),
            (["--set", "lr=0.1,0.2", "--alpha", "0.5,1"], "error: --set lr=0.1,0.2 and --alpha 0.5,1 both give values to sweep, but a sweep varies one option at a time; sweep them separately, or give --alpha one value."),
            (["--set", "batch-size=8,16"], "error: --set batch-size=8,16 and --batch-size 8 both give --batch-size; give it once (each run of the sweep gets one of the values listed in --set)."),
            // Without --set (the settings give --batch-size 8).
            (["--batch-size", "16,32"], "error: --batch-size was given twice (16,32 and 8); give it once."),
            (["--alpha", "1"], "error: --alpha 1 and --batch-size 8 each give one value, so there is nothing to sweep; give the setting to sweep several values, e.g. --alpha 0.5,0.75,0.9,1."),
        ]
        for (arguments, line) in cases {
            try assertFails(["sweep"] + arguments + settings, line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing is written for a refused sweep")
    }
}
