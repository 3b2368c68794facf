/* The C side of the gntdev-dmabuf benchmark: the sequences of domu-bench.mjs through libxengnttab and libdrm,
 * in the same PVH domU on the same grants. Linked statically (the domU's ramdisk has no shared libraries).
 *   dmabuf_bench <vgem card node> <granting domid> <refs-file> <iterations> <warm-up iterations>
 * refs-file: grant refs as text, one per line (dom0 grants a 1080p XRGB8888 frame: 2025 pages).
 * Cases, per iteration:
 *   zero-copy  EXP_FROM_REFS -> PRIME import into vgem -> GEM close, dma-buf close -> EXP_WAIT_RELEASED
 *   copy       map the refs -> memcpy of the frame into a vgem dumb buffer's mapping -> unmap
 * Prints one JSON line per case: {"case": ..., "us": [µs per iteration...], <step>: [µs...], ...}.
 * 0 iterations: warm-up only (the lines have empty arrays). */
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

#define MAX_REFS 8192

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static void print_array(const char* key, const double* v, int n) {
  printf(",\"%s\":[", key);
  for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", v[i]);
  printf("]");
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s vgem-node domid refs-file iterations warmup\n", argv[0]);
    return 2;
  }
  uint32_t domid = (uint32_t)atoi(argv[2]);
  int iters = atoi(argv[4]), warmup = atoi(argv[5]);
  FILE* f = fopen(argv[3], "r");
  if (!f) die("refs-file");
  static uint32_t refs[MAX_REFS];
  uint32_t n = 0;
  while (n < MAX_REFS && fscanf(f, "%u", &refs[n]) == 1) n++;
  fclose(f);
  if (n == 0 || iters < 0 || warmup < 0) {
    fprintf(stderr, "no refs, or a negative count\n");
    return 2;
  }
  size_t bytes = (size_t)n * 4096;

  int vgem = open(argv[1], O_RDWR | O_CLOEXEC);
  if (vgem < 0) die(argv[1]);
  xengnttab_handle* xgt = xengnttab_open(NULL, 0);
  if (!xgt) die("xengnttab_open");
  size_t slots = iters > 0 ? (size_t)iters : 1;
  double *total = calloc(slots, sizeof(double)), *s1 = calloc(slots, sizeof(double)),
         *s2 = calloc(slots, sizeof(double)), *s3 = calloc(slots, sizeof(double));
  if (!total || !s1 || !s2 || !s3) die("calloc");

  /* zero-copy: the frame's pages become a dma-buf that vgem imports; nothing is copied. */
  int wait_ok = 0;
  for (int i = -warmup; i < iters; i++) {
    fprintf(stderr, "bench: C zero-copy %d\n", i);
    uint32_t fd, handle;
    double t0 = now_us();
    if (xengnttab_dmabuf_exp_from_refs(xgt, domid, 0, n, refs, &fd)) die("exp_from_refs");
    double t1 = now_us();
    if (drmPrimeFDToHandle(vgem, (int)fd, &handle)) die("drmPrimeFDToHandle");
    if (drmCloseBufferHandle(vgem, handle)) die("drmCloseBufferHandle");
    double t2 = now_us();
    close((int)fd);
    /* libxengnttab returns 0 for ENOENT too (already released: no error, says the kernel's header). */
    if (xengnttab_dmabuf_exp_wait_released(xgt, fd, 10000)) die("exp_wait_released");
    double t3 = now_us();
    if (i < 0) continue;
    wait_ok++;
    total[i] = t3 - t0, s1[i] = t1 - t0, s2[i] = t2 - t1, s3[i] = t3 - t2;
  }
  printf("{\"case\":\"zero-copy\"");
  print_array("us", total, iters);
  print_array("export", s1, iters);
  print_array("import", s2, iters);
  print_array("release", s3, iters);
  printf(",\"waitOk\":%d}\n", wait_ok);
  fflush(stdout);

  /* copy: map the grants, copy the frame into the backend's own buffer (a vgem dumb buffer), unmap. */
  uint32_t dumb, pitch;
  uint64_t size, offset;
  uint32_t height = (uint32_t)((bytes + 1920 * 4 - 1) / (1920 * 4));
  if (drmModeCreateDumbBuffer(vgem, 1920, height, 32, 0, &dumb, &pitch, &size)) die("create dumb");
  if (drmModeMapDumbBuffer(vgem, dumb, &offset)) die("map dumb");
  uint8_t* dst = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, (off_t)offset);
  if (dst == MAP_FAILED) die("mmap dumb");
  for (int i = -warmup; i < iters; i++) {
    fprintf(stderr, "bench: C copy %d\n", i);
    double t0 = now_us();
    void* src = xengnttab_map_domain_grant_refs(xgt, n, domid, refs, PROT_READ);
    if (!src) die("map grant refs");
    double t1 = now_us();
    memcpy(dst, src, bytes);
    double t2 = now_us();
    if (xengnttab_unmap(xgt, src, n)) die("unmap");
    double t3 = now_us();
    if (i < 0) continue;
    total[i] = t3 - t0, s1[i] = t1 - t0, s2[i] = t2 - t1, s3[i] = t3 - t2;
  }
  /* dom0 wrote each page's index at its start: the copy moved the frontend's bytes. */
  uint32_t page7;
  memcpy(&page7, dst + 7 * 4096, sizeof page7);
  printf("{\"case\":\"copy\"");
  print_array("us", total, iters);
  print_array("map", s1, iters);
  print_array("copy", s2, iters);
  print_array("unmap", s3, iters);
  printf(",\"page7\":%u}\n", page7);
  fflush(stdout);

  munmap(dst, size);
  drmModeDestroyDumbBuffer(vgem, dumb);
  xengnttab_close(xgt);
  close(vgem);
  return 0;
}
