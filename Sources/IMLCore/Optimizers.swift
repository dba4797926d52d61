// Adam over a fixed list of Parameters (PyTorch semantics), the one optimizer the protocol uses:
//
//   t += 1;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//        p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// No weight decay: the protocol trains without it (docs/PROTOCOL.md).
// State lives in Tensors (one per parameter, plus the step count) so a checkpoint can save and
// restore it; `reset()` returns to a fresh optimizer (stage 2 starts from zero moments).

import Foundation
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

public final class Adam {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    /// First and second moments, one per parameter.
    public let m: [Tensor]
    public let v: [Tensor]
    /// Steps taken since the last reset, [1] (a Float counts exactly up to 2^24 steps).
    public let stepCount: Tensor

    public init(parameters: [Parameter], lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8) {
        precondition(lr >= 0, "Adam needs lr >= 0, got \(lr)")
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2),
                     "Adam needs betas in [0, 1), got \(beta1), \(beta2)")
        self.parameters = parameters
        self.learningRate = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        m = parameters.map { Tensor($0.value.shape) }
        v = parameters.map { Tensor($0.value.shape) }
        stepCount = Tensor([1])
        // Each parameter in chunks of at most 32K elements (element-wise, so any split gives the same bits).
        chunks = parameters.enumerated().flatMap { index, p in
            stride(from: 0, to: p.value.count, by: 1 << 15).map { (index, $0 ..< min(p.value.count, $0 + (1 << 15))) }
        }
    }

    /// The pieces step() hands to Parallel: (parameter index, element range).
    private let chunks: [(parameter: Int, elements: Range<Int>)]

    public var steps: Int { Int(stepCount[0]) }

    /// The hyperparameters, for a run's config.json.
    public var settingsDescription: String {
        Self.settingsDescription(lr: learningRate, beta1: beta1, beta2: beta2, eps: eps)
    }

    /// The description of the Adam these arguments build (the same defaults as `init`), without building one.
    public static func settingsDescription(lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) -> String {
        "Adam(lr \(lr), beta1 \(beta1), beta2 \(beta2), eps \(eps))"
    }

    public func step() {
        stepCount[0] += 1
        let t = Double(stepCount[0])
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = self.eps
        let stepSize = Float(Double(lr) / (1 - pow(Double(b1), t)))
        let sqrtCorrection2 = Float((1 - pow(Double(b2), t)).squareRoot())
        Parallel.forEach(chunks.count) { piece, _ in
            let (index, elements) = chunks[piece]
            let p = parameters[index]
            let w = p.value.pointer, g = p.grad.pointer, mp = m[index].pointer, vp = v[index].pointer
            // Eight elements at a time: the same operations in the same order per element (IEEE
            // sqrt and division are exact in every lane), so the bits equal the scalar loop's,
            // which stalled on one sqrt and one division per element.
            var i = elements.lowerBound
            while i + 8 <= elements.upperBound {
                let grad = load8(g + i)
                let m1 = b1 * load8(mp + i) + (1 - b1) * grad
                let v1 = b2 * load8(vp + i) + (1 - b2) * grad * grad
                let denominator = squareRoot8(v1) / sqrtCorrection2 + eps
                store8(m1, mp + i)
                store8(v1, vp + i)
                store8(load8(w + i) - stepSize * m1 / denominator, w + i)
                i += 8
            }
            while i < elements.upperBound {
                let grad = g[i]
                mp[i] = b1 * mp[i] + (1 - b1) * grad
                vp[i] = b2 * vp[i] + (1 - b2) * grad * grad
                let denominator = vp[i].squareRoot() / sqrtCorrection2 + eps
                w[i] = w[i] - stepSize * mp[i] / denominator
                i += 1
            }
        }
    }

    /// Forget all state: moments and step count back to zero.
    public func reset() {
        for t in m { t.zero() }
        for t in v { t.zero() }
        stepCount.zero()
    }

    /// Named state tensors in a fixed order, for checkpoints.
    public var stateTensors: [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = [("step", stepCount)]
        for (i, p) in parameters.enumerated() {
            out.append(("\(i).\(p.name).m", m[i]))
            out.append(("\(i).\(p.name).v", v[i]))
        }
        return out
    }
}

@inline(__always)
private func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
private func store8(_ value: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD8<Float>.self)
}

/// Lane-wise square root. SIMD8's own squareRoot() compiles to eight scalar sqrts, each with a
/// branch to libm for negative input; sqrtps is one instruction, correctly rounded like sqrtss.
@inline(__always)
private func squareRoot8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    #if arch(x86_64)
    return SIMD8(lowHalf: _mm_sqrt_ps(x.lowHalf), highHalf: _mm_sqrt_ps(x.highHalf))
    #else
    return x.squareRoot()
    #endif
}
