import Foundation
import IMLBase
import XCTest

/// scripts/count-flops.sh, the measurement behind docs/performance.md's arithmetic bound: run on a
/// small C program whose products are known, it must count each call's 2*M*N*K (2*M*N for sgemv).
final class CountFlopsScriptTests: XCTestCase {
    var base: URL!
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/count-flops.sh")

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("count-flops-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        addTeardownBlock { [base] in try? FileManager.default.removeItem(at: base!) }
    }

    func shell(_ command: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let out = base.appendingPathComponent("stdout"), err = base.appendingPathComponent("stderr")
        let process = try ChildProcess("/bin/bash", ["-c", command], directory: base.path,
                                       stdout: .file(out.path), stderr: .file(err.path))
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    func testCountsEveryProductOfACommand() throws {
        // Two sgemm calls of 3x5x7 and 2x2x9 (2*105 + 2*36 = 282 FLOP) and one 4x6 sgemv (48).
        try """
        #include <cblas.h>
        int main(void) {
            float a[64] = {0}, b[64] = {0}, c[64] = {0};
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 3, 5, 7, 1, a, 7, b, 5, 0, c, 5);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 2, 2, 9, 1, a, 2, b, 2, 0, c, 2);
            cblas_sgemv(CblasRowMajor, CblasNoTrans, 4, 6, 1, a, 6, b, 1, 0, c, 1);
            return 3;
        }
        """.write(to: base.appendingPathComponent("products.c"), atomically: true, encoding: .utf8)
        let build = try shell("cc products.c -o products -lopenblas")
        XCTAssertEqual(build.status, 0, "cc products.c -lopenblas failed (libopenblas-dev installed?): \(build.stderr)")

        let counted = try shell("bash '\(script.path)' ./products")
        XCTAssertEqual(counted.status, 3, "the script passes the command's exit status on")
        XCTAssertEqual(counted.stdout.split(separator: "\n").first.map(String.init),
                       "sgemm: 2 calls, 282 FLOP; sgemv: 1 calls, 48 FLOP", counted.stderr)
        // A plain program: OpenBLAS's own pick, or the environment's OPENBLAS_CORETYPE.
        let kernel = counted.stdout.split(separator: "\n").dropFirst(2).first.map(String.init) ?? ""
        let why = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil ? "OpenBLAS's own pick" : "OPENBLAS_CORETYPE in the environment"
        XCTAssertNotNil(kernel.range(of: "^BLAS kernel of the counted products: [A-Za-z0-9_]+, \(why)$", options: .regularExpression), kernel)
    }

    func testWithoutACommandItSaysHowToCallIt() throws {
        let outcome = try shell("bash '\(script.path)'")
        XCTAssertEqual(outcome.status, 1)
        XCTAssertEqual(outcome.stderr, "usage: scripts/count-flops.sh COMMAND [ARGS...]: give the command whose products to count.\n")
    }
}
