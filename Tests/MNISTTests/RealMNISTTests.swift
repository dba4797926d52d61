import Foundation
import IMLBase
@testable import MNIST
import XCTest

/// The real dataset, when present ($MNIST_DIR, as CI sets it, or this machine's shared copy).
final class RealMNISTTests: XCTestCase {
    func testRealMNISTParsesWithExpectedChecksums() throws {
        guard let real = realMNISTDirectory() else {
            throw XCTSkip("the real MNIST files are not available; set MNIST_DIR to a directory holding them")
        }
        let data = try MNISTData.load(dataDir: real.path, environment: [:], allowDownload: false,
                                      verifyChecksums: true, log: quietLog)
        XCTAssertEqual(data.train.count, 60000)
        XCTAssertEqual(data.test.count, 10000)
        XCTAssertEqual(data.train.rows, 28)
        XCTAssertEqual(data.train.cols, 28)
        XCTAssertEqual(data.train.images.count, 60000 * 784)
        XCTAssertEqual(data.train.indicesByLabel.map(\.count).reduce(0, +), 60000)
        // Every class is well represented (MNIST has 5421 to 6742 training images per digit).
        XCTAssertTrue(data.train.indicesByLabel.allSatisfy { $0.count > 5000 })
        // The first training digit of MNIST is a 5.
        XCTAssertEqual(data.train.labels.first, 5)

        // A second load hashes nothing again and gives the same data.
        let again = try MNISTData.load(dataDir: real.path, environment: [:], allowDownload: false, log: quietLog)
        XCTAssertEqual(again.test.labels, data.test.labels)
        for file in MNISTFile.allCases {
            XCTAssertTrue(ChecksumCache.shared.isVerified(MNISTData.locateFiles(in: real).found[file]!))
        }
    }
}
