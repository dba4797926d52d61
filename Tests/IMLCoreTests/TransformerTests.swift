import IMLBase
import IMLCore
import IMLTestSupport
import XCTest

// Tolerance of the finite-difference checks of the transformer layers (GELU, LayerNorm,
// attention, block). The test loss is L = sum(y * R) with fixed random R, evaluated in Double from
// a Float32 forward, differenced centrally with step eps = 1e-2:
//  - rounding: each of the ~10^2 outputs is O(1) with relative error ~1e-7 (a few roundings deep),
//    so L(x +- eps) is off by ~1e-6 and the difference quotient by ~1e-6 / 2e-2 = 5e-5;
//  - truncation: these layers are smooth but not linear, the error is eps^2/6 * |L'''| ~ 2e-5 * |L'''|,
//    and L''' is O(1..10) here (softmax, 1/std), so up to ~2e-4.
// Observed: at most 6e-4 relative to max(|g|, 0.1) over all these checks (it grows both for
// eps = 1e-3, rounding, and eps = 3e-2, truncation, as predicted). We demand 5e-3; a wrong term
// (a missing factor, a dropped path through the softmax or the mean/std, even a 1% error in one
// product) is off by more.
let transformerCheckEps: Float = 1e-2
let transformerCheckTolerance = 5e-3

/// Gradient check of a layer w.r.t. its input (if `input` is given) and every parameter:
/// backward(R) must match central differences of L = sum(forward() * R).
func checkTransformerLayerGradients(input: Tensor?, parameters: [Parameter],
                                    forward: () -> Tensor, backward: (Tensor) -> Tensor?,
                                    seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
    var rng = SeededRandom(seed: seed, stream: "gradient-check")
    let y = forward()
    let r = CoreFixtures.random(y.shape, &rng)
    for p in parameters { p.grad.zero() }
    let inputGrad = backward(r)?.clone()
    let loss = { GradientCheck.dot(forward(), r) }
    var checks: [(String, Tensor, Tensor)] = parameters.map { ($0.name, $0.grad.clone(), $0.value) }
    if let x = input, let dx = inputGrad { checks.insert(("input", dx, x), at: 0) }
    for (name, analytic, tensor) in checks {
        let result = GradientCheck.compare(analytic: analytic, numericOf: tensor, eps: transformerCheckEps,
                                           floor: 0.1, loss: loss)
        XCTAssertLessThan(result.maxRelativeError, transformerCheckTolerance, "\(name): \(result)",
                          file: file, line: line)
    }
}

final class TransformerTests: XCTestCase {
    func testBlockGradientsMatchFiniteDifferences() {
        var rng = SeededRandom(seed: 20)
        let block = TransformerBlock(dim: 8, heads: 2, rng: &rng)
        // Non-trivial LayerNorm affine parameters, so their gradients are checked away from 1 / 0.
        for ln in [block.ln1, block.ln2] {
            ln.weight.fillUniform(0.5, 1.5, &rng)
            ln.bias.fillUniform(-0.5, 0.5, &rng)
        }
        let x = CoreFixtures.random([2, 5, 8], &rng)
        XCTAssertEqual(block.forward(x).shape, [2, 5, 8])
        checkTransformerLayerGradients(input: x, parameters: block.parameters,
                                       forward: { block.forward(x) }, backward: { block.backward($0) }, seed: 21)
    }

    func testBlockIsCausal() {
        var rng = SeededRandom(seed: 22)
        let block = TransformerBlock(dim: 8, heads: 2, rng: &rng)
        let x = CoreFixtures.random([2, 5, 8], &rng)
        let before = block.forward(x).array
        // Change token 3 of sequence 1 (rows 8 of 10): tokens 0..2 of that sequence, and all of
        // sequence 0, must be bit-identical; token 3 itself must change.
        let changed = 1 * 5 + 3
        for i in 0..<8 { x[changed * 8 + i] += 0.5 }
        let after = block.forward(x).array
        for row in 0..<10 {
            let a = Array(after[(row * 8)..<(row * 8 + 8)]), b = Array(before[(row * 8)..<(row * 8 + 8)])
            if row < changed { XCTAssertEqual(a, b, "row \(row)") }
            if row == changed { XCTAssertNotEqual(a, b, "row \(row)") }
        }
    }

    func testBackwardAccumulatesAcrossCalls() {
        var rng = SeededRandom(seed: 23)
        let block = TransformerBlock(dim: 8, heads: 2, rng: &rng)
        let x = CoreFixtures.random([2, 5, 8], &rng), r = CoreFixtures.random([2, 5, 8], &rng)
        block.zeroGrad()
        _ = block.forward(x); _ = block.backward(r)
        let once = block.parameters.map { $0.grad.array }
        _ = block.forward(x); _ = block.backward(r)
        for (p, g) in zip(block.parameters, once) {
            for (a, b) in zip(p.grad.array, g) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5 + 1e-5 * abs(b), p.name) }
        }
    }

    /// A 1-layer causal language model memorises a fixed batch: next-token loss near zero.
    func testOneLayerTransformerMemorisesSmallBatch() {
        let vocab = 12, length = 8, dim = 16, pad: Int32 = 0
        // Four sequences with distinct first tokens (so every prefix determines the next token),
        // two of them padded at the end.
        let sequences: [[Int32]] = [
            [1, 5, 7, 2, 9, 3, 3, 11],
            [2, 2, 8, 10, 4, 6, pad, pad],
            [3, 9, 1, 1, 5, 11, 10, 7],
            [4, 6, 3, 8, pad, pad, pad, pad],
        ]
        let lengths = [8, 6, 8, 4]
        let batch = sequences.count
        let tokens = sequences.flatMap { $0 }
        // Target at t is the token at t + 1; the last real token and padding predict nothing.
        var targets = [Int32](repeating: -1, count: batch * length)
        for b in 0..<batch { for t in 0..<(lengths[b] - 1) { targets[b * length + t] = sequences[b][t + 1] } }

        var rng = SeededRandom(seed: 24)
        let model = TinyLanguageModel(vocab: vocab, length: length, dim: dim, heads: 2, rng: &rng)
        let lossFunction = SoftmaxCrossEntropy()
        let optimizer = Adam(parameters: model.parameters, lr: 1e-2)
        let initial = lossFunction.forward(logits: model.forward(tokens, batch: batch), classes: vocab, targets: targets)
        var loss = initial
        for _ in 0..<150 {
            optimizer.parameters.zeroGrad()
            loss = lossFunction.forward(logits: model.forward(tokens, batch: batch), classes: vocab, targets: targets)
            model.backward(lossFunction.backward())
            optimizer.step()
        }
        loss = lossFunction.forward(logits: model.forward(tokens, batch: batch), classes: vocab, targets: targets)
        XCTAssertGreaterThan(initial, 2, "an untrained model should be near log(\(vocab)) = 2.5")
        XCTAssertLessThan(loss, 0.01)

        // Padding is invisible: causal attention and ignored targets make the tokens after a
        // sequence's end irrelevant, bit for bit.
        var otherPadding = tokens
        for b in 0..<batch { for t in lengths[b]..<length { otherPadding[b * length + t] = 5 } }
        XCTAssertEqual(lossFunction.forward(logits: model.forward(otherPadding, batch: batch), classes: vocab, targets: targets), loss)
    }
}

/// Embedding -> TransformerBlock -> LayerNorm -> Linear to the vocabulary (untied).
private final class TinyLanguageModel: Layer {
    let embedding: Embedding
    let block: TransformerBlock
    let finalNorm: LayerNorm
    let head: Linear
    let length: Int

    init(vocab: Int, length: Int, dim: Int, heads: Int, rng: inout SeededRandom) {
        self.length = length
        embedding = Embedding(vocabSize: vocab, maxLength: length, dim: dim, rng: &rng)
        block = TransformerBlock(dim: dim, heads: heads, rng: &rng)
        finalNorm = LayerNorm(dim: dim)
        head = Linear(inFeatures: dim, outFeatures: vocab, rng: &rng)
    }

    var parameters: [Parameter] { embedding.parameters + block.parameters + finalNorm.parameters + head.parameters }

    /// tokens [B, T] -> logits [B*T, vocab]
    func forward(_ tokens: [Int32], batch: Int) -> Tensor {
        head.forward(finalNorm.forward(block.forward(embedding.forward(tokens: tokens, batch: batch, length: length))))
    }

    func backward(_ logitsGrad: Tensor) {
        embedding.backward(block.backward(finalNorm.backward(head.backward(logitsGrad))))
    }
}
