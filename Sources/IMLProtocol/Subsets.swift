// The subsets of entities (docs/PROTOCOL.md section 2) and the abstract examples built from them.

public enum Subset: String, CaseIterable, Codable, Sendable, Comparable {
    // stage 1: definitions (with tag 1 or 2) and questions
    case qd1consis, qd1incons, qd2consis, qd2incons
    // stage 1: consistent definitions, each with a tag of its own, and questions (the authors' control)
    case qd4consis
    // stage 1: questions only
    case q
    // stage 2: definitions only; the baseline is never defined and never asked
    case d1consis, d2consis
    /// Evaluation only: d2consis's questions asked with the variables swapped in pairs (the authors' control).
    case d2incons
    case d3consis, no_qd_baseline

    /// The tag of this subset's definitions, nil when it has none; 4 stands for "a tag of its own"
    /// (each qd4consis definition carries tag 4, 5, ...).
    public var tag: Int? {
        switch self {
        case .qd1consis, .qd1incons, .d1consis: return 1
        case .qd2consis, .qd2incons, .d2consis: return 2
        case .d3consis: return 3
        case .qd4consis: return 4
        case .q, .no_qd_baseline, .d2incons: return nil
        }
    }
    public var isConsistent: Bool { self != .qd1incons && self != .qd2incons }
    /// Subsets whose questions (all but held-out attributes) are trained on in stage 1.
    public var hasTrainingQuestions: Bool { stage == 1 }
    public var stage: Int {
        switch self {
        case .qd1consis, .qd1incons, .qd2consis, .qd2incons, .qd4consis, .q: return 1
        default: return 2
        }
    }
    public static func < (a: Subset, b: Subset) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A definition (tagged), a question (one attribute), or knowledge: an entity's facts under its
/// own name, for designs whose definitions name an entity instead of stating its facts.
public enum ExampleKind: String, Codable, Sendable { case definition, question, knowledge }

/// One training example, independent of how it is rendered.
/// `targets` has T entries; a negative entry is not supervised (a question supervises one).
public struct Example: Equatable, Sendable {
    public var entity: Int
    public var kind: ExampleKind
    /// 1, 2 or 3 for definitions; nil for questions and knowledge (they carry no tag).
    public var tag: Int?
    public var targets: [Int32]
    public var subset: Subset

    public init(entity: Int, kind: ExampleKind, tag: Int?, targets: [Int32], subset: Subset) {
        self.entity = entity; self.kind = kind; self.tag = tag; self.targets = targets; self.subset = subset
    }

    /// The attribute a question asks (its only supervised head).
    public var askedAttribute: Int? {
        kind == .question ? targets.firstIndex(where: { $0 >= 0 }) : nil
    }
}

/// One evaluation question: the entity's variable without a tag, asking attribute `attribute`.
public struct EvalQuestion: Equatable, Sendable {
    public var entity: Int
    public var attribute: Int
    /// The entity's true attribute value.
    public var answer: Int
    /// What the entity's definition stated (differs from `answer` for inconsistent definitions).
    public var definedAnswer: Int?
}

public struct EvalSet: Sendable {
    public var subset: Subset
    public var questions: [EvalQuestion]
}
