// A sweep: the same run repeated for several values of one run option, one run directory per
// value, then sweep.png and sweep.md. `--alpha LIST` and `--batch-size LIST` are the paper's
// figures 4a and 4c; `--set OPTION=v1,v2,...` sweeps any option of `run` that takes a value.
// Which options `run` has is the tool's business: it checks them with `parse(_:checkOption:)`.

import Foundation
import IMLBase
import IMLProtocol
import IMLReport

/// The swept option, named as on the command line without its dashes ("alpha", "order").
public struct SweepParameter: Hashable, Sendable {
    public var name: String
    /// The axis label when the parameter is not a run option (a number config.json records).
    public var label: String?
    public init(_ name: String, label: String? = nil) { self.name = name; self.label = label }

    public static let alpha = SweepParameter("alpha")
    public static let batchSize = SweepParameter("batch-size")
    /// The options that take a list of values themselves (`--alpha 0.5,1`), checked as numbers here.
    public static let listOptions = [alpha, batchSize]

    public var option: String { "--" + name }

    /// The whole sweep as a shell command, as sweep.md and sweep.png state it: "mnist-iml sweep
    /// --alpha 0.5,1 --seeds 5" (`shared`: the options every run got, without where it ran).
    public func sweepCommand(tool: String, values: [SweepValue], shared: [String]) -> String {
        ([tool, "sweep", commandLine(values)] + shared.map(shellWord)).joined(separator: " ")
    }

    /// The sweep as a command line writes it: "--alpha 0.5,1" or "--set order=vte,tve".
    public func commandLine(_ values: [SweepValue]) -> String {
        if Self.listOptions.contains(self) { return "\(option) \(values.map(\.text).joined(separator: ","))" }
        // Values that are lists themselves are separated by ";", which the shell needs quoted.
        if values.contains(where: { $0.text.contains(",") }) { return "--set '\(name)=\(values.map(\.text).joined(separator: ";"))'" }
        return "--set \(name)=\(values.map(\.text).joined(separator: ","))"
    }

    /// Axis label and figure title of the sweep.
    var axisLabel: String {
        if let label { return label }
        switch self {
        case .alpha: return "alpha (tag/consistency correlation)"
        case .batchSize: return "batch size"
        default:
            // Words, not the option: "--embedding-std" reads "embedding std".
            let words = name.replacingOccurrences(of: "-", with: " ")
            return Self.wordedAxes[name] ?? words
        }
    }
    /// Options whose name alone would not say what the axis shows.
    static let wordedAxes = ["order": "definition word order (v variable, t tag, e statement)", "lr": "learning rate",
                             "width": "model width", "layers": "transformer layers"]
    var title: String { label ?? (self == .batchSize ? "batch size" : name) }

    /// Checks one value of a list option; integers for batch sizes.
    func validate(_ v: Double) throws {
        switch self {
        case .alpha:
            if !(v >= 0 && v <= 1) { throw IMLError("--alpha values must lie in [0, 1] (got \(JSON.format(v))).") }
        case .batchSize:
            if !(v >= 1 && v == v.rounded() && v <= 1_000_000) { throw IMLError("--batch-size values must be positive integers (got \(JSON.format(v))).") }
        default:
            break
        }
    }
}

/// One value of a sweep: the text its run is given, and the number it is, if it is one (numeric
/// sweeps are ordered and plotted by number, the others as categories in the order given).
public struct SweepValue: Hashable, Sendable, CustomStringConvertible, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    public var text: String
    public init(_ text: String) { self.text = text }
    public init(floatLiteral value: Double) { text = JSON.format(value) }
    public init(integerLiteral value: Int) { text = String(value) }

    public var number: Double? { Double(text).flatMap { $0.isFinite ? $0 : nil } }
    public var description: String { text }
}

public struct SweepPlan: Equatable {
    public var parameter: SweepParameter
    public var values: [SweepValue]
    /// The arguments shared by every run of the sweep (everything but the swept option and --out).
    public var sharedArguments: [String]

    /// Finds the swept option in `arguments` and keeps the other arguments for the runs: either
    /// `--set OPTION=v1,v2,...` (values separated by `;` instead when a value is itself a list),
    /// or, without --set, one of `--alpha LIST` and `--batch-size LIST`. Beside --set or another
    /// list, a single --alpha or --batch-size value is an ordinary run option. `checkOption` refuses an option
    /// name given to --set that the tool's `run` cannot sweep, before its values are read.
    public static func parse(_ arguments: [String], checkOption: (String) throws -> Void = { _ in }) throws -> (plan: SweepPlan, out: String?) {
        var sets: [String] = []
        // A list option as given: its value, its tokens, and where they stood among the other arguments.
        var lists: [(parameter: SweepParameter, value: String, tokens: [String], position: Int)] = []
        var rest: [String] = []
        var out: String?
        var i = 0
        func value(after name: String) throws -> String {
            guard i + 1 < arguments.count else { throw IMLError("\(name) needs a value.") }
            i += 1
            return arguments[i]
        }
        while i < arguments.count {
            let a = arguments[i], start = i
            let (name, inline) = a.hasPrefix("--") && a.contains("=")
                ? (String(a[..<a.firstIndex(of: "=")!]), String(a[a.index(after: a.firstIndex(of: "=")!)...]))
                : (a, nil)
            if let p = SweepParameter.listOptions.first(where: { $0.option == name }) {
                let list = try inline ?? value(after: name)
                lists.append((p, list, Array(arguments[start...i]), rest.count))
            } else if name == "--set" {
                sets.append(try inline ?? value(after: name))
            } else if name == "--out" {
                out = try inline ?? value(after: name)
            } else {
                rest.append(a)
            }
            i += 1
        }
        for (i, list) in lists.enumerated() {
            if let again = lists[(i + 1)...].first(where: { $0.parameter == list.parameter }) {
                throw IMLError("\(list.parameter.option) was given twice (\(list.value) and \(again.value)); give it once.")
            }
        }
        guard !sets.isEmpty else {
            guard !lists.isEmpty else {
                throw IMLError("A sweep needs the values of one setting, e.g. --alpha 0.5,0.75,0.9,1, --batch-size 8,16,32,64,128,256 or --set lr=0.001,0.0003.")
            }
            // Beside a list of several values, a single --alpha or --batch-size is an ordinary run option.
            let swept = lists.count == 1 ? lists : lists.filter { $0.value.contains(",") }
            guard swept.count == 1 else {
                let given = lists.map { "\($0.parameter.option) \($0.value)" }.joined(separator: " and ")
                throw IMLError(swept.isEmpty
                    ? "\(given) each give one value, so there is nothing to sweep; give the setting to sweep several values, e.g. --alpha 0.5,0.75,0.9,1."
                    : "\(given) both give values to sweep, but a sweep varies one setting at a time; sweep them separately, or give one of them a single value.")
            }
            for list in lists.reversed() where list.parameter != swept[0].parameter {
                rest.insert(contentsOf: list.tokens, at: list.position)
            }
            let parameter = swept[0].parameter
            return (SweepPlan(parameter: parameter, values: try numbers(swept[0].value, of: parameter), sharedArguments: rest), out)
        }
        guard sets.count == 1 else {
            throw IMLError("--set was given \(sets.count) times (\(sets.joined(separator: ", "))), but a sweep varies one option at a time; sweep them separately.")
        }
        let spec = sets[0]
        if let list = lists.first(where: { $0.value.contains(",") }) {
            throw IMLError("--set \(spec) and \(list.parameter.option) \(list.value) both give values to sweep, but a sweep varies one option at a time; sweep them separately, or give \(list.parameter.option) one value.")
        }
        for list in lists.reversed() { rest.insert(contentsOf: list.tokens, at: list.position) }

        let equals = spec.firstIndex(of: "=")
        var name = String(spec[..<(equals ?? spec.endIndex)]).trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("--") { name.removeFirst(2) }
        guard !name.isEmpty else {
            throw IMLError("--set takes OPTION=v1,v2,... (e.g. --set lr=0.001,0.0003), but \"\(spec)\" names no option.")
        }
        try checkOption(name)
        guard let equals else {
            throw IMLError("--set \(name) has no values; give them after an equals sign, e.g. --set \(name)=v1,v2.")
        }
        let parameter = SweepParameter(name)
        let list = String(spec[spec.index(after: equals)...])
        if let j = rest.firstIndex(where: { $0 == parameter.option || $0.hasPrefix(parameter.option + "=") }) {
            let given = rest[j].contains("=") || j + 1 == rest.count ? rest[j] : "\(rest[j]) \(rest[j + 1])"
            throw IMLError("--set \(spec) and \(given) both give \(parameter.option); give it once (each run of the sweep gets one of the values listed in --set).")
        }
        if SweepParameter.listOptions.contains(parameter) {
            return (SweepPlan(parameter: parameter, values: try numbers(list, of: parameter), sharedArguments: rest), out)
        }
        // A value that is a list itself (16,32,32) needs another separator between the values.
        let items = list.split(separator: list.contains(";") ? ";" : ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if items == [""] {
            throw IMLError("--set \(name)= lists no values; give at least one after the equals sign, e.g. --set \(name)=v1,v2.")
        }
        var values: [SweepValue] = []
        for item in items {
            if item.isEmpty {
                throw IMLError("--set \(spec) has an empty value (two separators in a row, or one at an end); list each value once.")
            }
            let value = SweepValue(item)
            if let same = values.first(where: { $0 == value || ($0.number != nil && $0.number == value.number) }) {
                throw IMLError(same == value ? "--set \(name) lists \(item) twice; give each value once."
                               : "--set \(name) lists \(same.text) and \(item), the same number; give each value once.")
            }
            values.append(value)
        }
        return (SweepPlan(parameter: parameter, values: values, sharedArguments: rest), out)
    }

    /// The comma-separated numbers of --alpha or --batch-size, each checked, written as JSON writes them.
    static func numbers(_ list: String, of parameter: SweepParameter) throws -> [SweepValue] {
        let items = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var numbers: [Double] = []
        for item in items {
            guard let v = Double(item), v.isFinite else {
                throw IMLError("\(parameter.option) takes a comma-separated list of numbers, and \"\(item)\" is not one.")
            }
            try parameter.validate(v)
            if numbers.contains(v) { throw IMLError("\(parameter.option) lists \(item) twice; give each value once.") }
            numbers.append(v)
        }
        return numbers.map { SweepValue(JSON.format($0)) }
    }

    public func directoryName(_ v: SweepValue) -> String { "\(parameter.name)=\(v.text)" }

    /// The arguments of the run for value `v`, writing into `directory`.
    public func runArguments(_ v: SweepValue, directory: String) -> [String] {
        // A value with a leading dash would read as an option; --option=value keeps it a value.
        let option = v.text.hasPrefix("-") ? [parameter.option + "=" + v.text] : [parameter.option, v.text]
        return sharedArguments + option + ["--out", directory]
    }
}

/// sweep.png and sweep.md from the finished runs of a sweep.
public enum SweepReport {
    public struct Point {
        public var value: SweepValue
        public var directory: String
        public var summary: RunSummary
        public init(value: SweepValue, directory: String, summary: RunSummary) {
            self.value = value; self.directory = directory; self.summary = summary
        }
    }

    static let finals = ["d1consis", "d2consis", "d3consis"]

    /// True when every value is a number: the sweep is plotted against them, else as categories.
    static func isNumeric(_ points: [Point]) -> Bool { points.allSatisfy { $0.value.number != nil } }

    /// The points as the figure and the table show them: by number, or categories in the order given.
    public static func ordered(_ points: [Point]) -> [Point] {
        isNumeric(points) ? points.sorted { $0.value.number! < $1.value.number! } : points
    }

    /// `modalityTitle` as the runs' config.json gives it (e.g. "MNIST"). Writes `name`.png and
    /// `name`.md; `tick` labels the x axis at each point; `connect` false leaves the points unjoined
    /// (points of different families, e.g. wider and deeper models against their size).
    public static func write(points: [Point], parameter: SweepParameter, modalityTitle: String, settings: String, to directory: URL,
                             name: String = "sweep", tick: (Point) -> String = { $0.value.text }, connect: Bool = true) throws {
        let sorted = ordered(points), numeric = isNumeric(points)
        let xs = numeric ? sorted.map { $0.value.number! } : sorted.indices.map(Double.init)
        func series(_ name: String, _ color: Color, _ pick: (RunSummary) -> SeedSummary?) -> PlotSeries {
            let s = sorted.map { pick($0.summary) }
            return PlotSeries(name: name, color: color, x: xs, y: s.map { $0?.mean ?? .nan },
                              lower: s.map { ($0?.mean ?? .nan) - ($0?.ci95 ?? 0) }, upper: s.map { ($0?.mean ?? .nan) + ($0?.ci95 ?? 0) })
        }
        let ticks = zip(xs, sorted).map { AxisTick(value: $0, label: tick($1)) }
        let scale = xScale(parameter, numeric ? xs : [])
        let effect = PlotPanel(title: "IML effect d1consis - d2consis at the end", xLabel: parameter.axisLabel, yLabel: "EM difference",
                               series: [series("IML effect", Color(hex: 0x9467BD)) { $0.imlEffect }],
                               yRange: -0.2...0.8, referenceLines: [ReferenceLine(y: 0, label: "no effect")],
                               style: .pointsWithErrorBars, xScale: scale, xTicks: ticks, connectPoints: numeric && connect)
        let finalsPanel = PlotPanel(title: "Final exact match (end of training)", xLabel: parameter.axisLabel, yLabel: "exact match",
                                    series: finals.map { name in series(name, CurvesFigure.color(name)) { $0.final(name) } },
                                    yRange: 0...1, style: .pointsWithErrorBars, xScale: scale, xTicks: ticks, connectPoints: numeric && connect)
        let title = "\(modalityTitle): IML against \(parameter.title)"
        try Figure.render(title: title, subtitle: settings, panels: [effect, finalsPanel]).writePNGAndSVG(to: directory.appendingPathComponent(name + ".png"))
        try AtomicFile.write(markdown(sorted, parameter: parameter, title: title, settings: settings), to: directory.appendingPathComponent(name + ".md"))
    }

    /// Batch sizes on a log2 axis, as the paper plots them; alpha and categories linear; other
    /// positive values spanning ten times or more (learning rates) on a log axis too, so the small ones stay apart.
    static func xScale(_ parameter: SweepParameter, _ numbers: [Double]) -> AxisScale {
        if parameter == .batchSize { return .log2 }
        if parameter == .alpha { return .linear }
        guard let low = numbers.min(), let high = numbers.max(), low > 0, high >= 10 * low else { return .linear }
        return .log2
    }

    static func cell(_ s: SeedSummary?) -> String { SeedSummary.cell(s) }

    static func markdown(_ points: [Point], parameter: SweepParameter, title: String, settings: String) -> String {
        (["# \(title)", "", settings, ""] + table(points, parameter: parameter) + ["", "± is the half-width of the 95% Student-t interval over seeds."])
            .joined(separator: "\n") + "\n"
    }

    /// The sweep's table alone: final exact match at the end of training (after stage 2, or the single stage) and the IML effect per value.
    public static func table(_ points: [Point], parameter: SweepParameter) -> [String] {
        var lines = ["| \(parameter.name) | seeds | d1consis | d3consis | d2consis | no_qd_baseline | IML effect (d1 − d2) | run |",
                     "|---|---|---|---|---|---|---|---|"]
        for p in points {
            let s = p.summary
            lines.append("| \(p.value.text) | \(s.seeds.count) | \(cell(s.final("d1consis"))) | \(cell(s.final("d3consis"))) | \(cell(s.final("d2consis"))) | \(cell(s.final("no_qd_baseline"))) | \(cell(s.imlEffect)) | \(URL(fileURLWithPath: p.directory).lastPathComponent) |")
        }
        return lines
    }
}
