// Layer normalisation over the last dimension (llm.c's layernorm_forward/layernorm_backward):
//
//   x [..., D] -> y [N, D], N = x.count / D (leading dims flattened into rows, the form Linear takes),
//     y = (x - mean) * rstd * weight + bias,  rstd = 1 / sqrt(var + 1e-5)
//   weight [D] (starts at 1), bias [D] (starts at 0); mean, rstd [N] cached for backward.
//   dL/dx has x's shape.
//
// Threads (Parallel.swift): rows in RowBlocks; backward sums dweight and dbias over all rows in
// row order in one piece of their own, beside the blocks of dx.
//
// The input is kept by reference for backward: it must not change between forward and backward.

public final class LayerNorm: Layer {
    public let dim: Int
    public let epsilon: Float

    public let weight: Tensor
    public let bias: Tensor
    public let weightGrad: Tensor
    public let biasGrad: Tensor

    public private(set) var output = Tensor([0])
    public private(set) var inputGrad = Tensor([0])
    private var mean = Tensor([0])
    private var rstd = Tensor([0])
    private var input: Tensor?

    public init(dim: Int, epsilon: Float = 1e-5) {
        precondition(dim > 0)
        self.dim = dim
        self.epsilon = epsilon
        weight = Tensor([dim], fill: 1)
        bias = Tensor([dim])
        weightGrad = Tensor([dim])
        biasGrad = Tensor([dim])
    }

    public private(set) lazy var parameters: [Parameter] = {
        [Parameter("weight", weight, weightGrad, decay: false),
         Parameter("bias", bias, biasGrad, decay: false)]
    }()

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == dim, "LayerNorm(dim: \(dim)) given \(x.shape)")
        input = x
        let d = dim, rows = x.count / d
        output.resize(rows, d)
        mean.resize(rows)
        rstd.resize(rows)
        let xp = x.pointer, yp = output.pointer, w = weight.pointer, b = bias.pointer
        let meanp = mean.pointer, rstdp = rstd.pointer
        let invD = 1 / Float(d), epsilon = self.epsilon
        Parallel.forEach(RowBlocks(rows: rows)) { block in for r in block {
            let xr = xp + r * d, yr = yp + r * d
            var sum: Float = 0
            for i in 0..<d { sum += xr[i] }
            let m = sum * invD
            // Two passes (mean, then squared deviations) rather than E[x^2] - m^2, which cancels.
            var sq: Float = 0
            for i in 0..<d { let dev = xr[i] - m; sq += dev * dev }
            let s = 1 / (sq * invD + epsilon).squareRoot()
            for i in 0..<d { yr[i] = (xr[i] - m) * s * w[i] + b[i] }
            meanp[r] = m
            rstdp[r] = s
        } }
        return output
    }

    /// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * weight,  xhat = (x - mean) * rstd.
    public func backward(_ outputGrad: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("LayerNorm.backward before forward") }
        precondition(outputGrad.count == x.count, "LayerNorm.backward: gradient \(outputGrad.shape) for input \(x.shape)")
        let d = dim, rows = x.count / d
        inputGrad.resize(x.shape)
        let xp = x.pointer, dyp = outputGrad.pointer, dxp = inputGrad.pointer
        let w = weight.pointer, dw = weightGrad.pointer, db = biasGrad.pointer
        let meanp = mean.pointer, rstdp = rstd.pointer
        let invD = 1 / Float(d), blocks = RowBlocks(rows: rows)
        Parallel.forEach(1 + blocks.count) { piece, _ in
            if piece == 0 {
                for r in 0..<rows {
                    let xr = xp + r * d, dyr = dyp + r * d, m = meanp[r], s = rstdp[r]
                    for i in 0..<d {
                        let xhat = (xr[i] - m) * s
                        db[i] += dyr[i]
                        dw[i] += xhat * dyr[i]
                    }
                }
                return
            }
            for r in blocks.range(piece - 1) {
                let xr = xp + r * d, dyr = dyp + r * d, dxr = dxp + r * d
                let m = meanp[r], s = rstdp[r]
                var gMean: Float = 0, gXhatMean: Float = 0
                for i in 0..<d {
                    let xhat = (xr[i] - m) * s
                    let g = w[i] * dyr[i]
                    gMean += g
                    gXhatMean += g * xhat
                }
                gMean *= invD
                gXhatMean *= invD
                for i in 0..<d {
                    let xhat = (xr[i] - m) * s
                    dxr[i] = s * (w[i] * dyr[i] - gMean - xhat * gXhatMean)
                }
            }
        }
        return inputGrad
    }
}
