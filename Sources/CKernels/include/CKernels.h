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

#endif
