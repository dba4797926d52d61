// Token documents as a TrainingTask: every training example pre-rendered once as padded token
// documents, every evaluation question as a prompt, the TransformerLM and next-token loss. The
// documents come from a DocumentRenderer: the text modality's TextRenderer, or another format's.
//
// Shapes: a batch of B documents, padded to the batch's longest (S+1 tokens), gives
//   inputs  [B, S] = document[0..<S]        targets [B*S] = document[1...S], -1 on padding
//   logits  [B*S, V];  loss = mean cross-entropy over the non-padding targets of the batch.
// Evaluation: prompts [N, P] ("<bos> VARIABLE qk ="), logits of position P-1, arg-max over the
// whole vocabulary; a non-answer token counts as wrong.

import Foundation
import IMLBase
import IMLCore
import IMLRunFiles
import IMLTraining
import IMLProtocol

/// What the trainer's batch indices count.
public enum BatchUnit: String, Codable, CaseIterable, Sendable {
    /// One index per protocol example, as in the vision task: a definition brings its T
    /// documents, a question one (a batch of 64 is ~111 documents in stage 1). The default until
    /// the paper-faithful study (docs/PROTOCOL.md section 8); with embeddings N(0, 1) it lands on a
    /// PyTorch implementation's numbers.
    case examples
    /// One index per document: a batch of 64 is 64 documents, as the paper's from-scratch runs
    /// (Hugging Face trainer over documents) batch them.
    case documents

    /// The paper's choice, and the default of `text-iml`.
    public static let standard: BatchUnit = .documents
}

/// Which of a document's next-token predictions the training loss scores.
public enum ScoredTokens: String, Codable, CaseIterable, Sendable {
    /// Every one, as the paper's code trains (labels = input ids).
    case all
    /// Only the document's last token (set inclusion: a question's answer, a definition's x).
    case last
}

public final class TextTask: TrainingTask {
    public let instance: ProtocolInstance
    public let renderer: any DocumentRenderer
    public let model: TransformerLM
    public let unit: BatchUnit
    public let scored: ScoredTokens
    let loss = SoftmaxCrossEntropy()

    /// stage -> every training document, padded to `documentLength` tokens, [N, L].
    var documentTokens: [Int: [Int32]] = [:]
    /// stage -> the unpadded length of every document.
    var documentLengths: [Int: [Int]] = [:]
    /// stage -> the documents of each example, as index ranges (examples are rendered in order).
    var documentsOfExample: [Int: [Range<Int>]] = [:]
    /// subset -> the prompts of its evaluation questions, [N, P].
    var promptTokens: [Subset: [Int32]] = [:]
    let documentLength: Int
    static let evaluationBatch = 512
    /// A training step's buffers, kept between steps.
    private var batchDocuments: [Int] = [], groupLengths: [Int] = []
    private(set) var inputsBuffer: [Int32] = [], targetsBuffer: [Int32] = []

    public var network: Layer { model }

    public init(renderer: any DocumentRenderer, model modelConfig: TransformerLM.Config,
                modelSeed: UInt64, unit: BatchUnit = .standard, scored: ScoredTokens = .all) throws {
        try modelConfig.validate()
        let instance = renderer.instance
        self.renderer = renderer
        self.instance = instance
        self.unit = unit
        self.scored = scored
        documentLength = renderer.maxDocumentLength
        var config = modelConfig
        config.vocabularySize = renderer.vocabularySize
        config.maxLength = max(documentLength - 1, renderer.maxTestLength)
        model = TransformerLM(config: config, seed: modelSeed)

        for stage in [1, 2] { render(stage: stage, from: renderer) }
        for set in instance.stage1Eval + instance.stage2Eval where promptTokens[set.subset] == nil {
            promptTokens[set.subset] = set.questions.flatMap { renderer.prompt(entity: $0.entity, attribute: $0.attribute) }
        }
    }

    /// Renders every training document of `stage`, padded, from `source`.
    func render(stage: Int, from source: any DocumentRenderer) {
        var tokens: [Int32] = [], lengths: [Int] = [], ranges: [Range<Int>] = []
        for example in instance.trainingSet(stage: stage) {
            let first = lengths.count
            for document in source.documents(of: example) {
                tokens += document + [Int32](repeating: TextVocabulary.pad, count: documentLength - document.count)
                lengths.append(document.count)
            }
            ranges.append(first..<lengths.count)
        }
        precondition(documentLengths[stage] == nil || documentLengths[stage]! == lengths, "a redrawn document changed its length")
        documentTokens[stage] = tokens
        documentLengths[stage] = lengths
        documentsOfExample[stage] = ranges
    }

    /// Where the renderer redraws its documents every epoch, the epoch's (a function of the epoch alone, so a resumed run repeats it).
    public func beginEpoch(stage: Int, epoch: Int) {
        if let source = renderer.redrawn(epoch: epoch) { render(stage: stage, from: source) }
    }

    public var settings: [(String, JSON)] {
        let m = model.config
        return renderer.settings + [
                ("layers", .int(m.layers)), ("width", .int(m.width)), ("heads", .int(m.heads)),
                ("embedding_init_std", .number(Double("\(m.embeddingStd)") ?? .nan)),
                ("parameters", .int(model.parameterCount)),
                ("batch_unit", .string(unit.rawValue)),
                ("stage1_documents", .int(documentCount(stage: 1))), ("stage1_tokens", .int(tokenCount(stage: 1))),
                ("stage2_documents", .int(documentCount(stage: 2))), ("stage2_tokens", .int(tokenCount(stage: 2))),
                ("loss", .string(scored == .all ? "next-token cross-entropy, mean over the non-padding tokens of a batch"
                                                : "next-token cross-entropy of each document's last token, mean over a batch's documents"))]
            + (scored == .all ? [] : [("scored_tokens", .string(scored.rawValue))]) + [
                ("exact_match", .string(renderer.exactMatchRule)),
                ("model", .string(model.summary))]
    }

    /// How many indices the trainer should batch over in `stage`.
    public func trainingCount(stage: Int) -> Int {
        unit == .documents ? documentLengths[stage]!.count : documentsOfExample[stage]!.count
    }

    /// Batching documents, an epoch that trains some examples trains their documents.
    public func trainingIndices(stage: Int, epoch: Int) -> [Int] {
        guard let examples = instance.trainedExamples(stage: stage, epoch: epoch) else { return Array(0..<trainingCount(stage: stage)) }
        guard unit == .documents else { return examples }
        let ranges = documentsOfExample[stage]!
        return examples.flatMap { Array(ranges[$0]) }
    }

    /// Training documents of a stage and their tokens (excluding padding) in one epoch.
    public func documentCount(stage: Int) -> Int { documentLengths[stage]!.count }
    public func tokenCount(stage: Int) -> Int { documentLengths[stage]!.reduce(0, +) }

    /// Appends the document indices that trainer indices stand for to `out`.
    func appendDocuments(stage: Int, indices: ArraySlice<Int>, to out: inout [Int]) {
        switch unit {
        case .documents: out.append(contentsOf: indices)
        case .examples:
            let ranges = documentsOfExample[stage]!
            for i in indices { out.append(contentsOf: ranges[i]) }
        }
    }

    /// Fills `inputs` [B, S] and next-token `targets` [B*S] (-1 on padding) from the documents of
    /// `documents` whose length is `length` + 1 (all of them when `length` is nil); returns B, S.
    func fillBatch(stage: Int, documents: [Int], length wanted: Int? = nil) -> (count: Int, length: Int) {
        let lengths = documentLengths[stage]!
        var length = 0
        for d in documents where wanted == nil || lengths[d] == wanted! + 1 { length = max(length, lengths[d] - 1) }
        inputsBuffer.removeAll(keepingCapacity: true)
        targetsBuffer.removeAll(keepingCapacity: true)
        var count = 0
        documentTokens[stage]!.withUnsafeBufferPointer { all in
            for d in documents where wanted == nil || lengths[d] == wanted! + 1 {
                let start = d * documentLength, real = lengths[d]
                inputsBuffer.append(contentsOf: all[start..<(start + length)])
                for t in 1...length { targetsBuffer.append(t < real && (scored == .all || t == real - 1) ? all[start + t] : -1) }
                count += 1
            }
        }
        return (count, length)
    }

    /// Documents of equal length go through the model together: a question (9 tokens) then
    /// costs 8 positions instead of a definition's 12: 16% less work in stage 1, 12% less time. Each group's
    /// gradient is weighted by its share of the batch's supervised tokens, so the sum is exactly
    /// the gradient of the mean over the whole padded batch (padding at the end of a causal
    /// sequence changes nothing before it). The batch's buffers are reused: a step allocates nothing.
    public func lossAndGradient(stage: Int, examples indices: ArraySlice<Int>) -> Float {
        let lengths = documentLengths[stage]!
        batchDocuments.removeAll(keepingCapacity: true)
        appendDocuments(stage: stage, indices: indices, to: &batchDocuments)
        // The distinct document lengths of the batch, longest first, with their documents' counts.
        groupLengths.removeAll(keepingCapacity: true)
        var supervisedInBatch = 0
        for d in batchDocuments {
            supervisedInBatch += scored == .all ? lengths[d] - 1 : 1
            if !groupLengths.contains(lengths[d]) {
                groupLengths.append(lengths[d])
                var i = groupLengths.count - 1
                while i > 0 && groupLengths[i - 1] < groupLengths[i] { groupLengths.swapAt(i - 1, i); i -= 1 }
            }
        }
        var total: Float = 0
        for length in groupLengths {
            let (count, s) = fillBatch(stage: stage, documents: batchDocuments, length: length - 1)
            let logits = model.forward(tokens: inputsBuffer, batch: count, length: s)
            let value = loss.forward(logits: logits, rows: targetsBuffer.count, classes: model.config.vocabularySize, targets: targetsBuffer)
            let share = Float((scored == .all ? length - 1 : 1) * count) / Float(supervisedInBatch)
            let logitsGrad = loss.backward()
            let g = logitsGrad.pointer
            for i in 0..<logitsGrad.count { g[i] *= share }
            model.backward(logitsGrad)
            total += share * value
        }
        return total
    }

    /// Arg-max token after each prompt: its class when it is an answer token, else -1 (wrong).
    public func predictedTokens(prompts: [Int32]) -> [Int32] {
        let p = renderer.promptLength, count = prompts.count / p, v = model.config.vocabularySize
        var predicted: [Int32] = []
        predicted.reserveCapacity(count)
        for start in stride(from: 0, to: count, by: Self.evaluationBatch) {
            let end = min(start + Self.evaluationBatch, count)
            let logits = model.lastPositionLogits(tokens: Array(prompts[(start * p)..<(end * p)]), batch: end - start, length: p)
            predicted += SoftmaxCrossEntropy.predictions(logits, classes: v)
        }
        return predicted
    }

    public func predict(_ set: EvalSet) -> [Int] {
        guard let prompts = promptTokens[set.subset] else { return [] }
        return predictedTokens(prompts: prompts).map { renderer.answerClass(of: $0) ?? -1 }
    }

    /// The renderer's further tests (the named design's entity association), on this model.
    public func testScores(stage: Int) -> [TestScore] { renderer.testScores(model: model, stage: stage) }

    // MARK: Analyses

    /// The mean next-token loss over the example's documents (a definition's T, a question's one),
    /// or, scoring `.answer`, over the answer tokens among the targets alone.
    public func lossAndGradient(of example: Example, scoring: ExampleLoss) -> Float {
        let documents = renderer.documents(of: example)
        let length = (documents.map(\.count).max() ?? 1) - 1
        var inputs: [Int32] = [], targets: [Int32] = []
        for document in documents {
            for t in 0..<length { inputs.append(t < document.count ? document[t] : TextVocabulary.pad) }
            for t in 1...length {
                let trained = self.scored == .all || t == document.count - 1
                let counted = t < document.count && (scoring == .full ? trained : renderer.answerClass(of: document[t]) != nil)
                targets.append(counted ? document[t] : -1)
            }
        }
        let logits = model.forward(tokens: inputs, batch: documents.count, length: length)
        let value = loss.forward(logits: logits, rows: targets.count, classes: model.config.vocabularySize, targets: targets)
        model.backward(loss.backward())
        return value
    }

    /// The residual stream after the embedding and after each block, at every position of each
    /// question's prompt (e.g. "<bos> VARIABLE qk =").
    public func probeFeatures(_ set: EvalSet) -> [ProbeLayer] {
        guard let prompts = promptTokens[set.subset], !set.questions.isEmpty else { return [] }
        let p = renderer.promptLength, d = model.config.width, count = prompts.count / p
        let streams = model.residualStreams(tokens: prompts, batch: count, length: p)
        var layers: [ProbeLayer] = []
        for (l, stream) in streams.enumerated() {
            for position in 0..<p {
                var values: [Float] = []
                values.reserveCapacity(count * d)
                for q in 0..<count { values += stream[((q * p + position) * d)..<((q * p + position + 1) * d)] }
                layers.append(ProbeLayer(layer: l == 0 ? "embedding" : "block \(l)", position: position, dimension: d, values: values))
            }
        }
        return layers
    }
}
