// Finding, checking and loading the four MNIST (or Fashion-MNIST) idx files.
//
// Directory: the `dataDir` argument, else $MNIST_DIR ($FASHION_MNIST_DIR for Fashion-MNIST), else
// data/mnist in the working directory (/usr/share/datasets/fashion-mnist for Fashion-MNIST, where
// the Debian package dataset-fashion-mnist puts it). Each file may be raw or gzip (`name.gz`).
// Missing MNIST files are downloaded only into the default data/mnist: a directory the user named
// is theirs (often read-only or shared), so a typo there gives an error, not a surprise download.

import Foundation
import IMLBase

/// The four idx files of an MNIST-format dataset.
public enum MNISTFile: String, CaseIterable {
    case trainImages = "train-images-idx3-ubyte"
    case trainLabels = "train-labels-idx1-ubyte"
    case testImages = "t10k-images-idx3-ubyte"
    case testLabels = "t10k-labels-idx1-ubyte"

    public var fileName: String { rawValue }
    public var gzipFileName: String { rawValue + ".gz" }

    /// SHA-256 of the decompressed MNIST file (docs/PROTOCOL.md section 3).
    public var mnistSHA256: String {
        switch self {
        case .trainImages: return "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
        case .trainLabels: return "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
        case .testImages: return "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
        case .testLabels: return "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
        }
    }
}

/// Where the data directory came from; only the default location is ever downloaded into.
public enum MNISTDirectorySource: Equatable {
    case argument
    case environment(variable: String)
    case defaultLocation
}

public struct MNISTData {
    public let train: MNISTSplit
    public let test: MNISTSplit
    public let directory: URL
    public let kind: MNISTDatasetKind

    public init(train: MNISTSplit, test: MNISTSplit, directory: URL, kind: MNISTDatasetKind = .mnist) {
        self.train = train
        self.test = test
        self.directory = directory
        self.kind = kind
    }

    public static let defaultMNISTDirectory = "data/mnist"
    public static let defaultFashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    public static func environmentVariable(for kind: MNISTDatasetKind) -> String {
        kind == .mnist ? "MNIST_DIR" : "FASHION_MNIST_DIR"
    }

    /// The data directory: `dataDir`, else the environment variable, else the default location.
    /// Relative paths are taken relative to `workingDirectory`.
    public static func resolveDirectory(kind: MNISTDatasetKind = .mnist, dataDir: String? = nil,
                                        environment: [String: String] = ProcessInfo.processInfo.environment,
                                        workingDirectory: String = FileManager.default.currentDirectoryPath)
        -> (url: URL, source: MNISTDirectorySource)
    {
        func absolute(_ path: String) -> URL {
            let expanded = NSString(string: path).expandingTildeInPath
            if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL }
            return URL(fileURLWithPath: workingDirectory).appendingPathComponent(expanded).standardizedFileURL
        }
        if let dataDir, !dataDir.isEmpty { return (absolute(dataDir), .argument) }
        let variable = environmentVariable(for: kind)
        if let value = environment[variable], !value.isEmpty { return (absolute(value), .environment(variable: variable)) }
        let fallback = kind == .mnist ? defaultMNISTDirectory : defaultFashionMNISTDirectory
        return (absolute(fallback), .defaultLocation)
    }

    /// The path of each file present in `directory` (the raw name preferred over `.gz`), and the missing ones.
    public static func locateFiles(in directory: URL) -> (found: [MNISTFile: URL], missing: [MNISTFile]) {
        var found: [MNISTFile: URL] = [:]
        var missing: [MNISTFile] = []
        for file in MNISTFile.allCases {
            let raw = directory.appendingPathComponent(file.fileName)
            let gzip = directory.appendingPathComponent(file.gzipFileName)
            if FileManager.default.fileExists(atPath: raw.path) {
                found[file] = raw
            } else if FileManager.default.fileExists(atPath: gzip.path) {
                found[file] = gzip
            } else {
                missing.append(file)
            }
        }
        return (found, missing)
    }

    /// Loads both splits, downloading missing MNIST files into the default data/mnist when allowed,
    /// and checking MNIST files against the checksums of docs/PROTOCOL.md section 3.
    public static func load(kind: MNISTDatasetKind = .mnist, dataDir: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            allowDownload: Bool = true, verifyChecksums: Bool = true,
                            log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        throws -> MNISTData
    {
        try load(kind: kind, dataDir: dataDir, environment: environment, allowDownload: allowDownload,
                 verifyChecksums: verifyChecksums, downloader: MNISTDownloader(), log: log)
    }

    /// As `load` above, with the mirrors and fetch function given (tests use a local mirror).
    public static func load(kind: MNISTDatasetKind = .mnist, dataDir: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            allowDownload: Bool = true, verifyChecksums: Bool = true,
                            downloader: MNISTDownloader,
                            log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        throws -> MNISTData
    {
        let (directory, source) = resolveDirectory(kind: kind, dataDir: dataDir, environment: environment)
        return try load(kind: kind, directory: directory, source: source, allowDownload: allowDownload,
                        verifyChecksums: verifyChecksums, downloader: downloader, log: log)
    }

    /// The body of `load` once the directory is known (tests pass a temporary "default" directory).
    static func load(kind: MNISTDatasetKind, directory: URL, source: MNISTDirectorySource, allowDownload: Bool,
                     verifyChecksums: Bool, downloader: MNISTDownloader, log: (String) -> Void) throws -> MNISTData
    {
        let mayDownload = kind == .mnist && allowDownload && source == .defaultLocation

        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw IMLError("\(directory.path) is a file, expected the directory holding the four \(kind.displayName) files; \(howToPointElsewhere(kind))")
        }
        if !exists {
            if kind == .fashionMNIST {
                let fix = source == .defaultLocation
                    ? "install it with: sudo apt-get install dataset-fashion-mnist"
                    : "check the path, or install the files with: sudo apt-get install dataset-fashion-mnist"
                throw IMLError("the Fashion-MNIST directory \(directory.path) does not exist; \(fix)")
            }
            if !mayDownload {
                throw missingFilesError(MNISTFile.allCases, in: directory, source: source,
                                        allowDownload: allowDownload, downloadFailure: nil, directoryMissing: true)
            }
        }

        var located = locateFiles(in: directory)
        // A link where a file should be that leads nowhere is named as such, not as a missing file.
        for file in located.missing {
            for name in [file.fileName, file.gzipFileName] {
                let path = directory.appendingPathComponent(name).path
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                    throw IMLError("\(path) is a symbolic link to \(target), which leads to no file (a missing target or a loop of links); point it at the \(kind.displayName) file or replace it with the file.")
                }
            }
        }
        if !located.missing.isEmpty {
            if kind == .fashionMNIST {
                let names = located.missing.map(\.fileName).joined(separator: ", ")
                throw IMLError("Fashion-MNIST files are missing in \(directory.path) (\(names), each raw or .gz); install them with: sudo apt-get install dataset-fashion-mnist, or \(howToPointElsewhere(kind))")
            }
            guard mayDownload else {
                throw missingFilesError(located.missing, in: directory, source: source, allowDownload: allowDownload,
                                        downloadFailure: nil, directoryMissing: false)
            }
            do {
                try downloader.download(located.missing, into: directory, log: log)
            } catch let failure as MNISTDownloader.Failure {
                throw missingFilesError(failure.stillMissing, in: directory, source: source, allowDownload: true,
                                        downloadFailure: failure.reasons, directoryMissing: false)
            }
            located = locateFiles(in: directory)
            if !located.missing.isEmpty {
                throw missingFilesError(located.missing, in: directory, source: source, allowDownload: true,
                                        downloadFailure: ["the downloaded files vanished from the directory"], directoryMissing: false)
            }
        }

        let checksums = kind == .mnist && verifyChecksums
        func contents(_ file: MNISTFile) throws -> (bytes: [UInt8], wasGzip: Bool, url: URL) {
            let url = located.found[file]!
            let read = try IDX.readContents(at: url)
            return (read.bytes, read.wasGzip, url)
        }
        func verify(_ file: MNISTFile, _ bytes: [UInt8], _ url: URL) throws {
            guard checksums else { return }
            try ChecksumCache.shared.verify(bytes, at: url, expected: file.mnistSHA256)
        }
        func images(_ file: MNISTFile) throws -> (count: Int, rows: Int, cols: Int, pixels: [UInt8], url: URL) {
            let read = try contents(file)
            let parsed = try IDX.parseImages(read.bytes, name: read.url.path, wasGzip: read.wasGzip)
            try verify(file, read.bytes, read.url)
            return (parsed.count, parsed.rows, parsed.cols, parsed.pixels, read.url)
        }
        func labels(_ file: MNISTFile) throws -> (labels: [UInt8], url: URL) {
            let read = try contents(file)
            let parsed = try IDX.parseLabels(read.bytes, name: read.url.path, wasGzip: read.wasGzip)
            try verify(file, read.bytes, read.url)
            return (parsed, read.url)
        }
        func split(_ imageFile: MNISTFile, _ labelFile: MNISTFile) throws -> MNISTSplit {
            let image = try images(imageFile)
            let label = try labels(labelFile)
            guard image.count == label.labels.count else {
                throw IMLError("\(image.url.lastPathComponent) has \(image.count) images but \(label.url.lastPathComponent) has \(label.labels.count) labels (in \(directory.path)); the two files must come from the same dataset, replace them with matching copies")
            }
            guard image.count > 0 else {
                throw IMLError("\(image.url.path) holds no images; replace it with the real \(kind.displayName) file")
            }
            return try MNISTSplit(count: image.count, rows: image.rows, cols: image.cols,
                                  images: image.pixels, labels: label.labels)
        }
        let train = try split(.trainImages, .trainLabels)
        let test = try split(.testImages, .testLabels)
        return MNISTData(train: train, test: test, directory: directory, kind: kind)
    }

    private static func howToPointElsewhere(_ kind: MNISTDatasetKind) -> String {
        "pass --data-dir or set \(environmentVariable(for: kind)) to a directory that holds them"
    }

    static func missingFilesError(_ missing: [MNISTFile], in directory: URL, source: MNISTDirectorySource,
                                  allowDownload: Bool, downloadFailure: [String]?, directoryMissing: Bool) -> IMLError
    {
        let names = missing.map(\.fileName).joined(separator: ", ")
        let whereMissing = directoryMissing
            ? "the directory \(directory.path) does not exist, so the \(missing.count) MNIST files are missing (\(names), each raw or .gz)"
            : "\(missing.count) MNIST file\(missing.count == 1 ? " is" : "s are") missing in \(directory.path) (\(names), each raw or .gz)"
        var message = whereMissing
        if let downloadFailure {
            message += " and the download failed (\(downloadFailure.joined(separator: "; ")))"
        }
        message += "; provide them in one of two ways: copy the four files (see data/README.md) into \(directory.path), or pass --data-dir / set MNIST_DIR to a directory holding them"
        switch (source, allowDownload, downloadFailure != nil) {
        case (.defaultLocation, true, true):
            message += " (or run again with network access so they are downloaded)"
        case (.defaultLocation, false, _):
            message += " (or run with downloads allowed and network access so they are downloaded into \(defaultMNISTDirectory))"
        case (.argument, _, _), (.environment, _, _):
            message += " (downloads go only to the default \(defaultMNISTDirectory): run without --data-dir and MNIST_DIR, with network access, to fetch them there)"
        default:
            break
        }
        return IMLError(message)
    }

    /// Writes a dataset's four files into `directory` (gzip or raw), e.g. a small synthetic dataset for tests.
    public static func writeIDXFiles(train: MNISTSplit, test: MNISTSplit, to directory: URL, gzip: Bool) throws {
        let contents: [(MNISTFile, [UInt8])] = [
            (.trainImages, IDX.imageFileBytes(count: train.count, rows: train.rows, cols: train.cols, pixels: train.images)),
            (.trainLabels, IDX.labelFileBytes(train.labels)),
            (.testImages, IDX.imageFileBytes(count: test.count, rows: test.rows, cols: test.cols, pixels: test.images)),
            (.testLabels, IDX.labelFileBytes(test.labels)),
        ]
        for (file, bytes) in contents {
            let url = directory.appendingPathComponent(gzip ? file.gzipFileName : file.fileName)
            try AtomicFile.write(Data(gzip ? try Gzip.compress(bytes) : bytes), to: url)
        }
    }
}

/// Remembers which files were checked this process (by path, size, modification time and inode),
/// so loading twice hashes each file once.
final class ChecksumCache: @unchecked Sendable {
    static let shared = ChecksumCache()
    private let lock = NSLock()
    private var verified: Set<String> = []

    static func identity(of url: URL) -> String? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return "\(url.path)|\(info.st_dev)|\(info.st_ino)|\(info.st_size)|\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    func isVerified(_ url: URL) -> Bool {
        guard let key = Self.identity(of: url) else { return false }
        lock.lock(); defer { lock.unlock() }
        return verified.contains(key)
    }

    func markVerified(_ url: URL) {
        guard let key = Self.identity(of: url) else { return }
        lock.lock(); defer { lock.unlock() }
        verified.insert(key)
    }

    /// Throws when the SHA-256 of `bytes` (the decompressed content of `url`) is not `expected`.
    func verify(_ bytes: [UInt8], at url: URL, expected: String) throws {
        if isVerified(url) { return }
        let actual = SHA256.hexDigest(bytes)
        guard actual == expected else {
            throw IMLError("\(url.path): SHA-256 of the decompressed content is \(actual), expected \(expected) (docs/PROTOCOL.md section 3); the file is damaged or not the original MNIST, delete it and download or copy it again")
        }
        markVerified(url)
    }
}
