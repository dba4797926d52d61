import Foundation
import ToolTestSupport
import XCTest

/// The ConvNet's sizes as run options (--conv-channels, --hidden) through the built mnist-iml:
/// they change the model built and are recorded, and bad widths get one sentence.
final class ModelSizeOptionTests: ToolTestCase {
    func testWidthOptionsChangeTheModelAndAreRecorded() throws {
        let data = try dataset("train")
        let small = base.appendingPathComponent("small-model").path, standard = base.appendingPathComponent("standard-model").path
        let short = tinyRun(data) + ["--seeds", "1", "--epochs1", "1", "--epochs2", "1"]
        let outcome = try mnistIML(["run"] + short + ["--conv-channels", "8,8", "--hidden", "32", "--out", small])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let standardOutcome = try mnistIML(["run"] + short + ["--out", standard])
        XCTAssertEqual(standardOutcome.status, 0, standardOutcome.stderr)
        let c = try config(small), d = try config(standard)
        XCTAssertEqual(c["conv_channels"] as? [Int], [8, 8])
        XCTAssertEqual(c["hidden"] as? [Int], [32])
        XCTAssertEqual(d["conv_channels"] as? [Int], [16, 32, 32])
        XCTAssertEqual(d["hidden"] as? [Int], [256, 256])
        // 32 x 28 images (--grid 1): conv 1->8, 8->8, then 8 x 8 x 7 = 448 features -> 32 -> 6 x 10.
        XCTAssertEqual(c["parameters"] as? Int, (8 * 9 + 8) + (8 * 8 * 9 + 8) + (448 * 32 + 32) + (32 * 60 + 60))
        // Default: conv 1->16->32->32, 32 x 4 x 3 = 384 features -> 256 -> 256 -> 6 x 10.
        XCTAssertEqual(d["parameters"] as? Int, (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 32 * 9 + 32) + (384 * 256 + 256) + (256 * 256 + 256) + (256 * 60 + 60))
        XCTAssertTrue((c["arguments"] as? [String] ?? []).contains("8,8"))
        // The settings line names the sizes only when they are not the default.
        XCTAssertTrue(outcome.stderr.contains("fixed handwriting, ConvNet 8-8 + MLP 32, "), outcome.stderr)
        XCTAssertFalse(standardOutcome.stderr.contains("ConvNet"), standardOutcome.stderr)
    }

    func testWidthOptionBadInputs() throws {
        let data = try dataset("train")
        let out = base.appendingPathComponent("never-run")
        let settings = tinyRun(data) + ["--out", out.path]
        let cases: [([String], String)] = [
            (["--hidden", "256,0"], "error: --hidden widths must be at least 1 (got 0)."),
            (["--conv-channels", "16,-3"], "error: --conv-channels widths must be at least 1 (got -3)."),
            (["--conv-channels", ""], "error: --conv-channels needs at least one width, e.g. --conv-channels 16,32."),
            (["--hidden", "256,x"], "error: --hidden takes comma-separated whole numbers, e.g. --hidden 16,32, and \"x\" is not one."),
            (["--conv-channels", "8,8,8,8,8"], "error: --conv-channels gives 5 conv blocks, but each halves the image and a 32 x 28 image (--grid 1) can be halved only 4 times; give at most 4 channel counts."),
            (["--hidden", "100000,100000"], "error: --conv-channels 16,32,32 and --hidden 100000,100000 make a model of 10044614108 parameters, more than the 50000000 this program trains; choose smaller widths."),
        ]
        for (arguments, line) in cases {
            try assertFails(["run"] + settings + arguments, line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
