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
//
// The named design (`--design named`, the paper's figure 3) needs two hops. Every entity has a
// name, a random string of name symbols (A-Z, 0-9), and stage 1 also trains its facts under it:
//
//   knowledge of attribute k:   <bos> NAME qk = ak .             (T documents per entity, stage 1)
//   definition:                 <bos> VARIABLE TAG NAME .        (one document; parts in `--order`)
//   question, prompt:           as above, <bos> VARIABLE qk = ak .
//   entity association:         <bos> VARIABLE =   and   <bos> VARIABLE .   (never trained; the answer is NAME)
//
// An inconsistent definition names the entity whose facts the attributes design would state.

import Foundation
import IMLBase
import IMLProtocol
import IMLRunFiles

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

/// What a definition says: the entity's facts (this package's design) or its name (the paper's).
public enum TextDesign: String, Codable, CaseIterable, Sendable {
    /// `VARIABLE TAG qk = ak`: a question needs one hop, variable to attribute.
    case attributes
    /// `VARIABLE TAG NAME`, with knowledge `NAME qk = ak` in stage 1: variable to name to attribute.
    case named
}

public struct TextConfig: Codable, Equatable, Sendable {
    /// Letters per variable and per tag.
    public var variableLength = 4
    public var tagLength = 4
    public var order = WordOrder.vte
    public var design = TextDesign.attributes
    /// Name symbols per entity name (the named design).
    public var nameLength = 2
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
        // The association test scores every name by its first symbols: 36^(length-1) prompts each.
        if nameLength < 1 || nameLength > 3 {
            throw IMLError("--name-length must be 1, 2 or 3 symbols (got \(nameLength)); longer names make the entity-association test score 36^(length-1) continuations of every prompt.")
        }
    }

    /// Checks the design against the protocol: the named design needs a distinct name per entity.
    public func validate(_ p: ProtocolConfig) throws {
        let distinct = Int(pow(Double(TextVocabulary.nameSymbolCount), Double(nameLength)))
        if design == .named && distinct < p.entities {
            throw IMLError("--name-length \(nameLength) gives only \(distinct) distinct names, but --entities \(p.entities) needs one per entity; use a larger --name-length or fewer --entities.")
        }
    }
}

/// Renders one protocol instance as token documents.
public struct TextRenderer: DocumentRenderer {
    public let instance: ProtocolInstance
    public let config: TextConfig
    public let vocabulary: TextVocabulary
    /// Each entity's name as name-symbol indices (the named design; empty otherwise).
    public let names: [[Int]]

    public init(instance: ProtocolInstance, config: TextConfig) throws {
        try config.validate()
        try config.validate(instance.config)
        guard instance.stage1Train.contains(where: { $0.kind == .knowledge }) == (config.design == .named) else {
            throw IMLError("The named design needs a protocol instance with knowledge examples, and only it renders them; build the instance with knowledge: true exactly for --design named.")
        }
        guard instance.variableSpec == config.variableSpec, instance.tagSpec == config.tagSpec else {
            throw IMLError("The protocol instance was drawn with variables \(instance.variableSpec) and tags \(instance.tagSpec), not the text ones; build it with TextConfig's variableSpec and tagSpec.")
        }
        try Self.checkVocabulary(instance.config)
        self.instance = instance
        self.config = config
        let named = config.design == .named
        vocabulary = TextVocabulary(attributes: instance.config.attributes, classes: instance.config.classes,
                                    names: named ? TextVocabulary.nameSymbolCount : 0)
        var drawn: [[Int]] = [], seen = Set<[Int]>()
        var nameRNG = SeededRandom(seed: instance.config.seed, stream: "names/\(TextVocabulary.nameSymbolCount)/\(config.nameLength)")
        while named && drawn.count < instance.entities.count {
            let name = (0..<config.nameLength).map { _ in nameRNG.int(below: TextVocabulary.nameSymbolCount) }
            if seen.insert(name).inserted { drawn.append(name) }
        }
        names = drawn
    }

    /// Refuses settings whose vocabulary would be unreasonably large.
    public static func checkVocabulary(_ p: ProtocolConfig) throws {
        let size = 30 + p.attributes + p.classes
        guard size <= 100_000 else {
            throw IMLError("--attributes \(p.attributes) and --classes \(p.classes) give a vocabulary of \(size) tokens; keep their sum under 99970.")
        }
    }

    /// Tokens of a definition: <bos>, variable, tag, statement (or name), ".".
    public var definitionLength: Int { 1 + config.variableLength + config.tagLength + statementLength + 1 }
    /// Tokens of a definition's third part: `qk = ak`, or the name in the named design.
    var statementLength: Int { config.design == .named ? config.nameLength : 3 }
    /// Tokens of the longest document: a definition, or in the named design perhaps a knowledge document.
    public var maxDocumentLength: Int {
        max(definitionLength, 1 + config.variableLength + 4, config.design == .named ? 1 + config.nameLength + 4 : 0)
    }
    /// Tokens of an evaluation prompt, up to and including "=".
    public var promptLength: Int { 1 + config.variableLength + 2 }

    func letters(_ symbols: [Int]) -> [Int32] { symbols.map(vocabulary.letter) }

    // MARK: DocumentRenderer

    public var vocabularySize: Int { vocabulary.size }
    /// The association test's longest sequence is a prompt and a name's first symbols.
    public var maxTestLength: Int { associationPromptLength + config.nameLength - 1 }
    public func answerClass(of token: Int32) -> Int? { vocabulary.answerClass(of: token) }
    public var exactMatchRule: String { "arg-max over the vocabulary after '<bos> VARIABLE qk ='" }
    public var settings: [(String, JSON)] {
        let named: [(String, JSON)] = config.design != .named ? [] : [
            ("name_length", .int(config.nameLength)),
            ("knowledge", .string("stage 1 also trains NAME qk = ak for every attribute of every entity")),
            ("association_test", .string("<bos> VARIABLE = and <bos> VARIABLE . (never trained), answer NAME; the first \(EntityAssociation.entitiesPerSubset) entities of each subset but no_qd_baseline; greedy exact match, and the name's rank among all entity names (top-1, mean reciprocal rank)")),
        ]
        return [("design", .string(config.design.rawValue))] + named + [
            ("var_length", .int(config.variableLength)), ("tag_length", .int(config.tagLength)), ("order", .string(config.order.rawValue)),
            ("vocabulary_size", .int(vocabulary.size))]
    }

    /// `<bos> VARIABLE TAG qk = ak .` (its parts in `config.order`); `tag` nil gives a question,
    /// `<bos> VARIABLE qk = ak .`.
    public func document(entity: Int, tag: Int?, attribute k: Int, answer: Int) -> [Int32] {
        let statement = [vocabulary.question(k), TextVocabulary.equals, vocabulary.answer(answer)]
        guard let tag else { return [TextVocabulary.bos] + letters(instance.entities[entity].variable) + statement + [TextVocabulary.period] }
        return definition(entity: entity, tag: tag, statement: statement)
    }

    /// `<bos>`, the variable, the tag and `statement` in `config.order`, then `.`.
    func definition(entity: Int, tag: Int, statement: [Int32]) -> [Int32] {
        var tokens = [TextVocabulary.bos]
        for part in config.order.parts {
            switch part {
            case .variable: tokens += letters(instance.entities[entity].variable)
            case .tag: tokens += letters(instance.tag(tag))
            case .statement: tokens += statement
            }
        }
        return tokens + [TextVocabulary.period]
    }

    /// A definition becomes T documents (one per attribute, all targets given), a question one;
    /// in the named design a definition is one document naming an entity, and knowledge T documents.
    public func documents(of example: Example) -> [[Int32]] {
        switch (example.kind, config.design) {
        case (.definition, .named):
            return [namedDefinition(entity: example.entity, tag: example.tag!)]
        case (.knowledge, _):
            return (0..<example.targets.count).map { knowledgeDocument(entity: example.entity, attribute: $0) }
        default:
            return example.targets.enumerated().compactMap { k, target in
                target < 0 ? nil : document(entity: example.entity, tag: example.tag, attribute: k, answer: Int(target))
            }
        }
    }

    /// The tokens of an entity's name.
    public func name(_ entity: Int) -> [Int32] { names[entity].map(vocabulary.nameSymbol) }

    /// `<bos> NAME qk = ak .`: the entity's fact under its own name (named design).
    public func knowledgeDocument(entity: Int, attribute k: Int) -> [Int32] {
        [TextVocabulary.bos] + name(entity) + [vocabulary.question(k), TextVocabulary.equals,
                                               vocabulary.answer(instance.entities[entity].attributes[k]), TextVocabulary.period]
    }

    /// `<bos> VARIABLE TAG NAME .` (parts in `config.order`): the name is that of the entity whose
    /// facts the definition stands for (another one's when inconsistent).
    public func namedDefinition(entity: Int, tag: Int) -> [Int32] {
        definition(entity: entity, tag: tag, statement: name(instance.entities[entity].definedEntity!))
    }

    /// The entity-association test's prompt forms, never trained on: the variable followed by a
    /// token that never precedes a name (`=` follows only an attribute, `.` only ends a document).
    public static let associationForms: [Int32] = [TextVocabulary.equals, TextVocabulary.period]
    /// Tokens of an association prompt.
    public var associationPromptLength: Int { 1 + config.variableLength + 1 }

    /// `<bos> VARIABLE =` (form 0) or `<bos> VARIABLE .` (form 1): the answer is the entity's name.
    public func associationPrompt(entity: Int, form: Int) -> [Int32] {
        [TextVocabulary.bos] + letters(instance.entities[entity].variable) + [Self.associationForms[form]]
    }

    /// `<bos> VARIABLE qk =`: the model's prediction after it is the answer.
    public func prompt(entity: Int, attribute k: Int) -> [Int32] {
        Array(document(entity: entity, tag: nil, attribute: k, answer: 0).prefix(promptLength))
    }

    /// The document as text, with a space between variable and tag.
    public func text(of tokens: [Int32]) -> String {
        guard tokens.count == definitionLength else { return vocabulary.decode(tokens, wordStarts: []) }
        // A definition: where a letter part follows another directly (variable and tag), a space.
        var starts: Set<Int> = [], cursor = 1, previousWasLetters = false
        for part in config.order.parts {
            let length = part == .variable ? config.variableLength : part == .tag ? config.tagLength : statementLength
            if part != .statement && previousWasLetters { starts.insert(cursor) }
            previousWasLetters = part != .statement
            cursor += length
        }
        return vocabulary.decode(tokens, wordStarts: starts)
    }
}
