// Softmax cross-entropy over rows of logits, with ignored rows and per-example grouping:
//
//   logits: R rows of C classes, contiguous (e.g. [B, T*C] read as B*T rows of C, or [B*S, V])
//   targets: R Int32 class ids, negative = ignored (padding, or a head the example does not supervise)
//   rows are grouped consecutively into examples of `groupSize` rows (R must be a multiple);
//   loss = mean over examples with >= 1 supervised row of (mean CE over its supervised rows)
//   dlogits [R, C] = (softmax - onehot) / (supervised rows of the example * counted examples),
//   0 on ignored rows.
//
// groupSize = T heads gives the vision loss (a definition supervises all T heads, a question one,
// and each example weighs the same); groupSize = 1 gives the token loss (mean over non-ignored
// tokens). Softmax subtracts the row max, so large logits do not overflow.
// Threads (Parallel.swift): rows in RowBlocks; the loss adds the rows' terms in row order after.

import Foundation

public final class SoftmaxCrossEntropy {
    /// Softmax of the last forward's logits, [R, C].
    public private(set) var probabilities = Tensor([0])
    /// dL/dlogits written by `backward`, [R, C].
    public private(set) var logitsGrad = Tensor([0])
    private var targets: [Int32] = []
    private var rowWeights: [Float] = []
    private var classes = 0
    /// Each row's weighted loss term, [R], added in row order into the loss.
    private let rowTerms = GrowingBuffer<Double>()

    public init() {}

    /// Returns the loss (0 when no row is supervised) and keeps what backward needs.
    /// `rows` defaults to all of `logits` (its count / classes).
    public func forward(logits: Tensor, rows: Int? = nil, classes: Int, targets: [Int32], groupSize: Int = 1) -> Float {
        precondition(classes > 0, "SoftmaxCrossEntropy needs at least one class, got \(classes)")
        let rows = rows ?? logits.count / classes
        precondition(rows * classes == logits.count,
                     "SoftmaxCrossEntropy was given logits of shape \(logits.shape), not \(rows) rows of \(classes) classes; pass rows * classes values")
        precondition(targets.count == rows,
                     "SoftmaxCrossEntropy got \(targets.count) targets for \(rows) rows of logits; pass one target per row (negative to ignore)")
        precondition(groupSize > 0 && rows % groupSize == 0,
                     "SoftmaxCrossEntropy groupSize \(groupSize) does not divide \(rows) rows; pass the number of rows per example")
        for t in targets where t >= classes {
            preconditionFailure("SoftmaxCrossEntropy target \(t) is not below the \(classes) classes; use class ids 0..<\(classes) or a negative value to ignore the row")
        }
        self.classes = classes
        // Copied, not retained: a caller refilling one targets array must not pay a copy-on-write.
        self.targets.removeAll(keepingCapacity: true)
        self.targets.append(contentsOf: targets)
        let c = classes
        probabilities.resize(rows, c)
        if rowWeights.count != rows {  // keeps its capacity: alternating batch sizes allocate nothing
            rowWeights.removeAll(keepingCapacity: true)
            rowWeights.append(contentsOf: repeatElement(0, count: rows))
        }

        // Each supervised row weighs 1 / (supervised rows of its example * counted examples).
        var countedExamples = 0
        for g in stride(from: 0, to: rows, by: groupSize) where targets[g..<(g + groupSize)].contains(where: { $0 >= 0 }) {
            countedExamples += 1
        }
        for g in stride(from: 0, to: rows, by: groupSize) {
            let supervised = targets[g..<(g + groupSize)].reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
            let w: Float = supervised == 0 ? 0 : 1 / Float(supervised * countedExamples)
            for r in g..<(g + groupSize) { rowWeights[r] = targets[r] >= 0 ? w : 0 }
        }

        rowTerms.reserve(rows)
        let x = logits.pointer, p = probabilities.pointer, terms = rowTerms.pointer
        let targets = self.targets, rowWeights = self.rowWeights
        Parallel.forEach(RowBlocks(rows: rows)) { block in for r in block {
            let xr = x + r * c, pr = p + r * c
            var m = xr[0]
            for j in 1..<c where xr[j] > m { m = xr[j] }
            var sum = 0.0
            for j in 0..<c {
                let e = exp(xr[j] - m)
                pr[j] = e
                sum += Double(e)
            }
            let inv = Float(1 / sum)
            for j in 0..<c { pr[j] *= inv }
            let t = Int(targets[r])
            // -log softmax_t = log(sum) - (x_t - m), without taking the log of a tiny p.
            terms[r] = t >= 0 ? Double(rowWeights[r]) * (log(sum) - Double(xr[t] - m)) : 0
        } }
        var loss = 0.0
        for r in 0..<rows where targets[r] >= 0 { loss += terms[r] }
        return Float(loss)
    }

    /// The same loss with labels [B, T] and a mask [B, T] of supervised heads (groupSize = T).
    public func forward(logits: Tensor, classes: Int, labels: [Int32], mask: [Bool], heads: Int) -> Float {
        precondition(labels.count == mask.count,
                     "SoftmaxCrossEntropy got \(labels.count) labels but \(mask.count) mask entries; pass one of each per head")
        let targets = zip(labels, mask).map { $1 ? $0 : -1 }
        return forward(logits: logits, classes: classes, targets: targets, groupSize: heads)
    }

    /// Writes and returns dL/dlogits [R, C] for the last forward.
    @discardableResult
    public func backward() -> Tensor {
        let c = classes, rows = targets.count
        logitsGrad.resize(probabilities.shape)
        let p = probabilities.pointer, g = logitsGrad.pointer
        let targets = self.targets, rowWeights = self.rowWeights
        Parallel.forEach(RowBlocks(rows: rows)) { block in for r in block {
            let pr = p + r * c, gr = g + r * c
            let w = rowWeights[r]
            if w == 0 {
                gr.update(repeating: 0, count: c)
                continue
            }
            for j in 0..<c { gr[j] = w * pr[j] }
            gr[Int(targets[r])] -= w
        } }
        return logitsGrad
    }

    /// Arg-max class of every row of `logits` read as rows of `classes` (first maximum on ties).
    public static func predictions(_ logits: Tensor, classes: Int) -> [Int32] {
        precondition(classes > 0 && logits.count % classes == 0,
                     "predictions(classes: \(classes)) was given logits of shape \(logits.shape); pass rows * \(classes) values")
        let rows = logits.count / classes
        var out = [Int32](repeating: 0, count: rows)
        let x = logits.pointer
        for r in 0..<rows {
            let xr = x + r * classes
            var best = 0
            for j in 1..<classes where xr[j] > xr[best] { best = j }
            out[r] = Int32(best)
        }
        return out
    }
}
