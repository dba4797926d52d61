// Downloading missing MNIST files from public mirrors. Each file is fetched as `<name>.gz` into a
// temporary file beside its destination, its decompressed content is checked against the SHA-256
// of docs/PROTOCOL.md section 3, and only then renamed into place: a failed or wrong download never
// leaves a file that a later run would trust.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IMLBase

public struct MNISTDownloader {
    /// Fetches `source` into the file `destination` (created or overwritten), reporting bytes so far
    /// and the total when known.
    public typealias Fetch = (_ source: URL, _ destination: URL,
                              _ progress: @escaping (_ received: Int64, _ expected: Int64?) -> Void) throws -> Void

    /// Tried in order. The original site at yann.lecun.com often refuses downloads, so it is last.
    public static let defaultMirrors: [URL] = [
        URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!,
        URL(string: "https://storage.googleapis.com/cvdf-datasets/mnist/")!,
        URL(string: "http://yann.lecun.com/exdb/mnist/")!,
    ]

    /// No MNIST download is larger than this (train images are 9.9 MB compressed).
    public static let maximumDownloadSize: Int64 = 64 << 20

    public var mirrors: [URL]
    public var fetch: Fetch
    /// Receives the progress line (starting with "\r", one line rewritten) and a final "\n".
    public var progressOutput: (String) -> Void

    public init(mirrors: [URL] = MNISTDownloader.defaultMirrors,
                fetch: @escaping Fetch = MNISTDownloader.standardFetch,
                progressOutput: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.mirrors = mirrors
        self.fetch = fetch
        self.progressOutput = progressOutput
    }

    /// Why the download failed, per mirror, and which files are still missing.
    public struct Failure: Error, CustomStringConvertible {
        public let stillMissing: [MNISTFile]
        public let reasons: [String]
        public var description: String { reasons.joined(separator: "; ") }
    }

    /// Downloads `files` into `directory` (created if needed). Throws `Failure` when a file could
    /// not be fetched and verified from any mirror.
    public func download(_ files: [MNISTFile], into directory: URL, log: (String) -> Void) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(stillMissing: files, reasons: ["cannot create \(directory.path): \(error.localizedDescription)"])
        }
        // A mirror that failed once (unreachable, 404, wrong data) is not asked for the other files.
        var deadMirrors: Set<URL> = []
        var reasons: [String] = []
        for (position, file) in files.enumerated() {
            var done = false
            for mirror in mirrors where !deadMirrors.contains(mirror) {
                let source = mirror.appendingPathComponent(file.gzipFileName)
                do {
                    try downloadOne(file, from: source, into: directory, log: log)
                    done = true
                    break
                } catch {
                    let reason = "\(source.host ?? source.path): \(error)"
                    log("download failed: \(source.absoluteString): \(error)")
                    reasons.append(reason)
                    deadMirrors.insert(mirror)
                }
            }
            if !done {
                if reasons.isEmpty { reasons.append("no mirror left to try") }
                throw Failure(stillMissing: Array(files[position...]), reasons: reasons)
            }
        }
    }

    private func downloadOne(_ file: MNISTFile, from source: URL, into directory: URL, log: (String) -> Void) throws {
        let temporary = directory.appendingPathComponent(".\(file.gzipFileName).download-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: temporary) }
        log("downloading \(source.absoluteString)")
        let meter = ProgressMeter(label: file.gzipFileName, output: progressOutput)
        do {
            try fetch(source, temporary) { received, expected in meter.update(received: received, expected: expected) }
            meter.finish()
        } catch {
            meter.finish()
            throw error
        }
        let contents = try IDX.readContents(at: temporary)
        let actual = SHA256.hexDigest(contents.bytes)
        guard actual == file.mnistSHA256 else {
            throw IMLError("checksum mismatch: the decompressed SHA-256 is \(actual), expected \(file.mnistSHA256); the file was discarded")
        }
        let destination = directory.appendingPathComponent(contents.wasGzip ? file.gzipFileName : file.fileName)
        guard rename(temporary.path, destination.path) == 0 else {
            throw IMLError("cannot move the download to \(destination.path): \(String(cString: strerror(errno)))")
        }
        ChecksumCache.shared.markVerified(destination)
        log("saved \(destination.path) (SHA-256 verified)")
    }

    // MARK: The standard fetch: URLSession for http(s), a chunked copy for file:// mirrors.

    public static func standardFetch(_ source: URL, _ destination: URL,
                                     _ progress: @escaping (Int64, Int64?) -> Void) throws {
        if source.isFileURL {
            try copyLocalFile(source, to: destination, progress: progress)
        } else {
            try httpFetch(source, to: destination, progress: progress)
        }
    }

    private static func copyLocalFile(_ source: URL, to destination: URL, progress: (Int64, Int64?) -> Void) throws {
        guard let input = FileHandle(forReadingAtPath: source.path) else {
            throw IMLError("cannot read \(source.path)")
        }
        defer { try? input.close() }
        let total = (try? FileManager.default.attributesOfItem(atPath: source.path)[.size] as? NSNumber)?.int64Value
        guard FileManager.default.createFile(atPath: destination.path, contents: nil),
              let output = FileHandle(forWritingAtPath: destination.path) else {
            throw IMLError("cannot create \(destination.path)")
        }
        defer { try? output.close() }
        var received: Int64 = 0
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            try output.write(contentsOf: chunk)
            received += Int64(chunk.count)
            guard received <= maximumDownloadSize else { throw IMLError("larger than \(maximumDownloadSize) bytes, not an MNIST file") }
            progress(received, total)
        }
        try output.synchronize()
    }

    private static func httpFetch(_ source: URL, to destination: URL, progress: @escaping (Int64, Int64?) -> Void) throws {
        guard FileManager.default.createFile(atPath: destination.path, contents: nil),
              let output = FileHandle(forWritingAtPath: destination.path) else {
            throw IMLError("cannot create \(destination.path)")
        }
        defer { try? output.close() }
        let delegate = StreamingDownload(output: output, progress: progress)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.timeoutIntervalForResource = 15 * 60
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: source).resume()
        delegate.finished.wait()
        if let failure = delegate.failure { throw failure }
        try output.synchronize()
    }
}

/// Streams a response body into a file handle; the caller waits on `finished`.
private final class StreamingDownload: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let output: FileHandle
    let progress: (Int64, Int64?) -> Void
    let finished = DispatchSemaphore(value: 0)
    var failure: Error?
    var received: Int64 = 0
    var expected: Int64?

    init(output: FileHandle, progress: @escaping (Int64, Int64?) -> Void) {
        self.output = output
        self.progress = progress
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            failure = IMLError("HTTP status \(http.statusCode)")
            completionHandler(.cancel)
            return
        }
        // A server may label a .gz as Content-Encoding: gzip; URLSession then decodes it, the byte
        // count no longer matches Content-Length, and the raw idx content is kept (also accepted).
        let encoded = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Encoding")
            .map { !$0.isEmpty && $0.lowercased() != "identity" } ?? false
        expected = !encoded && response.expectedContentLength > 0 ? response.expectedContentLength : nil
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        do {
            try output.write(contentsOf: data)
        } catch {
            failure = IMLError("cannot write the download: \(error.localizedDescription)")
            dataTask.cancel()
            return
        }
        received += Int64(data.count)
        if received > MNISTDownloader.maximumDownloadSize {
            failure = IMLError("larger than \(MNISTDownloader.maximumDownloadSize) bytes, not an MNIST file")
            dataTask.cancel()
            return
        }
        progress(received, expected)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if failure == nil, let error {
            failure = IMLError(error.localizedDescription)
        }
        if failure == nil, let expected, received < expected {
            failure = IMLError("the connection closed after \(received) of \(expected) bytes")
        }
        finished.signal()
    }
}

/// One progress line on stderr, rewritten in place with "\r" and throttled to whole percent steps.
final class ProgressMeter: @unchecked Sendable {
    private let label: String
    private let output: (String) -> Void
    private let lock = NSLock()
    private var lastShown: Int64 = -1
    private var started = false

    init(label: String, output: @escaping (String) -> Void) {
        self.label = label
        self.output = output
    }

    func update(received: Int64, expected: Int64?) {
        lock.lock(); defer { lock.unlock() }
        // Show each new percent, or every 256 KiB when the total is unknown.
        let step = expected.map { max($0 / 100, 1) } ?? (256 << 10)
        guard lastShown < 0 || received / step != lastShown / step || received == expected else { return }
        lastShown = received
        started = true
        if let expected {
            let percent = expected > 0 ? received * 100 / expected : 100
            output("\r\(label): \(received) / \(expected) bytes (\(percent)%)")
        } else {
            output("\r\(label): \(received) bytes")
        }
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if started { output("\n") }
        started = false
    }
}
