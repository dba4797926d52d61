// The vision modality as a TrainingTask: pre-rendered 8-bit images of every training example
// and evaluation question, the ConvNet + MLP, and the masked cross-entropy over its T heads.
//
// Shapes: a batch of B images [B, 1, H, W] -> logits [B, T*C], read as B*T rows of C classes;
// a definition supervises all T rows of its example, a question one (the others carry -1).
// The loss averages over supervised rows (see LossAverage).

import Foundation
import IMLBase
import IMLCore
import IMLRunFiles
import IMLTraining
import IMLProtocol
import MNIST

/// How the cross-entropy of a batch is averaged.
public enum LossAverage: String, Codable, CaseIterable, Sendable {
    /// Mean over every supervised head of the batch: a definition adds T terms, a question one
    /// (PyTorch's cross_entropy with an ignore index). Matches the reference numbers.
    case heads
    /// Mean over examples of the mean over each example's supervised heads: every example
    /// weighs the same. Leaves the initial plateau later (seed 0: qd1consis 0.48 vs 0.90).
    case examples
}

public final class VisionTask: TrainingTask {
    public let instance: ProtocolInstance
    public let renderer: VisionRenderer
    public let model: ConvNetMLP
    let loss = SoftmaxCrossEntropy()
    let lossAverage: LossAverage
    let pixels: Int
    let heads: Int
    let classes: Int

    /// stage -> images of its training examples, [N, H*W] bytes, and targets [N, T].
    var trainImages: [Int: [UInt8]] = [:]
    var trainTargets: [Int: [Int32]] = [:]
    /// Evaluation: per subset, the distinct images asked about and, per question, its image row.
    var evalImages: [Subset: [UInt8]] = [:]
    var evalRow: [Subset: [Int]] = [:]

    let input: Tensor
    var targetsBuffer: [Int32] = []
    static let evaluationBatch = 256

    public var network: Layer { model }

    public init(renderer: VisionRenderer, model sizes: ConvNetMLP.Sizes = ConvNetMLP.Sizes(), modelSeed: UInt64,
                lossAverage: LossAverage = .heads) throws {
        let instance = renderer.instance, vision = renderer.config
        self.instance = instance
        self.renderer = renderer
        self.lossAverage = lossAverage
        pixels = vision.pixels
        heads = instance.config.attributes
        classes = instance.config.classes
        try sizes.validate()
        model = ConvNetMLP(config: Self.modelConfig(sizes, vision: vision, heads: heads, classes: classes), seed: modelSeed)
        input = Tensor([1, 1, vision.height, vision.width])

        for stage in [1, 2] {
            renderTrainingImages(stage: stage)
            trainTargets[stage] = instance.trainingSet(stage: stage).flatMap(\.targets)
        }
        // With fixed handwriting every question about an entity shows the same image (in the
        // poster design, the same for each asked cell), so one forward pass per image answers all
        // its questions; fresh handwriting draws per question.
        struct Shown: Hashable { var entity: Int; var box: Int? }
        for set in instance.stage1Eval + instance.stage2Eval where evalImages[set.subset] == nil {
            var rows: [Int] = [], rowOfImage: [Shown: Int] = [:], images: [UInt8] = []
            for q in set.questions {
                let shown = Shown(entity: q.entity, box: renderer.box(asking: q.attribute))
                if vision.handwriting == .fixed, let row = rowOfImage[shown] { rows.append(row); continue }
                let row = images.count / pixels
                images += renderer.renderQuestion(entity: q.entity, attribute: q.attribute, evaluation: true)
                rowOfImage[shown] = row
                rows.append(row)
            }
            evalImages[set.subset] = images
            evalRow[set.subset] = rows
        }
    }

    /// Renders every training example of `stage` into trainImages[stage], in example order.
    func renderTrainingImages(stage: Int) {
        let examples = instance.trainingSet(stage: stage)
        var images = trainImages.removeValue(forKey: stage) ?? []  // reuses the buffer without a copy
        images.removeAll(keepingCapacity: true)
        images.append(contentsOf: repeatElement(0, count: examples.count * pixels))
        images.withUnsafeMutableBufferPointer { buffer in
            for (i, ex) in examples.enumerated() {
                renderer.render(ex, into: buffer.baseAddress! + i * pixels)
            }
        }
        trainImages[stage] = images
    }

    /// `--redraw every-epoch`: new handwriting for every training example, drawn from the epoch's own stream.
    public func beginEpoch(stage: Int, epoch: Int) {
        guard renderer.config.redraw == .everyEpoch else { return }
        renderer.redraw(stage: stage, epoch: epoch)
        renderTrainingImages(stage: stage)
    }

    /// The ConvNet of `sizes` for these images and T heads of C classes.
    public static func modelConfig(_ sizes: ConvNetMLP.Sizes, vision: VisionConfig, heads: Int, classes: Int) -> ConvNetMLP.Config {
        var config = ConvNetMLP.Config()
        config.height = vision.height
        config.width = vision.width
        config.channels = sizes.channels
        config.hidden = sizes.hidden
        config.heads = heads
        config.classes = classes
        return config
    }

    public var settings: [(String, JSON)] {
        let v = renderer.config, m = model.config
        return [("dataset", .string(renderer.dataset.rawValue)), ("data_dir", .string(renderer.dataDirectory.path)),
                ("design", .string(v.design.rawValue)),
                ("grid", .int(v.grid)), ("handwriting", .string(v.handwriting.rawValue)), ("redraw", .string(v.redraw.rawValue)),
                ("image_height", .int(v.height)), ("image_width", .int(v.width)),
                ("tag_strip", .string("\(v.stripRows) rows, \(v.block)x\(v.block) blocks, \(v.tagSpec.length) bits")),
                ("question_box", .string(v.design == .poster ? "\(v.boxWidth)-pixel white border of the asked cell" : "none")),
                ("input_standardization", .array([.number(Double("\(VisionRenderer.standardization.mean)")!),
                                                  .number(Double("\(VisionRenderer.standardization.std)")!)])),
                ("loss_average", .string(lossAverage.rawValue)),
                ("model", .string(model.summary)),
                ("conv_channels", .array(m.channels.map { .int($0) })), ("hidden", .array(m.hidden.map { .int($0) })),
                ("parameters", .int(model.parameterCount))]
    }

    /// Copies images `rows` of `source` into the input tensor, standardized.
    func loadInput(_ source: UnsafeBufferPointer<UInt8>, rows: some Collection<Int>) {
        input.resize(rows.count, 1, renderer.config.height, renderer.config.width)
        let lut = VisionRenderer.standardized
        let dst = input.pointer
        lut.withUnsafeBufferPointer { table in
            for (b, row) in rows.enumerated() {
                let src = source.baseAddress! + row * pixels, out = dst + b * pixels
                for i in 0..<pixels { out[i] = table[Int(src[i])] }
            }
        }
    }

    public func lossAndGradient(stage: Int, examples: ArraySlice<Int>) -> Float {
        let images = trainImages[stage]!, targets = trainTargets[stage]!
        images.withUnsafeBufferPointer { loadInput($0, rows: examples) }
        targetsBuffer.removeAll(keepingCapacity: true)
        for i in examples { targetsBuffer.append(contentsOf: targets[(i * heads)..<((i + 1) * heads)]) }
        let logits = model.forward(input)
        let value = loss.forward(logits: logits, rows: examples.count * heads, classes: classes,
                                 targets: targetsBuffer, groupSize: lossAverage == .heads ? 1 : heads)
        model.backward(loss.backward())
        return value
    }

    public func predict(_ set: EvalSet) -> [Int] {
        guard let images = evalImages[set.subset], let rows = evalRow[set.subset] else { return [] }
        let count = images.count / pixels
        var predictedByRowAndHead = [Int](repeating: 0, count: count * heads)
        images.withUnsafeBufferPointer { source in
            for start in stride(from: 0, to: count, by: Self.evaluationBatch) {
                let batch = start..<min(start + Self.evaluationBatch, count)
                loadInput(source, rows: batch)
                let logits = model.forward(input).pointer
                for b in 0..<batch.count {
                    for h in 0..<heads {
                        let row = logits + (b * heads + h) * classes
                        var best = 0
                        for c in 1..<classes where row[c] > row[best] { best = c }
                        predictedByRowAndHead[(start + b) * heads + h] = best
                    }
                }
            }
        }
        return zip(set.questions, rows).map { q, row in predictedByRowAndHead[row * heads + q.attribute] }
    }

    // MARK: Analyses

    /// The network predicts answers only, so both scorings are its classification loss.
    public func lossAndGradient(of example: Example, scoring _: ExampleLoss) -> Float {
        renderer.render(example).withUnsafeBufferPointer { loadInput($0, rows: [0]) }
        let logits = model.forward(input)
        let value = loss.forward(logits: logits, rows: heads, classes: classes, targets: example.targets,
                                 groupSize: lossAverage == .heads ? 1 : heads)
        model.backward(loss.backward())
        return value
    }

    /// After each conv block (flattened c*h*w) and each hidden layer, for each question's image.
    public func probeFeatures(_ set: EvalSet) -> [ProbeLayer] {
        guard let images = evalImages[set.subset], let rows = evalRow[set.subset] else { return [] }
        var layers: [ProbeLayer] = []
        images.withUnsafeBufferPointer { source in
            for (q, row) in rows.enumerated() {
                loadInput(source, rows: [row])
                var index = 0
                _ = model.forward(input) { name, activation in
                    if q == 0 { layers.append(ProbeLayer(layer: name, dimension: activation.count, values: [])) }
                    layers[index].values.append(contentsOf: activation.buffer)
                    index += 1
                }
            }
        }
        return layers
    }
}
