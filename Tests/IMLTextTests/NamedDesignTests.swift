import XCTest
import IMLBase
import IMLCore
import IMLProtocol
import IMLTraining
@testable import IMLText

/// The named design (the paper's two-hop structure) and its entity-association test.
final class NamedDesignTests: XCTestCase {
    func namedRenderer(entities: Int = 60, order: WordOrder = .vte, nameLength: Int = 2, stages: Int = 2) throws -> TextRenderer {
        var text = TextConfig()
        text.order = order
        text.design = .named
        text.nameLength = nameLength
        var config = ProtocolConfig()
        config.entities = entities
        config.stages = stages
        let instance = try ProtocolInstance(config: config, variableSpec: text.variableSpec, tagSpec: text.tagSpec, knowledge: true)
        return try TextRenderer(instance: instance, config: text)
    }

    func testDefinitionsNameAnEntityInEveryOrderAndKnowledgeStatesItsFacts() throws {
        for order in WordOrder.allCases {
            let renderer = try namedRenderer(order: order)
            let v = renderer.vocabulary, instance = renderer.instance
            let definition = try XCTUnwrap(instance.stage1Train.first { $0.kind == .definition && $0.subset == .qd2incons })
            let entity = instance.entities[definition.entity]
            let defined = try XCTUnwrap(entity.definedEntity)
            XCTAssertNotEqual(defined, entity.id, "an inconsistent definition names another entity")
            XCTAssertEqual(entity.definedAttributes, instance.entities[defined].attributes)
            let parts: [WordOrder.Part: [Int32]] = [.variable: entity.variable.map(v.letter), .tag: instance.tag(2).map(v.letter),
                                                    .statement: renderer.names[defined].map(v.nameSymbol)]
            XCTAssertEqual(renderer.documents(of: definition),
                           [[TextVocabulary.bos] + order.parts.flatMap { parts[$0]! } + [TextVocabulary.period]], "\(order)")
        }
        let renderer = try namedRenderer()
        let v = renderer.vocabulary, instance = renderer.instance
        let knowledge = instance.stage1Train.filter { $0.kind == .knowledge }
        XCTAssertEqual(knowledge.map(\.entity), Array(0..<60), "every entity's facts, stage-2 and baseline ones too")
        XCTAssertFalse(instance.stage2Train.contains { $0.kind == .knowledge })
        let e = instance.entities[7]
        XCTAssertEqual(renderer.documents(of: knowledge[7]), (0..<6).map { k in
            [TextVocabulary.bos] + renderer.names[7].map(v.nameSymbol) + [v.question(k), TextVocabulary.equals, v.answer(e.attributes[k]), TextVocabulary.period]
        })
        XCTAssertEqual(Set(renderer.names).count, 60, "names are distinct")
        XCTAssertEqual(try v.encode(renderer.text(of: renderer.documents(of: knowledge[7])[2])), renderer.documents(of: knowledge[7])[2])
        let definition = try XCTUnwrap(instance.stage1Train.first { $0.kind == .definition })
        XCTAssertEqual(try v.encode(renderer.text(of: renderer.documents(of: definition)[0])), renderer.documents(of: definition)[0])
        XCTAssertEqual(renderer.associationPrompt(entity: 3, form: 0), [TextVocabulary.bos] + instance.entities[3].variable.map(v.letter) + [TextVocabulary.equals])
        // The attributes design keeps its vocabulary: no name symbols.
        XCTAssertEqual(try makeRenderer().vocabulary.size, v.size - TextVocabulary.nameSymbolCount)
    }

    func testNamedSettingsAreCheckedAgainstTheProtocol() throws {
        var text = TextConfig()
        text.design = .named
        text.nameLength = 1
        var config = ProtocolConfig()
        config.entities = 40
        XCTAssertThrowsError(try text.validate(config)) {
            XCTAssertEqual(($0 as? IMLError)?.message, "--name-length 1 gives only 36 distinct names, but --entities 40 needs one per entity; use a larger --name-length or fewer --entities.")
        }
        text.nameLength = 4
        XCTAssertThrowsError(try text.validate()) {
            XCTAssertEqual(($0 as? IMLError)?.message, "--name-length must be 1, 2 or 3 symbols (got 4); longer names make the entity-association test score 36^(length-1) continuations of every prompt.")
        }
    }

    /// The batched scores equal a brute-force reading: each name's log-probability from its own
    /// teacher-forced sequence, and greedy decoding one forward pass per step.
    func testAssociationScoresEqualBruteForce() throws {
        for nameLength in [1, 2] {
            let renderer = try namedRenderer(entities: 30, nameLength: nameLength)
            var modelConfig = TransformerLM.Config()
            modelConfig.layers = 1; modelConfig.width = 16; modelConfig.heads = 2; modelConfig.embeddingStd = 1
            let task = try TextTask(renderer: renderer, model: modelConfig, modelSeed: 3)
            let association = EntityAssociation(renderer: renderer, model: task.model)
            let prompts = [renderer.associationPrompt(entity: 2, form: 0), renderer.associationPrompt(entity: 5, form: 1)]
            let batched = association.nameScores(prompts: prompts)
            let v = task.model.config.vocabularySize
            func logSoftmax(_ tokens: [Int32], at position: Int) -> [Double] {
                let logits = task.model.forward(tokens: tokens, batch: 1, length: tokens.count).array
                let row = logits[(position * v)..<((position + 1) * v)].map(Double.init)
                let m = row.max()!, z = log(row.map { exp($0 - m) }.reduce(0, +)) + m
                return row.map { $0 - z }
            }
            for (p, prompt) in prompts.enumerated() {
                for (entity, name) in renderer.names.enumerated() {
                    let tokens = prompt + name.map(renderer.vocabulary.nameSymbol)
                    let expected = (0..<nameLength).reduce(0.0) { sum, i in
                        sum + logSoftmax(Array(tokens.prefix(prompt.count + i)), at: prompt.count + i - 1)[Int(tokens[prompt.count + i])]
                    }
                    XCTAssertEqual(batched.scores[p][entity], expected, accuracy: 1e-4, "name length \(nameLength), prompt \(p), entity \(entity)")
                }
                var sequence = prompt, greedy: [Int] = []
                for _ in 0..<nameLength {
                    let row = logSoftmax(sequence, at: sequence.count - 1)
                    let best = row.indices.max { row[$0] < row[$1] }!
                    guard renderer.vocabulary.isNameSymbol(Int32(best)) else { break }
                    greedy.append(best - Int(renderer.vocabulary.firstName))
                    sequence.append(Int32(best))
                }
                XCTAssertEqual(batched.greedy[p], greedy, "name length \(nameLength), prompt \(p)")
            }
        }
    }

    /// Every subset but the baseline gets the three scores, an inconsistent one also against the
    /// name its definition gave; a model that has learned nothing ranks near chance.
    func testTheTestScoresEverySubsetWithAVariableToAsk() throws {
        let renderer = try namedRenderer(entities: 60)
        var modelConfig = TransformerLM.Config()
        modelConfig.layers = 1; modelConfig.width = 16; modelConfig.heads = 2
        let task = try TextTask(renderer: renderer, model: modelConfig, modelSeed: 1)
        let stage1 = task.testScores(stage: 1).map(\.subset)
        XCTAssertTrue(stage1.contains("association/qd1consis"))
        XCTAssertTrue(stage1.contains("association-mrr/qd2incons_defined"))
        XCTAssertTrue(stage1.contains("association-top1/q"))
        XCTAssertFalse(stage1.contains { $0.hasPrefix("association") && $0.hasSuffix("no_qd_baseline") })
        let stage2 = task.testScores(stage: 2)
        XCTAssertEqual(Set(stage2.map(\.subset)), Set(["d1consis", "d2consis", "d3consis"].flatMap { s in
            ["association/", "association-top1/", "association-mrr/"].map { $0 + s } } + ["d1consis", "d2consis", "d3consis", "no_qd_baseline"].map { "knowledge/" + $0 }))
        let knowledge = try XCTUnwrap(stage2.first { $0.subset == "knowledge/no_qd_baseline" })
        XCTAssertEqual(knowledge.n, 6 * min(EntityAssociation.entitiesPerSubset, renderer.instance.members(.no_qd_baseline).count))
        let d1 = try XCTUnwrap(stage2.first { $0.subset == "association/d1consis" })
        XCTAssertEqual(d1.n, 2 * min(EntityAssociation.entitiesPerSubset, renderer.instance.members(.d1consis).count), "both prompt forms")
        for score in stage2 where score.subset.hasPrefix("association-mrr/") {
            XCTAssertLessThan(score.value, 0.3, "an untrained model's reciprocal rank among 60 names: \(score)")
        }
        // The attributes design has no such test.
        XCTAssertTrue(try TextTask(renderer: try makeRenderer(), model: modelConfig, modelSeed: 1).testScores(stage: 2).isEmpty)
    }
}
