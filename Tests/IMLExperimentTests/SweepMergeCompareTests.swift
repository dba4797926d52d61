import XCTest
import IMLBase
import IMLProtocol
@testable import IMLExperiment

final class SweepMergeCompareTests: XCTestCase {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("smc-\(UUID())")

    /// A tiny run of the toy lookup task with the given seeds.
    func run(_ seeds: [UInt64], name: String, entities: Int = 40) throws -> String {
        var training = TrainingConfig()
        training.epochs1 = 2; training.epochs2 = 2; training.batchSize = 16; training.learningRate = 0.05
        var c = ProtocolConfig(); c.entities = entities
        let experiment = Experiment(modality: ToyModality(), protocolConfig: c, seeds: seeds, training: training, concurrency: 2)
        let path = base.appendingPathComponent(name).path
        try experiment.run(in: try RunDirectory.create(path, force: false), log: { _ in })
        return path
    }

    func testMergeOfTwoOneSeedRunsEqualsTheTwoSeedRun() throws {
        let together = try run([0, 1], name: "together")
        let a = try run([0], name: "a"), b = try run([1], name: "b")
        let merged = try Merge.merge([b, a], into: base.appendingPathComponent("merged").path, force: false)
        let reference = try FinishedRun(path: together)
        XCTAssertEqual(merged.json.serialized(), RunSummary(modality: "toy", records: reference.records, wallSeconds: merged.wallSeconds).json.serialized())
        let mergedMetrics = try String(contentsOf: URL(fileURLWithPath: base.appendingPathComponent("merged/metrics.jsonl").path), encoding: .utf8)
        XCTAssertEqual(mergedMetrics, try String(contentsOf: reference.directory.file(RunDirectory.metricsFile), encoding: .utf8))
        for file in [RunDirectory.configFile, RunDirectory.summaryFile, RunDirectory.curvesFile] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: base.appendingPathComponent("merged").appendingPathComponent(file).path))
        }
    }

    func testMergeNotesAnotherBLASKernel() throws {
        let a = try run([0], name: "a"), b = try run([1], name: "b")
        let config = URL(fileURLWithPath: b + "/config.json")
        let text = try String(contentsOf: config, encoding: .utf8)
        let line = text.split(separator: "\n").first { $0.hasPrefix("  \"blas\": ") }!
        try text.replacingOccurrences(of: String(line), with: "  \"blas\": \"OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell\",")
            .write(to: config, atomically: true, encoding: .utf8)
        var notes: [String] = []
        try Merge.merge([a, b], into: base.appendingPathComponent("m").path, force: false) { notes.append($0) }
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes.first?.hasSuffix("and b with OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell: the merged numbers are valid but not bit-identical to one run on one kernel.") == true, "\(notes)")
    }

    func testMergeRefusesDifferentSettingsAndSharedSeeds() throws {
        let a = try run([0], name: "a"), b = try run([1], name: "b", entities: 30), c = try run([0], name: "c")
        XCTAssertThrowsError(try Merge.merge([a, b], into: base.appendingPathComponent("m1").path, force: false)) {
            XCTAssertEqual(($0 as? IMLError)?.message, "Cannot merge a and b: their setting \"entities\" differs (40 vs 30); merge only runs of the same settings.")
        }
        XCTAssertThrowsError(try Merge.merge([a, c], into: base.appendingPathComponent("m2").path, force: false)) {
            XCTAssertEqual(($0 as? IMLError)?.message, "Seed 0 is in both a and c; merge runs of different seeds.")
        }
    }

    func testCompareWritesBothFilesAndRefusesNonRuns() throws {
        let a = try run([0, 1], name: "a"), b = try run([2], name: "b")
        let out = base.appendingPathComponent("cmp").path
        try Comparison.compare([a, b], out: out)
        let md = try String(contentsOfFile: out + "/comparison.md", encoding: .utf8)
        XCTAssertTrue(md.contains("| | a | b |"))
        XCTAssertTrue(md.contains("**IML effect (d1consis − d2consis)**"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/comparison.png"))
        XCTAssertThrowsError(try Comparison.compare([base.path], out: out)) {
            XCTAssertEqual(($0 as? IMLError)?.message, "\(self.base.path) is not a finished run: it has no config.json; give a directory that a completed run wrote.")
        }
    }

    /// A modality defined only in the tests (ToyModality) gets every generic output: config.json
    /// with what it says about itself, metrics, summary, curves, merge and compare.
    func testAToyModalityPlugsIntoRunMergeAndCompareUnchanged() throws {
        let a = try run([0], name: "a"), b = try run([1], name: "b")
        let config = try JSON.parse(Data(contentsOf: URL(fileURLWithPath: a + "/config.json"))) as! [String: Any]
        XCTAssertEqual(config["modality"] as? String, "toy")
        XCTAssertEqual(config["title"] as? String, "Toy")
        XCTAssertEqual(config["chance"] as? Double, 0.25)
        XCTAssertEqual(config["compared_settings"] as? [String], ["features"])
        XCTAssertEqual(config["features"] as? Int, 160, "read from the built task")
        XCTAssertEqual(config["entities"] as? Int, 40)
        XCTAssertEqual(config["tag1_fraction"] as? Double, 0.3)
        for file in ["metrics.jsonl", "summary.json", "curves.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: a + "/" + file), file)
        }
        let merged = base.appendingPathComponent("merged").path
        XCTAssertEqual(try Merge.merge([a, b], into: merged, force: false).seeds, [0, 1])
        XCTAssertTrue(FileManager.default.fileExists(atPath: merged + "/curves.png"))
        let out = base.appendingPathComponent("cmp").path
        try Comparison.compare([merged, a], out: out)
        let md = try String(contentsOfFile: out + "/comparison.md", encoding: .utf8)
        XCTAssertTrue(md.contains("| modality | toy | toy |"), md)
        XCTAssertTrue(md.contains("| features | 160 | 160 |"), md)
        XCTAssertTrue(md.contains("| seeds | 2 | 1 |"), md)
    }

    func testSweepValueParsingAndValidation() throws {
        let (plan, out) = try SweepPlan.parse(["--seeds", "2", "--alpha", "0.5,0.75, 1", "--out", "x"])
        XCTAssertEqual(plan.parameter, .alpha)
        XCTAssertEqual(plan.values, [0.5, 0.75, 1])
        XCTAssertEqual(out, "x")
        XCTAssertEqual(plan.runArguments(0.75, directory: "x/alpha=0.75"), ["--seeds", "2", "--alpha", "0.75", "--out", "x/alpha=0.75"])
        XCTAssertEqual(plan.directoryName(1), "alpha=1")
        XCTAssertEqual(try SweepPlan.parse(["--batch-size=8,16"]).plan.values, [8, 16])
        func message(_ args: [String]) -> String? {
            do { _ = try SweepPlan.parse(args); return nil } catch { return (error as? IMLError)?.message }
        }
        XCTAssertEqual(message(["--alpha", "0.5,1.5"]), "--alpha values must lie in [0, 1] (got 1.5).")
        XCTAssertEqual(message(["--batch-size", "8,12.5"]), "--batch-size values must be positive integers (got 12.5).")
        XCTAssertEqual(message(["--batch-size", "8,,16"]), "--batch-size takes a comma-separated list of numbers, and \"\" is not one.")
        XCTAssertEqual(message(["--alpha", "1,1"]), "--alpha lists 1 twice; give each value once.")
        XCTAssertNotNil(message(["--seeds", "3"]))
        XCTAssertNotNil(message(["--alpha", "1", "--batch-size", "8"]))
        XCTAssertEqual(message(["--alpha"]), "--alpha needs a value.")
    }
}

final class PublishedResultsTests: XCTestCase {
    /// The repository's README: every results table equals what its committed runs give.
    func testReadmeTablesMatchTheCommittedRuns() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let stale = try PublishedResults.stale(readme: readme, root: root)
        XCTAssertEqual(stale, [], "README tables differ from results/published; render them with `swift run iml-compare --readme README.md` after rerunning with scripts/reproduce-results.sh")
    }

    /// A block is rendered from the committed summary, and a changed number makes it stale.
    func testABlockIsRenderedFromTheSummaryAndAChangeIsCaught() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("published-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("results/published/toy")
        var training = TrainingConfig(); training.epochs1 = 1; training.epochs2 = 1; training.batchSize = 16
        var c = ProtocolConfig(); c.entities = 40
        let summary = try Experiment(modality: ToyModality(), protocolConfig: c, seeds: [0, 1], training: training, concurrency: 1)
            .run(in: try RunDirectory.create(run.path, force: false), log: { _ in })
        let readme = "intro\n<!-- results: summary toy -->\nold\n<!-- /results -->\nend"
        XCTAssertEqual(try PublishedResults.stale(readme: readme, root: root), ["<!-- results: summary toy -->"])
        let rendered = try PublishedResults.rendered(readme: readme, root: root)
        XCTAssertEqual(rendered, "intro\n<!-- results: summary toy -->\n" + summary.table() + "\n<!-- /results -->\nend")
        XCTAssertEqual(try PublishedResults.stale(readme: rendered, root: root), [])
        // One digit of the quoted table changed by hand is caught.
        let edited = rendered.replacingOccurrences(of: "| 2 | d1consis | ", with: "| 2 | d1consis | 9")
        XCTAssertNotEqual(edited, rendered)
        XCTAssertEqual(try PublishedResults.stale(readme: edited, root: root), ["<!-- results: summary toy -->"])
    }
}
