// GELU's forward loop (GELU.swift calls it), in C because C can compile one loop twice: for the
// x86-64 baseline (SSE2, four lanes) and for AVX2 (eight lanes), picked at run time. Swift
// compiles a module for one target only, and its four-lane loop kept the FP units busy with ~38
// operations per four elements (the polynomial of the rational tanh): GELU was the largest part of
// a text step outside the matrix products.
//
// Every operation is one correctly rounded float operation in the order GELU.swift documents
// (no FMA: contraction is off, and the AVX2 copy is not compiled for FMA either), the constants
// are the exact float bits, and min, max and abs compare as Swift's do, so both copies give the
// same bits as each other and as the formula written out in Swift (GELUTests check all three).

#include "CKernels.h"

#pragma clang fp contract(off)

/// Eigen's float tanh: odd degree-13 numerator over even degree-6 denominator, clamped at +-7.9
/// where it reaches 1 in float; tanh(x) = x near 0, where the quotient loses relative accuracy.
static inline float rational_tanh(float a) {
    const float limit = 0x1.f9f09ep+2f;         // 7.905311
    float low = (-limit >= a) ? -limit : a;     // Swift's max(a, -limit)
    float x = (limit < low) ? limit : low;      // Swift's min(low, limit)
    float x2 = x * x;
    float p = -0x1.3e4b8p-52f;                  // -2.7607684e-16
    p = p * x2 + 0x1.c266fcp-43f;               // 2.000188e-13
    p = p * x2 - 0x1.7a6ffep-34f;               // 8.604672e-11
    p = p * x2 + 0x1.b80082p-25f;               // 5.1222973e-08
    p = p * x2 + 0x1.f28694p-17f;               // 1.48572235e-05
    p = p * x2 + 0x1.4e1bdap-11f;               // 0.00063726195
    p = p * x2 + 0x1.40b3b8p-8f;                // 0.0048935246
    p = p * x;
    float q = 0x1.41a7bp-20f;                   // 1.1982584e-06
    q = q * x2 + 0x1.f12bacp-14f;               // 0.00011853471
    q = q * x2 + 0x1.29540ap-9f;                // 0.0022684347
    q = q * x2 + 0x1.40b3bap-8f;                // 0.004893525
    return __builtin_fabsf(x) < 0x1.a36e2ep-12f ? x : p / q;   // 0.0004
}

static inline void gelu_forward(const float *restrict x, float *restrict tanh_u, float *restrict y, long count) {
    const float s = 0x1.988454p-1f;             // sqrt(2/pi) = 0.7978846
    const float c = 0x1.6e4e26p-5f;             // 0.044715
    for (long i = 0; i < count; i++) {
        float v = x[i];
        float th = rational_tanh(s * (v + c * v * v * v));
        tanh_u[i] = th;
        y[i] = 0.5f * v * (1.0f + th);
    }
}

void iml_gelu_forward_baseline(const float *x, float *tanh_u, float *y, long count) {
    gelu_forward(x, tanh_u, y, count);
}

#if defined(__x86_64__) && defined(__clang__)
__attribute__((target("avx2")))
static void gelu_forward_avx2(const float *x, float *tanh_u, float *y, long count) {
    gelu_forward(x, tanh_u, y, count);
}

void iml_gelu_forward(const float *x, float *tanh_u, float *y, long count) {
    if (__builtin_cpu_supports("avx2")) gelu_forward_avx2(x, tanh_u, y, count);
    else gelu_forward(x, tanh_u, y, count);
}
#else
void iml_gelu_forward(const float *x, float *tanh_u, float *y, long count) {
    gelu_forward(x, tanh_u, y, count);
}
#endif
