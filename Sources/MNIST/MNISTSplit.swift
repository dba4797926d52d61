// One split (train or test) of an MNIST-format dataset, held as flat byte arrays.

import IMLBase

public enum MNISTDatasetKind: String, CaseIterable, Codable, Sendable {
    case mnist, fashionMNIST = "fashion-mnist"

    /// Name for messages.
    public var displayName: String { self == .mnist ? "MNIST" : "Fashion-MNIST" }
}

public struct MNISTSplit {
    public let count: Int
    public let rows: Int
    public let cols: Int
    /// count*rows*cols pixels, image after image, each row-major; 0 is background.
    public let images: [UInt8]
    /// One label 0-9 per image.
    public let labels: [UInt8]
    /// `indicesByLabel[d]` lists, in increasing order, the images whose label is `d` (d = 0...9).
    public let indicesByLabel: [[Int]]

    /// Checks that the arrays agree with the shape and that labels are 0-9.
    public init(count: Int, rows: Int, cols: Int, images: [UInt8], labels: [UInt8]) throws {
        guard count >= 0, rows > 0, cols > 0 else {
            throw IMLError("an MNIST split needs a non-negative count and positive image size, got \(count) images of \(rows)x\(cols)")
        }
        let (pixelsPerImage, overflow1) = rows.multipliedReportingOverflow(by: cols)
        let (pixelCount, overflow2) = pixelsPerImage.multipliedReportingOverflow(by: count)
        guard !overflow1, !overflow2, images.count == pixelCount else {
            throw IMLError("\(count) images of \(rows)x\(cols) need \(count)x\(rows)x\(cols) pixels, got \(images.count)")
        }
        guard labels.count == count else {
            throw IMLError("\(count) images but \(labels.count) labels; every image needs exactly one label")
        }
        var byLabel = [[Int]](repeating: [], count: 10)
        for (index, label) in labels.enumerated() {
            guard label <= 9 else {
                throw IMLError("label \(label) at index \(index) is not a digit 0-9")
            }
            byLabel[Int(label)].append(index)
        }
        self.count = count
        self.rows = rows
        self.cols = cols
        self.images = images
        self.labels = labels
        self.indicesByLabel = byLabel
    }

    public var pixelsPerImage: Int { rows * cols }

    /// Image `index` as a slice of `images` (no copy).
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        precondition(index >= 0 && index < count, "image index \(index) out of range 0..<\(count)")
        return images[(index * pixelsPerImage)..<((index + 1) * pixelsPerImage)]
    }

    /// Image `index` as its own array.
    public func imageArray(_ index: Int) -> [UInt8] { Array(image(index)) }

    /// Calls `body` with the pixels of image `index`, without copying.
    public func withImage<Result>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        precondition(index >= 0 && index < count, "image index \(index) out of range 0..<\(count)")
        return try images.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[(index * pixelsPerImage)..<((index + 1) * pixelsPerImage)]))
        }
    }
}
