import Foundation
import ToolTestSupport
import XCTest

/// `--threads` spreads a seed's steps over idle cores (Parallel.swift) and never changes the
/// numbers: one seed on 1, 2 or 3 threads writes the same metrics.jsonl, and a run killed on one
/// thread count and resumed on another gives the same bytes as an uninterrupted one. text-iml's
/// twin is TextThreadCountTests (TextCommandLineTests).
final class ThreadCountTests: ToolTestCase {
    func testTheThreadCountNeverChangesAVisionRun() throws {
        let data = try dataset("threads")
        // Batch 32: several row blocks in every Linear, 32 image pieces in every conv.
        let settings = ["--dataset", "fashion-mnist", "--data-dir", data.path, "--grid", "1", "--entities", "10", "--seeds", "1",
                        "--epochs1", "3", "--epochs2", "1", "--batch-size", "32"]
        try assertThreadCountChangesNothing(tool: "mnist-iml", settings: settings)
    }
}
