import Foundation
import IMLBase
import IMLRunFiles
import ToolTestSupport
import XCTest

// The run specification is the one source of truth: every one of its settings is an option of
// `run` (in --help), reaches config.json's "spec" when given, can be swept with --set, and a run
// resumes from config.json alone. It walks every tool's spec (mnist-iml, text-iml and set-iml) in
// one test on purpose, to show the rule holds for each tool alike, so it stays here rather than in
// each tool's own test target.
final class RunSpecTests: ToolTestCase {
    /// A run's spec as --print-spec prints it, flattened to "key" / "settings.key" -> value text.
    func printedSpec(_ arguments: [String], tool: String) throws -> [String: String] {
        let outcome = try mnistIML(["run", "--print-spec"] + arguments, tool: tool)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try Self.leaves(of: XCTUnwrap(JSON.read(Substring(outcome.stdout)).objectFields))
    }

    static func leaves(of spec: [(String, JSON)]) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in spec where key != "modality" {
            switch key {
            case "protocol", "training": for (k, v) in value.objectFields ?? [] { out[k] = v.serialized() }
            case "settings": for (k, v) in value.objectFields ?? [] { out["settings." + k] = v.serialized() }
            default: out[key] = value.serialized()
            }
        }
        return out
    }

    static func option(_ key: String) -> String {
        "--" + (key.split(separator: ".").last.map(String.init) ?? key).replacingOccurrences(of: "_", with: "-")
    }

    /// Every spec setting of each tool: given a value other than its default, that value reaches the spec
    /// (so the option is wired to it); the option is in `run --help`; `sweep --set` takes it.
    func testEverySpecSettingIsAnOptionThatReachesTheSpec() throws {
        let data = try dataset("spec-data")
        // One non-default value per setting (dataset: Fashion-MNIST is what the synthetic files are
        // read as, so its default is the one value that cannot differ here).
        let given: [String: [String]] = [
            "mnist-iml": ["--entities", "40", "--attributes", "9", "--classes", "2", "--alpha", "0.8", "--stages", "1",
                          "--tag1-fraction", "0.25", "--tag2-fraction", "0.25", "--question-only-fraction", "0.15", "--qd4consis-fraction", "0.05", "--d2incons", "true",
                          "--stage2-weights", "1,2,1,1", "--held-out-per-variable", "2", "--seed-stage2", "7",
                          "--definitions-first", "1", "--seeds", "2", "--first-seed", "3", "--epochs1", "2", "--epochs2", "1", "--batch-size", "16",
                          "--lr", "0.002", "--save-every", "1", "--design", "poster", "--grid", "3", "--handwriting", "fresh",
                          "--redraw", "every-epoch", "--loss-average", "examples", "--conv-channels", "4,8", "--hidden", "16",
                          "--dataset", "fashion-mnist", "--data-dir", data.path],
            "text-iml": ["--entities", "40", "--attributes", "4", "--classes", "3", "--alpha", "0.8", "--stages", "1",
                         "--tag1-fraction", "0.25", "--tag2-fraction", "0.25", "--question-only-fraction", "0.15", "--qd4consis-fraction", "0.05", "--d2incons", "true",
                         "--stage2-weights", "1,2,1,1", "--held-out-per-variable", "2", "--seed-stage2", "7",
                         "--definitions-first", "1", "--seeds", "2", "--first-seed", "3", "--epochs1", "2", "--epochs2", "1", "--batch-size", "16",
                         "--lr", "0.002", "--save-every", "1", "--var-length", "3", "--tag-length", "2", "--order", "tve",
                         "--layers", "1", "--width", "16", "--heads", "2", "--embedding-std", "1", "--batch-unit", "examples",
                         "--design", "named", "--name-length", "3"],
            // --classes keeps its one valid value, 2 (true or false); set inclusion has no qd4consis (three tag tokens).
            "set-iml": ["--entities", "40", "--attributes", "6", "--alpha", "0.8", "--stages", "1",
                        "--tag1-fraction", "0.25", "--tag2-fraction", "0.25", "--question-only-fraction", "0.15", "--d2incons", "true",
                        "--stage2-weights", "1,2,1,1", "--held-out-per-variable", "2", "--seed-stage2", "7",
                        "--definitions-first", "1", "--seeds", "2", "--first-seed", "3", "--epochs1", "2", "--epochs2", "1", "--batch-size", "16",
                        "--lr", "0.002", "--save-every", "1", "--numbers", "50", "--numbers-per-question", "4",
                        "--layers", "1", "--width", "16", "--heads", "2", "--embedding-std", "1", "--scored-tokens", "last", "--lists", "fixed"],
        ]
        for (tool, arguments) in given {
            let defaults = try printedSpec(tool == "mnist-iml" ? ["--data-dir", data.path] : [], tool: tool)
            let changed = try printedSpec(arguments, tool: tool)
            XCTAssertEqual(Set(defaults.keys), Set(changed.keys), tool)
            XCTAssertGreaterThan(defaults.count, 20, tool)
            let help = try mnistIML(["run", "--help"], tool: tool).stdout
            for key in defaults.keys.sorted() {
                let option = key == "seeds" ? "--seeds" : Self.option(key)
                XCTAssertTrue(help.contains(option + " "), "\(tool) run --help lacks \(option), which sets the spec's \(key)")
                if !(tool == "mnist-iml" && key == "settings.dataset") && !(tool == "set-iml" && ["classes", "qd4consis_fraction"].contains(key)) {
                    XCTAssertNotEqual(defaults[key], changed[key], "\(tool): \(option) given did not change the spec's \(key)")
                }
                let name = String(option.dropFirst(2))
                let swept = try mnistIML(["sweep", "--set", name + "="], tool: tool)
                // Taken as an option to sweep: refused only for lacking values (a list option checks them as numbers).
                XCTAssertTrue(swept.stderr.hasPrefix("error: --set \(name)= lists no values")
                              || swept.stderr.hasPrefix("error: \(option) takes a comma-separated list of numbers, and \"\" is not one"),
                              "\(tool) sweep --set \(name): \(swept.stderr)")
            }
            XCTAssertEqual(changed["seeds"], "[3,4]", tool)
        }
        // An option that sets nothing of the spec is refused by sweep with its reason.
        try assertFails(["sweep", "--set", "threads=1,2"], "error: --set threads: --threads only says where or how a run executes and is not recorded with it, so it cannot be swept; give it once beside --set.")
    }

    /// A run whose config.json has lost its recorded arguments resumes from the spec alone, to
    /// the same bytes as the run that was never interrupted; every given setting survives.
    func testResumeFromTheSpecAloneGivesTheSameBytes() throws {
        let data = try dataset("resume-spec-data")
        let whole = base.appendingPathComponent("whole"), cut = base.appendingPathComponent("cut")
        let settings = ["--dataset", "fashion-mnist", "--data-dir", data.path, "--grid", "2", "--entities", "16", "--seeds", "2",
                        "--epochs1", "2", "--epochs2", "1", "--batch-size", "8", "--alpha", "0.5", "--hidden", "12", "--threads", "1"]
        XCTAssertEqual(try mnistIML(["run"] + settings + ["--out", whole.path]).status, 0)
        try FileManager.default.copyItem(at: whole, to: cut)
        // Forget the arguments, the results and seed 1 entirely: only the spec says what to train.
        let configURL = cut.appendingPathComponent("config.json")
        let config = try JSON.read([UInt8](Data(contentsOf: configURL)))
        let withoutArguments = JSON.object(try XCTUnwrap(config.objectFields).filter { $0.0 != "arguments" })
        try Data((withoutArguments.serialized(pretty: true) + "\n").utf8).write(to: configURL)
        for file in ["summary.json", "curves.png", "curves.svg", "checkpoints/seed-1.checkpoint"] {
            try FileManager.default.removeItem(at: cut.appendingPathComponent(file))
        }
        try FileManager.default.removeItem(at: cut.appendingPathComponent("models/seed-1"))
        let resumed = try mnistIML(["run", "--resume", cut.path, "--data-dir", data.path, "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        for file in ["metrics.jsonl", "checkpoints/seed-0.checkpoint", "checkpoints/seed-1.checkpoint", "curves.png"] {
            XCTAssertEqual(try bytes(whole, file), try bytes(cut, file), file)
        }
        func summary(_ run: URL) throws -> String {
            let fields = try XCTUnwrap(JSON.read([UInt8](Data(contentsOf: run.appendingPathComponent("summary.json")))).objectFields)
            return JSON.object(fields.filter { $0.0 != "wall_seconds" }).serialized()
        }
        XCTAssertEqual(try summary(whole), try summary(cut))
        // The spec was not rewritten, and an option given beside --resume must agree with it, named as typed.
        XCTAssertEqual(try JSON.read([UInt8](Data(contentsOf: configURL))), withoutArguments)
        try assertFails(["run", "--resume", cut.path, "--data-dir", data.path, "--alpha", "1"],
                        "error: The run in \(cut.path) was made with --alpha 0.5, but this command gives --alpha 1; leave that option out to continue with the run's value, or start a new run with --out.")
    }

    /// `run --spec FILE` starts a run from a spec, alone or with options that change it.
    func testSpecFileStartsARun() throws {
        let data = try dataset("spec-file-data")
        let specFile = base.appendingPathComponent("my-spec.json")
        let printed = try mnistIML(["run", "--print-spec", "--dataset", "fashion-mnist", "--data-dir", data.path, "--grid", "2",
                                    "--entities", "12", "--seeds", "1", "--epochs1", "1", "--epochs2", "1", "--batch-size", "8"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        try Data(printed.stdout.utf8).write(to: specFile)
        let out = base.appendingPathComponent("from-spec")
        let run = try mnistIML(["run", "--spec", specFile.path, "--alpha", "0.5", "--data-dir", data.path, "--out", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let config = try JSON.read([UInt8](Data(contentsOf: out.appendingPathComponent("config.json"))))
        let spec = Self.leaves(of: try XCTUnwrap(config["spec"]?.objectFields))
        XCTAssertEqual(spec["alpha"], "0.5")
        XCTAssertEqual(spec["entities"], "12")
        XCTAssertEqual(config["arguments"]?.serialized(), #"["--seeds","1","--entities","12","--alpha","0.5","--epochs1","1","--epochs2","1","--batch-size","8","--dataset","fashion-mnist"]"#)
        try assertFails(["run", "--spec", specFile.path, "--resume", out.path], "error: --spec \(specFile.path) and --resume \(out.path) both give the run's settings; a resumed run continues with the settings it recorded, so give only --resume.")
        try assertFails(["run", "--spec", specFile.path], "error: The spec is of the mnist modality, not text; run it with mnist-iml.", tool: "text-iml")
    }
}
