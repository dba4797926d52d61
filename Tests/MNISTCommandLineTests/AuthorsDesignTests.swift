import Foundation
import ToolTestSupport
import XCTest

/// The authors' poster design (`--design poster`, docs/PROTOCOL.md section 3a) through the built
/// mnist-iml: its defaults are recorded, `render` draws it, and bad combinations get one sentence.
final class AuthorsDesignTests: ToolTestCase {
    /// A poster run on the synthetic dataset, small enough for a debug build.
    func tinyPosterRun(_ data: URL) -> [String] {
        ["--design", "poster", "--dataset", "fashion-mnist", "--data-dir", data.path, "--entities", "10", "--seeds", "1",
         "--epochs1", "1", "--epochs2", "1", "--batch-size", "8"]
    }

    func testPosterDesignSetsItsDefaultsAndRecordsThem() throws {
        let data = try dataset("train")
        let out = base.appendingPathComponent("poster").path
        let outcome = try mnistIML(["run"] + tinyPosterRun(data) + ["--out", out])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("T=9, C=2"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("poster design, grid 3x3, fresh handwriting,"), outcome.stderr)
        let c = try config(out)
        XCTAssertEqual(c["design"] as? String, "poster")
        XCTAssertEqual(c["grid"] as? Int, 3)
        XCTAssertEqual(c["attributes"] as? Int, 9)
        XCTAssertEqual(c["classes"] as? Int, 2)
        XCTAssertEqual(c["handwriting"] as? String, "fresh")
        XCTAssertEqual(c["redraw"] as? String, "once")
        XCTAssertEqual([c["image_height"] as? Int, c["image_width"] as? Int], [88, 84])
        XCTAssertTrue((c["compared_settings"] as? [String] ?? []).contains("design"))
        // Explicit values that agree with the design are taken; --redraw every-epoch is recorded.
        let explicit = base.appendingPathComponent("poster-explicit").path
        let second = try mnistIML(["run"] + tinyPosterRun(data) + ["--grid", "2", "--attributes", "4", "--handwriting", "fresh",
                                                                   "--redraw", "every-epoch", "--out", explicit])
        XCTAssertEqual(second.status, 0, second.stderr)
        let e = try config(explicit)
        XCTAssertEqual([e["grid"] as? Int, e["attributes"] as? Int, e["classes"] as? Int], [2, 4, 2])
        XCTAssertEqual(e["redraw"] as? String, "every-epoch")
        // The default design records itself too.
        let standard = base.appendingPathComponent("reconstruction").path
        XCTAssertEqual(try mnistIML(["run"] + tinyRun(data) + ["--seeds", "1", "--epochs1", "1", "--epochs2", "1", "--out", standard]).status, 0)
        let d = try config(standard)
        XCTAssertEqual(d["design"] as? String, "reconstruction")
        XCTAssertEqual([d["attributes"] as? Int, d["classes"] as? Int], [6, 10])
    }

    /// PNG width and height from the IHDR chunk.
    func pngSize(_ path: String) throws -> [Int] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func int(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return [int(16), int(20)]
    }

    func testRenderDrawsThePosterDesign() throws {
        let data = try dataset("train")
        let poster = base.appendingPathComponent("render-poster").path, standard = base.appendingPathComponent("render-standard").path
        let common = ["--dataset", "fashion-mnist", "--data-dir", data.path, "--entities", "40"]
        XCTAssertEqual(try mnistIML(["render", "--design", "poster", "--out", poster] + common).status, 0)
        XCTAssertEqual(try mnistIML(["render", "--out", standard] + common).status, 0)
        for file in ["definition-question-tag1.png", "definition-question-tag2.png", "definition-question-tag3.png", "contact-sheet.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: poster + "/" + file), file)
        }
        // Images are drawn 3x: the poster's 88-row images make the figure 3 * (88 - 60) rows taller.
        let p = try pngSize(poster + "/definition-question-tag1.png"), s = try pngSize(standard + "/definition-question-tag1.png")
        XCTAssertEqual(p[1] - s[1], 3 * (88 - 60))
        XCTAssertGreaterThanOrEqual(p[0], 2 * 3 * 84, "two 84-pixel-wide images side by side, drawn 3x")
    }

    func testPosterDesignBadInputs() throws {
        let data = try dataset("train")
        let out = base.appendingPathComponent("never-run")
        let settings = tinyPosterRun(data) + ["--out", out.path]
        let cases: [([String], String)] = [
            (["--attributes", "6"], "error: --design poster asks one attribute per grid cell, so --attributes must be 9 for --grid 3 (got 6); leave --attributes out or give 9."),
            (["--grid", "2", "--attributes", "9"], "error: --design poster asks one attribute per grid cell, so --attributes must be 4 for --grid 2 (got 9); leave --attributes out or give 4."),
            (["--grid", "1"], "error: --design poster needs --grid 2 or more (got 1): it asks one attribute per cell and trains on the cells a question does not hold out."),
            (["--handwriting", "fixed", "--redraw", "every-epoch"], "error: --redraw every-epoch draws new handwriting every epoch, but --handwriting fixed has one drawing per variable; use --handwriting fresh or leave --redraw out."),
        ]
        for (arguments, line) in cases {
            try assertFails(["run"] + settings + arguments, line)
            try assertFails(["render", "--design", "poster", "--dataset", "fashion-mnist", "--data-dir", data.path, "--out", out.path] + arguments, line)
        }
        // An unknown design is ArgumentParser's, as for every enumerated option (exit 64).
        try assertFails(["run", "--design", "authors"] + settings.dropFirst(2),
                        "Error: The value 'authors' is invalid for '--design <design>'. Please provide one of 'reconstruction' and 'poster'.", status: 64)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
