// SHA-256 (FIPS 180-4), used to check that the MNIST files are the originals named in
// docs/PROTOCOL.md section 3. Whole 64-byte blocks are read straight from the caller's memory.

import Foundation

public struct SHA256 {
    private var state: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]
    /// Bytes of an incomplete block carried between `update` calls.
    private var pending: [UInt8] = []
    private var totalBytes: UInt64 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        totalBytes &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            offset = take
            if pending.count < 64 { return }
            let block = pending
            pending.removeAll(keepingCapacity: true)
            block.withUnsafeBytes { compress(blocks: $0) }
        }
        let wholeBlocks = (bytes.count - offset) / 64 * 64
        if wholeBlocks > 0 {
            compress(blocks: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + wholeBlocks)]))
            offset += wholeBlocks
        }
        if offset < bytes.count { pending.append(contentsOf: bytes[offset...]) }
    }

    public mutating func update<C: ContiguousBytes>(_ bytes: C) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest. The hasher should not be updated afterwards.
    public mutating func finalize() -> [UInt8] {
        let messageBits = totalBytes &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: messageBits >> UInt64(shift))) }
        pending.removeAll()
        tail.withUnsafeBytes { compress(blocks: $0) }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in state {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    public static func hash<C: ContiguousBytes>(_ bytes: C) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Lower-case hexadecimal digest, the form `sha256sum` prints.
    public static func hexDigest<C: ContiguousBytes>(_ bytes: C) -> String {
        hash(bytes).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xf)]], as: UTF8.self)
        }.joined()
    }

    /// Processes `blocks.count / 64` blocks; `blocks.count` must be a multiple of 64.
    /// The 64 rounds are written out with the working variables renamed instead of shifted, and
    /// the helpers are transparent, so even a debug build hashes the 55 MB of MNIST in a second or two.
    private mutating func compress(blocks: UnsafeRawBufferPointer) {
        var h0 = state[0], h1 = state[1], h2 = state[2], h3 = state[3]
        var h4 = state[4], h5 = state[5], h6 = state[6], h7 = state[7]
        var blockStart = 0
        while blockStart + 64 <= blocks.count {
            func word(_ index: Int) -> UInt32 {
                UInt32(bigEndian: blocks.loadUnaligned(fromByteOffset: blockStart + 4 * index, as: UInt32.self))
            }
            var w0 = word(0), w1 = word(1), w2 = word(2), w3 = word(3)
            var w4 = word(4), w5 = word(5), w6 = word(6), w7 = word(7)
            var w8 = word(8), w9 = word(9), w10 = word(10), w11 = word(11)
            var w12 = word(12), w13 = word(13), w14 = word(14), w15 = word(15)
            var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
            round(a, b, c, &d, e, f, g, &h, 0x428a2f98 &+ w0)
            round(h, a, b, &c, d, e, f, &g, 0x71374491 &+ w1)
            round(g, h, a, &b, c, d, e, &f, 0xb5c0fbcf &+ w2)
            round(f, g, h, &a, b, c, d, &e, 0xe9b5dba5 &+ w3)
            round(e, f, g, &h, a, b, c, &d, 0x3956c25b &+ w4)
            round(d, e, f, &g, h, a, b, &c, 0x59f111f1 &+ w5)
            round(c, d, e, &f, g, h, a, &b, 0x923f82a4 &+ w6)
            round(b, c, d, &e, f, g, h, &a, 0xab1c5ed5 &+ w7)
            round(a, b, c, &d, e, f, g, &h, 0xd807aa98 &+ w8)
            round(h, a, b, &c, d, e, f, &g, 0x12835b01 &+ w9)
            round(g, h, a, &b, c, d, e, &f, 0x243185be &+ w10)
            round(f, g, h, &a, b, c, d, &e, 0x550c7dc3 &+ w11)
            round(e, f, g, &h, a, b, c, &d, 0x72be5d74 &+ w12)
            round(d, e, f, &g, h, a, b, &c, 0x80deb1fe &+ w13)
            round(c, d, e, &f, g, h, a, &b, 0x9bdc06a7 &+ w14)
            round(b, c, d, &e, f, g, h, &a, 0xc19bf174 &+ w15)
            w0 = w0 &+ smallSigma0(w1) &+ w9 &+ smallSigma1(w14)
            round(a, b, c, &d, e, f, g, &h, 0xe49b69c1 &+ w0)
            w1 = w1 &+ smallSigma0(w2) &+ w10 &+ smallSigma1(w15)
            round(h, a, b, &c, d, e, f, &g, 0xefbe4786 &+ w1)
            w2 = w2 &+ smallSigma0(w3) &+ w11 &+ smallSigma1(w0)
            round(g, h, a, &b, c, d, e, &f, 0x0fc19dc6 &+ w2)
            w3 = w3 &+ smallSigma0(w4) &+ w12 &+ smallSigma1(w1)
            round(f, g, h, &a, b, c, d, &e, 0x240ca1cc &+ w3)
            w4 = w4 &+ smallSigma0(w5) &+ w13 &+ smallSigma1(w2)
            round(e, f, g, &h, a, b, c, &d, 0x2de92c6f &+ w4)
            w5 = w5 &+ smallSigma0(w6) &+ w14 &+ smallSigma1(w3)
            round(d, e, f, &g, h, a, b, &c, 0x4a7484aa &+ w5)
            w6 = w6 &+ smallSigma0(w7) &+ w15 &+ smallSigma1(w4)
            round(c, d, e, &f, g, h, a, &b, 0x5cb0a9dc &+ w6)
            w7 = w7 &+ smallSigma0(w8) &+ w0 &+ smallSigma1(w5)
            round(b, c, d, &e, f, g, h, &a, 0x76f988da &+ w7)
            w8 = w8 &+ smallSigma0(w9) &+ w1 &+ smallSigma1(w6)
            round(a, b, c, &d, e, f, g, &h, 0x983e5152 &+ w8)
            w9 = w9 &+ smallSigma0(w10) &+ w2 &+ smallSigma1(w7)
            round(h, a, b, &c, d, e, f, &g, 0xa831c66d &+ w9)
            w10 = w10 &+ smallSigma0(w11) &+ w3 &+ smallSigma1(w8)
            round(g, h, a, &b, c, d, e, &f, 0xb00327c8 &+ w10)
            w11 = w11 &+ smallSigma0(w12) &+ w4 &+ smallSigma1(w9)
            round(f, g, h, &a, b, c, d, &e, 0xbf597fc7 &+ w11)
            w12 = w12 &+ smallSigma0(w13) &+ w5 &+ smallSigma1(w10)
            round(e, f, g, &h, a, b, c, &d, 0xc6e00bf3 &+ w12)
            w13 = w13 &+ smallSigma0(w14) &+ w6 &+ smallSigma1(w11)
            round(d, e, f, &g, h, a, b, &c, 0xd5a79147 &+ w13)
            w14 = w14 &+ smallSigma0(w15) &+ w7 &+ smallSigma1(w12)
            round(c, d, e, &f, g, h, a, &b, 0x06ca6351 &+ w14)
            w15 = w15 &+ smallSigma0(w0) &+ w8 &+ smallSigma1(w13)
            round(b, c, d, &e, f, g, h, &a, 0x14292967 &+ w15)
            w0 = w0 &+ smallSigma0(w1) &+ w9 &+ smallSigma1(w14)
            round(a, b, c, &d, e, f, g, &h, 0x27b70a85 &+ w0)
            w1 = w1 &+ smallSigma0(w2) &+ w10 &+ smallSigma1(w15)
            round(h, a, b, &c, d, e, f, &g, 0x2e1b2138 &+ w1)
            w2 = w2 &+ smallSigma0(w3) &+ w11 &+ smallSigma1(w0)
            round(g, h, a, &b, c, d, e, &f, 0x4d2c6dfc &+ w2)
            w3 = w3 &+ smallSigma0(w4) &+ w12 &+ smallSigma1(w1)
            round(f, g, h, &a, b, c, d, &e, 0x53380d13 &+ w3)
            w4 = w4 &+ smallSigma0(w5) &+ w13 &+ smallSigma1(w2)
            round(e, f, g, &h, a, b, c, &d, 0x650a7354 &+ w4)
            w5 = w5 &+ smallSigma0(w6) &+ w14 &+ smallSigma1(w3)
            round(d, e, f, &g, h, a, b, &c, 0x766a0abb &+ w5)
            w6 = w6 &+ smallSigma0(w7) &+ w15 &+ smallSigma1(w4)
            round(c, d, e, &f, g, h, a, &b, 0x81c2c92e &+ w6)
            w7 = w7 &+ smallSigma0(w8) &+ w0 &+ smallSigma1(w5)
            round(b, c, d, &e, f, g, h, &a, 0x92722c85 &+ w7)
            w8 = w8 &+ smallSigma0(w9) &+ w1 &+ smallSigma1(w6)
            round(a, b, c, &d, e, f, g, &h, 0xa2bfe8a1 &+ w8)
            w9 = w9 &+ smallSigma0(w10) &+ w2 &+ smallSigma1(w7)
            round(h, a, b, &c, d, e, f, &g, 0xa81a664b &+ w9)
            w10 = w10 &+ smallSigma0(w11) &+ w3 &+ smallSigma1(w8)
            round(g, h, a, &b, c, d, e, &f, 0xc24b8b70 &+ w10)
            w11 = w11 &+ smallSigma0(w12) &+ w4 &+ smallSigma1(w9)
            round(f, g, h, &a, b, c, d, &e, 0xc76c51a3 &+ w11)
            w12 = w12 &+ smallSigma0(w13) &+ w5 &+ smallSigma1(w10)
            round(e, f, g, &h, a, b, c, &d, 0xd192e819 &+ w12)
            w13 = w13 &+ smallSigma0(w14) &+ w6 &+ smallSigma1(w11)
            round(d, e, f, &g, h, a, b, &c, 0xd6990624 &+ w13)
            w14 = w14 &+ smallSigma0(w15) &+ w7 &+ smallSigma1(w12)
            round(c, d, e, &f, g, h, a, &b, 0xf40e3585 &+ w14)
            w15 = w15 &+ smallSigma0(w0) &+ w8 &+ smallSigma1(w13)
            round(b, c, d, &e, f, g, h, &a, 0x106aa070 &+ w15)
            w0 = w0 &+ smallSigma0(w1) &+ w9 &+ smallSigma1(w14)
            round(a, b, c, &d, e, f, g, &h, 0x19a4c116 &+ w0)
            w1 = w1 &+ smallSigma0(w2) &+ w10 &+ smallSigma1(w15)
            round(h, a, b, &c, d, e, f, &g, 0x1e376c08 &+ w1)
            w2 = w2 &+ smallSigma0(w3) &+ w11 &+ smallSigma1(w0)
            round(g, h, a, &b, c, d, e, &f, 0x2748774c &+ w2)
            w3 = w3 &+ smallSigma0(w4) &+ w12 &+ smallSigma1(w1)
            round(f, g, h, &a, b, c, d, &e, 0x34b0bcb5 &+ w3)
            w4 = w4 &+ smallSigma0(w5) &+ w13 &+ smallSigma1(w2)
            round(e, f, g, &h, a, b, c, &d, 0x391c0cb3 &+ w4)
            w5 = w5 &+ smallSigma0(w6) &+ w14 &+ smallSigma1(w3)
            round(d, e, f, &g, h, a, b, &c, 0x4ed8aa4a &+ w5)
            w6 = w6 &+ smallSigma0(w7) &+ w15 &+ smallSigma1(w4)
            round(c, d, e, &f, g, h, a, &b, 0x5b9cca4f &+ w6)
            w7 = w7 &+ smallSigma0(w8) &+ w0 &+ smallSigma1(w5)
            round(b, c, d, &e, f, g, h, &a, 0x682e6ff3 &+ w7)
            w8 = w8 &+ smallSigma0(w9) &+ w1 &+ smallSigma1(w6)
            round(a, b, c, &d, e, f, g, &h, 0x748f82ee &+ w8)
            w9 = w9 &+ smallSigma0(w10) &+ w2 &+ smallSigma1(w7)
            round(h, a, b, &c, d, e, f, &g, 0x78a5636f &+ w9)
            w10 = w10 &+ smallSigma0(w11) &+ w3 &+ smallSigma1(w8)
            round(g, h, a, &b, c, d, e, &f, 0x84c87814 &+ w10)
            w11 = w11 &+ smallSigma0(w12) &+ w4 &+ smallSigma1(w9)
            round(f, g, h, &a, b, c, d, &e, 0x8cc70208 &+ w11)
            w12 = w12 &+ smallSigma0(w13) &+ w5 &+ smallSigma1(w10)
            round(e, f, g, &h, a, b, c, &d, 0x90befffa &+ w12)
            w13 = w13 &+ smallSigma0(w14) &+ w6 &+ smallSigma1(w11)
            round(d, e, f, &g, h, a, b, &c, 0xa4506ceb &+ w13)
            w14 = w14 &+ smallSigma0(w15) &+ w7 &+ smallSigma1(w12)
            round(c, d, e, &f, g, h, a, &b, 0xbef9a3f7 &+ w14)
            w15 = w15 &+ smallSigma0(w0) &+ w8 &+ smallSigma1(w13)
            round(b, c, d, &e, f, g, h, &a, 0xc67178f2 &+ w15)
            h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
            h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
            blockStart += 64
        }
        state = [h0, h1, h2, h3, h4, h5, h6, h7]
    }
}

// One SHA-256 round with the roles of the working variables given by position: adds T1 into `d`
// and sets `h` to T1 + T2 (FIPS 180-4 section 6.2.2 step 3, with the renaming folded in).
@_transparent
private func round(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
                   _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ constantPlusWord: UInt32) {
    let t1 = h &+ bigSigma1(e) &+ ((e & f) ^ (~e & g)) &+ constantPlusWord
    let t2 = bigSigma0(a) &+ ((a & b) ^ (a & c) ^ (b & c))
    d = d &+ t1
    h = t1 &+ t2
}

// Masking shifts on UInt32 are transparent built-ins; the generic `>>` is a slow call in debug builds.
@_transparent private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x &>> n) | (x &<< (32 &- n)) }
@_transparent private func bigSigma0(_ x: UInt32) -> UInt32 { rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22) }
@_transparent private func bigSigma1(_ x: UInt32) -> UInt32 { rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25) }
@_transparent private func smallSigma0(_ x: UInt32) -> UInt32 { rotr(x, 7) ^ rotr(x, 18) ^ (x &>> 3) }
@_transparent private func smallSigma1(_ x: UInt32) -> UInt32 { rotr(x, 17) ^ rotr(x, 19) ^ (x &>> 10) }
