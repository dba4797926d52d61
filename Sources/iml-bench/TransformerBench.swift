// Transformer rows of iml-bench: forward + backward of each sublayer of the default block (width
// 128, 4 heads, 16 tokens, batch 64) and of the whole block.
//
// FLOPs count 2*M*N*K for every product actually computed: forward, dW and dX of each projection
// (3 products), and in the attention core the causal part only, T(T+1)/2 query-key pairs per
// (sequence, head), each with 2 products of length hs forward (q.k, att*v) and 4 backward
// (datt, dv, dq, dk). Elementwise work (LayerNorm, softmax, GELU, residual adds) counts none, as
// in the vision rows, so those rows show time only.

import IMLBase
import IMLCore

func benchTransformerBlock(repeats: Int = 20) -> [BenchRow] {
    let batch = 64, length = 16, dim = 128, heads = 4
    let tokens = batch * length, headDim = dim / heads
    var rng = SeededRandom(seed: 1, stream: "bench-transformer")
    let x = Tensor([batch, length, dim])
    x.fillUniform(-1, 1, &rng)

    func row(_ name: String, flops: Double, _ body: () -> Void) -> BenchRow {
        BenchRow(name: name, flopsPerIteration: flops,
                 secondsPerIteration: BenchTimer.secondsPerIteration(repeats: repeats, body),
                 examplesPerIteration: batch)
    }
    func gradient(like y: Tensor) -> Tensor {
        let g = Tensor(y.shape)
        g.fillUniform(-1, 1, &rng)
        return g
    }
    func projectionFlops(_ inFeatures: Int, _ outFeatures: Int) -> Double {
        3 * 2 * Double(tokens * inFeatures * outFeatures)
    }
    let causalPairs = Double(length * (length + 1) / 2)
    let attentionCoreFlops = 6 * 2 * Double(headDim) * causalPairs * Double(batch * heads)
    let attentionFlops = projectionFlops(dim, 3 * dim) + attentionCoreFlops + projectionFlops(dim, dim)
    let mlpFlops = projectionFlops(dim, 4 * dim) + projectionFlops(4 * dim, dim)

    var rows: [BenchRow] = []

    let norm = LayerNorm(dim: dim)
    let normGrad = gradient(like: norm.forward(x))
    rows.append(row("ln \(dim) [\(tokens) rows]", flops: 0) {
        _ = norm.forward(x)
        _ = norm.backward(normGrad)
    })

    let normed = norm.forward(x).clone()
    let attention = CausalSelfAttention(dim: dim, heads: heads, rng: &rng)
    let attentionGrad = gradient(like: attention.forward(normed, length: length))
    let qkvGrad = gradient(like: attention.qkvProjection.output)
    rows.append(row("attn qkv proj \(dim)->\(3 * dim)", flops: projectionFlops(dim, 3 * dim)) {
        _ = attention.qkvProjection.forward(normed)
        _ = attention.qkvProjection.backward(qkvGrad)
    })
    let outputGrad = gradient(like: attention.outputProjection.output)
    rows.append(row("attn out proj \(dim)->\(dim)", flops: projectionFlops(dim, dim)) {
        _ = attention.outputProjection.forward(normed)
        _ = attention.outputProjection.backward(outputGrad)
    })
    // Minus the two projection rows, this is the causal softmax core's time.
    rows.append(row("attention \(heads)h T\(length) (proj+core)", flops: attentionFlops) {
        _ = attention.forward(normed, length: length)
        _ = attention.backward(attentionGrad)
    })

    let mlpUp = Linear(inFeatures: dim, outFeatures: 4 * dim, rng: &rng)
    let gelu = GELU()
    let mlpDown = Linear(inFeatures: 4 * dim, outFeatures: dim, rng: &rng)
    let mlpGrad = gradient(like: mlpDown.forward(gelu.forward(mlpUp.forward(normed))))
    let geluGrad = gradient(like: gelu.output)
    rows.append(row("gelu [\(tokens)x\(4 * dim)]", flops: 0) {
        _ = gelu.forward(mlpUp.output)
        _ = gelu.backward(geluGrad)
    })
    rows.append(row("mlp \(dim)->\(4 * dim)->\(dim) gelu", flops: mlpFlops) {
        _ = mlpDown.forward(gelu.forward(mlpUp.forward(normed)))
        _ = mlpUp.backward(gelu.backward(mlpDown.backward(mlpGrad)))
    })

    let block = TransformerBlock(dim: dim, heads: heads, rng: &rng)
    let blockGrad = gradient(like: block.forward(x))
    rows.append(row("block \(dim)/\(heads)h T\(length)", flops: attentionFlops + mlpFlops) {
        _ = block.forward(x)
        _ = block.backward(blockGrad)
    })
    return rows
}
