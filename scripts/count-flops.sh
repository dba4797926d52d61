#!/usr/bin/env bash
# Counts the floating-point operations of the matrix products a command makes: every
# cblas_sgemm (2*M*N*K) and cblas_sgemv (2*M*N) call, through a small library preloaded in front
# of OpenBLAS, and prints them with the command's CPU time and the rate that gives. Divided by the
# core's sgemm rate (`iml-bench`'s sgemm rows), the count is a lower bound on a run's CPU time:
# no code around the products can beat it. Other work (LayerNorm, GELU, Adam) is not counted.
# Usage: scripts/count-flops.sh COMMAND [ARGS...]
#   e.g. scripts/count-flops.sh .build/release/text-iml run --seeds 1 --threads 1 --out /tmp/run
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: scripts/count-flops.sh COMMAND [ARGS...]: give the command whose products to count." >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/count.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
static _Atomic long long gemm_flops, gemm_calls, gemv_flops, gemv_calls;

void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    static sgemm_fn next;
    if (!next) next = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm");
    atomic_fetch_add(&gemm_flops, 2LL * m * n * k);
    atomic_fetch_add(&gemm_calls, 1);
    next(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_sgemv(int order, int trans, int m, int n, float alpha, const float *a, int lda,
                 const float *x, int incx, float beta, float *y, int incy) {
    static sgemv_fn next;
    if (!next) next = (sgemv_fn)dlsym(RTLD_NEXT, "cblas_sgemv");
    atomic_fetch_add(&gemv_flops, 2LL * m * n);
    atomic_fetch_add(&gemv_calls, 1);
    next(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

// Written at exit to a file: the tools re-execute themselves (BLAS pinning), so several
// processes may report; those that made no product stay silent. With the counts: the OpenBLAS
// kernel that computed them and why it ran (the tools' IML_BLAS_CHOICE, or the environment's).
__attribute__((destructor)) static void report(void) {
    if (gemm_calls + gemv_calls == 0) return;
    FILE *f = fopen(getenv("FLOP_COUNT_FILE"), "a");
    if (!f) return;
    typedef char *(*corename_fn)(void);
    corename_fn corename = (corename_fn)dlsym(RTLD_DEFAULT, "openblas_get_corename");
    const char *choice = getenv("IML_BLAS_CHOICE"), *coretype = getenv("OPENBLAS_CORETYPE");
    const char *why = choice ? choice : coretype ? "environment" : "openblas";
    fprintf(f, "%lld %lld %lld %lld %s %s\n", gemm_calls, gemm_flops, gemv_calls, gemv_flops,
            corename ? corename() : "unknown", why);
    fclose(f);
}
EOF
cc -O2 -shared -fPIC "$work/count.c" -o "$work/libcount.so" -ldl
status=0
TIMEFORMAT="%R %U %S"  # bash's own time: wall, user and system seconds of the command
{ time FLOP_COUNT_FILE="$work/counts" LD_PRELOAD="$work/libcount.so" "$@" 2>&3; } 3>&2 2>"$work/time" || status=$?
read -r wall user system < "$work/time"
if [ ! -s "$work/counts" ]; then
  [ "$status" -ne 0 ] && exit "$status"  # the command has said what went wrong
  echo "count-flops: no products were counted: the command made none, or it does not load OpenBLAS dynamically." >&2
  exit "$status"
fi
awk -v wall="$wall" -v cpu="$(awk -v u="$user" -v s="$system" 'BEGIN { print u + s }')" '
  { gc += $1; gf += $2; vc += $3; vf += $4; kernel = $5; why = $6; for (i = 7; i <= NF; i++) why = why " " $i }
  END {
    printf "sgemm: %d calls, %.4g FLOP; sgemv: %d calls, %.4g FLOP\n", gc, gf, vc, vf
    printf "%.1f s wall, %.1f s CPU: %.1f GFLOP/s of products per CPU second\n", wall, cpu, (gf + vf) / cpu / 1e9
    split(why, field, "|")
    reason = field[1] == "openblas" ? "OpenBLAS'"'"'s own pick" \
           : field[1] == "features" ? "chosen from the processor'"'"'s features (" field[4] "); OpenBLAS alone picks " field[2] \
           : field[1] == "pinned" ? "pinned by --blas-core" \
           : field[1] == "environment" ? "OPENBLAS_CORETYPE in the environment" : field[1]
    printf "BLAS kernel of the counted products: %s, %s\n", kernel, reason
  }' "$work/counts"
exit "$status"
