import Foundation
import IMLBase
import ToolTestSupport
import XCTest

/// Text model options through the built text-iml.
final class TextOptionTests: ToolTestCase {
    func testEmbeddingStdIsRecordedAndABadOneRefused() throws {
        try assertFails(["run", "--quick", "--embedding-std", "0"], "error: --embedding-std must be a positive number (got 0.0).", tool: "text-iml")
        try assertFails(["run", "--quick", "--embedding-std", "nan"], "error: --embedding-std must be a positive number (got nan).", tool: "text-iml")
        let out = base.appendingPathComponent("embedding-1")
        let made = try mnistIML(["run", "--quick", "--entities", "20", "--seeds", "1", "--epochs1", "1", "--epochs2", "1",
                                 "--embedding-std", "1", "--out", out.path], tool: "text-iml")
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertTrue(made.stderr.contains("embeddings N(0, 1.0²)"), made.stderr)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["embedding_init_std"] as? Double, 1)
    }
}

extension TextOptionTests {
    /// A sweep pinned to a kernel restarts itself before it writes anything (it once restarted from
    /// its first run and refused its own sweep.json), and every run records the kernel.
    func testASweepWithAPinnedKernelRuns() throws {
        let out = base.appendingPathComponent("pinned-sweep")
        let outcome = try mnistIML(["sweep", "--set", "order=vet,tev", "--quick", "--entities", "20", "--seeds", "1",
                                    "--epochs1", "1", "--epochs2", "1", "--blas-core", "Haswell", "--out", out.path], tool: "text-iml")
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        for point in ["order=vet", "order=tev"] {
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(point)/config.json"))) as! [String: Any]
            XCTAssertEqual(config["blas_core"] as? String, "Haswell", point)
        }
    }
}

extension TextOptionTests {
    /// The authors' controls on text: qd4consis definitions carry letter tags of their own, and d2incons is evaluated.
    func testATinyRunEvaluatesBothControls() throws {
        let out = base.appendingPathComponent("controls")
        let made = try mnistIML(["run", "--quick", "--entities", "40", "--seeds", "1", "--epochs1", "1", "--epochs2", "1",
                                 "--qd4consis-fraction", "0.1", "--d2incons", "true", "--out", out.path], tool: "text-iml")
        XCTAssertEqual(made.status, 0, made.stderr)
        let metrics = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        for subset in ["\"subset\":\"qd4consis\"", "\"subset\":\"d2incons\""] { XCTAssertTrue(metrics.contains(subset), subset) }
        let shown = try mnistIML(["sample", "--entities", "40", "--qd4consis-fraction", "0.1", "--n", "2"], tool: "text-iml")
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertTrue(shown.stdout.contains("qd4consis definitions"), shown.stdout)
    }
}
