// The C side of the dma-fence benchmark (run inside the guest by bench/run.mjs).
//   fence_bench signaller            fd 3 is a sw_sync timeline: SW_SYNC_IOC_INC by 1 per byte read on stdin
//   fence_bench latency <n>          poll() waiter: latency from the kernel's signal timestamp to poll returning
//   fence_bench merge <n>            SYNC_IOC_MERGE of two active fences + close, per op
//   fence_bench info <n>             fence info as an API would read it (count, then fill), per op
//   fence_bench cycle <n>            create a fence, signal it, poll it, close it, per op
// Every result is one JSON line on stdout, in nanoseconds.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sync_file.h>
#include <linux/types.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// sw_sync is not UAPI: the definitions of drivers/dma-buf/sw_sync.c (Linux 6.1), checked like the addon's.
struct sw_sync_create_fence_data {
  __u32 value;
  char name[32];
  __s32 fence;
};
#define SW_SYNC_IOC_MAGIC 'W'
#define SW_SYNC_IOC_CREATE_FENCE _IOWR(SW_SYNC_IOC_MAGIC, 0, struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC _IOW(SW_SYNC_IOC_MAGIC, 1, __u32)
_Static_assert(sizeof(struct sw_sync_create_fence_data) == 40, "sw_sync_create_fence_data layout");

static const char* sw_sync_path = "/sys/kernel/debug/sync/sw_sync";

static void die(const char* what) {
  fprintf(stderr, "fence_bench: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int xioctl(int fd, unsigned long req, void* arg) {
  int r;
  do r = ioctl(fd, req, arg);
  while (r < 0 && errno == EINTR);
  return r;
}

static int create_fence(int timeline, unsigned value) {
  struct sw_sync_create_fence_data d;
  memset(&d, 0, sizeof d);
  d.value = value;
  d.fence = -1;
  if (xioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &d) < 0) die("SW_SYNC_IOC_CREATE_FENCE");
  return d.fence;
}

// Signal time of a one-fence sync_file (CLOCK_MONOTONIC ns).
static uint64_t signal_time(int fence) {
  struct sync_fence_info fi;
  struct sync_file_info info;
  memset(&fi, 0, sizeof fi);
  memset(&info, 0, sizeof info);
  info.num_fences = 1;
  info.sync_fence_info = (uint64_t)(uintptr_t)&fi;
  if (xioctl(fence, SYNC_IOC_FILE_INFO, &info) < 0) die("SYNC_IOC_FILE_INFO");
  return fi.timestamp_ns;
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static int signaller(void) {
  char buf[256];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      die("read");
    }
    for (ssize_t i = 0; i < n; i++) {
      __u32 one = 1;
      if (xioctl(3, SW_SYNC_IOC_INC, &one) < 0) die("SW_SYNC_IOC_INC");
    }
  }
}

static int latency(int n) {
  int timeline = open(sw_sync_path, O_RDWR | O_CLOEXEC);
  if (timeline < 0) die(sw_sync_path);
  int cmd[2];
  if (pipe2(cmd, O_CLOEXEC) < 0) die("pipe2");
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {  // the signalling process: the same loop the JS run uses
    close(cmd[1]);   // or its own copy of the write end would keep it from ever seeing EOF
    dup2(cmd[0], 0);
    dup2(timeline, 3);
    _exit(signaller());
  }
  close(cmd[0]);
  uint64_t* lat = calloc((size_t)n, sizeof *lat);
  for (int i = 0; i < n; i++) {
    int fence = create_fence(timeline, (unsigned)i + 1);
    if (write(cmd[1], "i", 1) != 1) die("write");
    struct pollfd p = {fence, POLLIN, 0};
    while (poll(&p, 1, -1) < 0)
      if (errno != EINTR) die("poll");
    uint64_t woke = now_ns();
    lat[i] = woke - signal_time(fence);
    close(fence);
  }
  close(cmd[1]);
  waitpid(child, NULL, 0);
  qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
  printf("{\"op\":\"latency\",\"n\":%d,\"p50\":%llu,\"p99\":%llu}\n", n, (unsigned long long)lat[n / 2],
         (unsigned long long)lat[(size_t)n * 99 / 100]);
  free(lat);
  return 0;
}

static int merge(int n) {
  int ta = open(sw_sync_path, O_RDWR | O_CLOEXEC), tb = open(sw_sync_path, O_RDWR | O_CLOEXEC);
  if (ta < 0 || tb < 0) die(sw_sync_path);
  int a = create_fence(ta, 1), b = create_fence(tb, 1);
  uint64_t t0 = now_ns();
  for (int i = 0; i < n; i++) {
    struct sync_merge_data d;
    memset(&d, 0, sizeof d);
    strcpy(d.name, "m");
    d.fd2 = b;
    d.fence = -1;
    if (xioctl(a, SYNC_IOC_MERGE, &d) < 0) die("SYNC_IOC_MERGE");
    close(d.fence);
  }
  uint64_t t1 = now_ns();
  printf("{\"op\":\"merge\",\"n\":%d,\"perOp\":%.1f}\n", n, n > 0 ? (double)(t1 - t0) / n : 0.0);
  return 0;
}

static int info(int n) {
  int tl = open(sw_sync_path, O_RDWR | O_CLOEXEC);
  if (tl < 0) die(sw_sync_path);
  int fence = create_fence(tl, 1);
  uint64_t t0 = now_ns();
  for (int i = 0; i < n; i++) {
    struct sync_file_info count;
    memset(&count, 0, sizeof count);
    if (xioctl(fence, SYNC_IOC_FILE_INFO, &count) < 0) die("SYNC_IOC_FILE_INFO");
    struct sync_fence_info* fi = calloc(count.num_fences, sizeof *fi);
    struct sync_file_info full;
    memset(&full, 0, sizeof full);
    full.num_fences = count.num_fences;
    full.sync_fence_info = (uint64_t)(uintptr_t)fi;
    if (xioctl(fence, SYNC_IOC_FILE_INFO, &full) < 0) die("SYNC_IOC_FILE_INFO");
    free(fi);
  }
  uint64_t t1 = now_ns();
  printf("{\"op\":\"info\",\"n\":%d,\"perOp\":%.1f}\n", n, n > 0 ? (double)(t1 - t0) / n : 0.0);
  return 0;
}

// A fence's whole life as a driver's user lives it: create, wait (here after the signal: poll returns at once),
// signal (SW_SYNC_IOC_INC), close. What the syscall count compares with SyncFile.wait().
static int cycle(int n) {
  int tl = open(sw_sync_path, O_RDWR | O_CLOEXEC);
  if (tl < 0) die(sw_sync_path);
  uint64_t t0 = now_ns();
  for (int i = 0; i < n; i++) {
    int fence = create_fence(tl, (unsigned)i + 1);
    __u32 one = 1;
    if (xioctl(tl, SW_SYNC_IOC_INC, &one) < 0) die("SW_SYNC_IOC_INC");
    struct pollfd p = {fence, POLLIN, 0};
    while (poll(&p, 1, -1) < 0)
      if (errno != EINTR) die("poll");
    close(fence);
  }
  uint64_t t1 = now_ns();
  printf("{\"op\":\"cycle\",\"n\":%d,\"perOp\":%.1f}\n", n, n > 0 ? (double)(t1 - t0) / n : 0.0);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "signaller") == 0) return signaller();
  int n = argc >= 3 ? atoi(argv[2]) : -1;
  // n = 0 runs only the set-up (the baseline of a syscall count).
  if (argc >= 3 && n >= 0) {
    if (strcmp(argv[1], "latency") == 0 && n > 0) return latency(n);
    if (strcmp(argv[1], "merge") == 0) return merge(n);
    if (strcmp(argv[1], "info") == 0) return info(n);
    if (strcmp(argv[1], "cycle") == 0) return cycle(n);
  }
  fprintf(stderr, "usage: fence_bench signaller | latency <n> | merge <n> | info <n> | cycle <n>\n");
  return 2;
}
