import IMLBase
import IMLCore
import XCTest

/// The ConvNet + MLP of the vision experiments at toy size (1x12x12 input, two conv blocks),
/// built from the core layers: conv -> ReLU -> pool as separate layers, or `fused` as IMLVision's
/// ConvNetMLP builds it (Conv2d's poolAndReLU; the separate ReLU and pool layers then pass through).
private final class TinyConvNet {
    let conv1: Conv2d, relu1 = ReLU(), pool1 = MaxPool2d()
    let conv2: Conv2d, relu2 = ReLU(), pool2 = MaxPool2d()
    let fc1: Linear, relu3 = ReLU(), fc2: Linear
    let layers: [Layer]
    let fused: Bool

    init(seed: UInt64, heads: Int, classes: Int, fused: Bool = false) {
        var rng = SeededRandom(seed: seed, stream: "init")
        self.fused = fused
        conv1 = Conv2d(inChannels: 1, outChannels: 4, needsInputGradient: false, poolAndReLU: fused, rng: &rng)
        conv2 = Conv2d(inChannels: 4, outChannels: 8, poolAndReLU: fused, rng: &rng)
        fc1 = Linear(inFeatures: 8 * 3 * 3, outFeatures: 32, rng: &rng)
        fc2 = Linear(inFeatures: 32, outFeatures: heads * classes, rng: &rng)
        layers = [conv1, conv2, fc1, fc2]
    }

    var parameters: [Parameter] { layers.flatMap(\.parameters) }

    func forward(_ x: Tensor) -> Tensor {
        let h1 = fused ? conv1.forward(x) : pool1.forward(relu1.forward(conv1.forward(x)))
        let h2 = fused ? conv2.forward(h1) : pool2.forward(relu2.forward(conv2.forward(h1)))
        return fc2.forward(relu3.forward(fc1.forward(h2)))
    }

    func backward(_ dlogits: Tensor) {
        let g = relu3.backward(fc2.backward(dlogits))
        let g1 = fc1.backward(g)
        let g2 = conv2.backward(fused ? g1 : relu2.backward(pool2.backward(g1)))
        conv1.backward(fused ? g2 : relu1.backward(pool1.backward(g2)))
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
            adam.zeroGrad()
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

    func testFusedConvBlocksTrainBitIdenticallyToSeparateLayers() {
        let separate = TinyConvNet(seed: 3, heads: heads, classes: classes)
        let fused = TinyConvNet(seed: 3, heads: heads, classes: classes, fused: true)
        XCTAssertEqual(train(separate, steps: 10), train(fused, steps: 10))
        for (a, b) in zip(separate.parameters, fused.parameters) {
            XCTAssertEqual(a.value.array, b.value.array, a.name)
        }
    }
}
