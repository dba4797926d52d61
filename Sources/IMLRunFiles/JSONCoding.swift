// Codable values to and from the writer's own `JSON`, so a Codable settings struct (the run
// specification) is written by the one JSON writer and read by the one strict reader. Keys are the
// properties' names in snake_case (`tag1Fraction` -> "tag1_fraction"), in declaration order; nil
// is written as null, never left out, so every file of one kind has the same keys. Decoding is
// strict: a missing key, a value of the wrong kind and a key the type does not have are refused.

import Foundation
import IMLBase

public enum JSONCoding {
    /// `value` as JSON, its keys in snake_case and in the order its `encode(to:)` writes them.
    public static func encode<T: Encodable>(_ value: T) throws -> JSON {
        let root = Node()
        try value.encode(to: TreeEncoder(node: root, codingPath: []))
        return root.json
    }

    /// A `T` read from `json`; a mistake is one sentence naming `what` (e.g. "DIR/config.json's
    /// spec") and the key.
    public static func decode<T: Codable>(_ type: T.Type, from json: JSON, what: String) throws -> T {
        let value: T
        do {
            value = try T(from: TreeDecoder(json: json, codingPath: []))
        } catch let error as DecodingError {
            throw IMLError("\(what) \(describe(error)).")
        }
        // What the type writes back names every key it reads: any other key is unknown.
        if let extra = unknownKey(in: json, known: try encode(value), path: []) {
            throw IMLError("\(what) has the setting \(extra), which this version does not know (a newer version wrote it); use that version, or remove the setting.")
        }
        return value
    }

    /// "tag1Fraction" -> "tag1_fraction", "seedStage2" -> "seed_stage2".
    public static func snakeCase(_ name: String) -> String {
        var out = ""
        for c in name {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }

    static func unknownKey(in json: JSON, known: JSON, path: [String]) -> String? {
        guard case .object(let fields) = json, case .object(let knownFields) = known else { return nil }
        for (key, value) in fields {
            guard let match = knownFields.first(where: { $0.0 == key }) else { return (path + [key]).joined(separator: ".") }
            if let deeper = unknownKey(in: value, known: match.1, path: path + [key]) { return deeper }
        }
        return nil
    }

    static func describe(_ error: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String { path.isEmpty ? "" : " at " + path.map(keyText).joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let context):
            return "has no setting \((context.codingPath + [key]).map(keyText).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "has a wrong value\(at(context.codingPath)) (\(context.debugDescription))"
        @unknown default:
            return "cannot be read (\(error))"
        }
    }

    static func keyText(_ key: CodingKey) -> String { key.intValue.map(String.init) ?? snakeCase(key.stringValue) }
}

// MARK: Encoding

/// A value under construction: a scalar, or an object or array whose children are still filled in.
private final class Node {
    enum Kind { case unset, scalar(JSON), object([(String, Node)]), array([Node]) }
    var kind = Kind.unset

    var json: JSON {
        switch kind {
        case .unset: return .null
        case .scalar(let value): return value
        case .object(let fields): return .object(fields.map { ($0.0, $0.1.json) })
        case .array(let items): return .array(items.map(\.json))
        }
    }

    func child(key: String) -> Node {
        let node = Node()
        if case .object(var fields) = kind {
            fields.append((key, node))
            kind = .object(fields)
        } else {
            kind = .object([(key, node)])
        }
        return node
    }

    func append() -> Node {
        let node = Node()
        if case .array(var items) = kind {
            items.append(node)
            kind = .array(items)
        } else {
            kind = .array([node])
        }
        return node
    }
}

/// The JSON of a scalar, nil when `value` is not one (then it encodes itself).
private func scalar(_ value: Any, codingPath: [CodingKey]) throws -> JSON? {
    switch value {
    case let v as Bool: return .bool(v)
    case let v as String: return .string(v)
    case let v as Double: return .number(v)
    // A Float's shortest text ("0.001"), not its binary value widened (0.0010000000474974513).
    case let v as Float: return .number(Double("\(v)") ?? .nan)
    case let v as Int: return .int(v)
    case let v as Int32: return .int(Int(v))
    case let v as UInt64:
        guard let i = Int(exactly: v) else {
            throw EncodingError.invalidValue(v, .init(codingPath: codingPath, debugDescription: "\(v) is larger than a JSON integer holds"))
        }
        return .int(i)
    case let v as UInt32: return .int(Int(v))
    case let v as UInt: return Int(exactly: v).map(JSON.int)
    default: return nil
    }
}

private struct TreeEncoder: Encoder {
    let node: Node
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.kind {} else { node.kind = .object([]) }
        return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
    }
    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .array = node.kind {} else { node.kind = .array([]) }
        return Unkeyed(node: node, codingPath: codingPath)
    }
    func singleValueContainer() -> SingleValueEncodingContainer { Single(node: node, codingPath: codingPath) }

    static func encode<T: Encodable>(_ value: T, into node: Node, codingPath: [CodingKey]) throws {
        if let json = try scalar(value, codingPath: codingPath) {
            node.kind = .scalar(json)
        } else {
            try value.encode(to: TreeEncoder(node: node, codingPath: codingPath))
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        var codingPath: [CodingKey]
        mutating func encodeNil(forKey key: Key) throws { node.child(key: JSONCoding.snakeCase(key.stringValue)).kind = .scalar(.null) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try TreeEncoder.encode(value, into: node.child(key: JSONCoding.snakeCase(key.stringValue)), codingPath: codingPath + [key])
        }
        // nil is written as null: a key is never missing from one file and present in another.
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeIfPresent(value as Bool?, key) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeIfPresent(value as String?, key) }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeIfPresent(value as Double?, key) }
        mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encodeIfPresent(value as Float?, key) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeIfPresent(value as Int?, key) }
        mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encodeIfPresent(value as UInt64?, key) }
        private mutating func encodeIfPresent<T: Encodable>(_ value: T?, _ key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = node.child(key: JSONCoding.snakeCase(key.stringValue))
            child.kind = .object([])
            return KeyedEncodingContainer(Keyed<NestedKey>(node: child, codingPath: codingPath + [key]))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
            let child = node.child(key: JSONCoding.snakeCase(key.stringValue))
            child.kind = .array([])
            return Unkeyed(node: child, codingPath: codingPath + [key])
        }
        mutating func superEncoder() -> Encoder { TreeEncoder(node: node.child(key: "super"), codingPath: codingPath) }
        mutating func superEncoder(forKey key: Key) -> Encoder {
            TreeEncoder(node: node.child(key: JSONCoding.snakeCase(key.stringValue)), codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let node: Node
        var codingPath: [CodingKey]
        var count: Int { if case .array(let items) = node.kind { return items.count }; return 0 }
        mutating func encodeNil() throws { node.append().kind = .scalar(.null) }
        mutating func encode<T: Encodable>(_ value: T) throws { try TreeEncoder.encode(value, into: node.append(), codingPath: codingPath) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = node.append()
            child.kind = .object([])
            return KeyedEncodingContainer(Keyed<NestedKey>(node: child, codingPath: codingPath))
        }
        mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
            let child = node.append()
            child.kind = .array([])
            return Unkeyed(node: child, codingPath: codingPath)
        }
        mutating func superEncoder() -> Encoder { TreeEncoder(node: node.append(), codingPath: codingPath) }
    }

    struct Single: SingleValueEncodingContainer {
        let node: Node
        var codingPath: [CodingKey]
        mutating func encodeNil() throws { node.kind = .scalar(.null) }
        mutating func encode<T: Encodable>(_ value: T) throws { try TreeEncoder.encode(value, into: node, codingPath: codingPath) }
    }
}

// MARK: Decoding

/// A list item's place in a coding path.
private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { intValue.map(String.init) ?? "" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { return nil }
}

private struct TreeDecoder: Decoder {
    let json: JSON
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(json.kindDescription)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let fields) = json else { throw mismatch("an object") }
        return KeyedDecodingContainer(Keyed<Key>(fields: fields, codingPath: codingPath))
    }
    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = json else { throw mismatch("a list") }
        return Unkeyed(items: items, codingPath: codingPath)
    }
    func singleValueContainer() throws -> SingleValueDecodingContainer { Single(json: json, codingPath: codingPath) }

    /// A scalar of type T read from `json`, or T's own decoding.
    static func decode<T: Decodable>(_ type: T.Type, from json: JSON, codingPath: [CodingKey]) throws -> T {
        let decoder = TreeDecoder(json: json, codingPath: codingPath)
        func number() throws -> Double {
            guard let x = json.numberValue else { throw decoder.mismatch("a number") }
            return x
        }
        func integer() throws -> Int {
            guard case .int(let i) = json else { throw decoder.mismatch("a whole number") }
            return i
        }
        switch type {
        case is Bool.Type:
            guard case .bool(let b) = json else { throw decoder.mismatch("true or false") }
            return b as! T
        case is String.Type:
            guard case .string(let s) = json else { throw decoder.mismatch("a string") }
            return s as! T
        case is Double.Type: return try number() as! T
        case is Float.Type: return Float(try number()) as! T
        case is Int.Type: return try integer() as! T
        case is Int32.Type:
            guard let v = Int32(exactly: try integer()) else { throw decoder.mismatch("a 32-bit whole number") }
            return v as! T
        case is UInt64.Type:
            guard let v = UInt64(exactly: try integer()) else { throw decoder.mismatch("a non-negative whole number") }
            return v as! T
        case is UInt32.Type:
            guard let v = UInt32(exactly: try integer()) else { throw decoder.mismatch("a non-negative 32-bit whole number") }
            return v as! T
        case is UInt.Type:
            guard let v = UInt(exactly: try integer()) else { throw decoder.mismatch("a non-negative whole number") }
            return v as! T
        default:
            return try T(from: decoder)
        }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let fields: [(String, JSON)]
        var codingPath: [CodingKey]
        var allKeys: [Key] { fields.compactMap { Key(stringValue: $0.0) } }
        func value(_ key: Key) -> JSON? { fields.first { $0.0 == JSONCoding.snakeCase(key.stringValue) }?.1 }
        func contains(_ key: Key) -> Bool { value(key) != nil }
        func require(_ key: Key) throws -> JSON {
            guard let v = value(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
            }
            return v
        }
        func decodeNil(forKey key: Key) throws -> Bool { try require(key) == .null }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try TreeDecoder.decode(type, from: try require(key), codingPath: codingPath + [key])
        }
        // Every key is written, nil as null: a missing one is an error, not nil.
        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            let v = try require(key)
            return v == .null ? nil : try TreeDecoder.decode(type, from: v, codingPath: codingPath + [key])
        }
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(type, key) }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(type, key) }
        private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
            let v = try require(key)
            return v == .null ? nil : try TreeDecoder.decode(type, from: v, codingPath: codingPath + [key])
        }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try TreeDecoder(json: try require(key), codingPath: codingPath + [key]).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
            try TreeDecoder(json: try require(key), codingPath: codingPath + [key]).unkeyedContainer()
        }
        func superDecoder() throws -> Decoder { TreeDecoder(json: .object(fields), codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> Decoder { TreeDecoder(json: try require(key), codingPath: codingPath + [key]) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSON]
        var codingPath: [CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }
        init(items: [JSON], codingPath: [CodingKey]) { self.items = items; self.codingPath = codingPath }
        /// The next item, and the coding path that names it ("widths.0").
        mutating func next() throws -> (JSON, [CodingKey]) {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the list ends early"))
            }
            defer { currentIndex += 1 }
            return (items[currentIndex], codingPath + [IndexKey(intValue: currentIndex)])
        }
        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, items[currentIndex] == .null else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (item, path) = try next()
            return try TreeDecoder.decode(type, from: item, codingPath: path)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let (item, path) = try next()
            return try TreeDecoder(json: item, codingPath: path).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
            let (item, path) = try next()
            return try TreeDecoder(json: item, codingPath: path).unkeyedContainer()
        }
        mutating func superDecoder() throws -> Decoder {
            let (item, path) = try next()
            return TreeDecoder(json: item, codingPath: path)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let json: JSON
        var codingPath: [CodingKey]
        func decodeNil() -> Bool { json == .null }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try TreeDecoder.decode(type, from: json, codingPath: codingPath) }
    }
}
