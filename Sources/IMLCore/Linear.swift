// Fully connected layer (llm.c's matmul_forward/matmul_backward):
//
//   x [B, in] (or any [B, ...] whose trailing dims multiply to `in`, e.g. a flattened feature map)
//   -> y [B, out],  y = x W^T + b
//   weight [out, in], bias [out]; PyTorch's default init U(-1/sqrt(in), 1/sqrt(in)) for both.
//
// Threads (Parallel.swift): forward splits the batch into a few large RowBlocks (each block
// packs the weights again, so not many); backward runs dW and db as one piece, the very product
// one thread would compute, beside dx in blocks of batch rows. Each piece is the same arithmetic
// on any thread, so the bits never depend on the thread count.
//
// The input is kept by reference for backward: it must not change between forward and backward.

import IMLBase

public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int

    public let weight: Tensor
    public let bias: Tensor
    public let weightGrad: Tensor
    public let biasGrad: Tensor

    public private(set) var output = Tensor([0])
    public private(set) var inputGrad = Tensor([0])
    private var input: Tensor?

    public init(inFeatures: Int, outFeatures: Int, rng: inout SeededRandom) {
        precondition(inFeatures > 0 && outFeatures > 0,
                     "Linear needs positive sizes, got in \(inFeatures), out \(outFeatures)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Tensor([outFeatures, inFeatures])
        bias = Tensor([outFeatures])
        weightGrad = Tensor([outFeatures, inFeatures])
        biasGrad = Tensor([outFeatures])
        let bound = 1 / Float(inFeatures).squareRoot()
        weight.fillUniform(-bound, bound, &rng)
        bias.fillUniform(-bound, bound, &rng)
    }

    public private(set) lazy var parameters: [Parameter] = {
        [Parameter("weight", weight, weightGrad), Parameter("bias", bias, biasGrad)]
    }()

    public func forward(_ x: Tensor) -> Tensor {
        let batch = x.shape.first ?? 0
        precondition(batch * inFeatures == x.count,
                     "Linear(in: \(inFeatures)) was given shape \(x.shape); pass [batch, \(inFeatures)]")
        input = x
        output.resize(batch, outFeatures)
        let y = output.pointer, b = bias.pointer
        let inFeatures = inFeatures, outFeatures = outFeatures, w = weight.pointer
        Parallel.forEach(Self.rowBlocks(batch)) { rows in
            // Start from the bias so one sgemm with beta = 1 finishes the job.
            for r in rows { (y + r * outFeatures).update(from: b, count: outFeatures) }
            BLAS.sgemm(transB: true, m: rows.count, n: outFeatures, k: inFeatures,
                       a: x.pointer + rows.lowerBound * inFeatures, b: w, beta: 1, c: y + rows.lowerBound * outFeatures)
        }
        return output
    }

    /// dy [B, out] -> dx with the input's shape; dW += dy^T x, db += sum over rows of dy.
    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Linear.backward called before forward") }
        let batch = x.shape.first ?? 0
        precondition(dy.count == batch * outFeatures,
                     "Linear.backward was given \(dy.shape); expected [\(batch), \(outFeatures)] like its output")
        inputGrad.resize(x.shape)
        guard batch > 0 else { return inputGrad }
        let rows = Self.rowBlocks(batch), inFeatures = inFeatures, outFeatures = outFeatures
        let g = dy.pointer, dW = weightGrad.pointer, db = biasGrad.pointer, w = weight.pointer, dx = inputGrad.pointer
        Parallel.forEach(1 + rows.count) { piece, _ in
            if piece == 0 {
                BLAS.sgemm(transA: true, m: outFeatures, n: inFeatures, k: batch,
                           a: g, b: x.pointer, beta: 1, c: dW)
                for r in 0..<batch {
                    let row = g + r * outFeatures
                    for o in 0..<outFeatures { db[o] += row[o] }
                }
            } else {
                // dx for a block of batch rows.
                let block = rows.range(piece - 1)
                BLAS.sgemm(m: block.count, n: inFeatures, k: outFeatures, a: g + block.lowerBound * outFeatures,
                           b: w, beta: 0, c: dx + block.lowerBound * inFeatures)
            }
        }
        return inputGrad
    }

    /// At most 4 blocks of at least 36 rows: every block packs the other operand again.
    static func rowBlocks(_ rows: Int) -> RowBlocks { RowBlocks(rows: rows, target: 4, minimum: 36) }
}
