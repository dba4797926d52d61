import Foundation
import IMLBase
@testable import MNIST
import XCTest

final class MNISTSplitTests: XCTestCase {
    func testImageAccessAndIndicesByLabel() throws {
        let pixels = syntheticPixels(count: 4)
        let split = try MNISTSplit(count: 4, rows: 28, cols: 28, images: pixels, labels: [2, 0, 2, 9])
        XCTAssertEqual(split.pixelsPerImage, 784)
        XCTAssertEqual(Array(split.image(2)), Array(pixels[(2 * 784)..<(3 * 784)]))
        XCTAssertEqual(split.imageArray(3), Array(pixels[(3 * 784)...]))
        XCTAssertEqual(split.withImage(1) { Array($0) }, Array(pixels[784..<(2 * 784)]))
        XCTAssertEqual(split.indicesByLabel.count, 10)
        XCTAssertEqual(split.indicesByLabel[2], [0, 2])
        XCTAssertEqual(split.indicesByLabel[0], [1])
        XCTAssertEqual(split.indicesByLabel[9], [3])
        XCTAssertEqual(split.indicesByLabel.map(\.count).reduce(0, +), 4)
    }

    func testRejectsInconsistentArrays() {
        assertIMLError(["3 images but 2 labels"]) {
            try MNISTSplit(count: 3, rows: 28, cols: 28, images: syntheticPixels(count: 3), labels: [1, 2])
        }
        assertIMLError(["got 784"]) {
            try MNISTSplit(count: 2, rows: 28, cols: 28, images: syntheticPixels(count: 1), labels: [1, 2])
        }
        assertIMLError(["label 10 at index 1"]) {
            try MNISTSplit(count: 2, rows: 28, cols: 28, images: syntheticPixels(count: 2), labels: [1, 10])
        }
    }
}
