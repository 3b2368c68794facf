// PRIME: a GEM handle → a new dma-buf fd (PRIME_HANDLE_TO_FD), and any dma-buf fd → a GEM handle of this device
// fd (PRIME_FD_TO_HANDLE). The new fd is returned as a number for TS to adopt (core tracks it from there).
#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include "drm.h"
#include "uapi.h"

namespace zcopy::drm {
namespace {

// flags: DRM_CLOEXEC is always added (every fd zcopy creates is close-on-exec); DRM_RDWR is the caller's
// choice. Other bits pass through so the kernel's own EINVAL for unknown flags can be seen.
Napi::Value HandleToFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto req = Zeroed<struct drm_prime_handle>();
  req.handle = U32Arg(info, 1, "handle");
  req.flags = U32Arg(info, 2, "flags") | DRM_CLOEXEC;
  req.fd = -1;
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &req);
  return Napi::Number::New(env, req.fd);
}

Napi::Value FdToHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto req = Zeroed<struct drm_prime_handle>();
  req.fd = FdArg(info, 1, "dmabufFd");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &req);
  return Napi::Number::New(env, req.handle);
}

}  // namespace

void InitPrime(Napi::Env env, Napi::Object exports) {
  exports.Set("handleToFd", Napi::Function::New(env, HandleToFd, "handleToFd"));
  exports.Set("fdToHandle", Napi::Function::New(env, FdToHandle, "fdToHandle"));
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("CLOEXEC", Napi::Number::New(env, DRM_CLOEXEC));
  flags.Set("RDWR", Napi::Number::New(env, DRM_RDWR));
  exports.Set("primeFlags", flags);
}

}  // namespace zcopy::drm
