// Count mode of the C benches (the harness's syscallsPerCase, for strace -c): with ZCOPY_BENCH_CASE=<name> and
// ZCOPY_BENCH_COUNT=<n> in the environment, the case of that name runs exactly n times, untimed and without
// warm-up, and every other case not at all. Use at the top of a TIMED macro:
//   long n_; if (bench_counting(name, &n_)) { for (long i_ = 0; i_ < n_; i_++) { op; } break; }
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline int bench_counting(const char* name, long* n) {
  const char* which = getenv("ZCOPY_BENCH_CASE");
  const char* count = getenv("ZCOPY_BENCH_COUNT");
  if (which == NULL || count == NULL) return 0;
  *n = strcmp(which, name) == 0 ? atol(count) : 0;
  return 1;
}

// The timing the C benches share (the JS twin is the harness's timed()): one {case, ops, seconds, cpu...} JSON line per
// case. TIMED runs op in batches of 10 until `seconds` have passed, after a warm-up of at least 20 calls and a
// quarter of `seconds` (the JS side's JIT compiles its hot paths there, not in the timed span); in count mode
// exactly n times, untimed.
static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// The process's CPU time so far, user and system apart, and its page faults (the harness's cpuPerOp reads the
// difference per case).
// `caller`: the CPU time of the calling thread (the loop's), as the harness's cpuCaller reads the JS thread's.
typedef struct {
  double user, system, caller;
  long faults;
} bench_cpu;

static inline bench_cpu bench_cpu_now(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  bench_cpu c = {ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
                 ts.tv_sec + ts.tv_nsec / 1e9, ru.ru_minflt + ru.ru_majflt};
  return c;
}

// {case, ops, seconds, cpuSeconds, cpuUser, cpuSystem, faults, cpuCaller}: the JS side's timed() prints the same
// fields.
static inline void bench_report(const char* name, long ops, double seconds, bench_cpu cpu0) {
  bench_cpu c = bench_cpu_now();
  double user = c.user - cpu0.user, system = c.system - cpu0.system;
  printf("{\"case\":\"%s\",\"ops\":%ld,\"seconds\":%.6f,\"cpuSeconds\":%.6f,\"cpuUser\":%.6f,"
         "\"cpuSystem\":%.6f,\"faults\":%ld,\"cpuCaller\":%.6f}\n",
         name, ops, seconds, user + system, user, system, c.faults - cpu0.faults, c.caller - cpu0.caller);
  fflush(stdout);
}

#define TIMED(name, seconds, op)                  \
  do {                                            \
    long n_;                                      \
    if (bench_counting(name, &n_)) {              \
      for (long i_ = 0; i_ < n_; i_++) op;        \
      break;                                      \
    }                                             \
    double w0_ = bench_now();                     \
    for (int w_ = 0; w_ < 20; w_++) op;           \
    while (bench_now() - w0_ < (seconds) / 4) op; \
    long ops_ = 0;                                \
    bench_cpu cpu0_ = bench_cpu_now();            \
    double t0_ = bench_now(), t_;                 \
    do {                                          \
      for (int b_ = 0; b_ < 10; b_++) op;         \
      ops_ += 10;                                 \
    } while ((t_ = bench_now()) - t0_ < (seconds)); \
    bench_report(name, ops_, t_ - t0_, cpu0_);    \
  } while (0)
