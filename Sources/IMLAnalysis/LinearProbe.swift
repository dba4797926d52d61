// Linear probe: can a linear read-out of a layer's activations on question inputs tell whether the
// question's variable was defined with tag 1 or tag 2? (Krasheninnikov et al. 2024, the probing
// analysis.) An L2-regularised logistic regression, scored by grouped k-fold cross-validation.
//
//   features [count, dimension] row-major Float, one row per question
//   labels   [count] Bool  (false: tag 1, true: tag 2)
//   groups   [count] Int   (the question's variable; all rows of a group share one label)
//
//   1. balance: drop whole groups of the larger class (seeded) until the two classes' row counts
//      are as close as a greedy pass over the shuffled groups gets them
//   2. folds: each class's groups, shuffled (seeded), are dealt round-robin to the folds
//      (stratified group k-fold), so no group is in both the training and the test part of a fold
//   3. per fold: standardise with the training part's mean and std only; fit; test accuracy
//   4. control: the groups' labels permuted among the groups (seeded), steps 2-3 again; ~0.5
//
// The fit minimises, over the n training rows with t_i = 1 for true and 0 for false,
//   f(w, b) = (1/n) sum_i [log(1 + exp(z_i)) - t_i z_i] + (l2/2) |w|^2,   z = X w + b
//   grad_w  = X^T (sigmoid(z) - t) / n + l2 w,   grad_b = sum_i (sigmoid(z_i) - t_i) / n
// with L-BFGS (memory 10, backtracking Armijo line search). The bias is not regularised.
//
// Results are bit-identical for identical inputs under the same BLAS kernel and thread count
// (the caller sets the threads, as for training; BLAS.setThreads(1) is the project's norm).

import Foundation
import IMLBase
import IMLCore

public struct ProbeResult: Equatable, Sendable {
    /// Test accuracy over all folds: correct / total, i.e. each fold weighted by its test rows.
    public var accuracy: Double
    /// Test accuracy of each fold, in fold order.
    public var foldAccuracies: [Double]
    /// Accuracy of the same procedure on the groups' labels permuted among the groups (seeded).
    public var controlAccuracy: Double
    /// Rows used after balancing the classes.
    public var examples: Int
    public var dimension: Int

    public init(accuracy: Double, foldAccuracies: [Double], controlAccuracy: Double, examples: Int, dimension: Int) {
        self.accuracy = accuracy
        self.foldAccuracies = foldAccuracies
        self.controlAccuracy = controlAccuracy
        self.examples = examples
        self.dimension = dimension
    }
}

public enum LinearProbe {
    /// Default L2 strength, in units of the mean logistic loss on standardised features. Moderate on
    /// purpose: activations have as many dimensions as there are questions or more, and a weakly
    /// regularised probe on them memorises its training part. (scikit-learn's C = 1 / (l2 * n):
    /// 1e-2 is C = 0.025 on 4,000 training rows.)
    public static let defaultL2: Float = 1e-2

    /// Grouped, class-balanced k-fold accuracy of an L2 logistic-regression probe, and the same on
    /// labels shuffled across groups as a control.
    ///
    /// features: row-major [count, dimension]; labels: one Bool per row; groups: one Int per row
    /// (rows of a group share their label). Balancing drops whole groups of the larger class.
    public static func crossValidate(features: [Float], dimension: Int, labels: [Bool], groups: [Int],
                                     folds: Int = 5, l2: Float = defaultL2, seed: UInt64) throws -> ProbeResult {
        let groupLabel = try validate(features: features, dimension: dimension, labels: labels, groups: groups,
                                      folds: folds, l2: l2)

        // 1. Balance: the rows of the kept groups, in their original order.
        let keptGroups = balancedGroups(groupLabel: groupLabel, groups: groups, seed: seed)
        guard keptGroups.count >= folds else {
            throw IMLError("After balancing the classes \(keptGroups.count) groups remain, fewer than the \(folds) folds; "
                           + "use at most \(keptGroups.count) folds or give more groups.")
        }
        let rows = groups.indices.filter { keptGroups.contains(groups[$0]) }

        // 2-3. The probe on the real labels.
        let real = groupedFolds(features: features, dimension: dimension, rows: rows, labels: labels, groups: groups,
                                folds: folds, l2: l2, seed: seed)

        // 4. Control: the kept groups' labels permuted among them; a group keeps a single label and
        // each label keeps its number of groups, so only the link from features to label is broken.
        let sortedKept = keptGroups.sorted()
        var permutedLabels = sortedKept.map { groupLabel[$0]! }
        var controlRandom = SeededRandom(seed: seed, stream: "probe-control")
        controlRandom.shuffle(&permutedLabels)
        let controlGroupLabel = Dictionary(uniqueKeysWithValues: zip(sortedKept, permutedLabels))
        let controlLabels = groups.map { controlGroupLabel[$0] ?? false }   // rows outside `rows` are never read
        let control = groupedFolds(features: features, dimension: dimension, rows: rows, labels: controlLabels,
                                   groups: groups, folds: folds, l2: l2, seed: seed)

        return ProbeResult(accuracy: real.accuracy, foldAccuracies: real.foldAccuracies,
                           controlAccuracy: control.accuracy, examples: rows.count, dimension: dimension)
    }

    // MARK: - Input checks

    /// Checks the inputs; returns each group's label.
    static func validate(features: [Float], dimension: Int, labels: [Bool], groups: [Int],
                         folds: Int, l2: Float) throws -> [Int: Bool] {
        guard folds >= 2 else { throw IMLError("The probe needs at least 2 folds, got \(folds).") }
        guard dimension >= 1 else { throw IMLError("The probe needs a feature dimension of at least 1, got \(dimension).") }
        guard l2 > 0 && l2.isFinite else { throw IMLError("The probe's l2 must be positive and finite, got \(l2).") }
        guard labels.count == groups.count else {
            throw IMLError("There are \(labels.count) labels but \(groups.count) group ids; give one label and one group id per row.")
        }
        guard features.count == labels.count * dimension else {
            throw IMLError("There are \(features.count) feature values for \(labels.count) rows of dimension \(dimension) "
                           + "(\(labels.count * dimension) expected); give one row of features per label.")
        }
        guard !labels.isEmpty else { throw IMLError("The probe was given no rows.") }
        if let bad = features.firstIndex(where: { !$0.isFinite }) {
            throw IMLError("Feature \(bad % dimension) of row \(bad / dimension) is \(features[bad]); the probe needs finite features.")
        }
        var groupLabel: [Int: Bool] = [:]
        for (group, label) in zip(groups, labels) {
            if let seen = groupLabel[group], seen != label {
                throw IMLError("Group \(group) has rows labelled both true and false; all rows of a group must share one label.")
            }
            groupLabel[group] = label
        }
        guard labels.contains(true) && labels.contains(false) else {
            throw IMLError("All \(labels.count) rows have the label \(labels[0]); the probe needs rows of both labels.")
        }
        guard groupLabel.count >= folds else {
            throw IMLError("There are \(groupLabel.count) groups, fewer than the \(folds) folds; "
                           + "use at most \(groupLabel.count) folds or give more groups.")
        }
        return groupLabel
    }

    // MARK: - Balancing and folds

    /// The groups kept: all of the smaller class (by rows) and, of the larger class, the groups a
    /// seeded greedy pass keeps while each one brings the row count closer to the smaller class's.
    /// Whole groups, so that no variable is half in the data; equal group sizes balance exactly.
    static func balancedGroups(groupLabel: [Int: Bool], groups: [Int], seed: UInt64) -> Set<Int> {
        var rowsOfGroup: [Int: Int] = [:]
        for group in groups { rowsOfGroup[group, default: 0] += 1 }
        let trueGroups = groupLabel.keys.filter { groupLabel[$0]! }.sorted()
        let falseGroups = groupLabel.keys.filter { !groupLabel[$0]! }.sorted()
        let trueRows = trueGroups.reduce(0) { $0 + rowsOfGroup[$1]! }
        let falseRows = falseGroups.reduce(0) { $0 + rowsOfGroup[$1]! }
        if trueRows == falseRows { return Set(groupLabel.keys) }

        let (smaller, target, larger) = trueRows < falseRows ? (trueGroups, trueRows, falseGroups)
                                                             : (falseGroups, falseRows, trueGroups)
        var shuffled = larger
        var random = SeededRandom(seed: seed, stream: "probe-balance")
        random.shuffle(&shuffled)
        var kept = Set(smaller)
        var keptRows = 0
        for group in shuffled {
            let size = rowsOfGroup[group]!
            // Keep the group if it brings the count strictly closer to the target:
            // |keptRows + size - target| < |keptRows - target|  <=>  2 keptRows + size < 2 target.
            if 2 * keptRows + size < 2 * target || keptRows == 0 {
                kept.insert(group)
                keptRows += size
            }
        }
        return kept
    }

    /// Fold of each row in `rows`: each class's groups (sorted, then shuffled with the seed) are dealt
    /// round-robin; the second class starts where the first stopped, so the folds' group counts
    /// differ by at most one and every fold gets test rows of both classes when each class has at
    /// least `folds` groups.
    static func foldOfRow(rows: [Int], labels: [Bool], groups: [Int], folds: Int, seed: UInt64) -> [Int] {
        var groupLabel: [Int: Bool] = [:]
        for row in rows { groupLabel[groups[row]] = labels[row] }
        var random = SeededRandom(seed: seed, stream: "probe-folds")
        var foldOfGroup: [Int: Int] = [:]
        var next = 0
        for label in [false, true] {
            var classGroups = groupLabel.keys.filter { groupLabel[$0] == label }.sorted()
            random.shuffle(&classGroups)
            for group in classGroups {
                foldOfGroup[group] = next
                next = (next + 1) % folds
            }
        }
        return rows.map { foldOfGroup[groups[$0]]! }
    }

    /// Steps 2-3: accuracy over the folds of `rows` (indices into the features) with these labels.
    static func groupedFolds(features: [Float], dimension d: Int, rows: [Int], labels: [Bool], groups: [Int],
                             folds: Int, l2: Float, seed: UInt64) -> (accuracy: Double, foldAccuracies: [Double]) {
        let foldOf = foldOfRow(rows: rows, labels: labels, groups: groups, folds: folds, seed: seed)
        var correctTotal = 0
        var foldAccuracies: [Double] = []
        for fold in 0..<folds {
            let trainRows = zip(rows, foldOf).filter { $0.1 != fold }.map { $0.0 }
            let testRows = zip(rows, foldOf).filter { $0.1 == fold }.map { $0.0 }

            let scaler = Standardizer(features: features, dimension: d, rows: trainRows)
            let model = fit(features: scaler.apply(features, rows: trainRows), rows: trainRows.count, dimension: d,
                            targets: trainRows.map { labels[$0] }, l2: l2)

            // Test margins z = X_test w + b on the test part standardised with the training statistics.
            let test = scaler.apply(features, rows: testRows)
            var margins = [Float](repeating: model.bias, count: testRows.count)
            if !testRows.isEmpty {
                BLAS.sgemv(m: testRows.count, n: d, a: test, x: model.weights, beta: 1, y: &margins)
            }
            var correct = 0
            for (i, row) in testRows.enumerated() where (margins[i] > 0) == labels[row] { correct += 1 }
            correctTotal += correct
            foldAccuracies.append(testRows.isEmpty ? .nan : Double(correct) / Double(testRows.count))
        }
        return (Double(correctTotal) / Double(rows.count), foldAccuracies)
    }

    // MARK: - Standardisation

    /// Per-feature mean and 1/std of the training rows (population std, accumulated in Double). A
    /// feature constant over them gets 1/std = 0: it carries no information there, and zeroing it
    /// keeps NaN and huge test values out.
    struct Standardizer {
        let dimension: Int
        var mean: [Double]
        var inverseStd: [Double]

        // Raw pointers in the loops below: this module is built without optimisation in debug
        // builds, where array subscripts cost several times more than the arithmetic.
        init(features: [Float], dimension d: Int, rows: [Int]) {
            dimension = d
            var mean = [Double](repeating: 0, count: d)
            var squares = [Double](repeating: 0, count: d)
            let n = Double(max(rows.count, 1))
            features.withUnsafeBufferPointer { features in
                mean.withUnsafeMutableBufferPointer { mean in
                    squares.withUnsafeMutableBufferPointer { squares in
                        let m = mean.baseAddress!, s = squares.baseAddress!
                        for row in rows {
                            let x = features.baseAddress! + row * d
                            for j in 0..<d { m[j] += Double(x[j]) }
                        }
                        for j in 0..<d { m[j] /= n }
                        // Two passes: squares of centred values, not E[x^2] - E[x]^2, which cancels.
                        for row in rows {
                            let x = features.baseAddress! + row * d
                            for j in 0..<d { let centred = Double(x[j]) - m[j]; s[j] += centred * centred }
                        }
                    }
                }
            }
            self.mean = mean
            // A feature whose spread is float rounding, not signal (e.g. every question's `<bos>`
            // position, computed in batches of different shapes), counts as constant: scaled to
            // unit variance its noise would be something to fit. "Rounding" is judged against the
            // layer's own scale.
            let meanSquare = zip(mean, squares).reduce(0.0) { $0 + $1.0 * $1.0 + $1.1 / n } / Double(max(d, 1))
            let floor = 1e-5 * meanSquare.squareRoot()
            inverseStd = squares.map { let std = ($0 / n).squareRoot(); return std > floor ? 1 / std : 0 }
        }

        /// The given rows, standardised, as a row-major [rows.count, dimension] matrix.
        func apply(_ features: [Float], rows: [Int]) -> [Float] {
            let d = dimension
            var out = [Float](repeating: 0, count: rows.count * d)
            features.withUnsafeBufferPointer { features in
                mean.withUnsafeBufferPointer { mean in
                    inverseStd.withUnsafeBufferPointer { inverseStd in
                        out.withUnsafeMutableBufferPointer { out in
                            let m = mean.baseAddress!, s = inverseStd.baseAddress!
                            for (i, row) in rows.enumerated() {
                                let x = features.baseAddress! + row * d, y = out.baseAddress! + i * d
                                for j in 0..<d { y[j] = Float((Double(x[j]) - m[j]) * s[j]) }
                            }
                        }
                    }
                }
            }
            return out
        }
    }

    // MARK: - Logistic regression

    /// A fitted probe: P(true) = sigmoid(x . weights + bias).
    struct LogisticModel {
        var weights: [Float]
        var bias: Float
        /// Objective f(w, b) at the solution.
        var loss: Double
        /// max |gradient| at the solution, as the solver computed it.
        var gradientNorm: Double
        var iterations: Int
    }

    /// Minimises f(w, b) (top of the file) by L-BFGS. x: row-major [n, d]; targets: one per row.
    /// Stops when max |gradient| <= tolerance, or when the line search cannot lower f any more (the
    /// Float products' precision floor), or after maxIterations.
    ///
    /// Each iteration costs two sgemv over X: X p for the direction p (the line search then moves
    /// the margins as z + alpha X p, O(n) per trial) and X^T r for the new gradient. The optimiser's
    /// own vectors are Double; only the products with X are Float.
    static func fit(features x: [Float], rows n: Int, dimension d: Int, targets: [Bool], l2: Float,
                    tolerance: Double = 1e-5, maxIterations: Int = 1000, memory: Int = 10) -> LogisticModel {
        precondition(n > 0 && d > 0 && x.count == n * d && targets.count == n, "fit: inconsistent sizes")
        let lambda = Double(l2)
        let invN = 1 / Double(n)

        var theta = [Double](repeating: 0, count: d + 1)      // weights, then the bias
        var margins = [Double](repeating: 0, count: n)        // z = X w + b at theta
        var gradient = [Double](repeating: 0, count: d + 1)
        var residual = [Float](repeating: 0, count: n)        // sigmoid(z) - t, fed to sgemv
        var xtResidual = [Float](repeating: 0, count: d)      // X^T residual
        var direction = [Double](repeating: 0, count: d + 1)
        var directionWeights = [Float](repeating: 0, count: d)
        var xDirection = [Float](repeating: 0, count: n)      // X p (weights part)
        var trialMargins = [Double](repeating: 0, count: n)
        var sHistory: [[Double]] = [], yHistory: [[Double]] = [], rhoHistory: [Double] = []

        // Mean logistic loss of margins z: log(1 + exp(z)) - t z = softplus(t ? -z : z), computed stably.
        func dataLoss(_ z: [Double]) -> Double {
            var sum = 0.0
            for i in 0..<n {
                let m = targets[i] ? -z[i] : z[i]
                sum += max(m, 0) + log1p(exp(-abs(m)))
            }
            return sum * invN
        }
        func penalty(_ theta: [Double]) -> Double {
            var sum = 0.0
            for j in 0..<d { sum += theta[j] * theta[j] }
            return 0.5 * lambda * sum
        }
        // gradient at (theta, margins)
        func computeGradient() {
            var biasGradient = 0.0
            for i in 0..<n {
                let z = margins[i]
                let sigmoid = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
                let r = sigmoid - (targets[i] ? 1 : 0)
                residual[i] = Float(r)
                biasGradient += r
            }
            BLAS.sgemv(trans: true, m: n, n: d, a: x, x: residual, y: &xtResidual)
            for j in 0..<d { gradient[j] = Double(xtResidual[j]) * invN + lambda * theta[j] }
            gradient[d] = biasGradient * invN
        }
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var sum = 0.0
            for j in a.indices { sum += a[j] * b[j] }
            return sum
        }
        func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }

        var loss = dataLoss(margins) + penalty(theta)
        computeGradient()
        var iterations = 0
        while iterations < maxIterations && maxAbs(gradient) > tolerance {
            // Direction p = -H g by the two-loop recursion, H0 = (s.y / y.y) I from the newest pair.
            for j in 0...d { direction[j] = -gradient[j] }
            var alphas = [Double](repeating: 0, count: sHistory.count)
            for k in stride(from: sHistory.count - 1, through: 0, by: -1) {
                alphas[k] = rhoHistory[k] * dot(sHistory[k], direction)
                for j in 0...d { direction[j] -= alphas[k] * yHistory[k][j] }
            }
            if let s = sHistory.last, let y = yHistory.last {
                let scale = dot(s, y) / dot(y, y)
                for j in 0...d { direction[j] *= scale }
            }
            for k in sHistory.indices {
                let beta = rhoHistory[k] * dot(yHistory[k], direction)
                for j in 0...d { direction[j] += (alphas[k] - beta) * sHistory[k][j] }
            }
            var slope = dot(gradient, direction)
            if !(slope < 0) {
                // Not a descent direction (rounding in the history): forget it, go downhill.
                sHistory = []; yHistory = []; rhoHistory = []
                for j in 0...d { direction[j] = -gradient[j] }
                slope = dot(gradient, direction)
            }

            // X p, then backtrack from a unit step (the first step, with no curvature known yet,
            // is 1 / |g| long) until f falls by the Armijo fraction of the slope.
            for j in 0..<d { directionWeights[j] = Float(direction[j]) }
            BLAS.sgemv(m: n, n: d, a: x, x: directionWeights, y: &xDirection)
            var step = sHistory.isEmpty ? min(1, 1 / dot(gradient, gradient).squareRoot()) : 1
            var trialLoss = Double.infinity
            var accepted = false
            for _ in 0..<50 {
                for i in 0..<n { trialMargins[i] = margins[i] + step * (Double(xDirection[i]) + direction[d]) }
                var trialPenalty = 0.0
                for j in 0..<d { let w = theta[j] + step * direction[j]; trialPenalty += w * w }
                trialLoss = dataLoss(trialMargins) + 0.5 * lambda * trialPenalty
                if trialLoss <= loss + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            guard accepted else { break }   // no lower f to be found in Float precision

            let s = direction.map { $0 * step }
            for j in 0...d { theta[j] += s[j] }
            swap(&margins, &trialMargins)
            loss = trialLoss
            let previousGradient = gradient
            computeGradient()
            let y = zip(gradient, previousGradient).map { $0 - $1 }
            let sy = dot(s, y)
            if sy > 1e-12 * dot(y, y) {       // positive curvature (always, up to rounding: f is strictly convex)
                if sHistory.count == memory { sHistory.removeFirst(); yHistory.removeFirst(); rhoHistory.removeFirst() }
                sHistory.append(s); yHistory.append(y); rhoHistory.append(1 / sy)
            }
            iterations += 1
        }
        return LogisticModel(weights: theta[0..<d].map { Float($0) }, bias: Float(theta[d]), loss: loss,
                             gradientNorm: maxAbs(gradient), iterations: iterations)
    }
}
