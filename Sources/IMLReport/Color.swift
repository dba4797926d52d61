// Colours for figures: a few named ones for axes and text, plus a categorical palette for series.

public struct Color: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(r: UInt8((hex >> 16) & 0xFF), g: UInt8((hex >> 8) & 0xFF), b: UInt8(hex & 0xFF))
    }

    public init(gray: UInt8) {
        self.init(r: gray, g: gray, b: gray)
    }

    public var description: String {
        "#" + [r, g, b].map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    /// `self` painted over `background` with opacity `alpha` (0 = background only, 1 = self only).
    public func blended(over background: Color, alpha: Double) -> Color {
        let a = alpha.isNaN ? 0 : min(max(alpha, 0), 1)
        func mix(_ top: UInt8, _ bottom: UInt8) -> UInt8 {
            UInt8((Double(top) * a + Double(bottom) * (1 - a)).rounded())
        }
        return Color(r: mix(r, background.r), g: mix(g, background.g), b: mix(b, background.b))
    }

    public static let white = Color(hex: 0xFFFFFF)
    public static let black = Color(hex: 0x000000)
    /// Text and axes: near-black reads softer than pure black on white.
    public static let ink = Color(hex: 0x222222)
    public static let darkGray = Color(hex: 0x555555)
    public static let gray = Color(hex: 0x888888)
    public static let lightGray = Color(hex: 0xD0D0D0)
    /// Grid lines: visible but quieter than any data.
    public static let gridGray = Color(hex: 0xE8E8E8)
    public static let red = Color(hex: 0xD62728)
    public static let green = Color(hex: 0x2CA02C)
    public static let blue = Color(hex: 0x1F77B4)
    public static let orange = Color(hex: 0xFF7F0E)

    /// The ten "tab10" colours researchers know from matplotlib, in their usual order.
    public static let categorical: [Color] = [
        Color(hex: 0x1F77B4), // blue
        Color(hex: 0xFF7F0E), // orange
        Color(hex: 0x2CA02C), // green
        Color(hex: 0xD62728), // red
        Color(hex: 0x9467BD), // purple
        Color(hex: 0x8C564B), // brown
        Color(hex: 0xE377C2), // pink
        Color(hex: 0x7F7F7F), // gray
        Color(hex: 0xBCBD22), // olive
        Color(hex: 0x17BECF), // cyan
    ]

    /// The `index`-th categorical colour, cycling when there are more series than colours.
    public static func categorical(_ index: Int) -> Color {
        let count = categorical.count
        return categorical[((index % count) + count) % count]
    }
}
