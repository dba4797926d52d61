// The processor's vector features, read with CPUID and checked against what the operating system
// saves on a context switch (XGETBV): a kernel that uses AVX-512 registers the OS does not save
// would corrupt them. Used to choose an OpenBLAS kernel when OpenBLAS's own pick is a fallback.
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

unsigned int iml_cpu_features(void) {
    unsigned int a, b, c, d, features = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave) return 0;  // no XGETBV: the OS saves no AVX state
    unsigned long long xcr0 = xgetbv0();
    int ymm_saved = (xcr0 & 0x6) == 0x6;       // XMM and YMM state
    int zmm_saved = (xcr0 & 0xE6) == 0xE6;     // and opmask, ZMM_Hi256, Hi16_ZMM
    if (!ymm_saved) return 0;
    if (avx) features |= IML_CPU_AVX;
    if (fma) features |= IML_CPU_FMA;
    unsigned int max = __get_cpuid_max(0, 0);
    if (max < 7) return features;
    __cpuid_count(7, 0, a, b, c, d);
    unsigned int subleaves = a;
    if ((b >> 5) & 1) features |= IML_CPU_AVX2;
    if (zmm_saved) {
        if ((b >> 16) & 1) features |= IML_CPU_AVX512F;
        if ((b >> 17) & 1) features |= IML_CPU_AVX512DQ;
        if ((b >> 28) & 1) features |= IML_CPU_AVX512CD;
        if ((b >> 30) & 1) features |= IML_CPU_AVX512BW;
        if ((b >> 31) & 1) features |= IML_CPU_AVX512VL;
        if (subleaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            if ((a >> 5) & 1) features |= IML_CPU_AVX512BF16;
        }
    }
    return features;
}
#else
unsigned int iml_cpu_features(void) { return 0; }
#endif
