import XCTest
import IMLBase
@testable import IMLRunFiles

/// The strict readers of run files: the JSON reader, metrics records, and the record checks.
final class RunFilesTests: XCTestCase {
    func reason(_ text: String) -> String? {
        do { _ = try JSON.read(Substring(text)); return nil } catch { return "\(error)" }
    }

    func testJSONReaderReadsWhatTheWriterWritesAndNamesWhatIsWrong() throws {
        let value = JSON.object([("a", .array([.int(-3), .number(0.1), .number(1e-300), .bool(false), .null])),
                                 ("s", .string("tab\t, quote \", slash \\, é, 😀, \u{1}"))])
        for pretty in [false, true] {
            XCTAssertEqual(try JSON.read(Substring(value.serialized(pretty: pretty))).serialized(), value.serialized())
        }
        XCTAssertEqual(try JSON.read("\"\\ud83d\\ude00\\/\""), .string("😀/"))
        XCTAssertEqual(try JSON.read(" 12 "), .int(12))
        XCTAssertEqual(try JSON.read("1e999").numberValue, .infinity)
        XCTAssertEqual(try JSON.read("99999999999999999999"), .number(1e20), "an integer too large for Int stays a number")
        XCTAssertEqual(reason(""), "there is no JSON value")
        XCTAssertEqual(reason("{\"a\": [1, 2"), "the text ends inside an array")
        XCTAssertEqual(reason("{\"a\": 1, \"a\": 2}"), "the key \"a\" appears twice in one object")
        XCTAssertEqual(reason("[01]"), "expected ',' or ']' at byte 2, found '1'")
        XCTAssertEqual(reason("NaN"), "unexpected character 'N' at byte 0")
        XCTAssertEqual(reason("[1.]"), "a malformed number at byte 1")
        XCTAssertEqual(reason("\"\\ud800\""), "a lone surrogate \\u escape before byte 8")
        XCTAssertEqual(reason("\"a\nb\""), "a control character inside a string at byte 2")
        XCTAssertEqual(reason("tru"), "the text ends inside true")
        XCTAssertEqual(reason("{} x"), "unexpected text after the JSON value at byte 3")
        XCTAssertEqual(reason(String(repeating: "[", count: 65) + String(repeating: "]", count: 65)), "it nests deeper than 64 levels")
        XCTAssertNil(reason(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
    }

    func testMetricRecordsAreExactlyTheTwoKinds() throws {
        func problem(_ line: String) -> String? {
            do { _ = try MetricRecord(line: Substring(line)); return nil } catch { return "\(error)" }
        }
        XCTAssertEqual(try MetricRecord(line: #"{"seed":3,"stage":2,"epoch":0,"subset":"d1consis","em":0.5,"n":4}"#),
                       .exactMatch(seed: 3, stage: 2, epoch: 0, subset: "d1consis", em: 0.5, n: 4))
        XCTAssertEqual(try MetricRecord(line: #"{"seed":3,"stage":1,"epoch":2,"train_loss":1.25}"#),
                       .trainLoss(seed: 3, stage: 1, epoch: 2, loss: 1.25))
        XCTAssertEqual(problem(#"{"seed":3,"stage":1,"epoch":0,"train_loss":1}"#), #"its "epoch" is 0, expected a whole number of at least 1"#)
        XCTAssertEqual(problem(#"{"seed":-1,"stage":1,"epoch":1,"train_loss":1}"#), #"its "seed" is -1, expected a whole number of at least 0"#)
        XCTAssertEqual(problem(#"{"seed":0,"stage":3,"epoch":1,"train_loss":1}"#), #"its "stage" is 3, expected 1 or 2"#)
        XCTAssertEqual(problem(#"{"seed":0,"stage":1,"epoch":0,"subset":"q","em":1.5,"n":2}"#), #"its "em" is 1.5, expected a number in [0, 1]"#)
        XCTAssertEqual(problem(#"{"seed":0,"stage":1,"epoch":0,"subset":"q","em":1,"n":2,"x":1}"#), #"it has an unexpected key "x""#)
        XCTAssertEqual(problem(#"{"seed":0,"stage":1,"epoch":0}"#), #"it has neither "subset" nor "train_loss""#)
        XCTAssertEqual(problem("[1]"), "it is an array, not a JSON object")
    }

    func testRecordChecksFollowTheRunAndACheckpointsPosition() throws {
        func records(_ seed: UInt64, through epochs: [Int]) -> [(line: Int, record: MetricRecord)] {
            var out: [MetricRecord] = []
            for (stage, last) in epochs.enumerated() {
                for epoch in 0...last {
                    if epoch > 0 { out.append(.trainLoss(seed: seed, stage: stage + 1, epoch: epoch, loss: 1)) }
                    out.append(.exactMatch(seed: seed, stage: stage + 1, epoch: epoch, subset: "q", em: 0, n: 1))
                }
            }
            return out.enumerated().map { ($0.offset + 1, $0.element) }
        }
        func problem(_ r: [(line: Int, record: MetricRecord)], reached: (stage: Int, epochs: Int)? = nil) -> String? {
            do {
                try RunRecords.check(r, seeds: [0], stages: [1, 2], epochs: { $0 == 1 ? 2 : 1 }, reachedBy: { _ in reached },
                                     configName: "config.json") { IMLError($0) }
                return nil
            } catch { return "\(error)" }
        }
        XCTAssertNil(problem(records(0, through: [2, 1])))
        XCTAssertNil(problem(records(0, through: [2]), reached: (1, 2)))
        XCTAssertNil(problem(records(0, through: [2, 0]), reached: (2, 0)))
        XCTAssertEqual(problem(records(0, through: [2]), reached: (2, 1)), "there are no records of seed 0, stage 2")
        XCTAssertEqual(problem(records(0, through: [2, 1]), reached: (2, 0)),
                       "line 7 holds seed 0, stage 2, epoch 1, train_loss, past where training stands (stage 2, epoch 0)")
        XCTAssertEqual(problem(records(0, through: [2, 1]) + [(9, .trainLoss(seed: 0, stage: 1, epoch: 3, loss: 1))]),
                       "line 9 holds seed 0, stage 1, epoch 3, train_loss, past the last epoch (2) of that stage")
        XCTAssertEqual(problem(records(1, through: [2, 1])), "line 1 holds seed 1, which config.json does not list (seeds 0)")
    }
}
