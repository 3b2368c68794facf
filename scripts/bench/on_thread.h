// A blocking call as zcopy makes it, in C: the call runs on a worker thread that waits for work (libuv's
// threadpool), and the caller blocks in poll() on an eventfd the worker writes when the call is done (libuv's
// async handle). A C bench times an operation through on_thread() beside the same operation called directly:
// the difference is what never blocking the caller costs without any JS, the floor under zcopy's threadpool calls.
//   on_thread_start();            once, before the first call
//   on_thread(fn, arg);           runs fn(arg) on the worker; returns when it has run
// The worker's syscalls per call are futexes (the condition variable) and the eventfd write; the caller's are
// poll, read and futexes: libuv's wakeup (epoll_pwait, read, write) in C's own terms.
#pragma once
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

static pthread_mutex_t on_thread_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t on_thread_ready = PTHREAD_COND_INITIALIZER;
static void (*on_thread_fn)(void*);
static void* on_thread_arg;
static int on_thread_done = -1;

static void on_thread_die(const char* what) {
  perror(what);
  exit(1);
}

static void* on_thread_worker(void* unused) {
  (void)unused;
  for (;;) {
    pthread_mutex_lock(&on_thread_lock);
    while (on_thread_fn == NULL) pthread_cond_wait(&on_thread_ready, &on_thread_lock);
    void (*fn)(void*) = on_thread_fn;
    void* arg = on_thread_arg;
    pthread_mutex_unlock(&on_thread_lock);
    fn(arg);
    pthread_mutex_lock(&on_thread_lock);
    on_thread_fn = NULL;
    pthread_mutex_unlock(&on_thread_lock);
    uint64_t one = 1;
    if (write(on_thread_done, &one, sizeof one) != sizeof one) on_thread_die("on_thread: eventfd write");
  }
  return NULL;
}

static inline void on_thread_start(void) {
  on_thread_done = eventfd(0, EFD_CLOEXEC);
  if (on_thread_done < 0) on_thread_die("on_thread: eventfd");
  pthread_t t;
  if (pthread_create(&t, NULL, on_thread_worker, NULL)) on_thread_die("on_thread: pthread_create");
  pthread_detach(t);
}

static inline void on_thread(void (*fn)(void*), void* arg) {
  pthread_mutex_lock(&on_thread_lock);
  on_thread_fn = fn;
  on_thread_arg = arg;
  pthread_cond_signal(&on_thread_ready);
  pthread_mutex_unlock(&on_thread_lock);
  struct pollfd p = {.fd = on_thread_done, .events = POLLIN};
  if (poll(&p, 1, -1) != 1) on_thread_die("on_thread: poll");
  uint64_t v;
  if (read(on_thread_done, &v, sizeof v) != sizeof v) on_thread_die("on_thread: eventfd read");
}
