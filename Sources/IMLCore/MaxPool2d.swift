// Max pooling, 2x2 window, stride 2, NCHW (odd sizes are floored, as PyTorch: the last row or
// column is dropped):
//
//   x [B, C, H, W] -> y [B, C, H/2, W/2];  argmax [B, C, H/2, W/2] (index into the H*W plane)
//   dx [B, C, H, W]: dy routed to the argmax of each window, zero elsewhere.
// Ties go to the first maximum in row-major window order (as PyTorch).

public final class MaxPool2d: Layer {
    public private(set) var output = Tensor([0])
    public private(set) var inputGrad = Tensor([0])
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []

    public init() {}

    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[2] >= 2 && x.shape[3] >= 2,
                     "MaxPool2d needs [batch, channels, height >= 2, width >= 2], got \(x.shape)")
        inputShape = x.shape
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        let ho = h / 2, wo = w / 2
        output.resize([x.shape[0], x.shape[1], ho, wo])
        if argmax.count < output.count { argmax = [Int32](repeating: 0, count: output.count) }
        let xp = x.pointer, yp = output.pointer
        argmax.withUnsafeMutableBufferPointer { am in
            let ap = am.baseAddress!
            for plane in 0..<planes {
                let xin = xp + plane * h * w
                for oy in 0..<ho {
                    poolRow(top: xin + 2 * oy * w, width: w, topIndex: Int32(2 * oy * w), outputs: wo,
                            into: yp + (plane * ho + oy) * wo, argmax: ap + (plane * ho + oy) * wo)
                }
            }
        }
        return output
    }

    /// One output row: windows (top[2i], top[2i+1], bottom[2i], bottom[2i+1]), bottom = top + width.
    /// Four windows at a time in SIMD: with random data the scalar compare chain mispredicts its
    /// branches and runs ~10x slower.
    @inline(__always)
    private func poolRow(top: UnsafePointer<Float>, width w: Int, topIndex: Int32, outputs: Int,
                         into y: UnsafeMutablePointer<Float>, argmax a: UnsafeMutablePointer<Int32>) {
        let bottom = top + w
        let rawTop = UnsafeRawPointer(top), rawBottom = UnsafeRawPointer(bottom)
        let rawY = UnsafeMutableRawPointer(y), rawA = UnsafeMutableRawPointer(a)
        let lane = SIMD4<Int32>(0, 2, 4, 6)
        var i = 0
        while i + 4 <= outputs {
            let t = rawTop.loadUnaligned(fromByteOffset: 8 * i, as: SIMD8<Float>.self)
            let b = rawBottom.loadUnaligned(fromByteOffset: 8 * i, as: SIMD8<Float>.self)
            var best = t.evenHalf
            let first = lane &+ (Int32(2 * i) &+ topIndex)
            var index = first
            // Strict > keeps the first maximum in window order on ties.
            var better = t.oddHalf .> best
            best.replace(with: t.oddHalf, where: better)
            index.replace(with: first &+ 1, where: better)
            better = b.evenHalf .> best
            best.replace(with: b.evenHalf, where: better)
            index.replace(with: first &+ Int32(w), where: better)
            better = b.oddHalf .> best
            best.replace(with: b.oddHalf, where: better)
            index.replace(with: first &+ Int32(w + 1), where: better)
            rawY.storeBytes(of: best, toByteOffset: 4 * i, as: SIMD4<Float>.self)
            rawA.storeBytes(of: index, toByteOffset: 4 * i, as: SIMD4<Int32>.self)
            i += 4
        }
        while i < outputs {
            let i0 = 2 * i
            var best = i0
            if top[i0 + 1] > top[best] { best = i0 + 1 }
            if top[i0 + w] > top[best] { best = i0 + w }  // top[i0 + w] is bottom[i0]
            if bottom[i0 + 1] > top[best] { best = i0 + w + 1 }
            y[i] = top[best]
            a[i] = Int32(best) + topIndex
            i += 1
        }
    }

    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.count == output.count,
                     "MaxPool2d.backward was given \(dy.count) values for an output of shape \(output.shape)")
        inputGrad.resize(inputShape)
        inputGrad.zero()
        let planes = inputShape[0] * inputShape[1]
        let planeIn = inputShape[2] * inputShape[3], planeOut = output.count / max(planes, 1)
        let g = dy.pointer, dx = inputGrad.pointer
        argmax.withUnsafeBufferPointer { am in
            let ap = am.baseAddress!
            for plane in 0..<planes {
                let gin = g + plane * planeOut, ain = ap + plane * planeOut, dout = dx + plane * planeIn
                for i in 0..<planeOut { dout[Int(ain[i])] += gin[i] }
            }
        }
        return inputGrad
    }
}
