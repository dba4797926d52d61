import Foundation
import IMLBase
import IMLCore
import IMLTestSupport
import XCTest

final class CrossEntropyTests: XCTestCase {
    func testUniformLogitsGiveLogC() {
        let ce = SoftmaxCrossEntropy()
        let loss = ce.forward(logits: Tensor([3, 4]), classes: 4, targets: [0, 3, 1])
        XCTAssertEqual(loss, Float(log(4.0)), accuracy: 1e-6)
    }

    func testGroupedLossWeighsEachExampleEqually() {
        // Three examples of two rows (heads), two classes. Example 0 supervises both rows,
        // example 1 only its second row, example 2 nothing (it must not count).
        let logits = Tensor([6, 2], values: [0, 1, 2, 0, 0, 0, 3, 1, 5, 5, 5, 5])
        let ce = SoftmaxCrossEntropy()
        let loss = ce.forward(logits: logits, classes: 2, targets: [1, 0, -1, 0, -1, -1], groupSize: 2)
        func nll(_ a: Double, _ b: Double, target: Int) -> Double {
            let m = max(a, b), lse = m + log(exp(a - m) + exp(b - m))
            return lse - (target == 0 ? a : b)
        }
        let example0 = (nll(0, 1, target: 1) + nll(2, 0, target: 0)) / 2
        let example1 = nll(3, 1, target: 0)
        XCTAssertEqual(Double(loss), (example0 + example1) / 2, accuracy: 1e-6)

        // The same through the [B, T] mask convenience.
        let masked = ce.forward(logits: logits, classes: 2, labels: [1, 0, 1, 0, 1, 1],
                                mask: [true, true, false, true, false, false], heads: 2)
        XCTAssertEqual(masked, loss)
    }

    func testTokenLossIsMeanOverNonIgnoredRows() {
        let logits = Tensor([3, 3], values: [1, 2, 3, 0, 0, 0, -1, 4, 2])
        let ce = SoftmaxCrossEntropy()
        let loss = ce.forward(logits: logits, classes: 3, targets: [2, -1, 1], groupSize: 1)
        let row0 = log(exp(1.0) + exp(2.0) + exp(3.0)) - 3
        let row2 = log(exp(-1.0) + exp(4.0) + exp(2.0)) - 4
        XCTAssertEqual(Double(loss), (row0 + row2) / 2, accuracy: 1e-6)
    }

    func testGradientMatchesFiniteDifferences() {
        // The loss is smooth: the central-difference truncation error is eps^2/6 * |L'''| ~ 2e-5
        // times the row weight (<= 1/2), and Float32 exp/log rounding of an O(1) loss (~1e-7)
        // over 2 eps = 2e-2 adds ~5e-6; against gradients of size ~0.01..0.5 we allow 1e-3
        // absolute (relative error with a floor of 0.1).
        var rng = SeededRandom(seed: 1)
        let logits = CoreFixtures.random([8, 5], &rng)
        for i in 0..<logits.count { logits[i] *= 3 }
        let targets: [Int32] = [4, -1, 0, 2, -1, -1, 1, 3]
        let ce = SoftmaxCrossEntropy()
        for groupSize in [1, 2, 4] {
            _ = ce.forward(logits: logits, classes: 5, targets: targets, groupSize: groupSize)
            let analytic = ce.backward().clone()
            let result = GradientCheck.compare(analytic: analytic, numericOf: logits, eps: 1e-2, floor: 0.1) {
                Double(ce.forward(logits: logits, classes: 5, targets: targets, groupSize: groupSize))
            }
            XCTAssertLessThan(result.maxRelativeError, 1e-2, "groupSize \(groupSize): \(result)")
            // Ignored rows get no gradient; every supervised row's gradient sums to zero.
            for r in 0..<8 {
                let row = Array(analytic.array[(r * 5)..<(r * 5 + 5)])
                if targets[r] < 0 { XCTAssertEqual(row, [0, 0, 0, 0, 0]) }
                XCTAssertEqual(row.reduce(0, +), 0, accuracy: 1e-6)
            }
        }
    }

    func testHugeLogitsStayFinite() {
        let ce = SoftmaxCrossEntropy()
        let loss = ce.forward(logits: Tensor([1, 3], values: [1000, -1000, 0]), classes: 3, targets: [1])
        XCTAssertEqual(loss, 2000, accuracy: 1e-2)
        XCTAssertTrue(ce.backward().array.allSatisfy { $0.isFinite })
    }

    func testNothingSupervisedGivesZeroLossAndGradient() {
        let ce = SoftmaxCrossEntropy()
        let loss = ce.forward(logits: Tensor([2, 2], values: [1, 2, 3, 4]), classes: 2, targets: [-1, -1], groupSize: 2)
        XCTAssertEqual(loss, 0)
        XCTAssertEqual(ce.backward().array, [0, 0, 0, 0])
    }

    func testPredictionsTakeFirstMaximum() {
        let logits = Tensor([3, 3], values: [0, 2, 1, 5, 5, 1, -3, -2, -1])
        XCTAssertEqual(SoftmaxCrossEntropy.predictions(logits, classes: 3), [1, 0, 2])
    }
}
