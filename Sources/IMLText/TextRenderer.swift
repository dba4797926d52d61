// The protocol as documents (docs/PROTOCOL.md section 4). With the default word order (vte):
//
//   definition of attribute k:  <bos> VARIABLE TAG qk = ak .     (T documents per definition)
//   question about attribute k: <bos> VARIABLE qk = ak .          (one document)
//   evaluation prompt:          <bos> VARIABLE qk =               (the model's next token is the answer)
//
// `--order` arranges a definition's three parts, variable (v), tag (t) and the statement
// `qk = ak` (e), in any of the six orders: tve gives <bos> TAG VARIABLE qk = ak ., evt gives
// <bos> qk = ak VARIABLE TAG . Questions and prompts keep the variable first. Variables and tags
// are letter strings, one token per letter. With vte and tve a definition is the question with the
// tag inserted, as the vision definition is the question image plus the tag strip.

import IMLBase
import IMLProtocol

/// The order of a definition's variable (v), tag (t) and statement `qk = ak` (e).
public enum WordOrder: String, Codable, CaseIterable, Sendable {
    /// variable, tag, statement: the order under which the paper found IML (its figure 4b).
    case vte
    case vet, tve, tev, evt, etv

    public enum Part: Sendable { case variable, tag, statement }

    /// The three parts in this order.
    public var parts: [Part] {
        rawValue.map { $0 == "v" ? .variable : $0 == "t" ? .tag : .statement }
    }
}

public struct TextConfig: Codable, Equatable, Sendable {
    /// Letters per variable and per tag.
    public var variableLength = 4
    public var tagLength = 4
    public var order = WordOrder.vte
    public init() {}

    public var variableSpec: SymbolSpec { SymbolSpec(alphabet: TextVocabulary.letterCount, length: variableLength) }
    public var tagSpec: SymbolSpec { SymbolSpec(alphabet: TextVocabulary.letterCount, length: tagLength) }

    public func validate() throws {
        if variableLength < 1 { throw IMLError("--var-length must be at least 1 letter (got \(variableLength)).") }
        if tagLength < 1 { throw IMLError("--tag-length must be at least 1 letter (got \(tagLength)).") }
        // Longer strings only make the documents longer; this keeps a typo from asking for a huge model.
        if variableLength > 64 || tagLength > 64 {
            throw IMLError("--var-length and --tag-length must be at most 64 letters (got \(variableLength), \(tagLength)).")
        }
    }
}

/// Renders one protocol instance as token documents.
public struct TextRenderer: Sendable {
    public let instance: ProtocolInstance
    public let config: TextConfig
    public let vocabulary: TextVocabulary

    public init(instance: ProtocolInstance, config: TextConfig) throws {
        try config.validate()
        guard instance.variableSpec == config.variableSpec, instance.tagSpec == config.tagSpec else {
            throw IMLError("The protocol instance was drawn with variables \(instance.variableSpec) and tags \(instance.tagSpec), not the text ones; build it with TextConfig's variableSpec and tagSpec.")
        }
        try Self.checkVocabulary(instance.config)
        self.instance = instance
        self.config = config
        vocabulary = TextVocabulary(attributes: instance.config.attributes, classes: instance.config.classes)
    }

    /// Refuses settings whose vocabulary would be unreasonably large.
    public static func checkVocabulary(_ p: ProtocolConfig) throws {
        let size = 30 + p.attributes + p.classes
        guard size <= 100_000 else {
            throw IMLError("--attributes \(p.attributes) and --classes \(p.classes) give a vocabulary of \(size) tokens; keep their sum under 99970.")
        }
    }

    /// Tokens of the longest document: a definition.
    public var maxDocumentLength: Int { 1 + config.variableLength + config.tagLength + 4 }
    /// Tokens of an evaluation prompt, up to and including "=".
    public var promptLength: Int { 1 + config.variableLength + 2 }

    func letters(_ symbols: [Int]) -> [Int32] { symbols.map(vocabulary.letter) }

    /// `<bos> VARIABLE TAG qk = ak .` (its parts in `config.order`); `tag` nil gives a question,
    /// `<bos> VARIABLE qk = ak .`.
    public func document(entity: Int, tag: Int?, attribute k: Int, answer: Int) -> [Int32] {
        let variable = letters(instance.entities[entity].variable)
        let statement = [vocabulary.question(k), TextVocabulary.equals, vocabulary.answer(answer)]
        var tokens = [TextVocabulary.bos]
        guard let tag else { return tokens + variable + statement + [TextVocabulary.period] }
        for part in config.order.parts {
            switch part {
            case .variable: tokens += variable
            case .tag: tokens += letters(instance.tag(tag))
            case .statement: tokens += statement
            }
        }
        return tokens + [TextVocabulary.period]
    }

    /// A definition becomes T documents (one per attribute, all targets given), a question one.
    public func documents(of example: Example) -> [[Int32]] {
        example.targets.enumerated().compactMap { k, target in
            target < 0 ? nil : document(entity: example.entity, tag: example.tag, attribute: k, answer: Int(target))
        }
    }

    /// `<bos> VARIABLE qk =`: the model's prediction after it is the answer.
    public func prompt(entity: Int, attribute k: Int) -> [Int32] {
        Array(document(entity: entity, tag: nil, attribute: k, answer: 0).prefix(promptLength))
    }

    /// The document as text, with a space between variable and tag.
    public func text(of tokens: [Int32]) -> String {
        guard tokens.count == maxDocumentLength else { return vocabulary.decode(tokens, wordStarts: []) }
        // A definition: where a letter part follows another directly (variable and tag), a space.
        var starts: Set<Int> = [], cursor = 1, previousWasLetters = false
        for part in config.order.parts {
            let length = part == .variable ? config.variableLength : part == .tag ? config.tagLength : 3
            if part != .statement && previousWasLetters { starts.insert(cursor) }
            previousWasLetters = part != .statement
            cursor += length
        }
        return vocabulary.decode(tokens, wordStarts: starts)
    }
}
