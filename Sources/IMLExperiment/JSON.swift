// A small JSON writer with a stable output: keys in the order given, numbers in Swift's shortest
// round-trip form, NaN and infinities as null. Same numbers in, same bytes out, which the
// determinism guarantee of metrics.jsonl relies on.

import Foundation

public indirect enum JSON: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case int(Int)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.serialized() == b.serialized() }

    public func serialized(pretty: Bool = false, indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .number(let x): return x.isFinite ? Self.format(x) : "null"
        case .string(let s): return Self.quote(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            let scalar = items.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
            if !pretty || scalar { return "[" + items.map { $0.serialized() }.joined(separator: pretty ? ", " : ",") + "]" }
            return "[\n" + items.map { inner + $0.serialized(pretty: true, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let fields):
            if fields.isEmpty { return "{}" }
            if !pretty { return "{" + fields.map { Self.quote($0.0) + ":" + $0.1.serialized() }.joined(separator: ",") + "}" }
            return "{\n" + fields.map { inner + Self.quote($0.0) + ": " + $0.1.serialized(pretty: true, indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    public static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A flat object of strings, numbers and nulls (one metrics line) as raw texts: strings
    /// unescaped, numbers as written, null as "null". Nil for anything else.
    public static func parseFlatObject(_ text: Substring) -> [String: String]? {
        var chars = Array(text.unicodeScalars)[...]
        func skipSpace() { while let c = chars.first, c == " " || c == "\t" || c == "\r" || c == "\n" { chars.removeFirst() } }
        func string() -> String? {
            guard chars.first == "\"" else { return nil }
            chars.removeFirst()
            var out = String.UnicodeScalarView()
            while let c = chars.popFirst() {
                if c == "\"" { return String(out) }
                if c == "\\" {
                    guard let e = chars.popFirst() else { return nil }
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "u":
                        let hex = String(String.UnicodeScalarView(chars.prefix(4)))
                        guard hex.count == 4, let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) else { return nil }
                        chars.removeFirst(4)
                        out.append(s)
                    default: out.append(e)
                    }
                } else {
                    out.append(c)
                }
            }
            return nil
        }
        skipSpace()
        guard chars.popFirst() == "{" else { return nil }
        var result: [String: String] = [:]
        skipSpace()
        if chars.first == "}" { chars.removeFirst(); return result }
        while true {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard chars.popFirst() == ":" else { return nil }
            skipSpace()
            if chars.first == "\"" {
                guard let value = string() else { return nil }
                result[key] = value
            } else {
                var raw = String.UnicodeScalarView()
                while let c = chars.first, c != ",", c != "}", c != " " { raw.append(c); chars.removeFirst() }
                let text = String(raw)
                guard text == "null" || Double(text) != nil else { return nil }
                result[key] = text
            }
            skipSpace()
            guard let c = chars.popFirst() else { return nil }
            if c == "}" { break }
            guard c == "," else { return nil }
        }
        skipSpace()
        return chars.isEmpty ? result : nil
    }

    /// Parses JSON text (for reading runs back) into Foundation values.
    public static func parse(_ data: Data) throws -> Any {
        try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }
}

extension MetricRecord {
    public var json: JSON {
        switch self {
        case let .exactMatch(seed, stage, epoch, subset, em, n):
            return .object([("seed", .int(Int(seed))), ("stage", .int(stage)), ("epoch", .int(epoch)),
                            ("subset", .string(subset)), ("em", .number(em)), ("n", .int(n))])
        case let .trainLoss(seed, stage, epoch, loss):
            return .object([("seed", .int(Int(seed))), ("stage", .int(stage)), ("epoch", .int(epoch)),
                            ("train_loss", .number(loss))])
        }
    }

    /// Reads one line of metrics.jsonl back. Numbers go through Swift's Double(String), which
    /// rounds correctly (Foundation's JSON parser on Linux does not), so rewriting a read line
    /// gives back the same bytes.
    public init?(jsonLine line: Substring) {
        guard let o = JSON.parseFlatObject(line) else { return nil }
        func int(_ k: String) -> Int? { o[k].flatMap { Int($0) } }
        guard let seed = o["seed"].flatMap({ UInt64($0) }), let stage = int("stage"), let epoch = int("epoch") else { return nil }
        if let subset = o["subset"], let n = int("n") {
            self = .exactMatch(seed: seed, stage: stage, epoch: epoch, subset: subset, em: o["em"].flatMap { Double($0) } ?? .nan, n: n)
        } else if let loss = o["train_loss"] {
            self = .trainLoss(seed: seed, stage: stage, epoch: epoch, loss: Double(loss) ?? .nan)
        } else {
            return nil
        }
    }
}
