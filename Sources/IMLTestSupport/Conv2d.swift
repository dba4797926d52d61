// 2-D convolution, stride 1, zero padding, NCHW (PyTorch's Conv2d with stride 1): the plain
// im2col reference, kept for tests only. ConvNetMLP trains with IMLCore's ConvPoolReLU, the fused
// fast kernel, which is tested against this layer followed by MaxPool2d and ReLU.
//
//   x [B, Cin, H, W] -> y [B, Cout, Ho, Wo],  Ho = H + 2p - k + 1,  Wo = W + 2p - k + 1
//   weight [Cout, Cin, k, k] (used as the matrix [Cout, K], K = Cin*k*k), bias [Cout];
//   PyTorch's default init U(-1/sqrt(K), 1/sqrt(K)) for both.
//
// Per image: col [K, Ho*Wo], row (c, ky, kx) holding x[c, oy+ky-p, ox+kx-p] (0 outside), then
//   forward:  y = W col + b                      (sgemm [Cout, K] x [K, Ho*Wo])
//   backward: dW += dy col^T;  db += row sums of dy;  dcol = W^T dy -> col2im (the adjoint) = dx.
//
// The input is kept by reference for backward: it must not change between forward and backward.

import IMLBase
import IMLCore

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
    private let columns = Tensor([0])      // [K, Ho*Wo] of one image
    private let columnsGrad = Tensor([0])  // [K, Ho*Wo]

    public init(inChannels: Int, outChannels: Int, kernel: Int = 3, padding: Int = 1,
                needsInputGradient: Bool = true, rng: inout SeededRandom) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.padding = padding
        self.needsInputGradient = needsInputGradient
        (weight, bias, weightGrad, biasGrad) = convolutionParameters("Conv2d", inChannels, outChannels, kernel, padding, &rng)
    }

    public private(set) lazy var parameters: [Parameter] = {
        [Parameter("weight", weight, weightGrad), Parameter("bias", bias, biasGrad)]
    }()

    /// Output height and width for an input of `height` x `width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        (height + 2 * padding - kernel + 1, width + 2 * padding - kernel + 1)
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels,
                     "Conv2d(in: \(inChannels)) was given shape \(x.shape); pass [batch, \(inChannels), height, width]")
        let batch = x.shape[0], h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(height: h, width: w)
        precondition(ho > 0 && wo > 0,
                     "Conv2d(kernel: \(kernel), padding: \(padding)) cannot fit an image of \(h) x \(w); use a larger image or more padding")
        input = x
        let k = inChannels * kernel * kernel, n = ho * wo
        columns.resize(k, n)
        output.resize(batch, outChannels, ho, wo)
        for b in 0..<batch {
            im2col(x.pointer + b * inChannels * h * w, height: h, width: w)
            let y = output.pointer + b * outChannels * n
            for c in 0..<outChannels { (y + c * n).update(repeating: bias[c], count: n) }
            BLAS.sgemm(m: outChannels, n: n, k: k, a: weight.pointer, b: columns.pointer, beta: 1, c: y)
        }
        return output
    }

    /// dy [B, Cout, Ho, Wo] -> dx [B, Cin, H, W] (left empty when `needsInputGradient` is false).
    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Conv2d.backward called before forward") }
        precondition(dy.count == output.count, "Conv2d.backward was given \(dy.shape); expected \(output.shape) like its output")
        let batch = x.shape[0], h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(height: h, width: w)
        let k = inChannels * kernel * kernel, n = ho * wo
        columns.resize(k, n)
        columnsGrad.resize(k, n)
        inputGrad.resize(needsInputGradient ? x.shape : [0])
        for b in 0..<batch {
            let g = dy.pointer + b * outChannels * n
            for c in 0..<outChannels {
                var s: Float = 0
                for i in 0..<n { s += g[c * n + i] }
                biasGrad[c] += s
            }
            im2col(x.pointer + b * inChannels * h * w, height: h, width: w)
            BLAS.sgemm(transB: true, m: outChannels, n: k, k: n, a: g, b: columns.pointer, beta: 1, c: weightGrad.pointer)
            guard needsInputGradient else { continue }
            BLAS.sgemm(transA: true, m: k, n: n, k: outChannels, a: weight.pointer, b: g, beta: 0, c: columnsGrad.pointer)
            col2im(height: h, width: w, into: inputGrad.pointer + b * inChannels * h * w)
        }
        return inputGrad
    }

    /// image [Cin, H, W] -> columns [K, Ho*Wo].
    private func im2col(_ image: UnsafePointer<Float>, height h: Int, width w: Int) {
        let (ho, wo) = outputSize(height: h, width: w)
        var row = columns.pointer
        for c in 0..<inChannels { for ky in 0..<kernel { for kx in 0..<kernel {
            for oy in 0..<ho {
                let iy = oy + ky - padding
                for ox in 0..<wo {
                    let ix = ox + kx - padding
                    row[oy * wo + ox] = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? image[(c * h + iy) * w + ix] : 0
                }
            }
            row += ho * wo
        } } }
    }

    /// The adjoint of im2col: columnsGrad [K, Ho*Wo] summed back onto the image [Cin, H, W].
    private func col2im(height h: Int, width w: Int, into image: UnsafeMutablePointer<Float>) {
        let (ho, wo) = outputSize(height: h, width: w)
        image.update(repeating: 0, count: inChannels * h * w)
        var row = UnsafePointer(columnsGrad.pointer)
        for c in 0..<inChannels { for ky in 0..<kernel { for kx in 0..<kernel {
            for oy in 0..<ho {
                let iy = oy + ky - padding
                guard iy >= 0 && iy < h else { continue }
                for ox in 0..<wo {
                    let ix = ox + kx - padding
                    if ix >= 0 && ix < w { image[(c * h + iy) * w + ix] += row[oy * wo + ox] }
                }
            }
            row += ho * wo
        } } }
    }
}
