import Foundation
import IMLBase
import IMLCore
import XCTest

final class OptimizerTests: XCTestCase {
    private func scalarParameter(_ value: Float) -> Parameter {
        Parameter("p", Tensor([1], values: [value]), Tensor([1]))
    }

    func testAdamTwoStepsByHand() {
        let p = scalarParameter(1)
        let adam = Adam(parameters: [p], lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8)
        p.grad[0] = 0.5
        adam.step()
        // m = 0.1 * 0.5 = 0.05, v = 0.001 * 0.25 = 0.00025; bias-corrected 0.5 and 0.25, so the
        // step is 0.1 * 0.5 / (0.5 + 1e-8) ~ 0.1: the first Adam step moves lr against the sign.
        XCTAssertEqual(Double(p.value[0]), 1 - 0.1 * 0.5 / (0.5 + 1e-8), accuracy: 1e-6)
        XCTAssertEqual(adam.steps, 1)
        p.grad[0] = -1
        adam.step()
        let m = 0.9 * 0.05 + 0.1 * -1.0, v = 0.999 * 0.00025 + 0.001 * 1.0
        let mHat = m / (1 - 0.9 * 0.9), vHat = v / (1 - 0.999 * 0.999)
        let expected = (1 - 0.1 * 0.5 / (0.5 + 1e-8)) - 0.1 * mHat / (vHat.squareRoot() + 1e-8)
        XCTAssertEqual(Double(p.value[0]), expected, accuracy: 1e-6)
        XCTAssertEqual(Double(adam.m[0][0]), m, accuracy: 1e-7)
        // Float32 1 - 0.999 is 0.00099998713, so v carries a ~1e-5 relative rounding.
        XCTAssertEqual(Double(adam.v[0][0]), v, accuracy: v * 1e-4)
    }

    func testResetMakesAdamBehaveLikeAFreshOne() {
        var rng = SeededRandom(seed: 1)
        let a = Parameter("w", CoreFixtures.random([4], &rng), Tensor([4]))
        let adam = Adam(parameters: [a], lr: 0.01)
        for _ in 0..<3 {
            a.grad.fillUniform(-1, 1, &rng)
            adam.step()
        }
        adam.reset()
        XCTAssertEqual(adam.steps, 0)
        XCTAssertTrue((adam.m[0].array + adam.v[0].array).allSatisfy { $0 == 0 })

        let b = Parameter("w", a.value.clone(), Tensor([4]))
        let fresh = Adam(parameters: [b], lr: 0.01)
        a.grad.fillUniform(-1, 1, &rng)
        b.grad.copy(from: a.grad)
        adam.step(); fresh.step()
        XCTAssertEqual(a.value.array, b.value.array)
    }

    func testZeroGradClearsGradients() {
        let p = Parameter("p", Tensor([2]), Tensor([2], values: [1, 2]))
        [p].zeroGrad()
        XCTAssertEqual(p.grad.array, [0, 0])
    }
}
