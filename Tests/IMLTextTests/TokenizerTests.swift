import XCTest
import IMLBase
@testable import IMLText

final class TokenizerTests: XCTestCase {
    let vocabulary = TextVocabulary(attributes: 6, classes: 10)

    func testEveryTokenHasADistinctNameAndEncodesBackToItself() throws {
        XCTAssertEqual(vocabulary.size, 4 + 26 + 6 + 10)
        let all = (0..<Int32(vocabulary.size)).map { $0 }
        XCTAssertEqual(Set(all.map(vocabulary.name(of:))).count, vocabulary.size)
        for token in all {
            XCTAssertEqual(try vocabulary.encode(vocabulary.name(of: token)), [token], vocabulary.name(of: token))
        }
    }

    func testRandomSequencesRoundTripThroughText() throws {
        var rng = SeededRandom(seed: 3, stream: "tokenizer-test")
        for _ in 0..<200 {
            let tokens = (0..<(1 + rng.int(below: 20))).map { _ in Int32(rng.int(below: vocabulary.size)) }
            XCTAssertEqual(try vocabulary.encode(vocabulary.decode(tokens)), tokens)
            // forced word breaks change the text, never the tokens
            XCTAssertEqual(try vocabulary.encode(vocabulary.decode(tokens, wordStarts: [1, 3])), tokens)
        }
        let text = "<bos> kqzf wdxa q3 = a7 ."
        XCTAssertEqual(vocabulary.decode(try vocabulary.encode(text), wordStarts: [5]), text)
    }

    func testLettersAreOneTokenEachAndSpecialTokensAreTheirOwn() throws {
        let tokens = try vocabulary.encode("<bos> ab q1 = a0 .")
        XCTAssertEqual(tokens, [TextVocabulary.bos, vocabulary.letter(0), vocabulary.letter(1), vocabulary.question(0),
                                TextVocabulary.equals, vocabulary.answer(0), TextVocabulary.period])
        XCTAssertEqual(vocabulary.answerClass(of: vocabulary.answer(9)), 9)
        XCTAssertNil(vocabulary.answerClass(of: vocabulary.question(5)))
        XCTAssertNil(vocabulary.answerClass(of: TextVocabulary.period))
    }

    func testWordsOutsideTheVocabularyAreRejectedWithTheFix() {
        for bad in ["Abc", "q7", "q0", "a10", "x1", "ab-c"] {
            XCTAssertThrowsError(try vocabulary.encode("<bos> \(bad) ."), bad) { error in
                XCTAssertTrue("\(error)".contains(bad), "\(error)")
            }
        }
    }
}
