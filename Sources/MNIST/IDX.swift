// The idx format (yann.lecun.com/exdb/mnist): a big-endian header, then unsigned bytes.
//   images: magic 0x00000803, count, rows, cols, then count*rows*cols pixels
//   labels: magic 0x00000801, count, then count labels
// Every header value comes from a file we do not control, so all size arithmetic reports overflow
// and every read is bounds-checked: bad bytes give an IMLError, never a trap.

import Foundation
import IMLBase

public enum IDX {
    public static let imageMagic: UInt32 = 0x0000_0803
    public static let labelMagic: UInt32 = 0x0000_0801
    static let imageHeaderSize = 16
    static let labelHeaderSize = 8
    /// Refuse to read files larger than this: the largest MNIST file is 47 MB.
    public static let maximumFileSize = 1 << 30

    // MARK: Reading files

    /// Reads an idx3-ubyte image file, raw or gzip (detected by content, not by name).
    /// `expectedRows`/`expectedCols` (28 x 28 for MNIST) are checked unless nil.
    public static func readImages(at url: URL, expectedRows: Int? = 28, expectedCols: Int? = 28)
        throws -> (count: Int, rows: Int, cols: Int, pixels: [UInt8])
    {
        let contents = try readContents(at: url)
        return try parseImages(contents.bytes, name: url.path, wasGzip: contents.wasGzip,
                               expectedRows: expectedRows, expectedCols: expectedCols)
    }

    /// Reads an idx1-ubyte label file, raw or gzip, and checks that every label is a digit 0-9.
    public static func readLabels(at url: URL) throws -> [UInt8] {
        let contents = try readContents(at: url)
        return try parseLabels(contents.bytes, name: url.path, wasGzip: contents.wasGzip)
    }

    /// The file's bytes, decompressed when they start with the gzip magic 1f 8b.
    public static func readContents(at url: URL) throws -> (bytes: [UInt8], wasGzip: Bool) {
        let raw = try readFile(at: url)
        if Gzip.hasGzipMagic(raw) {
            let bytes = try Gzip.decompress(raw, name: url.path)
            if bytes.isEmpty {
                throw IMLError("\(url.path): the gzip data decompresses to an empty file; delete it and download again")
            }
            return (bytes, true)
        }
        return (raw, false)
    }

    /// Reads a whole regular file with POSIX calls, so each failure can be named precisely.
    public static func readFile(at url: URL) throws -> [UInt8] {
        let path = url.path
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT {
                throw IMLError("\(path) does not exist; check the path, or provide the file as described in data/README.md")
            }
            if code == EACCES {
                throw IMLError("\(path) cannot be read (permission denied on a parent directory); fix the permissions or copy the file somewhere readable")
            }
            throw IMLError("\(path) cannot be read (\(String(cString: strerror(code)))); check the path and its permissions")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR:
            throw IMLError("\(path) is a directory, expected a file; remove the directory or point to the file itself")
        default:
            throw IMLError("\(path) is not a regular file (a device, socket or pipe); point to the idx file itself")
        }
        guard info.st_size > 0 else {
            throw IMLError("\(path) is empty; delete it and download or copy it again")
        }
        guard info.st_size <= maximumFileSize else {
            throw IMLError("\(path) is \(info.st_size) bytes, larger than any idx file this program reads (\(maximumFileSize)); check that it is the right file")
        }
        let descriptor = open(path, O_RDONLY)
        if descriptor < 0 {
            let code = errno
            if code == EACCES {
                throw IMLError("\(path) cannot be read (permission denied); fix it with: chmod a+r \(path)")
            }
            throw IMLError("\(path) cannot be opened (\(String(cString: strerror(code)))); check the file and its permissions")
        }
        defer { close(descriptor) }
        // The size from stat is only a hint: read until end of file.
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var filled = 0
        while true {
            if filled == bytes.count {
                guard bytes.count < maximumFileSize else {
                    throw IMLError("\(path) grew past \(maximumFileSize) bytes while being read; check that it is the right file")
                }
                bytes.append(contentsOf: repeatElement(0, count: bytes.count))
            }
            let got = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if got < 0 {
                let code = errno
                if code == EINTR { continue }
                throw IMLError("\(path) cannot be read (\(String(cString: strerror(code)))); check the disk and copy the file again")
            }
            if got == 0 { break }
            filled += got
        }
        bytes.removeLast(bytes.count - filled)
        if bytes.isEmpty {
            throw IMLError("\(path) is empty; delete it and download or copy it again")
        }
        return bytes
    }

    // MARK: Parsing bytes

    /// Parses the decompressed bytes of an image file. `name` labels errors.
    public static func parseImages(_ bytes: [UInt8], name: String, wasGzip: Bool = false,
                                   expectedRows: Int? = 28, expectedCols: Int? = 28)
        throws -> (count: Int, rows: Int, cols: Int, pixels: [UInt8])
    {
        let what = wasGzip ? "decompressed data" : "file"
        if bytes.isEmpty { throw IMLError("\(name) is empty; delete it and download or copy it again") }
        if bytes.count >= 4 {
            try checkMagic(readBigEndian(bytes, at: 0), expected: imageMagic, bytes: bytes, name: name, wasGzip: wasGzip)
        }
        guard bytes.count >= imageHeaderSize else {
            throw IMLError("\(name): \(what) truncated at byte \(bytes.count), inside the \(imageHeaderSize)-byte idx image header; delete it and download again")
        }
        let count = Int(readBigEndian(bytes, at: 4))
        let rows = Int(readBigEndian(bytes, at: 8))
        let cols = Int(readBigEndian(bytes, at: 12))
        if let expectedRows, let expectedCols, rows != expectedRows || cols != expectedCols {
            throw IMLError("\(name): images are \(rows)x\(cols) pixels, expected \(expectedRows)x\(expectedCols); this is not an MNIST-format image file")
        }
        guard rows > 0, cols > 0 else {
            throw IMLError("\(name): images are \(rows)x\(cols) pixels, which is empty; this is not a usable idx image file")
        }
        let (pixelsPerImage, overflow1) = rows.multipliedReportingOverflow(by: cols)
        let (pixelCount, overflow2) = pixelsPerImage.multipliedReportingOverflow(by: count)
        let (promised, overflow3) = pixelCount.addingReportingOverflow(imageHeaderSize)
        guard !overflow1, !overflow2, !overflow3 else {
            throw IMLError("\(name): the header promises \(count) images of \(rows)x\(cols) pixels, more bytes than any file can hold; the file is corrupt, delete it and download again")
        }
        try checkLength(actual: bytes.count, promised: promised, name: name, what: what)
        let pixels = Array(bytes[imageHeaderSize...])
        return (count, rows, cols, pixels)
    }

    /// Parses the decompressed bytes of a label file and checks every label is 0-9.
    public static func parseLabels(_ bytes: [UInt8], name: String, wasGzip: Bool = false) throws -> [UInt8] {
        let what = wasGzip ? "decompressed data" : "file"
        if bytes.isEmpty { throw IMLError("\(name) is empty; delete it and download or copy it again") }
        if bytes.count >= 4 {
            try checkMagic(readBigEndian(bytes, at: 0), expected: labelMagic, bytes: bytes, name: name, wasGzip: wasGzip)
        }
        guard bytes.count >= labelHeaderSize else {
            throw IMLError("\(name): \(what) truncated at byte \(bytes.count), inside the \(labelHeaderSize)-byte idx label header; delete it and download again")
        }
        let count = Int(readBigEndian(bytes, at: 4))
        let (promised, overflow) = count.addingReportingOverflow(labelHeaderSize)
        guard !overflow else {
            throw IMLError("\(name): the header promises \(count) labels, more than any file can hold; the file is corrupt, delete it and download again")
        }
        try checkLength(actual: bytes.count, promised: promised, name: name, what: what)
        let labels = Array(bytes[labelHeaderSize...])
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw IMLError("\(name): label \(labels[bad]) at index \(bad) is not a digit 0-9; this is not an MNIST label file, delete it and download again")
        }
        return labels
    }

    // MARK: Writing (test fixtures, synthetic datasets)

    /// The bytes of an idx3-ubyte image file holding `pixels` (count*rows*cols, row-major).
    public static func imageFileBytes(count: Int, rows: Int, cols: Int, pixels: [UInt8]) -> [UInt8] {
        precondition(count >= 0 && rows >= 0 && cols >= 0 && count * rows * cols == pixels.count,
                     "pixels must hold count*rows*cols bytes")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(imageHeaderSize + pixels.count)
        for value in [imageMagic, UInt32(count), UInt32(rows), UInt32(cols)] { appendBigEndian(value, to: &bytes) }
        bytes.append(contentsOf: pixels)
        return bytes
    }

    /// The bytes of an idx1-ubyte label file.
    public static func labelFileBytes(_ labels: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(labelHeaderSize + labels.count)
        for value in [labelMagic, UInt32(labels.count)] { appendBigEndian(value, to: &bytes) }
        bytes.append(contentsOf: labels)
        return bytes
    }

    // MARK: Helpers

    static func readBigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                                  UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    private static func checkMagic(_ magic: UInt32, expected: UInt32, bytes: [UInt8], name: String, wasGzip: Bool) throws {
        guard magic != expected else { return }
        let kind = expected == imageMagic ? "an idx3-ubyte image file" : "an idx1-ubyte label file"
        if magic == imageMagic || magic == labelMagic {
            let found = magic == imageMagic ? "an image file" : "a label file"
            throw IMLError("\(name): this is \(found) (magic \(hex(magic))), expected \(kind) (magic \(hex(expected))); check that the image and label files were not swapped or renamed")
        }
        if !wasGzip && name.hasSuffix(".gz") {
            throw IMLError("\(name): not a gzip stream and not a raw idx file either (bad magic \(hex(magic)), expected \(hex(expected))); delete it and download again")
        }
        throw IMLError("\(name): bad magic \(hex(magic)), expected \(hex(expected)) for \(kind); this is not an MNIST-format file, delete it and download again")
    }

    private static func checkLength(actual: Int, promised: Int, name: String, what: String) throws {
        if actual < promised {
            throw IMLError("\(name): \(what) truncated at byte \(actual), the header promises \(promised) bytes; delete it and download again")
        }
        if actual > promised {
            throw IMLError("\(name): \(what) has \(actual - promised) trailing bytes after the \(promised) bytes the header promises; delete it and download again")
        }
    }
}
