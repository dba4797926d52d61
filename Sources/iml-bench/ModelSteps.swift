// Whole training steps of both models as the tools run them (zero the gradients, the task's
// forward, loss and backward over a batch of 64 protocol examples, Adam), with their time and the
// heap allocations a step makes once warm. Batches cycle through a fixed shuffled order of the
// stage-1 training set, so the text rows see the mix of definitions and questions a run sees.

import CAllocationCounter
import IMLBase
import IMLCore
import IMLRunFiles
import IMLTraining
import IMLProtocol
import IMLText
import IMLVision
import MNIST

struct ModelStepRow {
    var row: BenchRow
    var allocationsPerStep: Double
    /// The products a step makes (recorded over one pass of the batches).
    var products: StepProducts
}

func benchModelSteps(data: MNISTData, batch: Int, repeats: Int) throws -> [ModelStepRow] {
    var config = ProtocolConfig()
    config.seed = 1
    let tasks: [(String, TrainingTask)] = [
        ("vision model step (ConvNet + MLP)", try VisionModality(data: data).makeTask(config)),
        ("text model step (transformer)", try TextModality(text: TextConfig(), model: TransformerLM.Config(), unit: .standard).makeTask(config)),
    ]
    return tasks.map { name, task in
        let adam = Trainer.makeOptimizer(parameters: task.parameters, config: TrainingConfig())
        var order = Array(0..<task.trainingCount(stage: 1))
        var rng = SeededRandom(seed: 2, stream: "bench-batches")
        rng.shuffle(&order)
        let batches = (0..<16).map { order[($0 * batch)..<(($0 + 1) * batch)] }
        var next = 0
        func step() {
            task.network.zeroGrad()
            _ = task.lossAndGradient(stage: 1, examples: batches[next % batches.count])
            adam.step()
            next += 1
        }
        for _ in 0..<batches.count { step() }  // every batch once: buffers reach their largest size
        var calls: [BLAS.ProductShape: Double] = [:]
        BLAS.recordShape = { calls[$0, default: 0] += 1 / Double(batches.count) }
        for _ in 0..<batches.count { step() }
        BLAS.recordShape = nil
        let steps = 2 * batches.count
        let before = iml_allocation_count()
        for _ in 0..<steps { step() }
        let allocations = Double(iml_allocation_count() - before) / Double(steps)
        let seconds = BenchTimer.secondsPerIteration(repeats: repeats, step)
        return ModelStepRow(row: BenchRow(name: name, flopsPerIteration: 0, secondsPerIteration: seconds, examplesPerIteration: batch),
                            allocationsPerStep: allocations,
                            products: StepProducts(model: name.hasPrefix("vision") ? "vision" : "text", calls: calls))
    }
}
