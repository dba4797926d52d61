// What the trainer needs from a modality: a model's parameters, a loss-and-gradient step over
// some training examples, and predictions for evaluation questions. The trainer never sees
// pixels or tokens, so the same loop trains the ConvNet on images and the transformer on text.

import IMLCore
import IMLProtocol

public protocol TrainingTask: AnyObject {
    /// The model's parameters with their gradients, in a fixed order.
    var parameters: [Parameter] { get }
    /// The protocol instance this task renders.
    var instance: ProtocolInstance { get }
    /// How many indices the trainer shuffles and batches in `stage` (default: one per example
    /// of `instance.trainingSet(stage:)`; a task may batch finer units, e.g. text documents).
    func trainingCount(stage: Int) -> Int
    /// Forward pass, loss and backward pass over `examples` (indices in 0..<trainingCount,
    /// by default into `instance.trainingSet(stage:)`), accumulating gradients. Returns the mean loss.
    func lossAndGradient(stage: Int, examples: ArraySlice<Int>) -> Float
    /// The predicted class of the asked attribute, for every question of `set`.
    func predict(_ set: EvalSet) -> [Int]
}

extension TrainingTask {
    public func trainingCount(stage: Int) -> Int { instance.trainingSet(stage: stage).count }
    public func zeroGrad() { for p in parameters { p.grad.zero() } }
}
