import Foundation
import IMLBase
import IMLRunFiles
import ToolTestSupport
import XCTest

/// The run-file catalogue (docs/reliability.md, "Run files"), through the built tools: every
/// damaged config.json, metrics.jsonl, summary.json or checkpoint handed to `run --resume`,
/// `merge` or `iml-compare` gets its one-line message and exit status 1, and no file changes.
final class RunFileTests: ToolTestCase {
    // MARK: config.json

    func testDamagedConfigIsRefusedByResumeMergeAndCompare() throws {
        let f = try runFixtures()
        let fix = "the run directory is damaged: restore config.json from a copy of the run, or start a new run."
        let cases: [(String, (URL) throws -> Void, String)] = [
            ("empty", { try Data().write(to: $0) }, "is empty; \(fix)"),
            ("truncated", { try self.setLines($0, Array(try self.lines($0).prefix(3))) },
             "is truncated (the text ends inside an object); \(fix)"),
            ("garbage", { try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A]).write(to: $0) },
             "is not valid JSON (unexpected character 0x89 at byte 0); \(fix)"),
            ("not an object", { try Data("[1, 2]\n".utf8).write(to: $0) }, "holds an array, not a JSON object; \(fix)"),
            ("wrong type", { try self.edit($0) { $0.replacingOccurrences(of: "\"epochs1\": 3", with: "\"epochs1\": \"3\"") } },
             "has \"epochs1\": \"3\", expected a whole number of at least 0; \(fix)"),
            ("missing key", { try self.edit($0) { $0.replacingOccurrences(of: "  \"seeds\": [0, 1],\n", with: "") } },
             "has no \"seeds\"; \(fix)"),
            ("infinite number", { try self.edit($0) { $0.replacingOccurrences(of: "\"lr\": 0.001", with: "\"lr\": 1e999") } },
             "has \"lr\": an infinite number, expected a finite number; \(fix)"),
            ("NaN written as null", { try self.edit($0) { $0.replacingOccurrences(of: "\"alpha\": 1,", with: "\"alpha\": null,") } },
             "has \"alpha\": null, expected a finite number; \(fix)"),
            ("a seed twice", { try self.edit($0) { $0.replacingOccurrences(of: "\"seeds\": [0, 1]", with: "\"seeds\": [0, 0]") } },
             "lists seed 0 twice in \"seeds\"; \(fix)"),
        ]
        for (name, damage, message) in cases {
            let run = try copy(f.finished, "config-\(name)")
            let config = run.appendingPathComponent("config.json")
            try damage(config)
            try assertEveryReaderRefuses(run, "\(config.path) \(message)")
        }
    }

    func testResumeRefusesAConfigWithoutSpecOrArguments() throws {
        let f = try runFixtures()
        let run = try copy(f.killed, "no-spec")
        let config = run.appendingPathComponent("config.json")
        let fields = try XCTUnwrap(JSON.read([UInt8](Data(contentsOf: config))).objectFields)
        try Data(JSON.object(fields.filter { $0.0 != "arguments" && $0.0 != "spec" }).serialized(pretty: true).utf8).write(to: config)
        try assertRefused(["run", "--resume", run.path, "--data-dir", f.data.path],
                          "error: \(config.path) records neither the run's spec nor its arguments (an older version made it); use that version, or start a new run with --out.",
                          leaving: run)
    }

    // MARK: metrics.jsonl

    func testDamagedMetricsAreRefusedByMergeAndCompare() throws {
        let f = try runFixtures()
        let metrics = try lines(f.finished.appendingPathComponent("metrics.jsonl"))
        // Seed 1 has lines 39 to 76; its stage-2 epoch 1 is the last four (train_loss, then three subsets).
        XCTAssertEqual(metrics.count, 76)
        XCTAssertTrue(metrics[72].hasPrefix(#"{"seed":1,"stage":2,"epoch":1,"train_loss":"#), metrics[72])
        func fix(_ run: URL) -> String {
            "restore metrics.jsonl from a copy of the run, or rewrite it from the run's checkpoints with `run --resume \(run.path)`."
        }
        let cases: [(String, ([String]) -> Data, String)] = [
            ("empty", { _ in Data() }, "is empty"),
            ("truncated", { lines in Data((lines.joined(separator: "\n") + "\n").utf8.dropLast(20)) },
             "ends inside line 76 (it is truncated or its last line lacks a line break)"),
            ("garbage", { lines in Data((lines.prefix(2).joined(separator: "\n") + "\n\u{1}\u{2}garbage\n").utf8) },
             ": line 3 is not a metrics record (it is not valid JSON: unexpected character 0x01 at byte 0)"),
            ("wrong type", { lines in Self.data(lines, replacing: 2, #"{"seed":0,"stage":1,"epoch":"0","subset":"qd2incons","em":0,"n":3}"#) },
             #": line 2 is not a metrics record (its "epoch" is "0", expected a whole number of at least 0)"#),
            ("missing key", { lines in Self.data(lines, replacing: 2, #"{"seed":0,"stage":1,"epoch":0,"subset":"qd2incons","em":0}"#) },
             #": line 2 is not a metrics record (it has no "n")"#),
            ("NaN written as null", { lines in Self.data(lines, replacing: 2, #"{"seed":0,"stage":1,"epoch":0,"subset":"qd2incons","em":null,"n":3}"#) },
             #": line 2 is not a metrics record (its "em" is null, expected a number in [0, 1])"#),
            ("infinite number", { lines in Self.data(lines, replacing: 73, #"{"seed":1,"stage":2,"epoch":1,"train_loss":1e999}"#) },
             #": line 73 is not a metrics record (its "train_loss" is an infinite number, expected a finite number of at least 0)"#),
            ("seed not in config.json", { lines in Self.data(lines, replacing: 2, #"{"seed":7,"stage":1,"epoch":0,"subset":"qd2incons","em":0,"n":3}"#) },
             ": line 2 holds seed 7, which config.json does not list (seeds 0, 1)"),
            ("duplicate epoch", { lines in Data((lines + [lines[40]]).map { $0 + "\n" }.joined().utf8) },
             ": line 77 repeats the record of seed 1, stage 1, epoch 0, subset qd2incons_defined (first on line 41)"),
            ("missing epoch", { lines in Data(lines.dropLast(4).map { $0 + "\n" }.joined().utf8) },
             ": the record of seed 1, stage 2, epoch 1, subset d1consis is missing"),
        ]
        for (name, damage, problem) in cases {
            let run = try copy(f.finished, "metrics-\(name)")
            let file = run.appendingPathComponent("metrics.jsonl")
            try damage(metrics).write(to: file)
            let separator = problem.hasPrefix(":") ? "" : " "
            try assertEveryReaderRefuses(run, "\(file.path)\(separator)\(problem); \(fix(run))", resume: false)
        }
    }

    static func data(_ lines: [String], replacing number: Int, _ line: String) -> Data {
        var lines = lines
        lines[number - 1] = line
        return Data(lines.map { $0 + "\n" }.joined().utf8)
    }

    // MARK: summary.json

    func testSummaryThatDisagreesWithItsMetricsOrIsDamagedIsRefused() throws {
        let f = try runFixtures()
        let fix = "one of the two was edited or damaged: rewrite both from the run's checkpoints with `run --resume RUN`, or restore them from a copy of the run."
        let summary = try String(contentsOf: f.finished.appendingPathComponent("summary.json"), encoding: .utf8)
        let firstMean = try XCTUnwrap(summary.split(separator: "\n").first { $0.contains("\"mean\"") })
        let cases: [(String, (URL) throws -> Void, String)] = [
            ("empty", { try Data().write(to: $0) }, "is empty"),
            ("truncated", { try Data(summary.utf8.prefix(100)).write(to: $0) }, "is truncated (the text ends inside an object)"),
            ("garbage", { try Data("mean = 0.5\n".utf8).write(to: $0) }, "is not valid JSON (unexpected character 'm' at byte 0)"),
            ("edited mean", { try self.edit($0) { $0.replacingOccurrences(of: firstMean, with: "        \"mean\": 0.99,") } },
             "disagrees with metrics.jsonl at stage1.qd1consis.mean (0.99 there, \(firstMean.split(separator: " ").last!.dropLast()) from the metrics)"),
            ("a seed missing", { try self.edit($0) { $0.replacingOccurrences(of: "\"seeds\": [0, 1]", with: "\"seeds\": [0]") } },
             "disagrees with metrics.jsonl at seeds ([0] there, [0,1] from the metrics)"),
            ("wrong type", { try self.edit($0) { $0.replacingOccurrences(of: "\"modality\": \"mnist\"", with: "\"modality\": 1") } },
             "disagrees with metrics.jsonl at modality (1 there, \"mnist\" from the metrics)"),
        ]
        for (name, damage, problem) in cases {
            let run = try copy(f.finished, "summary-\(name)")
            let file = run.appendingPathComponent("summary.json")
            try damage(file)
            try assertEveryReaderRefuses(run, "\(file.path) \(problem); \(fix.replacingOccurrences(of: "RUN", with: run.path))", resume: false)
        }
        let run = try copy(f.finished, "summary-missing")
        try FileManager.default.removeItem(at: run.appendingPathComponent("summary.json"))
        try assertEveryReaderRefuses(run, "\(run.path) is not a finished run: it has no summary.json; give a directory that a completed run wrote.", resume: false)
    }

    // MARK: checkpoints

    /// FNV-1a of the checkpoint format, to forge a checkpoint that passes its checksum.
    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// The checkpoint's text lines (format line, header, records) and its payload.
    static func split(_ checkpoint: Data) throws -> (lines: [String], payload: Data) {
        let bytes = [UInt8](checkpoint)
        var lines: [String] = [], cursor = 0
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes.split(separator: 0x0A)[1])) as? [String: Any])
        let count = 2 + (header["records"] as! Int)
        while lines.count < count {
            let end = bytes[cursor...].firstIndex(of: 0x0A)!
            lines.append(String(decoding: bytes[cursor..<end], as: UTF8.self))
            cursor = end + 1
        }
        return (lines, Data(bytes[cursor...]))
    }

    static func join(_ lines: [String], _ payload: Data) -> Data { Data(lines.map { $0 + "\n" }.joined().utf8) + payload }

    func testDamagedCheckpointsAreRefusedByResume() throws {
        let f = try runFixtures()
        let unfinished = try Data(contentsOf: f.killed.appendingPathComponent("checkpoints/seed-0.checkpoint"))
        let (lines, payload) = try Self.split(unfinished)
        XCTAssertTrue(lines[1].contains("\"finished\":false"), lines[1])
        let fix = "delete it to train that seed again from the start."
        // One tensor 1 value shorter, header and checksum made to match: a model of another size.
        var header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        var tensors = header["tensors"] as! [[Any]]
        let firstTensor = tensors[0][0] as! String, firstCount = tensors[0][1] as! Int
        tensors[0][1] = firstCount - 1
        let orderBytes = 4 * (header["order_count"] as! Int)
        var smaller = payload
        smaller.removeSubrange(payload.startIndex + orderBytes + 4 * (firstCount - 1) ..< payload.startIndex + orderBytes + 4 * firstCount)
        header["tensors"] = tensors
        header["payload_bytes"] = smaller.count
        header["payload_fnv1a"] = String(Self.fnv1a(smaller), radix: 16)
        let smallerHeader = String(decoding: try JSONSerialization.data(withJSONObject: header), as: UTF8.self)
        let recordLine = lines[2]
        let cases: [(String, Data, String)] = [
            ("empty", Data(), "The checkpoint CHECKPOINT is empty; \(fix)"),
            ("truncated", unfinished.dropLast(1000), "The checkpoint CHECKPOINT is damaged (the payload has \(payload.count - 1000) bytes, the header promises \(payload.count)); \(fix)"),
            ("garbage", Data("\u{0}\u{1}binary\n".utf8) + payload,
             "CHECKPOINT is not a checkpoint of this program (its first line is not \"IML checkpoint 1\"); \(fix)"),
            ("another format version", Self.join(["IML checkpoint 2"] + lines.dropFirst(), payload),
             "The checkpoint CHECKPOINT is in format version 2, but this program reads version 1; continue the run with the version of the program that wrote it, or \(fix)"),
            ("a flipped payload byte", { var d = unfinished; d[d.count - 5] ^= 0x40; return d }(),
             "The checkpoint CHECKPOINT is damaged (the payload checksum does not match); \(fix)"),
            ("wrong type in the header", Self.join([lines[0], lines[1].replacingOccurrences(of: "\"epochs_done\":1", with: "\"epochs_done\":\"1\"")] + lines.dropFirst(2), payload),
             "The checkpoint CHECKPOINT is damaged (no epochs_done); \(fix)"),
            ("NaN in a record", Self.join(Array(lines.prefix(2)) + [recordLine.replacingOccurrences(of: #""em":[^,]*"#, with: #""em":null"#, options: .regularExpression)] + lines.dropFirst(3), payload),
             "The checkpoint CHECKPOINT is damaged (its metrics record 1 cannot be read: its \"em\" is null, expected a number in [0, 1]); \(fix)"),
            ("a record of another seed", Self.join(Array(lines.prefix(2)) + [recordLine.replacingOccurrences(of: "\"seed\":0", with: "\"seed\":1")] + lines.dropFirst(3), payload),
             "The checkpoint CHECKPOINT is damaged (its metrics record 1 cannot be read: it is of seed 1, not 0); \(fix)"),
            ("a duplicate epoch", Self.join(Array(lines.prefix(3)) + [recordLine] + lines.dropFirst(4), payload),
             "The checkpoint CHECKPOINT is damaged (line 4 repeats the record of seed 0, stage 1, epoch 0, subset qd1consis (first on line 3)); delete it to train seed 0 again from the start."),
            ("a missing epoch", Self.join([lines[0], lines[1].replacingOccurrences(of: "\"records\":\(lines.count - 2)", with: "\"records\":\(lines.count - 3)")] + lines.dropFirst(2).dropLast(), payload),
             "The checkpoint CHECKPOINT is damaged (the record of seed 0, stage 1, epoch 1, subset \(Self.subset(lines.last!)) is missing); delete it to train seed 0 again from the start."),
            ("another model size", Self.join([lines[0], smallerHeader] + lines.dropFirst(2), smaller),
             "The checkpoint CHECKPOINT holds a model of another size (its tensor \(firstTensor) has \(firstCount - 1) values, these settings build \(firstTensor) with \(firstCount)); it comes from a run of other settings: delete it to train seed 0 again from the start."),
        ]
        for (name, bytes, message) in cases {
            let run = try copy(f.killed, "checkpoint-\(name)")
            let checkpoint = run.appendingPathComponent("checkpoints/seed-0.checkpoint")
            try bytes.write(to: checkpoint)
            try assertRefused(["run", "--resume", run.path, "--data-dir", f.data.path],
                              "error: " + message.replacingOccurrences(of: "CHECKPOINT", with: checkpoint.path), leaving: run)
        }
        // A finished seed's checkpoint copied over another seed's.
        let run = try copy(f.finished, "checkpoint-other-seed")
        let checkpoint = run.appendingPathComponent("checkpoints/seed-1.checkpoint")
        try FileManager.default.removeItem(at: checkpoint)
        try FileManager.default.copyItem(at: run.appendingPathComponent("checkpoints/seed-0.checkpoint"), to: checkpoint)
        try assertRefused(["run", "--resume", run.path, "--data-dir", f.data.path],
                          "error: The checkpoint \(checkpoint.path) belongs to seed 0, not 1; delete it to train seed 1 again from the start.", leaving: run)
    }

    static func subset(_ line: String) -> String {
        let json = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        return json["subset"] as! String
    }

    // MARK: Options added with the shared option surface

    func testStageFractionsAndSeedOptionsAreValidated() throws {
        let cases: [([String], String)] = [
            (["--tag1-fraction", "1.5"], "error: --tag1-fraction must lie in [0, 1] (got 1.5)."),
            (["--tag1-fraction", "nan"], "error: --tag1-fraction must lie in [0, 1] (got nan)."),
            (["--tag2-fraction=-0.1"], "error: --tag2-fraction must lie in [0, 1] (got -0.1)."),
            (["--question-only-fraction", "2"], "error: --question-only-fraction must lie in [0, 1] (got 2.0)."),
            (["--tag1-fraction", "0.5", "--tag2-fraction", "0.5", "--question-only-fraction", "0.1"],
             "error: --tag1-fraction, --tag2-fraction and --question-only-fraction sum to 1.1, over 1; lower them so that their sum is at most 1."),
            (["--seed-stage2", "9223372036854775808"], "error: --seed-stage2 must be at most 9223372036854775807 (got 9223372036854775808)."),
            (["--first-seed", "9223372036854775807", "--seeds", "2"],
             "error: --first-seed 9223372036854775807 with --seeds 2 goes past the largest seed, 9223372036854775807; use a smaller --first-seed."),
        ]
        for (arguments, line) in cases {
            for tool in ["mnist-iml", "text-iml"] {
                let outcome = try mnistIML(["run"] + arguments + ["--out", base.appendingPathComponent("never").path], tool: tool)
                XCTAssertEqual(outcome.status, 1, "\(tool) run \(arguments.joined(separator: " ")): \(outcome.stderr)")
                XCTAssertEqual(outcome.stderr.split(separator: "\n").first.map(String.init), line, "\(tool) run \(arguments.joined(separator: " "))")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: base.appendingPathComponent("never").path))
        try assertFails(["run", "--seed-stage2", "first"], "Error: The value 'first' is invalid for '--seed-stage2 <seed-stage2>'", status: 64)
        try assertFails(["run", "--seed-stage2=-1"], "Error: The value '-1' is invalid for '--seed-stage2 <seed-stage2>'", status: 64)
    }

    // MARK: Two writers

    func testASecondWriterIsRefusedNamingTheProcessAndTheClaimDiesWithIt() throws {
        let f = try runFixtures()
        let out = base.appendingPathComponent("busy")
        for ending in ["Ctrl-C", "SIGKILL"] {
            try? FileManager.default.removeItem(at: out)
            var refusals: [Outcome] = []
            let first = try mnistIML(["run"] + tinyRun(f.data) + ["--threads", "1", "--out", out.path]) { process in
                let checkpoint = out.appendingPathComponent("checkpoints/seed-0.checkpoint").path
                while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint) { usleep(1_000) }
                kill(process.processIdentifier, SIGSTOP)  // held still, mid-run, while the others try
                for arguments in [["run", "--resume", out.path, "--data-dir", f.data.path],
                                  ["run"] + self.tinyRun(f.data) + ["--out", out.path, "--force"],
                                  ["run"] + self.tinyRun(f.data) + ["--out", out.path]] {
                    refusals.append(try! self.mnistIML(arguments))
                }
                let pid = process.processIdentifier
                let expected = "error: The run in \(out.path) is in progress in process \(pid) (mnist-iml), which holds \(out.path)/.lock; wait for it to end or stop it (kill -INT \(pid) stops it and saves its checkpoints), then try again."
                for refusal in refusals {
                    XCTAssertEqual(refusal.status, 1, refusal.stderr)
                    XCTAssertEqual(refusal.stderr, expected + "\n")
                }
                kill(pid, ending == "Ctrl-C" ? SIGINT : SIGKILL)
                kill(pid, SIGCONT)
            }
            XCTAssertEqual(first.status, ending == "Ctrl-C" ? 130 : 128 + SIGKILL, first.stderr)
            // The claim ended with the process: the run continues, to the same numbers.
            let resumed = try mnistIML(["run", "--resume", out.path, "--data-dir", f.data.path])
            XCTAssertEqual(resumed.status, 0, "after \(ending): \(resumed.stderr)")
            XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8),
                           try String(contentsOf: f.finished.appendingPathComponent("metrics.jsonl"), encoding: .utf8), ending)
        }
        // ...and with a normal exit.
        XCTAssertEqual(try mnistIML(["run", "--resume", out.path, "--data-dir", f.data.path]).status, 0)
    }

    // MARK: Full disk

    func testAFullDiskStopsTheRunNamingTheFileAndResumeGivesTheSameBytes() throws {
        guard getuid() == 0 else {
            print("skipped: mounting the small tmpfs this test fills needs root")
            throw XCTSkip("mounting the small tmpfs this test fills needs root")
        }
        let f = try runFixtures()
        let disk = base.appendingPathComponent("small-disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        let mount = try Self.command("/bin/mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", disk.path])
        guard mount.status == 0 else {
            print("skipped: cannot mount a tmpfs here (\(mount.output.trimmingCharacters(in: .whitespacesAndNewlines)))")
            throw XCTSkip("cannot mount a tmpfs here: \(mount.output)")
        }
        addTeardownBlock { _ = try? Self.command("/bin/umount", ["-l", disk.path]) }
        let out = disk.appendingPathComponent("run"), filler = disk.appendingPathComponent("filler")
        let outcome = try mnistIML(["run"] + tinyRun(f.data) + ["--threads", "1", "--out", out.path]) { process in
            // The disk fills up once seed 0 has saved its first epoch.
            let checkpoint = out.appendingPathComponent("checkpoints/seed-0.checkpoint").path
            while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint) { usleep(1_000) }
            let fd = open(filler.path, O_WRONLY | O_CREAT, 0o644)
            let block = [UInt8](repeating: 0, count: 1 << 16)
            while Glibc.write(fd, block, block.count) > 0 {}
            close(fd)
        }
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        let line = outcome.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(line.hasPrefix("error: Cannot write \(out.path)/"), line)
        XCTAssertTrue(line.hasSuffix(" (no space left on device); the last good checkpoints stay whole in \(out.path)/checkpoints: free space on that disk, then continue the run with --resume \(out.path)."), line)
        let left = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("checkpoints").path)
        XCTAssertEqual(left, ["seed-0.checkpoint"], "no temporary file is left behind")
        try FileManager.default.removeItem(at: filler)
        let resumed = try mnistIML(["run", "--resume", out.path, "--data-dir", f.data.path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        for file in ["metrics.jsonl", "curves.png"] {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(file)), try Data(contentsOf: f.finished.appendingPathComponent(file)), file)
        }
        func summary(_ run: URL) throws -> [Substring] {
            try String(contentsOf: run.appendingPathComponent("summary.json"), encoding: .utf8).split(separator: "\n").filter { !$0.contains("wall_seconds") }
        }
        XCTAssertEqual(try summary(out), try summary(f.finished))
    }

    static func command(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outcome = try ChildProcess.run(path, arguments, timeout: 60, stderrToStdout: true)
        return (outcome.status, outcome.stdout)
    }

    // MARK: Sweeps

    func testAKilledSweepContinuesWithSweepResumeToTheSameBytes() throws {
        let f = try runFixtures()
        var settings = tinyRun(f.data)
        settings.removeSubrange(settings.firstIndex(of: "--batch-size")!...settings.firstIndex(of: "--batch-size")! + 1)
        let sweep = ["sweep", "--batch-size", "8,16"] + settings + ["--threads", "1"]
        let whole = base.appendingPathComponent("whole-sweep"), killed = base.appendingPathComponent("killed-sweep")
        let uninterrupted = try mnistIML(sweep + ["--out", whole.path])
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.stderr)
        let outcome = try mnistIML(sweep + ["--out", killed.path]) { process in
            // Killed inside the second value, once its seed 0 has saved an epoch.
            let checkpoint = killed.appendingPathComponent("batch-size=16/checkpoints/seed-0.checkpoint").path
            while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint) { usleep(1_000) }
            kill(process.processIdentifier, SIGKILL)
        }
        XCTAssertEqual(outcome.status, 128 + SIGKILL)
        XCTAssertFalse(FileManager.default.fileExists(atPath: killed.appendingPathComponent("batch-size=16/summary.json").path))
        let resumed = try mnistIML(["sweep", "--resume", killed.path, "--data-dir", f.data.path, "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("== batch-size = 8: finished, kept ==\n"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("== batch-size = 16: resuming ==\n"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming \(killed.path)/batch-size=16"), "the value in progress continues from its checkpoints")
        for file in ["sweep.md", "sweep.png", "sweep.json", "batch-size=8/metrics.jsonl", "batch-size=16/metrics.jsonl", "batch-size=16/curves.png"] {
            XCTAssertEqual(try Data(contentsOf: killed.appendingPathComponent(file)), try Data(contentsOf: whole.appendingPathComponent(file)), file)
        }
    }

    func testSweepResumeRefusals() throws {
        let f = try runFixtures()
        let missing = base.appendingPathComponent("no-sweep")
        try assertFails(["sweep", "--resume", missing.path], "error: There is no sweep to resume in \(missing.path): the directory does not exist; check the path given to --resume.")
        try assertFails(["sweep", "--resume", f.finished.path],
                        "error: There is no sweep to resume in \(f.finished.path) (it has no sweep.json); check the path, or start a new sweep with --out \(f.finished.path).")
        let sweep = base.appendingPathComponent("sweep")
        try FileManager.default.createDirectory(at: sweep, withIntermediateDirectories: true)
        let record = sweep.appendingPathComponent("sweep.json")
        try Data("{\"arguments\": [\"--alpha\", \"1\"\n".utf8).write(to: record)
        try assertFails(["sweep", "--resume", sweep.path],
                        "error: \(record.path) is truncated (the text ends inside an array); restore it from a copy, or start a new sweep with --out.")
        try Data("{\"arguments\": [\"--alpha\", \"1\"]}\n".utf8).write(to: record)
        try assertFails(["sweep", "--resume", sweep.path, "--alpha", "0.5"],
                        "error: sweep --resume \(sweep.path) continues the sweep with the settings recorded in \(record.path), so it takes only --threads, --blas-core and --data-dir beside it (got --alpha 0.5).")
        try assertFails(["sweep", "--alpha", "1", "--out", sweep.path],
                        "error: The directory \(sweep.path) already holds a sweep; continue it with sweep --resume \(sweep.path), overwrite it with --force, or choose another --out.")
    }
}
