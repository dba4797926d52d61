import Foundation
@testable import IMLRunFiles
import IMLBase
import IMLProtocol
import XCTest

/// The run specification through the one JSON writer and the strict reader.
final class RunSpecJSONTests: XCTestCase {
    struct Sample: Codable, Equatable {
        enum Kind: String, Codable { case plain, fancy = "very-fancy" }
        var tag1Fraction = 0.25
        var seedStage2: UInt64? = nil
        var kind = Kind.fancy
        var widths = [16, 32]
        var rate: Float = 1e-3
        var nested = Inner()
        struct Inner: Codable, Equatable { var heldOut: Int? = 2 }
    }

    func testEncodingWritesSnakeCaseKeysInOrderAndNilAsNull() throws {
        let json = try JSONCoding.encode(Sample())
        XCTAssertEqual(json.serialized(),
                       #"{"tag1_fraction":0.25,"seed_stage2":null,"kind":"very-fancy","widths":[16,32],"rate":0.001,"nested":{"held_out":2}}"#)
        XCTAssertEqual(try JSONCoding.decode(Sample.self, from: json, what: "x"), Sample())
    }

    func testDecodingIsStrict() throws {
        func refusal(_ text: String) -> String? {
            do {
                _ = try JSONCoding.decode(Sample.self, from: try JSON.read(Substring(text)), what: "the file")
                return nil
            } catch let error as IMLError { return error.message } catch { return "\(error)" }
        }
        let good = #"{"tag1_fraction":0.25,"seed_stage2":null,"kind":"plain","widths":[1],"rate":0.5,"nested":{"held_out":null}}"#
        XCTAssertNil(refusal(good))
        XCTAssertEqual(refusal(good.replacingOccurrences(of: #""seed_stage2":null,"#, with: "")), "the file has no setting seed_stage2.")
        XCTAssertEqual(refusal(good.replacingOccurrences(of: #""widths":[1]"#, with: #""widths":[1.5]"#)),
                       "the file has a wrong value at widths.0 (expected a whole number, found a number).")
        XCTAssertEqual(refusal(good.replacingOccurrences(of: #""kind":"plain""#, with: #""kind":"odd""#))?.hasPrefix("the file has a wrong value at kind"), true)
        XCTAssertEqual(refusal(good.replacingOccurrences(of: #"{"held_out":null}"#, with: #"{"held_out":null,"extra":1}"#)),
                       "the file has the setting nested.extra, which this version does not know (a newer version wrote it); use that version, or remove the setting.")
        XCTAssertEqual(refusal(good.replacingOccurrences(of: #""seed_stage2":null"#, with: #""seed_stage2":-1"#)),
                       "the file has a wrong value at seed_stage2 (expected a non-negative whole number, found a number).")
    }

    func spec() -> RunSpec {
        var p = ProtocolConfig()
        p.alpha = 0.5
        p.seed = 9  // not part of the spec: each seed sets its own
        var t = TrainingConfig()
        t.learningRate = 3e-4
        return RunSpec(modality: "toy", seeds: [2, 3], saveEvery: 5, protocolConfig: p, training: t,
                       settings: .object([("grid", .int(2)), ("conv_channels", .array([.int(4), .int(8)]))]))
    }

    func testASpecRoundTripsAndNamesItsSettingsByOption() throws {
        let s = spec()
        let text = s.json.serialized(pretty: true)
        XCTAssertFalse(text.contains("\"seed\":"), text)
        XCTAssertTrue(text.contains("\"lr\": 0.0003"), text)
        var expected = s
        expected.protocolConfig.seed = 0
        XCTAssertEqual(try RunSpec(json: try JSON.read(Substring(text)), what: "spec"), expected)
        XCTAssertEqual(s.leaves.map(\.key).prefix(4), ["seeds", "save_every", "entities", "attributes"])
        XCTAssertEqual(RunSpec.option(forKey: "settings.conv_channels"), "--conv-channels")
        XCTAssertEqual(RunSpec.option(forKey: "tag1_fraction"), "--tag1-fraction")

        var other = s
        other.protocolConfig.alpha = 1
        other.settings = .object([("grid", .int(2)), ("conv_channels", .array([.int(4)]))])
        XCTAssertEqual(s.firstDifference(from: other)?.option, "--alpha")
        XCTAssertEqual(s.firstDifference(from: other)?.mine, "0.5")
        other.protocolConfig.alpha = 0.5
        XCTAssertEqual(s.firstDifference(from: other).map { "\($0.option) \($0.mine) \($0.other)" }, "--conv-channels 4,8 4")
        XCTAssertNil(s.firstDifference(from: expected))

        var defaults = s
        defaults.seeds = [0, 1]
        defaults.saveEvery = nil
        defaults.protocolConfig.alpha = 1
        XCTAssertEqual(s.options(differingFrom: defaults), ["--first-seed", "2", "--save-every", "5", "--alpha", "0.5"])
        XCTAssertEqual(s.options(differingFrom: defaults, excluding: ["--alpha"]), ["--first-seed", "2", "--save-every", "5"])
    }

    func testASpecWithAnUnknownOrMissingSettingIsRefused() throws {
        var fields = try XCTUnwrap(spec().json.objectFields)
        fields.append(("future", .int(1)))
        XCTAssertThrowsError(try RunSpec(json: .object(fields), what: "f")) {
            XCTAssertEqual(($0 as? IMLError)?.message, "f has the setting future, which this version does not know (a newer version wrote it); use that version, or remove the setting.")
        }
        XCTAssertThrowsError(try RunSpec(json: .object(fields.filter { $0.0 != "training" && $0.0 != "future" }), what: "f")) {
            XCTAssertEqual(($0 as? IMLError)?.message, "f has no setting training.")
        }
    }

    /// A spec written before a protocol setting existed (the published runs' before
    /// definitions_first) reads with that setting's default, which is what its version did.
    func testAProtocolSettingAddedLaterTakesItsDefaultInAnOlderSpec() throws {
        var original = spec()
        original.protocolConfig.alpha = 0.75
        let fields = try XCTUnwrap(original.json.objectFields).map { key, value -> (String, JSON) in
            key == "protocol" ? (key, .object((value.objectFields ?? []).filter { $0.0 != "definitions_first" })) : (key, value)
        }
        XCTAssertFalse(JSON.object(fields).serialized().contains("definitions_first"))
        let read = try RunSpec(json: .object(fields), what: "f")
        XCTAssertEqual(read, try RunSpec(json: original.json, what: "f"))
        XCTAssertEqual(read.protocolConfig.alpha, 0.75)
        XCTAssertEqual(read.protocolConfig.definitionsFirst, 0)
        // So a hand-written --spec file may give only the protocol settings it changes.
        let short = try RunSpec(json: .object(fields.map { $0.0 == "protocol" ? ($0.0, .object([("alpha", .number(0.5))])) : $0 }), what: "f")
        var expected = ProtocolConfig(); expected.alpha = 0.5
        XCTAssertEqual(short.protocolConfig, expected)
        XCTAssertThrowsError(try RunSpec(json: .object(fields.map { $0.0 == "protocol" ? ($0.0, .object([("alpha", .string("high"))])) : $0 }), what: "f"))
    }
}
