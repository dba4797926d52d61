// iml-bench: how fast the core runs on this machine.
//
// Rows: OpenBLAS sgemm at 256/512/1024 squared (the ceiling); forward + backward of each layer of
// the default vision ConvNet + MLP at batch 64 (1x60x56 input, conv 16-32-32 3x3, 2x2 pooling,
// MLP 1568-256-256-60); the whole model end to end (forward, loss, backward, Adam step); then the
// transformer block rows if TransformerBench.swift provides them. FLOPs count 2*M*N*K for each
// product actually needed (forward, dW, and dX except for the first conv, which skips it);
// elementwise layers count none.

import ArgumentParser
import Foundation
import IMLBase
import IMLCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iml-bench",
        abstract: "Time sgemm, every layer of the vision ConvNet + MLP, and the whole training step.")

    @Option(help: "OpenBLAS threads (1 makes results reproducible and is what the experiments use).")
    var threads = 1

    @Option(help: "Timed iterations per row; the fastest is reported.")
    var repeats = 20

    @Option(help: "Batch size of the model rows.")
    var batch = 64

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads).") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats).") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch).") }
    }

    func run() throws {
        BLAS.setThreads(threads)
        print("iml-bench: \(threads) BLAS thread(s), batch \(batch), best of \(repeats) runs per row\n")
        let gemmRows = sgemmRows()
        printTable(gemmRows, reference: nil)
        let reference = gemmRows.first { $0.name == "sgemm 512^2" }?.gflops

        print("")
        printTable(visionRows(), reference: reference)

        // The transformer rows come from TransformerBench.swift.
        print("")
        printTable(benchTransformerBlock(threads: threads, repeats: repeats), reference: reference)
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

    /// The default ConvNet + MLP, composed from IMLCore layers exactly as IMLVision's ConvNetMLP
    /// builds it (iml-bench depends on IMLCore only).
    func visionRows() -> [BenchRow] {
        var rng = SeededRandom(seed: 1, stream: "bench-vision")
        let channels = [16, 32, 32], hidden = [256, 256], logits = 6 * 10
        var rows: [BenchRow] = []
        var x = Tensor([batch, 1, 60, 56])
        x.fillUniform(-1, 1, &rng)

        // One forward + backward of `layer`, with a fixed random upstream gradient.
        func time(_ name: String, flops: Double, forward: @escaping (Tensor) -> Tensor,
                  backward: @escaping (Tensor) -> Void) -> Tensor {
            let y = forward(x).clone()
            let dy = Tensor(y.shape)
            dy.fillUniform(-1, 1, &rng)
            let input = x
            let seconds = BenchTimer.secondsPerIteration(repeats: repeats) {
                _ = forward(input)
                backward(dy)
            }
            rows.append(BenchRow(name: name, flopsPerIteration: flops, secondsPerIteration: seconds,
                                 examplesPerIteration: batch))
            return y
        }

        var inChannels = 1, h = 60, w = 56
        var convs: [Conv2d] = [], linears: [Linear] = []
        for (i, c) in channels.enumerated() {
            let conv = Conv2d(inChannels: inChannels, outChannels: c, kernel: 3, padding: 1,
                              needsInputGradient: i > 0, rng: &rng)
            convs.append(conv)
            let products = Double(i > 0 ? 3 : 2)  // forward, dW, and dX unless first
            let flops = products * 2 * Double(batch * h * w) * Double(c) * Double(inChannels * 9)
            x = time("conv\(i + 1) \(inChannels)->\(c) 3x3 @\(h)x\(w)", flops: flops,
                     forward: { conv.forward($0) }, backward: { conv.backward($0) })
            // Pool before ReLU, as ConvNetMLP does (identical result, ReLU on 4x fewer values).
            let pool = MaxPool2d()
            x = time("pool\(i + 1) 2x2 [\(c)x\(h)x\(w)]", flops: 0,
                     forward: { pool.forward($0) }, backward: { pool.backward($0) })
            let relu = ReLU()
            x = time("relu\(i + 1) [\(c)x\(h / 2)x\(w / 2)]", flops: 0,
                     forward: { relu.forward($0) }, backward: { relu.backward($0) })
            inChannels = c; h /= 2; w /= 2
        }
        var features = inChannels * h * w
        for (i, size) in (hidden + [logits]).enumerated() {
            let linear = Linear(inFeatures: features, outFeatures: size, rng: &rng)
            linears.append(linear)
            let flops = 3 * 2 * Double(batch * features * size)
            x = time("fc\(i + 1) \(features)->\(size)", flops: flops,
                     forward: { linear.forward($0) }, backward: { linear.backward($0) })
            if i < hidden.count {
                let relu = ReLU()
                x = time("relu fc\(i + 1) [\(size)]", flops: 0,
                         forward: { relu.forward($0) }, backward: { relu.backward($0) })
            }
            features = size
        }
        let modelFlops = rows.reduce(0) { $0 + $1.flopsPerIteration }
        rows.append(endToEnd(flops: modelFlops))
        return rows
    }

    /// A full training step of the default model: forward, loss, backward, Adam.
    func endToEnd(flops: Double) -> BenchRow {
        var rng = SeededRandom(seed: 2, stream: "bench-vision")
        let channels = [16, 32, 32], hidden = [256, 256], heads = 6, classes = 10
        var convs: [Conv2d] = [], inChannels = 1, h = 60, w = 56
        for (i, c) in channels.enumerated() {
            convs.append(Conv2d(inChannels: inChannels, outChannels: c, needsInputGradient: i > 0, rng: &rng))
            inChannels = c; h /= 2; w /= 2
        }
        var linears: [Linear] = [], features = inChannels * h * w
        for size in hidden + [heads * classes] {
            linears.append(Linear(inFeatures: features, outFeatures: size, rng: &rng))
            features = size
        }
        let convReLUs = convs.map { _ in ReLU() }, pools = convs.map { _ in MaxPool2d() }
        let hiddenReLUs = hidden.map { _ in ReLU() }
        let parameters = convs.flatMap(\.parameters) + linears.flatMap(\.parameters)
        let adam = Adam(parameters: parameters, lr: 1e-3)
        let loss = SoftmaxCrossEntropy()
        let images = Tensor([batch, 1, 60, 56])
        images.fillUniform(-1, 1, &rng)
        let targets = (0..<(batch * heads)).map { _ in Int32(rng.int(below: classes)) }

        let seconds = BenchTimer.secondsPerIteration(repeats: repeats) {
            adam.zeroGrad()
            var x = images
            for i in convs.indices { x = convReLUs[i].forward(pools[i].forward(convs[i].forward(x))) }
            for i in hiddenReLUs.indices { x = hiddenReLUs[i].forward(linears[i].forward(x)) }
            _ = loss.forward(logits: linears[linears.count - 1].forward(x), classes: classes,
                             targets: targets, groupSize: heads)
            var g = linears[linears.count - 1].backward(loss.backward())
            for i in hiddenReLUs.indices.reversed() { g = linears[i].backward(hiddenReLUs[i].backward(g)) }
            for i in convs.indices.reversed() { g = convs[i].backward(pools[i].backward(convReLUs[i].backward(g))) }
            adam.step()
        }
        return BenchRow(name: "model step (fwd+bwd+Adam)", flopsPerIteration: flops,
                        secondsPerIteration: seconds, examplesPerIteration: batch)
    }

    func printTable(_ rows: [BenchRow], reference: Double?) {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        print(pad("row", 34) + lpad("ms/iter", 10) + lpad("GFLOP/s", 10) + lpad("examples/s", 12)
              + (reference == nil ? "" : lpad("% sgemm512", 12)))
        for r in rows {
            let hasFlops = r.flopsPerIteration > 0
            var line = pad(r.name, 34) + lpad(String(format: "%.3f", r.secondsPerIteration * 1e3), 10)
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
