import IMLBase
import IMLCore
import XCTest

final class AttentionTests: XCTestCase {
    // B = 2 sequences of T = 5 tokens, D = 8, 2 heads of 4: x is [B*T, D].
    private let batch = 2, length = 5, dim = 8

    func testGradientsMatchFiniteDifferences() {
        var rng = SeededRandom(seed: 60)
        let attention = CausalSelfAttention(dim: dim, heads: 2, rng: &rng)
        // Scaled up so the softmax is far from uniform and its backward is exercised.
        let x = CoreFixtures.random([batch * length, dim], &rng)
        for i in 0..<x.count { x[i] *= 2 }
        checkTransformerLayerGradients(input: x, parameters: attention.parameters,
                                       forward: { attention.forward(x, length: self.length) },
                                       backward: { attention.backward($0) }, seed: 61)
    }

    func testAttentionRowsAreCausalDistributions() {
        var rng = SeededRandom(seed: 62)
        let attention = CausalSelfAttention(dim: dim, heads: 2, rng: &rng)
        _ = attention.forward(CoreFixtures.random([batch * length, dim], &rng), length: length)
        let att = attention.attention
        XCTAssertEqual(att.shape, [batch, 2, length, length])
        for row in 0..<(batch * 2 * length) {
            let t = row % length
            var sum: Float = 0
            for t2 in 0..<length {
                let p = att[row * length + t2]
                if t2 > t { XCTAssertEqual(p, 0, "row \(row) attends to the future") } else { XCTAssertGreaterThan(p, 0) }
                sum += p
            }
            XCTAssertEqual(sum, 1, accuracy: 1e-6)
        }
    }

    func testLaterTokensNeverChangeEarlierOutputs() {
        var rng = SeededRandom(seed: 63)
        let attention = CausalSelfAttention(dim: dim, heads: 2, rng: &rng)
        let x = CoreFixtures.random([batch * length, dim], &rng)
        for changedPosition in 0..<length {
            let before = attention.forward(x, length: length).array
            let saved = x.array
            // Change token `changedPosition` of sequence 0 only.
            for i in 0..<dim { x[changedPosition * dim + i] += 0.25 }
            let after = attention.forward(x, length: length).array
            for row in 0..<(batch * length) {
                let a = Array(after[(row * dim)..<((row + 1) * dim)]), b = Array(before[(row * dim)..<((row + 1) * dim)])
                let t = row % length, sameSequence = row < length
                if !sameSequence || t < changedPosition { XCTAssertEqual(a, b, "row \(row), changed \(changedPosition)") }
                if sameSequence && t >= changedPosition { XCTAssertNotEqual(a, b, "row \(row), changed \(changedPosition)") }
            }
            x.copy(from: Tensor(x.shape, values: saved))
        }
    }

    func testSingleTokenAttendsOnlyToItself() {
        // T = 1: the softmax is exactly [1], so y = Wo v + bo with v the value part of Wqkv x + bqkv.
        var rng = SeededRandom(seed: 64)
        let attention = CausalSelfAttention(dim: dim, heads: 2, rng: &rng)
        let x = CoreFixtures.random([3, dim], &rng)
        let y = attention.forward(x, length: 1).array
        let qkv = attention.qkvProjection.output
        let values = Tensor([3, dim])
        for r in 0..<3 { for i in 0..<dim { values[r * dim + i] = qkv[r * 3 * dim + 2 * dim + i] } }
        XCTAssertEqual(attention.outputProjection.forward(values).array, y)
    }

    func testSmallerBatchAndShorterSequencesReuseTheLayer() {
        var rng = SeededRandom(seed: 65)
        let attention = CausalSelfAttention(dim: dim, heads: 2, rng: &rng)
        let x = CoreFixtures.random([batch * length, dim], &rng)
        let full = attention.forward(x, length: length).array
        // The first 3 tokens of sequence 0 alone give the same outputs (causality), after a
        // bigger call has sized the buffers.
        let prefix = Tensor([3, dim], values: Array(x.array[0..<(3 * dim)]))
        let y = attention.forward(prefix, length: 3)
        XCTAssertEqual(y.shape, [3, dim])
        for i in 0..<(3 * dim) { XCTAssertEqual(y[i], full[i], accuracy: 1e-6) }
    }
}
