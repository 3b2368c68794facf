// ioctl with EINTR retry, zeroed arguments and KernelError naming the request.
#pragma once
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

#include "errors.h"

namespace zcopy {

// A kernel argument struct with every byte zero, padding included (value-init may leave padding).
template <typename T>
inline T Zeroed() {
  static_assert(std::is_trivially_copyable_v<T>, "kernel structs are plain data");
  T v;
  std::memset(&v, 0, sizeof v);
  return v;
}

// Returns the ioctl's result, or -1 with errno set; retried while interrupted by a signal.
template <typename T>
inline int RetryIoctl(int fd, unsigned long request, T* arg) {
  int r;
  do {
    r = ::ioctl(fd, request, arg);
  } while (r < 0 && errno == EINTR);
  return r;
}

template <typename T>
inline int IoctlOrThrow(Napi::Env env, int fd, unsigned long request, T* arg, const char* name) {
  int r = RetryIoctl(fd, request, arg);
  if (r < 0) ThrowErrno(env, "ioctl", name);
  return r;
}

}  // namespace zcopy

// ZCOPY_IOCTL(env, fd, DMA_BUF_IOCTL_SYNC, &arg): the request's kernel name goes into the error.
#define ZCOPY_IOCTL(env, fd, request, argp) ::zcopy::IoctlOrThrow((env), (fd), (request), (argp), #request)
