// A small JSON writer with a stable output: keys in the order given, numbers in Swift's shortest
// round-trip form, NaN and infinities as null. Same numbers in, same bytes out, which the
// determinism guarantee of metrics.jsonl relies on.

import Foundation

public indirect enum JSON: Equatable, Sendable {
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

    /// Reads one line of metrics.jsonl back (nil for anything that is not exactly a record).
    public init?(jsonLine line: Substring) {
        guard let record = try? MetricRecord(line: line) else { return nil }
        self = record
    }
}
