// Matrix products through OpenBLAS, row-major: cblas_sgemm for the layers, cblas_sgemv for the
// linear probe.
//
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C[M,N]
//   op(A) = A (stored M x K, lda >= K) or A^T (A stored K x M, lda >= M); likewise for B.

import CBLAS
import CKernels
import Foundation
import IMLBase

public enum BLAS {
    /// The arithmetic of every sgemm: fp32 (OpenBLAS), or bf16 inputs with fp32 sums (our kernel).
    /// One value per process, set before a run's tasks are built (`use(_:)`), read by every product.
    public nonisolated(unsafe) private(set) static var precision = Precision.fp32

    /// True when this processor (and its OS) runs the bf16 kernel: AVX512-BF16.
    public static var bf16KernelAvailable: Bool { iml_bf16_kernel_available() != 0 }

    /// Makes every later product use `precision`; bf16 needs a processor with AVX512-BF16.
    public static func use(_ precision: Precision) throws {
        if precision == .bf16 && !bf16KernelAvailable {
            throw IMLError("--precision bf16 needs a processor with AVX512-BF16 (Intel Cooper Lake or later, AMD Zen 4 or later), and this one has none; use --precision fp32.")
        }
        self.precision = precision
    }

    /// The shape of one product, as iml-bench records the products of a training step.
    public struct ProductShape: Hashable, Sendable {
        public let m: Int, n: Int, k: Int, transA: Bool, transB: Bool
    }
    /// When set, every sgemm reports its shape first (iml-bench, on one thread; nil in runs).
    public nonisolated(unsafe) static var recordShape: ((ProductShape) -> Void)?

    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int,
                             alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int? = nil,
                             b: UnsafePointer<Float>, ldb: Int? = nil,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
        let lda = lda ?? (transA ? m : k)
        let ldb = ldb ?? (transB ? k : n)
        let ldc = ldc ?? n
        if let recordShape { recordShape(ProductShape(m: m, n: n, k: k, transA: transA, transB: transB)) }
        if precision == .bf16 {
            iml_sgemm_bf16(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Matrix-vector product through cblas_sgemv, row-major A stored M x N (lda >= N):
    ///   y[M] = alpha * A x[N] + beta * y    (trans false)
    ///   y[N] = alpha * A^T x[M] + beta * y  (trans true)
    @inline(__always)
    public static func sgemv(trans: Bool = false, m: Int, n: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int? = nil,
                             x: UnsafePointer<Float>, beta: Float = 0,
                             y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), alpha, a, Int32(lda ?? n), x, 1, beta, y, 1)
    }

    /// Threads OpenBLAS may use. Single-threaded BLAS makes results bit-identical run to run.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
}

extension BLAS {
    /// Which BLAS computes the products: OpenBLAS' build configuration (version, DYNAMIC_ARCH, the
    /// kernel it was told to use) and the kernel ("core") it picked for this processor, or the one
    /// OPENBLAS_CORETYPE named before the library loaded. Different kernels sum in different
    /// orders, so a run is bit-reproducible only on the same kernel.
    public static var configuration: String {
        String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces)
    }
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
