// Matrix products with bfloat16 inputs and fp32 sums (`--precision bf16`), row-major like BLAS:
//
//   C[M,N] = alpha * op(A)[M,K] op(B)[K,N] + beta * C
//
// Every output has one definition, whatever computes it:
//   1. each input is rounded to bf16: round to nearest even; an fp32 denormal becomes a zero of its
//      sign; a NaN stays a NaN, made quiet (what VCVTNE2PS2BF16 does);
//   2. s = +0, then for each pair of k, p = 0, 1, ...: s += a[2p+1] b[2p+1], then s += a[2p] b[2p],
//      each an fp32 fused multiply-add rounded to nearest even, with denormal inputs read as zero and a
//      denormal result flushed to a zero of its sign; an odd K ends with a pair whose second half is
//      +0 in both operands. This is what one VDPBF16PS lane does, in the order the Intel SDM gives
//      (the odd element first), and what Zen 4 does: 32 million random lanes, denormals, infinities
//      and NaNs included, matched bit for bit;
//   3. C = alpha s (skipped when alpha is 1), then + beta C when beta is not 0, each rounded.
// So the AVX512-BF16 kernel and the reference (scalar fmaf, any processor) give the same bits, and
// a product never depends on how the caller split it across threads.
//
// The kernel packs op(A) into panels of MR rows and op(B) into panels of NR columns, each entry a
// 32-bit pair (k = 2p in the low half, 2p+1 in the high half), and multiplies a panel pair with
// MR x NR/16 accumulators: per pair of k, two loads of B, MR broadcasts of A and 2 MR VDPBF16PS
// (8 x 32; 16 x 16 when the product is at most 16 columns wide).

#include "CKernels.h"
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// MARK: Rounding and the reference

/// fp32 bits -> the bf16 in the upper half of 32 bits (lower half zero).
static inline uint32_t bf16_upper(uint32_t x) {
    if (((x >> 23) & 0xFF) == 0) return x & 0x80000000u;                  // zero or denormal
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (x | 0x00400000u) & 0xFFFF0000u;  // NaN, quiet
    return (x + 0x7FFFu + ((x >> 16) & 1u)) & 0xFFFF0000u;
}

static inline uint32_t bits_of(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float float_of(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

float iml_bf16_round(float x) { return float_of(bf16_upper(bits_of(x))); }

static inline float flushed(float x) { return fpclassify(x) == FP_SUBNORMAL ? copysignf(0.0f, x) : x; }

static inline float element(const float *x, long rs, long ks, long r, long k, long rows, long depth) {
    return (r < rows && k < depth) ? iml_bf16_round(x[r * rs + k * ks]) : 0.0f;
}

static inline float finish(float s, float alpha, float beta, const float *c) {
    float r = alpha == 1.0f ? s : alpha * s;
    return beta == 0.0f ? r : r + beta * *c;
}

void iml_sgemm_bf16_reference(int trans_a, int trans_b, long m, long n, long k, float alpha,
                              const float *a, long lda, const float *b, long ldb,
                              float beta, float *c, long ldc) {
    long ars = trans_a ? 1 : lda, aks = trans_a ? lda : 1;   // op(A)(i, k) = a[i * ars + k * aks]
    long brs = trans_b ? ldb : 1, bks = trans_b ? 1 : ldb;   // op(B)(k, j) = b[j * brs + k * bks]
    for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) {
            float s = 0.0f;
            for (long p = 0; 2 * p < k; p++) {
                s = flushed(fmaf(element(a, ars, aks, i, 2 * p + 1, m, k), element(b, brs, bks, j, 2 * p + 1, n, k), s));
                s = flushed(fmaf(element(a, ars, aks, i, 2 * p, m, k), element(b, brs, bks, j, 2 * p, n, k), s));
            }
            float *out = c + i * ldc + j;
            *out = finish(s, alpha, beta, out);
        }
    }
}

// MARK: The AVX512-BF16 kernel

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 8
#define NR 32
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

/// The 16 pairs of 32 consecutive values. VCVTNE2PS2BF16 rounds as bf16_upper does (checked on
/// all 2^32 inputs on Zen 4; the kernel-against-reference test checks it wherever it runs).
BF16_TARGET static inline __m512i pairs16(const float *x) {
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x));
}

/// The pairs of the first `count` of 32 consecutive values (count >= 1), the rest +0.
BF16_TARGET static inline __m512i pairs16_upto(const float *x, long count) {
    if (count >= 32) return pairs16(x);
    const __mmask16 low = count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
    const __mmask16 high = count > 16 ? (__mmask16)((1u << (count - 16)) - 1) : 0;
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high, x + 16), _mm512_maskz_loadu_ps(low, x));
}

/// Pairs (lo[j], hi[j]) of 16 values each, `mask` the lanes loaded.
BF16_TARGET static inline __m512i interleaved_pairs16(const float *lo, const float *hi, __mmask16 mask) {
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    __m512 h = hi ? _mm512_maskz_loadu_ps(mask, hi) : _mm512_setzero_ps();
    __m512i both = (__m512i)_mm512_cvtne2ps_pbh(h, _mm512_maskz_loadu_ps(mask, lo));
    return _mm512_permutexvar_epi16(order, both);
}

/// t[i] element j <-> t[j] element i, for 16 vectors of 16 32-bit values.
BF16_TARGET static inline void transpose16(__m512i t[16]) {
    __m512i u[16];
    for (int i = 0; i < 16; i += 2) {
        u[i] = _mm512_unpacklo_epi32(t[i], t[i + 1]);
        u[i + 1] = _mm512_unpackhi_epi32(t[i], t[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        t[i] = _mm512_unpacklo_epi64(u[i], u[i + 2]);
        t[i + 1] = _mm512_unpackhi_epi64(u[i], u[i + 2]);
        t[i + 2] = _mm512_unpacklo_epi64(u[i + 1], u[i + 3]);
        t[i + 3] = _mm512_unpackhi_epi64(u[i + 1], u[i + 3]);
    }
    // Now t[4b + c] holds, in each 128-bit lane L, row (4b + 0..3)'s column 4L + c.
    for (int i = 0; i < 8; i++) {
        int b = i / 4 * 8 + i % 4;  // pairs (0,4) (1,5) (2,6) (3,7) (8,12) ...
        u[b] = _mm512_shuffle_i32x4(t[b], t[b + 4], 0x88);      // lanes 0,2 of each
        u[b + 4] = _mm512_shuffle_i32x4(t[b], t[b + 4], 0xDD);  // lanes 1,3 of each
    }
    for (int i = 0; i < 8; i++) {
        int b = i;  // pairs (0,8) (1,9) ... (7,15)
        t[b] = _mm512_shuffle_i32x4(u[b], u[b + 8], 0x88);
        t[b + 8] = _mm512_shuffle_i32x4(u[b], u[b + 8], 0xDD);
    }
}

/// Packs rows r0 ..< r0 + R of X (X(r, k) = x[r * rs + k * ks], `rows` x `depth`; rows past the end
/// are zero) as out[p * R + r] = the pair (X(r, 2p), X(r, 2p + 1)), for every pair p of k; with
/// `by_row`, as out[r * pairs + p] instead (contiguous stores when k is contiguous in X). X has k or
/// r contiguous (ks or rs is 1), as op(A) and op(B) always do; packing by pairs with k contiguous
/// (B's panels) needs R a multiple of 16.
BF16_TARGET static void pack_pairs(const float *x, long rs, long ks, long r0, long R, long rows, long depth, int by_row, uint32_t *out) {
    const long pairs = (depth + 1) / 2;
    const long valid = rows - r0 < R ? rows - r0 : R;
    if (ks == 1 && by_row) {
        // k contiguous: 32 values of a row give 16 pairs at once (the last ones masked).
        for (long r = 0; r < R; r++) {
            for (long p = 0; p < pairs; p += 16) {
                const long count = pairs - p < 16 ? pairs - p : 16;
                __m512i both = r < valid ? pairs16_upto(x + (r0 + r) * rs + 2 * p, depth - 2 * p) : _mm512_setzero_si512();
                _mm512_mask_storeu_epi32(out + r * pairs + p, (__mmask16)((1u << count) - 1), both);
            }
        }
    } else if (ks == 1) {
        // By pairs: 16 rows' 16 pairs each, transposed in registers, so that stores are whole vectors.
        for (long p = 0; p < pairs; p += 16) {
            const long count = pairs - p < 16 ? pairs - p : 16;
            for (long r = 0; r < R; r += 16) {
                __m512i t[16];
                for (int q = 0; q < 16; q++) {
                    t[q] = r + q < valid ? pairs16_upto(x + (r0 + r + q) * rs + 2 * p, depth - 2 * p) : _mm512_setzero_si512();
                }
                transpose16(t);
                for (int q = 0; q < count; q++) _mm512_storeu_si512(out + (p + q) * R + r, t[q]);
            }
        }
    } else {
        // r contiguous: the values of k = 2p and 2p + 1 for 16 rows at once.
        for (long p = 0; p < pairs; p++) {
            for (long r = 0; r < R; r += 16) {
                long left = valid - r;
                __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
                const float *lo_row = x + (2 * p) * ks + r0 + r;
                __m512i both = interleaved_pairs16(lo_row, 2 * p + 1 < depth ? lo_row + ks : 0, mask);
                if (R - r >= 16) _mm512_storeu_si512(out + p * R + r, both);
                else _mm512_mask_storeu_epi32(out + p * R + r, (__mmask16)((1u << (R - r)) - 1), both);
            }
        }
    }
}

/// C[rows x cols] (rows <= MR, cols <= NR) from packed panels of `pairs` pairs; A's pair p of row i
/// is ap[p * aps + i * ais].
BF16_TARGET static void micro_kernel(long pairs, const uint32_t *ap, long aps, long ais, const uint32_t *bp, float *c, long ldc,
                                     long rows, long cols, float alpha, float beta) {
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = _mm512_setzero_ps(); }
    for (long p = 0; p < pairs; p++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + p * NR);
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + p * NR + 16);
        const uint32_t *a = ap + p * aps;
        for (int i = 0; i < MR; i++) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i * ais]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (long i = 0; i < rows; i++) {
        for (int h = 0; h < 2; h++) {
            long left = cols - 16 * h;
            if (left <= 0) break;
            __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            float *out = c + i * ldc + 16 * h;
            __m512 r = alpha == 1.0f ? acc[i][h] : _mm512_mul_ps(va, acc[i][h]);
            if (beta != 0.0f) r = _mm512_add_ps(r, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask, out)));
            _mm512_mask_storeu_ps(out, mask, r);
        }
    }
}

/// The same for a product at most 16 columns wide (attention heads, the first conv's weight
/// gradient): panels of 16 rows x 16 columns, one vector of sums per row.
#define MR_NARROW 16
#define NR_NARROW 16
BF16_TARGET static void micro_kernel_narrow(long pairs, const uint32_t *ap, long aps, long ais, const uint32_t *bp, float *c, long ldc,
                                            long rows, long cols, float alpha, float beta) {
    __m512 acc[MR_NARROW];
    for (int i = 0; i < MR_NARROW; i++) acc[i] = _mm512_setzero_ps();
    for (long p = 0; p < pairs; p++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + p * NR_NARROW);
        const uint32_t *a = ap + p * aps;
        for (int i = 0; i < MR_NARROW; i++) acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)_mm512_set1_epi32((int)a[i * ais]), b0);
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const __mmask16 mask = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    for (long i = 0; i < rows; i++) {
        float *out = c + i * ldc;
        __m512 r = alpha == 1.0f ? acc[i] : _mm512_mul_ps(va, acc[i]);
        if (beta != 0.0f) r = _mm512_add_ps(r, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask, out)));
        _mm512_mask_storeu_ps(out, mask, r);
    }
}

// Packing buffers, one pair per thread, grown as needed and kept.
static _Thread_local uint32_t *packed_a, *packed_b;
static _Thread_local size_t packed_a_size, packed_b_size;

static uint32_t *scratch(uint32_t **buffer, size_t *size, size_t count) {
    if (count > *size) {
        free(*buffer);
        *buffer = aligned_alloc(64, ((count * 4 + 63) / 64) * 64);
        *size = *buffer ? count : 0;
    }
    return *buffer;
}

BF16_TARGET static int sgemm_bf16_avx512(int trans_a, int trans_b, long m, long n, long k, float alpha,
                                         const float *a, long lda, const float *b, long ldb,
                                         float beta, float *c, long ldc) {
    // Panels of 8 rows x 32 columns, or 16 x 16 for a product at most 16 columns wide.
    const int narrow = n <= NR_NARROW;
    const long mr = narrow ? MR_NARROW : MR, nr = narrow ? NR_NARROW : NR;
    const long pairs = (k + 1) / 2, panels_n = (n + nr - 1) / nr;
    uint32_t *bp = scratch(&packed_b, &packed_b_size, (size_t)(panels_n * pairs * nr));
    uint32_t *ap = scratch(&packed_a, &packed_a_size, (size_t)(pairs * mr));
    if (!bp || !ap) return 0;
    const long ars = trans_a ? 1 : lda, aks = trans_a ? lda : 1;
    const long brs = trans_b ? ldb : 1, bks = trans_b ? 1 : ldb;
    // A by rows when its k is contiguous (plain stores), else by pairs; B always by pairs (vector loads).
    const int a_by_row = aks == 1;
    const long aps = a_by_row ? 1 : mr, ais = a_by_row ? pairs : 1;
    for (long jp = 0; jp < panels_n; jp++) pack_pairs(b, brs, bks, jp * nr, nr, n, k, 0, bp + jp * pairs * nr);
    for (long i0 = 0; i0 < m; i0 += mr) {
        pack_pairs(a, ars, aks, i0, mr, m, k, a_by_row, ap);
        const long rows = m - i0 < mr ? m - i0 : mr;
        for (long jp = 0; jp < panels_n; jp++) {
            const long cols = n - jp * nr < nr ? n - jp * nr : nr;
            float *out = c + i0 * ldc + jp * nr;
            if (narrow) micro_kernel_narrow(pairs, ap, aps, ais, bp + jp * pairs * nr, out, ldc, rows, cols, alpha, beta);
            else micro_kernel(pairs, ap, aps, ais, bp + jp * pairs * nr, out, ldc, rows, cols, alpha, beta);
        }
    }
    return 1;
}

int iml_bf16_kernel_available(void) { return (iml_cpu_features() & IML_CPU_AVX512BF16) && (iml_cpu_features() & IML_CPU_AVX512BW) && (iml_cpu_features() & IML_CPU_AVX512DQ); }
#else
int iml_bf16_kernel_available(void) { return 0; }
#endif

void iml_sgemm_bf16(int trans_a, int trans_b, long m, long n, long k, float alpha,
                    const float *a, long lda, const float *b, long ldb,
                    float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
#if defined(__x86_64__)
    static atomic_int available = -1;  // read once: CPUID is slow
    int known = atomic_load_explicit(&available, memory_order_relaxed);
    if (known < 0) { known = iml_bf16_kernel_available(); atomic_store_explicit(&available, known, memory_order_relaxed); }
    if (known && sgemm_bf16_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
#endif
    iml_sgemm_bf16_reference(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
