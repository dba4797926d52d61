import IMLBase
import IMLCore
import IMLTestSupport
import XCTest

final class Conv2dTests: XCTestCase {
    /// Direct six-loop convolution, the definition that im2col + sgemm must reproduce.
    private func referenceConv(_ x: Tensor, _ layer: Conv2d) -> [Float] {
        let b = x.shape[0], cin = x.shape[1], h = x.shape[2], w = x.shape[3]
        let k = layer.kernel, p = layer.padding, cout = layer.outChannels
        let (ho, wo) = layer.outputSize(height: h, width: w)
        var y = [Float](repeating: 0, count: b * cout * ho * wo)
        for n in 0..<b { for co in 0..<cout { for oy in 0..<ho { for ox in 0..<wo {
            var s = Double(layer.bias[co])
            for ci in 0..<cin { for ky in 0..<k { for kx in 0..<k {
                let iy = oy + ky - p, ix = ox + kx - p
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                s += Double(x[((n * cin + ci) * h + iy) * w + ix]) * Double(layer.weight[((co * cin + ci) * k + ky) * k + kx])
            } } }
            y[((n * cout + co) * ho + oy) * wo + ox] = Float(s)
        } } } }
        return y
    }

    func testExactOutputOnSmallInput() {
        var rng = SeededRandom(seed: 1)
        let conv = Conv2d(inChannels: 1, outChannels: 1, kernel: 3, padding: 1, rng: &rng)
        conv.weight.fill(1)
        conv.bias.fill(0)
        // 3x3 image 1..9: with an all-ones kernel each output is the sum of its 3x3 neighbourhood.
        let y = conv.forward(Tensor([1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9]))
        XCTAssertEqual(y.shape, [1, 1, 3, 3])
        let sums: [Float] = [12, 21, 16, 27, 45, 33, 24, 39, 28]  // e.g. corner 1+2+4+5, centre 1+...+9
        XCTAssertEqual(y.array, sums)
    }

    func testMatchesDirectConvolution() {
        var rng = SeededRandom(seed: 2)
        for (cin, cout, k, p, h, w) in [(1, 4, 3, 1, 6, 5), (3, 2, 5, 2, 7, 6), (2, 3, 1, 0, 4, 5),
                                        (4, 5, 3, 0, 5, 7), (2, 2, 5, 1, 5, 4), (11, 3, 3, 1, 5, 6),
                                        (8, 2, 5, 2, 4, 5), (11, 2, 3, 0, 6, 5)] {
            let conv = Conv2d(inChannels: cin, outChannels: cout, kernel: k, padding: p, rng: &rng)
            let x = CoreFixtures.random([2, cin, h, w], &rng)
            let y = conv.forward(x)
            let (ho, wo) = conv.outputSize(height: h, width: w)
            XCTAssertEqual(y.shape, [2, cout, ho, wo])
            for (a, b) in zip(y.array, referenceConv(x, conv)) {
                XCTAssertEqual(a, b, accuracy: 1e-5, "cin \(cin) cout \(cout) k \(k) p \(p) \(h)x\(w)")
            }
        }
    }

    func testGradientsMatchFiniteDifferences() {
        var rng = SeededRandom(seed: 3)
        // k = 3 and 5 and 1, padding 1/0/2, odd and non-square sizes, one and several channels.
        for (cin, cout, k, p, h, w) in [(2, 3, 3, 1, 5, 4), (3, 2, 3, 0, 5, 6), (1, 2, 5, 2, 4, 5),
                                        (2, 2, 1, 0, 3, 5), (11, 2, 3, 1, 4, 5), (7, 2, 5, 2, 4, 3)] {
            let conv = Conv2d(inChannels: cin, outChannels: cout, kernel: k, padding: p, rng: &rng)
            let x = CoreFixtures.random([2, cin, h, w], &rng)
            let (ho, wo) = conv.outputSize(height: h, width: w)
            let r = CoreFixtures.random([2, cout, ho, wo], &rng)
            conv.zeroGrad()
            _ = conv.forward(x)
            let dx = conv.backward(r).clone()
            let loss = { GradientCheck.dot(conv.forward(x), r) }
            for (name, analytic, tensor) in [("input", dx, x), ("weight", conv.weightGrad, conv.weight),
                                             ("bias", conv.biasGrad, conv.bias)] {
                let result = GradientCheck.compare(analytic: analytic, numericOf: tensor, eps: linearCheckEps,
                                                   floor: 0.1, loss: loss)
                XCTAssertLessThan(result.maxRelativeError, linearCheckTolerance,
                                  "\(name), cin \(cin) cout \(cout) k \(k) p \(p) \(h)x\(w): \(result)")
            }
        }
    }

    func testSkippingInputGradientKeepsParameterGradients() {
        var a = SeededRandom(seed: 4), b = SeededRandom(seed: 4)
        let full = Conv2d(inChannels: 1, outChannels: 3, rng: &a)
        let first = Conv2d(inChannels: 1, outChannels: 3, needsInputGradient: false, rng: &b)
        var rng = SeededRandom(seed: 5)
        let x = CoreFixtures.random([3, 1, 6, 7], &rng), r = CoreFixtures.random([3, 3, 6, 7], &rng)
        full.zeroGrad(); first.zeroGrad()
        _ = full.forward(x); full.backward(r)
        _ = first.forward(x)
        XCTAssertEqual(first.backward(r).count, 0)
        XCTAssertEqual(first.weightGrad.array, full.weightGrad.array)
        XCTAssertEqual(first.biasGrad.array, full.biasGrad.array)
    }

    func testSmallerLastBatch() {
        var rng = SeededRandom(seed: 6)
        let conv = Conv2d(inChannels: 2, outChannels: 3, rng: &rng)
        let x = CoreFixtures.random([3, 2, 5, 5], &rng)
        let all = conv.forward(x).array
        let firstImage = Tensor([1, 2, 5, 5], values: Array(x.array[0..<50]))
        let y = conv.forward(firstImage)
        XCTAssertEqual(y.shape, [1, 3, 5, 5])
        XCTAssertEqual(y.array, Array(all[0..<75]))
    }

    // MARK: ConvPoolReLU, the fused conv -> max-pool 2x2 -> ReLU kernel

    /// Sizes with even and odd (floored) convolution outputs, k = 1/3/5, several channels, both
    /// column-buffer layouts (the last one splits by kernel column).
    private let fusedCases = [(1, 4, 3, 1, 6, 8), (2, 3, 3, 1, 7, 9), (3, 2, 5, 2, 6, 11), (2, 3, 1, 0, 5, 4),
                              (4, 5, 3, 0, 8, 7), (12, 3, 3, 1, 5, 7)]

    /// The fast kernel agrees with the plain reference layers: Conv2d -> MaxPool2d -> ReLU (up to
    /// float rounding: the wide-row and split products sum in another order).
    func testConvPoolReLUAgreesWithConvThenPoolThenReLU() {
        func assertClose(_ a: [Float], _ b: [Float], _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(y)), what) }
        }
        for (cin, cout, k, p, h, w) in fusedCases {
            var a = SeededRandom(seed: 7), b = SeededRandom(seed: 7), rng = SeededRandom(seed: 8)
            let fused = ConvPoolReLU(inChannels: cin, outChannels: cout, kernel: k, padding: p, rng: &a)
            let conv = Conv2d(inChannels: cin, outChannels: cout, kernel: k, padding: p, rng: &b)
            let pool = MaxPool2d(), relu = ReLU()
            let x = CoreFixtures.random([3, cin, h, w], &rng)
            let y = fused.forward(x).array
            let reference = relu.forward(pool.forward(conv.forward(x)))
            let what = "cin \(cin) cout \(cout) k \(k) p \(p) \(h)x\(w)"
            assertClose(y, reference.array, what)
            XCTAssertTrue(y.contains(0) && y.contains { $0 > 0 }, "both sides of the ReLU are covered")
            let r = CoreFixtures.random(reference.shape, &rng)
            fused.zeroGrad(); conv.zeroGrad()
            let dx = fused.backward(r).array
            assertClose(dx, conv.backward(pool.backward(relu.backward(r))).array, what)
            assertClose(fused.weightGrad.array, conv.weightGrad.array, what)
            assertClose(fused.biasGrad.array, conv.biasGrad.array, what)
        }
    }

    func testConvPoolReLUGradientsMatchFiniteDifferences() {
        var rng = SeededRandom(seed: 9)
        for (cin, cout, k, p, h, w) in fusedCases {
            let conv = ConvPoolReLU(inChannels: cin, outChannels: cout, kernel: k, padding: p, rng: &rng)
            let x = CoreFixtures.random([2, cin, h, w], &rng)
            let (ho, wo) = conv.outputSize(height: h, width: w)
            let r = CoreFixtures.random([2, cout, ho / 2, wo / 2], &rng)
            conv.zeroGrad()
            _ = conv.forward(x)
            let dx = conv.backward(r).clone()
            let loss = { GradientCheck.dot(conv.forward(x), r) }
            // The layer is piecewise linear: a step must not change a window's winner or a ReLU
            // sign. A small eps (with these seeds) keeps every step inside one piece; Float32
            // rounding of the O(1) loss (~1e-6) over 2 eps = 4e-4 stays well under the tolerance.
            for (name, analytic, tensor) in [("input", dx, x), ("weight", conv.weightGrad, conv.weight),
                                             ("bias", conv.biasGrad, conv.bias)] {
                let result = GradientCheck.compare(analytic: analytic, numericOf: tensor, eps: 2e-4,
                                                   floor: 0.1, loss: loss)
                XCTAssertLessThan(result.maxRelativeError, 1e-2,
                                  "\(name), cin \(cin) cout \(cout) k \(k) p \(p) \(h)x\(w): \(result)")
            }
        }
    }

    func testConvPoolReLUReusesBuffersAcrossSizes() {
        // A larger batch and image first, then a smaller odd one: nothing stale may leak through.
        var a = SeededRandom(seed: 10), b = SeededRandom(seed: 10), rng = SeededRandom(seed: 11)
        let reused = ConvPoolReLU(inChannels: 2, outChannels: 3, rng: &a)
        let fresh = ConvPoolReLU(inChannels: 2, outChannels: 3, rng: &b)
        let big = CoreFixtures.random([4, 2, 10, 12], &rng)
        _ = reused.forward(big); reused.backward(CoreFixtures.random([4, 3, 5, 6], &rng))
        let x = CoreFixtures.random([2, 2, 7, 9], &rng), r = CoreFixtures.random([2, 3, 3, 4], &rng)
        reused.zeroGrad(); fresh.zeroGrad()
        XCTAssertEqual(reused.forward(x).array, fresh.forward(x).array)
        XCTAssertEqual(reused.backward(r).array, fresh.backward(r).array)
        XCTAssertEqual(reused.weightGrad.array, fresh.weightGrad.array)
        XCTAssertEqual(reused.biasGrad.array, fresh.biasGrad.array)
    }
}
