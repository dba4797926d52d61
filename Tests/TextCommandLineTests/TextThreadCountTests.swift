import Foundation
import ToolTestSupport
import XCTest

/// `--threads` never changes a text run's numbers: one seed on 1, 2 or 3 threads writes the same
/// metrics.jsonl, and a run killed on one thread count and resumed on another gives the same bytes
/// as an uninterrupted one (the check is ToolTestSupport's, shared with mnist-iml's ThreadCountTests).
final class TextThreadCountTests: ToolTestCase {
    func testTheThreadCountNeverChangesATextRun() throws {
        let settings = ["--entities", "40", "--seeds", "1", "--epochs1", "3", "--epochs2", "1"]
        try assertThreadCountChangesNothing(tool: "text-iml", settings: settings)
    }
}
