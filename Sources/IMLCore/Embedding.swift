// Token + learned position embedding (llm.c's encoder_forward/encoder_backward):
//
//   tokens [B, T] Int32 (row-major, 0 <= id < vocabSize, T <= maxLength) -> y [B, T, D]
//   y[b, t, :] = tokenTable[tokens[b, t], :] + positionTable[t, :]
//   tokenTable [vocabSize, D], positionTable [maxLength, D]
//
// Backward scatters dL/dy into both tables (+=); there is no input gradient.

import IMLBase

public final class Embedding: Layer {
    public let vocabSize: Int
    public let maxLength: Int
    public let dim: Int

    public let tokenTable: Tensor
    public let positionTable: Tensor
    public let tokenTableGrad: Tensor
    public let positionTableGrad: Tensor

    public private(set) var output = Tensor([0])
    private var tokens: [Int32] = []
    private var batch = 0
    private var length = 0

    /// Both tables start N(0, initStd^2); 0.02 is GPT-2's choice.
    public init(vocabSize: Int, maxLength: Int, dim: Int, initStd: Float = 0.02, rng: inout SeededRandom) {
        precondition(vocabSize > 0 && maxLength > 0 && dim > 0)
        self.vocabSize = vocabSize
        self.maxLength = maxLength
        self.dim = dim
        tokenTable = Tensor([vocabSize, dim])
        positionTable = Tensor([maxLength, dim])
        tokenTableGrad = Tensor([vocabSize, dim])
        positionTableGrad = Tensor([maxLength, dim])
        tokenTable.fillNormal(std: initStd, &rng)
        positionTable.fillNormal(std: initStd, &rng)
    }

    public private(set) lazy var parameters: [Parameter] = {
        [Parameter("tokenTable", tokenTable, tokenTableGrad),
         Parameter("positionTable", positionTable, positionTableGrad)]
    }()

    /// The tokens are copied for backward into the layer's own buffer (not retained), so a caller
    /// that refills one array batch after batch never triggers a copy-on-write allocation.
    public func forward(tokens: [Int32], batch: Int, length: Int) -> Tensor {
        precondition(tokens.count == batch * length, "Embedding: \(tokens.count) tokens for [\(batch), \(length)]")
        precondition(length <= maxLength, "Embedding: length \(length) > maxLength \(maxLength)")
        self.tokens.removeAll(keepingCapacity: true)
        self.tokens.append(contentsOf: tokens)
        self.batch = batch
        self.length = length
        let d = dim
        output.resize(batch, length, d)
        let yp = output.pointer, tok = tokenTable.pointer, pos = positionTable.pointer
        tokens.withUnsafeBufferPointer { ids in
            for b in 0..<batch {
                for t in 0..<length {
                    let id = Int(ids[b * length + t])
                    precondition(id >= 0 && id < vocabSize, "Embedding: token id \(id) outside [0, \(vocabSize))")
                    let yr = yp + (b * length + t) * d, tr = tok + id * d, pr = pos + t * d
                    for i in 0..<d { yr[i] = tr[i] + pr[i] }
                }
            }
        }
        return output
    }

    public func backward(_ outputGrad: Tensor) {
        precondition(outputGrad.count == batch * length * dim, "Embedding.backward: gradient \(outputGrad.shape) for [\(batch), \(length), \(dim)]")
        let d = dim, length = self.length
        let dyp = outputGrad.pointer, dtok = tokenTableGrad.pointer, dpos = positionTableGrad.pointer
        tokens.withUnsafeBufferPointer { ids in
            for b in 0..<batch {
                for t in 0..<length {
                    let id = Int(ids[b * length + t])
                    let dyr = dyp + (b * length + t) * d, tr = dtok + id * d, pr = dpos + t * d
                    for i in 0..<d {
                        tr[i] += dyr[i]
                        pr[i] += dyr[i]
                    }
                }
            }
        }
    }
}

