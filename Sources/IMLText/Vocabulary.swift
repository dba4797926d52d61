// The text modality's vocabulary: every token of the documents is a word of its own.
//
//   id 0 <pad>, 1 <bos>, 2 "=", 3 "."          specials
//   4 ..< 30                 a ... z            letters of variables and tags (one token each)
//   30 ..< 30+T              q1 ... qT          "which attribute" (1-based, as written in documents)
//   30+T ..< 30+T+C          a0 ... a(C-1)      attribute values (classes)
//   30+T+C ..< 30+T+C+36     A ... Z, 0 ... 9   symbols of entity names (the named design only)
//
// Text form: tokens separated by spaces, except that consecutive letters form one word
// ("<bos> kqzf wdxa q3 = a7 ."), as do consecutive name symbols ("<bos> kqzf wdxa Q7 .");
// `encode` splits such a word into one token per letter or symbol.

import IMLBase

public struct TextVocabulary: Equatable, Sendable {
    public let attributes: Int
    public let classes: Int
    /// Name symbols in the vocabulary: 0, or `nameSymbolCount` for the named design.
    public let names: Int

    public static let pad: Int32 = 0
    public static let bos: Int32 = 1
    public static let equals: Int32 = 2
    public static let period: Int32 = 3
    public static let firstLetter: Int32 = 4
    public static let letterCount = 26
    static let specialNames = ["<pad>", "<bos>", "=", "."]
    /// Name symbols are written A-Z then 0-9.
    public static let nameSymbolCount = 36
    static let nameScalars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".unicodeScalars)

    public init(attributes: Int, classes: Int, names: Int = 0) {
        precondition(attributes > 0 && classes > 0, "TextVocabulary needs positive attributes and classes")
        precondition(names == 0 || names == Self.nameSymbolCount, "TextVocabulary has no name symbols or all \(Self.nameSymbolCount)")
        self.attributes = attributes
        self.classes = classes
        self.names = names
    }

    public var firstQuestion: Int32 { Self.firstLetter + Int32(Self.letterCount) }
    public var firstAnswer: Int32 { firstQuestion + Int32(attributes) }
    public var firstName: Int32 { firstAnswer + Int32(classes) }
    public var size: Int { Int(firstName) + names }

    /// Symbol `i` of a variable or tag (0 = "a").
    public func letter(_ i: Int) -> Int32 {
        precondition(i >= 0 && i < Self.letterCount, "letter index \(i) outside 0..<26")
        return Self.firstLetter + Int32(i)
    }
    /// The token asking attribute `k` (0-based; written q(k+1)).
    public func question(_ k: Int) -> Int32 {
        precondition(k >= 0 && k < attributes, "attribute \(k) outside 0..<\(attributes)")
        return firstQuestion + Int32(k)
    }
    /// The token of class `c` (written a<c>).
    public func answer(_ c: Int) -> Int32 {
        precondition(c >= 0 && c < classes, "class \(c) outside 0..<\(classes)")
        return firstAnswer + Int32(c)
    }
    /// Symbol `i` of an entity's name (0 = "A").
    public func nameSymbol(_ i: Int) -> Int32 {
        precondition(i >= 0 && i < names, "name symbol \(i) outside 0..<\(names)")
        return firstName + Int32(i)
    }
    /// The class an answer token stands for; nil for every other token.
    public func answerClass(of token: Int32) -> Int? {
        token >= firstAnswer && token < firstName ? Int(token - firstAnswer) : nil
    }
    public func isLetter(_ token: Int32) -> Bool {
        token >= Self.firstLetter && token < firstQuestion
    }
    public func isNameSymbol(_ token: Int32) -> Bool { token >= firstName && Int(token) < size }

    /// The written form of one token.
    public func name(of token: Int32) -> String {
        switch token {
        case 0..<Self.firstLetter: return Self.specialNames[Int(token)]
        case Self.firstLetter..<firstQuestion:
            return String(UnicodeScalar(UInt8(ascii: "a") + UInt8(token - Self.firstLetter)))
        case firstQuestion..<firstAnswer: return "q\(token - firstQuestion + 1)"
        case firstAnswer..<firstName: return "a\(token - firstAnswer)"
        case firstName..<Int32(size): return String(Self.nameScalars[Int(token - firstName)])
        default: return "<unknown \(token)>"
        }
    }

    /// Words separated by spaces; consecutive letters are joined into one word, except before
    /// the positions in `wordStarts` (e.g. where a tag follows a variable).
    public func decode(_ tokens: [Int32], wordStarts: Set<Int> = []) -> String {
        var out = ""
        for (i, token) in tokens.enumerated() {
            let joins = i > 0 && !wordStarts.contains(i)
                && ((isLetter(token) && isLetter(tokens[i - 1])) || (isNameSymbol(token) && isNameSymbol(tokens[i - 1])))
            if i > 0 && !joins { out += " " }
            out += name(of: token)
        }
        return out
    }

    /// The tokens of a text in the form `decode` writes; throws on a word that is no token.
    public func encode(_ text: String) throws -> [Int32] {
        var tokens: [Int32] = []
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            if let special = Self.specialNames.firstIndex(of: String(word)) {
                tokens.append(Int32(special))
            } else if let k = Self.number(after: "q", in: word) {
                guard k >= 1 && k <= attributes else {
                    throw IMLError("The word '\(word)' asks attribute \(k), but attributes run from q1 to q\(attributes); use one of those.")
                }
                tokens.append(question(k - 1))
            } else if let c = Self.number(after: "a", in: word) {
                guard c < classes else {
                    throw IMLError("The word '\(word)' is class \(c), but classes run from a0 to a\(classes - 1); use one of those.")
                }
                tokens.append(answer(c))
            } else if word.unicodeScalars.allSatisfy({ $0 >= "a" && $0 <= "z" }) {
                for scalar in word.unicodeScalars { tokens.append(letter(Int(scalar.value - UnicodeScalar("a").value))) }
            } else if names > 0, word.unicodeScalars.allSatisfy({ Self.nameScalars.contains($0) }) {
                for scalar in word.unicodeScalars { tokens.append(nameSymbol(Self.nameScalars.firstIndex(of: scalar)!)) }
            } else {
                let nameWords = names > 0 ? ", names of A-Z and 0-9" : ""
                throw IMLError("The word '\(word)' is not in the vocabulary; write lowercase letters a-z, q1..q\(attributes), a0..a\(classes - 1)\(nameWords), <bos>, <pad>, '=' or '.', separated by spaces.")
            }
        }
        return tokens
    }

    /// n for a word `prefix` + decimal digits, else nil.
    private static func number(after prefix: Character, in word: Substring) -> Int? {
        guard word.count >= 2, word.first == prefix else { return nil }
        let digits = word.dropFirst()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }
}
