import Foundation
import ToolTestSupport
import XCTest

/// text-iml's help through the built tool: the tool's and sweep's help list the run options
/// (mnist-iml's: OptionSurfaceTests; that both describe the shared options alike is checked there).
final class TextOptionSurfaceTests: ToolTestCase {
    func testToolAndSweepHelpListTheRunOptions() throws {
        for arguments in [["--help"], ["sweep", "--help"]] {
            let outcome = try mnistIML(arguments, tool: "text-iml")
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            for option in ["--entities", "--tag1-fraction", "--epochs1", "--batch-size", "--resume"] {
                XCTAssertTrue(outcome.stdout.contains(option), "text-iml \(arguments.joined(separator: " ")) does not list \(option)")
            }
        }
    }
}
