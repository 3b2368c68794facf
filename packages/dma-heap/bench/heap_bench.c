// The C baseline for bench/run.mjs: the same sequences as heap-bench.mjs, written directly against the UAPI.
//   heap_bench <heap path> <seconds per case>
// Prints one JSON object per line: {"case": ..., "ops": N, "seconds": S}.
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "count.h"

static void die(const char* what) {
  fprintf(stderr, "heap_bench: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int xioctl(int fd, unsigned long req, void* arg) {
  int r;
  do r = ioctl(fd, req, arg);
  while (r < 0 && errno == EINTR);
  return r;
}

static int alloc_buf(int heap, size_t len) {
  struct dma_heap_allocation_data data;
  memset(&data, 0, sizeof data);
  data.len = len;
  data.fd_flags = O_RDWR | O_CLOEXEC;
  if (xioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) < 0) die("DMA_HEAP_IOCTL_ALLOC");
  return (int)data.fd;
}

// One allocate + mmap + touch + munmap + close: what a user of a fresh buffer does at the least.
static void alloc_map_close(int heap, size_t len) {
  int fd = alloc_buf(heap, len);
  volatile unsigned char* p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  p[0] = 1;
  if (munmap((void*)p, len) < 0) die("munmap");
  close(fd);
}

static void sync_bracket(int fd) {
  struct dma_buf_sync s;
  memset(&s, 0, sizeof s);
  s.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
  if (xioctl(fd, DMA_BUF_IOCTL_SYNC, &s) < 0) die("DMA_BUF_IOCTL_SYNC start");
  s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
  if (xioctl(fd, DMA_BUF_IOCTL_SYNC, &s) < 0) die("DMA_BUF_IOCTL_SYNC end");
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: heap_bench <heap path> <seconds per case>\n");
    return 2;
  }
  double seconds = atof(argv[2]);
  int heap = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (heap < 0) die(argv[1]);

  TIMED("alloc+mmap+close 4 KiB", seconds, alloc_map_close(heap, 4096));
  TIMED("alloc+mmap+close 1 MiB", seconds, alloc_map_close(heap, 1 << 20));
  TIMED("alloc+mmap+close 8 MiB", seconds, alloc_map_close(heap, 8 << 20));

  int buf = alloc_buf(heap, 1 << 20);
  TIMED("sync start+end 1 MiB", seconds, sync_bracket(buf));
  close(buf);
  close(heap);
  return 0;
}
