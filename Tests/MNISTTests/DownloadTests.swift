import Foundation
import IMLBase
@testable import MNIST
import XCTest

final class DownloadTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    private func visibleAndHiddenFiles(in url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    /// A mirror serving files with the right names but the wrong content: the mismatch is reported
    /// and nothing is left in the data directory, not even a temporary file.
    func testChecksumMismatchIsReportedAndNothingIsKept() throws {
        let mirror = directory.appendingPathComponent("mirror", isDirectory: true)
        _ = try writeSyntheticDataset(to: mirror, gzip: true)
        let target = directory.appendingPathComponent("data/mnist")
        var progress = ""
        let downloader = MNISTDownloader(mirrors: [mirror], progressOutput: { progress += $0 })
        assertIMLError(["4 MNIST files are missing in \(target.path)", "download failed", "checksum mismatch",
                        "copy the four files", "MNIST_DIR", "network access"]) {
            try MNISTData.load(kind: .mnist, directory: target, source: .defaultLocation, allowDownload: true,
                               verifyChecksums: true, downloader: downloader, log: quietLog)
        }
        XCTAssertEqual(visibleAndHiddenFiles(in: target), [])
        XCTAssertTrue(progress.contains("\rtrain-images-idx3-ubyte.gz: "), progress)
    }

    /// Offline: every mirror fails; the message lists what is missing and how to provide it.
    func testOfflineDownloadFailureListsMissingFilesAndRemedies() throws {
        var asked: [URL] = []
        let offline = MNISTDownloader(mirrors: MNISTDownloader.defaultMirrors, fetch: { source, _, _ in
            asked.append(source)
            throw IMLError("Could not resolve host")
        }, progressOutput: { _ in })
        let target = directory.appendingPathComponent("data/mnist")
        assertIMLError(["4 MNIST files are missing", "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte",
                        "Could not resolve host", "copy the four files", "--data-dir / set MNIST_DIR", "network access"]) {
            try MNISTData.load(kind: .mnist, directory: target, source: .defaultLocation, allowDownload: true,
                               verifyChecksums: true, downloader: offline, log: quietLog)
        }
        // Each mirror is tried once, then given up on, so being offline fails fast.
        XCTAssertEqual(asked.map(\.lastPathComponent), Array(repeating: "train-images-idx3-ubyte.gz", count: 3))
        XCTAssertEqual(visibleAndHiddenFiles(in: target), [])
    }

    func testDownloadsAreNotAttemptedWhenDisallowed() throws {
        let refusing = MNISTDownloader(mirrors: [directory], fetch: { _, _, _ in XCTFail("must not download") }, progressOutput: { _ in })
        let target = directory.appendingPathComponent("data/mnist")
        assertIMLError(["does not exist", "run with downloads allowed"]) {
            try MNISTData.load(kind: .mnist, directory: target, source: .defaultLocation, allowDownload: false,
                               verifyChecksums: true, downloader: refusing, log: quietLog)
        }
    }

    /// The real test labels from a file:// mirror, after a first mirror that lacks them.
    func testDownloadFromLocalMirrorVerifiesAndFallsBack() throws {
        guard let real = realMNISTDirectory(),
              MNISTData.locateFiles(in: real).found[.testLabels]?.pathExtension == "gz" else {
            throw XCTSkip("no gzip copy of the real MNIST files (set MNIST_DIR to a directory holding them)")
        }
        let empty = directory.appendingPathComponent("empty-mirror", isDirectory: true)
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        var progress = ""
        var messages: [String] = []
        let downloader = MNISTDownloader(mirrors: [empty, real], progressOutput: { progress += $0 })
        let target = directory.appendingPathComponent("data/mnist")
        try downloader.download([.testLabels], into: target, log: { messages.append($0) })
        XCTAssertEqual(visibleAndHiddenFiles(in: target), ["t10k-labels-idx1-ubyte.gz"])
        XCTAssertEqual(try IDX.readLabels(at: target.appendingPathComponent("t10k-labels-idx1-ubyte.gz")).count, 10000)
        XCTAssertTrue(messages.contains { $0.contains("download failed") && $0.contains("empty-mirror") }, "\(messages)")
        let size = try FileManager.default.attributesOfItem(atPath: real.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path)[.size] as! Int
        XCTAssertTrue(progress.contains("\(size) / \(size) bytes (100%)"), progress)
        XCTAssertTrue(progress.hasSuffix("\n"))
    }

    /// The URLSession path against a server on 127.0.0.1: body arrives intact with progress; 404 is an error.
    func testHTTPFetchFromLocalServer() throws {
        let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let server = try LocalHTTPServer(bodies: ["/mnist/file.gz": body])
        defer { server.stop() }
        let destination = directory.appendingPathComponent("fetched")
        var lastProgress: (Int64, Int64?) = (0, nil)
        let lock = NSLock()
        try MNISTDownloader.standardFetch(server.baseURL.appendingPathComponent("mnist/file.gz"), destination) { received, expected in
            lock.lock(); lastProgress = (received, expected); lock.unlock()
        }
        XCTAssertEqual(try [UInt8](Data(contentsOf: destination)), body)
        XCTAssertEqual(lastProgress.0, Int64(body.count))
        XCTAssertEqual(lastProgress.1, Int64(body.count))

        XCTAssertThrowsError(try MNISTDownloader.standardFetch(server.baseURL.appendingPathComponent("missing.gz"),
                                                               directory.appendingPathComponent("missing"), { _, _ in })) { error in
            XCTAssertTrue("\(error)".contains("HTTP status 404"), "\(error)")
        }
    }

    func testProgressLineIsRewrittenAndThrottled() {
        var output: [String] = []
        let meter = ProgressMeter(label: "x.gz", output: { output.append($0) })
        for received in stride(from: Int64(0), through: 100_000, by: 100) {
            meter.update(received: received, expected: 100_000)
        }
        meter.finish()
        XCTAssertLessThanOrEqual(output.count, 102)
        XCTAssertTrue(output.dropLast().allSatisfy { $0.hasPrefix("\rx.gz: ") })
        XCTAssertEqual(output.dropLast().last, "\rx.gz: 100000 / 100000 bytes (100%)")
        XCTAssertEqual(output.last, "\n")
    }
}

extension DownloadTests {
    /// A .gz served as "Content-Encoding: gzip" may arrive decoded; either way the idx content is intact.
    func testHTTPFetchOfGzipLabelledAsContentEncoding() throws {
        let raw = IDX.labelFileBytes((0..<5000).map { UInt8($0 % 10) })
        let server = try LocalHTTPServer(bodies: ["/labels.gz": try Gzip.compress(raw)], gzipEncodedPaths: ["/labels.gz"])
        defer { server.stop() }
        let destination = directory.appendingPathComponent("labels")
        try MNISTDownloader.standardFetch(server.baseURL.appendingPathComponent("labels.gz"), destination, { _, _ in })
        XCTAssertEqual(try IDX.readContents(at: destination).bytes, raw)
    }
}
