import CKernels
import Foundation
import IMLBase
import IMLCore
import XCTest

final class GELUTests: XCTestCase {
    /// GPT-2's tanh form, evaluated in Double as an independent reference.
    private func tanhGELU(_ x: Double) -> Double {
        0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    func testMatchesTanhApproximationAndIsCloseToExactGELU() {
        let inputs: [Float] = [-6, -3, -2, -1, -0.5, -0.1, 0, 0.1, 0.5, 1, 2, 3, 6]
        let y = GELU().forward(Tensor([inputs.count], values: inputs))
        for (i, x) in inputs.enumerated() {
            let exact = Double(x) * 0.5 * (1 + erf(Double(x) / 2.0.squareRoot()))
            // Float tanh (rational, error <= 4e-7) scaled by 0.5|x| <= 3, plus Float rounding.
            XCTAssertEqual(Double(y[i]), tanhGELU(Double(x)), accuracy: 2e-6, "x = \(x)")
            // The approximation is within 1e-3 of x * Phi(x) everywhere.
            XCTAssertEqual(Double(y[i]), exact, accuracy: 1e-3, "x = \(x)")
        }
        XCTAssertEqual(y[6], 0)
    }

    func testIsTheTanhFormNotTheErfForm() {
        // At x = 2 the two forms differ by ~3.6e-4 (tanh: 1.954597694, erf: 1.954499736).
        let y = GELU().forward(Tensor([1], values: [2]))
        let exact = 2 * 0.5 * (1 + erf(2 / 2.0.squareRoot()))
        XCTAssertGreaterThan(abs(Double(y[0]) - exact), 5e-5)
    }

    /// The forward kernel (CKernels/gelu.c: AVX2 on this processor if it has it, and the
    /// baseline copy) gives, bit for bit, the formula as GELU.swift documents it written out in
    /// Swift Float arithmetic, on a dense sweep and on the edges: the clamp at +-7.905311, the
    /// switch to tanh(x) = x at |x| < 0.0004, signed zeros, infinities and NaN.
    func testTheKernelGivesTheSwiftFormulasBits() {
        let small: Float = 0.0004, limit: Float = 7.905_311_107_635_498_05
        var inputs: [Float] = [0, -0.0, .infinity, -.infinity, .nan, small, -small, small.nextDown, small.nextUp,
                               -small.nextDown, limit, -limit, limit.nextUp, 1e-30, -1e-30, 3e38, -3e38]
        var rng = SeededRandom(seed: 32)
        for _ in 0..<200_000 { inputs.append(Float(rng.uniformDouble() * 28 - 14)) }
        for i in 0..<20_000 { inputs.append(Float(i - 10_000) * 1e-7) }  // around the small-x switch
        let n = inputs.count
        var tanhKernel = [Float](repeating: 0, count: n), yKernel = tanhKernel
        var tanhBaseline = tanhKernel, yBaseline = tanhKernel
        iml_gelu_forward(inputs, &tanhKernel, &yKernel, n)
        iml_gelu_forward_baseline(inputs, &tanhBaseline, &yBaseline, n)
        var mismatches: [String] = []
        for (i, v) in inputs.enumerated() {
            let u: Float = 0.797_884_560_802_865_4 * (v + 0.044715 * v * v * v)
            let th = Self.rationalTanh(u)
            let y: Float = 0.5 * v * (1 + th)
            for (name, t, out) in [("kernel", tanhKernel[i], yKernel[i]), ("baseline", tanhBaseline[i], yBaseline[i])]
            where t.bitPattern != th.bitPattern || out.bitPattern != y.bitPattern {
                if mismatches.count < 5 { mismatches.append("\(name) x = \(v): tanh \(t) vs \(th), y \(out) vs \(y)") }
            }
        }
        XCTAssertEqual(mismatches, [])
        // The layer runs the kernel.
        let layer = GELU().forward(Tensor([n], values: inputs))
        XCTAssertEqual(layer.array.map(\.bitPattern), yKernel.map(\.bitPattern))
    }

    /// Eigen's float tanh as GELU.swift documents it, in Swift's own Float arithmetic, min and max.
    private static func rationalTanh(_ a: Float) -> Float {
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
        return abs(x) < 0.0004 ? x : p / q
    }

    func testGradientMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 30)
        let gelu = GELU()
        let x = CoreFixtures.random([2, 5, 8], &rng)
        for i in 0..<x.count { x[i] *= 3 }  // cover the curved region, not only near 0
        checkTransformerLayerGradients(input: x, parameters: [], forward: { gelu.forward(x) },
                                       backward: { gelu.backward($0) }, seed: 31)
    }
}
