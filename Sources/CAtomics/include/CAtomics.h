// Sequentially consistent atomic operations on a plain `long`, for IMLCore's work-sharing pool
// (Parallel.swift): Swift 5 has no atomics of its own without a package.
#pragma once

static inline long iml_atomic_load(const long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void iml_atomic_store(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
/// Adds `v` and returns the value before.
static inline long iml_atomic_fetch_add(long *p, long v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
/// A pause hint for spin loops.
static inline void iml_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
