// One seed's instance of the protocol: entities, variables, tags, subsets, held-out attributes,
// the training sets of both stages and the evaluation sets. Every draw comes from a stream of
// the seed named after its purpose, so a modality's variable/tag alphabet never changes the
// entities, subsets or held-out attributes: text and vision share them for the same seed.

import IMLBase

public struct Entity: Equatable, Sendable {
    public var id: Int
    /// The entity's facts: T classes in 0..<C.
    public var attributes: [Int]
    /// The entity's alias as a symbol sequence (rendered by a modality).
    public var variable: [Int]
    public var subset: Subset
    /// What its definition states (own attributes when consistent); nil when never defined.
    public var definedAttributes: [Int]?
    /// The entity whose facts its definition states (itself when consistent); nil when never defined.
    public var definedEntity: Int?
    /// Attributes held out of training questions and asked in evaluation (stage-1 subsets).
    public var heldOut: [Int]
}

public struct ProtocolInstance: Sendable {
    public let config: ProtocolConfig
    public let variableSpec: SymbolSpec
    public let tagSpec: SymbolSpec
    public let entities: [Entity]
    /// tags[0], tags[1], tags[2] are tags 1, 2, 3; tags[3...] the qd4consis definitions' own (4, 5, ...).
    public let tags: [[Int]]
    public let stage1Train: [Example]
    public let stage2Train: [Example]
    public let stage1Eval: [EvalSet]
    public let stage2Eval: [EvalSet]

    /// Entities of each subset, in id order.
    public func members(_ s: Subset) -> [Int] { entities.filter { $0.subset == s }.map(\.id) }
    public func tag(_ number: Int) -> [Int] { tags[number - 1] }

    public func trainingSet(stage: Int) -> [Example] { stage == 1 ? stage1Train : stage2Train }

    /// The examples of `stage` that `epoch` (1-based) trains on, as indices into
    /// `trainingSet(stage:)` in ascending order, or nil for all of them. Under definitions-first,
    /// stage 1's first `definitionsFirst` epochs train its definitions and the later ones its
    /// questions; knowledge, where there is any, is trained in both.
    public func trainedExamples(stage: Int, epoch: Int) -> [Int]? {
        guard stage == 1, config.definitionsFirst > 0 else { return nil }
        let kind: ExampleKind = epoch <= config.definitionsFirst ? .definition : .question
        return stage1Train.indices.filter { stage1Train[$0].kind == kind || stage1Train[$0].kind == .knowledge }
    }
    public func evaluationSets(stage: Int) -> [EvalSet] { stage == 1 ? stage1Eval : stage2Eval }

    /// With `knowledge`, stage 1 also trains every entity's facts under its own name (one
    /// knowledge example per entity), which a design whose definitions name an entity needs.
    public init(config: ProtocolConfig, variableSpec: SymbolSpec, tagSpec: SymbolSpec,
                forbiddenTags: [[Int]] = [], knowledge: Bool = false) throws {
        try config.validate()
        let E = config.entities, T = config.attributes, C = config.classes, seed = config.seed
        if let distinct = variableSpec.distinctCount, distinct < E {
            throw IMLError("\(E) entities need \(E) distinct variables, but variables of \(variableSpec.length) symbol\(variableSpec.length == 1 ? "" : "s") from an alphabet of \(variableSpec.alphabet) give only \(variableSpec.distinctCount ?? 0); use longer variables (a larger grid) or fewer entities.")
        }
        self.config = config
        self.variableSpec = variableSpec
        self.tagSpec = tagSpec

        // Facts.
        var attributeRNG = SeededRandom(seed: seed, stream: "attributes")
        let attributes: [[Int]] = (0..<E).map { _ in (0..<T).map { _ in attributeRNG.int(below: C) } }

        // Variables: unique random symbol sequences.
        var variableRNG = SeededRandom(seed: seed, stream: "variables/\(variableSpec.alphabet)/\(variableSpec.length)")
        var seen = Set<[Int]>()
        var variables: [[Int]] = []
        variables.reserveCapacity(E)
        while variables.count < E {
            let v = (0..<variableSpec.length).map { _ in variableRNG.int(below: variableSpec.alphabet) }
            if seen.insert(v).inserted { variables.append(v) }
        }

        // Tags: three distinct sequences, none forbidden (e.g. the blank strip) and, when tags and
        // variables share an alphabet, none equal to a variable.
        var tagRNG = SeededRandom(seed: seed, stream: "tags/\(tagSpec.alphabet)/\(tagSpec.length)")
        var tagSet = Set(forbiddenTags)
        if tagSpec == variableSpec { tagSet.formUnion(variables) }
        let available = (tagSpec.distinctCount ?? Int.max) - tagSet.count
        guard available >= 3 else {
            throw IMLError("Three distinct tags are needed, but tags of \(tagSpec.length) symbols from \(tagSpec.alphabet) allow only \(max(0, available)); use longer tags.")
        }
        // Tags 1-3, then one of its own for every qd4consis definition (tags 4, 5, ...).
        let ownTags = config.stage1Counts.first { $0.0 == .qd4consis }?.1 ?? 0
        guard available >= 3 + ownTags else {
            throw IMLError("--qd4consis-fraction gives \(ownTags) definitions a tag of their own, so \(3 + ownTags) distinct tags are needed, but tags of \(tagSpec.length) symbols from \(tagSpec.alphabet) allow only \(max(0, available)); lower --qd4consis-fraction or use longer tags.")
        }
        var tags: [[Int]] = []
        while tags.count < 3 + ownTags {
            let t = (0..<tagSpec.length).map { _ in tagRNG.int(below: tagSpec.alphabet) }
            if tagSet.insert(t).inserted { tags.append(t) }
        }
        self.tags = tags

        // Subsets: stage-1 groups from `seed`, the stage-2 pool split from `seedStage2`.
        var subsetRNG = SeededRandom(seed: seed, stream: "subsets")
        let order = subsetRNG.permutation(E)
        var subsetOf = [Subset](repeating: .no_qd_baseline, count: E)
        var cursor = 0
        for (s, n) in config.stage1Counts {
            for i in cursor..<(cursor + n) { subsetOf[order[i]] = s }
            cursor += n
        }
        var pool = Array(order[cursor...])
        var splitRNG = SeededRandom(seed: config.effectiveSeedStage2, stream: "stage2-split")
        splitRNG.shuffle(&pool)
        let weightSum = config.stage2Weights.reduce(0, +)
        var poolCursor = 0
        for (i, s) in [Subset.d1consis, .d2consis, .d3consis].enumerated() {
            let n = min(pool.count - poolCursor, Int((Double(pool.count) * config.stage2Weights[i] / weightSum).rounded()))
            for e in pool[poolCursor..<(poolCursor + n)] { subsetOf[e] = s }
            poolCursor += n
        }
        // the rest of the pool stays no_qd_baseline

        // Inconsistent definitions state the facts of another entity of the same subset.
        var definitionRNG = SeededRandom(seed: seed, stream: "derangement")
        var definedEntity = [Int?](repeating: nil, count: E)
        for e in 0..<E where subsetOf[e].tag != nil && subsetOf[e].isConsistent { definedEntity[e] = e }
        for s in [Subset.qd1incons, .qd2incons] {
            let group = (0..<E).filter { subsetOf[$0] == s }
            guard !group.isEmpty else { continue }
            // config.validate() refused a group of one (it has no derangement).
            let sigma = Self.derangement(group.count, &definitionRNG)
            for (i, e) in group.enumerated() { definedEntity[e] = group[sigma[i]] }
        }

        // Held-out attributes of every stage-1 variable with questions.
        var heldOutRNG = SeededRandom(seed: seed, stream: "held-out")
        var heldOut = [[Int]](repeating: [], count: E)
        // qd4consis's draws come last, so that giving it leaves every other entity's as it was.
        let withQuestions = (0..<E).filter { subsetOf[$0].hasTrainingQuestions }
        for e in withQuestions.filter({ subsetOf[$0] != .qd4consis }) + withQuestions.filter({ subsetOf[$0] == .qd4consis }) {
            heldOut[e] = Array(heldOutRNG.permutation(T).prefix(config.heldOutCount)).sorted()
        }

        let entities = (0..<E).map {
            Entity(id: $0, attributes: attributes[$0], variable: variables[$0], subset: subsetOf[$0],
                   definedAttributes: definedEntity[$0].map { attributes[$0] }, definedEntity: definedEntity[$0], heldOut: heldOut[$0])
        }

        self.entities = entities

        // Training sets, in entity order (the trainer shuffles them every epoch). The k-th
        // qd4consis entity's definition carries tag 4 + k.
        let ownTag = Dictionary(uniqueKeysWithValues: entities.filter { $0.subset == .qd4consis }.enumerated().map { ($1.id, 4 + $0) })
        func definition(_ e: Entity) -> Example {
            Example(entity: e.id, kind: .definition, tag: ownTag[e.id] ?? e.subset.tag,
                    targets: e.definedAttributes!.map(Int32.init), subset: e.subset)
        }
        var stage1: [Example] = []
        for e in entities where e.subset.stage == 1 && e.subset.tag != nil { stage1.append(definition(e)) }
        for e in entities where e.subset.hasTrainingQuestions {
            for k in 0..<T where !e.heldOut.contains(k) {
                var targets = [Int32](repeating: -1, count: T)
                targets[k] = Int32(e.attributes[k])
                stage1.append(Example(entity: e.id, kind: .question, tag: nil, targets: targets, subset: e.subset))
            }
        }
        if knowledge {
            for e in entities {
                stage1.append(Example(entity: e.id, kind: .knowledge, tag: nil, targets: e.attributes.map(Int32.init), subset: e.subset))
            }
        }
        let stage2 = entities.filter { $0.subset.stage == 2 && $0.subset.tag != nil }.map(definition)
        // One-stage setting: everything is trained at once.
        stage1Train = config.stages == 1 ? stage1 + stage2 : stage1
        stage2Train = config.stages == 1 ? [] : stage2

        // Evaluation: held-out attributes of stage-1 subsets, every attribute of stage-2 subsets.
        func evalSet(_ s: Subset) -> EvalSet {
            var qs: [EvalQuestion] = []
            for e in entities where e.subset == s {
                let asked = s.stage == 1 ? e.heldOut : Array(0..<T)
                for k in asked {
                    qs.append(EvalQuestion(entity: e.id, attribute: k, answer: e.attributes[k],
                                           definedAnswer: e.definedAttributes?[k]))
                }
            }
            return EvalSet(subset: s, questions: qs)
        }
        // d2incons: each pair of d2consis entities (in id order) asked with each other's variable.
        func swappedPairs() -> EvalSet {
            let members = entities.filter { $0.subset == .d2consis }
            var qs: [EvalQuestion] = []
            for pair in stride(from: 0, to: members.count - 1, by: 2) {
                let a = members[pair], b = members[pair + 1]
                for (asked, answered) in [(b, a), (a, b)] {
                    for k in 0..<T { qs.append(EvalQuestion(entity: asked.id, attribute: k, answer: answered.attributes[k], definedAnswer: nil)) }
                }
            }
            return EvalSet(subset: .d2incons, questions: qs)
        }
        var present = Set(subsetOf)
        if config.d2incons && subsetOf.filter({ $0 == .d2consis }).count >= 2 { present.insert(.d2incons) }
        let stage2Subsets: [Subset] = [.d1consis, .d2consis, .d2incons, .d3consis, .no_qd_baseline]
        let set = { (s: Subset) in s == .d2incons ? swappedPairs() : evalSet(s) }
        stage1Eval = Subset.allCases.filter { present.contains($0) }.map(set)
        stage2Eval = config.stages == 1 ? [] : stage2Subsets.filter { present.contains($0) }.map(set)
    }

    /// A uniformly random permutation without fixed points (rejection sampling; the acceptance
    /// probability tends to 1/e, so a few tries on average). Needs n >= 2.
    static func derangement(_ n: Int, _ rng: inout SeededRandom) -> [Int] {
        while true {
            let p = rng.permutation(n)
            if !p.enumerated().contains(where: { $0.offset == $0.element }) { return p }
        }
    }
}
