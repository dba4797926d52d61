// Fully connected layer (llm.c's matmul_forward/matmul_backward):
//
//   x [B, in] (or any [B, ...] whose trailing dims multiply to `in`, e.g. a flattened feature map)
//   -> y [B, out],  y = x W^T + b
//   weight [out, in], bias [out]; PyTorch's default init U(-1/sqrt(in), 1/sqrt(in)) for both.
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
        [Parameter("weight", weight, weightGrad), Parameter("bias", bias, biasGrad, decay: false)]
    }()

    public func forward(_ x: Tensor) -> Tensor {
        let batch = x.shape.first ?? 0
        precondition(batch * inFeatures == x.count,
                     "Linear(in: \(inFeatures)) was given shape \(x.shape); pass [batch, \(inFeatures)]")
        input = x
        output.resize(batch, outFeatures)
        let y = output.pointer, b = bias.pointer
        // Start from the bias so one sgemm with beta = 1 finishes the job.
        for r in 0..<batch { (y + r * outFeatures).update(from: b, count: outFeatures) }
        if batch > 0 {
            BLAS.sgemm(transB: true, m: batch, n: outFeatures, k: inFeatures,
                       a: x.pointer, b: weight.pointer, beta: 1, c: y)
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
        BLAS.sgemm(transA: true, m: outFeatures, n: inFeatures, k: batch,
                   a: dy.pointer, b: x.pointer, beta: 1, c: weightGrad.pointer)
        let g = dy.pointer, db = biasGrad.pointer
        for r in 0..<batch {
            let row = g + r * outFeatures
            for o in 0..<outFeatures { db[o] += row[o] }
        }
        BLAS.sgemm(m: batch, n: inFeatures, k: outFeatures,
                   a: dy.pointer, b: weight.pointer, beta: 0, c: inputGrad.pointer)
        return inputGrad
    }
}
