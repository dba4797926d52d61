// A sweep: the same run repeated for several values of one setting (alpha or batch size, the
// paper's figures 4a and 4c), one run directory per value, then sweep.png and sweep.md.

import Foundation
import IMLBase
import IMLProtocol
import IMLReport

public enum SweepParameter: String, CaseIterable {
    case alpha
    case batchSize = "batch-size"

    public var option: String { "--" + rawValue }

    /// Checks one value; integers for batch sizes.
    func validate(_ v: Double) throws {
        switch self {
        case .alpha:
            if !(v >= 0 && v <= 1) { throw IMLError("--alpha values must lie in [0, 1] (got \(JSON.format(v))).") }
        case .batchSize:
            if !(v >= 1 && v == v.rounded() && v <= 1_000_000) { throw IMLError("--batch-size values must be positive integers (got \(JSON.format(v))).") }
        }
    }
}

public struct SweepPlan: Equatable {
    public var parameter: SweepParameter
    public var values: [Double]
    /// The arguments shared by every run of the sweep (everything but the swept option and --out).
    public var sharedArguments: [String]

    /// Finds the one swept option in `arguments` ("--alpha 0.5,1" or "--alpha=0.5,1"), parses its
    /// comma-separated values and keeps the other arguments for the runs.
    public static func parse(_ arguments: [String]) throws -> (plan: SweepPlan, out: String?) {
        var found: [(SweepParameter, String)] = []
        var rest: [String] = []
        var out: String?
        var i = 0
        func value(after name: String) throws -> String {
            guard i + 1 < arguments.count else { throw IMLError("\(name) needs a value.") }
            i += 1
            return arguments[i]
        }
        while i < arguments.count {
            let a = arguments[i]
            let (name, inline) = a.hasPrefix("--") && a.contains("=")
                ? (String(a[..<a.firstIndex(of: "=")!]), String(a[a.index(after: a.firstIndex(of: "=")!)...]))
                : (a, nil)
            if let p = SweepParameter.allCases.first(where: { $0.option == name }) {
                found.append((p, try inline ?? value(after: name)))
            } else if name == "--out" {
                out = try inline ?? value(after: name)
            } else {
                rest.append(a)
            }
            i += 1
        }
        guard found.count == 1 else {
            throw IMLError(found.isEmpty
                ? "A sweep needs the values of one setting, e.g. --alpha 0.5,0.75,0.9,1 or --batch-size 8,16,32,64,128,256."
                : "A sweep varies one setting at a time, but \(found.map { $0.0.option }.joined(separator: " and ")) were both given; sweep them separately.")
        }
        let (parameter, list) = found[0]
        let items = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Double] = []
        for item in items {
            guard let v = Double(item), v.isFinite else {
                throw IMLError("\(parameter.option) takes a comma-separated list of numbers, and \"\(item)\" is not one.")
            }
            try parameter.validate(v)
            if values.contains(v) { throw IMLError("\(parameter.option) lists \(item) twice; give each value once.") }
            values.append(v)
        }
        return (SweepPlan(parameter: parameter, values: values, sharedArguments: rest), out)
    }

    public func directoryName(_ v: Double) -> String { "\(parameter.rawValue)=\(JSON.format(v))" }

    /// The arguments of the run for value `v`, writing into `directory`.
    public func runArguments(_ v: Double, directory: String) -> [String] {
        sharedArguments + [parameter.option, JSON.format(v), "--out", directory]
    }
}

/// sweep.png and sweep.md from the finished runs of a sweep.
public enum SweepReport {
    public struct Point {
        public var value: Double
        public var directory: String
        public var summary: RunSummary
        public init(value: Double, directory: String, summary: RunSummary) {
            self.value = value; self.directory = directory; self.summary = summary
        }
    }

    static let finals = ["d1consis", "d2consis", "d3consis"]

    /// `modalityTitle` as the runs' config.json gives it (e.g. "MNIST").
    public static func write(points: [Point], parameter: SweepParameter, modalityTitle: String, settings: String, to directory: URL) throws {
        let sorted = points.sorted { $0.value < $1.value }
        let xs = sorted.map(\.value)
        func series(_ name: String, _ color: Color, _ pick: (RunSummary) -> SeedSummary?) -> PlotSeries {
            let s = sorted.map { pick($0.summary) }
            return PlotSeries(name: name, color: color, x: xs, y: s.map { $0?.mean ?? .nan },
                              lower: s.map { ($0?.mean ?? .nan) - ($0?.ci95 ?? 0) }, upper: s.map { ($0?.mean ?? .nan) + ($0?.ci95 ?? 0) })
        }
        let isBatch = parameter == .batchSize
        let ticks = xs.map { AxisTick(value: $0, label: JSON.format($0)) }
        let xLabel = isBatch ? "batch size" : "alpha (tag/consistency correlation)"
        let effect = PlotPanel(title: "IML effect d1consis - d2consis after stage 2", xLabel: xLabel, yLabel: "EM difference",
                               series: [series("IML effect", Color(hex: 0x9467BD)) { $0.imlEffect }],
                               yRange: -0.2...0.8, referenceLines: [ReferenceLine(y: 0, label: "no effect")],
                               style: .pointsWithErrorBars, xScale: isBatch ? .log2 : .linear, xTicks: ticks)
        let finalsPanel = PlotPanel(title: "Final exact match after stage 2", xLabel: xLabel, yLabel: "exact match",
                                    series: finals.map { name in series(name, CurvesFigure.color(name)) { $0.value(stage: 2, subset: name) } },
                                    yRange: 0...1, style: .pointsWithErrorBars, xScale: isBatch ? .log2 : .linear, xTicks: ticks)
        let title = "\(modalityTitle): IML against \(isBatch ? "batch size" : "alpha")"
        try Figure.render(title: title, subtitle: settings, panels: [effect, finalsPanel]).writePNG(to: directory.appendingPathComponent("sweep.png"))
        try AtomicFile.write(markdown(sorted, parameter: parameter, title: title, settings: settings), to: directory.appendingPathComponent("sweep.md"))
    }

    static func cell(_ s: SeedSummary?) -> String {
        guard let s, s.mean.isFinite else { return "—" }
        return s.ci95.isFinite ? String(format: "%.3f ± %.3f", s.mean, s.ci95) : String(format: "%.3f", s.mean)
    }

    static func markdown(_ points: [Point], parameter: SweepParameter, title: String, settings: String) -> String {
        (["# \(title)", "", settings, ""] + table(points, parameter: parameter) + ["", "± is the half-width of the 95% Student-t interval over seeds."])
            .joined(separator: "\n") + "\n"
    }

    /// The sweep's table alone: final exact match after stage 2 and the IML effect per value.
    public static func table(_ points: [Point], parameter: SweepParameter) -> [String] {
        var lines = ["| \(parameter.rawValue) | seeds | d1consis | d3consis | d2consis | no_qd_baseline | IML effect (d1 − d2) | run |",
                     "|---|---|---|---|---|---|---|---|"]
        for p in points {
            let s = p.summary
            lines.append("| \(JSON.format(p.value)) | \(s.seeds.count) | \(cell(s.value(stage: 2, subset: "d1consis"))) | \(cell(s.value(stage: 2, subset: "d3consis"))) | \(cell(s.value(stage: 2, subset: "d2consis"))) | \(cell(s.value(stage: 2, subset: "no_qd_baseline"))) | \(cell(s.imlEffect)) | \(URL(fileURLWithPath: p.directory).lastPathComponent) |")
        }
        return lines
    }
}
