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

    func testGradientMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 30)
        let gelu = GELU()
        let x = CoreFixtures.random([2, 5, 8], &rng)
        for i in 0..<x.count { x[i] *= 3 }  // cover the curved region, not only near 0
        checkTransformerLayerGradients(input: x, parameters: [], forward: { gelu.forward(x) },
                                       backward: { gelu.backward($0) }, seed: 31)
    }
}
