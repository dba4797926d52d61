// Matrix products through OpenBLAS, row-major: cblas_sgemm for the layers, cblas_sgemv for the
// linear probe.
//
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C[M,N]
//   op(A) = A (stored M x K, lda >= K) or A^T (A stored K x M, lda >= M); likewise for B.

import CBLAS
import Foundation

public enum BLAS {
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
