import Foundation
import IMLBase
import IMLCore
import ToolTestSupport
import XCTest

/// `--precision bf16` through the built tools: recorded in the spec and config.json, other numbers
/// than fp32, and the same numbers whatever the thread count and whatever OpenBLAS kernel is pinned
/// (no product of a bf16 run goes through OpenBLAS), in both modalities.
final class PrecisionTests: ToolTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try XCTSkipUnless(BLAS.bf16KernelAvailable, "this processor has no AVX512-BF16, so both tools refuse --precision bf16 (tested in testBF16IsRefusedWithoutTheKernel when that is so)")
    }

    func metrics(_ run: URL) throws -> String { try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8) }

    func assertBF16IsItsOwnArithmeticAndKernelFree(tool: String, settings: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        var runs: [String: URL] = [:]
        for (name, extra) in [("fp32", ["--blas-core", "Haswell"]), ("bf16-haswell", ["--precision", "bf16", "--blas-core", "Haswell"]),
                              ("bf16-sandybridge", ["--precision", "bf16", "--blas-core", "Sandybridge"])] {
            let out = base.appendingPathComponent("\(tool)-\(name)")
            let outcome = try mnistIML(["run"] + settings + extra + ["--out", out.path], tool: tool)
            XCTAssertEqual(outcome.status, 0, outcome.stderr, file: file, line: line)
            runs[name] = out
        }
        XCTAssertEqual(try metrics(runs["bf16-haswell"]!), try metrics(runs["bf16-sandybridge"]!), "a bf16 run does not depend on OpenBLAS's kernel", file: file, line: line)
        XCTAssertNotEqual(try metrics(runs["bf16-haswell"]!), try metrics(runs["fp32"]!), "bf16 products give other numbers", file: file, line: line)
        let bf16 = try config(runs["bf16-haswell"]!.path), fp32 = try config(runs["fp32"]!.path)
        XCTAssertEqual(bf16["precision"] as? String, "bf16", file: file, line: line)
        XCTAssertEqual((bf16["spec"] as? [String: Any])?["training"].flatMap { ($0 as? [String: Any])?["precision"] } as? String, "bf16", file: file, line: line)
        XCTAssertNil(fp32["precision"], "an fp32 run's config.json is as before the option", file: file, line: line)
        XCTAssertNil(((fp32["spec"] as? [String: Any])?["training"] as? [String: Any])?["precision"], file: file, line: line)
    }

    func testBF16RunsOnImages() throws {
        let data = try dataset("bf16-data")
        try assertBF16IsItsOwnArithmeticAndKernelFree(tool: "mnist-iml", settings: tinyRun(data))
    }

    func testBF16RunsOnText() throws {
        try assertBF16IsItsOwnArithmeticAndKernelFree(tool: "text-iml", settings: ["--entities", "40", "--seeds", "1", "--epochs1", "2", "--epochs2", "1"])
        try assertThreadCountChangesNothing(tool: "text-iml", settings: ["--entities", "40", "--seeds", "1", "--epochs1", "3", "--epochs2", "1", "--precision", "bf16"])
        // A sweep over the precision: its bf16 run is the bf16 run above.
        let sweep = base.appendingPathComponent("precision-sweep")
        let swept = try mnistIML(["sweep", "--set", "precision=fp32,bf16", "--entities", "40", "--seeds", "1", "--epochs1", "2", "--epochs2", "1",
                                  "--blas-core", "Haswell", "--out", sweep.path], tool: "text-iml")
        XCTAssertEqual(swept.status, 0, swept.stderr)
        XCTAssertEqual(try metrics(sweep.appendingPathComponent("precision=bf16")), try metrics(base.appendingPathComponent("text-iml-bf16-haswell")))
        XCTAssertEqual(try metrics(sweep.appendingPathComponent("precision=fp32")), try metrics(base.appendingPathComponent("text-iml-fp32")))
    }
}

/// On a processor without AVX512-BF16, one sentence and nothing written.
final class PrecisionRefusalTests: ToolTestCase {
    func testBF16IsRefusedWithoutTheKernel() throws {
        try XCTSkipIf(BLAS.bf16KernelAvailable, "this processor has AVX512-BF16; PrecisionTests run bf16 here")
        let out = base.appendingPathComponent("refused")
        try assertFails(["run", "--quick", "--precision", "bf16", "--out", out.path],
                        "error: --precision bf16 needs a processor with AVX512-BF16 (Intel Cooper Lake or later, AMD Zen 4 or later), and this one has none; use --precision fp32.",
                        tool: "text-iml")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
