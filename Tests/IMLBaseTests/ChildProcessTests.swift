import Foundation
import IMLBase
import XCTest

final class ChildProcessTests: XCTestCase {
    func testExitCodesSignalsOutputsDirectoryAndEnvironment() throws {
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; pwd; echo \"$GREETING\"; exit 3"],
                                           environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"], directory: "/tmp")
        XCTAssertEqual(outcome.status, 3)
        XCTAssertEqual(outcome.stdout, "out\n/tmp\nhello\n")
        XCTAssertEqual(outcome.stderr, "err\n")
        XCTAssertFalse(outcome.timedOut)

        let killed = try ChildProcess.run("/bin/sh", ["-c", "kill -9 $$"])
        XCTAssertEqual(killed.status, 128 + 9)
        let merged = try ChildProcess.run("/bin/sh", ["-c", "echo a; echo b >&2"], stderrToStdout: true)
        XCTAssertEqual(merged.stdout, "a\nb\n")
        XCTAssertEqual(try ChildProcess.run("true", []).status, 0, "a bare name is looked up in PATH")
    }

    func testStandardInputIsEmpty() throws {
        XCTAssertEqual(try ChildProcess.run("/bin/sh", ["-c", "cat; echo done"], timeout: 10).stdout, "done\n")
    }

    func testMoreOutputThanAPipeHoldsDoesNotBlock() throws {
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"], timeout: 30)
        XCTAssertEqual(outcome.stdout.utf8.count, 300_000)
        XCTAssertEqual(outcome.stderr.utf8.count, 200_000)
    }

    func testATimeoutEndsTheChild() throws {
        let started = Date()
        let outcome = try ChildProcess.run("/bin/sleep", ["30"], timeout: 0.3)
        XCTAssertTrue(outcome.timedOut)
        XCTAssertEqual(outcome.status, 128 + SIGTERM)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    /// The shape of the CI hang: the child ends but leaves a process behind that holds its output
    /// open (a daemon started by slurm-up.sh). run returns soon after the child itself ends.
    func testADescendantHoldingTheOutputOpenDoesNotHoldUpRun() throws {
        let started = Date()
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "sleep 20 & echo started"], timeout: 60)
        XCTAssertEqual(outcome.status, 0)
        XCTAssertEqual(outcome.stdout, "started\n")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    func testAStartedChildIsWaitedForWhileOtherThreadsRun() throws {
        // Busy threads that do not block SIGCHLD, as OpenBLAS's workers: waitpid does not care.
        let stop = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: done) { while stop.wait(timeout: .now() + .milliseconds(1)) == .timedOut {} }
        }
        defer { stop.signal(); stop.signal(); done.wait() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        for round in 0..<20 {
            let child = try ChildProcess("/bin/sh", ["-c", "echo \(round)"], stdout: .file(file), stderr: .null)
            XCTAssertEqual(child.waitUntilExit(), 0)
            XCTAssertFalse(child.isRunning)
            XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "\(round)\n")
        }
        let sleeper = try ChildProcess("/bin/sleep", ["30"])
        XCTAssertTrue(sleeper.isRunning)
        sleeper.send(SIGTERM)
        XCTAssertEqual(sleeper.waitUntilExit(), 128 + SIGTERM)
    }

    func testTheChildInheritsNoDescriptorButItsThree() throws {
        let fd = open("/dev/null", O_RDONLY)  // inheritable: no O_CLOEXEC
        XCTAssertGreaterThan(fd, 2)
        defer { close(fd) }
        let listed = try ChildProcess.run("/bin/sh", ["-c", "ls /proc/$$/fd"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(listed.contains("1"), "\(listed)")
        XCTAssertFalse(listed.contains("\(fd)"), "the child holds our descriptor \(fd): \(listed)")
    }

    func testAProgramThatCannotStartIsOneSentence() {
        XCTAssertThrowsError(try ChildProcess.run("/nonexistent/tool", [])) { error in
            XCTAssertEqual("\(error)", "Cannot start /nonexistent/tool (No such file or directory).")
        }
    }
}
