// Pre-LayerNorm transformer block (GPT-2's, as in llm.c's per-layer loop):
//
//   x  [B, T, D]
//   h  = x + attention(ln1(x))                       [B, T, D]
//   y  = h + mlpDown(gelu(mlpUp(ln2(h))))            [B, T, D]
//   mlpUp: D -> 4D, mlpDown: 4D -> D; sublayers exchange [B*T, .] row matrices (Linear's form).
//
// The input is kept (by the first LayerNorm) for backward: it must not change in between.

import IMLBase

public final class TransformerBlock: Layer {
    public let dim: Int
    public let heads: Int

    public let ln1: LayerNorm
    public let attention: CausalSelfAttention
    public let ln2: LayerNorm
    public let mlpUp: Linear
    public let gelu = GELU()
    public let mlpDown: Linear

    /// h = x + attention(ln1(x)), the residual stream between the two sublayers.
    private var residual = Tensor([0])
    public private(set) var output = Tensor([0])
    private var residualGrad = Tensor([0])
    public private(set) var inputGrad = Tensor([0])

    public init(dim: Int, heads: Int, rng: inout SeededRandom) {
        self.dim = dim
        self.heads = heads
        ln1 = LayerNorm(dim: dim)
        attention = CausalSelfAttention(dim: dim, heads: heads, rng: &rng)
        ln2 = LayerNorm(dim: dim)
        mlpUp = Linear(inFeatures: dim, outFeatures: 4 * dim, rng: &rng)
        mlpDown = Linear(inFeatures: 4 * dim, outFeatures: dim, rng: &rng)
    }

    public private(set) lazy var parameters: [Parameter] = {
        ln1.parameters.prefixed("ln1") + attention.parameters.prefixed("attn") + ln2.parameters.prefixed("ln2")
            + mlpUp.parameters.prefixed("mlpUp") + mlpDown.parameters.prefixed("mlpDown")
    }()

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 3 && x.shape[2] == dim, "TransformerBlock(dim: \(dim)) given \(x.shape), want [B, T, \(dim)]")
        let n = x.count
        residual.resize(x.shape)
        output.resize(x.shape)

        let attended = attention.forward(ln1.forward(x), length: x.shape[1])
        add(x.pointer, attended.pointer, into: residual.pointer, n)

        let mlpOut = mlpDown.forward(gelu.forward(mlpUp.forward(ln2.forward(residual))))
        add(residual.pointer, mlpOut.pointer, into: output.pointer, n)
        return output
    }

    /// dy [B, T, D] -> dx [B, T, D]; each residual branch adds its gradient to the skip path's.
    public func backward(_ outputGrad: Tensor) -> Tensor {
        precondition(outputGrad.count == output.count, "TransformerBlock.backward: gradient \(outputGrad.shape) for output \(output.shape)")
        let n = output.count
        residualGrad.resize(output.shape)
        inputGrad.resize(output.shape)

        let dResidualViaMLP = ln2.backward(mlpUp.backward(gelu.backward(mlpDown.backward(outputGrad))))
        add(outputGrad.pointer, dResidualViaMLP.pointer, into: residualGrad.pointer, n)

        let dInputViaAttention = ln1.backward(attention.backward(residualGrad))
        add(residualGrad.pointer, dInputViaAttention.pointer, into: inputGrad.pointer, n)
        return inputGrad
    }
}

@inline(__always)
private func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>, _ n: Int) {
    Parallel.forEachChunk(n) { elements in for i in elements { c[i] = a[i] + b[i] } }
}
