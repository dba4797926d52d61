import Foundation
import ToolTestSupport
import XCTest

/// text-iml's `sweep` refuses bad input with one sentence that names text-iml (the command is the
/// one mnist-iml's SweepSetTests run; text-iml shares it and names itself).
final class TextSweepSetTests: ToolTestCase {
    func testSetSweepBadInputs() throws {
        try assertFails(["sweep", "--set", "frobnicate=1,2"], "error: --set frobnicate: `run` has no option --frobnicate; see text-iml run --help.", tool: "text-iml")
        try assertFails(["sweep", "--alpha", "0.5,1", "--batch-size", "8,16"],
                        "error: --alpha 0.5,1 and --batch-size 8,16 both give values to sweep, but a sweep varies one setting at a time; sweep them separately, or give one of them a single value.", tool: "text-iml")
        try assertFails(["sweep", "--set", "order=vte,xyz"],
                        "error: --set order: xyz is not a value of --order, which takes vte, vet, tve, tev, evt or etv; see text-iml run --help.", tool: "text-iml")
    }
}
