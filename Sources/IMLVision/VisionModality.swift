// The vision modality as the generic run sees it: checks the settings, loads MNIST once, and
// builds each seed's VisionTask. What it records in config.json is read from the built renderer
// and model (VisionTask.settings).

import Foundation
import IMLBase
import IMLTraining
import IMLProtocol
import MNIST

/// The vision part of a run specification, each field named as mnist-iml's option
/// (`convChannels` is --conv-channels). Where MNIST lies is not here: it changes no number.
public struct VisionSettings: Codable, Equatable, Sendable {
    public var design = VisionDesign.reconstruction
    public var grid = 2
    public var handwriting = Handwriting.fixed
    public var redraw = Redraw.once
    public var dataset = MNISTDatasetKind.mnist
    public var lossAverage = LossAverage.heads
    public var convChannels = ConvNetMLP.Sizes().channels
    public var hidden = ConvNetMLP.Sizes().hidden
    public init() {}
}

public final class VisionModality: Modality {
    public let vision: VisionConfig
    public let dataset: MNISTDatasetKind
    public let dataDir: String?
    public let lossAverage: LossAverage
    public let model: ConvNetMLP.Sizes
    private var data: MNISTData?

    /// `data` given here (tests, benchmarks) is used instead of loading `dataset`.
    public init(vision: VisionConfig = VisionConfig(), dataset: MNISTDatasetKind = .mnist, dataDir: String? = nil,
                lossAverage: LossAverage = .heads, model: ConvNetMLP.Sizes = ConvNetMLP.Sizes(), data: MNISTData? = nil) {
        self.vision = vision; self.dataset = data?.kind ?? dataset; self.dataDir = dataDir; self.lossAverage = lossAverage
        self.model = model; self.data = data
    }

    /// The modality a spec's settings describe, reading MNIST from `dataDir` (nil: $MNIST_DIR, else data/mnist).
    public convenience init(settings s: VisionSettings, dataDir: String?) {
        var vision = VisionConfig()
        vision.design = s.design
        vision.grid = s.grid
        vision.handwriting = s.handwriting
        vision.redraw = s.redraw
        var model = ConvNetMLP.Sizes()
        model.channels = s.convChannels
        model.hidden = s.hidden
        self.init(vision: vision, dataset: s.dataset, dataDir: dataDir, lossAverage: s.lossAverage, model: model)
    }

    public var name: String { "mnist" }
    public var title: String { dataset.displayName }
    public var comparedSettings: [String] { ["dataset", "design", "grid", "handwriting", "redraw", "model"] }
    public var settingsLine: String {
        "\(dataset.displayName)\(vision.design == .poster ? ", poster design" : ""), grid \(vision.grid)x\(vision.grid), "
            + "\(vision.handwriting.rawValue) handwriting\(vision.redraw == .everyEpoch ? " redrawn every epoch" : "")"
            + (model == ConvNetMLP.Sizes() ? "" : ", ConvNet \(model.channels.map(String.init).joined(separator: "-")) + MLP \(model.hidden.map(String.init).joined(separator: "-"))")
    }

    /// Fitted to peak resident sizes of one-seed runs (docs/reliability.md): about 2.1 + 0.63 T
    /// bytes per pixel of an image per entity (the rendered images and their indices), 30 KB per
    /// pixel of the batch's activations, 16 bytes per parameter (weights, gradients, Adam's
    /// moments), and 50 MB of MNIST and the program.
    public func memoryEstimate(_ protocolConfig: ProtocolConfig) -> (bytes: Double, settings: String)? {
        let pixels = Double(vision.pixels), config = VisionTask.modelConfig(model, vision: vision, heads: protocolConfig.attributes,
                                                                           classes: protocolConfig.classes)
        let data = Double(protocolConfig.entities) * pixels * (2.1 + 0.63 * Double(protocolConfig.attributes))
        return (50e6 + pixels * 30e3 + config.parameterCount * 16 + data,
                "--entities \(protocolConfig.entities), --attributes \(protocolConfig.attributes) and --grid \(vision.grid)")
    }

    public func validate(_ protocolConfig: ProtocolConfig) throws {
        try vision.validate()
        try vision.validate(attributes: protocolConfig.attributes)
        try model.validate()
        let config = VisionTask.modelConfig(model, vision: vision, heads: protocolConfig.attributes, classes: protocolConfig.classes)
        if model.channels.count > config.maxBlocks {
            throw IMLError("--conv-channels gives \(model.channels.count) conv blocks, but each halves the image and a \(vision.height) x \(vision.width) image (--grid \(vision.grid)) can be halved only \(config.maxBlocks) times; give at most \(config.maxBlocks) channel counts.")
        }
        if config.parameterCount > ConvNetMLP.maxParameters {
            throw IMLError("--conv-channels \(Self.list(model.channels)) and --hidden \(Self.list(model.hidden)) make a model of \(String(format: "%.0f", config.parameterCount)) parameters, more than the \(String(format: "%.0f", ConvNetMLP.maxParameters)) this program trains; choose smaller widths.")
        }
        if let distinct = vision.variableSpec.distinctCount, distinct < protocolConfig.entities {
            throw IMLError("--grid \(vision.grid) draws only \(distinct) distinct variables (10^\(vision.grid * vision.grid) digit grids), but --entities \(protocolConfig.entities) needs one per entity; use a larger --grid or fewer --entities.")
        }
    }

    static func list(_ widths: [Int]) -> String { widths.map(String.init).joined(separator: ",") }

    /// Loads (or downloads) the dataset; the tools call it once, before the first task.
    public func prepare() throws {
        if data == nil { data = try MNISTData.load(kind: dataset, dataDir: dataDir) }
    }

    public func instance(_ protocolConfig: ProtocolConfig) throws -> ProtocolInstance {
        try ProtocolInstance(config: protocolConfig, variableSpec: vision.variableSpec, tagSpec: vision.tagSpec,
                             forbiddenTags: [vision.blankTag])
    }

    public func renderer(_ protocolConfig: ProtocolConfig) throws -> VisionRenderer {
        try prepare()
        return try VisionRenderer(instance: try instance(protocolConfig), data: data!, config: vision)
    }

    public func makeTask(_ protocolConfig: ProtocolConfig) throws -> TrainingTask {
        try VisionTask(renderer: try renderer(protocolConfig), model: model, modelSeed: protocolConfig.seed, lossAverage: lossAverage)
    }
}
