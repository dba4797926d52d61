import XCTest
import IMLBase
import IMLProtocol
@testable import IMLRunFiles
@testable import IMLTraining
@testable import IMLResults

final class SweepMergeCompareTests: XCTestCase {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("smc-\(UUID())")

    /// A tiny run of the toy lookup task with the given seeds.
    func run(_ seeds: [UInt64], name: String, entities: Int = 40, stages: Int = 2) throws -> String {
        var training = TrainingConfig()
        training.epochs1 = 2; training.epochs2 = 2; training.batchSize = 16; training.learningRate = 0.05
        var c = ProtocolConfig(); c.entities = entities; c.stages = stages
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

    /// Runs with different settings against a number their config.json records: one row per run,
    /// ordered by the number, the figure written, an unknown key named with the ones there are.
    func testAgainstOrdersRunsByAConfigNumberAndRefusesAMissingKey() throws {
        let big = try run([0, 1], name: "big", entities: 40), small = try run([0, 1], name: "small", entities: 30)
        let runs = try [big, small].map(FinishedRun.init(path:))
        let out = base.appendingPathComponent("against")
        try AgainstReport.write(runs, names: ["big", "small"], key: "entities", out: out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("against-entities.png").path))
        let table = try AgainstReport.table(runs, names: ["big", "small"], key: "entities")
        XCTAssertEqual(table.count, 4)
        XCTAssertTrue(table[2].hasPrefix("| 30 | 2 | ") && table[2].hasSuffix(" | small |"), table[2])
        XCTAssertTrue(table[3].hasPrefix("| 40 | 2 | ") && table[3].hasSuffix(" | big |"), table[3])
        XCTAssertTrue(table[3].contains(SweepReport.cell(runs[0].summary.imlEffect)), table[3])
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("against-entities.md"), encoding: .utf8).components(separatedBy: "\n").filter { $0.hasPrefix("|") }, table)
        XCTAssertThrowsError(try AgainstReport.table(runs, names: ["big", "small"], key: "width")) {
            let message = ($0 as? IMLError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("big records no number \"width\" in its config.json; choose one of: alpha, attributes, batch_size,"), message)
        }
        // A one-stage run is read at the end of its single stage, where its IML effect is read too.
        let oneStage = try FinishedRun(path: try run([0, 1], name: "one-stage", stages: 1))
        let row = try AgainstReport.table([oneStage], names: ["one-stage"], key: "entities")[2]
        XCTAssertEqual(row, "| 40 | 2 | \(SweepReport.cell(oneStage.summary.value(stage: 1, subset: "d1consis"))) | \(SweepReport.cell(oneStage.summary.value(stage: 1, subset: "d3consis"))) | \(SweepReport.cell(oneStage.summary.value(stage: 1, subset: "d2consis"))) | \(SweepReport.cell(oneStage.summary.value(stage: 1, subset: "no_qd_baseline"))) | \(SweepReport.cell(oneStage.summary.imlEffect)) | one-stage |")
        XCTAssertFalse(row.contains("—"), row)
        // Runs of two modalities are refused: one figure per modality.
        let other = base.appendingPathComponent("other-modality")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: small), to: other)
        for file in ["config.json", "summary.json", "metrics.jsonl"] {
            let url = other.appendingPathComponent(file)
            try (try String(contentsOf: url, encoding: .utf8)).replacingOccurrences(of: "\"toy\"", with: "\"text\"")
                .write(to: url, atomically: true, encoding: .utf8)
        }
        let mixed = [runs[0], try FinishedRun(path: other.path)]
        XCTAssertThrowsError(try AgainstReport.write(mixed, names: ["big", "other-modality"], key: "entities", out: base.appendingPathComponent("mixed"))) {
            XCTAssertEqual(($0 as? IMLError)?.message, "--against plots runs of one modality, and these are text and toy; give the runs of each modality in a call of their own.")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: base.appendingPathComponent("mixed").path))
        XCTAssertEqual(AgainstReport.compact(410158), "410k")
        XCTAssertEqual(AgainstReport.compact(1_955_324), "2.0M")
        XCTAssertEqual(AgainstReport.compact(512), "512")
    }

    /// A modality defined only in the tests (ToyModality) gets every generic output: config.json
    /// with what it says about itself, metrics, summary, curves, merge and compare.
    func testAToyModalityPlugsIntoRunMergeAndCompareUnchanged() throws {
        let a = try run([0], name: "a"), b = try run([1], name: "b")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: a + "/config.json"))) as! [String: Any]
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
        // Beside a list, a single --alpha or --batch-size is an ordinary run option, kept where it stood.
        let alpha = try SweepPlan.parse(["--seeds", "2", "--batch-size", "8", "--alpha", "0.5,1", "--quick"]).plan
        XCTAssertEqual(alpha.parameter, .alpha)
        XCTAssertEqual(alpha.values, [0.5, 1])
        XCTAssertEqual(alpha.sharedArguments, ["--seeds", "2", "--batch-size", "8", "--quick"])
        let batch = try SweepPlan.parse(["--batch-size=8,16", "--alpha=0.9"]).plan
        XCTAssertEqual(batch.parameter, .batchSize)
        XCTAssertEqual(batch.sharedArguments, ["--alpha=0.9"])
        XCTAssertEqual(message(["--alpha", "1", "--batch-size", "8"]),
                       "--alpha 1 and --batch-size 8 each give one value, so there is nothing to sweep; give the setting to sweep several values, e.g. --alpha 0.5,0.75,0.9,1.")
        XCTAssertEqual(message(["--alpha", "0.5,1", "--batch-size", "8,16"]),
                       "--alpha 0.5,1 and --batch-size 8,16 both give values to sweep, but a sweep varies one setting at a time; sweep them separately, or give one of them a single value.")
        XCTAssertEqual(message(["--alpha", "0.5,1", "--alpha", "0.7"]), "--alpha was given twice (0.5,1 and 0.7); give it once.")
        XCTAssertEqual(message(["--set", "lr=0.1,0.2", "--alpha", "0.5", "--alpha=0.7"]), "--alpha was given twice (0.5 and 0.7); give it once.")
        XCTAssertEqual(message(["--alpha"]), "--alpha needs a value.")
        // Without --set, a single --batch-size is still a sweep of one value, as it always was.
        XCTAssertEqual(try SweepPlan.parse(["--batch-size", "32"]).plan.values, [32])
    }

    func testSetSweepParsingAndValidation() throws {
        let (plan, out) = try SweepPlan.parse(["--seeds", "2", "--set", "order=vte, tve,evt", "--batch-size", "32", "--quick", "--out", "x"])
        XCTAssertEqual(plan.parameter, SweepParameter("order"))
        XCTAssertEqual(plan.values, [SweepValue("vte"), SweepValue("tve"), SweepValue("evt")])
        XCTAssertEqual(out, "x")
        // A single --batch-size beside --set is an ordinary run option, kept where it stood.
        XCTAssertEqual(plan.sharedArguments, ["--seeds", "2", "--batch-size", "32", "--quick"])
        XCTAssertEqual(plan.runArguments(SweepValue("tve"), directory: "x/order=tve"),
                       ["--seeds", "2", "--batch-size", "32", "--quick", "--order", "tve", "--out", "x/order=tve"])
        XCTAssertEqual(plan.directoryName(SweepValue("evt")), "order=evt")
        XCTAssertEqual(plan.parameter.commandLine(plan.values), "--set order=vte,tve,evt")

        // Numbers are passed as written; --set alpha=LIST is --alpha LIST.
        XCTAssertEqual(try SweepPlan.parse(["--set=lr=0.001,3e-4"]).plan.values.map(\.text), ["0.001", "3e-4"])
        XCTAssertEqual(try SweepPlan.parse(["--set", "alpha=0.50,1"]).plan, try SweepPlan.parse(["--alpha", "0.5,1"]).plan)
        XCTAssertEqual(SweepParameter.alpha.commandLine([0.5, 1]), "--alpha 0.5,1")
        // sweep.md and sweep.png state the sweep as a command that can be pasted into a shell.
        XCTAssertEqual(SweepParameter.alpha.sweepCommand(tool: "mnist-iml", values: [0.5, 1], shared: ["--seeds", "5", "--data-dir", "/my data/it's"]),
                       "mnist-iml sweep --alpha 0.5,1 --seeds 5 --data-dir '/my data/it'\\''s'")
        XCTAssertEqual(SweepParameter("hidden").sweepCommand(tool: "mnist-iml", values: [SweepValue("256,256"), SweepValue("512")], shared: []),
                       "mnist-iml sweep --set 'hidden=256,256;512'")
        XCTAssertEqual(shellWord(""), "''")
        // A value that is a list itself: values separated by ";".
        let lists = try SweepPlan.parse(["--set", "hidden=256,256;512"]).plan
        XCTAssertEqual(lists.values.map(\.text), ["256,256", "512"])
        XCTAssertEqual(lists.parameter.commandLine(lists.values), "--set 'hidden=256,256;512'")
        // A leading dash would read as an option, so it stays attached.
        XCTAssertEqual(try SweepPlan.parse(["--set", "lr=-1"]).plan.runArguments(SweepValue("-1"), directory: "d"), ["--lr=-1", "--out", "d"])

        // The tool refuses the option's name before any value is read.
        var asked: [String] = []
        XCTAssertThrowsError(try SweepPlan.parse(["--set", "frobnicate"], checkOption: { asked.append($0); throw IMLError("no") }))
        XCTAssertEqual(asked, ["frobnicate"])
        _ = try SweepPlan.parse(["--set", "--order=vte"], checkOption: { asked.append($0) })
        XCTAssertEqual(asked.last, "order")

        func message(_ args: [String]) -> String? {
            do { _ = try SweepPlan.parse(args); return nil } catch { return (error as? IMLError)?.message }
        }
        XCTAssertEqual(message(["--set", "lr=0.1", "--set", "width=64"]),
                       "--set was given 2 times (lr=0.1, width=64), but a sweep varies one option at a time; sweep them separately.")
        XCTAssertEqual(message(["--set", "lr=0.1,0.2", "--alpha", "0.5,1"]),
                       "--set lr=0.1,0.2 and --alpha 0.5,1 both give values to sweep, but a sweep varies one option at a time; sweep them separately, or give --alpha one value.")
        XCTAssertEqual(message(["--set", "lr=0.1,0.2", "--lr", "0.3"]),
                       "--set lr=0.1,0.2 and --lr 0.3 both give --lr; give it once (each run of the sweep gets one of the values listed in --set).")
        XCTAssertEqual(message(["--set", "batch-size=8,16", "--batch-size=4"]),
                       "--set batch-size=8,16 and --batch-size=4 both give --batch-size; give it once (each run of the sweep gets one of the values listed in --set).")
        XCTAssertEqual(message(["--set", "lr="]), "--set lr= lists no values; give at least one after the equals sign, e.g. --set lr=v1,v2.")
        XCTAssertEqual(message(["--set", "lr=0.1,,0.2"]),
                       "--set lr=0.1,,0.2 has an empty value (two separators in a row, or one at an end); list each value once.")
        XCTAssertEqual(message(["--set", "order"]), "--set order has no values; give them after an equals sign, e.g. --set order=v1,v2.")
        XCTAssertEqual(message(["--set", "=1,2"]), "--set takes OPTION=v1,v2,... (e.g. --set lr=0.001,0.0003), but \"=1,2\" names no option.")
        XCTAssertEqual(message(["--set", "order=vte,vte"]), "--set order lists vte twice; give each value once.")
        XCTAssertEqual(message(["--set", "lr=0.1,1e-1"]), "--set lr lists 0.1 and 1e-1, the same number; give each value once.")
        XCTAssertEqual(message(["--set", "alpha=0.5,2"]), "--alpha values must lie in [0, 1] (got 2).")
        XCTAssertEqual(message(["--set"]), "--set needs a value.")
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

    /// index.csv: a row per published run with its settings, IML effect and final EMs, from the
    /// committed files alone; a changed summary makes it stale.
    func testTheIndexHasARowPerRunFromItsCommittedFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("published-index-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        var training = TrainingConfig(); training.epochs1 = 1; training.epochs2 = 1; training.batchSize = 16
        var c = ProtocolConfig(); c.entities = 40
        var summaries: [RunSummary] = []
        for name in ["toy", "sweep/alpha=0.5"] {
            if name.hasPrefix("sweep") { c.alpha = 0.5 }
            let run = root.appendingPathComponent("results/published/" + name)
            try Experiment(modality: ToyModality(), protocolConfig: c, seeds: [0, 1], training: training, concurrency: 1)
                .run(in: try RunDirectory.create(run.path, force: false), log: { _ in })
            // As committed: summary.json's values (what a clone has).
            let file = run.appendingPathComponent(RunDirectory.summaryFile)
            summaries.append(try RunSummary(summaryJSON: Data(contentsOf: file), file: file.path))
        }
        let lines = try PublishedIndex.csv(root: root).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        let header = lines[0].split(separator: ",").map(String.init)
        XCTAssertEqual(Array(header.prefix(5)), ["run", "seeds", "modality", "stages", "entities"])
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.map { $0[0] }, ["sweep/alpha=0.5", "toy"])
        for (row, summary) in zip(rows, [summaries[1], summaries[0]]) {
            func column(_ name: String) -> String { row[header.firstIndex(of: name)!] }
            XCTAssertEqual(column("seeds"), "2")
            XCTAssertEqual(column("entities"), "40")
            XCTAssertEqual(column("iml_effect_mean"), "\(summary.imlEffect!.mean)")
            XCTAssertEqual(column("iml_effect_per_seed"), summary.imlEffect!.perSeed.map { "\($0)" }.joined(separator: ";"))
            XCTAssertEqual(column("stage2_d1consis_em"), "\(summary.stages[2]!.first { $0.0 == "d1consis" }!.1.mean)")
        }
        XCTAssertEqual(rows[0][header.firstIndex(of: "alpha")!], "0.5")
        XCTAssertFalse(try PublishedIndex.isCurrent(root: root))
        try PublishedIndex.csv(root: root).write(to: PublishedIndex.url(root: root), atomically: true, encoding: .utf8)
        XCTAssertTrue(try PublishedIndex.isCurrent(root: root))
        XCTAssertEqual(PublishedIndex.quoted("a,b"), "\"a,b\"")
        XCTAssertEqual(PublishedIndex.quoted("say \"x\""), "\"say \"\"x\"\"\"")
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
        XCTAssertEqual(try PublishedResults.stale(readme: readme, root: root), ["<!-- results: summary toy -->", "results/published/index.csv"])
        try PublishedIndex.csv(root: root).write(to: PublishedIndex.url(root: root), atomically: true, encoding: .utf8)
        XCTAssertEqual(try PublishedResults.stale(readme: readme, root: root), ["<!-- results: summary toy -->"])
        let rendered = try PublishedResults.rendered(readme: readme, root: root)
        XCTAssertEqual(rendered, "intro\n<!-- results: summary toy -->\n" + summary.table() + "\n<!-- /results -->\nend")
        XCTAssertEqual(try PublishedResults.stale(readme: rendered, root: root), [])
        // One digit of the quoted table changed by hand is caught.
        let edited = rendered.replacingOccurrences(of: "| 2 | d1consis | ", with: "| 2 | d1consis | 9")
        XCTAssertNotEqual(edited, rendered)
        XCTAssertEqual(try PublishedResults.stale(readme: edited, root: root), ["<!-- results: summary toy -->"])
        // An against block renders the same table as iml-compare --against.
        let against = "<!-- results: against entities toy -->\n<!-- /results -->"
        XCTAssertEqual(try PublishedResults.rendered(readme: against, root: root).components(separatedBy: "\n").dropFirst().dropLast(),
                       ArraySlice(try AgainstReport.table([try PublishedRun(directory: run)], names: ["toy"], key: "entities")))
        XCTAssertThrowsError(try PublishedResults.rendered(readme: "<!-- results: against entities -->\n<!-- /results -->", root: root))
        // A gaps block names its loss, and a run without that analysis says how to make it.
        func message(_ spec: String) -> String? {
            do { _ = try PublishedResults.render(spec, root: root); return nil } catch { return (error as? IMLError)?.message }
        }
        XCTAssertEqual(message("gaps sideways toy"), "README marker \"gaps sideways toy\" needs a loss (full or answer) and at least one run, e.g. gaps answer text-default.")
        XCTAssertEqual(message("gaps answer toy"),
                       "\(run.path)/analysis-answer/alignment.json is missing; analyze the run again (scripts/reproduce-results.sh toy).")
        XCTAssertEqual(message("analysis toy answered"), "README marker \"analysis toy answered\": answered is not a loss; use analysis NAME or analysis NAME answer.")
    }
}
