// What TextTask needs of a rendering of the protocol as token documents: the documents of every
// training example, the prompt of every evaluation question and how to read its answer. The
// text modality's TextRenderer is one; a task with its own format (set inclusion) brings another
// and trains on the same transformer, batching and evaluation.

import IMLProtocol
import IMLRunFiles
import IMLTraining

public protocol DocumentRenderer: Sendable {
    /// The protocol instance rendered.
    var instance: ProtocolInstance { get }
    /// Tokens of the vocabulary, padding included; token 0 pads (its targets are never scored).
    var vocabularySize: Int { get }
    /// Tokens of the longest training document.
    var maxDocumentLength: Int { get }
    /// Tokens of the longest sequence the model reads beyond the documents' inputs (a further
    /// test's), which the position table must cover; default the longest prompt.
    var maxTestLength: Int { get }
    /// Tokens of every evaluation prompt (all prompts have this length).
    var promptLength: Int { get }
    /// The documents an example trains on, in order.
    func documents(of example: Example) -> [[Int32]]
    /// The prompt of attribute `attribute` of `entity`: the model's next token is the answer.
    func prompt(entity: Int, attribute: Int) -> [Int32]
    /// The class an answer token stands for; nil for every other token (a wrong answer).
    func answerClass(of token: Int32) -> Int?
    /// The rendering's settings for config.json, before the model's (e.g. design, lengths, vocabulary size).
    var settings: [(String, JSON)] { get }
    /// How exact match reads the model's answer, for config.json.
    var exactMatchRule: String { get }
    /// Scores of further tests at each evaluation of `stage` (default none), see TrainingTask.testScores.
    func testScores(model: TransformerLM, stage: Int) -> [TestScore]
    /// The renderer of `epoch`'s training documents when they change from epoch to epoch (each
    /// document keeping its length), or nil (the default) when every epoch trains the same ones.
    /// Evaluation prompts always come from this renderer.
    func redrawn(epoch: Int) -> (any DocumentRenderer)?
}

extension DocumentRenderer {
    public var maxTestLength: Int { promptLength }
    public func testScores(model: TransformerLM, stage: Int) -> [TestScore] { [] }
    public func redrawn(epoch: Int) -> (any DocumentRenderer)? { nil }
}
