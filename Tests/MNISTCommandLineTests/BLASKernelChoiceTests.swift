import Foundation
import IMLCore
import ToolTestSupport
import XCTest

/// The kernel a run uses and why, through the binary: config.json records the kernel, OpenBLAS's
/// own pick and the reason, and each is consistent with the decision of that same process.
final class BLASKernelChoiceTests: ToolTestCase {
    func kernelRecord(_ out: String) throws -> (kernel: String, pick: String?, reason: String, why: String) {
        let c = try config(out)
        return (try XCTUnwrap(c["blas_core"] as? String), c["blas_core_openblas_pick"] as? String,
                try XCTUnwrap(c["blas_core_reason"] as? String), try XCTUnwrap(c["blas_core_why"] as? String))
    }

    func oneSeedRun(_ data: URL, _ name: String) -> [String] {
        ["run"] + tinyRun(data) + ["--seeds", "1", "--epochs1", "1", "--epochs2", "0", "--out", base.appendingPathComponent(name).path]
    }

    func testADefaultRunRecordsItsKernelAndWhy() throws {
        let data = try dataset("kernel-default")
        let outcome = try mnistIML(oneSeedRun(data, "default"))
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let record = try kernelRecord(base.appendingPathComponent("default").path)
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil {
            // Some machines set it for every process; it is then the user's choice, kept.
            XCTAssertEqual(record.reason, "environment")
            XCTAssertNil(record.pick)
            return
        }
        let pick = try XCTUnwrap(record.pick)
        switch record.reason {
        case "openblas":
            XCTAssertEqual(record.kernel, pick)
            XCTAssertNil(BLASKernel.autoChoice(openBLASPick: pick, features: .host), "OpenBLAS's \(pick) is a fallback here")
        case "features":
            XCTAssertEqual(record.kernel, BLASKernel.autoChoice(openBLASPick: pick, features: .host)?.kernel)
        default:
            XCTFail("a default run's reason is openblas or features, not \(record.reason)")
        }
        XCTAssertTrue(outcome.stderr.contains("BLAS kernel: \(record.kernel), \(record.why)\n"), outcome.stderr)
    }

    /// OpenBLAS's fallback on a processor it does not know, as the restarted process learns it:
    /// the first process records OpenBLAS's own pick in IML_BLAS_CHOICE. Here that pick is
    /// Prescott, so `auto` must choose from this processor's features.
    func testAFallbackKernelIsReplacedByTheFastestTheFeaturesAllow() throws {
        guard let best = BLASKernel.best(for: .host) else { throw XCTSkip("this processor has no AVX: nothing to choose") }
        let data = try dataset("kernel-fallback")
        let fallback = ["OPENBLAS_CORETYPE": "Prescott", "IML_BLAS_CHOICE": "openblas|Prescott||"]
        let outcome = try mnistIML(oneSeedRun(data, "fallback"), environment: fallback)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let record = try kernelRecord(base.appendingPathComponent("fallback").path)
        XCTAssertEqual(record.pick, "Prescott")
        XCTAssertEqual(record.reason, "features")
        XCTAssertEqual(record.kernel, best.kernel)
        XCTAssertEqual(record.why, "chosen from the processor's features (\(best.because)); OpenBLAS alone picks Prescott, a fallback")

        // A pin wins over the choice, and still knows OpenBLAS's own pick.
        let pinned = try mnistIML(oneSeedRun(data, "pinned") + ["--blas-core", "Haswell"], environment: fallback)
        XCTAssertEqual(pinned.status, 0, pinned.stderr)
        let pin = try kernelRecord(base.appendingPathComponent("pinned").path)
        XCTAssertEqual([pin.kernel, pin.pick, pin.reason], ["Haswell", "Prescott", "pinned"])
    }

    func testOPENBLAS_CORETYPESetOutsideIsKeptAndNamed() throws {
        let data = try dataset("kernel-environment")
        let outcome = try mnistIML(oneSeedRun(data, "environment"), environment: ["OPENBLAS_CORETYPE": "Haswell"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let record = try kernelRecord(base.appendingPathComponent("environment").path)
        XCTAssertEqual(record.kernel, "Haswell")
        XCTAssertNil(record.pick, "OpenBLAS's own pick is unknown when the environment names the kernel")
        XCTAssertEqual(record.reason, "environment")
    }
}
