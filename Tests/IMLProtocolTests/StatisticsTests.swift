import XCTest
@testable import IMLProtocol

final class StatisticsTests: XCTestCase {
    func testStudentTQuantilesMatchTables() {
        // Two-sided 95% critical values from standard t tables.
        let table: [(Double, Double)] = [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (30, 2.042), (1000, 1.962)]
        for (df, t) in table {
            XCTAssertEqual(Statistics.studentTQuantile(0.975, degreesOfFreedom: df), t, accuracy: 1e-3, "df \(df)")
        }
        XCTAssertEqual(Statistics.studentTQuantile(0.025, degreesOfFreedom: 4), -2.776, accuracy: 1e-3)
    }

    func testCI95OfKnownSample() {
        // values 1..5: mean 3, s = sqrt(2.5), half-width = 2.776 * 1.5811 / sqrt(5) = 1.9632
        let xs: [Double] = [1, 2, 3, 4, 5]
        XCTAssertEqual(Statistics.ci95HalfWidth(xs), 2.7764451 * 2.5.squareRoot() / 5.0.squareRoot(), accuracy: 1e-5)
        XCTAssertTrue(Statistics.ci95HalfWidth([0.5]).isNaN)
        let s = SeedSummary(xs)
        XCTAssertEqual(s.mean, 3)
        XCTAssertEqual(s.perSeed, xs)
    }

    func testExactMatch() {
        XCTAssertEqual(Statistics.exactMatch(predictions: [1, 2, 3, 4], answers: [1, 0, 3, 0]), 0.5)
        XCTAssertTrue(Statistics.exactMatch(predictions: [], answers: []).isNaN)
    }
}
