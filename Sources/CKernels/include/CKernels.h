// Element-wise kernels that the Swift core calls where SSE2, the x86-64 baseline Swift compiles
// for, leaves the arithmetic units half idle (see gelu.c).
#ifndef IML_CKERNELS_H
#define IML_CKERNELS_H

/// GELU forward over `count` elements: tanh_u[i] = tanh(u(x[i])) (Eigen's rational tanh),
/// y[i] = 0.5 x (1 + tanh_u[i]). Uses AVX2 when the processor has it; the bits are the same
/// either way.
void iml_gelu_forward(const float *x, float *tanh_u, float *y, long count);

/// The same on the x86-64 baseline whatever the processor has (for tests).
void iml_gelu_forward_baseline(const float *x, float *tanh_u, float *y, long count);

/// The processor's vector features that the operating system also supports (a bit set of the
/// IML_CPU_* values below); 0 on a processor that is not x86-64.
enum {
    IML_CPU_AVX = 1 << 0, IML_CPU_AVX2 = 1 << 1, IML_CPU_FMA = 1 << 2,
    IML_CPU_AVX512F = 1 << 3, IML_CPU_AVX512DQ = 1 << 4, IML_CPU_AVX512CD = 1 << 5,
    IML_CPU_AVX512BW = 1 << 6, IML_CPU_AVX512VL = 1 << 7, IML_CPU_AVX512BF16 = 1 << 8,
};
unsigned int iml_cpu_features(void);

/// Matrix product with bfloat16 inputs and fp32 sums, row-major as cblas_sgemm:
/// C[M,N] = alpha op(A)[M,K] op(B)[K,N] + beta C, op(X) = X or X^T (trans_x != 0). Each output is
/// one fixed chain of fused multiply-adds (gemm_bf16.c), so the AVX512-BF16 kernel, used when the
/// processor has it, and the reference give the same bits. Single-threaded; callers split the work.
void iml_sgemm_bf16(int trans_a, int trans_b, long m, long n, long k, float alpha,
                    const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc);

/// The same with scalar fused multiply-adds on any processor (the definition, for tests).
void iml_sgemm_bf16_reference(int trans_a, int trans_b, long m, long n, long k, float alpha,
                              const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc);

/// 1 when iml_sgemm_bf16 runs its AVX512-BF16 kernel here (the processor and OS support it).
int iml_bf16_kernel_available(void);

/// x rounded to bfloat16 (nearest even; a denormal becomes a zero of its sign; NaN made quiet), as an fp32.
float iml_bf16_round(float x);

#endif
