import IMLBase
import IMLCore
import XCTest

final class LayerNormTests: XCTestCase {
    func testRowsAreNormalisedThenScaledAndShifted() {
        var rng = SeededRandom(seed: 40)
        let ln = LayerNorm(dim: 8)
        let x = CoreFixtures.random([2, 5, 8], &rng)
        for i in 0..<x.count { x[i] = 3 * x[i] + 2 }  // rows far from mean 0, variance 1
        let y = ln.forward(x)
        XCTAssertEqual(y.shape, [10, 8])
        for r in 0..<10 {
            let row = (0..<8).map { Double(y[r * 8 + $0]) }
            let mean = row.reduce(0, +) / 8
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 8
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            // Slightly below 1: var / (var + 1e-5).
            XCTAssertEqual(variance, 1, accuracy: 1e-4)
        }
        ln.weight.fill(2)
        ln.bias.fill(-1)
        let before = y.array
        let scaled = ln.forward(x)
        for i in 0..<scaled.count { XCTAssertEqual(scaled[i], 2 * before[i] - 1, accuracy: 1e-5) }
    }

    func testConstantRowGivesBias() {
        // Zero variance: epsilon keeps rstd finite and the normalised row is exactly 0.
        let ln = LayerNorm(dim: 4)
        ln.bias.copy(from: Tensor([4], values: [1, 2, 3, 4]))
        let y = ln.forward(Tensor([1, 4], fill: 7))
        XCTAssertEqual(y.array, [1, 2, 3, 4])
    }

    func testGradientsMatchFiniteDifferences() {
        var rng = SeededRandom(seed: 41)
        let ln = LayerNorm(dim: 8)
        ln.weight.fillUniform(0.5, 1.5, &rng)
        ln.bias.fillUniform(-0.5, 0.5, &rng)
        let x = CoreFixtures.random([2, 5, 8], &rng)
        checkTransformerLayerGradients(input: x, parameters: ln.parameters, forward: { ln.forward(x) },
                                       backward: { ln.backward($0) }, seed: 42)
    }
}
