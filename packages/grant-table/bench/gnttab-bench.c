/* The C side of the grant-table benchmark: the same sequences as run.mjs, through libxengnttab.
 *   gnttab-bench <domid> <refs-file> <iterations for 1> <for 64> <for 2025> <copy iterations>
 * refs-file: grant refs as text, one per line (the JS side shares the pages and writes it).
 * Prints one JSON line per case: {"case": ..., "refs": n, "iters": k, "usPerOp": t}. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <xengnttab.h>
#include <xen/grant_table.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char** argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s domid refs-file iters1 iters64 iters2025 copyIters\n", argv[0]);
    return 2;
  }
  uint32_t domid = (uint32_t)atoi(argv[1]);
  FILE* f = fopen(argv[2], "r");
  if (!f) {
    perror("refs-file");
    return 1;
  }
  uint32_t refs[4096];
  unsigned n = 0;
  while (n < 4096 && fscanf(f, "%u", &refs[n]) == 1) n++;
  fclose(f);
  int iters[3] = {atoi(argv[3]), atoi(argv[4]), atoi(argv[5])};
  unsigned sizes[3] = {1, 64, 2025};
  int copyIters = atoi(argv[6]);
  if (n < 2025) {
    fprintf(stderr, "need 2025 refs, got %u\n", n);
    return 1;
  }

  xengnttab_handle* xgt = xengnttab_open(NULL, 0);
  if (!xgt) {
    perror("xengnttab_open");
    return 1;
  }
  for (int c = 0; c < 3; c++) {
    unsigned count = sizes[c];
    double t0 = now_us();
    for (int i = 0; i < iters[c]; i++) {
      void* p = xengnttab_map_domain_grant_refs(xgt, count, domid, refs, PROT_READ | PROT_WRITE);
      if (!p) {
        perror("map");
        return 1;
      }
      if (xengnttab_unmap(xgt, p, count)) {
        perror("unmap");
        return 1;
      }
    }
    double us = (now_us() - t0) / iters[c];
    printf("{\"case\":\"map+unmap\",\"refs\":%u,\"iters\":%d,\"usPerOp\":%.2f}\n", count, iters[c], us);
  }

  /* Grant copy of a frame: 2025 whole pages from the grants into local memory. */
  unsigned count = 2025;
  uint8_t* frame = aligned_alloc(4096, (size_t)count * 4096);
  xengnttab_grant_copy_segment_t* segs = calloc(count, sizeof *segs);
  if (!frame || !segs) return 1;
  memset(frame, 0, (size_t)count * 4096);
  for (unsigned i = 0; i < count; i++) {
    segs[i].source.foreign.ref = refs[i];
    segs[i].source.foreign.domid = (uint16_t)domid;
    segs[i].source.foreign.offset = 0;
    segs[i].dest.virt = frame + (size_t)i * 4096;
    segs[i].len = 4096;
    segs[i].flags = GNTCOPY_source_gref;
  }
  double t0 = now_us();
  for (int i = 0; i < copyIters; i++) {
    if (xengnttab_grant_copy(xgt, count, segs)) {
      perror("grant copy");
      return 1;
    }
    for (unsigned s = 0; s < count; s++)
      if (segs[s].status != GNTST_okay) {
        fprintf(stderr, "segment %u: status %d\n", s, segs[s].status);
        return 1;
      }
  }
  printf("{\"case\":\"grant copy\",\"refs\":%u,\"iters\":%d,\"usPerOp\":%.2f}\n", count, copyIters,
         (now_us() - t0) / copyIters);
  xengnttab_close(xgt);
  return 0;
}
