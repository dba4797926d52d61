import IMLCore

// Finite-difference gradient checking, for tests of any layer.
//
// Central differences (L(x + eps) - L(x - eps)) / 2 eps of a loss evaluated in Double. For the
// usual test loss L = sum(y * R) with a fixed random R, dL/dy = R, so a layer's backward(R)
// must reproduce the numerical gradient of its inputs and parameters.

public enum GradientCheck {
    public struct Result: CustomStringConvertible {
        /// Largest |analytic - numeric| over all entries.
        public let maxAbsoluteError: Double
        /// Largest |analytic - numeric| / max(|analytic|, |numeric|, floor): a relative error that
        /// does not blow up on entries whose gradient is (close to) zero.
        public let maxRelativeError: Double
        /// Index of the entry with the largest relative error.
        public let worstIndex: Int
        public let analyticAtWorst: Double
        public let numericAtWorst: Double
        public var description: String {
            "max abs error \(maxAbsoluteError), max rel error \(maxRelativeError) at \(worstIndex) (analytic \(analyticAtWorst), numeric \(numericAtWorst))"
        }
    }

    /// Numerical gradient of `loss` with respect to every entry of `tensor` (restored afterwards).
    public static func numericalGradient(of tensor: Tensor, eps: Float, loss: () -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: tensor.count)
        for i in 0..<tensor.count {
            let saved = tensor[i]
            tensor[i] = saved + eps
            let up = loss()
            tensor[i] = saved - eps
            let down = loss()
            tensor[i] = saved
            // Divide by the step actually taken: saved +- eps is rounded to Float.
            out[i] = (up - down) / (Double(saved + eps) - Double(saved - eps))
        }
        return out
    }

    /// Compares an analytic gradient with the numerical one of `loss` w.r.t. `tensor`.
    /// `floor` keeps the relative error meaningful where the gradient is near zero.
    public static func compare(analytic: Tensor, numericOf tensor: Tensor, eps: Float, floor: Double = 1e-2,
                               loss: () -> Double) -> Result {
        precondition(analytic.count == tensor.count,
                     "GradientCheck.compare got an analytic gradient of \(analytic.count) values for a tensor of \(tensor.count)")
        let analyticValues = analytic.array  // copy: loss() may overwrite the layer's buffers
        let numeric = numericalGradient(of: tensor, eps: eps, loss: loss)
        var maxAbs = 0.0, maxRel = 0.0, worst = 0
        for i in 0..<numeric.count {
            let a = Double(analyticValues[i]), n = numeric[i]
            let diff = abs(a - n)
            let rel = diff / max(abs(a), abs(n), floor)
            maxAbs = max(maxAbs, diff)
            if rel > maxRel { maxRel = rel; worst = i }
        }
        return Result(maxAbsoluteError: maxAbs, maxRelativeError: maxRel, worstIndex: worst,
                      analyticAtWorst: numeric.isEmpty ? 0 : Double(analyticValues[worst]),
                      numericAtWorst: numeric.isEmpty ? 0 : numeric[worst])
    }

    /// sum(y * r) in Double: the test loss whose gradient w.r.t. y is r.
    public static func dot(_ y: Tensor, _ r: Tensor) -> Double {
        precondition(y.count == r.count, "GradientCheck.dot of \(y.count) and \(r.count) values")
        var s = 0.0
        for i in 0..<y.count { s += Double(y[i]) * Double(r[i]) }
        return s
    }
}
