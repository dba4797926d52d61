import XCTest
import IMLBase
@testable import IMLProtocol

final class ProtocolInstanceTests: XCTestCase {
    let grid = SymbolSpec(alphabet: 10, length: 4)      // vision: 2x2 digits
    let strip = SymbolSpec(alphabet: 2, length: 14)     // vision: 14 tag bits
    let letters = SymbolSpec(alphabet: 26, length: 4)   // text

    func make(_ edit: (inout ProtocolConfig) -> Void = { _ in }) throws -> ProtocolInstance {
        var c = ProtocolConfig()
        edit(&c)
        return try ProtocolInstance(config: c, variableSpec: grid, tagSpec: strip, forbiddenTags: [Array(repeating: 0, count: 14)])
    }

    func testDefaultSubsetSizes() throws {
        let p = try make()
        let sizes = Dictionary(grouping: p.entities, by: \.subset).mapValues(\.count)
        XCTAssertEqual(sizes[.qd1consis], 300)
        XCTAssertEqual(sizes[.qd2incons], 300)
        XCTAssertEqual(sizes[.q], 100)
        XCTAssertEqual(sizes[.d1consis], 80)
        XCTAssertEqual(sizes[.d2consis], 80)
        XCTAssertEqual(sizes[.d3consis], 80)
        XCTAssertEqual(sizes[.no_qd_baseline], 60)
        XCTAssertNil(sizes[.qd1incons])
        XCTAssertNil(sizes[.qd2consis])
        // 600 definitions + 700 variables x 5 training questions
        XCTAssertEqual(p.stage1Train.count, 600 + 700 * 5)
        XCTAssertEqual(p.stage2Train.count, 240)
    }

    func testAlphaHalfGivesAllFourDefinitionSubsets() throws {
        let p = try make { $0.alpha = 0.5 }
        let sizes = Dictionary(grouping: p.entities, by: \.subset).mapValues(\.count)
        XCTAssertEqual(sizes[.qd1consis], 150)
        XCTAssertEqual(sizes[.qd1incons], 150)
        XCTAssertEqual(sizes[.qd2consis], 150)
        XCTAssertEqual(sizes[.qd2incons], 150)
        let p9 = try make { $0.alpha = 0.9 }
        let s9 = Dictionary(grouping: p9.entities, by: \.subset).mapValues(\.count)
        XCTAssertEqual(s9[.qd1consis], 270)
        XCTAssertEqual(s9[.qd2incons], 270)
        XCTAssertEqual(s9[.qd1incons], 30)
    }

    func testVariablesUniqueAndEachEntityInOneSubset() throws {
        let p = try make()
        XCTAssertEqual(Set(p.entities.map(\.variable)).count, p.entities.count)
        XCTAssertEqual(Set(p.tags).count, 3)
        XCTAssertFalse(p.tags.contains(Array(repeating: 0, count: 14)), "a tag must never look like the blank strip")
        // training examples of a subset only name entities of that subset
        for ex in p.stage1Train + p.stage2Train { XCTAssertEqual(p.entities[ex.entity].subset, ex.subset) }
    }

    func testInconsistentDefinitionsAreADerangementWithinTheSubset() throws {
        let p = try make()
        let incons = p.members(.qd2incons)
        let attributesOf = Dictionary(uniqueKeysWithValues: incons.map { (p.entities[$0].attributes, $0) })
        var sources: [Int] = []
        for e in incons {
            let stated = p.entities[e].definedAttributes!
            // T=6 attributes of 10 classes: collisions between entities are possible but rare
            guard let source = attributesOf[stated] else { return XCTFail("definition of \(e) states no entity of its subset") }
            XCTAssertNotEqual(source, e, "derangement has a fixed point")
            sources.append(source)
        }
        XCTAssertEqual(Set(sources).count, incons.count, "every entity's facts are stated exactly once")
        for e in p.members(.qd1consis) + p.members(.d3consis) { XCTAssertEqual(p.entities[e].definedAttributes, p.entities[e].attributes) }
    }

    func testStageSeparationTagsAndHeldOut() throws {
        let p = try make()
        let stage2Entities = Set(p.entities.filter { $0.subset.stage == 2 }.map(\.id))
        for ex in p.stage1Train {
            XCTAssertFalse(stage2Entities.contains(ex.entity))
            XCTAssertNotEqual(ex.tag, 3, "tag 3 appears in stage 1")
            if ex.kind == .question {
                XCTAssertNil(ex.tag)
                XCTAssertEqual(ex.targets.filter { $0 >= 0 }.count, 1)
                let k = ex.askedAttribute!
                XCTAssertFalse(p.entities[ex.entity].heldOut.contains(k), "held-out attribute trained")
                XCTAssertEqual(Int(ex.targets[k]), p.entities[ex.entity].attributes[k])
            } else {
                XCTAssertTrue(ex.targets.allSatisfy { $0 >= 0 })
            }
        }
        for ex in p.stage2Train {
            XCTAssertEqual(ex.kind, .definition)
            XCTAssertTrue(stage2Entities.contains(ex.entity))
        }
        XCTAssertEqual(Set(p.stage2Train.map(\.tag)), [1, 2, 3])
        XCTAssertFalse(p.stage2Train.contains { p.entities[$0.entity].subset == .no_qd_baseline })
        // stage-1 evaluation asks exactly the held-out attributes of stage-1 subsets
        for set in p.stage1Eval where set.subset.stage == 1 {
            for q in set.questions { XCTAssertEqual(p.entities[q.entity].heldOut, [q.attribute]) }
        }
        let stage2Sizes = Dictionary(uniqueKeysWithValues: p.stage2Eval.map { ($0.subset, $0.questions.count) })
        XCTAssertEqual(stage2Sizes, [.d1consis: 480, .d2consis: 480, .d3consis: 480, .no_qd_baseline: 360])
    }

    func testSameSeedSameInstanceAndStage2SeedOnlyMovesThePoolSplit() throws {
        let a = try make { $0.seed = 5 }, b = try make { $0.seed = 5 }
        XCTAssertEqual(a.entities, b.entities)
        XCTAssertEqual(a.stage1Train, b.stage1Train)
        XCTAssertNotEqual(a.entities, try make { $0.seed = 6 }.entities)
        let c = try make { $0.seed = 5; $0.seedStage2 = 99 }
        XCTAssertEqual(a.stage1Train, c.stage1Train)
        XCTAssertEqual(a.entities.map(\.attributes), c.entities.map(\.attributes))
        let pool = Set(a.entities.filter { $0.subset.stage == 2 }.map(\.id))
        XCTAssertEqual(pool, Set(c.entities.filter { $0.subset.stage == 2 }.map(\.id)))
        XCTAssertNotEqual(a.members(.d1consis), c.members(.d1consis))
    }

    func testModalitiesShareEverythingButAppearance() throws {
        var config = ProtocolConfig(); config.seed = 3
        let vision = try ProtocolInstance(config: config, variableSpec: grid, tagSpec: strip)
        let text = try ProtocolInstance(config: config, variableSpec: letters, tagSpec: letters)
        XCTAssertEqual(vision.entities.map(\.subset), text.entities.map(\.subset))
        XCTAssertEqual(vision.entities.map(\.attributes), text.entities.map(\.attributes))
        XCTAssertEqual(vision.entities.map(\.heldOut), text.entities.map(\.heldOut))
        XCTAssertEqual(vision.stage1Train, text.stage1Train)
        XCTAssertFalse(Set(text.entities.map(\.variable)).contains(text.tag(1)))
    }

    func testOneStageTrainsBothSetsAtOnceAndEvaluatesEverySubset() throws {
        let two = try make(), one = try make { $0.stages = 1 }
        XCTAssertEqual(one.stage1Train, two.stage1Train + two.stage2Train)
        XCTAssertTrue(one.stage2Train.isEmpty)
        XCTAssertTrue(one.stage2Eval.isEmpty)
        XCTAssertEqual(one.stage1Eval.map(\.subset), [.qd1consis, .qd2incons, .q, .d1consis, .d2consis, .d3consis, .no_qd_baseline])
        XCTAssertEqual(one.entities, two.entities)
        XCTAssertNotNil(message { $0.stages = 3 })
    }

    func message(_ edit: (inout ProtocolConfig) -> Void) -> String? {
        do { _ = try make(edit); return nil } catch { return (error as? IMLError)?.message }
    }

    /// Definitions first splits stage 1's training set by kind at epoch N; in the one-stage
    /// setting the first phase holds stage 2's definitions too (the authors' all-definitions-first).
    func testDefinitionsFirstSplitsStageOneByKindAtItsEpoch() throws {
        XCTAssertNil(try make().trainedExamples(stage: 1, epoch: 1))
        for stages in [2, 1] {
            let p = try make { $0.definitionsFirst = 3; $0.stages = stages }
            let set = p.stage1Train
            for epoch in 1...3 { XCTAssertEqual(p.trainedExamples(stage: 1, epoch: epoch)!.map { set[$0].kind }, Array(repeating: .definition, count: stages == 2 ? 600 : 840)) }
            let questions = try XCTUnwrap(p.trainedExamples(stage: 1, epoch: 4))
            XCTAssertEqual(questions.count, 700 * 5)
            XCTAssertTrue(questions.allSatisfy { set[$0].kind == .question })
            XCTAssertEqual(Set(questions + p.trainedExamples(stage: 1, epoch: 1)!), Set(set.indices), "the two phases train every example")
            XCTAssertNil(p.trainedExamples(stage: 2, epoch: 1))
        }
        XCTAssertThrowsError(try make { $0.definitionsFirst = -1 }) {
            XCTAssertEqual(($0 as? IMLError)?.message, "--definitions-first must be a number of epochs, 0 or more (got -1).")
        }
        XCTAssertThrowsError(try make { $0.definitionsFirst = 2; $0.tag1Fraction = 0; $0.tag2Fraction = 0 }) {
            XCTAssertEqual(($0 as? IMLError)?.message, "--definitions-first 2 trains stage 1's definitions first, but --tag1-fraction and --tag2-fraction are both 0, so stage 1 has none; leave --definitions-first out or give a tag fraction above 0.")
        }
    }

    func testInvalidSettingsAreRejectedWithAClearMessage() {
        XCTAssertEqual(message { $0.tag1Fraction = 0.6; $0.tag2Fraction = 0.5 },
                       "--tag1-fraction, --tag2-fraction and --question-only-fraction sum to 1.2, over 1; lower them so that their sum is at most 1.")
        XCTAssertEqual(message { $0.alpha = 1.5 }, "--alpha must lie in [0, 1] (got 1.5).")
        XCTAssertEqual(message { $0.entities = 0 }, "--entities must be at least 1 (got 0).")
        XCTAssertEqual(message { $0.entities = 20_000 },
                       "20000 entities need 20000 distinct variables, but variables of 4 symbols from an alphabet of 10 give only 10000; use longer variables (a larger grid) or fewer entities.")
        XCTAssertNotNil(message { $0.attributes = 1 })
    }
}
