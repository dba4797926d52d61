import IMLBase
import IMLCore
import IMLTestSupport
import XCTest

// The inputs of these checks are spread at least `gap` apart (and away from 0), and the
// finite-difference step is eps = gap / 4, so no step crosses a kink: the layers are then linear
// around the point and, as for Linear, only Float32 rounding (~1e-7 relative on O(1) values,
// divided by 2 eps = 5e-3 gives ~1e-4) separates numeric from analytic gradients.
private let gap: Float = 0.01
private let kinkFreeEps: Float = gap / 4

final class PoolingAndReLUTests: XCTestCase {
    func testMaxPoolExactOutputAndFloorsOddSizes() {
        let pool = MaxPool2d()
        // One 3x5 plane: rows [1 5 2 0 9], [3 4 8 7 6], [9 9 9 9 9]; the last row and column drop.
        let y = pool.forward(Tensor([1, 1, 3, 5], values: [1, 5, 2, 0, 9, 3, 4, 8, 7, 6, 9, 9, 9, 9, 9]))
        XCTAssertEqual(y.shape, [1, 1, 1, 2])
        XCTAssertEqual(y.array, [5, 8])
        let dx = pool.backward(Tensor([1, 1, 1, 2], values: [10, 20]))
        XCTAssertEqual(dx.shape, [1, 1, 3, 5])
        XCTAssertEqual(dx.array, [0, 10, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0])
    }

    func testMaxPoolGradientMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 1)
        let pool = MaxPool2d()
        let x = CoreFixtures.separated([2, 3, 5, 7], gap: gap, &rng)
        let r = CoreFixtures.random([2, 3, 2, 3], &rng)
        _ = pool.forward(x)
        let dx = pool.backward(r).clone()
        let result = GradientCheck.compare(analytic: dx, numericOf: x, eps: kinkFreeEps, floor: 0.1) {
            GradientCheck.dot(pool.forward(x), r)
        }
        XCTAssertLessThan(result.maxRelativeError, 2e-3, "\(result)")
    }

    func testMaxPoolMatchesScalarReferenceIncludingTies() {
        var rng = SeededRandom(seed: 3)
        let pool = MaxPool2d()
        // Width 11 gives 5 windows per row: four in the SIMD path and one in the scalar tail.
        // Values from {0, 1, 2} make ties common; the first maximum in window order must win.
        let x = Tensor([2, 2, 6, 11])
        for i in 0..<x.count { x[i] = Float(rng.int(below: 3)) }
        let y = pool.forward(x)
        let r = CoreFixtures.random(y.shape, &rng)
        let dx = pool.backward(r)
        var expectedY: [Float] = [], expectedDx = [Float](repeating: 0, count: x.count)
        for plane in 0..<4 { for oy in 0..<3 { for ox in 0..<5 {
            let window = [(2 * oy) * 11 + 2 * ox, (2 * oy) * 11 + 2 * ox + 1,
                          (2 * oy + 1) * 11 + 2 * ox, (2 * oy + 1) * 11 + 2 * ox + 1].map { plane * 66 + $0 }
            var best = window[0]
            for i in window.dropFirst() where x[i] > x[best] { best = i }
            expectedY.append(x[best])
            expectedDx[best] += r[(plane * 3 + oy) * 5 + ox]
        } } }
        XCTAssertEqual(y.array, expectedY)
        XCTAssertEqual(dx.array, expectedDx)
    }

    func testPoolThenReLUEqualsReLUThenPool() {
        // ReLU is monotone, so relu(maxpool(x)) == maxpool(relu(x)) with the same input gradient;
        // ConvNetMLP pools first so that ReLU touches four times fewer values.
        var rng = SeededRandom(seed: 4)
        let x = CoreFixtures.random([2, 3, 6, 9], &rng), r = CoreFixtures.random([2, 3, 3, 4], &rng)
        let reluA = ReLU(), poolA = MaxPool2d(), reluB = ReLU(), poolB = MaxPool2d()
        let yA = poolA.forward(reluA.forward(x)).array
        let yB = reluB.forward(poolB.forward(x)).array
        XCTAssertEqual(yA, yB)
        let dxA = reluA.backward(poolA.backward(r)).array
        let dxB = poolB.backward(reluB.backward(r)).array
        XCTAssertEqual(dxA, dxB)
    }

    func testReLUGradientMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 2)
        let relu = ReLU()
        let x = CoreFixtures.separated([3, 17], gap: gap, &rng)
        let r = CoreFixtures.random([3, 17], &rng)
        let y = relu.forward(x)
        XCTAssertEqual(y.array, x.array.map { max($0, 0) })
        let dx = relu.backward(r).clone()
        let result = GradientCheck.compare(analytic: dx, numericOf: x, eps: kinkFreeEps, floor: 0.1) {
            GradientCheck.dot(relu.forward(x), r)
        }
        XCTAssertLessThan(result.maxRelativeError, 2e-3, "\(result)")
        // Half the inputs are negative, so the check covers both branches.
        XCTAssertTrue(dx.array.contains(0) && dx.array.contains { $0 != 0 })
    }

    func testMaxPoolOddSizesAfterALargerInputLeaveNoStaleGradient() {
        // Backward writes every dx value in one pass (no zeroing first), so the row and column
        // that the floor drops must be written as zeros too, even when the buffer held a larger input.
        var rng = SeededRandom(seed: 5)
        let pool = MaxPool2d()
        let big = CoreFixtures.random([2, 3, 12, 14], &rng)
        _ = pool.forward(big)
        pool.backward(CoreFixtures.random([2, 3, 6, 7], &rng))
        let x = CoreFixtures.random([2, 2, 7, 13], &rng)  // 6 windows per row: 4 SIMD + 2 scalar
        let y = pool.forward(x)
        XCTAssertEqual(y.shape, [2, 2, 3, 6])
        let r = CoreFixtures.random(y.shape, &rng)
        let dx = pool.backward(r)
        var expectedY: [Float] = [], expectedDx = [Float](repeating: 0, count: x.count)
        for plane in 0..<4 { for oy in 0..<3 { for ox in 0..<6 {
            let window = [(2 * oy) * 13 + 2 * ox, (2 * oy) * 13 + 2 * ox + 1,
                          (2 * oy + 1) * 13 + 2 * ox, (2 * oy + 1) * 13 + 2 * ox + 1].map { plane * 91 + $0 }
            var best = window[0]
            for i in window.dropFirst() where x[i] > x[best] { best = i }
            expectedY.append(x[best])
            expectedDx[best] += r[(plane * 3 + oy) * 6 + ox]
        } } }
        XCTAssertEqual(y.array, expectedY)
        XCTAssertEqual(dx.array, expectedDx)
    }
}
