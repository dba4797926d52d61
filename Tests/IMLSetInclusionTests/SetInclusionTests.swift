import IMLBase
import IMLCore
import IMLProtocol
import IMLRunFiles
import IMLSetInclusion
@testable import IMLText
import IMLTraining
import XCTest

/// The set-inclusion documents: what every list holds, what every definition states, and the
/// tokens of a document and a prompt.
final class SetInclusionTests: XCTestCase {
    static func protocolConfig(entities: Int = 60, seed: UInt64 = 2, alpha: Double = 1) -> ProtocolConfig {
        var p = ProtocolConfig()
        p.entities = entities
        p.attributes = 8
        p.classes = 2
        p.heldOutPerVariable = 4
        p.tag1Fraction = 0.4
        p.tag2Fraction = 0.4
        p.questionOnlyFraction = 0
        p.stage2Weights = [1, 1, 1, 0]
        p.alpha = alpha
        p.seed = seed
        return p
    }

    func makeRenderer(_ p: ProtocolConfig = protocolConfig(), numbers: Int = 20, perQuestion: Int = 5, lists: ListDraw = .fixed) throws -> SetInclusionRenderer {
        var s = SetInclusionSettings()
        s.lists = lists
        s.numbers = numbers
        s.numbersPerQuestion = perQuestion
        let modality = SetInclusionModality(settings: s)
        try modality.validate(p)
        return try modality.renderer(p)
    }

    /// A question's answer is whether x is listed; a list holds distinct numbers in range; an
    /// inconsistent entity's lists hold x' exactly where the protocol's defined answer is true.
    func testEveryListAnswersItsQuestionAndAWrongDefinitionsToo() throws {
        for alpha in [1.0, 0.5] {
            let r = try makeRenderer(Self.protocolConfig(alpha: alpha))
            var inconsistent = 0
            for e in r.instance.entities {
                XCTAssertTrue((0..<20).contains(r.x[e.id]))
                XCTAssertNotEqual(r.x[e.id], r.wrongX[e.id])
                for k in 0..<8 {
                    let list = Array(r.list(entity: e.id, attribute: k))
                    XCTAssertEqual(list.count, 5)
                    XCTAssertEqual(Set(list).count, 5, "numbers repeat in \(list)")
                    XCTAssertTrue(list.allSatisfy { (0..<20).contains($0) })
                    XCTAssertEqual(list.contains(r.x[e.id]), e.attributes[k] == 1, "entity \(e.id) question \(k)")
                    if !e.subset.isConsistent {
                        XCTAssertEqual(list.contains(r.wrongX[e.id]), e.definedAttributes![k] == 1)
                    }
                }
                if !e.subset.isConsistent { inconsistent += 1 }
            }
            XCTAssertGreaterThan(inconsistent, 0, "alpha \(alpha) gave no inconsistent definition to check")
        }
    }

    /// The exact tokens of a consistent and an inconsistent definition, a question and its prompt.
    func testDocumentsAndPromptsAreThePapersFormat() throws {
        let r = try makeRenderer(), v = r.vocabulary, instance = r.instance
        XCTAssertEqual(v.size, 9 + 20 + 60)
        for example in instance.stage1Train + instance.stage2Train {
            let e = instance.entities[example.entity], variable = v.variable(e.variable[0])
            let documents = r.documents(of: example)
            XCTAssertEqual(documents.count, 1)
            switch example.kind {
            case .definition:
                let stated = e.subset.isConsistent ? r.x[e.id] : r.wrongX[e.id]
                XCTAssertEqual(v.decode(documents[0]), "<bos> define\(example.tag!) v\(e.variable[0]) % \(stated)")
                XCTAssertEqual(documents[0], [1, 5 + Int32(example.tag!), variable, 2, 9 + Int32(stated)])
            case .question:
                let k = example.askedAttribute!
                let list = r.list(entity: e.id, attribute: k).map(String.init).joined(separator: " ")
                let answer = e.attributes[k] == 1 ? "true" : "false"
                XCTAssertEqual(v.decode(documents[0]), "<bos> v\(e.variable[0]) % \(list) = \(answer)")
                XCTAssertEqual(Array(documents[0].dropLast()), r.prompt(entity: e.id, attribute: k))
                XCTAssertEqual(r.answerClass(of: documents[0].last!), e.attributes[k])
            case .knowledge:
                XCTFail("set inclusion has no knowledge examples")
            }
        }
        XCTAssertEqual(r.promptLength, 9)
        XCTAssertEqual(r.maxDocumentLength, 10)
        // Only true and false are answers.
        XCTAssertEqual((0..<Int32(v.size)).compactMap(r.answerClass(of:)), [0, 1])
    }

    /// Variables are one token each and distinct; the same seed gives the same documents, another seed others.
    func testTheSeedDecidesTheNumbersAndTheLists() throws {
        let a = try makeRenderer(), b = try makeRenderer(), c = try makeRenderer(Self.protocolConfig(seed: 3))
        XCTAssertEqual(Set(a.instance.entities.map { $0.variable }).count, 60)
        XCTAssertEqual(a.x, b.x)
        XCTAssertEqual((0..<60).map { Array(a.list(entity: $0, attribute: 3)) }, (0..<60).map { Array(b.list(entity: $0, attribute: 3)) })
        XCTAssertNotEqual(a.x, c.x)
    }

    /// A task on the documents trains: one step lowers the loss of its batch.
    func testATaskOnTheDocumentsTrains() throws {
        var s = SetInclusionSettings()
        s.numbers = 20; s.numbersPerQuestion = 5; s.layers = 1; s.width = 16; s.heads = 2
        let modality = SetInclusionModality(settings: s)
        let task = try modality.makeTask(Self.protocolConfig())
        XCTAssertEqual(task.trainingCount(stage: 1), task.instance.stage1Train.count, "one document per example")
        let batch = Array(0..<32)[...]
        let adam = Trainer.makeOptimizer(parameters: task.parameters, config: TrainingConfig())
        let before = task.lossAndGradient(stage: 1, examples: batch)
        for _ in 0..<5 {
            adam.step()
            task.network.zeroGrad()
            _ = task.lossAndGradient(stage: 1, examples: batch)
        }
        XCTAssertLessThan(task.lossAndGradient(stage: 1, examples: batch), before)
        let predictions = task.predict(task.instance.stage1Eval[0])
        XCTAssertEqual(predictions.count, task.instance.stage1Eval[0].questions.count)
        XCTAssertTrue(predictions.allSatisfy { (-1...1).contains($0) })
    }

    /// With lists drawn every epoch, an epoch's training documents are new lists with the same
    /// answers (and x' where defined), the same for the same epoch; evaluation prompts never change.
    func testListsDrawnEveryEpochKeepTheAnswersAndTheEvaluation() throws {
        var s = SetInclusionSettings()
        s.numbers = 20; s.numbersPerQuestion = 5; s.layers = 1; s.width = 16; s.heads = 2; s.lists = .everyEpoch
        let modality = SetInclusionModality(settings: s)
        let task = try XCTUnwrap(try modality.makeTask(Self.protocolConfig()) as? TextTask)
        let base = try XCTUnwrap(task.renderer as? SetInclusionRenderer)
        let epoch3 = try XCTUnwrap(base.redrawn(epoch: 3) as? SetInclusionRenderer)
        let again = try XCTUnwrap(base.redrawn(epoch: 3) as? SetInclusionRenderer)
        var changed = 0
        for e in base.instance.entities {
            for k in 0..<8 {
                let list = Array(epoch3.list(entity: e.id, attribute: k))
                XCTAssertEqual(list, Array(again.list(entity: e.id, attribute: k)))
                XCTAssertEqual(list.contains(base.x[e.id]), e.attributes[k] == 1)
                if !e.subset.isConsistent { XCTAssertEqual(list.contains(base.wrongX[e.id]), e.definedAttributes![k] == 1) }
                if list != Array(base.list(entity: e.id, attribute: k)) { changed += 1 }
            }
        }
        XCTAssertGreaterThan(changed, 400, "the epoch's lists are barely new")
        let set = task.instance.stage1Eval[0], before = task.predict(set)
        let firstDocument = { task.fillBatch(stage: 1, documents: Array(0..<task.documentCount(stage: 1))); return task.inputsBuffer }
        let epoch1 = { task.beginEpoch(stage: 1, epoch: 1); return firstDocument() }()
        task.beginEpoch(stage: 1, epoch: 2)
        XCTAssertNotEqual(firstDocument(), epoch1)
        task.beginEpoch(stage: 1, epoch: 1)
        XCTAssertEqual(firstDocument(), epoch1)
        XCTAssertEqual(task.predict(set), before, "evaluation prompts changed with the epoch")
        // A fixed-lists renderer never redraws.
        XCTAssertNil(try makeRenderer().redrawn(epoch: 3))
    }

    func testImpossibleSettingsAreRefusedWithTheirFix() throws {
        var p = Self.protocolConfig()
        p.classes = 3
        XCTAssertThrowsError(try makeRenderer(p)) { XCTAssertTrue(($0 as! IMLError).message.contains("--classes must be 2")) }
        XCTAssertThrowsError(try makeRenderer(numbers: 20, perQuestion: 19)) {
            XCTAssertTrue(($0 as! IMLError).message.hasPrefix("--numbers-per-question must lie between 1 and --numbers - 2 = 18"))
        }
        XCTAssertThrowsError(try makeRenderer(Self.protocolConfig(entities: 9))) {
            XCTAssertTrue(($0 as! IMLError).message.contains("at least 10"))
        }
    }
}
