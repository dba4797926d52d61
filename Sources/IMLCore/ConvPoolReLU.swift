// Convolution 3x3-style with a fused max-pool 2x2 and ReLU: the fast kernel of ConvNetMLP's
// blocks. Numerically the protocol's conv -> ReLU -> pool (pooling before ReLU is the same thing,
// ReLU being monotone); the plain Conv2d and MaxPool2d of IMLTestSupport are the reference it
// is tested against.
//
//   x [B, Cin, H, W] -> conv (stride 1, zero padding p) [B, Cout, Ho, Wo] -> max-pool 2x2
//   (floored) -> ReLU -> y [B, Cout, Ho/2, Wo/2],  Ho = H + 2p - k + 1,  Wo = W + 2p - k + 1
//   weight [Cout, Cin, k, k] (the matrix [Cout, K], K = Cin*k*k), bias [Cout];
//   PyTorch's default init U(-1/sqrt(K), 1/sqrt(K)) for both.
//
// One image at a time, in "wide rows": the image is copied into a zero-bordered plane
// [Cin, Hp, Wp] (Hp = H + 2p, Wp = W + 2p), and the convolution is computed at Ho rows of Wp
// columns (N = Ho*Wp), the last k-1 of each row being junk that is dropped. Then the column-matrix
// row of tap (c, ky, kx) is simply the padded plane of c from offset ky*Wp + kx on, N floats in a
// row: im2col is K memcpys and col2im K contiguous row additions, no per-pixel bounds. The price is
// N/(Ho*Wo) more gemm work (7% for 28-wide rows, 14% for 14-wide) - far less than the
// bounds-checked short copies it replaces.
//
// With enough input channels (Cin*k >= 32) even the kx shift is left to BLAS: the column buffer
// holds only the k rows (c, ky) per channel, N + k - 1 floats each, and the product is split into
// k gemms, one per kernel column kx, whose B is that buffer shifted by kx floats (ldb = the row
// length) and whose A is the weights of that column, packed [k][Cout][Cin*k]. That copies and
// col2im-adds k times fewer rows at the same gemm speed (K = Cin*k = 48 or 96 here).
//
//   forward:  wide = W col (sgemm [Cout, K] x [K, N]); each 2x2 window of wide + b pooled, ReLU
//   backward: dyWide = dy routed to each window's winner (where the ReLU let it through), zero
//             elsewhere and in the junk columns;  dW += dyWide col^T;  db += row sums of dyWide;
//             dcol = W^T dyWide -> col2im into the padded plane -> its interior is dx.
// All products keep the short dimension (Cout) as M and the long one (pixels) as N, which OpenBLAS
// runs near its square-matrix speed. col is small enough to stay in L2; backward recomputes it
// (cheaper than keeping B of them). Each image's full-resolution map is pooled straight from the
// wide buffer while it is in L2: the full-resolution map and its gradient (13.8 MB each after the
// first conv at batch 64) are never written, which cost more than the pooling arithmetic.
//
// Threads (Parallel.swift): forward is one piece per image, each with its own workspace (padded
// plane, columns, wide map). Backward runs dW and db as one piece that adds the images' products
// in image order, exactly as one thread would, beside one piece per image for dx (which routes dy
// to the winners again, in its own workspace: cheaper than keeping the whole batch's dyWide). So
// the bits never depend on the thread count. With no helper to share with, backward takes each
// image's dW, db and dx in one pass instead, routing its dy once instead of twice (same
// arithmetic).
//
// The input is kept by reference for backward: it must not change between forward and backward.

import IMLBase

public final class ConvPoolReLU: Layer {
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
    /// Per-slot scratch of the per-image pieces (see Workspace).
    private var workspaces: [Workspace] = []
    private let packedWeight = Tensor([0])      // split: [k, Cout, Cin*k]
    private let packedWeightGrad = Tensor([0])  // split: [k, Cout, Cin*k], this backward's dW
    /// Which pixel of each window won, or MaxPool2x2.cut (see MaxPool2x2.swift); [B, Cout, Ho/2, Wo/2].
    private let winnersBuffer = GrowingBuffer<Int32>()

    public init(inChannels: Int, outChannels: Int, kernel: Int = 3, padding: Int = 1,
                needsInputGradient: Bool = true, rng: inout SeededRandom) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.padding = padding
        self.needsInputGradient = needsInputGradient
        (weight, bias, weightGrad, biasGrad) = convolutionParameters("ConvPoolReLU", inChannels, outChannels, kernel, padding, &rng)
    }

    public private(set) lazy var parameters: [Parameter] = {
        [Parameter("weight", weight, weightGrad), Parameter("bias", bias, biasGrad)]
    }()

    /// Height and width of the convolution (before pooling) for an input of `height` x `width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        (height + 2 * padding - kernel + 1, width + 2 * padding - kernel + 1)
    }

    /// Whether each product is split into k gemms, one per kernel column (see the top comment).
    private var splitsKernelColumns: Bool { kernel > 1 && inChannels * kernel >= 32 }
    /// Column-buffer rows per input channel: one per tap (ky, kx), or per kernel row when split.
    private var taps: Int { splitsKernelColumns ? kernel : kernel * kernel }
    /// Gemms per product and the K of each.
    private var gemms: Int { splitsKernelColumns ? kernel : 1 }
    private var gemmDepth: Int { inChannels * taps }
    /// Where column-buffer row (c, t) starts in the padded plane of c (plane width wp).
    @inline(__always)
    private func tapOffset(_ t: Int, _ wp: Int) -> Int {
        splitsKernelColumns ? t * wp : (t / kernel) * wp + t % kernel
    }
    /// Column-buffer row length for n output positions: the split gemms read k-1 floats further.
    private func rowLength(_ n: Int) -> Int { splitsKernelColumns ? n + kernel - 1 : n }
    /// A of gemm g: the weights [Cout, gemmDepth] of kernel column g, or all of them.
    private func gemmWeights(_ g: Int) -> UnsafeMutablePointer<Float> {
        splitsKernelColumns ? packedWeight.pointer + g * outChannels * gemmDepth : weight.pointer
    }

    /// packedWeight[kx][co][c*k + ky] = weight[co][c][ky][kx] (split only).
    private func packWeights() {
        guard splitsKernelColumns else { return }
        let k = kernel, depth = gemmDepth
        packedWeight.resize(k, outChannels, depth)
        for co in 0..<outChannels { for c in 0..<inChannels { for ky in 0..<k { for kx in 0..<k {
            packedWeight[(kx * outChannels + co) * depth + c * k + ky] = weight[((co * inChannels + c) * k + ky) * k + kx]
        } } } }
    }

    /// One thread's buffers for one image at a time, sized for `height` x `width` images; what
    /// must start at zero (the padded planes' borders) is zeroed when the size changes.
    private final class Workspace {
        let padded = Tensor([0])       // [Cin, Hp, Wp] + k-1 slack, zero border
        let columns = Tensor([0])      // [Cin*taps, rowLength]
        let wide = Tensor([0])         // [Cout, N] forward output with junk columns, + 8 floats that pooling may read
        let wideGrad = Tensor([0])     // [Cout, N] dy routed to the winners, zero junk columns
        let columnsGrad = Tensor([0])  // [Cin*taps, rowLength]
        let paddedGrad = Tensor([0])   // [Cin, Hp, Wp] + k-1 slack
        var preparedSize = (height: -1, width: -1)
    }

    /// The workspace of `slot`, sized for `height` x `width` images.
    private func workspace(_ slot: Int, height h: Int, width w: Int) -> Workspace {
        let space = workspaces[slot]
        guard space.preparedSize != (h, w) else { return space }
        space.preparedSize = (h, w)
        let (ho, _) = outputSize(height: h, width: w)
        let wp = w + 2 * padding, planes = inChannels * (h + 2 * padding) * wp + kernel - 1
        let rows = [gemmDepth, rowLength(ho * wp)]
        for (buffer, shape) in [(space.padded, [planes]), (space.paddedGrad, [planes]), (space.columns, rows),
                                (space.columnsGrad, rows), (space.wide, [outChannels * ho * wp + 8]),
                                (space.wideGrad, [outChannels, ho * wp])] {
            buffer.resize(shape)
            buffer.zero()
        }
        return space
    }

    /// Makes a workspace for every slot a forEach may use (called before one starts).
    private func prepareWorkspaces() {
        while workspaces.count < Parallel.maxSlots { workspaces.append(Workspace()) }
    }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels,
                     "ConvPoolReLU(in: \(inChannels)) was given shape \(x.shape); pass [batch, \(inChannels), height, width]")
        let h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(height: h, width: w)
        precondition(ho >= 2 && wo >= 2,
                     "ConvPoolReLU(kernel: \(kernel), padding: \(padding)) needs a convolution output of at least 2 x 2 to pool, got \(ho) x \(wo) from \(h) x \(w)")
        input = x
        let batch = x.shape[0], wp = w + 2 * padding, n = ho * wp
        // Rows and columns of y: pooled, floored.
        let (yh, yw) = (ho / 2, wo / 2)
        output.resize(batch, outChannels, yh, yw)
        winnersBuffer.reserve(output.count)
        packWeights()
        prepareWorkspaces()
        let ldb = rowLength(n), y = output.pointer, winners = winnersBuffer.pointer
        Parallel.forEach(batch) { b, slot in
            let space = workspace(slot, height: h, width: w)
            im2col(x.pointer + b * inChannels * h * w, height: h, width: w, space)
            for g in 0..<gemms {
                BLAS.sgemm(m: outChannels, n: n, k: gemmDepth, a: gemmWeights(g), b: space.columns.pointer + g, ldb: ldb,
                           beta: g == 0 ? 0 : 1, c: space.wide.pointer)
            }
            // Valid columns plus bias (acc + b is the same float as a bias-initialised beta = 1
            // product), pooled and rectified.
            for c in 0..<outChannels {
                let bc = bias[c], plane = space.wide.pointer + c * n, at = (b * outChannels + c) * yh * yw
                for oy in 0..<yh {
                    let top = plane + 2 * oy * wp
                    MaxPool2x2.forwardRow(top: top, bottom: top + wp, count: yw, bias: bc, relu: true, readsPastEnd: true,
                                          into: y + at + oy * yw, winners: winners + at + oy * yw)
                }
            }
        }
        return output
    }

    /// dy [B, Cout, Ho/2, Wo/2] -> dx [B, Cin, H, W] (left empty when `needsInputGradient` is false).
    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("ConvPoolReLU.backward called before forward") }
        precondition(dy.count == output.count,
                     "ConvPoolReLU.backward was given \(dy.shape); expected \(output.shape) like its output")
        let batch = x.shape[0], h = x.shape[2], w = x.shape[3]
        let ho = outputSize(height: h, width: w).height
        let wp = w + 2 * padding, n = ho * wp
        let yh = output.shape[2], yw = output.shape[3]
        inputGrad.resize(needsInputGradient ? x.shape : [0])
        let rowLength = rowLength(n), depth = gemmDepth, cout = outChannels
        packWeights()
        prepareWorkspaces()
        let db = biasGrad.pointer, winners = winnersBuffer.pointer
        /// dyWide of image b into `wideGrad`: dy routed to the window winners; the junk columns,
        /// and the row and column a floored pooling drops, stay zero.
        func route(_ b: Int, into wideGrad: UnsafeMutablePointer<Float>) {
            for c in 0..<cout {
                let plane = wideGrad + c * n, at = (b * cout + c) * yh * yw
                for oy in 0..<yh {
                    let top = plane + 2 * oy * wp
                    MaxPool2x2.backwardRow(dy.pointer + at + oy * yw, winners: winners + at + oy * yw, count: yw,
                                           top: top, bottom: top + wp)
                }
            }
        }
        // dW goes to weightGrad directly, or when split to packedWeightGrad, added at the end.
        let dW = splitsKernelColumns ? packedWeightGrad : weightGrad
        if splitsKernelColumns { packedWeightGrad.resize(packedWeight.shape); packedWeightGrad.zero() }
        /// Image b's db and dW, added onto the batch's (wideGrad must hold its routed dy).
        func addWeightGradients(of b: Int, _ space: Workspace) {
            let wideGrad = space.wideGrad.pointer
            for c in 0..<cout { db[c] += Self.sum(wideGrad + c * n, count: n) }
            im2col(x.pointer + b * inChannels * h * w, height: h, width: w, space)
            for g in 0..<gemms {
                BLAS.sgemm(transB: true, m: cout, n: depth, k: n, a: wideGrad,
                           b: space.columns.pointer + g, ldb: rowLength, beta: 1, c: dW.pointer + g * cout * depth)
            }
        }
        /// Image b's dx (wideGrad must hold its routed dy).
        func inputGradient(of b: Int, _ space: Workspace) {
            let columnsGrad = space.columnsGrad.pointer
            // Gemm g adds its dcol at row offset g; the first one leaves the last k-1 floats of
            // each row, which only later ones reach, to be zeroed here.
            for row in 0..<depth { (columnsGrad + row * rowLength + n).update(repeating: 0, count: rowLength - n) }
            for g in 0..<gemms {
                BLAS.sgemm(transA: true, m: depth, n: n, k: cout, a: gemmWeights(g), lda: depth,
                           b: space.wideGrad.pointer, beta: g == 0 ? 0 : 1, c: columnsGrad + g, ldc: rowLength)
            }
            col2im(height: h, width: w, space, into: inputGrad.pointer + b * inChannels * h * w)
        }
        if Parallel.runsAlone {
            // One thread: each image's dy routed once for its dW, db and dx, in image order (the
            // pieces below do the very same arithmetic).
            let space = workspace(0, height: h, width: w)
            for b in 0..<batch {
                route(b, into: space.wideGrad.pointer)
                addWeightGradients(of: b, space)
                if needsInputGradient { inputGradient(of: b, space) }
            }
        } else {
            // Piece 0 adds every image's db and dW in image order (one chain, as on one thread);
            // piece 1 + b computes image b's dx, routing dy again in its own workspace.
            Parallel.forEach(needsInputGradient ? 1 + batch : 1) { piece, slot in
                let space = workspace(slot, height: h, width: w)
                if piece == 0 {
                    for b in 0..<batch {
                        route(b, into: space.wideGrad.pointer)
                        addWeightGradients(of: b, space)
                    }
                } else {
                    route(piece - 1, into: space.wideGrad.pointer)
                    inputGradient(of: piece - 1, space)
                }
            }
        }
        if splitsKernelColumns {
            let k = kernel
            for co in 0..<outChannels { for c in 0..<inChannels { for ky in 0..<k { for kx in 0..<k {
                weightGrad[((co * inChannels + c) * k + ky) * k + kx] += packedWeightGrad[(kx * outChannels + co) * depth + c * k + ky]
            } } } }
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

    // MARK: im2col / col2im for one image, through the padded plane

    /// image [Cin, H, W] -> interior of `padded` -> columns: row (c, t) = the padded plane of c
    /// from tapOffset(t) on (ky*Wp + kx, or ky*Wp when split).
    private func im2col(_ image: UnsafePointer<Float>, height h: Int, width w: Int, _ space: Workspace) {
        let padded = space.padded, columns = space.columns
        let p = padding, wp = w + 2 * p, plane = (h + 2 * p) * wp
        let length = rowLength(outputSize(height: h, width: w).height * wp)
        for c in 0..<inChannels {
            for y in 0..<h {
                (padded.pointer + c * plane + (y + p) * wp + p).update(from: image + (c * h + y) * w, count: w)
            }
        }
        var row = columns.pointer
        for c in 0..<inChannels {
            for t in 0..<taps {
                row.update(from: padded.pointer + c * plane + tapOffset(t, wp), count: length)
                row += length
            }
        }
    }

    /// The adjoint of im2col: row (c, t) of columnsGrad is added onto the padded plane of c from
    /// tapOffset(t) on; the interior of the padded planes is the image gradient [Cin, H, W].
    private func col2im(height h: Int, width w: Int, _ space: Workspace, into image: UnsafeMutablePointer<Float>) {
        let paddedGrad = space.paddedGrad, columnsGrad = space.columnsGrad
        let p = padding, wp = w + 2 * p, plane = (h + 2 * p) * wp
        let length = rowLength(outputSize(height: h, width: w).height * wp)
        paddedGrad.zero()
        var row = UnsafePointer(columnsGrad.pointer)
        for c in 0..<inChannels {
            for t in 0..<taps {
                Self.add(row, into: paddedGrad.pointer + c * plane + tapOffset(t, wp), count: length)
                row += length
            }
        }
        for c in 0..<inChannels {
            for y in 0..<h {
                (image + (c * h + y) * w).update(from: paddedGrad.pointer + c * plane + (y + p) * wp + p, count: w)
            }
        }
    }

    /// dst[i] += src[i], eight lanes at a time (the loop the compiler would not vectorize on its
    /// own, as dst and src may overlap as far as it knows).
    @inline(__always)
    private static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        let rawSrc = UnsafeRawPointer(src), rawDst = UnsafeMutableRawPointer(dst)
        var i = 0
        while i + 8 <= count {
            let sum = rawDst.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                + rawSrc.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            rawDst.storeBytes(of: sum, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { dst[i] += src[i]; i += 1 }
    }
}

/// Weight [Cout, Cin, k, k] and bias [Cout] with PyTorch's default init U(-1/sqrt(K), 1/sqrt(K)),
/// K = Cin*k*k, and their zero gradients: what ConvPoolReLU and the tests' plain Conv2d share.
package func convolutionParameters(_ layer: String, _ inChannels: Int, _ outChannels: Int, _ kernel: Int, _ padding: Int,
                                   _ rng: inout SeededRandom) -> (Tensor, Tensor, Tensor, Tensor) {
    precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && padding >= 0,
                 "\(layer) needs positive channels and kernel and padding >= 0, got in \(inChannels), out \(outChannels), kernel \(kernel), padding \(padding)")
    let weight = Tensor([outChannels, inChannels, kernel, kernel]), bias = Tensor([outChannels])
    let bound = 1 / Float(inChannels * kernel * kernel).squareRoot()
    weight.fillUniform(-bound, bound, &rng)
    bias.fillUniform(-bound, bound, &rng)
    return (weight, bias, Tensor(weight.shape), Tensor([outChannels]))
}
