// GELU, the tanh approximation used by GPT-2 (and llm.c's gelu_forward/gelu_backward):
//
//   y = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//
// tanh is Eigen's float rational function (odd degree-13 over even degree-6, clamped at +-7.9,
// tanh(x) = x below 0.0004): pure arithmetic, max absolute error 3.9e-7 on [-12, 12] against
// Double tanh (libm's tanhf, 1e-7, is a call per element and made GELU cost more than the MLP's
// products). The forward loop is CKernels/gelu.c, which runs it eight lanes wide on AVX2.
//
//   x [...] -> y [...]  (elementwise, any shape; no parameters)
//
// The input is kept by reference for backward: it must not change between forward and backward
// (in a block it is the preceding Linear's own output buffer, which only the next forward rewrites).

import CKernels

public final class GELU: Layer {
    public private(set) var output = Tensor([0])
    public private(set) var inputGrad = Tensor([0])
    /// tanh(u) from forward, so backward does not evaluate tanh a second time.
    private var tanhOfU = Tensor([0])
    private var input: Tensor?

    public init() {}

    public var parameters: [Parameter] { [] }

    private static let sqrtTwoOverPi: Float = 0.797_884_560_802_865_4
    private static let cubic: Float = 0.044715

    public func forward(_ x: Tensor) -> Tensor {
        input = x
        output.resize(x.shape)
        tanhOfU.resize(x.shape)
        let n = x.count
        let xp = x.pointer, yp = output.pointer, tp = tanhOfU.pointer
        // CKernels/gelu.c: the formula above with AVX2 where the processor has it, same bits.
        // On the caller alone: split across helpers, its AVX2 pieces made the 2-thread text step
        // slower (iml-bench: 14.5-14.9 ms, against 10.5-10.7 ms unsplit; cause not found).
        iml_gelu_forward(xp, tp, yp, n)
        return output
    }

    /// dy/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
    public func backward(_ outputGrad: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("GELU.backward before forward") }
        precondition(outputGrad.count == x.count, "GELU.backward: gradient \(outputGrad.shape) for input \(x.shape)")
        inputGrad.resize(x.shape)
        let n = x.count
        let xp = x.pointer, tp = tanhOfU.pointer, dyp = outputGrad.pointer, dxp = inputGrad.pointer
        let s = GELU.sqrtTwoOverPi, c3 = 3 * GELU.cubic
        Parallel.forEachChunk(n) { elements in for i in elements {
            let v = xp[i], th = tp[i]
            let local = 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * s * (1 + c3 * v * v)
            dxp[i] = local * dyp[i]
        } }
        return inputGrad
    }
}
