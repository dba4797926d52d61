import Foundation
import IMLBase
@testable import MNIST
import XCTest

final class MNISTDataTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    // MARK: Finding the directory and files

    func testDirectoryPrecedenceArgumentThenEnvironmentThenDefault() {
        let environment = ["MNIST_DIR": "/env/mnist", "FASHION_MNIST_DIR": "/env/fashion"]
        let fromArgument = MNISTData.resolveDirectory(dataDir: "/arg", environment: environment, workingDirectory: "/cwd")
        XCTAssertEqual(fromArgument.url.path, "/arg")
        XCTAssertEqual(fromArgument.source, .argument)

        let fromEnvironment = MNISTData.resolveDirectory(environment: environment, workingDirectory: "/cwd")
        XCTAssertEqual(fromEnvironment.url.path, "/env/mnist")
        XCTAssertEqual(fromEnvironment.source, .environment(variable: "MNIST_DIR"))

        let fallback = MNISTData.resolveDirectory(environment: [:], workingDirectory: "/cwd")
        XCTAssertEqual(fallback.url.path, "/cwd/data/mnist")
        XCTAssertEqual(fallback.source, .defaultLocation)

        let relative = MNISTData.resolveDirectory(environment: ["MNIST_DIR": "../shared/data/mnist"], workingDirectory: "/work/main")
        XCTAssertEqual(relative.url.path, "/work/shared/data/mnist")

        XCTAssertEqual(MNISTData.resolveDirectory(kind: .fashionMNIST, environment: environment, workingDirectory: "/cwd").url.path, "/env/fashion")
        let fashionDefault = MNISTData.resolveDirectory(kind: .fashionMNIST, environment: ["MNIST_DIR": "/env/mnist"], workingDirectory: "/cwd")
        XCTAssertEqual(fashionDefault.url.path, "/usr/share/datasets/fashion-mnist")
        XCTAssertEqual(fashionDefault.source, .defaultLocation)
    }

    func testLocatesRawOrGzipAndListsMissing() throws {
        try writeBytes([1], to: directory.appendingPathComponent("train-images-idx3-ubyte"))
        try writeBytes([1], to: directory.appendingPathComponent("train-labels-idx1-ubyte.gz"))
        try writeBytes([1], to: directory.appendingPathComponent("t10k-images-idx3-ubyte.zip"))
        let located = MNISTData.locateFiles(in: directory)
        XCTAssertEqual(located.found[.trainImages]?.lastPathComponent, "train-images-idx3-ubyte")
        XCTAssertEqual(located.found[.trainLabels]?.lastPathComponent, "train-labels-idx1-ubyte.gz")
        XCTAssertEqual(located.missing, [.testImages, .testLabels])
    }

    // MARK: Loading

    func testLoadsSyntheticDatasetWithoutChecksums() throws {
        for gzip in [false, true] {
            let dir = directory.appendingPathComponent(gzip ? "gz" : "raw")
            let expected = try writeSyntheticDataset(to: dir, gzip: gzip)
            let data = try MNISTData.load(dataDir: dir.path, environment: [:], allowDownload: false,
                                          verifyChecksums: false, log: quietLog)
            XCTAssertEqual(data.directory.path, dir.path)
            XCTAssertEqual(data.train.count, 12)
            XCTAssertEqual(data.test.count, 5)
            XCTAssertEqual(data.train.images, expected.train.images)
            XCTAssertEqual(data.test.labels, [3, 1, 4, 1, 5])
            XCTAssertEqual(data.test.indicesByLabel[1], [1, 3])
        }
    }

    func testChecksumMismatchIsReportedForMNIST() throws {
        _ = try writeSyntheticDataset(to: directory, gzip: true)
        assertIMLError(["train-images-idx3-ubyte.gz", "SHA-256", "expected ba891046", "delete it"]) {
            try MNISTData.load(dataDir: directory.path, environment: [:], allowDownload: false, log: quietLog)
        }
    }

    /// Fashion-MNIST has its own checksums, so only its format is checked.
    func testFashionMNISTIsNotCheckedAgainstMNISTChecksums() throws {
        _ = try writeSyntheticDataset(to: directory, gzip: true)
        let data = try MNISTData.load(kind: .fashionMNIST, dataDir: directory.path, environment: [:], log: quietLog)
        XCTAssertEqual(data.kind, .fashionMNIST)
        XCTAssertEqual(data.train.count, 12)
    }

    func testImageAndLabelCountsMustAgree() throws {
        _ = try writeSyntheticDataset(to: directory, gzip: false)
        try writeBytes(IDX.labelFileBytes(Array(repeating: 1, count: 11)),
                       to: directory.appendingPathComponent("train-labels-idx1-ubyte"))
        assertIMLError(["train-images-idx3-ubyte has 12 images but train-labels-idx1-ubyte has 11 labels"]) {
            try MNISTData.load(dataDir: directory.path, environment: [:], allowDownload: false,
                               verifyChecksums: false, log: quietLog)
        }
    }

    func testRawFileIsPreferredOverGzip() throws {
        _ = try writeSyntheticDataset(to: directory, gzip: false)
        // A broken .gz beside a good raw file is never opened.
        try writeBytes([0x1f, 0x8b, 0, 0], to: directory.appendingPathComponent("train-images-idx3-ubyte.gz"))
        XCTAssertNoThrow(try MNISTData.load(dataDir: directory.path, environment: [:], allowDownload: false,
                                            verifyChecksums: false, log: quietLog))
    }

    func testCorruptFileInDatasetNamesIt() throws {
        _ = try writeSyntheticDataset(to: directory, gzip: false)
        let labels = directory.appendingPathComponent("t10k-labels-idx1-ubyte")
        try writeBytes(IDX.labelFileBytes([3, 1, 4, 1, 15]), to: labels)
        assertIMLError([labels.path, "label 15 at index 4"]) {
            try MNISTData.load(dataDir: directory.path, environment: [:], allowDownload: false,
                               verifyChecksums: false, log: quietLog)
        }
    }

    // MARK: Missing data

    func testMissingDirectoryOfflineListsFilesAndRemedies() {
        let missing = directory.appendingPathComponent("no-such-dir")
        assertIMLError(["\(missing.path) does not exist", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                        "copy the four files", "--data-dir", "MNIST_DIR"]) {
            try MNISTData.load(dataDir: missing.path, environment: [:], allowDownload: false, log: quietLog)
        }
    }

    func testMissingFilesNamesOnlyTheMissingOnes() throws {
        _ = try writeSyntheticDataset(to: directory, gzip: true)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        do {
            _ = try MNISTData.load(environment: ["MNIST_DIR": directory.path], allowDownload: true, log: quietLog)
            XCTFail("expected an error")
        } catch let error as IMLError {
            XCTAssertTrue(error.message.contains("1 MNIST file is missing in \(directory.path) (t10k-images-idx3-ubyte"), error.message)
            XCTAssertFalse(error.message.contains("train-images"), error.message)
            // A directory the user chose is never downloaded into.
            XCTAssertTrue(error.message.contains("downloads go only to the default data/mnist"), error.message)
        }
    }

    func testDirectoryPathThatIsAFile() throws {
        let url = directory.appendingPathComponent("file")
        try writeBytes([1], to: url)
        assertIMLError([url.path, "is a file, expected the directory"]) {
            try MNISTData.load(dataDir: url.path, environment: [:], allowDownload: false, log: quietLog)
        }
    }

    func testMissingFashionMNISTSuggestsTheDebianPackage() {
        // Only the default location suggests the package; resolve it against a missing path instead.
        assertIMLError(["Fashion-MNIST directory", "does not exist", "sudo apt-get install dataset-fashion-mnist"]) {
            try MNISTData.load(kind: .fashionMNIST, directory: directory.appendingPathComponent("absent"),
                               source: .defaultLocation, allowDownload: true, verifyChecksums: true,
                               downloader: MNISTDownloader(mirrors: []), log: quietLog)
        }
    }

    /// Uses $FASHION_MNIST_DIR if set, else the Debian package location.
    func testMissingFashionMNISTFilesNameTheFashionRemedies() throws {
        _ = try writeSyntheticDataset(to: directory, gzip: true)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("train-labels-idx1-ubyte.gz"))
        assertIMLError(["Fashion-MNIST files are missing in \(directory.path) (train-labels-idx1-ubyte", "dataset-fashion-mnist", "FASHION_MNIST_DIR"]) {
            try MNISTData.load(kind: .fashionMNIST, dataDir: directory.path, environment: [:], log: quietLog)
        }
    }

    func testInstalledFashionMNISTLoads() throws {
        let installed = MNISTData.resolveDirectory(kind: .fashionMNIST).url
        guard MNISTData.locateFiles(in: installed).missing.isEmpty else {
            throw XCTSkip("Fashion-MNIST is not at \(installed.path) (sudo apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR)")
        }
        let data = try MNISTData.load(kind: .fashionMNIST, log: quietLog)
        XCTAssertEqual(data.train.count, 60000)
        XCTAssertEqual(data.test.count, 10000)
        XCTAssertEqual(data.train.indicesByLabel.map(\.count), Array(repeating: 6000, count: 10))
    }
}
