// What the generic code needs from a modality. A `Modality` describes one run's rendering and
// model settings and builds a `TrainingTask` per seed; a task holds the model and turns protocol
// examples into a loss, gradients and predictions. The trainer, the run writer, sweep, merge and
// compare never see pixels or tokens and never test a modality's name: what they show about a
// modality (title, chance level, settings) is what it says here, recorded in config.json.

import IMLCore
import IMLProtocol
import IMLRunFiles

public protocol TrainingTask: AnyObject {
    /// The model; its parameter list (fixed order) is what the optimizer and checkpoints see.
    var network: Layer { get }
    /// The protocol instance this task renders.
    var instance: ProtocolInstance { get }
    /// The task's settings for config.json, read from what it built (renderer, model), e.g.
    /// image size, input standardization, layer sizes, parameter count.
    var settings: [(String, JSON)] { get }
    /// How many indices the trainer shuffles and batches in `stage` (default: one per example
    /// of `instance.trainingSet(stage:)`; a task may batch finer units, e.g. text documents).
    func trainingCount(stage: Int) -> Int
    /// The indices (in 0..<trainingCount, ascending) that `epoch` of `stage` trains on (default:
    /// the examples `instance.trainedExamples` names, all of them unless the schedule says otherwise).
    func trainingIndices(stage: Int, epoch: Int) -> [Int]
    /// Forward pass, loss and backward pass over `examples` (indices in 0..<trainingCount,
    /// by default into `instance.trainingSet(stage:)`), accumulating gradients. Returns the mean loss.
    func lossAndGradient(stage: Int, examples: ArraySlice<Int>) -> Float
    /// Called before the first batch of every epoch (1-based), also of an epoch a resumed run
    /// continues, so a task may vary its training data by epoch (e.g. new drawings); what it
    /// does must depend only on `stage` and `epoch`, so that a resumed run repeats it. Default: nothing.
    func beginEpoch(stage: Int, epoch: Int)
    /// The predicted class of the asked attribute, for every question of `set`.
    func predict(_ set: EvalSet) -> [Int]
    /// Scores of further tests at each evaluation of `stage` (default none), recorded in
    /// metrics.jsonl beside exact match as subsets named "TEST/SUBSET", e.g. text's
    /// entity-association test "association/d1consis".
    func testScores(stage: Int) -> [TestScore]

    // For `analyze` (gradient alignment and probes on saved models):
    /// The loss of `example` alone (any protocol example, trained on or not), scored as training
    /// scores it (`.full`) or on its answers alone (`.answer`), accumulating its gradient into the
    /// parameters' gradients.
    func lossAndGradient(of example: Example, scoring: ExampleLoss) -> Float
    /// The activations of every probed layer for each question of `set`, in the network's order.
    func probeFeatures(_ set: EvalSet) -> [ProbeLayer]
}

/// One score of a further test on one subset: its record's `em` holds `value`, averaged over `n` items.
public struct TestScore: Equatable, Sendable {
    /// "TEST/SUBSET", e.g. "association-mrr/qd2incons_defined".
    public var subset: String
    public var value: Double
    public var n: Int
    public init(subset: String, value: Double, n: Int) { self.subset = subset; self.value = value; self.n = n }
}

/// Which predictions an example's loss scores in `analyze`'s gradient alignment.
public enum ExampleLoss: String, CaseIterable, Sendable {
    /// Every prediction training scores (for a document, every next token, as the paper's code does).
    case full
    /// Only the predictions of attribute values; for a model that predicts nothing else, the same as full.
    case answer

    /// How alignment.json and the figures name it.
    public var meaning: String {
        self == .full ? "the loss training uses, every prediction" : "the loss of the answers (attribute values) alone"
    }
}

/// One layer's activations for a list of inputs: [count, dimension], row-major.
public struct ProbeLayer {
    /// E.g. "conv 2" or "block 1 @ position 3"; `layer` and `position` name it for figures.
    public var name: String { position.map { "\(layer) @ position \($0)" } ?? layer }
    public var layer: String
    /// The token position for sequence models (nil for one vector per input).
    public var position: Int?
    public var dimension: Int
    public var values: [Float]

    public init(layer: String, position: Int? = nil, dimension: Int, values: [Float]) {
        self.layer = layer; self.position = position; self.dimension = dimension; self.values = values
    }
}

extension TrainingTask {
    public var parameters: [Parameter] { network.parameters }
    public func trainingCount(stage: Int) -> Int { instance.trainingSet(stage: stage).count }
    public func trainingIndices(stage: Int, epoch: Int) -> [Int] {
        instance.trainedExamples(stage: stage, epoch: epoch) ?? Array(0..<trainingCount(stage: stage))
    }
    public func beginEpoch(stage: Int, epoch: Int) {}
    public func testScores(stage: Int) -> [TestScore] { [] }
}

/// One modality as a run sees it: what to call it, how to check and load its data, and how to
/// build a seed's task. Implemented by each modality's library (vision, text) and by tests.
public protocol Modality: AnyObject {
    /// config.json's "modality" and the default results folder, e.g. "mnist".
    var name: String { get }
    /// Figure titles start with it, e.g. "MNIST" or "Text".
    var title: String { get }
    /// Chance level of exact match (drawn in figures).
    func chance(_ protocolConfig: ProtocolConfig) -> Double
    /// The config.json keys `iml-compare` shows for runs of this modality (beside the protocol's).
    var comparedSettings: [String] { get }
    /// The modality's key settings in a few words, for figure subtitles and the first log line.
    var settingsLine: String { get }
    /// Checks the modality's settings against the protocol's before any data is loaded, so a
    /// typo costs no waiting. Throws an IMLError naming the setting and the fix.
    func validate(_ protocolConfig: ProtocolConfig) throws
    /// Loads what every seed shares (e.g. the MNIST files); called once, after validation.
    func prepare() throws
    /// Builds one seed's task (its data and model); `protocolConfig.seed` is the seed.
    func makeTask(_ protocolConfig: ProtocolConfig) throws -> TrainingTask
    /// A throughput figure for the final line of a run (e.g. training tokens per second), if any.
    func throughput(training: TrainingConfig, seeds: Int, wallSeconds: Double) -> String?
    /// The bytes one seed holds at its peak (data, model, optimizer), estimated from the settings
    /// alone, with the settings that drive it named for the message; nil when not estimated.
    func memoryEstimate(_ protocolConfig: ProtocolConfig) -> (bytes: Double, settings: String)?
}

extension Modality {
    public func chance(_ protocolConfig: ProtocolConfig) -> Double { 1 / Double(protocolConfig.classes) }
    public func prepare() throws {}
    public func throughput(training: TrainingConfig, seeds: Int, wallSeconds: Double) -> String? { nil }
    public func memoryEstimate(_ protocolConfig: ProtocolConfig) -> (bytes: Double, settings: String)? { nil }
}
