import IMLBase
import IMLCore
import IMLTestSupport
import XCTest

// Tolerances for the finite-difference checks of linear layers (Linear, Conv2d): the test loss
// L = sum(y * R) is linear in every single input and parameter, so central differences have no
// truncation error and all the error is Float32 rounding of y: each of the n ~ 10^2 outputs is
// O(1) with relative error ~1e-7, so L(x +- eps) is off by ~sqrt(n) * 1e-7 ~ 1e-6, and dividing
// by 2 eps = 2e-2 gives ~5e-5 absolute error on gradients of size O(0.1..1). We demand relative
// error < 2e-3 (relative to max(|g|, 0.1)); a wrong gradient is off by O(10%) or more.
let linearCheckEps: Float = 1e-2
let linearCheckTolerance = 2e-3

final class LinearTests: XCTestCase {
    func testExactOutputOnSmallInput() {
        var rng = SeededRandom(seed: 1)
        let layer = Linear(inFeatures: 2, outFeatures: 3, rng: &rng)
        layer.weight.copy(from: Tensor([3, 2], values: [1, 2, 3, 4, 5, 6]))
        layer.bias.copy(from: Tensor([3], values: [0.5, -1, 0]))
        let y = layer.forward(Tensor([2, 2], values: [1, -1, 2, 0.5]))
        // Row 1: [1-2+0.5, 3-4-1, 5-6] ; row 2: [2+1+0.5, 6+2-1, 10+3]
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(y.array, [-0.5, -2, -1, 3.5, 7, 13])
    }

    func testGradientsMatchFiniteDifferences() {
        var rng = SeededRandom(seed: 2)
        let layer = Linear(inFeatures: 5, outFeatures: 4, rng: &rng)
        let x = CoreFixtures.random([3, 5], &rng)
        let r = CoreFixtures.random([3, 4], &rng)
        layer.zeroGrad()
        _ = layer.forward(x)
        let dx = layer.backward(r).clone()
        let loss = { GradientCheck.dot(layer.forward(x), r) }
        for (name, analytic, tensor) in [("input", dx, x), ("weight", layer.weightGrad, layer.weight),
                                         ("bias", layer.biasGrad, layer.bias)] {
            let result = GradientCheck.compare(analytic: analytic, numericOf: tensor, eps: linearCheckEps,
                                               floor: 0.1, loss: loss)
            XCTAssertLessThan(result.maxRelativeError, linearCheckTolerance, "\(name): \(result)")
        }
    }

    func testBackwardAccumulatesIntoParameterGradients() {
        var rng = SeededRandom(seed: 3)
        let layer = Linear(inFeatures: 3, outFeatures: 2, rng: &rng)
        let x = CoreFixtures.random([4, 3], &rng), r = CoreFixtures.random([4, 2], &rng)
        layer.zeroGrad()
        _ = layer.forward(x); layer.backward(r)
        let once = layer.weightGrad.array, onceBias = layer.biasGrad.array
        _ = layer.forward(x); layer.backward(r)
        for (a, b) in zip(layer.weightGrad.array, once) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5) }
        for (a, b) in zip(layer.biasGrad.array, onceBias) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5) }
    }

    func testSmallerLastBatchReusesBuffers() {
        var rng = SeededRandom(seed: 4)
        let layer = Linear(inFeatures: 3, outFeatures: 2, rng: &rng)
        let big = CoreFixtures.random([5, 3], &rng)
        let full = layer.forward(big).array
        let small = Tensor([2, 3], values: Array(big.array[0..<6]))
        let y = layer.forward(small)
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.array, Array(full[0..<4]))
    }

    func testFlattensTrailingDimensions() {
        var rng = SeededRandom(seed: 5)
        let layer = Linear(inFeatures: 6, outFeatures: 2, rng: &rng)
        let x4 = CoreFixtures.random([2, 1, 2, 3], &rng)
        let y4 = layer.forward(x4).array
        let y2 = layer.forward(Tensor([2, 6], values: x4.array)).array
        XCTAssertEqual(y4, y2)
    }

    func testDefaultInitIsPyTorchUniformAndSeeded() {
        var a = SeededRandom(seed: 6), b = SeededRandom(seed: 6)
        let l1 = Linear(inFeatures: 16, outFeatures: 8, rng: &a)
        let l2 = Linear(inFeatures: 16, outFeatures: 8, rng: &b)
        XCTAssertEqual(l1.weight.array, l2.weight.array)
        let bound: Float = 1 / 4  // 1 / sqrt(16)
        XCTAssertTrue(l1.weight.array.allSatisfy { abs($0) <= bound })
        XCTAssertTrue(l1.bias.array.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(l1.weight.array.map { abs($0) }.max()!, bound * 0.8)
    }
}
