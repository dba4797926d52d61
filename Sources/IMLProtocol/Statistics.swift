// Exact match and confidence intervals over seeds.

import Foundation

public enum Statistics {
    /// Fraction of predictions equal to the answers (exact match). Empty input gives NaN, not 0,
    /// so that "nothing asked" can never pass for "all wrong".
    public static func exactMatch(predictions: [Int], answers: [Int]) -> Double {
        precondition(predictions.count == answers.count)
        guard !answers.isEmpty else { return .nan }
        return Double(zip(predictions, answers).filter { $0 == $1 }.count) / Double(answers.count)
    }

    public static func mean(_ xs: [Double]) -> Double {
        xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
    }

    /// Sample standard deviation (n - 1 in the denominator).
    public static func standardDeviation(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return .nan }
        let m = mean(xs)
        return (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot()
    }

    /// Half-width of the two-sided 95% Student-t interval of the mean: t(0.975, n-1) * s / sqrt(n).
    /// NaN for a single value: one seed gives no interval.
    public static func ci95HalfWidth(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return .nan }
        return studentTQuantile(0.975, degreesOfFreedom: Double(xs.count - 1))
            * standardDeviation(xs) / Double(xs.count).squareRoot()
    }

    /// Quantile of Student's t distribution, by bisection on its CDF.
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1 && nu > 0)
        if p < 0.5 { return -studentTQuantile(1 - p, degreesOfFreedom: nu) }
        var lo = 0.0, hi = 1.0
        while studentTCDF(hi, degreesOfFreedom: nu) < p { hi *= 2 }
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if studentTCDF(mid, degreesOfFreedom: nu) < p { lo = mid } else { hi = mid }
            if hi - lo < 1e-12 * max(1, hi) { break }
        }
        return 0.5 * (lo + hi)
    }

    /// CDF of Student's t: 1 - I_x(nu/2, 1/2) / 2 for t > 0 with x = nu / (nu + t^2).
    public static func studentTCDF(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        let x = nu / (nu + t * t)
        let tail = 0.5 * regularizedIncompleteBeta(x, a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// I_x(a, b) by the continued fraction of Numerical Recipes (betacf), with the symmetry
    /// I_x(a,b) = 1 - I_{1-x}(b,a) to keep the fraction in its fast-converging range.
    public static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lnGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let lnPowers: Double = a * log(x) + b * log(1 - x)
        let lnFront = lnGammas + lnPowers
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d; h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(lnFront) * h / a
    }
}

/// Mean, 95% half-width and the per-seed values of one quantity.
public struct SeedSummary: Codable, Equatable, Sendable {
    public var mean: Double
    public var ci95: Double
    public var perSeed: [Double]
    public init(_ values: [Double]) {
        perSeed = values
        mean = Statistics.mean(values)
        ci95 = Statistics.ci95HalfWidth(values)
    }
    enum CodingKeys: String, CodingKey { case mean, ci95, perSeed = "per_seed" }
}
