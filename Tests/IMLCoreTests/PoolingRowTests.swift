import IMLBase
@testable import IMLCore
import XCTest

/// The pooling row kernel's SIMD tail (readsPastEnd, which ConvPoolReLU uses on its wide rows)
/// gives the scalar tail's exact maxima and winner codes, ties and NaN included.
final class PoolingRowTests: XCTestCase {
    func testTheSIMDTailEqualsTheScalarTail() {
        var rng = SeededRandom(seed: 11)
        let values: [Float] = [-1, 0, 0, 1, 2, .nan, -0.0]
        for count in 1...11 {
            for (bias, relu) in [(Float(0), false), (0, true), (-0.5, true), (0.25, false)] {
                // Both rows with the slack the SIMD tail may read (6 floats past 2 * count).
                let length = 2 * count + 8
                let top = UnsafeMutablePointer<Float>.allocate(capacity: length)
                let bottom = UnsafeMutablePointer<Float>.allocate(capacity: length)
                defer { top.deallocate(); bottom.deallocate() }
                for i in 0..<length {
                    top[i] = values[rng.int(below: values.count)]
                    bottom[i] = values[rng.int(below: values.count)]
                }
                var ySIMD = [Float](repeating: 7, count: count + 4), yScalar = ySIMD
                var codesSIMD = [Int32](repeating: 9, count: count + 4), codesScalar = codesSIMD
                MaxPool2x2.forwardRow(top: top, bottom: bottom, count: count, bias: bias, relu: relu, readsPastEnd: true,
                                      into: &ySIMD, winners: &codesSIMD)
                MaxPool2x2.forwardRow(top: top, bottom: bottom, count: count, bias: bias, relu: relu,
                                      into: &yScalar, winners: &codesScalar)
                let what = "count \(count) bias \(bias) relu \(relu)"
                XCTAssertEqual(ySIMD.map(\.bitPattern), yScalar.map(\.bitPattern), what)
                XCTAssertEqual(codesSIMD, codesScalar, what)
                // Nothing written past count.
                XCTAssertEqual(Array(ySIMD[count...]), [7, 7, 7, 7], what)
                XCTAssertEqual(Array(codesSIMD[count...]), [9, 9, 9, 9], what)
            }
        }
    }
}
