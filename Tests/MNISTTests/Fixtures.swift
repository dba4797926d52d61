import Foundation
import IMLBase
@testable import MNIST
import XCTest

/// A fresh directory under the system temporary directory, removed by the test's teardown.
func makeTemporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("mnist-tests-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// `count` distinguishable 28x28 images: image i has pixel p equal to (i * 31 + p) mod 256.
func syntheticPixels(count: Int, rows: Int = 28, cols: Int = 28) -> [UInt8] {
    (0..<(count * rows * cols)).map { index in
        let image = index / (rows * cols), pixel = index % (rows * cols)
        return UInt8(truncatingIfNeeded: image * 31 + pixel)
    }
}

func writeBytes(_ bytes: [UInt8], to url: URL) throws {
    try Data(bytes).write(to: url)
}

/// Runs `body`, expecting an IMLError whose message contains every fragment.
func assertIMLError<T>(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch let error as IMLError {
        for fragment in fragments {
            XCTAssertTrue(error.message.contains(fragment),
                          "message \"\(error.message)\" lacks \"\(fragment)\"", file: file, line: line)
        }
    } catch {
        XCTFail("expected IMLError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}

/// The directory holding the real MNIST files, or nil (tests then skip): $MNIST_DIR, else the
/// shared copy of this machine.
func realMNISTDirectory() -> URL? {
    var candidates: [String] = []
    if let value = ProcessInfo.processInfo.environment["MNIST_DIR"], !value.isEmpty { candidates.append(value) }
    candidates.append("/work/shared/data/mnist")
    for path in candidates {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if MNISTData.locateFiles(in: url).missing.isEmpty { return url }
    }
    return nil
}

/// A synthetic MNIST-format directory (valid format, wrong checksums) with 12 train and 5 test images.
func writeSyntheticDataset(to directory: URL, gzip: Bool) throws -> (train: MNISTSplit, test: MNISTSplit) {
    let train = try MNISTSplit(count: 12, rows: 28, cols: 28, images: syntheticPixels(count: 12),
                               labels: (0..<12).map { UInt8($0 % 10) })
    let test = try MNISTSplit(count: 5, rows: 28, cols: 28, images: syntheticPixels(count: 5),
                              labels: [3, 1, 4, 1, 5])
    try MNISTData.writeIDXFiles(train: train, test: test, to: directory, gzip: gzip)
    return (train, test)
}

let quietLog: (String) -> Void = { _ in }
