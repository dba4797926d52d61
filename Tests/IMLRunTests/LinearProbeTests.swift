import Foundation
import XCTest
import IMLBase
import IMLCore
@testable import IMLAnalysis

/// Synthetic probe data: `groups` groups of `rowsPerGroup` rows, row-major [count, dimension].
private struct ProbeData {
    var features: [Float] = []
    var labels: [Bool] = []
    var groups: [Int] = []
    let dimension: Int
}

final class LinearProbeTests: XCTestCase {
    override func setUp() {
        super.setUp()
        BLAS.setThreads(1)
    }

    private func gaussian(_ count: Int, _ random: inout SeededRandom) -> [Float] {
        (0..<count).map { _ in Float(random.normal()) }
    }

    /// label = sign(x . u) for a fixed random direction u, with a margin |x . u| > 0.25; the other
    /// directions are noise. A group's rows are drawn until they fall on its label's side. A constant
    /// feature is appended (it must not produce NaN).
    private func separableData(groups: Int = 100, rowsPerGroup: Int = 4, dimension: Int = 20, seed: UInt64 = 1) -> ProbeData {
        var random = SeededRandom(seed: seed)
        var direction = gaussian(dimension, &random)
        let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        direction = direction.map { $0 / norm }
        var data = ProbeData(dimension: dimension + 1)
        for group in 0..<groups {
            let label = random.int(below: 2) == 1
            for _ in 0..<rowsPerGroup {
                while true {
                    let x = gaussian(dimension, &random)
                    let projection = zip(x, direction).reduce(0) { $0 + $1.0 * $1.1 }
                    if abs(projection) > 0.25 && (projection > 0) == label {
                        data.features += x + [3]
                        break
                    }
                }
                data.labels.append(label)
                data.groups.append(group)
            }
        }
        return data
    }

    private func noiseData(groups: Int = 100, rowsPerGroup: Int = 4, dimension: Int = 20, seed: UInt64 = 2) -> ProbeData {
        var random = SeededRandom(seed: seed)
        var data = ProbeData(dimension: dimension)
        for group in 0..<groups {
            let label = random.int(below: 2) == 1
            for _ in 0..<rowsPerGroup {
                data.features += gaussian(dimension, &random)
                data.labels.append(label)
                data.groups.append(group)
            }
        }
        return data
    }

    /// Each group: a random fingerprint (its rows are the fingerprint plus a little noise) and a
    /// random label. The fingerprint says nothing about the label of another group, but everything
    /// about the label of its own group's other rows: only a probe whose folds split groups can win.
    private func fingerprintData(groups: Int = 200, rowsPerGroup: Int = 4, dimension: Int = 300, seed: UInt64 = 3) -> ProbeData {
        var random = SeededRandom(seed: seed)
        var data = ProbeData(dimension: dimension)
        for group in 0..<groups {
            let label = random.int(below: 2) == 1
            let fingerprint = gaussian(dimension, &random)
            for _ in 0..<rowsPerGroup {
                data.features += zip(fingerprint, gaussian(dimension, &random)).map { $0 + 0.3 * $1 }
                data.labels.append(label)
                data.groups.append(group)
            }
        }
        return data
    }

    private func probe(_ data: ProbeData, groups: [Int]? = nil, seed: UInt64 = 7) throws -> ProbeResult {
        try LinearProbe.crossValidate(features: data.features, dimension: data.dimension, labels: data.labels,
                                      groups: groups ?? data.groups, seed: seed)
    }

    // MARK: - Accuracy

    func testSeparableDataIsProbedAccuratelyAndItsControlSitsAtChance() throws {
        let data = separableData()
        let result = try probe(data)
        XCTAssertGreaterThan(result.accuracy, 0.95)
        XCTAssertEqual(result.controlAccuracy, 0.5, accuracy: 0.15)
        XCTAssertEqual(result.foldAccuracies.count, 5)
        XCTAssertTrue(result.foldAccuracies.allSatisfy { $0.isFinite })
        XCTAssertEqual(result.dimension, 21)
        // Balanced: as many true rows as false rows among the examples (groups all have 4 rows).
        let trueRows = data.labels.filter { $0 }.count
        XCTAssertEqual(result.examples, 2 * min(trueRows, data.labels.count - trueRows))
    }

    func testNoiseFeaturesGiveChance() throws {
        let result = try probe(noiseData())
        XCTAssertEqual(result.accuracy, 0.5, accuracy: 0.1)
        XCTAssertEqual(result.controlAccuracy, 0.5, accuracy: 0.1)
    }

    func testGroupedFoldsDoNotLeakGroupFingerprints() throws {
        let data = fingerprintData()
        // The data can reveal a leak: with every row its own group, folds split the groups and the
        // probe reads each test row's label off its group's fingerprint.
        let leaky = try probe(data, groups: Array(data.labels.indices))
        XCTAssertGreaterThan(leaky.accuracy, 0.9)
        // Grouped folds: the fingerprint of a test group was never seen in training.
        let grouped = try probe(data)
        XCTAssertEqual(grouped.accuracy, 0.5, accuracy: 0.15)
    }

    // MARK: - Balancing and folds

    func testBalancingDropsWholeGroupsOfTheLargerClass() throws {
        // 30 true groups, 10 false groups, 4 rows each: 10 true groups are kept.
        var data = noiseData(groups: 40)
        data.labels = data.groups.map { $0 < 30 }
        let groupLabel = try LinearProbe.validate(features: data.features, dimension: data.dimension, labels: data.labels,
                                                  groups: data.groups, folds: 5, l2: 1e-2)
        let kept = LinearProbe.balancedGroups(groupLabel: groupLabel, groups: data.groups, seed: 7)
        XCTAssertEqual(kept.filter { $0 < 30 }.count, 10)
        XCTAssertEqual(kept.filter { $0 >= 30 }.count, 10)
        XCTAssertEqual(try probe(data).examples, 80)

        // Unequal group sizes: as close as whole groups allow (9 false rows; true groups of 4 rows
        // reach 8, not 12).
        let labels = [Bool](repeating: true, count: 40) + [Bool](repeating: false, count: 9)
        let groups = (0..<40).map { $0 / 4 } + (0..<9).map { 100 + $0 }
        let unequal = LinearProbe.balancedGroups(groupLabel: Dictionary(zip(groups, labels), uniquingKeysWith: { first, _ in first }),
                                                 groups: groups, seed: 7)
        XCTAssertEqual(unequal.filter { $0 < 100 }.count, 2)
        XCTAssertEqual(unequal.filter { $0 >= 100 }.count, 9)
    }

    func testEveryFoldHoldsWholeGroupsOfBothClasses() {
        let data = noiseData(groups: 23)
        let rows = Array(data.labels.indices)
        let foldOf = LinearProbe.foldOfRow(rows: rows, labels: data.labels, groups: data.groups, folds: 5, seed: 7)
        for fold in 0..<5 {
            let testRows = rows.filter { foldOf[$0] == fold }
            let testGroups = Set(testRows.map { data.groups[$0] })
            let trainGroups = Set(rows.filter { foldOf[$0] != fold }.map { data.groups[$0] })
            XCTAssertTrue(testGroups.isDisjoint(with: trainGroups), "fold \(fold) shares a group")
            XCTAssertEqual(Set(testRows.map { data.labels[$0] }), [false, true], "fold \(fold) lacks a class")
        }
    }

    func testStandardizationUsesTheTrainingRowsOnly() {
        // Rows 0 and 1 are training rows; row 2 (a huge outlier) must not move the statistics.
        let features: [Float] = [1, 5,  3, 5,  1000, -7]
        let scaler = LinearProbe.Standardizer(features: features, dimension: 2, rows: [0, 1])
        XCTAssertEqual(scaler.mean, [2, 5])
        XCTAssertEqual(scaler.inverseStd, [1, 0])   // std 1; the constant feature is zeroed, not NaN
        XCTAssertEqual(scaler.apply(features, rows: [2, 0]), [998, 0, -1, 0])
    }

    /// A feature that varies only by float rounding (relative 1e-7 here) is as constant as one that
    /// does not vary at all: the probe reads the same nothing from both.
    func testRoundingNoiseCountsAsConstant() throws {
        var data = noiseData(groups: 40, rowsPerGroup: 2, dimension: 3)
        var exact = data
        var random = SeededRandom(seed: 5)
        for i in data.features.indices {
            exact.features[i] = 1.5
            data.features[i] = 1.5 * (1 + (random.uniformFloat() - 0.5) * 2e-7)
        }
        let scaler = LinearProbe.Standardizer(features: data.features, dimension: 3, rows: Array(0..<80))
        XCTAssertEqual(scaler.inverseStd, [0, 0, 0])
        XCTAssertEqual(try probe(data, seed: 1), try probe(exact, seed: 1))
    }

    // MARK: - Determinism

    func testTwoCallsGiveIdenticalResults() throws {
        let data = separableData(groups: 60)
        let first = try probe(data, seed: 11)
        let second = try probe(data, seed: 11)
        XCTAssertEqual(first, second)
        let fit = { LinearProbe.fit(features: data.features, rows: data.labels.count, dimension: data.dimension,
                                    targets: data.labels, l2: 1e-2) }
        let (a, b) = (fit(), fit())
        XCTAssertEqual(a.weights, b.weights)
        XCTAssertEqual(a.bias, b.bias)
    }

    // MARK: - The solver

    /// f(w, b) of the file's header, in Double, written independently of the solver.
    private func objective(_ x: [Float], _ n: Int, _ d: Int, _ t: [Bool], _ l2: Double, _ w: [Double], _ b: Double) -> Double {
        var loss = 0.0
        for i in 0..<n {
            var z = b
            for j in 0..<d { z += Double(x[i * d + j]) * w[j] }
            loss += log(1 + exp(z)) - (t[i] ? z : 0)
        }
        return loss / Double(n) + 0.5 * l2 * w.reduce(0) { $0 + $1 * $1 }
    }

    func testFitIsAStationaryPointByFiniteDifferences() {
        // Noisy labels (not separable), raw unstandardised features with an offset.
        let (n, d) = (80, 5)
        var random = SeededRandom(seed: 5)
        let x = gaussian(n * d, &random).map { $0 + 0.5 }
        let t = (0..<n).map { i in Double(x[i * d]) - Double(x[i * d + 1]) + random.normal() > 0.5 }
        let l2 = 1e-2
        let model = LinearProbe.fit(features: x, rows: n, dimension: d, targets: t, l2: Float(l2))
        XCTAssertLessThanOrEqual(model.gradientNorm, 1e-5)
        XCTAssertGreaterThan(model.iterations, 0)

        // Central differences of the independent objective at the solution.
        let w = model.weights.map { Double($0) }, b = Double(model.bias)
        let f0 = objective(x, n, d, t, l2, w, b)
        XCTAssertEqual(model.loss, f0, accuracy: 1e-6)
        let h = 1e-5
        for j in 0...d {
            var plus = w, minus = w, bPlus = b, bMinus = b
            if j < d { plus[j] += h; minus[j] -= h } else { bPlus += h; bMinus -= h }
            let derivative = (objective(x, n, d, t, l2, plus, bPlus) - objective(x, n, d, t, l2, minus, bMinus)) / (2 * h)
            XCTAssertEqual(derivative, 0, accuracy: 1e-4, "df/d\(j < d ? "w\(j)" : "b")")
        }
        // And the loss is a minimum, not just flat: the start (all zeros) is worse.
        XCTAssertLessThan(f0, objective(x, n, d, t, l2, [Double](repeating: 0, count: d), 0) - 0.05)
    }

    func testBiasIsNotRegularised() {
        // Uninformative (all-zero) features and 70% true: the optimum is w = 0, b = logit(0.7) for
        // any l2; a penalised bias would be pulled toward 0.
        let n = 100
        let model = LinearProbe.fit(features: [Float](repeating: 0, count: n * 3), rows: n, dimension: 3,
                                    targets: (0..<n).map { $0 < 70 }, l2: 1)
        XCTAssertEqual(Double(model.bias), log(0.7 / 0.3), accuracy: 1e-4)
        XCTAssertEqual(model.weights, [0, 0, 0])
    }

    // MARK: - Bad input

    func testEachBadInputGivesItsSentence() {
        let data = noiseData(groups: 10, rowsPerGroup: 2, dimension: 3)
        func expect(_ message: String, features: [Float]? = nil, dimension: Int = 3, labels: [Bool]? = nil,
                    groups: [Int]? = nil, folds: Int = 5, l2: Float = 1e-2, line: UInt = #line) {
            XCTAssertThrowsError(try LinearProbe.crossValidate(features: features ?? data.features, dimension: dimension,
                                                               labels: labels ?? data.labels, groups: groups ?? data.groups,
                                                               folds: folds, l2: l2, seed: 0), line: line) {
                XCTAssertEqual(($0 as? IMLError)?.message, message, line: line)
            }
        }
        expect("The probe needs at least 2 folds, got 1.", folds: 1)
        expect("The probe needs a feature dimension of at least 1, got 0.", dimension: 0)
        expect("The probe's l2 must be positive and finite, got 0.0.", l2: 0)
        expect("There are 20 labels but 19 group ids; give one label and one group id per row.", groups: Array(data.groups.dropLast()))
        expect("There are 59 feature values for 20 rows of dimension 3 (60 expected); give one row of features per label.",
               features: Array(data.features.dropLast()))
        expect("The probe was given no rows.", features: [], labels: [], groups: [])
        var withNaN = data.features
        withNaN[7] = .nan
        expect("Feature 1 of row 2 is nan; the probe needs finite features.", features: withNaN)
        var mixed = data.labels
        mixed[0] = !mixed[1]
        expect("Group 0 has rows labelled both true and false; all rows of a group must share one label.", labels: mixed)
        expect("All 20 rows have the label true; the probe needs rows of both labels.",
               labels: [Bool](repeating: true, count: 20))
        expect("There are 10 groups, fewer than the 11 folds; use at most 10 folds or give more groups.", folds: 11)
        // 19 true groups of one row, 1 false group of one row: balancing leaves 2 groups.
        expect("After balancing the classes 2 groups remain, fewer than the 5 folds; use at most 2 folds or give more groups.",
               labels: (0..<20).map { $0 >= 1 }, groups: Array(0..<20))
    }
}
