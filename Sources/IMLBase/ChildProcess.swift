// Starting other programs (git, sbatch, the tools under test) and waiting for them.
//
// Foundation's Process learns that a child ended from SIGCHLD. On Linux the kernel may hand that
// signal to any thread that does not block it (an OpenBLAS worker, the main thread), where its
// default action discards it; Process then reports the child running for ever. CI hit exactly
// this: a test waited 85 minutes on a zombie bash. ChildProcess asks the kernel directly with
// waitpid(pid), which cannot miss an exit, and never depends on signal delivery.

import CSystem
import Foundation
import Glibc

public final class ChildProcess {
    /// Where the child's standard output or error goes.
    public enum Destination {
        case inherit            // the same as ours
        case null               // /dev/null
        case file(String)       // created or truncated
        case append(String)     // created or appended to
    }

    public let processIdentifier: pid_t
    private var status: Int32?

    /// Starts `executable` (a path, or a name looked up in $PATH) with `arguments`; standard input
    /// is /dev/null. `environment` nil keeps ours.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                directory: String? = nil, stdout: Destination = .inherit, stderr: Destination = .inherit) throws {
        processIdentifier = try Self.spawn(executable, arguments, environment: environment, directory: directory,
                                           stdout: .destination(stdout), stderr: .destination(stderr))
    }

    private init(pid: pid_t) { processIdentifier = pid }

    deinit {
        // Reap a child nobody waited for once it ends, rather than leave a zombie behind.
        if status == nil { _ = isRunning }
    }

    /// False once the child has ended (it is then reaped and its status kept).
    public var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        let result = waitpid(processIdentifier, &raw, WNOHANG)
        if result == processIdentifier { status = Self.decode(raw); return false }
        if result < 0 && errno != EINTR { status = -1; return false }  // not ours any more
        return true
    }

    /// Blocks until the child ends and returns terminationStatus.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        while status == nil {
            var raw: Int32 = 0
            let result = waitpid(processIdentifier, &raw, 0)
            if result == processIdentifier { status = Self.decode(raw) }
            else if result < 0 && errno != EINTR { status = -1 }
        }
        return status!
    }

    /// The exit code, or 128 + the signal's number when a signal ended it (as a shell reports it).
    public var terminationStatus: Int32 { status ?? waitUntilExit() }

    public func send(_ signal: Int32) { if status == nil { kill(processIdentifier, signal) } }

    // MARK: Running to the end, capturing the output

    public struct Outcome {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var timedOut: Bool
    }

    /// Runs `executable` to its end and returns what it printed. After `timeout` seconds it gets
    /// SIGTERM, 5 s later SIGKILL. Output that descendants keep writing after the child ended (a
    /// daemon it started holding the pipe) is read for at most 2 more seconds.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           directory: String? = nil, timeout: Double? = nil, stderrToStdout: Bool = false) throws -> Outcome {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard makePipe(&outPipe) else { throw IMLError("Cannot create a pipe to read \(executable)'s output (\(String(cString: strerror(errno)))).") }
        guard stderrToStdout || makePipe(&errPipe) else {
            close(outPipe[0]); close(outPipe[1])
            throw IMLError("Cannot create a pipe to read \(executable)'s errors (\(String(cString: strerror(errno)))).")
        }
        let pid: pid_t
        do {
            pid = try spawn(executable, arguments, environment: environment, directory: directory,
                            stdout: .pipe(outPipe[1]), stderr: .pipe(stderrToStdout ? outPipe[1] : errPipe[1]))
        } catch {
            for fd in outPipe + (stderrToStdout ? [] : errPipe) { close(fd) }
            throw error
        }
        close(outPipe[1])
        if !stderrToStdout { close(errPipe[1]) }
        let child = ChildProcess(pid: pid)

        var open: [(fd: Int32, isOut: Bool)] = [(outPipe[0], true)] + (stderrToStdout ? [] : [(errPipe[0], false)])
        var out: [UInt8] = [], err: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let start = Date()
        var timedOut = false, termSentAt: Date?, exitedAt: Date?
        while !open.isEmpty || exitedAt == nil {
            var polls = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if !polls.isEmpty { _ = poll(&polls, nfds_t(polls.count), 20) } else { usleep(20_000) }
            for (index, p) in polls.enumerated() where p.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if open[index].isOut { out += buffer[0..<n] } else { err += buffer[0..<n] }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    open[index].fd = -1
                }
            }
            open.removeAll { $0.fd == -1 }  // reached end of file; closed below
            if exitedAt == nil && !child.isRunning { exitedAt = Date() }
            if let exited = exitedAt, Date().timeIntervalSince(exited) > 2 { break }
            if exitedAt == nil, let timeout, Date().timeIntervalSince(start) > timeout {
                if termSentAt == nil { timedOut = true; child.send(SIGTERM); termSentAt = Date() }
                else if Date().timeIntervalSince(termSentAt!) > 5 { child.send(SIGKILL) }
            }
        }
        for fd in [outPipe[0]] + (stderrToStdout ? [] : [errPipe[0]]) { close(fd) }
        return Outcome(status: child.waitUntilExit(), stdout: String(decoding: out, as: UTF8.self),
                       stderr: String(decoding: err, as: UTF8.self), timedOut: timedOut)
    }

    // MARK: posix_spawn

    private enum Target {
        case destination(Destination)
        case pipe(Int32)
    }

    private static func spawn(_ executable: String, _ arguments: [String], environment: [String: String]?,
                              directory: String?, stdout: Target, stderr: Target) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (fd, target) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch target {
            case .destination(.inherit): break
            case .destination(.null): posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .destination(.file(let path)): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .destination(.append(let path)): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .pipe(let write): posix_spawn_file_actions_adddup2(&actions, write, fd)
            }
        }
        // Nothing else of ours leaks into the child (a daemon it starts would keep it for ever),
        // where the C library can close the rest (glibc 2.34 on).
        _ = iml_spawn_file_actions_addclosefrom(&actions, 3)
        if let directory {
            let result = iml_spawn_file_actions_addchdir(&actions, directory)
            if result == ENOSYS {
                throw IMLError("Cannot start \(executable) in \(directory): this C library has no posix_spawn_file_actions_addchdir_np (glibc 2.29 or later has it).")
            }
            guard result == 0 else { throw IMLError("Cannot start \(executable) in \(directory) (\(String(cString: strerror(result))))).") }
        }

        // The child starts with no blocked signals and default handlers, whatever ours are.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + env { free(p) } }
        var pid: pid_t = 0
        let result = executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, &attributes, argv, env)
            : posix_spawnp(&pid, executable, &actions, &attributes, argv, env)
        guard result == 0 else {
            throw IMLError("Cannot start \(executable) (\(String(cString: strerror(result)))).")
        }
        return pid
    }

    /// A pipe whose ends other children do not inherit (the child gets its end through dup2).
    private static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}

/// `word` as a POSIX shell reads it back: unchanged when it holds only characters the shell takes
/// literally, else in single quotes (so printed commands can be pasted into a shell).
public func shellWord(_ word: String) -> String {
    guard word.isEmpty || !word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=,:+@%".contains($0) }) else { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
