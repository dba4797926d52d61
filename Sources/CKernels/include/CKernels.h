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

#endif
