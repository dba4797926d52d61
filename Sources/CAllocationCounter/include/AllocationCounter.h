// Counts heap allocations of the process it is linked into (iml-bench only): malloc and friends
// are defined here, count, and forward to glibc's implementations.
#pragma once
#include <stdint.h>

/// Allocations (malloc, calloc, realloc, memalign and friends) since the process started.
uint64_t iml_allocation_count(void);
