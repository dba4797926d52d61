// Max pooling, 2x2 window, stride 2, NCHW (odd sizes are floored, as PyTorch: the last row or
// column is dropped):
//
//   x [B, C, H, W] -> y [B, C, H/2, W/2];  winner [B, C, H/2, W/2] (Int32): which of the window's
//   four pixels won (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right)
//   dx [B, C, H, W]: dy routed to the winner of each window, zero elsewhere.
// Ties go to the first maximum in row-major window order (as PyTorch).
//
// The plain layer for tests; its row kernels (IMLCore's MaxPool2x2) are ConvPoolReLU's pool step.

import IMLCore

public final class MaxPool2d: Layer {
    public private(set) var output = Tensor([0])
    public private(set) var inputGrad = Tensor([0])
    private var winners: [Int32] = []
    private var inputShape: [Int] = []

    public init() {}

    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[2] >= 2 && x.shape[3] >= 2,
                     "MaxPool2d needs [batch, channels, height >= 2, width >= 2], got \(x.shape)")
        inputShape = x.shape
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        let ho = h / 2, wo = w / 2
        output.resize(x.shape[0], x.shape[1], ho, wo)
        if winners.count < output.count { winners = [Int32](repeating: 0, count: output.count) }
        let xp = x.pointer, yp = output.pointer
        winners.withUnsafeMutableBufferPointer { wb in
            for plane in 0..<planes {
                for oy in 0..<ho {
                    let top = xp + (plane * h + 2 * oy) * w, at = (plane * ho + oy) * wo
                    MaxPool2x2.forwardRow(top: top, bottom: top + w, count: wo, into: yp + at,
                                          winners: wb.baseAddress! + at)
                }
            }
        }
        return output
    }

    /// One pass that writes every dx value (the window's winner gets dy, the rest 0), instead of
    /// zeroing dx and scattering: dx is the biggest activation of the net (13.8 MB after conv1).
    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.count == output.count,
                     "MaxPool2d.backward was given \(dy.count) values for an output of shape \(output.shape)")
        inputGrad.resize(inputShape)
        let planes = inputShape[0] * inputShape[1], h = inputShape[2], w = inputShape[3]
        let ho = h / 2, wo = w / 2
        let g = dy.pointer, dx = inputGrad.pointer
        winners.withUnsafeBufferPointer { wb in
            for plane in 0..<planes {
                for oy in 0..<ho {
                    let top = dx + (plane * h + 2 * oy) * w, at = (plane * ho + oy) * wo
                    MaxPool2x2.backwardRow(g + at, winners: wb.baseAddress! + at, count: wo, top: top, bottom: top + w)
                    if w % 2 == 1 { top[w - 1] = 0; top[2 * w - 1] = 0 }
                }
                if h % 2 == 1 { (dx + (plane * h + h - 1) * w).update(repeating: 0, count: w) }
            }
        }
        return inputGrad
    }
}
