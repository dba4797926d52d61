import Foundation
import IMLBase
import ToolTestSupport
import XCTest

/// set-iml through the built binary: its defaults, its refusals, a tiny run and `sample`.
final class SetInclusionToolTests: ToolTestCase {
    func testImpossibleSettingsAreOneSentenceAndNothingIsWritten() throws {
        let out = base.appendingPathComponent("refused")
        try assertFails(["run", "--classes", "3", "--out", out.path],
                        "error: Set inclusion answers true or false, so --classes must be 2 (got 3); leave --classes out.", tool: "set-iml")
        try assertFails(["run", "--numbers-per-question", "99", "--out", out.path],
                        "error: --numbers-per-question must lie between 1 and --numbers - 2 = 98, so that a question can leave out both x and a wrong definition's x' (got 99).", tool: "set-iml")
        try assertFails(["run", "--numbers", "2", "--out", out.path], "error: --numbers must lie between 3 and 10000 (got 2).", tool: "set-iml")
        try assertFails(["run", "--entities", "5", "--out", out.path],
                        "error: --entities 5 is too few for set inclusion: give at least 10 x's, so that every subset has members.", tool: "set-iml")
        try assertFails(["run", "--qd4consis-fraction", "0.1", "--out", out.path],
                        "error: Set inclusion has three tag tokens (define1-3), so --qd4consis-fraction, which gives every definition a tag of its own, is not available here; leave it out.", tool: "set-iml")
        try assertFails(["run", "--lists", "bogus", "--out", out.path],
                        "Error: The value 'bogus' is invalid for '--lists <lists>'. Please provide one of 'fixed' and 'every-epoch'.", status: 64, tool: "set-iml")
        try assertFails(["run", "--scored-tokens", "none", "--out", out.path],
                        "Error: The value 'none' is invalid for '--scored-tokens <scored-tokens>'. Please provide one of 'all' and 'last'.", status: 64, tool: "set-iml")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// The paper's format and fractions are the defaults, and --help says so.
    func testTheDefaultsAreThePapersScaledConfig() throws {
        let printed = try mnistIML(["run", "--print-spec"], tool: "set-iml")
        XCTAssertEqual(printed.status, 0, printed.stderr)
        for field in ["\"modality\": \"set\"", "\"attributes\": 24", "\"classes\": 2", "\"tag1_fraction\": 0.4", "\"tag2_fraction\": 0.4",
                      "\"question_only_fraction\": 0", "\"held_out_per_variable\": 12", "\"numbers_per_question\": 8"] {
            XCTAssertTrue(printed.stdout.contains(field), "set-iml's default spec lacks \(field):\n\(printed.stdout)")
        }
        let help = try mnistIML(["run", "--help"], tool: "set-iml").stdout
        XCTAssertTrue(help.contains("default 24"), help)
        XCTAssertTrue(help.contains("--numbers-per-question"), help)
        XCTAssertFalse(help.contains("--order"), "a text option leaked into set-iml")
    }

    /// A tiny run writes a set run with its settings, the stage-2 subsets and the IML effect.
    func testATinyRunWritesASetRun() throws {
        let out = base.appendingPathComponent("tiny")
        let made = try mnistIML(["run", "--quick", "--entities", "30", "--seeds", "1", "--epochs1", "1", "--epochs2", "1",
                                 "--layers", "1", "--width", "16", "--heads", "2", "--out", out.path], tool: "set-iml")
        XCTAssertEqual(made.status, 0, made.stderr)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["modality"] as? String, "set")
        XCTAssertEqual(config["numbers_per_question"] as? Int, 8)
        XCTAssertEqual(config["vocabulary_size"] as? Int, 9 + 100 + 30)
        let summary = try String(contentsOf: out.appendingPathComponent("summary.json"), encoding: .utf8)
        for subset in ["\"d1consis\"", "\"d2consis\"", "\"qd2incons_defined\""] { XCTAssertTrue(summary.contains(subset), summary) }
        XCTAssertTrue(made.stdout.contains("IML effect d1consis − d2consis"), made.stdout)
    }

    func testSampleShowsThePapersDocuments() throws {
        let shown = try mnistIML(["sample", "--n", "1"], tool: "set-iml")
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertTrue(shown.stdout.contains("<bos> define1 v"), shown.stdout)
        XCTAssertNotNil(shown.stdout.range(of: #"<bos> v\d+ %( \d+){8} = (true|false)"#, options: .regularExpression), shown.stdout)
    }
}
