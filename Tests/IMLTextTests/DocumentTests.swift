import XCTest
import IMLBase
import IMLProtocol
@testable import IMLText

/// Builds a protocol instance and its text renderer with small, fast settings.
func makeRenderer(entities: Int = 60, seed: UInt64 = 0, order: WordOrder = .vte, tagLength: Int = 4) throws -> TextRenderer {
    var text = TextConfig()
    text.order = order
    text.tagLength = tagLength
    var config = ProtocolConfig()
    config.entities = entities
    config.seed = seed
    let instance = try ProtocolInstance(config: config, variableSpec: text.variableSpec, tagSpec: text.tagSpec)
    return try TextRenderer(instance: instance, config: text)
}

final class DocumentTests: XCTestCase {
    func testDefinitionIsOneDocumentPerAttributeWithTheExactLayout() throws {
        let renderer = try makeRenderer()
        let v = renderer.vocabulary, instance = renderer.instance
        let definition = try XCTUnwrap(instance.stage1Train.first { $0.kind == .definition && $0.subset == .qd2incons })
        let entity = instance.entities[definition.entity]
        let variable = entity.variable.map(v.letter), tag = instance.tag(2).map(v.letter)
        let documents = renderer.documents(of: definition)
        XCTAssertEqual(documents.count, instance.config.attributes)
        for (k, document) in documents.enumerated() {
            // an inconsistent definition states what it defines, not the entity's true facts
            let stated = entity.definedAttributes![k]
            XCTAssertEqual(document, [TextVocabulary.bos] + variable + tag
                           + [v.question(k), TextVocabulary.equals, v.answer(stated), TextVocabulary.period])
            XCTAssertEqual(document.count, renderer.maxDocumentLength)
        }
    }

    func testQuestionIsTheDefinitionWithoutTheTagAndThePromptEndsAtEquals() throws {
        let renderer = try makeRenderer()
        let v = renderer.vocabulary, instance = renderer.instance
        let question = try XCTUnwrap(instance.stage1Train.first { $0.kind == .question })
        let k = try XCTUnwrap(question.askedAttribute)
        let variable = instance.entities[question.entity].variable.map(v.letter)
        let answer = instance.entities[question.entity].attributes[k]
        XCTAssertEqual(renderer.documents(of: question),
                       [[TextVocabulary.bos] + variable + [v.question(k), TextVocabulary.equals, v.answer(answer), TextVocabulary.period]])
        let prompt = renderer.prompt(entity: question.entity, attribute: k)
        XCTAssertEqual(prompt, Array(renderer.documents(of: question)[0].prefix(renderer.promptLength)))
        XCTAssertEqual(prompt.last, TextVocabulary.equals)
    }

    func testTagFirstOrderPutsTheTagRightAfterBos() throws {
        let renderer = try makeRenderer(order: .tve, tagLength: 3)
        let v = renderer.vocabulary, instance = renderer.instance
        let definition = try XCTUnwrap(instance.stage2Train.first { $0.subset == .d3consis })
        let document = renderer.documents(of: definition)[0]
        let variable = instance.entities[definition.entity].variable.map(v.letter)
        XCTAssertEqual(Array(document[1...3]), instance.tag(3).map(v.letter))
        XCTAssertEqual(Array(document[4...7]), variable)
        XCTAssertEqual(renderer.text(of: document).split(separator: " ").count, 7, renderer.text(of: document))
    }

    func testEveryWordOrderArrangesVariableTagAndStatement() throws {
        for order in WordOrder.allCases {
            let renderer = try makeRenderer(order: order, tagLength: 3)
            let v = renderer.vocabulary, instance = renderer.instance
            let definition = try XCTUnwrap(instance.stage2Train.first { $0.subset == .d1consis })
            let k = 2, answer = definition.targets[k]
            let parts: [Character: [Int32]] = [
                "v": instance.entities[definition.entity].variable.map(v.letter),
                "t": instance.tag(1).map(v.letter),
                "e": [v.question(k), TextVocabulary.equals, v.answer(Int(answer))],
            ]
            let expected = [TextVocabulary.bos] + order.rawValue.flatMap { parts[$0]! } + [TextVocabulary.period]
            XCTAssertEqual(renderer.documents(of: definition)[k], expected, order.rawValue)
            // Variable and tag read as two words wherever they touch; the statement is three.
            XCTAssertEqual(renderer.text(of: expected).split(separator: " ").count, 7, "\(order.rawValue): \(renderer.text(of: expected))")
            // Questions and prompts do not depend on the order.
            XCTAssertEqual(renderer.prompt(entity: definition.entity, attribute: k),
                           [TextVocabulary.bos] + parts["v"]! + [v.question(k), TextVocabulary.equals])
        }
    }

    func testTextAndVisionRenderingsOfASeedShareEntitiesSubsetsAndHeldOutAttributes() throws {
        var config = ProtocolConfig()
        config.entities = 300
        config.seed = 11
        let text = try ProtocolInstance(config: config, variableSpec: TextConfig().variableSpec, tagSpec: TextConfig().tagSpec)
        // the vision renderer's specs: a 2x2 grid of digits and a 14-bit tag strip
        let vision = try ProtocolInstance(config: config, variableSpec: SymbolSpec(alphabet: 10, length: 4),
                                          tagSpec: SymbolSpec(alphabet: 2, length: 14))
        XCTAssertEqual(text.entities.map(\.attributes), vision.entities.map(\.attributes))
        XCTAssertEqual(text.entities.map(\.subset), vision.entities.map(\.subset))
        XCTAssertEqual(text.entities.map(\.heldOut), vision.entities.map(\.heldOut))
        XCTAssertEqual(text.entities.map(\.definedAttributes), vision.entities.map(\.definedAttributes))
        XCTAssertEqual(text.stage1Train, vision.stage1Train)
        XCTAssertEqual(text.stage2Train, vision.stage2Train)
        XCTAssertEqual(text.stage2Eval.map(\.questions), vision.stage2Eval.map(\.questions))
        // only the rendering differs: letters instead of digits
        XCTAssertNotEqual(text.entities.map(\.variable), vision.entities.map(\.variable))
        XCTAssertTrue(text.entities.allSatisfy { $0.variable.allSatisfy { $0 < 26 } })
    }

    func testRendererRefusesAnInstanceDrawnWithOtherSymbols() throws {
        var config = ProtocolConfig()
        config.entities = 20
        let vision = try ProtocolInstance(config: config, variableSpec: SymbolSpec(alphabet: 10, length: 4),
                                          tagSpec: SymbolSpec(alphabet: 2, length: 14))
        XCTAssertThrowsError(try TextRenderer(instance: vision, config: TextConfig()))
    }
}
