// Vision rendering of the protocol (docs/PROTOCOL.md sections 3 and 3a).
//
// Image [H = stripRows + 28G, W = 28G], 8-bit: a tag strip of `stripRows` rows on top (W / block
// bits, each a block x block square, white = 1), then the G x G grid of MNIST digits that draws
// the variable. Questions leave the strip black; in the poster design a question also draws a
// white box of `boxWidth` pixels along the border of the cell it asks about (attribute k = cell k,
// row by row). Models see the standardized pixels (x / 255 - mean) / std, strip included.

import Foundation
import IMLBase
import IMLProtocol
import MNIST

public enum Handwriting: String, Codable, CaseIterable, Sendable {
    /// Each variable drawn once from the training split; every example of it reuses the drawing.
    case fixed
    /// A new drawing for every example: training split for training, test split for evaluation.
    case fresh
}

/// How fresh handwriting is drawn for training examples.
public enum Redraw: String, Codable, CaseIterable, Sendable {
    /// Once, when the seed's data is built: every epoch shows the same images.
    case once
    /// Anew at the start of every epoch, so no training image repeats (evaluation stays drawn once).
    case everyEpoch = "every-epoch"
}

/// Which vision design renders the protocol.
public enum VisionDesign: String, Codable, CaseIterable, Sendable {
    /// This package's reconstruction (section 3): a question is the untagged variable image and
    /// the asked head is read.
    case reconstruction
    /// The authors' poster (section 3a): one binary attribute per grid cell, and a question marks
    /// the cell it asks about with a box.
    case poster

    /// What the design uses where the command line leaves a setting out.
    public var defaultGrid: Int { self == .poster ? 3 : 2 }
    public var defaultHandwriting: Handwriting { self == .poster ? .fresh : .fixed }
    /// The protocol's attributes and classes: one binary attribute per cell for the poster, the
    /// protocol's own defaults (nil) for the reconstruction.
    /// (A grid of one cell has no design of this kind; VisionConfig.validate says so, not the protocol.)
    public func defaultAttributes(grid: Int) -> Int? { self == .poster && grid > 1 ? grid * grid : nil }
    public var defaultClasses: Int? { self == .poster ? 2 : nil }
}

public struct VisionConfig: Codable, Equatable, Sendable {
    public var design: VisionDesign = .reconstruction
    public var grid: Int = 2
    public var handwriting: Handwriting = .fixed
    public var redraw: Redraw = .once
    public var stripRows: Int = 4
    public var block: Int = 4
    /// Line width of the poster design's question box, in pixels.
    public var boxWidth: Int = 2
    public init() {}

    public static let digitSize = 28
    public static let mnistMean: Float = 0.1307
    public static let mnistStd: Float = 0.3081

    public var width: Int { grid * Self.digitSize }
    public var height: Int { stripRows + grid * Self.digitSize }
    public var pixels: Int { width * height }
    /// Variables are G x G digit classes.
    public var variableSpec: SymbolSpec { SymbolSpec(alphabet: 10, length: grid * grid) }
    /// Tags are W / block bits.
    public var tagSpec: SymbolSpec { SymbolSpec(alphabet: 2, length: width / block) }
    /// The blank strip is what a question shows, so no tag may look like it.
    public var blankTag: [Int] { Array(repeating: 0, count: tagSpec.length) }

    public func validate() throws {
        if grid < 1 { throw IMLError("--grid must be at least 1 (got \(grid)).") }
        if grid > 8 { throw IMLError("--grid \(grid) makes \(width) x \(height) images; use a grid of at most 8.") }
        if block < 1 || stripRows < block { throw IMLError("The tag strip needs block size >= 1 and at least one block of rows.") }
        if design == .poster && grid < 2 {
            throw IMLError("--design poster needs --grid 2 or more (got \(grid)): it asks one attribute per cell and trains on the cells a question does not hold out.")
        }
        if redraw == .everyEpoch && handwriting == .fixed {
            throw IMLError("--redraw every-epoch draws new handwriting every epoch, but --handwriting fixed has one drawing per variable; use --handwriting fresh or leave --redraw out.")
        }
    }

    /// Checks the design against the protocol: the poster design asks about grid cells.
    public func validate(attributes: Int) throws {
        if design == .poster && attributes != grid * grid {
            throw IMLError("--design poster asks one attribute per grid cell, so --attributes must be \(grid * grid) for --grid \(grid) (got \(attributes)); leave --attributes out or give \(grid * grid).")
        }
    }
}

/// Which MNIST image draws each cell of each rendered example.
public final class VisionRenderer {
    public let config: VisionConfig
    public let instance: ProtocolInstance
    /// Which dataset draws the digits, and where its files were read from.
    public let dataset: MNISTDatasetKind
    public let dataDirectory: URL
    let train: MNISTSplit
    let test: MNISTSplit
    /// Fixed handwriting: the training-split image index of every cell of every entity's variable.
    let fixedDrawing: [[Int]]
    var freshRNG: SeededRandom

    public init(instance: ProtocolInstance, data: MNISTData, config: VisionConfig) throws {
        try config.validate()
        guard instance.variableSpec == config.variableSpec, instance.tagSpec == config.tagSpec else {
            throw IMLError("The protocol instance was drawn for other variable or tag shapes than this vision configuration.")
        }
        self.config = config
        self.instance = instance
        dataset = data.kind
        dataDirectory = data.directory
        train = data.train
        test = data.test
        for (name, split) in [("training", train), ("test", test)] {
            if split.rows != VisionConfig.digitSize || split.cols != VisionConfig.digitSize {
                throw IMLError("The \(name) split has \(split.rows)x\(split.cols) images; the renderer needs 28x28 MNIST-format images.")
            }
            if let missing = (0..<10).first(where: { split.indicesByLabel[$0].isEmpty }) {
                throw IMLError("The \(name) split has no image of digit \(missing), so variables using it cannot be drawn; check the dataset files.")
            }
        }
        var rng = SeededRandom(seed: instance.config.seed, stream: "handwriting/fixed")
        fixedDrawing = instance.entities.map { e in
            e.variable.map { digit in
                let pool = data.train.indicesByLabel[digit]
                return pool[rng.int(below: pool.count)]
            }
        }
        freshRNG = SeededRandom(seed: instance.config.seed, stream: "handwriting/fresh")
    }

    /// Fresh handwriting of `epoch` of `stage`: the drawings that follow come from a stream of that
    /// epoch alone, so a resumed run draws them again exactly.
    public func redraw(stage: Int, epoch: Int) {
        freshRNG = SeededRandom(seed: instance.config.seed, stream: "handwriting/fresh/stage\(stage)/epoch\(epoch)")
    }

    /// The cell a question about `attribute` marks: the asked attribute in the poster design, none in the reconstruction.
    public func box(asking attribute: Int?) -> Int? { config.design == .poster ? attribute : nil }

    /// Draws (split, image index per cell) for one example of `entity`; fresh mode draws anew.
    func drawing(entity: Int, evaluation: Bool) -> (MNISTSplit, [Int]) {
        switch config.handwriting {
        case .fixed:
            return (train, fixedDrawing[entity])
        case .fresh:
            let split = evaluation ? test : train
            let cells = instance.entities[entity].variable.map { digit -> Int in
                let pool = split.indicesByLabel[digit]
                return pool[freshRNG.int(below: pool.count)]
            }
            return (split, cells)
        }
    }

    /// Renders tag (nil = blank strip) + the entity's variable, with a box around grid cell `box`
    /// if given, into `out` (H * W bytes).
    public func render(entity: Int, tag: Int?, box: Int? = nil, evaluation: Bool, into out: UnsafeMutablePointer<UInt8>) {
        let W = config.width, G = config.grid, D = VisionConfig.digitSize
        out.update(repeating: 0, count: config.pixels)
        if let tag {
            let bits = instance.tag(tag)
            for (i, bit) in bits.enumerated() where bit == 1 {
                for r in 0..<config.block where r < config.stripRows {
                    for c in 0..<config.block { out[r * W + i * config.block + c] = 255 }
                }
            }
        }
        let (split, cells) = drawing(entity: entity, evaluation: evaluation)
        split.images.withUnsafeBufferPointer { images in
            for (cell, index) in cells.enumerated() {
                let top = config.stripRows + (cell / G) * D, left = (cell % G) * D
                let src = images.baseAddress! + index * D * D
                for r in 0..<D {
                    (out + (top + r) * W + left).update(from: src + r * D, count: D)
                }
            }
        }
        if let box {
            // Drawn over the digit: its border rows and columns, which MNIST keeps nearly blank.
            let top = config.stripRows + (box / G) * D, left = (box % G) * D
            for r in 0..<D {
                for c in 0..<D where min(r, c, D - 1 - r, D - 1 - c) < config.boxWidth {
                    out[(top + r) * W + left + c] = 255
                }
            }
        }
    }

    /// A training example: a definition with its tag, a question with its asked cell boxed (poster).
    public func render(_ example: Example, evaluation: Bool = false, into out: UnsafeMutablePointer<UInt8>) {
        render(entity: example.entity, tag: example.tag, box: box(asking: example.askedAttribute), evaluation: evaluation, into: out)
    }

    public func render(_ example: Example, evaluation: Bool = false) -> [UInt8] {
        render(entity: example.entity, tag: example.tag, box: box(asking: example.askedAttribute), evaluation: evaluation)
    }

    public func render(entity: Int, tag: Int?, box: Int? = nil, evaluation: Bool) -> [UInt8] {
        var image = [UInt8](repeating: 0, count: config.pixels)
        image.withUnsafeMutableBufferPointer { render(entity: entity, tag: tag, box: box, evaluation: evaluation, into: $0.baseAddress!) }
        return image
    }

    /// A question about `attribute` of `entity` (the attribute shows only in the poster design's box).
    public func renderQuestion(entity: Int, attribute: Int? = nil, evaluation: Bool = true) -> [UInt8] {
        render(entity: entity, tag: nil, box: box(asking: attribute), evaluation: evaluation)
    }

    /// Mean and standard deviation of the input standardization (MNIST's, for every pixel
    /// including the strip).
    public static let standardization = (mean: VisionConfig.mnistMean, std: VisionConfig.mnistStd)
    /// Byte -> standardized input value.
    public static let standardized: [Float] = (0..<256).map {
        (Float($0) / 255 - standardization.mean) / standardization.std
    }
}
