// One writer per run directory. A run (new, forced or resumed), a merge into a directory and a
// sweep claim their directory with an exclusive flock on DIR/.lock, holding their pid for the
// message another process gets. The kernel drops the lock when the process ends in any way
// (exit, Ctrl-C, SIGKILL), so a killed run can always be resumed; the file itself stays.

import Foundation
import IMLBase

public final class RunClaim {
    public static let fileName = ".lock"

    /// Claims held by this process, by directory: a second claim of the same directory in this
    /// process (a sweep's run, a test) shares the first one's lock.
    private static let registryLock = NSLock()
    // Read and written only under registryLock.
    nonisolated(unsafe) private static var held: [String: (descriptor: Int32, count: Int)] = [:]

    let key: String

    /// Claims `directory` (which must exist) for this process, or refuses naming the process that
    /// holds it.
    public init(_ directory: URL) throws {
        key = directory.resolvingSymlinksInPath().standardizedFileURL.path
        Self.registryLock.lock(); defer { Self.registryLock.unlock() }
        if let claim = Self.held[key] {
            Self.held[key] = (claim.descriptor, claim.count + 1)
            return
        }
        let file = directory.appendingPathComponent(Self.fileName).path
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw IMLError("Cannot create the lock file \(file) (\(String(cString: strerror(errno)))); check that \(directory.path) is writable.")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let reason = errno
            let holder = reason == EWOULDBLOCK ? Self.holder(fd) : nil
            close(fd)
            guard reason == EWOULDBLOCK else {
                throw IMLError("Cannot lock \(file) (\(String(cString: strerror(reason)))); the file system of \(directory.path) may not support locks, so use a local directory.")
            }
            let process = holder.map { pid in "process \(pid)" + (Self.commandName(pid).map { " (\($0))" } ?? "") } ?? "another process"
            let stop = holder.map { " (kill -INT \($0) stops it and saves its checkpoints)" } ?? ""
            throw IMLError("The run in \(directory.path) is in progress in \(process), which holds \(file); wait for it to end or stop it\(stop), then try again.")
        }
        // The pid, for the message above; a full disk may refuse it, the lock holds anyway.
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } }
        Self.held[key] = (fd, 1)
    }

    deinit {
        Self.registryLock.lock(); defer { Self.registryLock.unlock() }
        guard let claim = Self.held[key] else { return }
        if claim.count > 1 {
            Self.held[key] = (claim.descriptor, claim.count - 1)
        } else {
            Self.held[key] = nil
            close(claim.descriptor)  // releases the flock
        }
    }

    /// The pid the holder wrote (it writes it right after locking, so wait a moment for it).
    static func holder(_ fd: Int32) -> Int32? {
        for _ in 0..<50 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            if n > 0, let pid = Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            usleep(10_000)
        }
        return nil
    }

    /// The program name of process `pid`, where the system tells it (Linux).
    static func commandName(_ pid: Int32) -> String? {
        guard let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return nil }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}
