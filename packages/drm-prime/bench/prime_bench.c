// The C side of bench/run.mjs: the sequences of prime-bench.mjs through libdrm, in the same kernel.
//   prime_bench <vkms card path> <vgem render path> <seconds per case>
// Prints one JSON object per line: {"case": ..., "ops": N, "seconds": S}.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "count.h"
#include <xf86drm.h>
#include <xf86drmMode.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static int kms, vgem;
static double seconds;

// Same shape as timed() in prime-bench.mjs: warm-up, then batches of 10 until the time is up.
#undef TIMED  // count.h's takes (name, seconds, op); this bench times a body per case its own way
#define TIMED(name, body)                \
  do {                                   \
    long n_;                             \
    if (bench_counting(name, &n_)) {     \
      for (long i_ = 0; i_ < n_; i_++) { \
        body;                            \
      }                                  \
      break;                             \
    }                                    \
    for (int w = 0; w < 20; w++) {       \
      body;                              \
    }                                    \
    long ops = 0;                        \
    bench_cpu cpu0 = bench_cpu_now();    \
    double t0 = now(), el;               \
    do {                                 \
      for (int b = 0; b < 10; b++) {     \
        body;                            \
      }                                  \
      ops += 10;                         \
      el = now() - t0;                   \
    } while (el < seconds);              \
    bench_report(name, ops, el, cpu0);   \
  } while (0)

static void create_export_import_close(void) {
  uint32_t handle, pitch, imported;
  uint64_t size;
  int fd;
  if (drmModeCreateDumbBuffer(kms, 64, 64, 32, 0, &handle, &pitch, &size)) die("create dumb");
  if (drmPrimeHandleToFD(kms, handle, DRM_CLOEXEC | DRM_RDWR, &fd)) die("handle to fd");
  if (drmPrimeFDToHandle(vgem, fd, &imported)) die("fd to handle");
  if (drmCloseBufferHandle(vgem, imported)) die("close vgem handle");
  close(fd);
  if (drmModeDestroyDumbBuffer(kms, handle)) die("destroy dumb");
}

static void create_map_destroy(void) {
  uint32_t handle, pitch;
  uint64_t size, offset;
  if (drmModeCreateDumbBuffer(kms, 64, 64, 32, 0, &handle, &pitch, &size)) die("create dumb");
  if (drmModeMapDumbBuffer(kms, handle, &offset)) die("map dumb");
  volatile uint8_t* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, kms, (off_t)offset);
  if (p == MAP_FAILED) die("mmap");
  p[0] = 1;
  munmap((void*)p, size);
  if (drmModeDestroyDumbBuffer(kms, handle)) die("destroy dumb");
}

static uint32_t fixed;

// Export and import back on the same fd: the kernel returns the same handle, which must not be closed.
static void round_trip(void) {
  int fd;
  uint32_t back;
  if (drmPrimeHandleToFD(kms, fixed, DRM_CLOEXEC | DRM_RDWR, &fd)) die("handle to fd");
  if (drmPrimeFDToHandle(kms, fd, &back)) die("fd to handle");
  if (back != fixed) {
    fprintf(stderr, "round trip gave handle %u, not %u\n", back, fixed);
    exit(1);
  }
  close(fd);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s <vkms card> <vgem render node> <seconds>\n", argv[0]);
    return 2;
  }
  kms = open(argv[1], O_RDWR | O_CLOEXEC);
  if (kms < 0) die(argv[1]);
  vgem = open(argv[2], O_RDWR | O_CLOEXEC);
  if (vgem < 0) die(argv[2]);
  seconds = atof(argv[3]);

  TIMED("create-dumb+export+import+close", create_export_import_close());
  TIMED("create-dumb+map+destroy", create_map_destroy());
  uint32_t pitch;
  uint64_t size;
  if (drmModeCreateDumbBuffer(kms, 64, 64, 32, 0, &fixed, &pitch, &size)) die("create dumb");
  TIMED("handle->fd->handle round trip", round_trip());
  drmModeDestroyDumbBuffer(kms, fixed);
  close(vgem);
  close(kms);
  return 0;
}
