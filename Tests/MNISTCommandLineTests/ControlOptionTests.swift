import Foundation
import IMLBase
import ToolTestSupport
import XCTest

/// The authors' controls through the built mnist-iml: their refusals, and a tiny run that
/// evaluates qd4consis and d2incons.
final class ControlOptionTests: ToolTestCase {
    func testControlOptionsRefuseImpossibleValues() throws {
        try assertFails(["run", "--qd4consis-fraction", "1.5"], "error: --qd4consis-fraction must lie in [0, 1] (got 1.5).")
        try assertFails(["run", "--qd4consis-fraction", "0.5"],
                        "error: --tag1-fraction, --tag2-fraction, --question-only-fraction and --qd4consis-fraction sum to 1.2, over 1; lower them so that their sum is at most 1.")
        try assertFails(["run", "--d2incons", "maybe"],
                        "Error: The value 'maybe' is invalid for '--d2incons <d2incons>'", status: 64)
    }

    func testATinyRunEvaluatesBothControls() throws {
        let data = try dataset("controls-data"), out = base.appendingPathComponent("controls")
        let made = try mnistIML(["run"] + tinyRun(data) + ["--grid", "2", "--entities", "40", "--qd4consis-fraction", "0.1", "--d2incons", "true", "--out", out.path])
        XCTAssertEqual(made.status, 0, made.stderr)
        let metrics = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        for subset in ["\"subset\":\"qd4consis\"", "\"subset\":\"d2incons\""] { XCTAssertTrue(metrics.contains(subset), subset) }
        XCTAssertTrue(made.stdout.contains("| 2 | d2incons |"), made.stdout)
    }
}
