// Why IML happens, measured on a run's saved models (the paper's section 5), for any modality:
//
// Gradient alignment. For each stage-2 definition d (never trained on while stage 1 runs) and
// each question q about the same variable, the cosine (and dot product) of the full-parameter
// gradients of their losses, each on that one example. Per subset (d1consis: tag 1, d2consis:
// tag 2, d3consis: tag 3) and a control that pairs each definition with the questions about the
// next variable of its subset. Along stage 1 at every saved point. The loss is the one training
// uses, or the answers' alone (`--alignment-loss answer`, written to analysis-answer/ so that
// both stay side by side).
//
// Linear probes. At the end of stage 1, a layer's activations for the held-out questions of
// qd1consis (label 1) and qd2incons (label 0): can a linear read-out tell which tag defined the
// question's variable? Logistic regression, folds grouped by variable, and the same probe on
// shuffled labels as a control (LinearProbe).
//
// Seeds run concurrently, as a run's do, and idle cores help them (Parallel.runWorkers); the
// numbers do not depend on the thread count, and the same run analysed twice gives identical JSON.

import Foundation
import IMLBase
import IMLCore
import IMLProtocol
import IMLRunFiles
import IMLTraining

public struct AnalysisSettings: Sendable {
    /// Every saved stage-1 point (false: the end of stage 1 only).
    public var alongTraining = false
    public var folds = 5
    /// The loss whose gradients the alignment compares.
    public var alignmentLoss = ExampleLoss.full
    /// L2 strength of the probes (LinearProbe.defaultL2 says why 1e-2).
    public var probeL2 = LinearProbe.defaultL2
    public var concurrency = 1
    public init() {}
}

/// One seed's alignment at one saved point: per subset (and "control"), each pair's cosine and dot.
struct AlignmentAtPoint {
    var stage: Int, epoch: Int
    var cosines: [String: [Double]] = [:]
    var dots: [String: [Double]] = [:]
}

struct SeedAnalysis {
    var alignment: [AlignmentAtPoint] = []
    /// Probe results per probed layer, in the network's order.
    var probes: [(layer: ProbeLayer, result: ProbeResult)] = []
}

public enum ModelAnalysis {
    public static let directoryName = RunDirectory.analysisDirectories[0]
    /// Where the analysis with `loss` goes: analysis/ for the training loss, analysis-answer/ else.
    public static func directoryName(_ loss: ExampleLoss) -> String {
        loss == .full ? directoryName : directoryName + "-" + loss.rawValue
    }
    public static let alignedSubsets: [Subset] = [.d1consis, .d2consis, .d3consis]
    /// The series of alignment.json and its figures and tables: the aligned subsets, then the control.
    public static let alignmentSeries = alignedSubsets.map(\.rawValue) + ["control"]

    /// Analyses the saved models of every seed of the run in `run` and writes analysis/ (or
    /// analysis-answer/, see directoryName(_:)).
    public static func analyze(run: URL, config: RunConfig, modality: Modality, protocolConfig: ProtocolConfig,
                               settings: AnalysisSettings, log: @escaping (String) -> Void) throws {
        let seeds = config.seeds
        let end1 = config.epochs(stage: 1)
        // Every seed must have what is analysed before anything is computed.
        var pointsBySeed: [UInt64: [(stage: Int, epoch: Int)]] = [:]
        for seed in seeds {
            let saved = RunModels.points(run: run, seed: seed).filter { $0.stage == 1 }
            guard saved.contains(where: { $0.epoch == end1 }) else {
                let missing = RunModels.url(run: run, seed: seed, stage: 1, epoch: end1).path
                throw IMLError("The run in \(run.path) has no saved model at the end of stage 1 for seed \(seed) (no \(missing)); runs made by this version keep one per stage, so train it again with this version (add --save-every K for points along stage 1).")
            }
            pointsBySeed[seed] = settings.alongTraining ? saved : [(1, end1)]
        }
        // Every file is read (and its checksum checked) before anything is computed: a damaged one
        // stops the analysis with nothing written.
        var modelsBySeed: [UInt64: [(model: SavedModel, file: URL)]] = [:]
        for seed in seeds {
            modelsBySeed[seed] = try pointsBySeed[seed]!.map { try readModel(run: run, seed: seed, point: $0) }
        }

        let models = modelsBySeed
        let started = Date()
        let results = ResultSlots<SeedAnalysis>(count: seeds.count)
        let next = Counter()
        Parallel.runWorkers(seeds.count, cores: settings.concurrency) { _ in
            while let index = next.take(below: seeds.count), results.firstError == nil {
                do {
                    var c = protocolConfig
                    c.seed = seeds[index]
                    let task = try modality.makeTask(c)
                    let analysis = try analyzeSeed(task: task, seed: seeds[index], models: models[seeds[index]]!,
                                                   end1: end1, settings: settings)
                    results.set(index, analysis)
                    log("analyze: seed \(seeds[index]) done (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
                } catch {
                    results.fail(error)
                }
            }
        }
        if let error = results.firstError { throw error }
        let analyses = results.values.map { $0! }

        let title = (config["title"].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? config.modality)
        var report = AnalysisReport(title: title, seeds: seeds, analyses: analyses, end1: end1, settings: settings)
        report.runArguments = config.arguments ?? []
        let directory = run.appendingPathComponent(directoryName(settings.alignmentLoss))
        try AtomicFile.write(report.alignmentJSON.serialized(pretty: true) + "\n", to: directory.appendingPathComponent("alignment.json"))
        try AtomicFile.write(report.probesJSON.serialized(pretty: true) + "\n", to: directory.appendingPathComponent("probes.json"))
        try report.alignmentFigure().writePNGAndSVG(to: directory.appendingPathComponent("alignment.png"))
        try report.probesFigure().writePNGAndSVG(to: directory.appendingPathComponent("probes.png"))
        log(report.summaryLines.joined(separator: "\n"))
    }

    static func analyzeSeed(task: TrainingTask, seed: UInt64, models: [(model: SavedModel, file: URL)],
                            end1: Int, settings: AnalysisSettings) throws -> SeedAnalysis {
        var analysis = SeedAnalysis()
        for (model, file) in models {
            try model.load(into: task.parameters, name: file.path)
            analysis.alignment.append(alignment(task: task, stage: model.stage, epoch: model.epoch, scoring: settings.alignmentLoss))
            if model.stage == 1 && model.epoch == end1 {
                analysis.probes = try probes(task: task, seed: seed, folds: settings.folds, l2: settings.probeL2)
            }
        }
        return analysis
    }

    static func readModel(run: URL, seed: UInt64, point: (stage: Int, epoch: Int)) throws -> (SavedModel, URL) {
        let file = RunModels.url(run: run, seed: seed, stage: point.stage, epoch: point.epoch)
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw IMLError("Cannot read the saved model \(file.path) (\(RunFileText.reason(error))); check that it is a readable file.")
        }
        let model = try SavedModel(data: data, name: file.path)
        guard model.seed == seed, model.stage == point.stage, model.epoch == point.epoch else {
            throw IMLError("The saved model \(file.path) holds seed \(model.seed), stage \(model.stage), epoch \(model.epoch), not what its name says; restore it from a copy of the run, or train the run again.")
        }
        return (model, file)
    }

    // MARK: Gradient alignment

    /// The gradient of one example's loss alone, all parameters flattened in their fixed order.
    static func gradient(task: TrainingTask, example: Example, scoring: ExampleLoss, into out: inout [Float]) {
        task.network.zeroGrad()
        _ = task.lossAndGradient(of: example, scoring: scoring)
        var offset = 0
        for p in task.parameters {
            let g = p.grad.buffer
            out.withUnsafeMutableBufferPointer { o in (o.baseAddress! + offset).update(from: g.baseAddress!, count: g.count) }
            offset += g.count
        }
    }

    static func dotAndCosine(_ a: [Float], _ b: [Float]) -> (dot: Double, cosine: Double) {
        let (ab, aa, bb) = dotProducts(a, b)
        return (ab, aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : 0)
    }

    /// The questions about `entity`, one per attribute, answered with its true attributes.
    static func questions(of entity: Entity) -> [Example] {
        entity.attributes.indices.map { k in
            var targets = [Int32](repeating: -1, count: entity.attributes.count)
            targets[k] = Int32(entity.attributes[k])
            return Example(entity: entity.id, kind: .question, tag: nil, targets: targets, subset: entity.subset)
        }
    }

    static func alignment(task: TrainingTask, stage: Int, epoch: Int, scoring: ExampleLoss) -> AlignmentAtPoint {
        let instance = task.instance
        let size = task.parameters.reduce(0) { $0 + $1.grad.count }
        var result = AlignmentAtPoint(stage: stage, epoch: epoch)
        var definition = [Float](repeating: 0, count: size), previous = definition, question = definition
        for subset in alignedSubsets {
            let definitions = instance.stage2Train.filter { $0.subset == subset && $0.kind == .definition }
            guard !definitions.isEmpty else { continue }
            // Control: the questions of each variable against the previous variable's definition
            // (none when the subset has a single variable).
            let control = definitions.count >= 2
            if control { gradient(task: task, example: definitions[definitions.count - 1], scoring: scoring, into: &previous) }
            for example in definitions {
                gradient(task: task, example: example, scoring: scoring, into: &definition)
                for q in questions(of: instance.entities[example.entity]) {
                    gradient(task: task, example: q, scoring: scoring, into: &question)
                    let same = dotAndCosine(definition, question)
                    result.cosines[subset.rawValue, default: []].append(same.cosine)
                    result.dots[subset.rawValue, default: []].append(same.dot)
                    if control {
                        let other = dotAndCosine(previous, question)
                        result.cosines["control", default: []].append(other.cosine)
                        result.dots["control", default: []].append(other.dot)
                    }
                }
                swap(&previous, &definition)
            }
        }
        return result
    }

    // MARK: Probes

    static func probes(task: TrainingTask, seed: UInt64, folds: Int, l2: Float) throws -> [(layer: ProbeLayer, result: ProbeResult)] {
        let sets = task.instance.evaluationSets(stage: 1)
        guard let tag1 = sets.first(where: { $0.subset == .qd1consis }), let tag2 = sets.first(where: { $0.subset == .qd2incons }),
              !tag1.questions.isEmpty, !tag2.questions.isEmpty else { return [] }
        let layers1 = task.probeFeatures(tag1), layers2 = task.probeFeatures(tag2)
        let labels = Array(repeating: true, count: tag1.questions.count) + Array(repeating: false, count: tag2.questions.count)
        let groups = (tag1.questions + tag2.questions).map(\.entity)
        return try zip(layers1, layers2).map { a, b in
            let result: ProbeResult
            do {
                result = try LinearProbe.crossValidate(features: a.values + b.values, dimension: a.dimension, labels: labels,
                                                       groups: groups, folds: folds, l2: l2, seed: seed)
            } catch let error as IMLError {
                throw IMLError("The probes of seed \(seed) cannot be cross-validated on its \(Set(groups).count) qd1consis and qd2incons variables: \(error.description)")
            }
            return (ProbeLayer(layer: a.layer, position: a.position, dimension: a.dimension, values: []), result)
        }
    }
}

/// Results of the seed threads by index, and the first error.
final class ResultSlots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Value?]
    private var error: Error?
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Value) { lock.lock(); values[index] = value; lock.unlock() }
    func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
    var firstError: Error? { lock.lock(); defer { lock.unlock() }; return error }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func take(below limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}
