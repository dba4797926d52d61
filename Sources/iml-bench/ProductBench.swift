// Product rows of iml-bench: the matrix products one training step of each default model makes,
// recorded from real steps (BLAS.recordShape), each timed in fp32 (OpenBLAS) and in bf16
// (CKernels' kernel) side by side; then each model's whole set, weighted by how often a step
// makes each shape. M x N x K, "At"/"Bt" where an operand is transposed.

import Foundation
import IMLBase
import IMLCore

/// One model's products per step: shape -> calls per step.
struct StepProducts {
    let model: String
    let calls: [BLAS.ProductShape: Double]
}

func benchProducts(_ models: [StepProducts], repeats: Int) throws -> [String] {
    var rng = SeededRandom(seed: 1, stream: "bench-products")
    var lines = ["product (M x N x K)                      calls/step  fp32 GFLOP/s  bf16 GFLOP/s  bf16/fp32 rate  share of fp32 time"]
    for model in models {
        var rows: [(label: String, calls: Double, flops: Double, fp32: Double, bf16: Double)] = []
        for (shape, calls) in model.calls {
            let a = Tensor([shape.m * shape.k]), b = Tensor([shape.k * shape.n]), c = Tensor([shape.m * shape.n])
            a.fillUniform(-1, 1, &rng); b.fillUniform(-1, 1, &rng)
            let flops = 2 * Double(shape.m * shape.n * shape.k)
            // Each timed sample holds enough calls (about 2 MFLOP) that the clock's own cost is negligible.
            let inner = max(1, Int(2e6 / flops))
            var seconds: [Precision: Double] = [:]
            for precision in Precision.allCases {
                try BLAS.use(precision)
                seconds[precision] = BenchTimer.secondsPerIteration(repeats: repeats) {
                    for _ in 0..<inner {
                        BLAS.sgemm(transA: shape.transA, transB: shape.transB, m: shape.m, n: shape.n, k: shape.k,
                                   a: a.pointer, b: b.pointer, c: c.pointer)
                    }
                } / Double(inner)
            }
            try BLAS.use(.fp32)
            let label = "\(model.model) \(shape.m)x\(shape.n)x\(shape.k)\(shape.transA ? " At" : "")\(shape.transB ? " Bt" : "")"
            rows.append((label, calls, flops, seconds[.fp32]!, seconds[.bf16]!))
        }
        let fp32Total = rows.reduce(0) { $0 + $1.fp32 * $1.calls }, bf16Total = rows.reduce(0) { $0 + $1.bf16 * $1.calls }
        // The shapes that take most of a step's product time first; the rest summed in the total.
        for row in rows.sorted(by: { $0.fp32 * $0.calls > $1.fp32 * $1.calls }).prefix(10) {
            lines.append(row.label.padding(toLength: 42, withPad: " ", startingAt: 0)
                         + String(format: "%10.1f %13.1f %13.1f %15.2f %18.0f%%", row.calls, row.flops / row.fp32 / 1e9,
                                  row.flops / row.bf16 / 1e9, row.fp32 / row.bf16, 100 * row.fp32 * row.calls / fp32Total))
        }
        lines.append("\(model.model): all \(rows.count) shapes of a step".padding(toLength: 42, withPad: " ", startingAt: 0)
                     + String(format: "%10@ %10.2f ms %10.2f ms %15.2f", "", fp32Total * 1e3, bf16Total * 1e3, fp32Total / bf16Total))
    }
    return lines
}
