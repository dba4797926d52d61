// The entity-association test of the named design (the paper's figure 3b): prompts in forms never
// trained on, `<bos> VARIABLE =` and `<bos> VARIABLE .`, whose answer is the entity's name.
//
// Shapes, for P prompts of length S0 and names of L symbols from an alphabet of A = 36:
//   sequences [P * A^(L-1), S0 + L - 1] = each prompt followed by every possible name prefix
//   logits    [sequences * (S0 + L - 1), V]; symbol i of a name is scored at position S0 - 1 + i
// A name's score is the sum of its symbols' log-probabilities (log-softmax over the whole
// vocabulary). From these: greedy exact match (the arg-max token at each step, as the paper's
// generation, must spell the name), and the true name's rank among all entity names (top-1 and
// reciprocal rank; chance 1/E and H_E/E), which does not ask a from-scratch model to know when a
// name starts.

import Foundation
import IMLCore
import IMLProtocol
import IMLTraining

extension TextRenderer {
    /// In the named design: the entity-association test on every subset with a variable to ask,
    /// and, to tell the second hop from the first, recall of the knowledge itself (`knowledge/S`:
    /// exact match after `<bos> NAME qk =` on every attribute of the subset's first entities).
    public func testScores(model: TransformerLM, stage: Int) -> [TestScore] {
        guard config.design == .named else { return [] }
        let association = EntityAssociation(renderer: self, model: model)
        let sets = instance.evaluationSets(stage: stage)
        // d2incons is a QA control (d2consis's questions, swapped answers): nothing of its own to associate.
        let entitySets = sets.filter { $0.subset != .d2incons }
        return entitySets.filter { $0.subset != .no_qd_baseline }.flatMap(association.scores) + entitySets.map(association.knowledgeRecall)
    }
}

struct EntityAssociation {
    let renderer: TextRenderer
    let model: TransformerLM
    /// Entities of each subset that the test asks (the first ones of its evaluation set): each
    /// prompt costs A^(L-1) forward sequences, so the test samples to keep an epoch's evaluation small.
    static let entitiesPerSubset = 25

    /// The first `entitiesPerSubset` distinct entities of `set`'s questions.
    static func askedEntities(_ set: EvalSet) -> [Int] {
        var entities: [Int] = []
        for q in set.questions where entities.count < entitiesPerSubset && !entities.contains(q.entity) { entities.append(q.entity) }
        return entities
    }

    struct Scores { var greedy = 0.0, top1 = 0.0, reciprocalRank = 0.0, n = 0 }

    /// The test's scores on the entities of `set`, against each entity's own name and, for an
    /// inconsistent subset, against the name its definition gave.
    func scores(_ set: EvalSet) -> [TestScore] {
        let entities = Self.askedEntities(set)
        guard !entities.isEmpty else { return [] }
        let targets: [(suffix: String, names: [Int])] = set.subset.isConsistent
            ? [("", entities)]
            : [("", entities), ("_defined", entities.map { renderer.instance.entities[$0].definedEntity! })]
        var totals = [Scores](repeating: Scores(), count: targets.count)
        for form in 0..<TextRenderer.associationForms.count {
            let nameScores = self.nameScores(prompts: entities.map { renderer.associationPrompt(entity: $0, form: form) })
            for (t, target) in targets.enumerated() {
                for (p, entity) in target.names.enumerated() {
                    let row = nameScores.scores[p], mine = row[entity]
                    let rank = 1 + row.enumerated().reduce(0) { $0 + ($1.offset != entity && $1.element > mine ? 1 : 0) }
                    totals[t].greedy += nameScores.greedy[p] == renderer.names[entity] ? 1 : 0
                    totals[t].top1 += rank == 1 ? 1 : 0
                    totals[t].reciprocalRank += 1 / Double(rank)
                    totals[t].n += 1
                }
            }
        }
        return zip(targets, totals).flatMap { target, total -> [TestScore] in
            let name = set.subset.rawValue + target.suffix, n = Double(total.n)
            return [TestScore(subset: "association/" + name, value: total.greedy / n, n: total.n),
                    TestScore(subset: "association-top1/" + name, value: total.top1 / n, n: total.n),
                    TestScore(subset: "association-mrr/" + name, value: total.reciprocalRank / n, n: total.n)]
        }
    }

    func knowledgeRecall(_ set: EvalSet) -> TestScore {
        let entities = Self.askedEntities(set)
        let T = renderer.instance.config.attributes, p = 1 + renderer.config.nameLength + 2
        var prompts: [Int32] = [], answers: [Int] = []
        for e in entities {
            for k in 0..<T {
                prompts += renderer.knowledgeDocument(entity: e, attribute: k).prefix(p)
                answers.append(renderer.instance.entities[e].attributes[k])
            }
        }
        var correct = 0
        for start in stride(from: 0, to: answers.count, by: TextTask.evaluationBatch) {
            let end = min(start + TextTask.evaluationBatch, answers.count)
            let logits = model.lastPositionLogits(tokens: Array(prompts[(start * p)..<(end * p)]), batch: end - start, length: p)
            for (i, token) in SoftmaxCrossEntropy.predictions(logits, classes: model.config.vocabularySize).enumerated() {
                if renderer.vocabulary.answerClass(of: token) == answers[start + i] { correct += 1 }
            }
        }
        return TestScore(subset: "knowledge/" + set.subset.rawValue, value: Double(correct) / Double(max(1, answers.count)), n: answers.count)
    }

    /// For each prompt: every entity name's log-probability, and the greedy continuation as name
    /// symbols (shorter when the arg-max leaves the names' alphabet).
    func nameScores(prompts: [[Int32]]) -> (scores: [[Double]], greedy: [[Int]]) {
        let a = TextVocabulary.nameSymbolCount, L = renderer.config.nameLength, v = model.config.vocabularySize
        let promptLength = prompts[0].count, length = promptLength + L - 1
        let prefixCount = Int(pow(Double(a), Double(L - 1)))
        let vocabulary = renderer.vocabulary
        var scores: [[Double]] = [], greedy: [[Int]] = []
        for prompt in prompts {
            var tokens: [Int32] = []
            tokens.reserveCapacity(prefixCount * length)
            for prefix in 0..<prefixCount {
                tokens += prompt
                var rest = prefix, symbols: [Int32] = []
                for _ in 0..<(L - 1) { symbols.insert(vocabulary.nameSymbol(rest % a), at: 0); rest /= a }
                tokens += symbols
            }
            let logits = model.forward(tokens: tokens, batch: prefixCount, length: length).pointer
            // log-softmax of row (sequence, position) at token t
            func logProbabilities(sequence: Int, position: Int) -> [Double] {
                let row = logits + (sequence * length + position) * v
                var m = -Float.infinity
                for t in 0..<v { m = max(m, row[t]) }
                var sum = 0.0
                for t in 0..<v { sum += Double(expf(row[t] - m)) }
                let shift = Double(m) + log(sum)
                return (0..<v).map { Double(row[$0]) - shift }
            }
            // The sequence whose prefix is a name's first L-1 symbols.
            func sequence(_ name: [Int]) -> Int { name.dropLast().reduce(0) { $0 * a + $1 } }
            var cache: [Int: [Double]] = [:]
            func logP(_ name: [Int], _ i: Int) -> Double {
                let s = sequence(name), key = s * L + i
                if cache[key] == nil { cache[key] = logProbabilities(sequence: s, position: promptLength - 1 + i) }
                return cache[key]![Int(vocabulary.nameSymbol(name[i]))]
            }
            scores.append(renderer.names.map { name in (0..<L).reduce(0.0) { $0 + logP(name, $1) } })
            // Greedy: the arg-max token over the whole vocabulary at each step.
            var path: [Int] = []
            for i in 0..<L {
                let s = sequence(path + [Int](repeating: 0, count: L - path.count))
                let row = logits + (s * length + promptLength - 1 + i) * v
                let best = (0..<v).max { row[$0] < row[$1] }!
                guard vocabulary.isNameSymbol(Int32(best)) else { break }
                path.append(best - Int(vocabulary.firstName))
            }
            greedy.append(path)
        }
        return (scores, greedy)
    }
}
