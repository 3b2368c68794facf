/* The C side of the gntdev-dmabuf benchmark: the sequences of dmabuf-bench.mjs through libxengnttab and libdrm,
 * in the same PVH domU on the same grants. Linked statically (the domU's ramdisk has no shared libraries).
 *   dmabuf_bench <vgem card node> <granting domid> <refs-file> <seconds per case>
 * refs-file: grant refs as text, one per line (dom0 grants a 1080p XRGB8888 frame: 2025 pages).
 * Cases, per operation:
 *   zero-copy  EXP_FROM_REFS -> PRIME import into vgem -> GEM close, dma-buf close -> EXP_WAIT_RELEASED
 *   zero-copy [wait on a thread]  the same, the wait on a worker thread that wakes the caller by an eventfd
 *   copy       map the refs -> memcpy of the frame into a vgem dumb buffer's mapping -> unmap
 * Prints one JSON line per case ({"case": ..., "ops": N, "seconds": S}; count mode: count.h), then
 * {"check": {"waitOk": n, "page7": v}}: release waits that returned 0, and what the copy moved. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xengnttab.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "count.h"
#include "on_thread.h"

#define MAX_REFS 8192

static void die(const char* what) {
  perror(what);
  exit(1);
}

static xengnttab_handle* xgt;
static int vgem;
static uint32_t domid, n;
static uint32_t refs[MAX_REFS];
static size_t bytes;
static uint8_t* dst;
static int wait_ok;

/* zero-copy: the frame's pages become a dma-buf that vgem imports; nothing is copied. */
/* Export, PRIME import into vgem, GEM close, dma-buf close: returns the fd number the kernel keys the wait by. */
static uint32_t export_import_close(void) {
  uint32_t fd, handle;
  if (xengnttab_dmabuf_exp_from_refs(xgt, domid, 0, n, refs, &fd)) die("exp_from_refs");
  if (drmPrimeFDToHandle(vgem, (int)fd, &handle)) die("drmPrimeFDToHandle");
  if (drmCloseBufferHandle(vgem, handle)) die("drmCloseBufferHandle");
  close((int)fd);
  return fd;
}

static void zero_copy(void) {
  uint32_t fd = export_import_close();
  /* libxengnttab returns 0 for ENOENT too (already released: no error, says the kernel's header). */
  if (xengnttab_dmabuf_exp_wait_released(xgt, fd, 10000)) die("exp_wait_released");
  wait_ok++;
}

/* The release wait as zcopy makes it, in C: the EXP_WAIT_RELEASED ioctl on a worker thread, the caller woken by an
 * eventfd (on_thread.h: libuv's threadpool and async handle). What zcopy pays over zero_copy() for never blocking
 * its caller, measured without any JS. */
static void wait_released(void* fd) {
  if (xengnttab_dmabuf_exp_wait_released(xgt, *(uint32_t*)fd, 10000)) die("exp_wait_released (thread)");
}

static void zero_copy_thread_wait(void) {
  uint32_t fd = export_import_close();
  on_thread(wait_released, &fd);
  wait_ok++;
}

/* copy: map the grants, copy the frame into the backend's own buffer (a vgem dumb buffer), unmap. */
static void copy(void) {
  void* src = xengnttab_map_domain_grant_refs(xgt, n, domid, refs, PROT_READ);
  if (!src) die("map grant refs");
  memcpy(dst, src, bytes);
  if (xengnttab_unmap(xgt, src, n)) die("unmap");
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s vgem-node domid refs-file seconds\n", argv[0]);
    return 2;
  }
  domid = (uint32_t)atoi(argv[2]);
  double seconds = atof(argv[4]);
  FILE* f = fopen(argv[3], "r");
  if (!f) die("refs-file");
  while (n < MAX_REFS && fscanf(f, "%u", &refs[n]) == 1) n++;
  fclose(f);
  if (n == 0) {
    fprintf(stderr, "dmabuf_bench: no refs\n");
    return 2;
  }
  bytes = (size_t)n * 4096;

  vgem = open(argv[1], O_RDWR | O_CLOEXEC);
  if (vgem < 0) die(argv[1]);
  xgt = xengnttab_open(NULL, 0);
  if (!xgt) die("xengnttab_open");
  uint32_t dumb, pitch;
  uint64_t size, offset;
  uint32_t height = (uint32_t)((bytes + 1920 * 4 - 1) / (1920 * 4));
  if (drmModeCreateDumbBuffer(vgem, 1920, height, 32, 0, &dumb, &pitch, &size)) die("create dumb");
  if (drmModeMapDumbBuffer(vgem, dumb, &offset)) die("map dumb");
  dst = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, (off_t)offset);
  if (dst == MAP_FAILED) die("mmap dumb");

  on_thread_start();

  TIMED("zero-copy", seconds, zero_copy());
  TIMED("zero-copy [wait on a thread]", seconds, zero_copy_thread_wait());
  TIMED("copy", seconds, copy());

  /* dom0 wrote each page's index at its start: the copy moved the frontend's bytes (0 if it did not run). */
  uint32_t page7;
  memcpy(&page7, dst + 7 * 4096, sizeof page7);
  printf("{\"check\":{\"waitOk\":%d,\"page7\":%u}}\n", wait_ok, page7);
  fflush(stdout);

  munmap(dst, size);
  drmModeDestroyDumbBuffer(vgem, dumb);
  xengnttab_close(xgt);
  close(vgem);
  return 0;
}
