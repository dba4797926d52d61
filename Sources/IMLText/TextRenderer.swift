// The protocol as documents (docs/PROTOCOL.md section 4). With the default word order (vte):
//
//   definition of attribute k:  <bos> VARIABLE TAG qk = ak .     (T documents per definition)
//   question about attribute k: <bos> VARIABLE qk = ak .          (one document)
//   evaluation prompt:          <bos> VARIABLE qk =               (the model's next token is the answer)
//
// `--order tve` puts the tag first: <bos> TAG VARIABLE qk = ak . Variables and tags are letter
// strings, one token per letter. A definition is the question with the tag inserted, exactly as
// the vision definition is the question image plus the tag strip.

import IMLBase
import IMLProtocol

/// Where a definition's tag goes relative to its variable.
public enum WordOrder: String, Codable, CaseIterable, Sendable {
    /// variable, tag, question: the order under which the paper found IML (its figure 4b).
    case vte
    /// tag, variable, question.
    case tve
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

    /// `<bos> VARIABLE TAG qk = ak .` (or TAG first with order tve); `tag` nil gives a question.
    public func document(entity: Int, tag: Int?, attribute k: Int, answer: Int) -> [Int32] {
        var tokens = [TextVocabulary.bos]
        let variable = letters(instance.entities[entity].variable)
        if let tag {
            let tagTokens = letters(instance.tag(tag))
            tokens += config.order == .vte ? variable + tagTokens : tagTokens + variable
        } else {
            tokens += variable
        }
        tokens += [vocabulary.question(k), TextVocabulary.equals, vocabulary.answer(answer), TextVocabulary.period]
        return tokens
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
        let tagged = tokens.count == maxDocumentLength
        let firstWord = config.order == .vte ? config.variableLength : config.tagLength
        return vocabulary.decode(tokens, wordStarts: tagged ? [1 + firstWord] : [])
    }
}
