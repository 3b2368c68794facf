// Count mode of the C benches (the harness's syscallsPerCase, for strace -c): with ZCOPY_BENCH_CASE=<name> and
// ZCOPY_BENCH_COUNT=<n> in the environment, the case of that name runs exactly n times, untimed and without
// warm-up, and every other case not at all. Use at the top of a TIMED macro:
//   long n_; if (bench_counting(name, &n_)) { for (long i_ = 0; i_ < n_; i_++) { op; } break; }
#pragma once
#include <stdlib.h>
#include <string.h>

static inline int bench_counting(const char* name, long* n) {
  const char* which = getenv("ZCOPY_BENCH_CASE");
  const char* count = getenv("ZCOPY_BENCH_COUNT");
  if (which == NULL || count == NULL) return 0;
  *n = strcmp(which, name) == 0 ? atol(count) : 0;
  return 1;
}
