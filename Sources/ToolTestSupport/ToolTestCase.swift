// What the command-line tests share: a scratch directory per test, the built tools, a tiny
// synthetic MNIST, the one-sentence refusal check, and tiny runs made once per test process.
// Each test file is its own ToolTestCase named for what it tests.

import Foundation
import IMLBase
import MNIST
import XCTest

open class ToolTestCase: XCTestCase {
    public var base: URL!

    open override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("bad-input-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        addTeardownBlock { [base] in try? FileManager.default.removeItem(at: base!) }
    }

    // MARK: Helpers

    /// A built tool (mnist-iml, text-iml) next to the test bundle (swift build / swift test build every product).
    public static func tool(_ name: String) throws -> URL {
        for directory in [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()] {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw IMLError("\(name) is not built next to the test bundle in \(Bundle.main.bundleURL.path); run swift build first.")
    }

    public struct Outcome { public var status: Int32; public var stdout: String; public var stderr: String }

    /// Runs mnist-iml (or `tool`) with `arguments` (in `base`, MNIST_DIR unset) and waits for it.
    @discardableResult
    public func mnistIML(_ arguments: [String], tool: String = "mnist-iml", environment extra: [String: String] = [:],
                  until: ((ChildProcess) -> Void)? = nil) throws -> Outcome {
        var environment = ProcessInfo.processInfo.environment
        environment["MNIST_DIR"] = nil
        environment.merge(extra) { $1 }
        let out = base.appendingPathComponent("stdout-\(UUID().uuidString)"), err = base.appendingPathComponent("stderr-\(UUID().uuidString)")
        let process = try ChildProcess(try Self.tool(tool).path, arguments, environment: environment, directory: base.path,
                                       stdout: .file(out.path), stderr: .file(err.path))
        until?(process)
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                       stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// Asserts that the command fails with exit status `status` and `line` as its first stderr line.
    public func assertFails(_ arguments: [String], _ line: String, status: Int32 = 1, tool: String = "mnist-iml",
                     file: StaticString = #filePath, lineNumber: UInt = #line) throws {
        let outcome = try mnistIML(arguments, tool: tool)
        XCTAssertEqual(outcome.status, status, "mnist-iml \(arguments.joined(separator: " ")): \(outcome.stderr)", file: file, line: lineNumber)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").first.map(String.init), line, "mnist-iml \(arguments.joined(separator: " "))",
                       file: file, line: lineNumber)
    }

    /// A valid synthetic MNIST-format dataset: 30 train and 20 test images, labels 0-9 in turn.
    public func dataset(_ name: String, gzip: Bool = false) throws -> URL {
        let directory = base.appendingPathComponent(name)
        func split(_ count: Int) throws -> MNISTSplit {
            try MNISTSplit(count: count, rows: 28, cols: 28, images: (0..<count * 784).map { UInt8(truncatingIfNeeded: $0 * 7) },
                           labels: (0..<count).map { UInt8($0 % 10) })
        }
        try MNISTData.writeIDXFiles(train: try split(30), test: try split(20), to: directory, gzip: gzip)
        return directory
    }

    public func write(_ bytes: [UInt8], _ directory: URL, _ file: String) throws {
        try Data(bytes).write(to: directory.appendingPathComponent(file))
    }

    public func bytes(_ directory: URL, _ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
    }

    /// Both commands that read the data, given the dataset in `directory`. Fashion-MNIST is not
    /// checked against the MNIST checksums, so every damage below is met by the reader itself.

    /// Tiny settings (one-digit variables, 10 entities) that the debug build trains in seconds.
    public func tinyRun(_ data: URL) -> [String] {
        ["--dataset", "fashion-mnist", "--data-dir", data.path, "--grid", "1", "--entities", "10", "--seeds", "2",
         "--epochs1", "3", "--epochs2", "1", "--batch-size", "8"]
    }

    public func config(_ directory: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/config.json"))) as! [String: Any]
    }


    // MARK: Fixtures, made once per test process

    /// Tiny runs every test copies: a finished 2-seed run, and the same run killed (SIGKILL) after
    /// seed 0's first epoch, and the synthetic dataset they read.
    public struct RunFixtures { public var data: URL; public var finished: URL; public var killed: URL }

    public nonisolated(unsafe) static var fixtures: RunFixtures?

    public func runFixtures() throws -> RunFixtures {
        if let f = Self.fixtures { return f }
        let keep = FileManager.default.temporaryDirectory.appendingPathComponent("run-file-fixtures-\(getpid())")
        try FileManager.default.createDirectory(at: keep, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("run-file-fixtures-\(getpid())")) }
        let data = try dataset("fixture-data")
        let keptData = keep.appendingPathComponent("data")
        try FileManager.default.copyItem(at: data, to: keptData)
        let finished = keep.appendingPathComponent("finished"), killed = keep.appendingPathComponent("killed")
        let outcome = try mnistIML(["run"] + tinyRun(keptData) + ["--out", finished.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        _ = try mnistIML(["run"] + tinyRun(keptData) + ["--threads", "1", "--out", killed.path]) { process in
            let checkpoint = killed.appendingPathComponent("checkpoints/seed-0.checkpoint").path
            while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint) { usleep(1_000) }
            kill(process.processIdentifier, SIGKILL)
        }
        let f = RunFixtures(data: keptData, finished: finished, killed: killed)
        Self.fixtures = f
        return f
    }

    /// A fresh copy of a fixture run in `base`.
    public func copy(_ run: URL, _ name: String) throws -> URL {
        let to = base.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: to)
        try FileManager.default.copyItem(at: run, to: to)
        return to
    }

    /// Every file under `directory` but the lock, with its bytes.
    public func snapshot(_ directory: URL) -> [String: Data] {
        var files: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return files }
        for case let path as String in walker where !path.hasSuffix(".lock") {
            if let data = FileManager.default.contents(atPath: directory.appendingPathComponent(path).path) { files[path] = data }
        }
        return files
    }

    /// Asserts that `arguments` fail with `line` and leave `directory` as it was.
    public func assertRefused(_ arguments: [String], tool: String = "mnist-iml", _ line: String, leaving directory: URL,
                       file: StaticString = #filePath, lineNumber: UInt = #line) throws {
        let before = snapshot(directory)
        let outcome = try mnistIML(arguments, tool: tool)
        let command = "\(tool) \(arguments.joined(separator: " "))"
        XCTAssertEqual(outcome.status, 1, "\(command): \(outcome.stderr)", file: file, line: lineNumber)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").first.map(String.init), line, command, file: file, line: lineNumber)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, "one line: \(outcome.stderr)", file: file, line: lineNumber)
        XCTAssertTrue(snapshot(directory) == before, "\(command) changed files in \(directory.path)", file: file, line: lineNumber)
    }

    /// `run --resume`, `merge` and `iml-compare` all refuse the run in `directory` with `message`.
    public func assertEveryReaderRefuses(_ directory: URL, _ message: String, resume: Bool = true, file: StaticString = #filePath,
                                  lineNumber: UInt = #line) throws {
        let f = try runFixtures()
        if resume {
            try assertRefused(["run", "--resume", directory.path, "--data-dir", f.data.path], "error: " + message, leaving: directory,
                              file: file, lineNumber: lineNumber)
        }
        let merged = base.appendingPathComponent("merged"), compared = base.appendingPathComponent("compared")
        try assertRefused(["merge", directory.path, f.finished.path, "--out", merged.path], "error: " + message, leaving: directory,
                          file: file, lineNumber: lineNumber)
        try assertRefused([directory.path, "--out", compared.path], tool: "iml-compare", "error: " + message, leaving: directory,
                          file: file, lineNumber: lineNumber)
        XCTAssertFalse(FileManager.default.fileExists(atPath: merged.path), "merge wrote its output", file: file, line: lineNumber)
        XCTAssertFalse(FileManager.default.fileExists(atPath: compared.path), "iml-compare wrote its output", file: file, line: lineNumber)
    }

    public func edit(_ file: URL, _ change: (String) -> String) throws {
        try change(try String(contentsOf: file, encoding: .utf8)).write(to: file, atomically: false, encoding: .utf8)
    }

    public func lines(_ file: URL) throws -> [String] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    public func setLines(_ file: URL, _ lines: [String]) throws {
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: false, encoding: .utf8)
    }
}
