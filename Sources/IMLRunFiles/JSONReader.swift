// Reading the JSON this program writes back, strictly: a small parser of RFC 8259 text into the
// writer's own `JSON` values, so every run file (config.json, summary.json, a checkpoint's
// header, each metrics.jsonl line) is read by one piece of code that answers any bytes with a
// value or a reason, never a trap. Numbers go through Swift's Double(String), which rounds
// correctly (Foundation's parser on Linux does not), so a value read and written again gives the
// same bytes; integers that fit an Int stay integers, so types are never guessed.

import Foundation

/// Why some text is not the JSON it should be, in words that fit in a sentence.
public struct JSONSyntaxError: Error, CustomStringConvertible {
    public let reason: String
    /// True when the text ends before the value does (a truncated file).
    public let truncated: Bool
    public var description: String { reason }
}

extension JSON {
    /// Deeper nesting than any run file has is refused (and keeps the recursion shallow).
    static let maximumDepth = 64

    /// Parses one JSON value that fills `bytes` (white space around it allowed).
    public static func read(_ bytes: [UInt8]) throws -> JSON {
        var reader = JSONByteReader(bytes: bytes[...])
        return try reader.document()
    }

    public static func read(_ text: Substring) throws -> JSON { try read(Array(text.utf8)) }

    /// The fields of an object, nil for any other value.
    public var objectFields: [(String, JSON)]? {
        if case .object(let fields) = self { return fields }
        return nil
    }

    /// This object with the fields of `defaults` it lacks appended (a file older than those
    /// settings); any other value unchanged.
    public func filling(from defaults: JSON?) -> JSON {
        guard case .object(var fields) = self, let extra = defaults?.objectFields else { return self }
        for (key, value) in extra where !fields.contains(where: { $0.0 == key }) { fields.append((key, value)) }
        return .object(fields)
    }

    /// The value as a string, nil for any other kind.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The value as an integer, nil for any other kind (a number with a fraction too).
    public var intValue: Int? { if case .int(let i) = self { return i }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// A list of strings, nil for anything else.
    public var stringArray: [String]? {
        guard case .array(let items) = self else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }

    /// The items of an array, nil for any other value.
    public var arrayItems: [JSON]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// An object's value for `key`.
    public subscript(key: String) -> JSON? {
        objectFields?.first { $0.0 == key }?.1
    }

    /// The value as a number (an integer or not), nil for any other kind.
    public var numberValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .number(let x): return x
        default: return nil
        }
    }

    /// What kind of value this is, for messages ("a string", "null", ...).
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The value in a message: short values as written, long ones by their kind.
    public var shortDescription: String {
        if case .number(let x) = self, !x.isFinite { return "an infinite number" }
        let text = serialized()
        return text.count <= 40 ? text : kindDescription
    }
}

private struct JSONByteReader {
    var bytes: ArraySlice<UInt8>
    let all: ArraySlice<UInt8>
    var depth = 0

    init(bytes: ArraySlice<UInt8>) { self.bytes = bytes; all = bytes }

    var offset: Int { bytes.startIndex }

    func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(reason: reason, truncated: false) }
    func ended(_ inside: String) -> JSONSyntaxError { JSONSyntaxError(reason: "the text ends inside \(inside)", truncated: true) }

    mutating func skipSpace() {
        while let b = bytes.first, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { bytes.removeFirst() }
    }

    mutating func document() throws -> JSON {
        skipSpace()
        if bytes.isEmpty { throw JSONSyntaxError(reason: "there is no JSON value", truncated: true) }
        let value = try self.value()
        skipSpace()
        if !bytes.isEmpty { throw fail("unexpected text after the JSON value at byte \(offset)") }
        return value
    }

    mutating func value() throws -> JSON {
        skipSpace()
        guard let b = bytes.first else { throw ended("a value") }
        switch b {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character \(Self.show(b)) at byte \(offset)")
        }
    }

    static func show(_ b: UInt8) -> String {
        b >= 0x21 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : String(format: "0x%02X", b)
    }

    mutating func literal(_ word: String) throws {
        let expected = Array(word.utf8)
        for (i, e) in expected.enumerated() {
            guard let b = bytes.first else { throw ended("\(word)") }
            guard b == e else { throw fail(i == 0 ? "unexpected character \(Self.show(b)) at byte \(offset)" : "a misspelt \(word) at byte \(offset)") }
            bytes.removeFirst()
        }
    }

    mutating func nest() throws {
        depth += 1
        if depth > JSON.maximumDepth { throw fail("it nests deeper than \(JSON.maximumDepth) levels") }
    }

    mutating func object() throws -> JSON {
        try nest()
        defer { depth -= 1 }
        bytes.removeFirst()  // {
        var fields: [(String, JSON)] = []
        var keys = Set<String>()
        skipSpace()
        if bytes.first == UInt8(ascii: "}") { bytes.removeFirst(); return .object([]) }
        while true {
            skipSpace()
            guard let b = bytes.first else { throw ended("an object") }
            guard b == UInt8(ascii: "\"") else { throw fail("expected a key in quotes at byte \(offset), found \(Self.show(b))") }
            let key = try string()
            skipSpace()
            guard let colon = bytes.popFirst() else { throw ended("an object") }
            guard colon == UInt8(ascii: ":") else { throw fail("expected ':' after the key \"\(key)\" at byte \(offset - 1)") }
            let value = try self.value()
            guard keys.insert(key).inserted else { throw fail("the key \"\(key)\" appears twice in one object") }
            fields.append((key, value))
            skipSpace()
            guard let next = bytes.popFirst() else { throw ended("an object") }
            if next == UInt8(ascii: "}") { return .object(fields) }
            guard next == UInt8(ascii: ",") else { throw fail("expected ',' or '}' at byte \(offset - 1), found \(Self.show(next))") }
        }
    }

    mutating func array() throws -> JSON {
        try nest()
        defer { depth -= 1 }
        bytes.removeFirst()  // [
        var items: [JSON] = []
        skipSpace()
        if bytes.first == UInt8(ascii: "]") { bytes.removeFirst(); return .array([]) }
        while true {
            items.append(try value())
            skipSpace()
            guard let next = bytes.popFirst() else { throw ended("an array") }
            if next == UInt8(ascii: "]") { return .array(items) }
            guard next == UInt8(ascii: ",") else { throw fail("expected ',' or ']' at byte \(offset - 1), found \(Self.show(next))") }
        }
    }

    mutating func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let b = bytes.popFirst() else { throw ended("a string") }
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw fail("a bad \\u escape at byte \(offset - 1)")
            }
            v = v << 4 | UInt32(digit)
        }
        return v
    }

    mutating func string() throws -> String {
        bytes.removeFirst()  // "
        var out: [UInt8] = []
        while true {
            guard let b = bytes.popFirst() else { throw ended("a string") }
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("a string that is not UTF-8 text before byte \(offset)") }
                return s
            case UInt8(ascii: "\\"):
                guard let e = bytes.popFirst() else { throw ended("a string") }
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00 {
                        // A high surrogate must be followed by an escaped low one.
                        guard bytes.popFirst() == UInt8(ascii: "\\"), bytes.popFirst() == UInt8(ascii: "u") else {
                            throw fail("a lone surrogate \\u escape before byte \(offset)")
                        }
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("a lone surrogate \\u escape before byte \(offset)") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("a lone surrogate \\u escape before byte \(offset)") }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw fail("a bad escape \\\(Self.show(e)) at byte \(offset - 1)")
                }
            case 0..<0x20:
                throw fail("a control character inside a string at byte \(offset - 1)")
            default:
                out.append(b)
            }
        }
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func number() throws -> JSON {
        let start = bytes.startIndex
        func digits() -> Int {
            var n = 0
            while let b = bytes.first, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { bytes.removeFirst(); n += 1 }
            return n
        }
        if bytes.first == UInt8(ascii: "-") { bytes.removeFirst() }
        guard let first = bytes.first else { throw ended("a number") }
        if first == UInt8(ascii: "0") {
            bytes.removeFirst()
        } else if digits() == 0 {
            throw fail("a malformed number at byte \(start)")
        }
        var integral = true
        if bytes.first == UInt8(ascii: ".") {
            bytes.removeFirst()
            integral = false
            guard digits() > 0 else { throw bytes.isEmpty ? ended("a number") : fail("a malformed number at byte \(start)") }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes.removeFirst()
            integral = false
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes.removeFirst() }
            guard digits() > 0 else { throw bytes.isEmpty ? ended("a number") : fail("a malformed number at byte \(start)") }
        }
        let text = String(decoding: all[start..<bytes.startIndex], as: UTF8.self)
        if integral, let i = Int(text) { return .int(i) }
        guard let x = Double(text) else { throw fail("a malformed number at byte \(start)") }
        return .number(x)
    }
}
