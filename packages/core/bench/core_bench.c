// The C side of the core benchmark (host or guest: memfd, eventfd and poll() exist everywhere).
//   core_bench ops <seconds> [prefix]  every case (or those whose name starts with prefix) for <seconds>: one
//                                      {case, ops, seconds, cpu...} JSON line each
//   core_bench count <case> <n>        exactly n operations of one case (run under strace -c by run.mjs)
//   core_bench latency <n>             poll() waiter woken by a forked signaller: {p50, p99} in ns
//   core_bench signaller               fd 3 an eventfd, fd 4 a shared memfd: per byte read on stdin, stores
//                                      CLOCK_MONOTONIC ns in the memfd's first 8 bytes, then writes 1 to fd 3
//   core_bench signaller-stdout        the same, but the wake-up is one byte written to stdout (a pipe)
// Cases: "memfd 4 KiB create+map+close" (memfd_create, ftruncate, mmap, munmap, close), "eventfd wait round trip"
// (write, poll, read: what an async wait on an eventfd does), "ioctl FIONREAD" (one ioctl on a 4 KiB memfd: the
// per-call cost of an ioctl wrapper), "eventfd write+read" (two plain syscalls through the core) and "threadpool
// round trip (poll of a ready fd)": a poll() that returns at once, run on a worker thread through on_thread.h
// while the caller waits in poll() for the worker's eventfd (what a zcopy call on libuv's threadpool costs around
// its work, in C; the JS side times waitFdBlocking, the raw pollBlocking and Node's own fs.fstat).
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "count.h"
#include "on_thread.h"

static void die(const char* what) {
  fprintf(stderr, "core_bench: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void memfd_op(void) {
  int fd = memfd_create("b", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) die("memfd_create");
  if (ftruncate(fd, 4096) < 0) die("ftruncate");
  void* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  if (munmap(p, 4096) < 0) die("munmap");
  close(fd);
}

static int efd = -1;
static void eventfd_op(void) {
  uint64_t one = 1, v;
  if (write(efd, &one, 8) != 8) die("write");
  struct pollfd p = {efd, POLLIN, 0};
  int r;
  do r = poll(&p, 1, -1);
  while (r < 0 && errno == EINTR);
  if (r < 0) die("poll");
  if (read(efd, &v, 8) != 8) die("read");
}

static int mfd = -1;
static void fionread_op(void) {
  int n = 0;
  if (ioctl(mfd, FIONREAD, &n) < 0) die("ioctl FIONREAD");
}

// A fd that always polls readable (an eventfd holding 1, never read): the work of the threadpool case is one poll()
// that returns at once.
static int readyfd = -1;
static void poll_ready(void* unused) {
  (void)unused;
  struct pollfd p = {readyfd, POLLIN, 0};
  if (poll(&p, 1, -1) != 1) die("poll (ready fd)");
}
static void threadpool_op(void) { on_thread(poll_ready, NULL); }

static void eventfd_rw_op(void) {
  uint64_t one = 1, v;
  if (write(efd, &one, 8) != 8) die("write");
  if (read(efd, &v, 8) != 8) die("read");
}

struct bench_case {
  const char* name;
  void (*op)(void);
};
static const struct bench_case cases[] = {
    {"memfd 4 KiB create+map+close", memfd_op},
    {"eventfd wait round trip", eventfd_op},
    {"ioctl FIONREAD", fionread_op},
    {"eventfd write+read", eventfd_rw_op},
    {"threadpool round trip (poll of a ready fd)", threadpool_op},
};
#define NCASES (sizeof cases / sizeof cases[0])

static const struct bench_case* find_case(const char* name) {
  for (size_t i = 0; i < NCASES; i++)
    if (strcmp(cases[i].name, name) == 0) return &cases[i];
  fprintf(stderr, "core_bench: no case '%s'\n", name);
  exit(2);
}

// A warm-up of at least 20 calls and a quarter of `seconds`, then batches of 10 until `seconds` have passed (the
// harness's timed() in JS).
static void timed(const struct bench_case* c, double seconds) {
  uint64_t w0 = now_ns();
  for (int i = 0; i < 20; i++) c->op();
  while ((double)(now_ns() - w0) / 1e9 < seconds / 4) c->op();
  bench_cpu cpu0 = bench_cpu_now();
  uint64_t t0 = now_ns();
  long ops = 0;
  double elapsed;
  do {
    for (int b = 0; b < 10; b++) c->op();
    ops += 10;
    elapsed = (double)(now_ns() - t0) / 1e9;
  } while (elapsed < seconds);
  bench_report(c->name, ops, elapsed, cpu0);
}

static int signaller(int to_stdout) {
  volatile uint64_t* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 4, 0);
  if (shared == MAP_FAILED) die("mmap fd 4");
  char buf[256];
  ssize_t n;
  const uint64_t one = 1;
  const char byte = 'w';
  while ((n = read(0, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      *shared = now_ns();
      if (to_stdout ? write(1, &byte, 1) != 1 : write(3, &one, 8) != 8) die("write");
    }
  }
  return 0;
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static int latency(int n) {
  int ev = eventfd(0, EFD_CLOEXEC);
  int mfd = memfd_create("shared", MFD_CLOEXEC);
  if (ev < 0 || mfd < 0 || ftruncate(mfd, 4096) < 0) die("eventfd/memfd");
  volatile uint64_t* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  if (shared == MAP_FAILED) die("mmap");
  int in[2];
  if (pipe(in) < 0) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(in[1]);
    dup2(in[0], 0);
    dup2(ev, 3);
    dup2(mfd, 4);
    _exit(signaller(0));
  }
  close(in[0]);
  uint64_t* lat = calloc((size_t)n, sizeof *lat);
  for (int i = 0; i < n; i++) {
    if (write(in[1], "i", 1) != 1) die("write");
    struct pollfd p = {ev, POLLIN, 0};
    int r;
    do r = poll(&p, 1, -1);
    while (r < 0 && errno == EINTR);
    uint64_t t = now_ns();
    uint64_t v;
    if (read(ev, &v, 8) != 8) die("read");
    lat[i] = t - *shared;
  }
  close(in[1]);
  waitpid(pid, NULL, 0);
  qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
  int i50 = (n + 1) / 2 - 1, i99 = (int)((99LL * n + 99) / 100) - 1;
  printf("{\"op\":\"latency\",\"n\":%d,\"p50\":%llu,\"p99\":%llu}\n", n, (unsigned long long)lat[i50],
         (unsigned long long)lat[i99]);
  return 0;
}

int main(int argc, char** argv) {
  efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) die("eventfd");
  mfd = memfd_create("fionread", MFD_CLOEXEC);
  if (mfd < 0 || ftruncate(mfd, 4096) < 0) die("memfd");
  readyfd = eventfd(1, EFD_CLOEXEC);
  if (readyfd < 0) die("eventfd (ready fd)");
  if (argc >= 3 && (strcmp(argv[1], "ops") == 0 || strcmp(argv[1], "count") == 0)) on_thread_start();
  if (argc >= 3 && strcmp(argv[1], "ops") == 0) {
    for (size_t i = 0; i < NCASES; i++)
      if (argc < 4 || strncmp(cases[i].name, argv[3], strlen(argv[3])) == 0) timed(&cases[i], atof(argv[2]));
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "count") == 0) {
    const struct bench_case* c = find_case(argv[2]);
    long n = atol(argv[3]);
    for (long i = 0; i < n; i++) c->op();
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "latency") == 0) return latency(atoi(argv[2]));
  if (argc >= 2 && strcmp(argv[1], "signaller") == 0) return signaller(0);
  if (argc >= 2 && strcmp(argv[1], "signaller-stdout") == 0) return signaller(1);
  fprintf(stderr, "usage: core_bench ops <s> | count <case> <n> | latency <n> | signaller[-stdout]\n");
  return 2;
}
