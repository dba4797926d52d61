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
        [Parameter("weight", weight, weightGrad),
         Parameter("bias", bias, biasGrad)]
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
        Parallel.forEach(RowBlocks(rows: rows)) { block in
            forEachRowGroup(block) { first, lanes, row in
                let x0 = xp + row(0) * d, x1 = xp + row(1) * d, x2 = xp + row(2) * d, x3 = xp + row(3) * d
                var sum = SIMD4<Float>()
                for i in 0..<d { sum += SIMD4(x0[i], x1[i], x2[i], x3[i]) }
                let m = sum * invD
                // Two passes (mean, then squared deviations) rather than E[x^2] - m^2, which cancels.
                var sq = SIMD4<Float>()
                for i in 0..<d {
                    let dev = SIMD4(x0[i], x1[i], x2[i], x3[i]) - m
                    sq += dev * dev
                }
                let s = 1 / (sq * invD + epsilon).squareRoot()
                for lane in 0..<lanes {
                    let r = first + lane, xr = xp + r * d, yr = yp + r * d, ml = m[lane], sl = s[lane]
                    for i in 0..<d { yr[i] = (xr[i] - ml) * sl * w[i] + b[i] }
                    meanp[r] = ml
                    rstdp[r] = sl
                }
            }
        }
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
            forEachRowGroup(blocks.range(piece - 1)) { first, lanes, row in
                let x0 = xp + row(0) * d, x1 = xp + row(1) * d, x2 = xp + row(2) * d, x3 = xp + row(3) * d
                let dy0 = dyp + row(0) * d, dy1 = dyp + row(1) * d, dy2 = dyp + row(2) * d, dy3 = dyp + row(3) * d
                let m = SIMD4(meanp[row(0)], meanp[row(1)], meanp[row(2)], meanp[row(3)])
                let s = SIMD4(rstdp[row(0)], rstdp[row(1)], rstdp[row(2)], rstdp[row(3)])
                var gMean = SIMD4<Float>(), gXhatMean = SIMD4<Float>()
                for i in 0..<d {
                    let xhat = (SIMD4(x0[i], x1[i], x2[i], x3[i]) - m) * s
                    let g = w[i] * SIMD4(dy0[i], dy1[i], dy2[i], dy3[i])
                    gMean += g
                    gXhatMean += g * xhat
                }
                gMean *= invD
                gXhatMean *= invD
                for lane in 0..<lanes {
                    let r = first + lane, xr = xp + r * d, dyr = dyp + r * d, dxr = dxp + r * d
                    let ml = m[lane], sl = s[lane], gm = gMean[lane], gx = gXhatMean[lane]
                    for i in 0..<d {
                        let xhat = (xr[i] - ml) * sl
                        dxr[i] = sl * (w[i] * dyr[i] - gm - xhat * gx)
                    }
                }
            }
        }
        return inputGrad
    }
}

/// Calls `body(first, lanes, row)` for the rows of `rows` in groups of four: `lanes` rows from
/// `first` (four, or fewer in the last group), `row(j)` the index of the group's row j (the last
/// row again for the lanes past `lanes`, computed and discarded). A row's sum over
/// its D entries is one chain of dependent adds; four rows' chains side by side in one SIMD4 keep
/// the adder busy, and each row is still summed in index order, so the bits equal a
/// one-row-at-a-time loop's.
@inline(__always)
private func forEachRowGroup(_ rows: Range<Int>, _ body: (_ first: Int, _ lanes: Int, _ row: (Int) -> Int) -> Void) {
    var first = rows.lowerBound
    while first < rows.upperBound {
        let lanes = min(4, rows.upperBound - first)
        body(first, lanes) { first + min($0, lanes - 1) }
        first += lanes
    }
}
