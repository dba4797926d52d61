import IMLBase
import IMLCore
import IMLTestSupport
import XCTest

/// One conv block, conv -> ReLU -> max-pool 2x2: the plain layers, or the fused ConvPoolReLU.
private final class ConvBlock {
    let conv: Conv2d?, relu = ReLU(), pool = MaxPool2d()
    let fused: ConvPoolReLU?
    let parameters: [Parameter]

    init(_ inChannels: Int, _ outChannels: Int, first: Bool, fused useFused: Bool, rng: inout SeededRandom) {
        if useFused {
            fused = ConvPoolReLU(inChannels: inChannels, outChannels: outChannels, needsInputGradient: !first, rng: &rng)
            conv = nil
        } else {
            conv = Conv2d(inChannels: inChannels, outChannels: outChannels, needsInputGradient: !first, rng: &rng)
            fused = nil
        }
        parameters = fused?.parameters ?? conv!.parameters
    }

    func forward(_ x: Tensor) -> Tensor { fused?.forward(x) ?? pool.forward(relu.forward(conv!.forward(x))) }
    @discardableResult
    func backward(_ g: Tensor) -> Tensor { fused?.backward(g) ?? conv!.backward(relu.backward(pool.backward(g))) }
}

/// The ConvNet + MLP of the vision experiments at toy size (1x12x12 input, two conv blocks),
/// built from the core layers, with plain or fused (as IMLVision's ConvNetMLP) conv blocks.
private final class TinyConvNet {
    let block1: ConvBlock, block2: ConvBlock
    let fc1: Linear, relu3 = ReLU(), fc2: Linear
    let parameters: [Parameter]

    init(seed: UInt64, heads: Int, classes: Int, fused: Bool = false) {
        var rng = SeededRandom(seed: seed, stream: "init")
        block1 = ConvBlock(1, 4, first: true, fused: fused, rng: &rng)
        block2 = ConvBlock(4, 8, first: false, fused: fused, rng: &rng)
        fc1 = Linear(inFeatures: 8 * 3 * 3, outFeatures: 32, rng: &rng)
        fc2 = Linear(inFeatures: 32, outFeatures: heads * classes, rng: &rng)
        parameters = block1.parameters + block2.parameters + fc1.parameters + fc2.parameters
    }

    func forward(_ x: Tensor) -> Tensor {
        fc2.forward(relu3.forward(fc1.forward(block2.forward(block1.forward(x)))))
    }

    func backward(_ dlogits: Tensor) {
        block1.backward(block2.backward(fc1.backward(relu3.backward(fc2.backward(dlogits)))))
    }
}

final class SmallConvNetTests: XCTestCase {
    private let heads = 2, classes = 3, batch = 8

    private func fixedBatch() -> (images: Tensor, targets: [Int32]) {
        var rng = SeededRandom(seed: 99, stream: "data")
        let images = CoreFixtures.random([batch, 1, 12, 12], &rng)
        let targets = (0..<(batch * heads)).map { _ in Int32(rng.int(below: classes)) }
        return (images, targets)
    }

    private func train(_ net: TinyConvNet, steps: Int) -> [Float] {
        BLAS.setThreads(1)
        let (images, targets) = fixedBatch()
        let ce = SoftmaxCrossEntropy()
        let adam = Adam(parameters: net.parameters, lr: 1e-2)
        var losses: [Float] = []
        for _ in 0..<steps {
            adam.parameters.zeroGrad()
            losses.append(ce.forward(logits: net.forward(images), classes: classes, targets: targets, groupSize: heads))
            net.backward(ce.backward())
            adam.step()
        }
        return losses
    }

    func testAdamFitsAFixedBatch() {
        let losses = train(TinyConvNet(seed: 1, heads: heads, classes: classes), steps: 150)
        XCTAssertEqual(losses[0], Float(log(3.0)), accuracy: 0.3, "an untrained net is near chance")
        XCTAssertLessThan(losses.last!, 0.05, "losses: \(losses.first!) ... \(losses.last!)")
    }

    func testSameSeedGivesBitIdenticalWeights() {
        let a = TinyConvNet(seed: 7, heads: heads, classes: classes)
        let b = TinyConvNet(seed: 7, heads: heads, classes: classes)
        let c = TinyConvNet(seed: 8, heads: heads, classes: classes)
        _ = train(a, steps: 5); _ = train(b, steps: 5); _ = train(c, steps: 5)
        for (pa, pb) in zip(a.parameters, b.parameters) {
            XCTAssertEqual(pa.value.array, pb.value.array, pa.name)
        }
        XCTAssertNotEqual(a.parameters[0].value.array, c.parameters[0].value.array)
    }

    func testFusedConvBlocksTrainLikeSeparateLayers() {
        // The same network up to float rounding (ConvPoolReLU sums its products in another order).
        let separate = train(TinyConvNet(seed: 3, heads: heads, classes: classes), steps: 10)
        let fused = train(TinyConvNet(seed: 3, heads: heads, classes: classes, fused: true), steps: 10)
        for (a, b) in zip(separate, fused) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
