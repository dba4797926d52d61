// Row kernels of 2x2 max pooling, stride 2 (odd sizes floored, as PyTorch): ConvPoolReLU's pool
// step, and the plain MaxPool2d reference layer of the tests (IMLTestSupport), hence `package`.
// Winner codes: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right; ties go to the first
// maximum in row-major window order (as PyTorch).

/// Row kernels of 2x2 max pooling: one output row from two input rows, and back.
package enum MaxPool2x2 {
    /// Winner code of a window whose output ReLU cut to zero: no gradient flows back.
    package static let cut: Int32 = 4

    /// Windows i = 0..<count of (top[2i], top[2i+1], bottom[2i], bottom[2i+1]), each plus `bias`;
    /// with `relu`, y = max(0, window max) and code `cut` where that max is not positive (NaN
    /// passes forward and gets no gradient, as ReLU does). Four windows at a time in SIMD: with
    /// random data the scalar compare chain mispredicts its branches and runs ~10x slower. With
    /// `readsPastEnd` the caller promises that both rows can be read 6 floats past 2*count, and
    /// the last 1-3 windows run in SIMD too (the lanes past count are computed and not stored).
    @inline(__always)
    package static func forwardRow(top: UnsafePointer<Float>, bottom: UnsafePointer<Float>, count: Int, bias: Float = 0,
                           relu: Bool = false, readsPastEnd: Bool = false,
                           into y: UnsafeMutablePointer<Float>, winners: UnsafeMutablePointer<Int32>) {
        let rawTop = UnsafeRawPointer(top), rawBottom = UnsafeRawPointer(bottom), rawY = UnsafeMutableRawPointer(y)
        let b8 = SIMD8<Float>(repeating: bias), zero = SIMD4<Float>()
        /// Windows i..<i+4: their maxima and winner codes.
        func fourWindows(_ i: Int) -> (best: SIMD4<Float>, code: SIMD4<Int32>) {
            let t = rawTop.loadUnaligned(fromByteOffset: 8 * i, as: SIMD8<Float>.self) + b8
            let b = rawBottom.loadUnaligned(fromByteOffset: 8 * i, as: SIMD8<Float>.self) + b8
            var best = t.evenHalf, code = SIMD4<Int32>()
            // Strict > keeps the first maximum in window order on ties.
            var better = t.oddHalf .> best
            best.replace(with: t.oddHalf, where: better); code.replace(with: SIMD4(repeating: 1), where: better)
            better = b.evenHalf .> best
            best.replace(with: b.evenHalf, where: better); code.replace(with: SIMD4(repeating: 2), where: better)
            better = b.oddHalf .> best
            best.replace(with: b.oddHalf, where: better); code.replace(with: SIMD4(repeating: 3), where: better)
            if relu {
                code.replace(with: SIMD4(repeating: cut), where: .!(best .> zero))
                best.replace(with: zero, where: best .<= zero)
            }
            return (best, code)
        }
        var i = 0
        while i + 4 <= count {
            let (best, code) = fourWindows(i)
            rawY.storeBytes(of: best, toByteOffset: 4 * i, as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(winners).storeBytes(of: code, toByteOffset: 4 * i, as: SIMD4<Int32>.self)
            i += 4
        }
        if readsPastEnd && i < count {
            let (best, code) = fourWindows(i)
            for lane in 0..<(count - i) {
                y[i + lane] = best[lane]
                winners[i + lane] = code[lane]
            }
            return
        }
        while i < count {
            var best = top[2 * i] + bias, code: Int32 = 0
            let topRight = top[2 * i + 1] + bias, bottomLeft = bottom[2 * i] + bias, bottomRight = bottom[2 * i + 1] + bias
            if topRight > best { best = topRight; code = 1 }
            if bottomLeft > best { best = bottomLeft; code = 2 }
            if bottomRight > best { best = bottomRight; code = 3 }
            if relu {
                if !(best > 0) { code = cut }
                if best <= 0 { best = 0 }
            }
            y[i] = best
            winners[i] = code
            i += 1
        }
    }

    /// Writes all 2*count values of both input rows: dy[i] at window i's winner, 0 elsewhere.
    @inline(__always)
    package static func backwardRow(_ dy: UnsafePointer<Float>, winners: UnsafePointer<Int32>, count: Int,
                            top: UnsafeMutablePointer<Float>, bottom: UnsafeMutablePointer<Float>) {
        let rawDy = UnsafeRawPointer(dy), rawTop = UnsafeMutableRawPointer(top), rawBottom = UnsafeMutableRawPointer(bottom)
        let zero = SIMD4<Float>()
        // Vector-vector compares: the vector-scalar forms compile to a lane-by-lane loop.
        let c0 = SIMD4<Int32>(repeating: 0), c1 = SIMD4<Int32>(repeating: 1)
        let c2 = SIMD4<Int32>(repeating: 2), c3 = SIMD4<Int32>(repeating: 3)
        var i = 0
        while i + 4 <= count {
            let g = rawDy.loadUnaligned(fromByteOffset: 4 * i, as: SIMD4<Float>.self)
            let code = UnsafeRawPointer(winners).loadUnaligned(fromByteOffset: 4 * i, as: SIMD4<Int32>.self)
            let topLeft = zero.replacing(with: g, where: code .== c0), topRight = zero.replacing(with: g, where: code .== c1)
            let bottomLeft = zero.replacing(with: g, where: code .== c2), bottomRight = zero.replacing(with: g, where: code .== c3)
            rawTop.storeBytes(of: interleave(topLeft, topRight), toByteOffset: 8 * i, as: SIMD8<Float>.self)
            rawBottom.storeBytes(of: interleave(bottomLeft, bottomRight), toByteOffset: 8 * i, as: SIMD8<Float>.self)
            i += 4
        }
        while i < count {
            let code = winners[i]
            top[2 * i] = code == 0 ? dy[i] : 0
            top[2 * i + 1] = code == 1 ? dy[i] : 0
            bottom[2 * i] = code == 2 ? dy[i] : 0
            bottom[2 * i + 1] = code == 3 ? dy[i] : 0
            i += 1
        }
    }

    @inline(__always)
    private static func interleave(_ even: SIMD4<Float>, _ odd: SIMD4<Float>) -> SIMD8<Float> {
        SIMD8(even[0], odd[0], even[1], odd[1], even[2], odd[2], even[3], odd[3])
    }
}
