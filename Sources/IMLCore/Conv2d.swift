// 2-D convolution, stride 1, zero padding, NCHW (PyTorch's Conv2d with stride 1):
//
//   x [B, Cin, H, W] -> y [B, Cout, Ho, Wo],  Ho = H + 2p - k + 1,  Wo = W + 2p - k + 1
//   weight [Cout, Cin, k, k] (used as the matrix [Cout, K], K = Cin*k*k), bias [Cout];
//   PyTorch's default init U(-1/sqrt(K), 1/sqrt(K)) for both.
//
// One image at a time: im2col writes that image's column matrix col [K, Ho*Wo] (small enough to
// stay in L2), then y_b = W col + b is a single sgemm whose output is already NCHW. Backward
// recomputes col (cheaper than storing B of them) and does
//   dW += dy_b col^T,   db += row sums of dy_b,   dcol = W^T dy_b -> col2im -> dx_b.
// All three products keep the short dimension (Cout) as M and the long one (pixels) as N, which
// OpenBLAS runs near its square-matrix speed; the "tall" orientation (pixels as M) is ~30% slower.
//
// The input is kept by reference for backward: it must not change between forward and backward.

import IMLBase

public final class Conv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let padding: Int
    /// False for the first layer: nothing upstream needs dL/dx, so backward skips that product.
    public var needsInputGradient: Bool

    public let weight: Tensor
    public let bias: Tensor
    public let weightGrad: Tensor
    public let biasGrad: Tensor

    public private(set) var output = Tensor([0])
    public private(set) var inputGrad = Tensor([0])
    private var input: Tensor?
    private let columns = Tensor([0])
    private let columnsGrad = Tensor([0])

    public init(inChannels: Int, outChannels: Int, kernel: Int = 3, padding: Int = 1,
                needsInputGradient: Bool = true, rng: inout SeededRandom) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && padding >= 0,
                     "Conv2d needs positive channels and kernel and padding >= 0, got in \(inChannels), out \(outChannels), kernel \(kernel), padding \(padding)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.padding = padding
        self.needsInputGradient = needsInputGradient
        weight = Tensor([outChannels, inChannels, kernel, kernel])
        bias = Tensor([outChannels])
        weightGrad = Tensor(weight.shape)
        biasGrad = Tensor([outChannels])
        let bound = 1 / Float(inChannels * kernel * kernel).squareRoot()
        weight.fillUniform(-bound, bound, &rng)
        bias.fillUniform(-bound, bound, &rng)
    }

    public var parameters: [Parameter] {
        [Parameter("weight", weight, weightGrad), Parameter("bias", bias, biasGrad, decay: false)]
    }

    /// Output height and width for an input of `height` x `width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        (height + 2 * padding - kernel + 1, width + 2 * padding - kernel + 1)
    }

    /// Rows of the column matrix: one per (input channel, kernel row, kernel column).
    private var columnRows: Int { inChannels * kernel * kernel }

    /// 1x1 kernels without padding need no im2col: the image itself is the column matrix.
    private var columnsAreInput: Bool { kernel == 1 && padding == 0 }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels,
                     "Conv2d(in: \(inChannels)) was given shape \(x.shape); pass [batch, \(inChannels), height, width]")
        let (ho, wo) = outputSize(height: x.shape[2], width: x.shape[3])
        precondition(ho > 0 && wo > 0,
                     "Conv2d(kernel: \(kernel), padding: \(padding)) cannot fit an image of \(x.shape[2]) x \(x.shape[3]); use a larger image or more padding")
        input = x
        let batch = x.shape[0], pixels = ho * wo, planeIn = inChannels * x.shape[2] * x.shape[3]
        output.resize([batch, outChannels, ho, wo])
        if !columnsAreInput { columns.resize([columnRows, pixels]) }
        for b in 0..<batch {
            let xb = x.pointer + b * planeIn, yb = output.pointer + b * outChannels * pixels
            let col: UnsafePointer<Float>
            if columnsAreInput { col = UnsafePointer(xb) } else {
                im2col(xb, height: x.shape[2], width: x.shape[3], into: columns.pointer)
                col = UnsafePointer(columns.pointer)
            }
            for c in 0..<outChannels { (yb + c * pixels).update(repeating: bias[c], count: pixels) }
            BLAS.sgemm(m: outChannels, n: pixels, k: columnRows, a: weight.pointer, b: col, beta: 1, c: yb)
        }
        return output
    }

    /// dy [B, Cout, Ho, Wo] -> dx [B, Cin, H, W] (left empty when `needsInputGradient` is false).
    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Conv2d.backward called before forward") }
        precondition(dy.count == output.count,
                     "Conv2d.backward was given \(dy.shape); expected \(output.shape) like its output")
        let batch = x.shape[0], h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(height: h, width: w)
        let pixels = ho * wo, planeIn = inChannels * h * w, planeOut = outChannels * pixels
        if needsInputGradient {
            inputGrad.resize(x.shape)
            columnsGrad.resize([columnRows, pixels])
        } else {
            inputGrad.resize([0])
        }
        let db = biasGrad.pointer
        for b in 0..<batch {
            let xb = x.pointer + b * planeIn, gb = dy.pointer + b * planeOut
            let col: UnsafePointer<Float>
            if columnsAreInput { col = UnsafePointer(xb) } else {
                im2col(xb, height: h, width: w, into: columns.pointer)
                col = UnsafePointer(columns.pointer)
            }
            BLAS.sgemm(transB: true, m: outChannels, n: columnRows, k: pixels,
                       a: gb, b: col, beta: 1, c: weightGrad.pointer)
            for c in 0..<outChannels { db[c] += Self.sum(gb + c * pixels, count: pixels) }
            guard needsInputGradient else { continue }
            let dxb = inputGrad.pointer + b * planeIn
            if columnsAreInput {
                BLAS.sgemm(transA: true, m: columnRows, n: pixels, k: outChannels,
                           a: weight.pointer, b: gb, beta: 0, c: dxb)
            } else {
                BLAS.sgemm(transA: true, m: columnRows, n: pixels, k: outChannels,
                           a: weight.pointer, b: gb, beta: 0, c: columnsGrad.pointer)
                col2im(columnsGrad.pointer, height: h, width: w, into: dxb)
            }
        }
        return inputGrad
    }

    /// Sum with eight SIMD partial sums: a plain `sum += x[i]` loop is one serial add chain (the
    /// compiler may not reorder float adds), ~8x slower and a visible part of the layer's time.
    @inline(__always)
    private static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        let raw = UnsafeRawPointer(x)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            acc0 += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            acc1 += raw.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
            i += 16
        }
        var total = (acc0 + acc1).sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    // MARK: im2col / col2im for one image
    //
    // Row (c, ky, kx) of col holds, for every output pixel (oy, ox), the input pixel
    // (oy + ky - p, ox + kx - p) of channel c, or 0 where that falls in the padding. For a fixed
    // row and oy the valid ox form one contiguous run, so each (row, oy) is a few zeros, a copy,
    // and a few zeros. The short runs (14..56 floats) are plain loops, not memcpy/memset calls,
    // whose call overhead would dominate.

    /// Output columns ox whose input column ox + kx - p lies inside the image.
    @inline(__always)
    private func validColumns(kx: Int, width: Int, outWidth: Int) -> (lo: Int, hi: Int) {
        let lo = min(max(0, padding - kx), outWidth)
        let hi = max(lo, min(outWidth, width + padding - kx))
        return (lo, hi)
    }

    private func im2col(_ image: UnsafePointer<Float>, height h: Int, width w: Int,
                        into col: UnsafeMutablePointer<Float>) {
        let (ho, wo) = outputSize(height: h, width: w)
        let k = kernel, p = padding
        var row = col
        for c in 0..<inChannels {
            let plane = image + c * h * w
            for ky in 0..<k {
                // Output rows whose input row oy + ky - p exists; the others are all padding.
                let oyLo = min(max(0, p - ky), ho), oyHi = max(oyLo, min(ho, h + p - ky))
                for kx in 0..<k {
                    let (lo, hi) = validColumns(kx: kx, width: w, outWidth: wo)
                    for i in 0..<(oyLo * wo) { row[i] = 0 }
                    for oy in oyLo..<oyHi {
                        let dst = row + oy * wo
                        // src[ox] is input pixel (oy + ky - p, ox + kx - p); read only for lo..<hi.
                        let src = plane + (oy + ky - p) * w + (kx - p)
                        for ox in 0..<lo { dst[ox] = 0 }
                        for ox in lo..<hi { dst[ox] = src[ox] }
                        for ox in hi..<wo { dst[ox] = 0 }
                    }
                    for i in (oyHi * wo)..<(ho * wo) { row[i] = 0 }
                    row += ho * wo
                }
            }
        }
    }

    /// The adjoint of im2col: every column entry is added back to the input pixel it came from.
    private func col2im(_ col: UnsafePointer<Float>, height h: Int, width w: Int,
                        into image: UnsafeMutablePointer<Float>) {
        let (ho, wo) = outputSize(height: h, width: w)
        let k = kernel, p = padding
        image.update(repeating: 0, count: inChannels * h * w)
        var row = col
        for c in 0..<inChannels {
            let plane = image + c * h * w
            for ky in 0..<k {
                let oyLo = min(max(0, p - ky), ho), oyHi = max(oyLo, min(ho, h + p - ky))
                for kx in 0..<k {
                    let (lo, hi) = validColumns(kx: kx, width: w, outWidth: wo)
                    for oy in oyLo..<oyHi {
                        let src = row + oy * wo
                        let dst = plane + (oy + ky - p) * w + (kx - p)
                        for ox in lo..<hi { dst[ox] += src[ox] }
                    }
                    row += ho * wo
                }
            }
        }
    }
}
