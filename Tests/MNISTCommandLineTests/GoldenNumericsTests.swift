import Foundation
import IMLBase
import IMLCore
import MNIST
import ToolTestSupport
import XCTest

/// Golden numerics: a small fixed run of each tool, on the pinned Haswell kernel, must write the
/// metrics.jsonl whose SHA-256 is committed here. Any change to what the code computes (a layer,
/// the data order, a summation order) fails this test, on purpose.
///
/// If a change of numbers is intended: update the hash below to the one the failure prints, say
/// so in the commit, and regenerate every published number (scripts/reproduce-results.sh; docs/reproducing.md, "The golden hashes").
final class GoldenNumericsTests: XCTestCase {
    static let settings = ["run", "--entities", "60", "--epochs1", "4", "--epochs2", "2", "--seeds", "2", "--blas-core", "Haswell"]
    static let goldenMNIST = "0dcd75b80e3bd3daa06248df790287307ce9811636177899336de6640f8f0ce5"
    static let goldenText = "9da53e7eae97e89badc4cf2a2086aefeb722b544951d9737324bffdb12767edb"
    /// The same runs with `--precision bf16`: no product goes through OpenBLAS, so these hold on
    /// every processor with AVX512-BF16, whatever its kernel.
    static let goldenMNISTBF16 = "603bbe2905e5b1e1642170ab9b467d5b6d58ff200caf7295dda1dc1cad2bd549"
    static let goldenTextBF16 = "c29b092397fd30b7efa9443b2537b9514c5f5169eb914194ebf927f689ec8034"

    func check(tool: String, golden: String, environment: [String: String], extra: [String] = []) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(tool)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        env["OPENBLAS_CORETYPE"] = nil  // the tool pins the kernel itself
        let outcome = try ChildProcess.run(try ToolTestCase.tool(tool).path, Self.settings + extra + ["--out", out.path], environment: env)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let metrics = try Data(contentsOf: out.appendingPathComponent("metrics.jsonl"))
        let digest = SHA256.hexDigest(metrics)
        let command = "\(tool) \((Self.settings + extra).joined(separator: " "))"
        XCTAssertEqual(digest, golden, """
            The numbers changed: `\(command)` wrote a metrics.jsonl with SHA-256 \(digest), the golden one is \(golden). \
            If this change of numerics is intended, set the golden hash in Tests/MNISTCommandLineTests/GoldenNumericsTests.swift \
            to \(digest) and regenerate the published numbers (scripts/reproduce-results.sh, as docs/reproducing.md says); otherwise find what changed the arithmetic.
            """)
    }

    func testGoldenMNISTRun() throws {
        guard let mnist = ProcessInfo.processInfo.environment["MNIST_DIR"] else {
            throw XCTSkip("MNIST_DIR is not set: the golden MNIST run needs the real dataset (CI sets MNIST_DIR).")
        }
        try check(tool: "mnist-iml", golden: Self.goldenMNIST, environment: ["MNIST_DIR": mnist])
    }

    func testGoldenTextRun() throws {
        try check(tool: "text-iml", golden: Self.goldenText, environment: [:])
    }

    func testGoldenBF16Runs() throws {
        try XCTSkipUnless(BLAS.bf16KernelAvailable, "this processor has no AVX512-BF16, so --precision bf16 is refused here")
        try check(tool: "text-iml", golden: Self.goldenTextBF16, environment: [:], extra: ["--precision", "bf16"])
        guard let mnist = ProcessInfo.processInfo.environment["MNIST_DIR"] else {
            throw XCTSkip("MNIST_DIR is not set: the golden MNIST run needs the real dataset (CI sets MNIST_DIR).")
        }
        try check(tool: "mnist-iml", golden: Self.goldenMNISTBF16, environment: ["MNIST_DIR": mnist], extra: ["--precision", "bf16"])
    }
}
