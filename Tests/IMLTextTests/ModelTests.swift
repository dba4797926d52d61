import XCTest
import IMLBase
import IMLCore
import IMLProtocol
@testable import IMLText

final class ModelTests: XCTestCase {
    func smallConfig(vocabulary: Int = 46, maxLength: Int = 12) -> TransformerLM.Config {
        var c = TransformerLM.Config()
        c.vocabularySize = vocabulary
        c.maxLength = maxLength
        c.layers = 2
        c.width = 32
        c.heads = 4
        return c
    }

    func randomTokens(_ n: Int, vocabulary: Int, seed: UInt64) -> [Int32] {
        var rng = SeededRandom(seed: seed, stream: "model-test-tokens")
        return (0..<n).map { _ in Int32(rng.int(below: vocabulary)) }
    }

    func testChangingALaterTokenNeverChangesEarlierLogits() {
        let model = TransformerLM(config: smallConfig(), seed: 1)
        let batch = 3, length = 10, v = 46
        let tokens = randomTokens(batch * length, vocabulary: v, seed: 2)
        let before = model.forward(tokens: tokens, batch: batch, length: length).array
        for changed in [1, 5, 9] {
            var edited = tokens
            edited[1 * length + changed] = (edited[1 * length + changed] + 7) % Int32(v)  // sequence 1 only
            let after = model.forward(tokens: edited, batch: batch, length: length).array
            for b in 0..<batch {
                for t in 0..<length {
                    let row = (b * length + t) * v
                    let maxChange = (0..<v).map { abs(after[row + $0] - before[row + $0]) }.max()!
                    if b == 1 && t >= changed {
                        if t == changed { XCTAssertGreaterThan(maxChange, 1e-4, "the changed position itself must see its token") }
                    } else {
                        XCTAssertEqual(maxChange, 0, accuracy: 1e-6, "sequence \(b) position \(t) saw token \(changed) of sequence 1")
                    }
                }
            }
        }
    }

    func testLastPositionLogitsEqualTheFullForwardAtTheLastPosition() {
        let model = TransformerLM(config: smallConfig(), seed: 3)
        let batch = 4, length = 7, v = 46
        let tokens = randomTokens(batch * length, vocabulary: v, seed: 4)
        let full = model.forward(tokens: tokens, batch: batch, length: length).array
        let last = model.lastPositionLogits(tokens: tokens, batch: batch, length: length).array
        for b in 0..<batch {
            for i in 0..<v { XCTAssertEqual(last[b * v + i], full[((b + 1) * length - 1) * v + i], accuracy: 1e-5) }
        }
    }

    func testParametersAreTheLayersOfSection4AndSeededInitIsReproducible() {
        let d = 32, v = 46, s = 12
        let a = TransformerLM(config: smallConfig(), seed: 5), b = TransformerLM(config: smallConfig(), seed: 5)
        let c = TransformerLM(config: smallConfig(), seed: 6)
        let block = 2 * (2 * d) + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
        XCTAssertEqual(a.parameterCount, v * d + s * d + 2 * block + 2 * d + (d * v + v))
        XCTAssertEqual(a.parameters.map { $0.value.array }, b.parameters.map { $0.value.array })
        XCTAssertNotEqual(a.parameters[0].value.array, c.parameters[0].value.array)
        XCTAssertEqual(Set(a.parameters.map(\.name)).count, a.parameters.count, "parameter names must be unique")
    }

    func testInvalidShapesAreRejectedWithTheFix() {
        var c = smallConfig()
        c.width = 30
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("--width"), "\($0)") }
        c = smallConfig()
        c.layers = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("--layers"), "\($0)") }
        c = smallConfig()
        c.embeddingStd = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "--embedding-std must be a positive number (got 0.0).") }
    }

    /// --embedding-std sets both tables' initial spread (0.02 by default, 1 as PyTorch's nn.Embedding).
    func testEmbeddingStdSetsTheTablesInitialSpread() {
        for std: Float in [0.02, 1] {
            var c = smallConfig()
            c.embeddingStd = std
            let model = TransformerLM(config: c, seed: 3)
            for table in [model.embedding.tokenTable, model.embedding.positionTable] {
                let values = table.array.map(Double.init)
                let mean = values.reduce(0, +) / Double(values.count)
                let spread = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
                XCTAssertEqual(spread, Double(std), accuracy: 0.1 * Double(std))
            }
        }
    }
}

final class TextTaskTests: XCTestCase {
    func makeTask(unit: BatchUnit = .documents, entities: Int = 40) throws -> TextTask {
        let renderer = try makeRenderer(entities: entities)
        var model = TransformerLM.Config()
        model.width = 32
        model.heads = 2
        model.layers = 1
        return try TextTask(renderer: renderer, model: model, modelSeed: 7, unit: unit)
    }

    /// Loss and gradient of `documents` as ONE padded batch, computed by hand (the reference the
    /// length-grouped step must reproduce).
    func paddedLossAndGradient(_ task: TextTask, stage: Int, documents: [Int]) -> (Float, [[Float]]) {
        task.network.zeroGrad()
        let (_, length) = task.fillBatch(stage: stage, documents: documents)
        let inputs = task.inputsBuffer, targets = task.targetsBuffer
        XCTAssertEqual(length, task.renderer.maxDocumentLength - 1)
        let loss = SoftmaxCrossEntropy()
        let logits = task.model.forward(tokens: inputs, batch: documents.count, length: length)
        let value = loss.forward(logits: logits, classes: task.model.config.vocabularySize, targets: targets)
        task.model.backward(loss.backward())
        return (value, task.parameters.map { $0.grad.array })
    }

    func testLengthGroupedStepEqualsOnePaddedBatch() throws {
        let task = try makeTask()
        let lengths = task.documentLengths[1]!
        // a batch mixing definitions (13 tokens) and questions (9)
        let documents = Array(0..<lengths.count).filter { $0 % 97 == 3 }
        XCTAssertEqual(Set(documents.map { lengths[$0] }), [9, 13])
        let (expectedLoss, expectedGrads) = paddedLossAndGradient(task, stage: 1, documents: documents)
        task.network.zeroGrad()
        let loss = task.lossAndGradient(stage: 1, examples: documents[...])
        XCTAssertEqual(loss, expectedLoss, accuracy: 1e-5 * abs(expectedLoss))
        for (p, expected) in zip(task.parameters, expectedGrads) {
            let scale = expected.map(abs).max()! + 1e-12
            for (g, e) in zip(p.grad.array, expected) { XCTAssertEqual(g, e, accuracy: 1e-4 * scale, p.name) }
        }
    }

    /// `analyze` scores one example as training does (a definition's T documents, a question's
    /// one), and probes read the residual stream at every prompt position.
    func testOneExampleGradientAndProbeFeaturesMatchTraining() throws {
        let task = try makeTask(unit: .examples)
        let examples = task.instance.trainingSet(stage: 1)
        for i in [examples.firstIndex { $0.kind == .definition }!, examples.firstIndex { $0.kind == .question }!] {
            task.network.zeroGrad()
            let expected = task.lossAndGradient(stage: 1, examples: [i])
            let expectedGrads = task.parameters.map { $0.grad.array }
            task.network.zeroGrad()
            XCTAssertEqual(task.lossAndGradient(of: examples[i], scoring: .full), expected, accuracy: 1e-6 * abs(expected))
            for (p, e) in zip(task.parameters, expectedGrads) {
                let scale = e.map(abs).max()! + 1e-12
                for (g, x) in zip(p.grad.array, e) { XCTAssertEqual(g, x, accuracy: 1e-5 * scale, p.name) }
            }
        }
        let set = task.instance.stage1Eval.first { $0.subset == .qd2incons }!
        let layers = task.probeFeatures(set)
        let p = task.renderer.promptLength
        XCTAssertEqual(layers.count, 2 * p)  // embedding and one block, at every position
        XCTAssertEqual(layers.map(\.name).prefix(2), ["embedding @ position 0", "embedding @ position 1"])
        // Block 1 at the last position of question 2: the final hidden state lastPositionLogits reads.
        let prompt = task.renderer.prompt(entity: set.questions[2].entity, attribute: set.questions[2].attribute)
        let streams = task.model.residualStreams(tokens: prompt, batch: 1, length: p)
        for (a, b) in zip(layers[2 * p - 1].values[(2 * 32)..<(3 * 32)], streams[1][((p - 1) * 32)..<(p * 32)]) {
            XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)))
        }
    }

    /// Scoring answers only, a question's loss is the cross-entropy of its answer after the prompt
    /// (what evaluation predicts from), and a definition's the mean over its T answers; the
    /// gradient then differs from the full loss's.
    func testAnswerScoringKeepsOnlyTheAnswerPredictions() throws {
        let task = try makeTask(unit: .examples)
        let examples = task.instance.trainingSet(stage: 1)
        func crossEntropy(after prompt: [Int32], answer: Int32) -> Float {
            let logits = task.model.lastPositionLogits(tokens: prompt, batch: 1, length: prompt.count).array
            let top = logits.max()!
            return log(logits.map { exp($0 - top) }.reduce(0, +)) + top - logits[Int(answer)]
        }
        let p = task.renderer.promptLength
        for example in [examples.first { $0.kind == .question }!, examples.first { $0.kind == .definition }!] {
            let documents = task.renderer.documents(of: example)
            var expected: Float = 0
            for document in documents {
                // The answer is the one target that is an answer token.
                let t = try XCTUnwrap(document.indices.dropFirst().first { task.renderer.answerClass(of: document[$0]) != nil })
                if example.kind == .question { XCTAssertEqual(t, p) }
                expected += crossEntropy(after: Array(document[..<t]), answer: document[t]) / Float(documents.count)
            }
            task.network.zeroGrad()
            XCTAssertEqual(task.lossAndGradient(of: example, scoring: .answer), expected, accuracy: 1e-5 * expected)
            let answerGradient = task.parameters.flatMap { $0.grad.array }
            task.network.zeroGrad()
            _ = task.lossAndGradient(of: example, scoring: .full)
            XCTAssertNotEqual(task.parameters.flatMap { $0.grad.array }, answerGradient)
        }
    }

    func testBatchesOfExamplesExpandToTheirDocumentsAndTargetsSkipPadding() throws {
        let byExamples = try makeTask(unit: .examples), byDocuments = try makeTask(unit: .documents)
        let stage1 = byExamples.instance.stage1Train
        XCTAssertEqual(byExamples.trainingCount(stage: 1), stage1.count)
        let T = byExamples.instance.config.attributes
        let definitions = stage1.filter { $0.kind == .definition }.count
        XCTAssertEqual(byDocuments.trainingCount(stage: 1), definitions * T + (stage1.count - definitions))
        XCTAssertEqual(byDocuments.tokenCount(stage: 1), definitions * T * 13 + (stage1.count - definitions) * 9)
        let firstDefinition = stage1.firstIndex { $0.kind == .definition }!
        var documents: [Int] = []
        byExamples.appendDocuments(stage: 1, indices: [firstDefinition], to: &documents)
        XCTAssertEqual(documents.count, T)
        // targets are the inputs shifted by one; -1 exactly where the document has ended
        let question = byDocuments.documentLengths[1]!.firstIndex(of: 9)!
        let definition = byDocuments.documentLengths[1]!.firstIndex(of: 13)!
        let (count, length) = byDocuments.fillBatch(stage: 1, documents: [question, definition])
        let inputs = byDocuments.inputsBuffer, targets = byDocuments.targetsBuffer
        XCTAssertEqual(count, 2)
        XCTAssertEqual(length, 12)
        XCTAssertEqual(Array(targets[0..<7]), Array(inputs[1..<8]))
        XCTAssertEqual(Array(targets[8..<12]), [-1, -1, -1, -1])
        XCTAssertEqual(Array(targets[12..<23]), Array(inputs[13..<24]))
        XCTAssertEqual(targets[23], TextVocabulary.period)
    }

    func testPredictionsAreTheArgMaxAfterEachQuestionsPrompt() throws {
        let task = try makeTask()
        let v = (task.renderer as! TextRenderer).vocabulary
        for set in task.instance.stage1Eval + task.instance.stage2Eval {
            let predicted = task.predict(set)
            XCTAssertEqual(predicted.count, set.questions.count)
            for (q, p) in zip(set.questions, predicted).prefix(3) {
                let prompt = task.renderer.prompt(entity: q.entity, attribute: q.attribute)
                let logits = task.model.forward(tokens: prompt, batch: 1, length: prompt.count).array.suffix(v.size)
                let best = Int32(logits.indices.max { logits[$0] < logits[$1] }! - logits.startIndex)
                XCTAssertEqual(p, v.answerClass(of: best) ?? -1)
            }
        }
    }

    func testTrainingStepsLowerTheLossOnTheirBatch() throws {
        let task = try makeTask()
        let adam = Adam(parameters: task.parameters, lr: 3e-3)
        let batch = Array(0..<48)[...]
        task.network.zeroGrad()
        let first = task.lossAndGradient(stage: 1, examples: batch)
        for _ in 0..<30 { adam.step(); task.network.zeroGrad(); _ = task.lossAndGradient(stage: 1, examples: batch) }
        let last = task.lossAndGradient(stage: 1, examples: batch)
        XCTAssertLessThan(last, 0.8 * first)
    }
}
