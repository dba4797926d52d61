// Set inclusion, the paper's from-scratch experiment (its numeric_experiment.py), as token
// documents. Every entity is a number x in 0..<N behind a variable of one token; its T
// attributes are the true/false answers of T questions "is x in this list of n numbers?":
//
//   definition:   <bos> TAG VAR % x                      (one document; TAG is define1/2/3)
//   question k:   <bos> VAR % n1 ... nn = true|false      (one document; true when x is among the n)
//   prompt:       <bos> VAR % n1 ... nn =                 (the next token, true or false, is the answer)
//
// A true question holds x and n-1 other numbers, a false one n numbers other than x, as the
// paper draws them with one intersection element. The protocol decides everything else: which
// x's are defined with which tag, which questions are trained and which held out (the protocol's
// attributes, 2 classes). An inconsistent definition states a wrong x, x' != x, as the paper's
// x_false; unlike the paper, each list of such an entity holds x' exactly when its question about
// the entity whose answers the protocol gave the definition is true, so `qd2incons_defined`
// scores the answers the wrong definition implies (x' is in half the lists, the paper's x_false in
// about 8%; either way x' says nothing about the labels).
//
// Vocabulary: <pad> <bos> % = false true define1 define2 define3, the numbers 0..<N, one token per variable.

import IMLBase
import IMLProtocol
import IMLRunFiles
import IMLText
import IMLTraining

/// When the numbers of a training question are drawn.
public enum ListDraw: String, Codable, CaseIterable, Sendable {
    /// Once: every epoch trains the same lists, as the paper's 12 training questions per x. At
    /// the 1000 x's that fit here the transformer memorises them and never generalises (docs/results.md).
    case fixed
    /// Anew every epoch (each answer kept), so that no list can be memorised: the default.
    case everyEpoch = "every-epoch"
}

/// The set-inclusion format: how many numbers there are and how many a question lists.
public struct SetInclusionConfig: Codable, Equatable, Sendable {
    /// Numbers 0..<numbers (the paper's 0-99).
    public var numbers = 100
    /// Numbers listed in each question (the paper's main config: 8).
    public var numbersPerQuestion = 8
    public var lists = ListDraw.everyEpoch
    public init() {}

    public func validate() throws {
        if numbers < 3 || numbers > 10_000 {
            throw IMLError("--numbers must lie between 3 and 10000 (got \(numbers)).")
        }
        if numbersPerQuestion < 1 || numbersPerQuestion > numbers - 2 {
            throw IMLError("--numbers-per-question must lie between 1 and --numbers - 2 = \(numbers - 2), so that a question can leave out both x and a wrong definition's x' (got \(numbersPerQuestion)).")
        }
    }

    /// Checks the protocol against the format: answers are true or false, and there are enough x's.
    public func validate(_ p: ProtocolConfig) throws {
        if p.classes != 2 {
            throw IMLError("Set inclusion answers true or false, so --classes must be 2 (got \(p.classes)); leave --classes out.")
        }
        if p.qd4consisFraction > 0 {
            throw IMLError("Set inclusion has three tag tokens (define1-3), so --qd4consis-fraction, which gives every definition a tag of its own, is not available here; leave it out.")
        }
        if p.entities < 10 {
            throw IMLError("--entities \(p.entities) is too few for set inclusion: give at least 10 x's, so that every subset has members.")
        }
        if p.entities > 1_000_000 {
            throw IMLError("--entities \(p.entities) would need a vocabulary of over a million variable tokens; give at most 1000000.")
        }
    }

    /// Variables are one token each, drawn from as many tokens as there are entities.
    public static func variableSpec(_ p: ProtocolConfig) -> SymbolSpec { SymbolSpec(alphabet: p.entities, length: 1) }
    /// Three tag tokens, define1-3.
    public static let tagSpec = SymbolSpec(alphabet: 3, length: 1)
}

public struct SetInclusionVocabulary: Equatable, Sendable {
    public let numbers: Int
    public let variables: Int

    public static let pad: Int32 = 0
    public static let bos: Int32 = 1
    public static let percent: Int32 = 2
    public static let equals: Int32 = 3
    /// The answers: class 0 is false, class 1 true.
    public static let firstAnswer: Int32 = 4
    public static let firstTag: Int32 = 6
    public static let firstNumber: Int32 = 9
    static let fixedNames = ["<pad>", "<bos>", "%", "=", "false", "true", "define1", "define2", "define3"]

    public init(numbers: Int, variables: Int) { self.numbers = numbers; self.variables = variables }

    public var firstVariable: Int32 { Self.firstNumber + Int32(numbers) }
    public var size: Int { Int(firstVariable) + variables }

    public func answer(_ c: Int) -> Int32 { Self.firstAnswer + Int32(c) }
    /// Tag 1, 2 or 3 (define1-3; the tokens are named as the paper's, the protocol's tag draw is not used).
    public func tag(_ number: Int) -> Int32 { Self.firstTag + Int32(number - 1) }
    public func number(_ n: Int) -> Int32 { Self.firstNumber + Int32(n) }
    public func variable(_ v: Int) -> Int32 { firstVariable + Int32(v) }
    public func answerClass(of token: Int32) -> Int? {
        token == Self.firstAnswer || token == Self.firstAnswer + 1 ? Int(token - Self.firstAnswer) : nil
    }

    /// The written form of one token: numbers as decimals, variables as v0, v1, ...
    public func name(of token: Int32) -> String {
        switch token {
        case 0..<Self.firstNumber: return Self.fixedNames[Int(token)]
        case Self.firstNumber..<firstVariable: return "\(token - Self.firstNumber)"
        case firstVariable..<Int32(size): return "v\(token - firstVariable)"
        default: return "<unknown \(token)>"
        }
    }
    public func decode(_ tokens: [Int32]) -> String { tokens.map(name(of:)).joined(separator: " ") }
}

public struct SetInclusionRenderer: DocumentRenderer {
    public let instance: ProtocolInstance
    public let config: SetInclusionConfig
    public let vocabulary: SetInclusionVocabulary
    /// Each entity's number x.
    public let x: [Int]
    /// Each entity's wrong number x' != x, which an inconsistent definition states.
    public let wrongX: [Int]
    /// The numbers of question k of entity e: lists[(e * T + k) * n ..< +n].
    private(set) var lists: [Int]

    public init(instance: ProtocolInstance, config: SetInclusionConfig) throws {
        try config.validate()
        try config.validate(instance.config)
        guard instance.variableSpec == SetInclusionConfig.variableSpec(instance.config), instance.tagSpec == SetInclusionConfig.tagSpec else {
            throw IMLError("The protocol instance was drawn with variables \(instance.variableSpec) and tags \(instance.tagSpec), not set inclusion's one token each; build it with SetInclusionConfig's variableSpec and tagSpec.")
        }
        self.instance = instance
        self.config = config
        let N = config.numbers
        vocabulary = SetInclusionVocabulary(numbers: N, variables: instance.entities.count)
        var numberRNG = SeededRandom(seed: instance.config.seed, stream: "set-inclusion/x/\(N)")
        var xs: [Int] = [], wrong: [Int] = []
        for _ in instance.entities {
            let value = numberRNG.int(below: N)
            xs.append(value)
            wrong.append((value + 1 + numberRNG.int(below: N - 1)) % N)
        }
        x = xs
        wrongX = wrong
        lists = Self.drawLists(instance: instance, config: config, x: xs, wrongX: wrong, stream: Self.listStream(config, epoch: nil))
    }

    /// The random stream of the lists: the evaluation (and fixed) lists' without an epoch, an epoch's own with one.
    static func listStream(_ config: SetInclusionConfig, epoch: Int?) -> String {
        "set-inclusion/lists/\(config.numbers)/\(config.numbersPerQuestion)" + (epoch.map { "/epoch-\($0)" } ?? "")
    }

    /// Every question's list: x exactly when its answer is true and, for an inconsistent entity,
    /// x' exactly when its defined answer is true; the other numbers distinct and random.
    static func drawLists(instance: ProtocolInstance, config: SetInclusionConfig, x: [Int], wrongX: [Int], stream: String) -> [Int] {
        let N = config.numbers, n = config.numbersPerQuestion, T = instance.config.attributes
        var listRNG = SeededRandom(seed: instance.config.seed, stream: stream)
        var all: [Int] = []
        all.reserveCapacity(instance.entities.count * T * n)
        for e in instance.entities {
            let inconsistent = !e.subset.isConsistent
            for k in 0..<T {
                // Which numbers the list must hold (true) and must not hold (false).
                var fixed: [(Int, Bool)] = [(x[e.id], e.attributes[k] == 1)]
                if inconsistent { fixed.append((wrongX[e.id], e.definedAttributes![k] == 1)) }
                var list = fixed.filter(\.1).map(\.0)
                let excluded = Set(fixed.map(\.0))
                while list.count < n {
                    let candidate = listRNG.int(below: N)
                    if !excluded.contains(candidate) && !list.contains(candidate) { list.append(candidate) }
                }
                listRNG.shuffle(&list)
                all += list
            }
        }
        return all
    }

    /// With lists drawn every epoch, the renderer of `epoch`'s training questions (x, x' and the answers kept).
    public func redrawn(epoch: Int) -> (any DocumentRenderer)? {
        guard config.lists == .everyEpoch else { return nil }
        var copy = self
        copy.lists = Self.drawLists(instance: instance, config: config, x: x, wrongX: wrongX,
                                    stream: Self.listStream(config, epoch: epoch))
        return copy
    }

    /// The numbers question `k` of `entity` lists, in the order written.
    public func list(entity: Int, attribute k: Int) -> ArraySlice<Int> {
        let n = config.numbersPerQuestion, start = (entity * instance.config.attributes + k) * n
        return lists[start..<(start + n)]
    }

    func variable(_ entity: Int) -> Int32 { vocabulary.variable(instance.entities[entity].variable[0]) }

    /// `<bos> TAG VAR % x`, with x' for an inconsistent definition.
    public func definition(entity: Int, tag: Int) -> [Int32] {
        let stated = instance.entities[entity].subset.isConsistent ? x[entity] : wrongX[entity]
        return [SetInclusionVocabulary.bos, vocabulary.tag(tag), variable(entity),
                SetInclusionVocabulary.percent, vocabulary.number(stated)]
    }

    /// `<bos> VAR % n1 ... nn = ANSWER`.
    public func question(entity: Int, attribute k: Int) -> [Int32] {
        prompt(entity: entity, attribute: k) + [vocabulary.answer(instance.entities[entity].attributes[k])]
    }

    // MARK: DocumentRenderer

    public var vocabularySize: Int { vocabulary.size }
    public var maxDocumentLength: Int { promptLength + 1 }
    public var promptLength: Int { 3 + config.numbersPerQuestion + 1 }

    public func documents(of example: Example) -> [[Int32]] {
        switch example.kind {
        case .definition: return [definition(entity: example.entity, tag: example.tag!)]
        case .question: return [question(entity: example.entity, attribute: example.askedAttribute!)]
        case .knowledge: return []
        }
    }

    /// `<bos> VAR % n1 ... nn =`.
    public func prompt(entity: Int, attribute k: Int) -> [Int32] {
        [SetInclusionVocabulary.bos, variable(entity), SetInclusionVocabulary.percent]
            + list(entity: entity, attribute: k).map(vocabulary.number) + [SetInclusionVocabulary.equals]
    }

    public func answerClass(of token: Int32) -> Int? { vocabulary.answerClass(of: token) }
    public var exactMatchRule: String { "arg-max over the vocabulary after '<bos> VAR % n1 ... nn =' is the right one of true and false" }
    public var settings: [(String, JSON)] {
        [("task", .string("set inclusion: definition <bos> TAG VAR % x, question <bos> VAR % n1 ... nn = true|false (true when x is listed)")),
         ("numbers", .int(config.numbers)), ("numbers_per_question", .int(config.numbersPerQuestion)),
         // every-epoch: training questions' numbers drawn anew every epoch, answers kept; evaluation lists fixed.
         ("lists", .string(config.lists.rawValue)),
         ("inconsistent_definition", .string("states a wrong number x' != x, listed exactly where the protocol's defined answer is true")),
         ("vocabulary_size", .int(vocabulary.size))]
    }
}
