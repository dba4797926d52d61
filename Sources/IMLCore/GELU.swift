// GELU, the tanh approximation used by GPT-2 (and llm.c's gelu_forward/gelu_backward):
//
//   y = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//
//   x [...] -> y [...]  (elementwise, any shape; no parameters)
//
// The input is kept by reference for backward: it must not change between forward and backward
// (in a block it is the preceding Linear's own output buffer, which only the next forward rewrites).

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
        let s = GELU.sqrtTwoOverPi, c = GELU.cubic
        Parallel.forEachChunk(n) { elements in for i in elements {
            let v = xp[i]
            let th = rationalTanh(s * (v + c * v * v * v))
            tp[i] = th
            yp[i] = 0.5 * v * (1 + th)
        } }
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

/// tanh as a rational function (Eigen's float tanh: odd degree-13 numerator, even degree-6
/// denominator, clamped at +-7.9 where it reaches 1 in Float). Pure arithmetic, so the GELU loops
/// vectorise; libm's tanhf is a call per element and made GELU cost more than the MLP's products.
/// Max absolute error 3.9e-7 on [-12, 12] (libm tanhf: 1e-7), measured against Double tanh.
@inline(__always)
func rationalTanh(_ a: Float) -> Float {
    let x = min(max(a, -7.905_311_107_635_498_05), 7.905_311_107_635_498_05)
    let x2 = x * x
    var p: Float = -2.760_768_477_423_55e-16
    p = p * x2 + 2.000_187_904_824_77e-13
    p = p * x2 - 8.604_671_522_137_35e-11
    p = p * x2 + 5.122_297_090_371_14e-08
    p = p * x2 + 1.485_722_357_179_79e-05
    p = p * x2 + 6.372_619_288_754_36e-04
    p = p * x2 + 4.893_524_558_917_86e-03
    p = p * x
    var q: Float = 1.198_258_394_667_02e-06
    q = q * x2 + 1.185_347_056_866_54e-04
    q = q * x2 + 2.268_434_632_439_00e-03
    q = q * x2 + 4.893_525_185_543_85e-03
    // Near 0 the quotient loses relative accuracy; tanh(x) = x there to Float precision.
    return abs(x) < 0.0004 ? x : p / q
}
