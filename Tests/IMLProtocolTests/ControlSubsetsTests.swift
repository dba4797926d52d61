import XCTest
import IMLBase
@testable import IMLProtocol

/// The authors' two controls, off by default: qd4consis (consistent definitions, each with a tag of
/// its own) and d2incons (d2consis's questions with the variables swapped in pairs).
final class ControlSubsetsTests: XCTestCase {
    let grid = SymbolSpec(alphabet: 10, length: 4)
    let strip = SymbolSpec(alphabet: 2, length: 14)

    func make(_ edit: (inout ProtocolConfig) -> Void = { _ in }) throws -> ProtocolInstance {
        var c = ProtocolConfig()
        c.entities = 200
        edit(&c)
        return try ProtocolInstance(config: c, variableSpec: grid, tagSpec: strip, forbiddenTags: [Array(repeating: 0, count: 14)])
    }

    /// Giving a qd4consis fraction adds the group and changes no other group's members, tags or held-out attributes.
    func testQd4consisDefinitionsEachCarryATagOfTheirOwn() throws {
        let plain = try make(), with = try make { $0.qd4consisFraction = 0.1 }
        let group = with.entities.filter { $0.subset == .qd4consis }
        XCTAssertEqual(group.count, 20)
        for (a, b) in zip(plain.entities, with.entities) where b.subset != .qd4consis && a.subset.stage == 1 {
            XCTAssertEqual(a.subset, b.subset)
            XCTAssertEqual(a.heldOut, b.heldOut)
        }
        XCTAssertEqual(Array(with.tags.prefix(3)), plain.tags)
        let definitions = with.stage1Train.filter { $0.subset == .qd4consis && $0.kind == .definition }
        XCTAssertEqual(definitions.count, 20)
        XCTAssertEqual(Set(definitions.map { $0.tag! }), Set(4..<24), "every qd4consis definition has a tag of its own")
        XCTAssertEqual(Set(with.tags).count, with.tags.count, "tags repeat")
        for d in definitions {
            let e = with.entities[d.entity]
            XCTAssertEqual(d.targets, e.attributes.map(Int32.init), "qd4consis definitions are consistent")
            XCTAssertFalse(e.heldOut.isEmpty)
        }
        // Its questions are trained, its held-out ones evaluated in stage 1.
        XCTAssertEqual(with.stage1Train.filter { $0.subset == .qd4consis && $0.kind == .question }.count, 20 * 5)
        XCTAssertEqual(with.stage1Eval.first { $0.subset == .qd4consis }?.questions.count, 20)
        XCTAssertNil(plain.stage1Eval.first { $0.subset == .qd4consis })
    }

    /// d2incons asks each pair of d2consis variables with the other entity's answers.
    func testD2inconsSwapsTheVariablesOfD2consisInPairs() throws {
        let p = try make { $0.d2incons = true }, plain = try make()
        let d2 = p.entities.filter { $0.subset == .d2consis }
        let set = try XCTUnwrap(p.stage2Eval.first { $0.subset == .d2incons })
        XCTAssertEqual(set.questions.count, (d2.count / 2) * 2 * 6)
        for pair in stride(from: 0, to: d2.count - 1, by: 2) {
            let a = d2[pair], b = d2[pair + 1]
            for k in 0..<6 {
                XCTAssertTrue(set.questions.contains(EvalQuestion(entity: b.id, attribute: k, answer: a.attributes[k], definedAnswer: nil)))
                XCTAssertTrue(set.questions.contains(EvalQuestion(entity: a.id, attribute: k, answer: b.attributes[k], definedAnswer: nil)))
            }
        }
        XCTAssertTrue(Subset.d2incons.isConsistent, "no _defined record for the control")
        // Off by default; training sets and every other evaluation set unchanged.
        XCTAssertNil(plain.stage2Eval.first { $0.subset == .d2incons })
        XCTAssertEqual(p.stage1Train, plain.stage1Train)
        XCTAssertEqual(p.stage2Train, plain.stage2Train)
        XCTAssertEqual(p.stage2Eval.filter { $0.subset != .d2incons }.map(\.questions), plain.stage2Eval.map(\.questions))
    }

    func testImpossibleControlSettingsAreRefused() {
        XCTAssertThrowsError(try make { $0.qd4consisFraction = 1.5 }) {
            XCTAssertEqual(($0 as! IMLError).message, "--qd4consis-fraction must lie in [0, 1] (got 1.5).")
        }
        XCTAssertThrowsError(try make { $0.qd4consisFraction = 0.5 }) {
            XCTAssertEqual(($0 as! IMLError).message, "--tag1-fraction, --tag2-fraction, --question-only-fraction and --qd4consis-fraction sum to 1.2, over 1; lower them so that their sum is at most 1.")
        }
        // More own tags than a 4-bit strip has patterns.
        XCTAssertThrowsError(try ProtocolInstance(config: { var c = ProtocolConfig(); c.entities = 200; c.qd4consisFraction = 0.1; return c }(),
                                                  variableSpec: grid, tagSpec: SymbolSpec(alphabet: 2, length: 4))) {
            XCTAssertEqual(($0 as! IMLError).message, "--qd4consis-fraction gives 20 definitions a tag of their own, so 23 distinct tags are needed, but tags of 4 symbols from 2 allow only 16; lower --qd4consis-fraction or use longer tags.")
        }
    }
}
