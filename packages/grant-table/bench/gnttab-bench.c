/* The C side of the grant-table benchmark: the sequences of gnttab-bench.mjs, through libxengnttab.
 *   gnttab-bench <domid> <refs-file> <seconds per case>
 * refs-file: grant refs as text, one per line (run.mjs shares the pages and writes it).
 * Prints one JSON line per case: {"case": ..., "ops": N, "seconds": S} (count mode: count.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <xen/grant_table.h>
#include <xengnttab.h>

#include "count.h"
#include "on_thread.h"

#define FRAME 2025

static void die(const char* what) {
  perror(what);
  exit(1);
}

static xengnttab_handle* xgt;
static uint32_t domid;
static uint32_t refs[4096];

static void map_unmap(uint32_t count) {
  void* p = xengnttab_map_domain_grant_refs(xgt, count, domid, refs, PROT_READ | PROT_WRITE);
  if (!p) die("xengnttab_map_domain_grant_refs");
  if (xengnttab_unmap(xgt, p, count)) die("xengnttab_unmap");
}

static xengnttab_grant_copy_segment_t segs[FRAME];

static void grant_copy(void) {
  if (xengnttab_grant_copy(xgt, FRAME, segs)) die("xengnttab_grant_copy");
  for (unsigned s = 0; s < FRAME; s++)
    if (segs[s].status != GNTST_okay) {
      fprintf(stderr, "gnttab-bench: segment %u: status %d\n", s, segs[s].status);
      exit(1);
    }
}

/* The same copy as zcopy's copyAsync makes it, in C: on a worker thread, the caller woken by an eventfd
 * (on_thread.h). The price of never blocking the caller, without any JS. */
static void grant_copy_job(void* unused) {
  (void)unused;
  grant_copy();
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s domid refs-file seconds\n", argv[0]);
    return 2;
  }
  domid = (uint32_t)atoi(argv[1]);
  double seconds = atof(argv[3]);
  FILE* f = fopen(argv[2], "r");
  if (!f) die("refs-file");
  unsigned n = 0;
  while (n < 4096 && fscanf(f, "%u", &refs[n]) == 1) n++;
  fclose(f);
  if (n < FRAME) {
    fprintf(stderr, "gnttab-bench: need %d refs, got %u\n", FRAME, n);
    return 1;
  }
  xgt = xengnttab_open(NULL, 0);
  if (!xgt) die("xengnttab_open");

  TIMED("map+unmap 1 ref", seconds, map_unmap(1));
  TIMED("map+unmap 64 refs", seconds, map_unmap(64));
  TIMED("map+unmap 2,025 refs", seconds, map_unmap(FRAME));

  /* Grant copy of a frame: 2025 whole pages from the grants into local memory. */
  uint8_t* frame = aligned_alloc(4096, (size_t)FRAME * 4096);
  if (!frame) die("aligned_alloc");
  memset(frame, 0, (size_t)FRAME * 4096);
  for (unsigned i = 0; i < FRAME; i++) {
    segs[i].source.foreign.ref = refs[i];
    segs[i].source.foreign.domid = (uint16_t)domid;
    segs[i].source.foreign.offset = 0;
    segs[i].dest.virt = frame + (size_t)i * 4096;
    segs[i].len = 4096;
    segs[i].flags = GNTCOPY_source_gref;
  }
  long before = 0;
  int copied = !bench_counting("grant copy 2,025 pages", &before) || before > 0;
  TIMED("grant copy 2,025 pages", seconds, grant_copy());
  on_thread_start();
  TIMED("grant copy 2,025 pages [copy on a thread]", seconds, on_thread(grant_copy_job, NULL));
  /* dom0 wrote each page's index at its start: the copy moved those bytes. */
  if (copied)
    for (unsigned p = 0; p < FRAME; p++) {
      uint32_t v;
      memcpy(&v, frame + (size_t)p * 4096, sizeof v);
      if (v != p) {
        fprintf(stderr, "gnttab-bench: the grant copy produced the wrong bytes (page %u)\n", p);
        return 1;
      }
    }
  free(frame);
  xengnttab_close(xgt);
  return 0;
}
