// Axes of a plot panel: sizes every panel shares, the data-to-pixel mapping, the x interval and
// "nice" tick positions.

import Foundation

/// Sizes shared by every panel so figures look alike.
enum PlotMetrics {
    static let labelScale = 2
    static let titleScale = 2
    static var labelHeight: Int { Canvas.textHeight(scale: labelScale) }
    static let padding = 10
    static let tickLength = 6
    static let lineThickness = 3
    static let bandAlpha = 0.18
    static let markerRadius = 5
    static let errorBarCap = 6
    /// Pixels between series sharing an x in error-bar plots.
    static let dodge = 9
    static let titleLineGap = 4
    static let swatchWidth = 36
}

/// Maps data coordinates to pixels inside a plot rectangle.
struct PlotGeometry {
    let area: PixelRect
    let xLow: Double, xHigh: Double  // already in axis units (log2 applied)
    let yLow: Double, yHigh: Double
    let xScale: AxisScale

    func axisX(_ x: Double) -> Double {
        xScale == .log2 ? (x > 0 ? Foundation.log2(x) : .nan) : x
    }

    func px(_ x: Double) -> Double {
        Double(area.x) + (axisX(x) - xLow) / (xHigh - xLow) * Double(area.width - 1)
    }

    func py(_ y: Double) -> Double {
        Double(area.y) + (yHigh - y) / (yHigh - yLow) * Double(area.height - 1)
    }
}

extension PlotPanel {
    /// The x interval shown, in axis units (log2 applied), padded for markers in sweep plots.
    func resolvedXAxis() -> (low: Double, high: Double) {
        let toAxis: (Double) -> Double = { xScale == .log2 ? ($0 > 0 ? log2($0) : .nan) : $0 }
        if let xRange {
            return (toAxis(xRange.lowerBound), toAxis(xRange.upperBound))
        }
        var values = series.flatMap { s in zip(s.x, s.y).filter { $0.1.isFinite }.map { toAxis($0.0) } }
        values += (xTicks ?? []).map { toAxis($0.value) }
        values = values.filter(\.isFinite)
        guard var low = values.min(), var high = values.max() else { return (0, 1) }
        if high - low < 1e-12 {
            // A single x: centre it in a unit-wide window.
            low -= 0.5
            high += 0.5
        } else if let xTicks, xTicks.count >= 2 {
            // Categories: half a slot either side, as a bar chart would leave.
            let positions = Set(xTicks.map { toAxis($0.value) }.filter(\.isFinite)).sorted()
            let spacing = zip(positions.dropFirst(), positions).map { $0 - $1 }.min() ?? (high - low)
            low -= spacing / 2
            high += spacing / 2
        } else if style == .pointsWithErrorBars {
            // Keep markers off the frame.
            let pad = (high - low) * 0.08
            low -= pad
            high += pad
        }
        return (low, high)
    }

    func resolvedXTicks(low: Double, high: Double, plotWidth: Int) -> [AxisTick] {
        let inRange: (AxisTick) -> Bool = { tick in
            let value = xScale == .log2 ? log2(tick.value) : tick.value
            return value >= low - 1e-9 && value <= high + 1e-9
        }
        if let xTicks { return xTicks.filter { $0.value.isFinite && (xScale == .linear || $0.value > 0) && inRange($0) } }
        switch xScale {
        case .log2:
            let first = Int(low.rounded(.up)), last = Int(high.rounded(.down))
            guard first <= last else { return [] }
            let count = last - first + 1, maxTicks = max(2, plotWidth / 70)
            let stride = (count + maxTicks - 1) / maxTicks
            return Swift.stride(from: first, through: last, by: stride).map { exponent in
                let label: String
                switch exponent {
                case 0...52: label = String(1 << exponent)
                case -52..<0: label = "1/\(1 << -exponent)"
                default: label = "2^\(exponent)"
                }
                return AxisTick(value: pow(2.0, Double(exponent)), label: label)
            }
        case .linear:
            let integersOnly = series.allSatisfy { $0.x.allSatisfy { !$0.isFinite || $0 == $0.rounded() } }
            return NiceTicks.make(low: low, high: high, target: max(2, plotWidth / 90), minimumStep: integersOnly ? 1 : 0)
        }
    }
}

/// "Nice" tick positions: steps of 1, 2 or 5 times a power of ten.
enum NiceTicks {
    static func make(low: Double, high: Double, target: Int, minimumStep: Double) -> [AxisTick] {
        guard low.isFinite, high.isFinite, high > low else { return [] }
        let raw = (high - low) / Double(max(1, target))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let normalized = raw / magnitude
        let factor: Double = normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10
        let step = max(factor * magnitude, minimumStep)
        // Spans beyond Double's range (1e308 apart) or below its precision get no ticks rather than a trap.
        guard step.isFinite, step > 0, (high - low).isFinite else { return [] }
        let decimals = min(15, max(0, Int((-log10(step) - 1e-9).rounded(.up))))
        let epsilon = step * 1e-6
        var ticks: [AxisTick] = []
        var index = (low / step - 1e-6).rounded(.up)
        while index * step <= high + epsilon, ticks.count < 1000 {
            let value = index * step
            ticks.append(AxisTick(value: value, label: format(value, decimals: decimals)))
            index += 1
        }
        return ticks
    }

    static func format(_ value: Double, decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", value)
        // "-0.0" reads as a mistake on an axis.
        if let number = Double(text), number == 0 { return String(format: "%.\(decimals)f", 0.0) }
        return text
    }
}

/// Rounds a pixel coordinate, clamped far outside any canvas so absurd data (1e300) cannot trap
/// the Int conversion; clipping then discards it.
func pixel(_ coordinate: Double) -> Int {
    guard !coordinate.isNaN else { return Int.min / 4 }
    return Int(min(max(coordinate, -1e9), 1e9).rounded())
}
