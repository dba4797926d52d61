// Settings of one instance of the two-stage protocol (docs/PROTOCOL.md section 2), modality-agnostic.

import Foundation
import IMLBase

public struct ProtocolConfig: Codable, Equatable, Sendable {
    /// Number of entities E.
    public var entities: Int = 1000
    /// Attributes per entity T (one output head each).
    public var attributes: Int = 6
    /// Classes per attribute C (chance level is 1/C).
    public var classes: Int = 10
    /// Fraction of entities whose stage-1 definition carries tag 1 (`qd1consis` at alpha = 1).
    public var tag1Fraction: Double = 0.30
    /// Fraction of entities whose stage-1 definition carries tag 2 (`qd2incons` at alpha = 1).
    public var tag2Fraction: Double = 0.30
    /// Fraction of entities with questions only, no definition (`q`).
    public var questionOnlyFraction: Double = 0.10
    /// Fraction of entities with questions and a consistent stage-1 definition whose tag no other
    /// definition carries (`qd4consis`, the authors' control for tags that predict nothing); 0: none.
    public var qd4consisFraction: Double = 0
    /// Also evaluate `d2incons`: d2consis's questions asked with the variables swapped in pairs
    /// (the authors' control; the answers are those of the other entity of the pair).
    public var d2incons = false
    /// Weights splitting the remaining entities into d1consis : d2consis : d3consis : no_qd_baseline.
    public var stage2Weights: [Double] = [1, 1, 1, 0.75]
    /// Tag/consistency correlation: a fraction alpha of tag-1 definitions are consistent and a
    /// fraction alpha of tag-2 definitions inconsistent (the rest the other way round).
    public var alpha: Double = 1
    /// Attributes held out for evaluation per stage-1 variable with questions; nil = round(T/6), at least 1.
    public var heldOutPerVariable: Int? = nil
    /// Seed of everything: entities, variables, tags, subsets, held-out attributes.
    public var seed: UInt64 = 0
    /// Reshuffles only the split of the stage-2 pool into d1/d2/d3/baseline; nil = `seed`.
    public var seedStage2: UInt64? = nil
    /// 2: the two-stage protocol. 1: the paper's one-stage setting — a single stage trains on
    /// both stages' training sets together and evaluates every subset.
    public var stages: Int = 2
    /// Stage 1 trains on its definitions alone for its first this many epochs, then on its
    /// questions alone (the authors' definitions-first schedule); 0: both together every epoch.
    public var definitionsFirst: Int = 0

    public init() {}

    public var heldOutCount: Int { heldOutPerVariable ?? max(1, Int((Double(attributes) / 6).rounded())) }

    /// Entities in each stage-1 group (ProtocolInstance assigns them in this order); the rest
    /// form the stage-2 pool.
    public var stage1Counts: [(Subset, Int)] {
        let E = Double(entities)
        let n1 = Int((tag1Fraction * E).rounded()), n2 = Int((tag2Fraction * E).rounded())
        let nq = min(entities - n1 - n2, Int((questionOnlyFraction * E).rounded()))
        let n4 = min(entities - n1 - n2 - nq, Int((qd4consisFraction * E).rounded()))
        let n1consistent = Int((alpha * Double(n1)).rounded()), n2inconsistent = Int((alpha * Double(n2)).rounded())
        // qd4consis last, so that giving it leaves the other groups' members as they were.
        return [(.qd1consis, n1consistent), (.qd1incons, n1 - n1consistent),
                (.qd2incons, n2inconsistent), (.qd2consis, n2 - n2inconsistent), (.q, nq), (.qd4consis, n4)]
    }
    public var effectiveSeedStage2: UInt64 { seedStage2 ?? seed }

    /// Throws an IMLError naming the first impossible setting and how to fix it.
    public func validate() throws {
        func fail(_ s: String) throws { throw IMLError(s) }
        if entities < 1 { try fail("--entities must be at least 1 (got \(entities)).") }
        if attributes < 2 { try fail("--attributes must be at least 2, one to ask and one to train on (got \(attributes)).") }
        if classes < 2 { try fail("--classes must be at least 2 (got \(classes)).") }
        for (name, f) in [("--tag1-fraction", tag1Fraction), ("--tag2-fraction", tag2Fraction),
                          ("--question-only-fraction", questionOnlyFraction), ("--qd4consis-fraction", qd4consisFraction)] where !(f >= 0 && f <= 1) {
            try fail("\(name) must lie in [0, 1] (got \(f)).")
        }
        let stage1 = tag1Fraction + tag2Fraction + questionOnlyFraction + qd4consisFraction
        if stage1 > 1 + 1e-9 {
            let named = qd4consisFraction > 0 ? "--tag1-fraction, --tag2-fraction, --question-only-fraction and --qd4consis-fraction"
                                              : "--tag1-fraction, --tag2-fraction and --question-only-fraction"
            try fail("\(named) sum to \(String(format: "%g", stage1)), over 1; lower them so that their sum is at most 1.")
        }
        // Seeds are written to config.json and metrics.jsonl as JSON integers.
        if let s = seedStage2, s > UInt64(Int.max) { try fail("--seed-stage2 must be at most \(Int.max) (got \(s)).") }
        if stage2Weights.count != 4 || stage2Weights.contains(where: { !($0 >= 0 && $0.isFinite) })
            || stage2Weights.reduce(0, +) <= 0 {
            try fail("The stage-2 split needs four non-negative weights (d1, d2, d3, baseline) with a positive sum (got \(stage2Weights)).")
        }
        if stages != 1 && stages != 2 { try fail("--stages must be 1 (one stage on both training sets) or 2 (got \(stages)).") }
        if !(alpha >= 0 && alpha <= 1) { try fail("--alpha must lie in [0, 1] (got \(alpha)).") }
        if definitionsFirst < 0 { try fail("--definitions-first must be a number of epochs, 0 or more (got \(definitionsFirst)).") }
        if definitionsFirst > 0 && tag1Fraction + tag2Fraction == 0 {
            try fail("--definitions-first \(definitionsFirst) trains stage 1's definitions first, but --tag1-fraction and --tag2-fraction are both 0, so stage 1 has none; leave --definitions-first out or give a tag fraction above 0.")
        }
        for (subset, n) in stage1Counts where !subset.isConsistent && n == 1 {
            try fail("The subset \(subset.rawValue) would hold a single entity, so its definition cannot state another entity's facts; use more entities or an alpha that gives it none or at least two.")
        }
        let pool = entities - stage1Counts.reduce(0) { $0 + $1.1 }
        if stages == 2 && pool < 1 {
            try fail("--tag1-fraction, --tag2-fraction and --question-only-fraction leave no entity of the \(entities) for stage 2, so there would be nothing to measure the IML effect on; lower them so that their sum is below 1.")
        }
        if heldOutCount < 1 || heldOutCount >= attributes {
            try fail("Held-out attributes per variable must be between 1 and T-1 = \(attributes - 1) (got \(heldOutCount)).")
        }
    }
}

/// How a modality draws variables and tags: sequences of `length` symbols from `0..<alphabet`
/// (vision: G x G digit classes for variables, strip bits for tags; text: letters).
public struct SymbolSpec: Codable, Equatable, Sendable {
    public var alphabet: Int
    public var length: Int
    public init(alphabet: Int, length: Int) { self.alphabet = alphabet; self.length = length }

    /// alphabet^length, or nil when it exceeds Int.max.
    public var distinctCount: Int? {
        var n = 1
        for _ in 0..<length {
            let (r, o) = n.multipliedReportingOverflow(by: alphabet)
            if o { return nil }
            n = r
        }
        return n
    }
}
