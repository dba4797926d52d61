import CKernels
import IMLBase
import XCTest

/// The bf16 matrix product (CKernels/gemm_bf16.c): rounding, the fixed order of each output's sum
/// on small cases worked by hand, the AVX512-BF16 kernel bit for bit against the scalar reference,
/// and both within the error bound of fp32 sums against an fp64 product of the rounded inputs.
final class BF16GEMMTests: XCTestCase {
    func testRoundingIsToNearestEvenWithDenormalsToZero() {
        let one = Float(1)
        XCTAssertEqual(iml_bf16_round(one + 0x1p-8), 1, "halfway: to the even neighbour, 1")
        XCTAssertEqual(iml_bf16_round(one + 3 * 0x1p-8), 1 + 0x1p-6, "halfway: to the even neighbour, 1 + 2^-6")
        XCTAssertEqual(iml_bf16_round(one + 0x1p-8 + 0x1p-20), 1 + 0x1p-7, "above halfway: up")
        XCTAssertEqual(iml_bf16_round(-2.5), -2.5, "bf16 values are kept")
        XCTAssertEqual(iml_bf16_round(Float.greatestFiniteMagnitude), .infinity, "past the largest bf16: infinity")
        let tiny = Float(bitPattern: 0x8000_1234)  // a negative denormal
        XCTAssertEqual(iml_bf16_round(tiny).bitPattern, 0x8000_0000, "a denormal becomes a zero of its sign")
        XCTAssertEqual(iml_bf16_round(Float.leastNormalMagnitude), Float.leastNormalMagnitude)
        let nan = iml_bf16_round(Float(bitPattern: 0x7F80_0001))
        XCTAssertTrue(nan.isNaN, "a signalling NaN stays a NaN")
        XCTAssertEqual(nan.bitPattern & 0x0040_0000, 0x0040_0000, "made quiet")
    }

    /// C = A B for one output, computed as the definition says: pairs of k in order, the odd
    /// element of each pair first. A = [1, 0, 1, 2^24], B = 1: after the first pair s = 1; then
    /// 1 + 2^24 rounds to 2^24 (a tie, to even), and + 1 again to 2^24. Summing in k order would
    /// give 2^24 + 2; the even element first, 2^24 + 2 too.
    func testEachOutputSumsPairsOfKOddElementFirst() {
        for product in [iml_sgemm_bf16, iml_sgemm_bf16_reference] {
            let a: [Float] = [1, 0, 1, 0x1p24], b: [Float] = [1, 1, 1, 1]
            var c: [Float] = [7]
            product(0, 0, 1, 1, 4, 1, a, 4, b, 1, 0, &c, 1)
            XCTAssertEqual(c[0], 0x1p24)
            // alpha and beta: C = alpha s + beta C, each rounded; beta 0 never reads C (a NaN there stays out).
            c = [.nan]
            product(0, 0, 1, 1, 2, 0.5, [3, 5], 2, [1, 1], 1, 0, &c, 1)
            XCTAssertEqual(c[0], 4)
            c = [10]
            product(0, 0, 1, 1, 2, 1, [3, 5], 2, [1, 1], 1, 0.5, &c, 1)
            XCTAssertEqual(c[0], 13)
            // Inputs are rounded first: 1 + 2^-8 is 1 in bf16, so the product of it with itself is 1.
            c = [0]
            product(0, 0, 1, 1, 1, 1, [1 + 0x1p-8], 1, [1 + 0x1p-8], 1, 0, &c, 1)
            XCTAssertEqual(c[0], 1)
        }
    }

    /// Random shapes around the kernel's panel sizes (8 rows, 32 columns, pairs of k), every
    /// transpose, padded leading dimensions, alpha and beta, with zeros, denormals and values far
    /// apart in size among the inputs: the kernel gives the reference's bits.
    func testTheKernelGivesTheReferenceBitsOnEveryShape() throws {
        try XCTSkipUnless(iml_bf16_kernel_available() != 0, "this processor has no AVX512-BF16; iml_sgemm_bf16 is the reference here")
        var rng = SeededRandom(seed: 7, stream: "bf16-gemm")
        func value() -> Float {
            switch rng.int(below: 20) {
            case 0: return 0
            case 1: return Float(bitPattern: UInt32(rng.int(below: 0x7F_FFFF)) | (rng.int(below: 2) == 0 ? 0 : 0x8000_0000))
            case 2: return Float(rng.uniformDouble() - 0.5) * 0x1p20
            default: return Float(rng.uniformDouble() * 2 - 1)
            }
        }
        var cases = 0
        for _ in 0..<150 {
            let m = 1 + rng.int(below: 20), n = 1 + rng.int(below: 70), k = rng.int(below: 75)
            let transA = rng.int(below: 2), transB = rng.int(below: 2)
            let lda = (transA == 1 ? m : k) + rng.int(below: 3), ldb = (transB == 1 ? k : n) + rng.int(below: 3)
            let ldc = n + rng.int(below: 3)
            let a = (0..<max(1, lda * (transA == 1 ? k : m))).map { _ in value() }
            let b = (0..<max(1, ldb * (transB == 1 ? n : k))).map { _ in value() }
            let start = (0..<(ldc * m)).map { _ in Float(rng.uniformDouble()) }
            let alpha: Float = rng.int(below: 2) == 0 ? 1 : 0.7, beta: Float = [0, 1, 0.3][rng.int(below: 3)]
            var kernel = start, reference = start
            iml_sgemm_bf16(Int32(transA), Int32(transB), m, n, k, alpha, a, lda, b, ldb, beta, &kernel, ldc)
            iml_sgemm_bf16_reference(Int32(transA), Int32(transB), m, n, k, alpha, a, lda, b, ldb, beta, &reference, ldc)
            XCTAssertEqual(kernel.map(\.bitPattern), reference.map(\.bitPattern), "m \(m) n \(n) k \(k) transA \(transA) transB \(transB)")
            cases += 1
        }
        XCTAssertEqual(cases, 150)
    }

    /// Against an fp64 product of the bf16-rounded inputs: each output is K fused multiply-adds in
    /// fp32, so |C - exact| <= gamma_K sum |a||b| with gamma_K = K u / (1 - K u), u = 2^-24.
    func testTheProductIsWithinTheFP32SumBoundOfTheExactOne() {
        var rng = SeededRandom(seed: 11, stream: "bf16-gemm-bound")
        let m = 13, n = 37, k = 301
        let a = (0..<(m * k)).map { _ in Float(rng.uniformDouble() * 2 - 1) }
        let b = (0..<(k * n)).map { _ in Float(rng.uniformDouble() * 2 - 1) }
        var c = [Float](repeating: 0, count: m * n)
        iml_sgemm_bf16(0, 0, m, n, k, 1, a, k, b, n, 0, &c, n)
        let u = 0x1p-24, gamma = Double(k) * u / (1 - Double(k) * u)
        var worst = 0.0, plainWorst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, magnitude = 0.0, unrounded = 0.0
                for p in 0..<k {
                    let x = Double(iml_bf16_round(a[i * k + p])), y = Double(iml_bf16_round(b[p * n + j]))
                    exact += x * y
                    magnitude += abs(x * y)
                    unrounded += Double(a[i * k + p]) * Double(b[p * n + j])
                }
                XCTAssertLessThanOrEqual(abs(Double(c[i * n + j]) - exact), gamma * magnitude, "C[\(i), \(j)]")
                worst = max(worst, abs(Double(c[i * n + j]) - exact) / magnitude)
                plainWorst = max(plainWorst, abs(Double(c[i * n + j]) - unrounded) / magnitude)
            }
        }
        // The bf16 rounding of the inputs, not the sums, is what moves the result off the fp32 one.
        XCTAssertGreaterThan(plainWorst, 10 * worst)
    }
}
