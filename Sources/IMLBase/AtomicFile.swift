// Every file the project writes goes through here: write a temporary file beside the target,
// flush it, then rename over the target. A reader sees the old file or the new one, never half.

import Foundation

public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: dir.path, error: error)
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        // Plain system calls, so a failure keeps its errno (ENOSPC above all) for the message.
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileWriteError(path: url.path, code: errno) }
        var failure: Int32 = 0
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure == 0, rename(tmp.path, url.path) != 0 { failure = errno }
        if failure != 0 {
            unlink(tmp.path)
            throw FileWriteError(path: url.path, code: failure)
        }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}

/// A file that could not be written; the file it would have replaced is unchanged.
public struct FileWriteError: Error, CustomStringConvertible, LocalizedError {
    public let path: String
    /// The errno of the failed call.
    public let code: Int32

    public init(path: String, code: Int32) { self.path = path; self.code = code }

    /// The errno behind a Foundation error, EIO when it has none.
    public init(path: String, error: Error) {
        self.path = path
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain {
            code = Int32(ns.code)
        } else if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            code = Int32(underlying.code)
        } else if ns.domain == NSCocoaErrorDomain && ns.code == CocoaError.fileWriteOutOfSpace.rawValue {
            code = ENOSPC
        } else if ns.domain == NSCocoaErrorDomain && ns.code == CocoaError.fileWriteNoPermission.rawValue {
            code = EACCES
        } else {
            code = EIO
        }
    }

    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
    public var reason: String { isDiskFull ? "no space left on device" : String(cString: strerror(code)) }

    public var description: String {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let fix = isDiskFull ? "free space on that disk and run the command again"
            : "check that \(directory) exists and is writable, and run the command again"
        return "Cannot write \(path) (\(reason)); \(fix)."
    }
    public var errorDescription: String? { description }
}

/// An error for the user: one sentence that names the problem and, where there is one, the fix.
public struct IMLError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
