// Per-subset exact-match curves over epochs, averaged over seeds with 95% bands: the data behind
// curves.png and the comparison figures.

import IMLProtocol

public struct Curve: Equatable {
    public var subset: String
    public var epochs: [Int]
    public var mean: [Double]
    public var lower: [Double]
    public var upper: [Double]
}

public enum Curves {
    /// One curve per subset of `stage`, in the order the records first name them.
    public static func curves(records: [MetricRecord], stage: Int) -> [Curve] {
        var values: [String: [Int: [Double]]] = [:]
        var order: [String] = []
        for case let .exactMatch(_, s, epoch, subset, em, _) in records where s == stage {
            if values[subset] == nil { order.append(subset) }
            values[subset, default: [:]][epoch, default: []].append(em)
        }
        return order.map { subset in
            let byEpoch = values[subset]!
            let epochs = byEpoch.keys.sorted()
            let summaries = epochs.map { SeedSummary(byEpoch[$0]!) }
            return Curve(subset: subset, epochs: epochs, mean: summaries.map(\.mean),
                         lower: summaries.map { $0.ci95.isFinite ? $0.mean - $0.ci95 : $0.mean },
                         upper: summaries.map { $0.ci95.isFinite ? $0.mean + $0.ci95 : $0.mean })
        }
    }
}
