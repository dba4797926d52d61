// iml-bench: how fast the core runs on this machine.
//
// Rows: OpenBLAS sgemm at 256/512/1024 squared (the ceiling); forward + backward of each layer of
// the real default vision model (IMLVision's ConvNetMLP at batch 64: 1x60x56 input, conv 16-32-32
// 3x3, 2x2 pooling, MLP 1568-256-256-60); the real training step (VisionTask: standardize the
// batch, forward, masked loss, backward, then Adam); then the transformer block rows of
// TransformerBench.swift. FLOPs count 2*M*N*K for each product actually needed (forward, dW, and
// dX except for the first conv, which skips it); elementwise layers count none.
//
// Times are thread CPU times (see BenchTimer), or wall-clock times with `--threads N` above 1,
// which lends N-1 helper threads to the core's work-sharing pool (Parallel.swift) so that each
// step spreads over N cores, as a one-seed run does with `--threads N`. `--concurrent N` also runs the training step on N threads at once, one model each, as a
// multi-seed run does (one seed per core): shared caches and memory bandwidth make each slower.

import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLCore
import IMLProtocol
import IMLVision
import MNIST

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iml-bench",
        abstract: "Time sgemm, every layer of the vision ConvNet + MLP, and the whole training step.")

    @Option(help: "Cores each step may use: the caller plus N-1 helpers of the work-sharing pool, as `run --seeds 1 --threads N` (times are then wall-clock). OpenBLAS always runs one thread.")
    var threads = 1

    @Option(help: "Timed iterations per row; the fastest is reported (and the median for the step rows).")
    var repeats = 20

    @Option(help: "Batch size of the model rows.")
    var batch = 64

    @Option(help: "Also time the training step on this many threads at once, one model each (0 = skip; with --threads above 1 they share the helpers, so the machine is oversubscribed).")
    var concurrent = 2

    @Flag(help: "Only the vision rows (skip sgemm and transformer).")
    var visionOnly = false

    @Option(help: ArgumentHelp("OpenBLAS's kernel: auto (the default: OpenBLAS's pick, or the fastest the processor's features allow where that pick is a fallback) or a name to pin, as `run --blas-core`.",
                               valueName: "name"))
    var blasCore: String?

    @Option(help: "Arithmetic of the products in the layer, transformer and whole-step rows (fp32 or bf16), as `run --precision`.")
    var precision: Precision = .fp32

    @Flag(help: "Also time every product shape of the two models' steps in fp32 and in bf16, side by side.")
    var products = false

    func validate() throws {
        do { try Parallel.checkThreads(threads) } catch let error as IMLError { throw ValidationError(error.message) }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats).") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch).") }
        guard concurrent >= 0 else { throw ValidationError("--concurrent must be at least 0, got \(concurrent).") }
    }

    func run() throws {
        let kernel = try BLASPin.apply(option: blasCore)
        BLAS.setThreads(1)
        Parallel.configure(cores: threads)
        for _ in 1..<threads {
            let helper = Thread { Parallel.serve(until: { false }) }
            helper.stackSize = 8 << 20
            helper.start()
        }
        BenchTimer.wallClock = threads > 1
        print("iml-bench: \(threads) thread(s) per step (one BLAS thread), batch \(batch), best of \(repeats) runs per row, model products in \(precision.rawValue)")
        print(kernel.line + "\n")
        var reference: Double? = nil
        if !visionOnly {
            let gemmRows = sgemmRows()
            printTable(gemmRows, reference: nil)
            reference = gemmRows.first { $0.name == "sgemm 512^2" }?.gflops
            print("")
        }
        // The sgemm rows above are OpenBLAS's fp32 ceiling; the model rows use --precision.
        try BLAS.use(precision)
        var rows = layerRows()
        let modelFlops = rows.reduce(0) { $0 + $1.flopsPerIteration }
        rows.append(try trainingStep(flops: modelFlops, instances: 1))
        if concurrent > 1 { rows.append(try trainingStep(flops: modelFlops, instances: concurrent)) }
        printTable(rows, reference: reference)

        if !visionOnly {
            // The transformer rows come from TransformerBench.swift.
            print("")
            printTable(benchTransformerBlock(repeats: repeats), reference: reference)
        }

        print("\nWhole training steps (ModelSteps.swift), batch \(batch) protocol examples, products in \(precision.rawValue):")
        let steps = try benchModelSteps(data: try Self.syntheticDigits(), batch: batch, repeats: repeats)
        for step in steps {
            print(String(format: "%@ %8.3f ms/step %8.0f examples/s %8.1f heap allocations/step",
                         step.row.name.padding(toLength: 38, withPad: " ", startingAt: 0),
                         step.row.secondsPerIteration * 1e3, step.row.examplesPerSecond, step.allocationsPerStep))
        }
        try BLAS.use(.fp32)
        if products {
            print("\nThe products of those steps (ProductBench.swift), fp32 against bf16:")
            for line in try benchProducts(steps.map(\.products), repeats: repeats) { print(line) }
        }
    }

    func sgemmRows() -> [BenchRow] {
        [256, 512, 1024].map { n in
            var rng = SeededRandom(seed: 1, stream: "bench-sgemm")
            let a = Tensor([n, n]), b = Tensor([n, n]), c = Tensor([n, n])
            a.fillUniform(-1, 1, &rng); b.fillUniform(-1, 1, &rng)
            let reps = max(3, repeats * 256 / n)
            let seconds = BenchTimer.secondsPerIteration(repeats: reps) {
                BLAS.sgemm(m: n, n: n, k: n, a: a.pointer, b: b.pointer, c: c.pointer)
            }
            return BenchRow(name: "sgemm \(n)^2", flopsPerIteration: 2 * Double(n * n * n),
                            secondsPerIteration: seconds, examplesPerIteration: 0)
        }
    }

    /// Forward + backward of every layer of the default ConvNetMLP, each on the activation the
    /// model itself feeds it, with a fixed random upstream gradient.
    func layerRows() -> [BenchRow] {
        var rng = SeededRandom(seed: 1, stream: "bench-vision")
        let model = ConvNetMLP(seed: 1)
        let config = model.config
        var rows: [BenchRow] = []
        var x = Tensor([batch, config.inputChannels, config.height, config.width])
        x.fillNormal(std: 1, &rng)

        func time(_ name: String, flops: Double, _ forward: @escaping (Tensor) -> Tensor,
                  _ backward: @escaping (Tensor) -> Void) {
            let input = x
            let y = forward(input)
            let dy = Tensor(y.shape)
            dy.fillUniform(-1, 1, &rng)
            let seconds = BenchTimer.secondsPerIteration(repeats: repeats) {
                _ = forward(input)
                backward(dy)
            }
            rows.append(BenchRow(name: name, flopsPerIteration: flops, secondsPerIteration: seconds,
                                 examplesPerIteration: batch))
            x = forward(input)
        }

        var h = config.height, w = config.width
        for (i, conv) in model.convs.enumerated() {
            let (cin, cout, k) = (conv.inChannels, conv.outChannels, conv.kernel)
            let products = Double(conv.needsInputGradient ? 3 : 2)  // forward, dW, and dX unless first
            let flops = products * 2 * Double(batch * h * w) * Double(cout) * Double(cin * k * k)
            time("conv\(i + 1)+pool+relu \(cin)->\(cout) \(k)x\(k) @\(h)x\(w)", flops: flops,
                 { conv.forward($0) }, { conv.backward($0) })
            h /= 2; w /= 2
        }
        for (i, linear) in model.linears.enumerated() {
            let flops = 3 * 2 * Double(batch * linear.inFeatures * linear.outFeatures)
            time("fc\(i + 1) \(linear.inFeatures)->\(linear.outFeatures)", flops: flops,
                 { linear.forward($0) }, { linear.backward($0) })
            if i < model.hiddenReLUs.count {
                let relu = model.hiddenReLUs[i]
                time("relu fc\(i + 1) [\(linear.outFeatures)]", flops: 0, { relu.forward($0) }, { relu.backward($0) })
            }
        }
        return rows
    }

    /// The training step as mnist-iml runs it: VisionTask (standardize the batch's 8-bit images,
    /// forward, masked cross-entropy, backward) and Adam, on `instances` threads at once, each with
    /// its own task and model. Images come from a synthetic digit set (the time does not depend on
    /// the pixels).
    func trainingStep(flops: Double, instances: Int) throws -> BenchRow {
        let data = try Self.syntheticDigits()
        let tasks: [(task: VisionTask, adam: Adam)] = try (0..<instances).map { i in
            let vision = VisionConfig()
            var config = ProtocolConfig()
            config.seed = UInt64(i)
            let instance = try ProtocolInstance(config: config, variableSpec: vision.variableSpec,
                                                tagSpec: vision.tagSpec, forbiddenTags: [vision.blankTag])
            let renderer = try VisionRenderer(instance: instance, data: data, config: vision)
            let task = try VisionTask(renderer: renderer, modelSeed: UInt64(i))
            return (task, Adam(parameters: task.parameters, lr: 1e-3))
        }
        let examples = tasks[0].task.instance.trainingSet(stage: 1).count
        precondition(examples >= batch, "the synthetic training set (\(examples)) is smaller than --batch \(batch)")
        let times = BenchTimer.concurrentSecondsPerIteration(threads: instances, repeats: repeats) { thread, step in
            let (task, adam) = tasks[thread]
            let start = (step * batch) % (examples - batch + 1)
            task.network.zeroGrad()
            _ = task.lossAndGradient(stage: 1, examples: Array(start..<(start + batch))[...])
            adam.step()
        }
        let name = instances == 1 ? "model step (fwd+bwd+Adam)" : "model step, \(instances) at once (each)"
        return BenchRow(name: name, flopsPerIteration: flops, secondsPerIteration: times.best,
                        examplesPerIteration: batch, medianSeconds: times.median)
    }

    /// Ten classes of random 28x28 strokes, 20 drawings each, for both splits.
    static func syntheticDigits() throws -> MNISTData {
        var rng = SeededRandom(seed: 3, stream: "bench-digits")
        func split() throws -> MNISTSplit {
            let count = 200
            let images = (0..<(count * 28 * 28)).map { _ in rng.int(below: 3) == 0 ? UInt8(rng.int(below: 256)) : 0 }
            return try MNISTSplit(count: count, rows: 28, cols: 28, images: images,
                                  labels: (0..<count).map { UInt8($0 % 10) })
        }
        return MNISTData(train: try split(), test: try split(), directory: URL(fileURLWithPath: "/synthetic"))
    }

    func printTable(_ rows: [BenchRow], reference: Double?) {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        let showMedian = rows.contains { $0.medianSeconds != nil }
        print(pad("row", 38) + lpad("ms/iter", 10) + (showMedian ? lpad("median", 10) : "") + lpad("GFLOP/s", 10)
              + lpad("examples/s", 12) + (reference == nil ? "" : lpad("% sgemm512", 12)))
        for r in rows {
            let hasFlops = r.flopsPerIteration > 0
            var line = pad(r.name, 38) + lpad(String(format: "%.3f", r.secondsPerIteration * 1e3), 10)
            if showMedian { line += lpad(r.medianSeconds.map { String(format: "%.3f", $0 * 1e3) } ?? "", 10) }
            line += lpad(hasFlops ? String(format: "%.1f", r.gflops) : "-", 10)
            line += lpad(r.examplesPerIteration > 0 ? String(format: "%.0f", r.examplesPerSecond) : "-", 12)
            if let reference {
                line += lpad(hasFlops ? String(format: "%.0f%%", 100 * r.gflops / reference) : "-", 12)
            }
            print(line)
        }
    }
}

Bench.main()
