// Seeded random numbers shared by every module.
//
// Algorithm: xoshiro256** (Blackman & Vigna, 2018), state seeded by SplitMix64. Both are defined on
// 64-bit integers only, so the same seed gives the same stream on every machine and compiler.
// Floating-point draws are built from the top bits with exact scaling (no libm in `uniform`),
// and `normal` uses Box-Muller with Foundation's log/cos/sin (IEEE, the same on x86-64 and arm64
// glibc/Darwin for the values we use).

import Foundation

public struct SplitMix64 {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** generator. A value type: copying it forks the stream (useful for checkpoints).
public struct SeededRandom: RandomNumberGenerator, Codable, Equatable {
    public var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    /// An independent stream for one purpose of one seed ("entities", "tags", "init", ...), so
    /// that adding draws to one purpose never shifts the numbers of another.
    public init(seed: UInt64, stream: String) {
        // FNV-1a of the purpose name, mixed into the seed.
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in stream.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        self.init(seed: seed ^ (h &* 0x9E37_79B9_7F4A_7C15))
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 24 bits (exactly representable as Float).
    @inline(__always)
    public mutating func uniformFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [0, 1) with 53 bits.
    @inline(__always)
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform integer in 0..<n without modulo bias (Lemire's method).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "int(below:) needs a positive bound")
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// Standard normal (Box-Muller; the second value is discarded to keep the state simple).
    public mutating func normal() -> Double {
        var u1 = uniformDouble()
        while u1 <= 0 { u1 = uniformDouble() }
        let u2 = uniformDouble()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Fisher-Yates shuffle, deterministic for a given state (unlike Array.shuffle(using:), whose
    /// algorithm the standard library does not promise to keep).
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = int(below: i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }

    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    // Codable/Equatable for the tuple state (checkpoints store the generator).
    public init(from decoder: Decoder) throws {
        var c = try decoder.unkeyedContainer()
        s = (try c.decode(UInt64.self), try c.decode(UInt64.self), try c.decode(UInt64.self), try c.decode(UInt64.self))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(s.0); try c.encode(s.1); try c.encode(s.2); try c.encode(s.3)
    }
    public static func == (a: SeededRandom, b: SeededRandom) -> Bool {
        a.s.0 == b.s.0 && a.s.1 == b.s.1 && a.s.2 == b.s.2 && a.s.3 == b.s.3
    }
}
