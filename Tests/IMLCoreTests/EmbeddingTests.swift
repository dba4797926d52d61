import IMLBase
import IMLCore
import XCTest

final class EmbeddingTests: XCTestCase {
    private let tokens: [Int32] = [3, 1, 4, 1, 5,
                                   0, 1, 6, 6, 2]  // [2, 5]; token 1 and 6 repeat

    func testOutputIsTokenRowPlusPositionRow() {
        var rng = SeededRandom(seed: 50)
        let embedding = Embedding(vocabSize: 8, maxLength: 6, dim: 8, rng: &rng)
        let y = embedding.forward(tokens: tokens, batch: 2, length: 5)
        XCTAssertEqual(y.shape, [2, 5, 8])
        for b in 0..<2 {
            for t in 0..<5 {
                let id = Int(tokens[b * 5 + t])
                for i in 0..<8 {
                    XCTAssertEqual(y[(b * 5 + t) * 8 + i], embedding.tokenTable[id * 8 + i] + embedding.positionTable[t * 8 + i])
                }
            }
        }
    }

    func testBackwardScattersIntoBothTables() {
        var rng = SeededRandom(seed: 51)
        let embedding = Embedding(vocabSize: 8, maxLength: 6, dim: 8, rng: &rng)
        checkTransformerLayerGradients(input: nil, parameters: embedding.parameters,
                                       forward: { embedding.forward(tokens: self.tokens, batch: 2, length: 5) },
                                       backward: { embedding.backward($0); return nil }, seed: 52)
        // Rows never looked up get nothing: token 7 and position 5 are unused.
        for i in 0..<8 {
            XCTAssertEqual(embedding.tokenTableGrad[7 * 8 + i], 0)
            XCTAssertEqual(embedding.positionTableGrad[5 * 8 + i], 0)
        }
    }
}
