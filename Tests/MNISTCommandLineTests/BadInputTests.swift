import Foundation
import IMLBase
import MNIST
import ToolTestSupport
import XCTest

/// The bad-input catalogue (docs/reliability.md), checked through the built `mnist-iml`: every
/// case must print its one-line message on stderr and exit non-zero, before any training.
final class BadInputTests: ToolTestCase {
    func commands(_ directory: URL) -> [[String]] {
        [["render", "--dataset", "fashion-mnist", "--data-dir", directory.path, "--out", base.appendingPathComponent("render").path],
         ["run", "--dataset", "fashion-mnist", "--data-dir", directory.path, "--out", base.appendingPathComponent("run-\(UUID().uuidString)").path,
          "--entities", "20", "--seeds", "1", "--epochs1", "1", "--epochs2", "1"]]
    }

    func assertEveryCommandFails(on directory: URL, _ line: String, file: StaticString = #filePath, lineNumber: UInt = #line) throws {
        for command in commands(directory) { try assertFails(command, line, file: file, lineNumber: lineNumber) }
    }

    // MARK: idx files

    let images = "train-images-idx3-ubyte", labels = "train-labels-idx1-ubyte"
    let testImages = "t10k-images-idx3-ubyte", testLabels = "t10k-labels-idx1-ubyte"
    let imageBytes = 16 + 30 * 784

    func testTheValidSyntheticDatasetIsAccepted() throws {
        let data = try dataset("valid")
        let outcome = try mnistIML(commands(data)[0])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("contact-sheet.png"), outcome.stdout)
    }

    func testEmptyFile() throws {
        let data = try dataset("empty")
        try write([], data, labels)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(labels) is empty; delete it and download or copy it again")
    }

    func testTruncatedHeader() throws {
        let data = try dataset("header")
        try write(Array(try bytes(data, labels).prefix(6)), data, labels)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(labels): file truncated at byte 6, inside the 8-byte idx label header; delete it and download again")
        try write(Array(try bytes(data, images).prefix(11)), data, images)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(images): file truncated at byte 11, inside the 16-byte idx image header; delete it and download again")
    }

    func testTruncatedDataAndTrailingBytes() throws {
        let data = try dataset("truncated")
        let whole = try bytes(data, images)
        try write(Array(whole.dropLast(100)), data, images)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(images): file truncated at byte \(imageBytes - 100), the header promises \(imageBytes) bytes; delete it and download again")
        try write(whole + [0, 0, 0], data, images)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(images): file has 3 trailing bytes after the \(imageBytes) bytes the header promises; delete it and download again")
    }

    func testWrongMagicAndSwappedFiles() throws {
        let data = try dataset("magic")
        var wrong = try bytes(data, images)
        wrong[3] = 0x04
        try write(wrong, data, images)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(images): bad magic 0x00000804, expected 0x00000803 for an idx3-ubyte image file; this is not an MNIST-format file, delete it and download again")
        try write(try bytes(data, labels), data, images)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(images): this is a label file (magic 0x00000801), expected an idx3-ubyte image file (magic 0x00000803); check that the image and label files were not swapped or renamed")
    }

    func testWrongImageDimensions() throws {
        let data = try dataset("dims")
        try write(IDX.imageFileBytes(count: 30, rows: 28, cols: 27, pixels: [UInt8](repeating: 0, count: 30 * 28 * 27)), data, images)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(images): images are 28x27 pixels, expected 28x28; this is not an MNIST-format image file")
    }

    func testImageAndLabelCountsDiffer() throws {
        let data = try dataset("counts")
        try write(IDX.labelFileBytes((0..<19).map { UInt8($0 % 10) }), data, testLabels)
        try assertEveryCommandFails(on: data, "error: \(testImages) has 20 images but \(testLabels) has 19 labels (in \(data.path)); the two files must come from the same dataset, replace them with matching copies")
    }

    func testLabelAboveNine() throws {
        let data = try dataset("label")
        var bad = try bytes(data, labels)
        bad[8 + 3] = 12
        try write(bad, data, labels)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(labels): label 12 at index 3 is not a digit 0-9; this is not an MNIST label file, delete it and download again")
    }

    func testGzipGarbageTruncationAndTrailingGarbage() throws {
        let data = try dataset("gzip", gzip: true)
        let gz = images + ".gz"
        let whole = try bytes(data, gz)
        try write([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03] + [UInt8](repeating: 0xFF, count: 40), data, gz)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(gz): corrupt gzip data (invalid block type); delete it and download again")
        try write(Array(whole.prefix(whole.count / 2)), data, gz)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(gz): the gzip stream is truncated (the file ends at byte \(whole.count / 2) before the gzip end marker); delete it and download again")
        try write(whole + [1, 2, 3], data, gz)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(gz): 3 bytes of garbage after the end of the gzip data; delete it and download again")
        try write([0x12, 0x34, 0x56, 0x78] + Array(whole.dropFirst(4)), data, gz)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(gz): not a gzip stream and not a raw idx file either (bad magic 0x12345678, expected 0x00000803); delete it and download again")
    }

    func testDirectoryWhereAFileShouldBe() throws {
        let data = try dataset("directory")
        try FileManager.default.removeItem(at: data.appendingPathComponent(labels))
        try FileManager.default.createDirectory(at: data.appendingPathComponent(labels), withIntermediateDirectories: false)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(labels) is a directory, expected a file; remove the directory or point to the file itself")
    }

    func testUnreadableFile() throws {
        if getuid() == 0 {
            throw XCTSkip("running as root, which reads files whatever their permissions; the unreadable-file case needs an ordinary user")
        }
        let data = try dataset("unreadable")
        chmod(data.appendingPathComponent(labels).path, 0)
        try assertEveryCommandFails(on: data, "error: \(data.path)/\(labels) cannot be read (permission denied); fix it with: chmod a+r \(data.path)/\(labels)")
    }

    func testMissingFilesAndBadDataDirectory() throws {
        let data = try dataset("missing")
        try FileManager.default.removeItem(at: data.appendingPathComponent(testLabels))
        try assertFails(commands(data)[0], "error: Fashion-MNIST files are missing in \(data.path) (\(testLabels), each raw or .gz); install them with: sudo apt-get install dataset-fashion-mnist, or pass --data-dir or set FASHION_MNIST_DIR to a directory that holds them")
        let file = base.appendingPathComponent("a-file")
        try write([1], base, "a-file")
        try assertFails(["render", "--data-dir", file.path, "--out", base.appendingPathComponent("r").path],
                        "error: \(file.path) is a file, expected the directory holding the four MNIST files; pass --data-dir or set MNIST_DIR to a directory that holds them")
    }

    func testValidFilesThatAreNotTheOriginalMNISTFailTheChecksum() throws {
        let data = try dataset("checksum")
        let outcome = try mnistIML(["render", "--data-dir", data.path, "--out", base.appendingPathComponent("r").path])
        XCTAssertEqual(outcome.status, 1)
        let line = outcome.stderr.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(line.hasPrefix("error: \(data.path)/\(images): SHA-256 of the decompressed content is "), line)
        XCTAssertTrue(line.hasSuffix(", expected ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db (docs/PROTOCOL.md section 3); the file is damaged or not the original MNIST, delete it and download or copy it again"), line)
    }

    // MARK: Options

    func testInvalidOptions() throws {
        let cases: [([String], String)] = [
            (["run", "--seeds", "0"], "error: --seeds must be at least 1 (got 0)."),
            (["run", "--seeds=-2"], "error: --seeds must be at least 1 (got -2)."),
            (["run", "--threads", "0"], "error: --threads must be at least 1 (got 0)."),
            (["run", "--epochs1=-1"], "error: --epochs1 and --epochs2 must not be negative (got -1, 30)."),
            (["run", "--epochs1", "0", "--epochs2", "0"], "error: --epochs1 and --epochs2 are both 0: nothing to train; give at least one epoch."),
            (["run", "--batch-size", "0"], "error: --batch-size must be at least 1 (got 0)."),
            (["run", "--lr", "0"], "error: --lr must be a positive number (got 0.0)."),
            (["run", "--lr", "nan"], "error: --lr must be a positive number (got nan)."),
            (["run", "--entities", "0"], "error: --entities must be at least 1 (got 0)."),
            (["run", "--attributes", "1"], "error: --attributes must be at least 2, one to ask and one to train on (got 1)."),
            (["run", "--classes", "1"], "error: --classes must be at least 2 (got 1)."),
            (["run", "--alpha", "1.5"], "error: --alpha must lie in [0, 1] (got 1.5)."),
            (["run", "--alpha=-0.1"], "error: --alpha must lie in [0, 1] (got -0.1)."),
            (["run", "--grid", "0"], "error: --grid must be at least 1 (got 0)."),
            (["run", "--grid", "9"], "error: --grid 9 makes 252 x 256 images; use a grid of at most 8."),
            (["run", "--grid", "1", "--entities", "20"],
             "error: --grid 1 draws only 10 distinct variables (10^1 digit grids), but --entities 20 needs one per entity; use a larger --grid or fewer --entities."),
            (["render", "--per-subset", "0"], "error: --per-subset must be at least 1 (got 0)."),
            (["render", "--alpha", "2"], "error: --alpha must lie in [0, 1] (got 2.0)."),
        ]
        for (arguments, line) in cases { try assertFails(arguments, line) }
        // Parsing errors come from ArgumentParser (exit 64), first line naming the value and the choices.
        try assertFails(["run", "--dataset", "emnist"],
                        "Error: The value 'emnist' is invalid for '--dataset <dataset>'. Please provide one of 'mnist' and 'fashion-mnist'.", status: 64)
        try assertFails(["run", "--seeds", "many"], "Error: The value 'many' is invalid for '--seeds <seeds>'", status: 64)
    }

    func testOutputAndResumeDirectories() throws {
        let file = base.appendingPathComponent("a-file")
        try write([1], base, "a-file")
        try assertFails(["run", "--out", file.path], "error: The output path \(file.path) is a file, not a directory; choose another --out.")
        try assertFails(["render", "--out", file.path], "error: The output path \(file.path) is a file, not a directory; choose another --out.")
        let existing = base.appendingPathComponent("existing-run")
        try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: true)
        try write(Array("{}\n".utf8), existing, "config.json")
        try assertFails(["run", "--out", existing.path],
                        "error: The output directory \(existing.path) already holds a run; continue it with --resume \(existing.path), overwrite it with --force, or choose another --out.")
        let missing = base.appendingPathComponent("no-such-run").path
        try assertFails(["run", "--resume", missing], "error: There is no run to resume in \(missing): the directory does not exist; check the path given to --resume.")
        try assertFails(["run", "--resume", file.path], "error: --resume \(file.path) names a file, not a run directory; give the directory the run was writing to.")
        try assertFails(["run", "--resume", base.path], "error: There is no run to resume in \(base.path) (it has no config.json); check the path, or start a new run with --out \(base.path).")
        try assertFails(["run", "--resume", existing.path, "--force"],
                        "error: --force and --resume contradict each other (--force starts the run again, --resume continues it); give only one.")
        try assertFails(["run", "--resume", existing.path, "--out", missing],
                        "error: --out \(missing) and --resume \(existing.path) name different directories; a resumed run continues in its own directory, so give only --resume.")
    }

    // MARK: Ctrl-C and --resume through the tool

    func testCtrlCStopsWithTheResumeCommandAndTheResumedRunMatchesAnUninterruptedOne() throws {
        let data = try dataset("train")
        // Tiny (one-digit variables, 10 entities) so that the debug build trains it in seconds.
        let settings = ["--dataset", "fashion-mnist", "--data-dir", data.path, "--grid", "1", "--entities", "10", "--seeds", "2",
                        "--threads", "1", "--epochs1", "4", "--epochs2", "1", "--batch-size", "8"]
        let whole = base.appendingPathComponent("whole").path, stopped = base.appendingPathComponent("stopped").path
        XCTAssertEqual(try mnistIML(["run"] + settings + ["--out", whole]).status, 0)

        let outcome = try mnistIML(["run"] + settings + ["--out", stopped]) { process in
            // Ctrl-C as soon as seed 0 has saved its first epoch.
            let checkpoint = URL(fileURLWithPath: stopped).appendingPathComponent("checkpoints/seed-0.checkpoint").path
            while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint) { usleep(2_000) }
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(outcome.status, 130, outcome.stderr)
        let resumeCommand = "mnist-iml run " + settings.joined(separator: " ") + " --resume \(stopped)"
        XCTAssertTrue(outcome.stderr.hasSuffix("Stopped after the current batch; the checkpoints and the metrics so far are in \(stopped). To continue, repeat the command with --resume \(stopped) in place of --out.\n  \(resumeCommand)\n"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stopped + "/summary.json"))

        let resumed = try mnistIML(["run"] + settings + ["--resume", stopped])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try String(contentsOfFile: stopped + "/metrics.jsonl", encoding: .utf8),
                       try String(contentsOfFile: whole + "/metrics.jsonl", encoding: .utf8))
        func summary(_ path: String) throws -> [Substring] {
            try String(contentsOfFile: path + "/summary.json", encoding: .utf8).split(separator: "\n").filter { !$0.contains("wall_seconds") }
        }
        XCTAssertEqual(try summary(stopped), try summary(whole))
    }
}
