// OpenBLAS' CBLAS interface (Debian: libopenblas-dev puts cblas.h under openblas-pthread/,
// found through pkg-config's cflags).
#include <cblas.h>
