// What a plot panel shows: series of points with optional confidence bands, reference lines and
// axes, and the checks on them. Figure.render lays panels out; PlotDrawing.swift draws one panel,
// PlotAxes.swift places its axes and ticks, PlotLegend.swift draws its legend.

import Foundation
import IMLBase

/// One curve: `y[i]` at `x[i]`, with an optional band (e.g. a 95% CI) from `lower[i]` to `upper[i]`.
/// Non-finite values are skipped: a NaN in `y` breaks the line, a NaN in a bound breaks the band.
public struct PlotSeries {
    public var name: String
    public var color: Color
    public var x: [Double]
    public var y: [Double]
    public var lower: [Double]?
    public var upper: [Double]?
    public var dashed: Bool

    public init(name: String, color: Color, x: [Double], y: [Double],
                lower: [Double]? = nil, upper: [Double]? = nil, dashed: Bool = false) {
        self.name = name
        self.color = color
        self.x = x
        self.y = y
        self.lower = lower
        self.upper = upper
        self.dashed = dashed
    }

    var hasBand: Bool { lower != nil && upper != nil }
}

/// A dashed horizontal line with a label at its right end, e.g. chance level.
public struct ReferenceLine {
    public var y: Double
    public var label: String
    public var color: Color

    public init(y: Double, label: String, color: Color = .darkGray) {
        self.y = y
        self.label = label
        self.color = color
    }
}

public enum PlotStyle: Sendable {
    /// Curves over a continuous x (epochs); bounds drawn as translucent bands.
    case lines
    /// Markers with vertical error bars (sweeps); series sharing an x are nudged apart.
    case pointsWithErrorBars
}

public enum AxisScale: Sendable {
    case linear
    /// Positions by log2(x), ticks at powers of two (batch sizes). Points with x <= 0 are skipped.
    case log2
}

/// A tick placed by hand, e.g. a category name at x = 0, 1, 2.
public struct AxisTick {
    public var value: Double
    public var label: String

    public init(value: Double, label: String) {
        self.value = value
        self.label = label
    }
}

public struct PlotPanel {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [PlotSeries]
    public var yRange: ClosedRange<Double>
    /// nil: fitted to the data.
    public var xRange: ClosedRange<Double>?
    public var referenceLines: [ReferenceLine]
    public var style: PlotStyle
    public var xScale: AxisScale
    /// nil: chosen automatically. Set for categorical axes.
    public var xTicks: [AxisTick]?
    /// In `.pointsWithErrorBars`, join a series' points with a thin line (turn off for unordered categories).
    public var connectPoints: Bool

    public init(title: String, xLabel: String, yLabel: String, series: [PlotSeries],
                yRange: ClosedRange<Double> = 0...1, xRange: ClosedRange<Double>? = nil,
                referenceLines: [ReferenceLine] = [], style: PlotStyle = .lines,
                xScale: AxisScale = .linear, xTicks: [AxisTick]? = nil, connectPoints: Bool = true) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yRange = yRange
        self.xRange = xRange
        self.referenceLines = referenceLines
        self.style = style
        self.xScale = xScale
        self.xTicks = xTicks
        self.connectPoints = connectPoints
    }

    /// One clear error for inconsistent input, naming the panel and series.
    func validate() throws {
        let where_ = "panel \"\(title)\""
        guard yRange.lowerBound.isFinite, yRange.upperBound.isFinite, yRange.upperBound > yRange.lowerBound else {
            throw IMLError("\(where_): yRange \(yRange) must be finite with upper > lower")
        }
        if let xRange {
            guard xRange.lowerBound.isFinite, xRange.upperBound.isFinite, xRange.upperBound > xRange.lowerBound else {
                throw IMLError("\(where_): xRange \(xRange) must be finite with upper > lower")
            }
            if xScale == .log2 && xRange.lowerBound <= 0 {
                throw IMLError("\(where_): a log2 x axis needs xRange above 0, got \(xRange)")
            }
        }
        for series in series {
            let count = series.x.count
            func check(_ values: [Double]?, _ name: String) throws {
                if let values, values.count != count {
                    throw IMLError("\(where_): series \"\(series.name)\" has \(count) x values but \(values.count) \(name) values")
                }
            }
            try check(series.y, "y")
            try check(series.lower, "lower")
            try check(series.upper, "upper")
            if (series.lower == nil) != (series.upper == nil) {
                throw IMLError("\(where_): series \"\(series.name)\" gives only one of lower/upper; a band needs both")
            }
        }
    }
}
